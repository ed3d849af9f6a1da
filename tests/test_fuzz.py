"""Property tests: whatever bytes a server or a file hands over, every page ends as a
document or a rejection with a reason, and no exception escapes fetch, decode, clean
or extract.

The HTTP part runs against a real server on 127.0.0.1 that sends what hypothesis
generates: well-formed replies with random headers and bodies, and raw bytes that
are not HTTP at all. Huge and deeply nested pages are the ``slow`` part.
"""

from __future__ import annotations

import gzip
import tempfile
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from http_server import Reply, Site, serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin.tasks.acquire.decode import DecodeError, decode_bytes
from fupin.tasks.acquire.fetch import FetchOptions, fetch_batch
from fupin.tasks.clean import clean_page
from fupin.tasks.extract import extract
from fupin.tasks.models import Source
from fupin.tasks.pipeline import kinds
from fupin.tasks.pipeline.stages import clean_stage, extract_stage, fetch_stage, plan_batches

QUICK = FetchOptions(connect_timeout=2, read_timeout=1, total_timeout=2, retries=0,
                     max_bytes=64 * 1024)
FEW = settings(max_examples=40, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# pieces that make hypothesis write text close to real pages
WORDS = ["贫困户", "脱贫", "2019年", "1.2万人", "贫困发生率", "降至", "0.8%", "全县",
         "亿元", "，", "。", "\n", "<p>", "</p>", "<div>", "</div>", "<title>", "</title>",
         "<script>", "</script>", "<!--", "-->", "&nbsp;", "&#", "<meta charset=", "gbk",
         "来源：", "发布时间：", "2020-01-02", "《", "》", " ", "\r\n", "\x00", "\ufeff"]
LABELS = st.one_of(
    st.none(),
    st.sampled_from(["utf-8", "gbk", "gb2312", "big5", "latin-1", "utf-16", "utf-32",
                     "utf-7", "hz", "punycode", "idna", "unicode_escape", "rot13", "base64",
                     "zlib", "x-unknown", ""]),
    st.text(max_size=12),
)
ENCODINGS = ["utf-8", "gb18030", "big5", "utf-16"]
OK_PAGE = ("<html><head><title>县里通报脱贫进展</title></head><body>"
           "<p>2019年，全县减少农村贫困人口1.2万人，贫困发生率降至0.8%。</p>"
           "</body></html>").encode()


def page_text() -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)),
                    max_size=60).map("".join)


@st.composite
def page_bytes(draw: st.DrawFn) -> bytes:
    """Random bytes, or page-like text in a random encoding (unencodable parts dropped)."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=2000))
    return draw(page_text()).encode(draw(st.sampled_from(ENCODINGS)), "ignore")


@st.composite
def compressed(draw: st.DrawFn, body: bytes) -> tuple[bytes, str | None]:
    """``body`` with a Content-Encoding that may or may not tell the truth."""
    coding = draw(st.sampled_from([None, "gzip", "deflate", "br", "identity", "gzip, gzip",
                                   "x-custom"]))
    if coding in ("gzip", "deflate", "gzip, gzip") and draw(st.booleans()):
        body = {"gzip": gzip.compress, "deflate": zlib.compress,
                "gzip, gzip": lambda b: gzip.compress(gzip.compress(b))}[coding](body)
        if draw(st.booleans()):
            body = body[: draw(st.integers(0, len(body)))]
    return body, coding


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=30)


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    if draw(st.integers(0, 4)) == 0:  # not HTTP, or HTTP broken in some way
        head = draw(st.sampled_from([b"", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.0 ",
                                     b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"]))
        return Reply(raw=head + draw(st.binary(max_size=500)))
    body, coding = draw(compressed(draw(page_bytes())))
    headers = draw(st.dictionaries(
        st.sampled_from(["Content-Type", "Retry-After", "ETag", "Last-Modified", "X-Odd",
                         "Location", "Set-Cookie"]), HEADER_TEXT, max_size=4))
    if coding:
        headers["Content-Encoding"] = coding
    status = draw(st.sampled_from([200, 200, 200, 203, 204, 301, 302, 400, 404, 410, 418,
                                   429, 500, 503]))
    return Reply(status, body, headers)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with serve({}) as running:
        yield running


def _settled(sources: list[Source], result) -> None:
    """Every source ends in exactly one of the result's lists, rejections with a reason."""
    keys = [p.source.doc_key for p in result.pages]
    keys += [r.doc_key for r in result.rejections] + [s.doc_key for s in result.not_modified]
    assert sorted(keys) == sorted(s.doc_key for s in sources)
    assert all(r.reason and r.stage == "fetch" for r in result.rejections)


