"""DuckDB access: schema, dimension loads, and the one-transaction run load.

DuckDB lets one process write a file at a time, so the writer opens the file
only for the load transaction, and every open retries for a bounded time before
failing with a message a person can act on.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tasks.clean.dedupe import SIGNATURE_BYTES, body_signature
from tasks.models import Validators
from tasks.staging import SCHEMAS

SCHEMA_SQL = Path(__file__).resolve().parents[1] / "warehouse" / "schema.sql"


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file for longer than we are willing to wait."""


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text or "already open" in text


def lock_wait_seconds() -> float:
    """How long to wait for another process's write to finish (FUPIN_LOCK_WAIT, default 60)."""
    return float(os.environ.get("FUPIN_LOCK_WAIT", "60"))


def duckdb_config() -> dict[str, str]:
    """Bound DuckDB's buffer pool (FUPIN_DUCKDB_MEMORY, default 512MB).

    DuckDB's default is 80 % of RAM, and a run loads every page's raw bytes in one
    transaction: with a cap it spills to disk instead of growing with the corpus.
    """
    return {"memory_limit": os.environ.get("FUPIN_DUCKDB_MEMORY", "512MB"),
            # Row order of a load is not meaningful; without it DuckDB can spill more.
            "preserve_insertion_order": False}


