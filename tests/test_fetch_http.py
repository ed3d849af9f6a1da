"""Fetching against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from tasks.fetch import FetchOptions, fetch_batch
from tasks.models import Source
from tests.http_server import Reply, always, fail_then, serve

PAGE = "<html><body><p>全县贫困发生率降至1.2%。</p></body></html>".encode()
FAST = FetchOptions(read_timeout=0.5, connect_timeout=1.0, retries=2, backoff=0.01,
                    max_backoff=2.0)


def _source(url: str, key: str = "k") -> Source:
    return Source(location=url, kind="http", doc_key=key)


def test_503_then_200_is_retried_and_loaded_once() -> None:
    with serve({"/p": fail_then(Reply(503, b"busy"), 1, Reply(200, PAGE))}) as site:
        pages, rejected = fetch_batch([_source(site.url("/p"))], FAST)
    assert rejected == [] and len(pages) == 1
    assert pages[0].content == PAGE and pages[0].http_status == 200
    assert site.hits["/p"] == 2


def test_429_honours_retry_after() -> None:
    limited = Reply(429, b"slow down", {"Retry-After": "1"})
    with serve({"/p": fail_then(limited, 1, Reply(200, PAGE))}) as site:
        pages, rejected = fetch_batch([_source(site.url("/p"))], FAST)
    assert len(pages) == 1 and site.hits["/p"] == 2


def test_404_is_rejected_without_retry() -> None:
    with serve({}) as site:
        pages, rejected = fetch_batch([_source(site.url("/missing"))], FAST)
    assert pages == []
    assert [(r.stage, r.reason) for r in rejected] == [("fetch", "http_404")]
    assert site.hits["/missing"] == 1


def test_read_timeout_is_retried_then_rejected() -> None:
    with serve({"/slow": always(Reply(200, PAGE, delay=1.5))}) as site:
        pages, rejected = fetch_batch([_source(site.url("/slow"))], FAST)
    assert pages == [] and rejected[0].reason == "timeout"
    assert site.hits["/slow"] == FAST.retries + 1


def test_redirect_chain_is_followed_to_the_final_url() -> None:
    routes = {
        "/old": always(Reply(301, b"", {"Location": "/older"})),
        "/older": always(Reply(302, b"", {"Location": "/new"})),
        "/new": always(Reply(200, PAGE)),
    }
    with serve(routes) as site:
        pages, _ = fetch_batch([_source(site.url("/old"))], FAST)
    assert pages[0].url == site.url("/new") and pages[0].content == PAGE


def test_body_over_the_cap_and_binary_content_are_rejected() -> None:
    routes = {
        "/big": always(Reply(200, b"x" * 5000)),
        "/doc.pdf": always(Reply(200, b"%PDF-1.4 ...", {"Content-Type": "application/pdf"})),
    }
    options = FetchOptions(max_bytes=1000, retries=0)
    with serve(routes) as site:
        pages, rejected = fetch_batch(
            [_source(site.url("/big"), "a"), _source(site.url("/doc.pdf"), "b")], options
        )
    assert pages == []
    assert {r.doc_key: r.reason for r in rejected} == {"a": "too_large", "b": "not_text"}


def test_charset_from_the_header_is_recorded() -> None:
    gbk = "<p>扶贫资金</p>".encode("gbk")
    reply = Reply(200, gbk, {"Content-Type": "text/html; charset=GBK"})
    with serve({"/g": always(reply)}) as site:
        pages, _ = fetch_batch([_source(site.url("/g"))], FAST)
    assert pages[0].declared_charset == "gbk"
