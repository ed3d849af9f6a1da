"""The raw layer keeps one row per distinct page bytes, taken whole from one source."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb

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