@contextmanager
def connect(
    db: Path | str, *, read_only: bool = False, wait_seconds: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, waiting with backoff while another process holds it."""
    db = Path(db)
    wait_seconds = lock_wait_seconds() if wait_seconds is None else wait_seconds
    if not read_only:
        db.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(db), read_only=read_only, config=duckdb_config())
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                if _is_lock_error(exc):
                    raise WarehouseBusy(
                        f"the warehouse {db} is being written by another process; "
                        f"waited {wait_seconds:.0f}s. Try again when that run has finished."
                    ) from exc
                raise
            time.sleep(delay)
            delay = min(1.0, delay * 2)
    try:
        yield con
    finally:
        con.close()


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE NOT internal AND table_name IN (SELECT table_name FROM duckdb_tables())"
    ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        out.setdefault(table, {})[column] = data_type
    return out


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing, adding new columns to tables an older version made."""
    ddl = SCHEMA_SQL.read_text(encoding="utf-8")
    expected = duckdb.connect(":memory:")
    try:
        expected.execute(ddl)
        wanted = _columns(expected)
    finally:
        expected.close()
    for table, columns in _columns(con).items():
        for column, data_type in wanted.get(table, {}).items():
            if column not in columns:
                con.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {data_type}')
    con.execute(ddl)


def known_pages(db: Path | str) -> dict[str, Validators]:
    """doc_key -> content hash and HTTP validators of every loaded document."""
    if not Path(db).exists():
        return {}
    with connect(db, read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "dim_document" not in tables:
            return {}
        rows = con.execute(
            "SELECT d.doc_key, d.content_sha256, r.etag, r.last_modified "
            "FROM dim_document d LEFT JOIN raw_pages r ON r.sha256 = d.content_sha256"
        ).fetchall()
    return {key: Validators(sha, etag, modified) for key, sha, etag, modified in rows}


def known_signatures(db: Path | str) -> list[tuple[str, bytes]]:
    """(doc_key, MinHash signature) of every loaded original, oldest first.

    Signatures stored in an older format are recomputed from the stored body, so
    warehouses loaded by earlier versions keep catching reposts.
    """
    if not Path(db).exists():
        return []
    with connect(db, read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "dim_document" not in tables:
            return []
        rows = con.execute(
            "SELECT doc_key, minhash, CASE WHEN octet_length(minhash) <> ? THEN body END "
            "FROM dim_document WHERE duplicate_of IS NULL AND minhash IS NOT NULL "
            "ORDER BY published_date NULLS LAST, doc_key", [SIGNATURE_BYTES]
        ).fetchall()
    return [(key, sig if body is None else body_signature(body)) for key, sig, body in rows]


_DIM_COLUMNS = {
    "dim_indicator": ("code", "name_zh", "name_en", "unit", "measure", "min_value", "max_value"),
    "dim_region": ("code", "name", "level", "parent_code", "province", "prefecture"),
}


def load_dimensions(
    con: duckdb.DuckDBPyConnection,
    indicators: list[dict[str, Any]],
    regions: list[dict[str, Any]],
) -> None:
    """Refresh the reference dimensions when the schema files changed since the last load."""
    rows = {
        "dim_indicator": [{c: i.get(c) for c in _DIM_COLUMNS["dim_indicator"]}
                          for i in indicators],
        "dim_region": [{c: (r.get(c) or None) for c in _DIM_COLUMNS["dim_region"]}
                       for r in regions],
    }
    digest = hashlib.sha256(
        json.dumps(rows, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    # fetchall, not fetchone: a half-read result blocks the connection's next register()
    stored = con.execute(
        "SELECT value FROM warehouse_meta WHERE key = 'dimensions_sha256'").fetchall()
    if not stored or stored[0][0] != digest:
        for table, table_rows in rows.items():
            # villages come from facts (add_villages), not from the schema files
            con.execute(f"DELETE FROM {table}"
                        + (" WHERE level <> 'village'" if table == "dim_region" else ""))
            con.register("dimension_rows", pa.Table.from_pylist(table_rows))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM dimension_rows")
            con.unregister("dimension_rows")
        con.execute("INSERT OR REPLACE INTO warehouse_meta VALUES ('dimensions_sha256', ?)",
                    [digest])
    if con.execute("SELECT count(*) FROM dim_date").fetchall()[0][0] == 0:
        con.execute(
            """
            INSERT INTO dim_date
            SELECT d::DATE, year(d), quarter(d), month(d), day(d)
            FROM generate_series(DATE '1949-01-01', DATE '2040-12-31', INTERVAL 1 DAY) t(d)
            """
        )


def add_villages(con: duckdb.DuckDBPyConnection) -> None:
    """dim_region rows for the villages facts name: no list of villages exists,
    so a village is known once a page ties it to its township or county (its
    code is the parent's code, '/', its name)."""
    con.execute(
        """
        INSERT INTO dim_region
        SELECT f.region_code, any_value(f.region), 'village', any_value(p.code),
               any_value(p.province), any_value(p.prefecture)
        FROM fact_indicator f JOIN dim_region p ON p.code = split_part(f.region_code, '/', 1)
        WHERE f.region_code LIKE '%/%'
        GROUP BY f.region_code
        ON CONFLICT DO NOTHING
        """
    )


# Staged file kind -> the schema its rows follow (see tasks.staging.SCHEMAS).
_STAGED = {
    "raw": "raw", "docs": "docs", "docs_ok": "docs", "facts_ok": "facts",
    "keywords": "keywords", "skips": "skips", "quarantine": "quarantine", "dq": "dq",
    "rejected_discover": "rejected", "rejected_fetch": "rejected",
    "rejected_clean": "rejected", "rejected_validate": "rejected",
}


def _staged(con: duckdb.DuckDBPyConnection, run_dir: Path, kind: str) -> str:
    """A relation over every batch's file of ``kind``; an empty typed one when there is none."""
    if any(run_dir.glob(f"batch-*/{kind}.parquet")):
        return f"read_parquet('{run_dir / 'batch-*' / kind}.parquet')"
    name = f"staged_empty_{kind}"
    con.register(name, SCHEMAS[_STAGED[kind]].empty_table())
    return name


def load_run(
    db: Path | str,
    run_dir: Path,
    run: dict[str, Any],
    indicators: list[dict[str, Any]],
    regions: list[dict[str, Any]],
    duplicates: dict[str, str] | None = None,
    wait_seconds: float | None = None,
) -> None:
    """Load every staged batch of a run in one transaction.

    A crash at any point leaves the warehouse as it was before the run: DuckDB
    discards an uncommitted transaction when the file is next opened.
    A document whose content changed replaces its earlier facts, keywords and skips.
    """
    run_id = run["run_id"]
    with connect(db, wait_seconds=wait_seconds) as con:
        ensure_schema(con)
        con.execute("BEGIN TRANSACTION")
        try:
            load_dimensions(con, indicators, regions)
            _load_staged(con, run_dir, run_id, duplicates or {})
            add_villages(con)
            con.execute(
                "INSERT INTO etl_runs BY NAME SELECT * FROM (SELECT ?::VARCHAR AS run_id, "
                "?::VARCHAR AS flow_run_id, ?::TIMESTAMPTZ AS started_at, "
                "?::TIMESTAMPTZ AS finished_at, 'completed' AS status, ?::VARCHAR[] AS sources, "
                "?::INTEGER AS pages_in, ?::INTEGER AS pages_unchanged, "
                "?::INTEGER AS documents_loaded, ?::INTEGER AS pages_rejected, "
                "?::INTEGER AS facts_candidate, ?::INTEGER AS facts_loaded, "
                "?::INTEGER AS facts_quarantined, ?::DOUBLE AS seconds)",
                [run_id, run.get("flow_run_id"), run["started_at"], datetime.now(UTC),
                 run.get("sources", []), run["pages_in"], run["pages_unchanged"],
                 run["documents_loaded"], run["pages_rejected"], run["facts_candidate"],
                 run["facts_loaded"], run["facts_quarantined"], run.get("seconds")],
            )
            _crash_test_pause()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def _crash_test_pause() -> None:
    """Hold the open transaction when FUPIN_LOAD_PAUSE_FILE is set, so a test can kill
    the process mid-load and check that the warehouse comes back as it was."""
    marker = os.environ.get("FUPIN_LOAD_PAUSE_FILE")
    if marker:
        Path(marker).write_text("in load transaction\n")
        time.sleep(float(os.environ.get("FUPIN_LOAD_PAUSE_SECONDS", "120")))


def _load_staged(
    con: duckdb.DuckDBPyConnection, run_dir: Path, run_id: str, duplicates: dict[str, str]
) -> None:
    rid = [run_id]
    src = {kind: _staged(con, run_dir, kind) for kind in _STAGED}
    con.execute("CREATE OR REPLACE TEMP TABLE run_duplicates (doc_key VARCHAR, original VARCHAR)")
    if duplicates:
        con.executemany("INSERT INTO run_duplicates VALUES (?, ?)", list(duplicates.items()))
    con.execute(
        f"""
        INSERT INTO raw_pages
        SELECT r.sha256, any_value(r.location), any_value(r.url), any_value(r.fetched_at),
               any_value(r.http_status), any_value(r.content_type), any_value(d.encoding),
               any_value(r.etag), any_value(r.last_modified), any_value(r.size_bytes),
               any_value(r.content)
        FROM {src["raw"]} r LEFT JOIN {src["docs"]} d ON d.content_sha256 = r.sha256
        GROUP BY r.sha256
        ON CONFLICT DO NOTHING
        """
    )
    docs = src["docs_ok"]
    for table in ("fact_indicator", "fact_keyword", "extraction_skips"):
        con.execute(f"DELETE FROM {table} WHERE doc_key IN (SELECT doc_key FROM {docs})")
    # Delete then append rather than INSERT OR REPLACE: an append of many bodies can
    # spill to disk, an upsert keeps them in memory (out of memory at 50,000 pages).
    con.execute(f"DELETE FROM dim_document WHERE doc_key IN (SELECT doc_key FROM {docs})")
    con.execute(
        f"INSERT INTO dim_document BY NAME SELECT d.*, ?::VARCHAR AS run_id, "
        f"x.original AS duplicate_of FROM {docs} d LEFT JOIN run_duplicates x USING (doc_key)",
        rid,
    )
    con.execute(
        f"INSERT INTO dim_source SELECT DISTINCT source_site, NULL FROM {docs} "
        f"WHERE source_site IS NOT NULL ON CONFLICT DO NOTHING"
    )
    loaded = f"doc_key IN (SELECT doc_key FROM {docs})"
    con.execute(
        f"INSERT INTO fact_indicator BY NAME SELECT * EXCLUDE (region_note), "
        f"?::VARCHAR AS run_id FROM {src['facts_ok']}",
        rid,
    )
    for table, kind in (("fact_keyword", "keywords"), ("extraction_skips", "skips")):
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT *, ?::VARCHAR AS run_id "
            f"FROM {src[kind]} WHERE {loaded}",
            rid,
        )
    con.execute(
        f"INSERT INTO quarantined_facts BY NAME SELECT *, ?::VARCHAR AS run_id "
        f"FROM {src['quarantine']}",
        rid,
    )
    rejected = " UNION ALL ".join(
        f"SELECT * FROM {src[kind]}" for kind in _STAGED if kind.startswith("rejected_")
    )
    con.execute(
        f"INSERT INTO rejected_pages BY NAME SELECT *, ?::VARCHAR AS run_id FROM ({rejected})",
        rid,
    )
    con.execute(
        f"""
        INSERT INTO dq_results
        SELECT ?, suite, expectation, bool_and(success), sum(element_count)::INTEGER,
               sum(unexpected_count)::INTEGER, now()
        FROM {src["dq"]}
        GROUP BY suite, expectation
        """,
        rid,
    )
