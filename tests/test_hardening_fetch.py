"""Hostile pages: compression bombs, lying Content-Encoding, trickling servers, redirects
out of http(s), and pages whose extraction runs away.

Each becomes a rejected page with a reason while the pages beside it are pulled and
loaded: first against fetch_batch on real files and a real server on 127.0.0.1, then
through a real `fupin run`.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import duckdb
import pytest
from http_server import Reply, always, serve

from fupin.tasks.acquire.fetch import FetchOptions, fetch_batch
from fupin.tasks.models import Source

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"
FUPIN = Path(sys.executable).with_name("fupin")

PAGE = ("<html><head><title>渭川县通报今年脱贫进展</title></head><body>"
        "<p>2019年，渭川县减少农村贫困人口1.2万人，贫困发生率下降到0.8%，"
        "全县新建扶贫车间23个。</p></body></html>").encode()
# prose without numbers: inflating it is the whole cost
FILLER = "村里的合作社今年又扩大了茶园，乡亲们在家门口就能找到活干。".encode()
MB = 1 << 20
QUICK = FetchOptions(connect_timeout=2, read_timeout=2, total_timeout=1.0, retries=1,
                     backoff=0.01)


def gzip_bomb(inflated: int) -> bytes:
    """Identical gzip members, one after another: a few MB that inflate to ``inflated``
    zero bytes (gzip readers take every member)."""
    member = gzip.compress(bytes(64 * MB), compresslevel=9)
    return member * (inflated // (64 * MB))


def _file(path: Path, key: str) -> Source:
    return Source(location=str(path), kind="file", doc_key=key)


def _url(url: str, key: str) -> Source:
    return Source(location=url, kind="http", doc_key=key)


def test_gz_files_are_inflated_under_the_cap_and_a_bomb_costs_one_page(tmp_path: Path) -> None:
    (tmp_path / "good.html").write_bytes(PAGE)
    (tmp_path / "good2.html.gz").write_bytes(gzip.compress(PAGE))
    # 20 MB of text in a small file: over the 10 MB cap once inflated
    (tmp_path / "long.html.gz").write_bytes(gzip.compress(FILLER * (20 * MB // len(FILLER))))
    (tmp_path / "bomb.html.gz").write_bytes(gzip_bomb(4096 * MB))
    (tmp_path / "cut.html.gz").write_bytes(gzip.compress(PAGE)[:-12])
    sources = [_file(tmp_path / name, name.split(".")[0])
               for name in ("good.html", "long.html.gz", "bomb.html.gz", "cut.html.gz",
                            "good2.html.gz")]
    result = fetch_batch(sources)
    assert [(p.source.doc_key, p.content) for p in result.pages] == [
        ("good", PAGE), ("good2", PAGE)]
    assert {r.doc_key: (r.stage, r.reason) for r in result.rejections} == {
        "long": ("fetch", "too_large"),
        "bomb": ("fetch", "too_large"),
        "cut": ("fetch", "bad_compression"),
    }


def test_compressed_bodies_meet_the_same_cap_and_bad_ones_are_rejected() -> None:
    deflater = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = deflater.compress(PAGE) + deflater.flush()
    routes = {
        "/gzip": always(Reply(200, gzip.compress(PAGE), {"Content-Encoding": "gzip"})),
        "/deflate": always(Reply(200, zlib.compress(PAGE), {"Content-Encoding": "deflate"})),
        "/raw-deflate": always(Reply(200, raw_deflate, {"Content-Encoding": "deflate"})),
        "/twice": always(Reply(200, gzip.compress(gzip.compress(PAGE)),
                               {"Content-Encoding": "gzip, gzip"})),
        "/bomb": always(Reply(200, gzip_bomb(1024 * MB), {"Content-Encoding": "gzip"})),
        "/plain-as-gzip": always(Reply(200, PAGE, {"Content-Encoding": "gzip"})),
        "/plain-as-deflate": always(Reply(200, PAGE, {"Content-Encoding": "deflate"})),
        "/brotli": always(Reply(200, b"\x1b\x03\x00\xf8", {"Content-Encoding": "br"})),
    }
    with serve(routes) as site:
        result = fetch_batch([_url(site.url(path), path.strip("/")) for path in routes], QUICK)
    assert {p.source.doc_key: p.content for p in result.pages} == dict.fromkeys(
        ("gzip", "deflate", "raw-deflate", "twice"), PAGE)
    assert {r.doc_key: r.reason for r in result.rejections} == {
        "bomb": "too_large",
        "plain-as-gzip": "bad_compression",
        "plain-as-deflate": "bad_compression",
        "brotli": "bad_compression",
    }
    assert all(site.hits[path] == 1 for path in routes)  # none of these is worth a retry


def test_a_trickling_server_is_cut_by_the_total_timeout() -> None:
    routes = {
        # a byte every 0.1 s never trips the 2 s read timeout
        "/drip-body": always(Reply(200, PAGE * 4, drip=0.1)),
        "/drip-head": always(Reply(200, PAGE, drip=0.1, drip_head=True)),
        "/ok": always(Reply(200, PAGE)),
    }
    with serve(routes) as site:
        result = fetch_batch([_url(site.url(path), path.strip("/")) for path in routes], QUICK)
    assert [p.source.doc_key for p in result.pages] == ["ok"]
    assert {r.doc_key: r.reason for r in result.rejections} == {
        "drip-body": "timeout", "drip-head": "timeout"}
    assert "total_timeout" in result.rejections[0].detail
    assert site.hits["/drip-body"] == site.hits["/drip-head"] == QUICK.retries + 1


def test_a_redirect_out_of_http_is_rejected_at_once() -> None:
    routes = {
        "/to-file": always(Reply(302, b"", {"Location": "file:///etc/hostname"})),
        "/to-ftp": always(Reply(301, b"", {"Location": "ftp://127.0.0.1/page.html"})),
        "/ok": always(Reply(200, PAGE)),
    }
    with serve(routes) as site:
        result = fetch_batch([_url(site.url(path), path.strip("/")) for path in routes], QUICK)
    assert [p.source.doc_key for p in result.pages] == ["ok"]
    assert {r.doc_key: r.reason for r in result.rejections} == {
        "to-file": "bad_redirect", "to-ftp": "bad_redirect"}
    assert "file:" in next(r.detail for r in result.rejections if r.doc_key == "to-file")
    assert site.hits["/to-file"] == site.hits["/to-ftp"] == 1


def test_a_retry_after_date_without_a_zone_is_honoured() -> None:
    # "-0000" names no zone: Python reads such a date as naive, which cannot be
    # compared with an aware clock
    later = Reply(429, b"busy", {"Retry-After": "Tue, 01 Dec 2020 00:00:00 -0000"})
    with serve({"/p": lambda count: later if count == 0 else Reply(200, PAGE)}) as site:
        result = fetch_batch([_url(site.url("/p"), "p")], QUICK)
    assert [p.content for p in result.pages] == [PAGE] and site.hits["/p"] == 2


# ---------------------------------------------------------------- through `fupin run`


def _fupin_run(args: list[str], api: str, env: dict[str, str] | None = None,
               timeout: float = 420) -> dict:
    """A real `fupin run`; a run that hangs fails the test when the timeout kills it."""
    proc = subprocess.run([str(FUPIN), "run", *args, "--json"], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "PREFECT_API_URL": api, **(env or {})})
    # 4 or 5 (README: its exit status table) when pages were rejected, as these inputs often are
    assert proc.returncode in (0, 4, 5), proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rejected(db: Path) -> dict[str, tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT location, stage, reason FROM rejected_pages").fetchall()
    return {location.rsplit("/", 1)[-1]: (stage, reason) for location, stage, reason in rows}


def _documents(db: Path) -> dict[str, int]:
    """Loaded documents by the last part of their location, with how many facts each has."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT d.location, count(f.fact_id) FROM dim_document d "
            "LEFT JOIN fact_indicator f USING (doc_key) GROUP BY d.location").fetchall()
    return {location.rsplit("/", 1)[-1]: n for location, n in rows}


