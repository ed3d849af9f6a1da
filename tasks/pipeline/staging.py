"""Parquet load packages: how batches hand their rows to the next stage.

Stages pass small ``BatchRef`` records (a folder and counts) instead of page
contents, so orchestration stays cheap, memory stays flat as the corpus grows,
and the final load reads every batch with one ``read_parquet`` glob.
Column names equal the warehouse columns, so loads are ``INSERT … BY NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

_TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "sources": pa.schema(
        [("location", pa.string()), ("kind", pa.string()), ("doc_key", pa.string()),
         ("origin", pa.string()), ("options", pa.string()), ("known_sha256", pa.string()),
         ("known_etag", pa.string()), ("known_last_modified", pa.string())]
    ),
    "raw": pa.schema(
        [("sha256", pa.string()), ("location", pa.string()), ("url", pa.string()),
         ("doc_key", pa.string()), ("fetched_at", _TS), ("http_status", pa.int32()),
         ("content_type", pa.string()), ("declared_charset", pa.string()),
         ("etag", pa.string()), ("last_modified", pa.string()),
         ("size_bytes", pa.int32()), ("content", pa.binary())]
    ),
    "rejected": pa.schema(
        [("location", pa.string()), ("url", pa.string()), ("doc_key", pa.string()),
         ("stage", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
         ("recorded_at", _TS)]
    ),
    "docs": pa.schema(
        [("doc_key", pa.string()), ("location", pa.string()), ("url", pa.string()),
         ("title", pa.string()), ("published_date", pa.date32()),
         ("published_at", pa.timestamp("us")), ("published_from", pa.string()),
         ("source_site", pa.string()),
         ("author", pa.string()), ("content_sha256", pa.string()), ("encoding", pa.string()),
         ("body", pa.string()), ("body_chars", pa.int32()),
         ("flags", pa.map_(pa.string(), pa.int32())), ("minhash", pa.binary())]
    ),
    "facts": pa.schema(
        [("fact_id", pa.string()), ("doc_key", pa.string()), ("ordinal", pa.int32()),
         ("indicator", pa.string()), ("region_code", pa.string()), ("region", pa.string()),
         ("province", pa.string()), ("year", pa.int32()), ("period_start", pa.int32()),
         ("as_of", pa.date32()), ("time_kind", pa.string()), ("year_source", pa.string()),
         ("value", pa.float64()),
         ("unit", pa.string()), ("qualifier", pa.string()), ("evidence", pa.string()),
         ("sentence", pa.string()), ("char_start", pa.int32()), ("char_end", pa.int32()),
         ("rule", pa.string()), ("confidence", pa.float64()), ("subset_of", pa.string()),
         ("region_note", pa.string())]
    ),
    "skips": pa.schema(
        [("doc_key", pa.string()), ("reason", pa.string()), ("text", pa.string()),
         ("char_start", pa.int32()), ("char_end", pa.int32())]
    ),
    "keywords": pa.schema(
        [("doc_key", pa.string()), ("rank", pa.int32()), ("keyword", pa.string()),
         ("weight", pa.float64())]
    ),
    "quarantine": pa.schema(
        [("fact_id", pa.string()), ("doc_key", pa.string()), ("indicator", pa.string()),
         ("value", pa.float64()), ("unit", pa.string()), ("qualifier", pa.string()),
         ("region", pa.string()), ("region_code", pa.string()), ("year", pa.int32()),
         ("expectation", pa.string()), ("expectations", pa.list_(pa.string())),
         ("observed", pa.string()), ("evidence", pa.string()), ("sentence", pa.string()),
         ("char_start", pa.int32()), ("char_end", pa.int32()), ("recorded_at", _TS)]
    ),
    "dq": pa.schema(
        [("suite", pa.string()), ("expectation", pa.string()), ("success", pa.bool_()),
         ("element_count", pa.int64()), ("unexpected_count", pa.int64())]
    ),
}


@dataclass
class BatchRef:
    """A staged batch: its folder and the counts the run summary adds up."""

    index: int
    folder: str
    counts: dict[str, int] = field(default_factory=dict)

    def path(self, kind: str) -> Path:
        return Path(self.folder) / f"{kind}.parquet"


def write_rows(path: Path, kind: str, rows: list[dict[str, Any]]) -> None:
    """Write rows (possibly none) with the fixed schema of ``kind``."""
    schema = SCHEMAS[kind]
    write_table(path, pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table())


def write_table(path: Path, table: pa.Table) -> None:
    """Write through a temporary file, so a reader never sees half a batch.

    The batch folder is made here, but never the run's folder above it: a run stopped
    by a signal removes that folder while a thread may still be writing a batch, and
    the write must fail rather than bring the folder back.
    """
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)


def read_table(path: Path, kind: str, columns: list[str] | None = None) -> pa.Table:
    """A staged file as Arrow (empty with ``kind``'s schema when the stage wrote none)."""
    if not path.exists():
        empty = SCHEMAS[kind].empty_table()
        return empty.select(columns) if columns else empty
    return pq.read_table(path, columns=columns)


def read_rows(path: Path, columns: list[str] | None = None) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return pq.read_table(path, columns=columns).to_pylist()
