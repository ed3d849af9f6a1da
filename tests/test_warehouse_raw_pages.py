"""The raw layer keeps one row per distinct page bytes, taken whole from one source."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from fupin.tasks.pipeline import kinds
from fupin.tasks.pipeline.records import RunCounts, RunRecord
from fupin.tasks.pipeline.staging import BatchRef
from fupin.tasks.warehouse import load_run, packaged_dimensions

CONTENT = "<html><body><p>同一篇稿件，三个网站转载。</p></body></html>".encode()
SHA = hashlib.sha256(CONTENT).hexdigest()


def _raw(key: str, day: int) -> dict:
    return {
        "sha256": SHA, "location": f"https://{key}.example/a.html",
        "url": f"https://{key}.example/final/a.html", "doc_key": f"{key}.example/a",
        "fetched_at": datetime(2026, 3, day, tzinfo=UTC), "http_status": 200,
        "content_type": "text/html", "declared_charset": None, "etag": f'"{key}"',
        "last_modified": f"Mon, 0{day} Mar 2026 08:00:00 GMT", "size_bytes": len(CONTENT),
        "content": CONTENT,
    }


def _doc(key: str, encoding: str) -> dict:
    return {**dict.fromkeys(kinds.DOCS.schema.names), "doc_key": f"{key}.example/a",
            "location": f"https://{key}.example/a.html", "content_sha256": SHA,
            "encoding": encoding, "body": "同一篇稿件，三个网站转载。", "body_chars": 12,
            "flags": {}}


def _load(run_dir: Path, db: Path) -> tuple:
    run = RunRecord("r1", None, datetime(2026, 3, 9, tzinfo=UTC), [], RunCounts(pages_in=3),
                    seconds=1.0)
    load_run(db, run_dir, run, packaged_dimensions())
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT location, url, fetched_at, etag, last_modified, encoding "
                           "FROM raw_pages").fetchall()
    finally:
        con.close()


def test_copies_in_several_batches_store_the_whole_row_of_the_smallest_key(
        tmp_path: Path) -> None:
    """The first batch holds the largest key: a row picked column by column, or by scan
    order, would not be the one of ``a.example``."""
    run_dir = tmp_path / "run"
    for index, (key, day, encoding) in enumerate([("c", 3, "utf-8"), ("a", 1, "gb18030"),
                                                  ("b", 2, "utf-8")]):
        folder = run_dir / kinds.batch_folder_name(index)
        folder.mkdir(parents=True)
        BatchRef(index, str(folder)).write(kinds.RAW, [_raw(key, day)]).write(
            kinds.DOCS, [_doc(key, encoding)])
    expected = [("https://a.example/a.html", "https://a.example/final/a.html",
                 datetime(2026, 3, 1, tzinfo=UTC), '"a"', "Mon, 01 Mar 2026 08:00:00 GMT",
                 "gb18030")]
    assert _load(run_dir, tmp_path / "first.duckdb") == expected
    assert _load(run_dir, tmp_path / "again.duckdb") == expected


@pytest.mark.slow
def test_a_run_with_more_page_bytes_than_duckdb_memory_loads(tmp_path: Path) -> None:
    """200 MB of new pages under FUPIN_DUCKDB_MEMORY=64MB: the raw insert must stream to
    disk. An upsert, or a join of the pages with their documents, held every page's
    bytes in memory and ran out at 100,000 pages."""
    run_dir = tmp_path / "run"
    pages, size = 200, 20_000
    for index in range(50):
        folder = run_dir / kinds.batch_folder_name(index)
        folder.mkdir(parents=True)
        rows, docs = [], []
        for n in range(pages):
            content = os.urandom(size)
            sha = hashlib.sha256(content).hexdigest()
            rows.append({**_raw(f"p{index}-{n}", 1), "content": content, "sha256": sha,
                         "size_bytes": size})
            docs.append({**_doc(f"p{index}-{n}", "utf-8"), "content_sha256": sha})
        BatchRef(index, str(folder)).write(kinds.RAW, rows).write(kinds.DOCS, docs)
    db = tmp_path / "big.duckdb"
    script = ("import sys; from datetime import UTC, datetime; from pathlib import Path\n"
              "from fupin.tasks.pipeline.records import RunCounts, RunRecord\n"
              "from fupin.tasks.warehouse import load_run, packaged_dimensions\n"
              "run = RunRecord('big', None, datetime(2026, 3, 9, tzinfo=UTC), [], "
              "RunCounts(pages_in=10000), seconds=1.0)\n"
              "load_run(Path(sys.argv[1]), Path(sys.argv[2]), run, packaged_dimensions())\n")
    proc = subprocess.run([sys.executable, "-c", script, str(db), str(run_dir)],
                          env={**os.environ, "FUPIN_DUCKDB_MEMORY": "64MB"},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*), sum(octet_length(content)), count(encoding) "
                           "FROM raw_pages").fetchone() == (pages * 50, pages * 50 * size,
                                                            pages * 50)
    finally:
        con.close()