def _reconciles(summary: dict) -> bool:
    return summary["pages_in"] == (summary["pages_unchanged"] + summary["documents_loaded"]
                                   + summary["pages_rejected"])


@pytest.mark.slow
def test_a_run_with_hostile_pages_loads_the_good_ones(prefect_server: str,
                                                      tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    shutil.copytree(SAMPLES, pages)
    (pages / "long.html.gz").write_bytes(gzip.compress(FILLER * (20 * MB // len(FILLER))))
    (pages / "bomb.html.gz").write_bytes(gzip_bomb(1024 * MB))
    routes = {
        "/good": always(Reply(200, PAGE)),
        # a charset no page is written in: the page decides, as if none were named
        "/odd-charset": always(Reply(200, PAGE, {"Content-Type": "text/html; charset=idna"})),
        "/drip": always(Reply(200, PAGE * 4, drip=0.1)),
        "/plain-as-gzip": always(Reply(200, PAGE, {"Content-Encoding": "gzip"})),
        "/to-file": always(Reply(302, b"", {"Location": "file:///etc/hostname"})),
    }
    with serve(routes) as site:
        quick = {"total_timeout": 1, "read_timeout": 5, "retries": 0, "backoff": 0.01}
        entries = [{"name": "pages", "kind": "files", "location": "pages"}] + [
            {"name": path.strip("/"), "kind": "url", "location": site.url(path),
             "options": quick} for path in routes]
        spec = tmp_path / "sources.yaml"
        spec.write_text(json.dumps({"sources": entries}), encoding="utf-8")  # JSON is YAML
        db = tmp_path / "run.duckdb"
        summary = _fupin_run([str(spec), "--db", str(db)], prefect_server)
    documents = _documents(db)
    assert set(documents) == {p.name for p in SAMPLES.iterdir()} | {"good", "odd-charset"}
    assert documents["good"] >= 2 and documents["odd-charset"] == documents["good"]
    assert _rejected(db) == {
        "long.html.gz": ("fetch", "too_large"),
        "bomb.html.gz": ("fetch", "too_large"),
        "drip": ("fetch", "timeout"),
        "plain-as-gzip": ("fetch", "bad_compression"),
        "to-file": ("fetch", "bad_redirect"),
    }
    assert summary["documents_loaded"] == 5 and summary["pages_rejected"] == 5
    assert _reconciles(summary)
    assert site.hits["/to-file"] == 1  # never retried, not even as a batch


def dense_page(lines: int) -> str:
    """A long report of short statistical lines: many numbers and years per line."""
    rows = [f"{2010 + i % 10}年，第{i}组新建扶贫车间{i % 90 + 10}个，"
            f"带动贫困人口{i % 900 + 100}人，投入资金{i % 50 + 1}.5亿元。" for i in range(lines)]
    return "\n".join(rows)


@pytest.mark.slow
def test_a_page_past_the_extraction_budget_is_rejected_and_its_batch_goes_on(
    prefect_server: str, tmp_path: Path
) -> None:
    pages = tmp_path / "pages"
    shutil.copytree(SAMPLES, pages)
    # names sort so the long page shares a batch of two with a good one
    (pages / "bijie_2020_zz_report.txt").write_text(dense_page(60_000), encoding="utf-8")
    db = tmp_path / "run.duckdb"
    summary = _fupin_run([str(pages), "--db", str(db), "--batch-size", "2", "--workers", "2"],
                         prefect_server, env={"FUPIN_EXTRACT_TIMEOUT": "1"})
    assert _rejected(db) == {"bijie_2020_zz_report.txt": ("extract", "extract_timeout")}
    documents = _documents(db)
    assert set(documents) == {p.name for p in SAMPLES.iterdir()}
    assert all(n > 0 for n in documents.values())
    assert summary["documents_loaded"] == 3 and summary["pages_rejected"] == 1
    assert _reconciles(summary)


def test_the_extract_stage_rejects_a_page_past_its_budget_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    from fupin.tasks.pipeline import kinds
    from fupin.tasks.pipeline.stages import clean_stage, extract_stage, fetch_stage, plan_batches

    (tmp_path / "a_report.txt").write_text(dense_page(30_000), encoding="utf-8")
    (tmp_path / "b_news.html").write_bytes(PAGE)
    sources = [_file(tmp_path / name, name.split(".")[0])
               for name in ("a_report.txt", "b_news.html")]
    (ref,) = plan_batches(sources, {}, tmp_path / "run", 10)
    done = extract_stage(clean_stage(fetch_stage(ref)), budget=0.5)
    rejected = done.read(kinds.REJECTED_EXTRACT)
    assert [(r["doc_key"], r["stage"], r["reason"]) for r in rejected] == [
        ("a_report", "extract", "extract_timeout")]
    facts = done.read(kinds.FACTS)
    assert facts and {f["doc_key"] for f in facts} == {"b_news"}
    assert done.counts.rejected_extract == 1
