"""Fetching against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from http_server import Reply, always, fail_then, serve

from fupin.tasks.acquire.fetch import FetchOptions, FetchResult, fetch_batch
from fupin.tasks.models import Source, Validators

PAGE = "<html><body><p>全县贫困发生率降至1.2%。</p></body></html>".encode()
FAST = FetchOptions(read_timeout=0.5, connect_timeout=1.0, retries=2, backoff=0.01,
                    max_backoff=2.0)


def fetch(sources: list[Source], options: FetchOptions = FAST, **kw) -> tuple[list, list]:
    result: FetchResult = fetch_batch(sources, options, **kw)
    return result.pages, result.rejections


def _source(url: str, key: str = "k") -> Source:
    return Source(location=url, kind="http", doc_key=key)


def test_503_then_200_is_retried_and_loaded_once() -> None:
    with serve({"/p": fail_then(Reply(503, b"busy"), 1, Reply(200, PAGE))}) as site:
        pages, rejected = fetch([_source(site.url("/p"))], FAST)
    assert rejected == [] and len(pages) == 1
    assert pages[0].content == PAGE and pages[0].http_status == 200
    assert site.hits["/p"] == 2


def test_429_honours_retry_after() -> None:
    limited = Reply(429, b"slow down", {"Retry-After": "1"})
    with serve({"/p": fail_then(limited, 1, Reply(200, PAGE))}) as site:
        pages, _ = fetch([_source(site.url("/p"))], FAST)
    assert len(pages) == 1 and site.hits["/p"] == 2


def test_404_is_rejected_without_retry() -> None:
    with serve({}) as site:
        pages, rejected = fetch([_source(site.url("/missing"))], FAST)
    assert pages == []
    assert [(r.stage, r.reason) for r in rejected] == [("fetch", "http_404")]
    assert site.hits["/missing"] == 1


def test_read_timeout_is_retried_then_rejected() -> None:
    with serve({"/slow": always(Reply(200, PAGE, delay=1.5))}) as site:
        pages, rejected = fetch([_source(site.url("/slow"))], FAST)
    assert pages == [] and rejected[0].reason == "timeout"
    assert site.hits["/slow"] == FAST.retries + 1


def test_redirect_chain_is_followed_to_the_final_url() -> None:
    routes = {
        "/old": always(Reply(301, b"", {"Location": "/older"})),
        "/older": always(Reply(302, b"", {"Location": "/new"})),
        "/new": always(Reply(200, PAGE)),
    }
    with serve(routes) as site:
        pages, _ = fetch([_source(site.url("/old"))], FAST)
    assert pages[0].url == site.url("/new") and pages[0].content == PAGE


def test_body_over_the_cap_and_binary_content_are_rejected() -> None:
    routes = {
        "/big": always(Reply(200, b"x" * 5000)),
        "/doc.pdf": always(Reply(200, b"%PDF-1.4 ...", {"Content-Type": "application/pdf"})),
    }
    options = FetchOptions(max_bytes=1000, retries=0)
    with serve(routes) as site:
        pages, rejected = fetch(
            [_source(site.url("/big"), "a"), _source(site.url("/doc.pdf"), "b")], options
        )
    assert pages == []
    assert {r.doc_key: r.reason for r in rejected} == {"a": "too_large", "b": "not_text"}


def test_charset_from_the_header_is_recorded() -> None:
    gbk = "<p>扶贫资金</p>".encode("gbk")
    reply = Reply(200, gbk, {"Content-Type": "text/html; charset=GBK"})
    with serve({"/g": always(reply)}) as site:
        pages, _ = fetch([_source(site.url("/g"))], FAST)
    assert pages[0].declared_charset == "gbk"


def test_conditional_request_turns_an_unchanged_page_into_a_304() -> None:
    modified = "Tue, 01 Dec 2020 00:00:00 GMT"
    route = always(Reply(200, PAGE, {"ETag": '"v1"', "Last-Modified": modified}))
    with serve({"/p": route}) as site:
        first = fetch_batch([_source(site.url("/p"))], FAST)
        page = first.pages[0]
        assert page.etag == '"v1"'
        known = {"k": Validators(page.sha256, page.etag, page.last_modified)}
        site.routes["/p"] = lambda _c: Reply(304, b"")
        again = fetch_batch([_source(site.url("/p"))], FAST, known)
    assert again.pages == [] and again.rejections == []
    assert [s.doc_key for s in again.not_modified] == ["k"]


def test_entry_options_override_the_defaults_and_bad_options_are_rejected() -> None:
    with serve({"/slow": always(Reply(200, PAGE, delay=0.8))}) as site:
        patient = Source(site.url("/slow"), "http", "a", options='{"read_timeout": 5}')
        odd = Source(site.url("/slow"), "http", "b", options='{"speed": "warp"}')
        result = fetch_batch([patient, odd], FAST)
    assert [p.source.doc_key for p in result.pages] == ["a"]
    assert [(r.doc_key, r.reason) for r in result.rejections] == [("b", "bad_options")]


def test_only_local_files_with_the_loaded_bytes_are_set_aside_before_batching(
    tmp_path: Path,
) -> None:
    import hashlib

    from fupin.tasks.acquire.fetch import unchanged_files

    same, edited, fresh = (tmp_path / n for n in ("same.html", "edited.html", "fresh.html"))
    for path in (same, edited, fresh):
        path.write_bytes(PAGE)
    sha = hashlib.sha256(PAGE).hexdigest()
    edited.write_bytes(PAGE + b"<!-- edited -->")
    sources = [Source(location=str(p), kind="file", doc_key=p.stem)
               for p in (same, edited, fresh, tmp_path / "gone.html")]
    sources.append(_source("http://127.0.0.1:9/p", key="url"))
    known = {key: Validators(sha) for key in ("same", "edited", "gone", "url")}
    assert unchanged_files(sources, known) == {"same"}
    assert unchanged_files(sources, {}) == set()


def test_a_file_changed_after_it_was_hashed_ahead_is_not_taken_as_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``fupin run`` hashes known files while the Prefect API boots; a file edited
    between then and discover (same length, or another modification time) must still
    count as changed, one that vanished must go on to fetch to be rejected, and one
    written just now is not hashed ahead at all (its clock may not have ticked)."""
    import hashlib
    import os
    import time

    from fupin.tasks.acquire import fetch

    names = ("kept", "longer", "same_length", "vanished", "just_written")
    paths = {n: tmp_path / f"{n}.html" for n in names}
    past = time.time_ns() - 60 * 10**9
    for name, path in paths.items():
        path.write_bytes(PAGE)
        if name != "just_written":
            os.utime(path, ns=(past, past))
    sources = [Source(location=str(p), kind="file", doc_key=n) for n, p in paths.items()]
    assert len(list(fetch.hash_ahead(sources))) == len(sources)
    paths["longer"].write_bytes(PAGE + b"<!-- edited -->")
    edited = PAGE.replace(b"<", b"[", 1)
    assert len(edited) == len(PAGE)
    paths["same_length"].write_bytes(edited)
    os.utime(paths["same_length"], ns=(past + 10**6, past + 10**6))
    paths["vanished"].unlink()
    read = []
    read_file = fetch.read_file
    monkeypatch.setattr(fetch, "read_file", lambda s, o: read.append(s.doc_key) or read_file(s, o))
    known = {n: Validators(hashlib.sha256(PAGE).hexdigest()) for n in names}
    assert fetch.unchanged_files(sources, known) == {"kept", "just_written"}
    assert sorted(read) == ["just_written", "longer", "same_length", "vanished"]
    # each digest serves once: the same length and stamp later are read again
    paths["kept"].write_bytes(edited)
    os.utime(paths["kept"], ns=(past, past))
    assert fetch.unchanged_files(sources, known) == {"just_written"}