@FEW
@given(st.lists(replies(), min_size=1, max_size=4))
def test_fetch_settles_every_page_whatever_the_server_sends(site: Site,
                                                            batch: list[Reply]) -> None:
    sources = []
    for reply in batch:
        path = f"/p{len(site.routes)}"
        site.routes[path] = lambda _count, reply=reply: reply
        sources.append(Source(site.url(path), "http", path.strip("/")))
    result = fetch_batch(sources, QUICK)
    _settled(sources, result)
    assert all(len(p.content) <= QUICK.max_bytes for p in result.pages)


@FEW
@given(page_bytes(), LABELS, LABELS)
def test_decode_gives_text_or_a_decode_error(data: bytes, declared: str | None,
                                             meta: str | None) -> None:
    if meta is not None:
        data = f'<meta charset="{meta}">'.encode("utf-8", "replace") + data
    try:
        text, encoding = decode_bytes(data, declared)
    except DecodeError as exc:
        assert exc.reason
        return
    assert isinstance(text, str) and encoding


@FEW
@given(page_text(), st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2030, 1, 1))))
def test_clean_and_extract_take_any_page(text: str, published: date | None) -> None:
    doc = clean_page(text)
    result = extract(doc.body, title=doc.title, published=published or doc.published)
    for fact in result.facts:
        assert doc.body[fact.char_start : fact.char_end] == fact.evidence


@st.composite
def stored_pages(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """Files as a folder may hold them: page-like or random, some gzipped, some broken."""
    files = []
    for n in range(draw(st.integers(1, 4))):
        data = draw(page_bytes())
        name = f"p{n}.html"
        if draw(st.booleans()):
            name += ".gz"
            data = draw(st.sampled_from([gzip.compress(data), data, gzip.compress(data)[:-5]]))
        files.append((name, data))
    return files


def _run_stages(files: list[tuple[str, bytes]], folder: Path) -> tuple[int, set[str], set[str]]:
    """Fetch, clean and extract one batch of files: (pages in, documents, rejected keys)."""
    sources = []
    for name, data in files:
        (folder / name).write_bytes(data)
        sources.append(Source(str(folder / name), "file", name.split(".")[0]))
    (ref,) = plan_batches(sources, {}, folder / "run", len(sources))
    done = extract_stage(clean_stage(fetch_stage(ref)))
    rejected = [r["doc_key"] for stage in ("fetch", "clean", "extract")
                for r in done.read(getattr(kinds, f"REJECTED_{stage.upper()}"))]
    assert len(rejected) == len(set(rejected))
    docs = {d["doc_key"] for d in done.read(kinds.DOCS, ["doc_key"])} - set(rejected)
    return done.counts.pages_in, docs, set(rejected)


@FEW
@given(stored_pages())
def test_every_stored_page_becomes_a_document_or_a_rejection(
        files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pages_in, docs, rejected = _run_stages(files, Path(tmp))
    assert pages_in == len(files)
    assert docs | rejected == {name.split(".")[0] for name, _ in files}
    assert not docs & rejected


def _nested(depth: int, leaf: str) -> str:
    return "<div><span>" * depth + leaf + "</span></div>" * depth


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([200, 2000, 20000]), st.sampled_from(
    ["<p>2019年全县脱贫1.2万人。</p>", "", "<table><tr><td>1</td>", "<!--", "<script>"]),
    st.booleans())
def test_deeply_nested_pages_end_as_documents_or_rejections(depth: int, leaf: str,
                                                            unclosed: bool) -> None:
    html = _nested(depth, leaf)
    if unclosed:
        html = html[: len(html) // 2 + 7]
    files = [("deep.html", html.encode()), ("ok.html", OK_PAGE)]
    with tempfile.TemporaryDirectory() as tmp:
        pages_in, docs, rejected = _run_stages(files, Path(tmp))
    assert pages_in == 2 and docs | rejected == {"deep", "ok"}
    assert "ok" in docs


@pytest.mark.slow
def test_a_page_near_the_size_cap_ends_as_a_document_or_a_rejection(tmp_path: Path) -> None:
    row = "<tr><td>2018年</td><td>全县贫困户减少1200户，贫困人口减少3500人。</td></tr>"
    huge = "<html><body><table>" + row * (9 * 1024 * 1024 // len(row.encode()))
    files = [("huge.html", huge.encode()), ("ok.html", OK_PAGE)]
    pages_in, docs, rejected = _run_stages(files, tmp_path)
    assert pages_in == 2 and docs | rejected == {"huge", "ok"}
    assert "ok" in docs
