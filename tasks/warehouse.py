"""DuckDB access: schema, dimension loads, and the one-transaction run load.

DuckDB lets one process write a file at a time, so the writer opens the file
only for the load transaction, and every open retries for a bounded time before
failing with a message a person can act on.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from fupin.settings import settings
from fupin.tasks.ahead import Ahead, Stamp, file_stamp, settled
from fupin.tasks.clean.dedupe import SIGNATURE_BYTES, body_signature
from fupin.tasks.models import Known, Validators
from fupin.tasks.pipeline import storage
from fupin.tasks.pipeline.kinds import (
    BATCH_GLOB,
    DOCS,
    DOCS_OK,
    DQ,
    FACTS_OK,
    FRONTIER,
    KEYWORDS,
    LOADED,
    QUARANTINE,
    RAW,
    REJECTED,
    SKIPS,
    Kind,
)
from fupin.tasks.pipeline.records import RunRecord

SCHEMA_SQL = Path(__file__).resolve().parents[1] / "warehouse" / "schema.sql"


class WarehouseError(RuntimeError):
    """A warehouse file fupin cannot use; the message names the file and says why."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse file for longer than we are willing to wait."""


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text or "already open" in text


def first_line(exc: BaseException) -> str:
    """DuckDB's message without the query excerpt it appends on later lines."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


STORAGE_COMPATIBILITY = "v1.5.0"


def duckdb_config(*, sandboxed: bool = False) -> dict[str, str | bool]:
    """Bound DuckDB's buffer pool (FUPIN_DUCKDB_MEMORY, default 512MB).

    DuckDB's default is 80 % of RAM, and a run loads every page's raw bytes in one
    transaction: with a cap it spills to disk instead of growing with the corpus.
    A sandboxed connection (the one user-typed SQL runs on) can reach no file but
    the warehouse: ``COPY … TO``, ``EXPORT DATABASE``, ``ATTACH``, ``read_csv`` and
    the like are refused, and the setting cannot be turned back on with ``SET``.
    """
    config: dict[str, str | bool] = {
        "memory_limit": settings().duckdb_memory,
        # A new warehouse is written in a storage format the DuckDB 1.5 command line
        # (the registries' duckdb-cli) can open too; DuckDB 2.0's own format it cannot.
        "storage_compatibility_version": STORAGE_COMPATIBILITY,
        # Row order of a load is not meaningful; without it DuckDB can spill more.
        "preserve_insertion_order": False,
    }
    if sandboxed:
        config.update(enable_external_access=False, lock_configuration=True)
    return config


# DuckDB creates the warehouse, its write-ahead log and its spill files with the
# process's umask (0644 by default), and each connection may create them anew. They
# hold every page pulled, so while a connection is open new files get no group or
# other permissions. The umask is process-wide: a counter keeps it tightened for as
# long as any connection of this process is open.
_PRIVATE = {"open": 0, "umask": 0}
_PRIVATE_LOCK = threading.Lock()


@contextmanager
def _private_files() -> Iterator[None]:
    with _PRIVATE_LOCK:
        if _PRIVATE["open"] == 0:
            _PRIVATE["umask"] = os.umask(0o077)
            os.umask(_PRIVATE["umask"] | 0o077)
        _PRIVATE["open"] += 1
    try:
        yield
    finally:
        with _PRIVATE_LOCK:
            _PRIVATE["open"] -= 1
            if _PRIVATE["open"] == 0:
                os.umask(_PRIVATE["umask"])


def _open_error(db: Path, exc: duckdb.Error) -> WarehouseError:
    """What a person can act on, for a file DuckDB could not open."""
    text = str(exc)
    if db.is_dir():
        return WarehouseError(f"the warehouse path {db} is a directory; give a file path")
    if "not a valid DuckDB database file" in text or "Could not read enough bytes" in text:
        return WarehouseError(
            f"{db} is not a DuckDB database (damaged, or another kind of file); "
            "give another --db or move it away")
    if "does not exist" in text:
        return WarehouseError(f"no warehouse at {db}; run `fupin run SOURCE...` first")
    return WarehouseError(f"cannot open the warehouse {db}: {first_line(exc)}")


@contextmanager
def connect(
    db: Path | str,
    *,
    read_only: bool = False,
    wait_seconds: float | None = None,
    sandboxed: bool = False,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, waiting with backoff while another process holds it."""
    db = Path(db)
    wait_seconds = settings().lock_wait if wait_seconds is None else wait_seconds
    config = duckdb_config(sandboxed=sandboxed)
    if not read_only:
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(
                f"cannot create the folder of the warehouse {db}: {exc.strerror}") from exc
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    with _private_files():
        while True:
            try:
                con = duckdb.connect(str(db), read_only=read_only, config=config)
                break
            except duckdb.IOException as exc:
                if not _is_lock_error(exc):
                    raise _open_error(db, exc) from exc
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"the warehouse {db} is being written by another process; "
                        f"waited {wait_seconds:.0f}s. Try again when that run has finished."
                    ) from exc
                time.sleep(delay)
                delay = min(1.0, delay * 2)
        try:
            yield con
        finally:
            con.close()


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE NOT internal AND database_name = current_database() AND schema_name = 'main' "
        "AND table_name IN (SELECT table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main')"
    ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        out.setdefault(table, {})[column] = data_type
    return out


@cache
def _wanted_columns() -> dict[str, dict[str, str]]:
    """Every table and column schema.sql makes, with DuckDB's spelling of the types."""
    expected = duckdb.connect(":memory:")
    try:
        expected.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
        return _columns(expected)
    finally:
        expected.close()


# Tables every fupin warehouse has had since its first schema.
_MARK_TABLES = ("etl_runs", "dim_document")


def warehouse_problem(con: duckdb.DuckDBPyConnection, *, empty_ok: bool) -> str | None:
    """Why the open database is not a fupin warehouse, or None when it is one.

    An older fupin made fewer tables and columns, never other ones or other types,
    so a table named like one of ours whose columns are not a subset of ours
    belongs to someone else. Tables of other names (an analyst's own) are allowed
    next to ours. An empty database is a warehouse not yet loaded.
    """
    found = _columns(con)
    views = con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchall()
    wanted = _wanted_columns()
    if not found and not views[0][0]:
        return None if empty_ok else "it is empty (no run has loaded it yet)"
    for table, columns in found.items():
        for column, data_type in columns.items():
            if table in wanted and wanted[table].get(column) != data_type:
                return f"its table {table} has a column {column} {data_type} that fupin never made"
    missing = [t for t in _MARK_TABLES if t not in found]
    if missing:
        return f"it has no {' or '.join(missing)} table"
    return None


def require_warehouse(con: duckdb.DuckDBPyConnection, db: Path | str, *, empty_ok: bool) -> None:
    """Refuse a DuckDB file that another program made, before fupin reads or changes it."""
    problem = warehouse_problem(con, empty_ok=empty_ok)
    if problem:
        raise WarehouseError(
            f"{db} is not a fupin warehouse: {problem}; give another --db")


def check_writable(db: Path | str) -> None:
    """Refuse, before a run does any work, a warehouse path its load could not write.

    DuckDB writes its write-ahead log next to the file, so the folder must take new
    files; an existing file must open for writing and be a fupin warehouse.
    """
    db = Path(db)
    if db.is_dir():
        raise WarehouseError(f"the warehouse path {db} is a directory; give a file path")
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=db.parent).close()
    except OSError as exc:
        raise WarehouseError(
            f"cannot write the warehouse {db}: its folder {db.parent} does not take new "
            f"files ({exc.strerror})") from exc
    if not db.exists():
        return
    try:
        db.open("r+b").close()
    except OSError as exc:
        raise WarehouseError(f"cannot write the warehouse {db}: {exc.strerror}") from exc
    try:
        with connect(db, read_only=True, wait_seconds=0) as con:
            require_warehouse(con, db, empty_ok=True)
    except WarehouseBusy:
        return  # another run is loading it; this run's load checks it when its turn comes


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing, adding new columns to tables an older version made."""
    wanted = _wanted_columns()
    for table, columns in _columns(con).items():
        for column, data_type in wanted.get(table, {}).items():
            if column not in columns:
                con.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {data_type}')
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))


def _current_documents(con: duckdb.DuckDBPyConnection) -> str | None:
    """A WHERE condition for the documents whose facts are current; None before any load.

    A withdrawn document (its page's newer version was rejected) is not current:
    its page is processed again when it changes, even back to the stored bytes.
    A warehouse loaded by an older fupin has no withdrawals yet.
    """
    columns = _columns(con).get("dim_document")
    if columns is None:
        return None
    return "withdrawn_run_id IS NULL" if "withdrawn_run_id" in columns else "TRUE"


# What ``read_ahead`` read for discover, while ``fupin run`` waited for its Prefect API.
_READ_AHEAD: Ahead[Any] = Ahead()


def _warehouse_stamp(db: Path | str) -> tuple[Stamp, Stamp]:
    """The warehouse file's and its write-ahead log's stamps: a commit writes one."""
    return file_stamp(db), file_stamp(f"{db}.wal")


def _read_key(what: str, db: Path | str) -> tuple[str, str]:
    return what, str(Path(db).resolve())


def read_ahead(db: Path | str) -> dict[str, str]:
    """Read what discover asks of the warehouse first (``stored_locations`` and
    ``known_pages``) and keep it for discover, which takes it while the warehouse's
    files are unchanged; returns the stored locations. Nothing is kept of a
    warehouse written in the last ``SETTLED_S`` seconds (``tasks.ahead.settled``). A
    warehouse being written is not waited for: WarehouseBusy at once."""
    stamp = _warehouse_stamp(db)
    stored = _stored_locations(db, wait_seconds=0)
    if settled(*stamp):
        _READ_AHEAD.keep(_read_key("stored", db), stamp, stored)
        _READ_AHEAD.keep(_read_key("known", db), stamp, _known_pages(db, wait_seconds=0))
    return stored


def known_pages(db: Path | str) -> dict[str, Validators]:
    """doc_key -> content hash and HTTP validators of every current document."""
    return _READ_AHEAD.take_or(_read_key("known", db), lambda: _warehouse_stamp(db),
                               lambda: _known_pages(db))


def _known_pages(db: Path | str, wait_seconds: float | None = None) -> dict[str, Validators]:
    if not Path(db).exists():
        return {}
    with connect(db, read_only=True, wait_seconds=wait_seconds) as con:
        require_warehouse(con, db, empty_ok=True)
        current = _current_documents(con)
        if current is None:
            return {}
        # An older warehouse stored no validators; its load adds the columns.
        stored = _columns(con).get("raw_pages", {})
        validators = ", ".join(f"r.{c}" if c in stored else "NULL"
                               for c in ("etag", "last_modified"))
        rows = con.execute(
            f"SELECT d.doc_key, d.content_sha256, {validators} "
            "FROM dim_document d LEFT JOIN raw_pages r ON r.sha256 = d.content_sha256 "
            f"WHERE {current}"
        ).fetchall()
    return {key: Validators(sha, etag, modified) for key, sha, etag, modified in rows}


def read_frontier(db: Path | str) -> dict[str, Known]:
    """url -> what the frontier holds of it, for discover to choose what is new or due."""
    if not Path(db).exists():
        return {}
    with connect(db, read_only=True) as con:
        if "frontier" not in _columns(con):
            return {}
        rows = con.execute("SELECT url, kind, lastmod, next_check, last_fetched, found_in, etag, "
                           "last_modified FROM frontier").fetchall()
    return {url: Known(*known) for url, *known in rows}


def stored_locations(db: Path | str) -> dict[str, str]:
    """doc_key -> location of every loaded document (``tasks.acquire.sources.expand_sources``)."""
    return _READ_AHEAD.take_or(_read_key("stored", db), lambda: _warehouse_stamp(db),
                               lambda: _stored_locations(db))


def _stored_locations(db: Path | str, wait_seconds: float | None = None) -> dict[str, str]:
    if not Path(db).exists():
        return {}
    with connect(db, read_only=True, wait_seconds=wait_seconds) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "dim_document" not in tables:
            return {}
        return dict(con.execute("SELECT doc_key, location FROM dim_document").fetchall())


_KEYED_TABLES = ("fact_indicator", "fact_keyword", "extraction_skips", "quarantined_facts",
                 "rejected_pages", "dim_document")


def migrate_doc_keys(con: duckdb.DuckDBPyConnection, renames: dict[str, str]) -> None:
    """Move documents and every row keyed by them from old keys to new ones.

    Runs inside the load transaction, before the run's rows replace documents by key.
    """
    if not renames:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE key_renames (old VARCHAR, new VARCHAR)")
    con.executemany("INSERT INTO key_renames VALUES (?, ?)", list(renames.items()))
    # A document already under a new key (another file that key named) gives way, as the
    # load would replace it anyway: two rows must not end up sharing the key.
    for table in ("fact_indicator", "fact_keyword", "extraction_skips", "dim_document"):
        con.execute(f"DELETE FROM {table} WHERE doc_key IN (SELECT new FROM key_renames)")
    con.execute("UPDATE dim_document SET duplicate_of = r.new FROM key_renames r "
                "WHERE duplicate_of = r.old")
    for table in _KEYED_TABLES:
        con.execute(f"UPDATE {table} SET doc_key = r.new FROM key_renames r "
                    f"WHERE {table}.doc_key = r.old")


def known_signatures(db: Path | str) -> list[tuple[str, bytes]]:
    """(doc_key, MinHash signature) of every current original, oldest first.

    Signatures stored in an older format are recomputed from the stored body, so
    warehouses loaded by earlier versions keep catching reposts.
    """
    if not Path(db).exists():
        return []
    with connect(db, read_only=True) as con:
        current = _current_documents(con)
        if current is None:
            return []
        rows = con.execute(
            "SELECT doc_key, minhash, CASE WHEN octet_length(minhash) <> ? THEN body END "
            f"FROM dim_document WHERE duplicate_of IS NULL AND minhash IS NOT NULL AND {current} "
            "ORDER BY published_date NULLS LAST, doc_key", [SIGNATURE_BYTES]
        ).fetchall()
    return [(key, sig if body is None else body_signature(body)) for key, sig, body in rows]


_DIM_COLUMNS = {
    "dim_indicator": ("code", "name_zh", "name_en", "unit", "measure", "min_value", "max_value"),
    "dim_region": ("code", "name", "level", "parent_code", "province", "prefecture"),
}


@dataclass(frozen=True)
class Dimensions:
    """The rows of dim_indicator and dim_region, built only when a load needs them.

    Building the gazetteer's rows and hashing them cost about a second of every run,
    re-runs included, though the rows change only with the files they are read
    from. ``version`` names those files (None: unknown, the rows are always built
    and compared); a warehouse that stored it with the digest of its current rows
    keeps them without building them again.
    """

    indicators: Callable[[], list[dict[str, Any]]]
    regions: Callable[[], list[dict[str, Any]]]
    version: str | None = None


def packaged_dimensions() -> Dimensions:
    """The taxonomy's and the gazetteer's rows, versioned by everything that shapes them:
    the extract stage's files (``tasks.pipeline.stage_cache``) and this module."""
    from fupin.tasks.extract.regions import load_gazetteer
    from fupin.tasks.extract.taxonomy import load_taxonomy
    from fupin.tasks.pipeline.stage_cache import code_version

    def rows(items: list[Any], table: str) -> list[dict[str, Any]]:
        return [{c: getattr(item, c) for c in _DIM_COLUMNS[table]} for item in items]

    version = hashlib.sha256(code_version("extract").encode()
                             + Path(__file__).read_bytes()).hexdigest()[:16]
    return Dimensions(lambda: rows(load_taxonomy(), "dim_indicator"),
                      lambda: rows(load_gazetteer().rows, "dim_region"), version)


_DIMENSION_KEYS = ("dimensions_sha256", "dimensions_version")


def load_dimensions(con: duckdb.DuckDBPyConnection, dimensions: Dimensions) -> None:
    """Refresh the reference dimensions when the schema files changed since the last load."""
    # fetchall, not fetchone: a half-read result blocks the connection's next register()
    stored = dict(con.execute("SELECT key, value FROM warehouse_meta WHERE key IN (?, ?)",
                              list(_DIMENSION_KEYS)).fetchall())
    digest = stored.get("dimensions_sha256")
    # The digest is stored with the version: a load by a fupin that does not know
    # versions changes the digest, so the rows are built and compared again.
    if dimensions.version is None or stored.get("dimensions_version") != (
            f"{dimensions.version} {digest}"):
        digest = _refresh_dimensions(con, dimensions, digest)
        if dimensions.version is not None:
            con.execute("INSERT OR REPLACE INTO warehouse_meta VALUES (?, ?)",
                        [_DIMENSION_KEYS[1], f"{dimensions.version} {digest}"])
    if con.execute("SELECT count(*) FROM dim_date").fetchall()[0][0] == 0:
        con.execute(
            """
            INSERT INTO dim_date
            SELECT d::DATE, year(d), quarter(d), month(d), day(d)
            FROM generate_series(DATE '1949-01-01', DATE '2040-12-31', INTERVAL 1 DAY) t(d)
            """
        )


def _refresh_dimensions(
    con: duckdb.DuckDBPyConnection, dimensions: Dimensions, stored: str | None
) -> str:
    """Replace the dimensions' rows when their digest differs from ``stored``; the digest."""
    rows = {
        "dim_indicator": [{c: i.get(c) for c in _DIM_COLUMNS["dim_indicator"]}
                          for i in dimensions.indicators()],
        "dim_region": [{c: (r.get(c) or None) for c in _DIM_COLUMNS["dim_region"]}
                       for r in dimensions.regions()],
    }
    digest = hashlib.sha256(
        json.dumps(rows, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    if stored != digest:
        for table, table_rows in rows.items():
            # villages come from facts (add_villages), not from the schema files
            con.execute(f"DELETE FROM {table}"
                        + (" WHERE level <> 'village'" if table == "dim_region" else ""))
            con.register("dimension_rows", pa.Table.from_pylist(table_rows))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM dimension_rows")
            con.unregister("dimension_rows")
        con.execute("INSERT OR REPLACE INTO warehouse_meta VALUES ('dimensions_sha256', ?)",
                    [digest])
    return digest


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


def _staged(con: duckdb.DuckDBPyConnection, run_dir: str, kind: Kind) -> str:
    """A relation over every batch's file of ``kind`` (or the run's own file of it); an
    empty one with the kind's schema when there is none."""
    pattern = kind.file if kind.per_run else f"{BATCH_GLOB}/{kind.file}"
    if storage.glob(run_dir, pattern):
        return f"read_parquet('{storage.join(run_dir, pattern)}')"
    name = f"staged_empty_{kind.name}"
    con.register(name, kind.schema.empty_table())
    return name


def load_run(
    db: Path | str,
    run_dir: str,
    run: RunRecord,
    dimensions: Dimensions,
    duplicates: dict[str, str] | None = None,
    wait_seconds: float | None = None,
    renames: dict[str, str] | None = None,
) -> None:
    """Load every staged batch of a run in one transaction.

    A crash at any point leaves the warehouse as it was before the run: DuckDB
    discards an uncommitted transaction when the file is next opened.
    A document whose content changed replaces its earlier facts, keywords and skips;
    ``renames`` (old key -> new key, see ``tasks.acquire.sources.legacy_renames``) are
    applied first. A run staged in object storage is read from a local copy
    (``storage.local_copy``): DuckDB's own S3 support is an extension it may not be
    able to download, and reading through fsspec was about 20 times slower.
    """
    failure = None
    with (storage.local_copy(run_dir, Path(db).resolve().parent) as staged,
          connect(db, wait_seconds=wait_seconds) as con):
        require_warehouse(con, db, empty_ok=True)
        con.execute("BEGIN TRANSACTION")
        try:
            _load_transaction(con, staged, run, dimensions, duplicates or {}, renames or {})
            con.execute("COMMIT")
        except BaseException as exc:
            _rollback(con)
            if not _write_failure(exc, Path(db)):
                raise
            failure = first_line(exc)
    del con
    if failure:
        # Raised here, with no DuckDB error as its cause, so the exception Prefect
        # keeps holds no connection (DuckDB's bindings complain at exit otherwise).
        raise WarehouseError(
            f"could not write the warehouse {db}, which keeps its last completed run: {failure}")


def _load_transaction(
    con: duckdb.DuckDBPyConnection,
    run_dir: str,
    run: RunRecord,
    dimensions: Dimensions,
    duplicates: dict[str, str],
    renames: dict[str, str],
) -> None:
    # Schema changes too: a failed load leaves no added column behind.
    ensure_schema(con)
    load_dimensions(con, dimensions)
    migrate_doc_keys(con, renames)
    _load_staged(con, run_dir, run.run_id, duplicates)
    _load_frontier(con, run_dir, run)
    add_villages(con)
    # each count has an etl_runs column of its name
    counts = {**asdict(run.counts), **asdict(run.discovery)}
    con.execute(
        "INSERT INTO etl_runs BY NAME SELECT * FROM (SELECT ?::VARCHAR AS run_id, "
        "?::VARCHAR AS flow_run_id, ?::TIMESTAMPTZ AS started_at, "
        "?::TIMESTAMPTZ AS finished_at, 'completed' AS status, ?::VARCHAR[] AS sources, "
        + "".join(f"?::INTEGER AS {name}, " for name in counts) + "?::DOUBLE AS seconds)",
        [run.run_id, run.flow_run_id, run.started_at, datetime.now(UTC), run.sources,
         *counts.values(), run.seconds],
    )


def _load_frontier(con: duckdb.DuckDBPyConnection, run_dir: str, run: RunRecord) -> None:
    """What this run's discovery saw, and how the fetch of each scheduled article went:
    its HTTP status and validators, ``not_modified`` (a 304 or the same bytes), or the
    stage and reason it was rejected with. A fetch that failed is due again next run;
    a page the clean stage found to be a list of links is a listing from now on."""
    staged = _staged(con, run_dir, FRONTIER)
    rid = [run.run_id]
    con.execute(
        f"""
        INSERT INTO frontier BY NAME
        SELECT * EXCLUDE ({', '.join(FRONTIER.unloaded)}), ?::VARCHAR AS run_id FROM {staged}
        ON CONFLICT (url) DO UPDATE SET
            location = excluded.location, host = excluded.host, source = excluded.source,
            found_in = excluded.found_in, last_seen = excluded.last_seen,
            kind = CASE WHEN frontier.kind = 'listing' AND excluded.kind = 'article'
                        THEN 'listing' ELSE excluded.kind END,
            lastmod = coalesce(excluded.lastmod, frontier.lastmod),
            next_check = excluded.next_check,
            last_status = coalesce(excluded.last_status, frontier.last_status),
            etag = coalesce(excluded.etag, frontier.etag),
            last_modified = coalesce(excluded.last_modified, frontier.last_modified),
            run_id = excluded.run_id
        """, rid)
    scheduled = f"url IN (SELECT url FROM {staged} WHERE scheduled)"
    con.execute(f"UPDATE frontier SET last_fetched = ?, last_status = 'not_modified' "
                f"WHERE {scheduled}", [run.started_at])
    con.execute(
        f"""
        UPDATE frontier SET last_status = r.http_status::VARCHAR, etag = r.etag,
               last_modified = r.last_modified
        FROM (SELECT doc_key, any_value(http_status) AS http_status, any_value(etag) AS etag,
                     any_value(last_modified) AS last_modified
              FROM {_staged(con, run_dir, RAW)} GROUP BY doc_key) r
        WHERE frontier.url = r.doc_key AND frontier.{scheduled}
        """)
    rejected = " UNION ALL ".join(
        f"SELECT doc_key, stage, reason FROM {_staged(con, run_dir, kind)}" for kind in REJECTED)
    con.execute(
        f"""
        UPDATE frontier SET last_status = r.stage || '/' || r.reason,
               next_check = CASE WHEN r.stage = 'fetch' THEN ? ELSE next_check END,
               kind = CASE WHEN r.reason = 'listing_page' THEN 'listing' ELSE kind END
        FROM (SELECT doc_key, min(stage) AS stage, min(reason) AS reason FROM ({rejected})
              WHERE doc_key IS NOT NULL GROUP BY doc_key) r
        WHERE frontier.url = r.doc_key AND frontier.{scheduled}
        """, [run.started_at])


def _write_failure(exc: BaseException, db: Path) -> bool:
    """A full disk or a failing device under the warehouse, its log or its spill files."""
    if isinstance(exc, duckdb.TransactionException):  # the COMMIT itself failed
        return True
    return isinstance(exc, duckdb.IOException) and db.name in str(exc)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back what is open. A COMMIT that failed has already ended the transaction;
    the error that ended it is the one to report, not "no transaction is active"."""
    with suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")



def _load_staged(
    con: duckdb.DuckDBPyConnection, run_dir: str, run_id: str, duplicates: dict[str, str]
) -> None:
    rid = [run_id]
    src = {kind: _staged(con, run_dir, kind) for kind in LOADED}
    con.execute("CREATE OR REPLACE TEMP TABLE run_duplicates (doc_key VARCHAR, original VARCHAR)")
    if duplicates:
        con.executemany("INSERT INTO run_duplicates VALUES (?, ?)", list(duplicates.items()))
    # Pages with the same bytes share one raw row: the whole row of the smallest key, so
    # its location, address and headers belong together and the same input always
    # stores the same row (any_value per column mixed sources and varied between runs).
    # The choice is made on keys alone; the bytes then only stream through a semi-join
    # into a plain append, which DuckDB can spill. A join or ON CONFLICT that carried
    # them held every page's bytes in memory (out of memory at 100,000 pages).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE run_raw_rows AS
        SELECT f.sha256, f.doc_key, d.encoding
        FROM (SELECT sha256, min(doc_key) AS doc_key FROM {src[RAW]}
              WHERE sha256 NOT IN (SELECT sha256 FROM raw_pages) GROUP BY sha256) f
        LEFT JOIN (SELECT doc_key, encoding FROM {src[DOCS]}) d USING (doc_key)
        """
    )
    con.execute(
        f"""
        INSERT INTO raw_pages
        SELECT sha256, location, url, fetched_at, http_status, content_type, NULL, etag,
               last_modified, size_bytes, content
        FROM {src[RAW]} WHERE doc_key IN (SELECT doc_key FROM run_raw_rows)
        """
    )
    con.execute("UPDATE raw_pages SET encoding = r.encoding FROM run_raw_rows r "
                "WHERE raw_pages.sha256 = r.sha256 AND r.encoding IS NOT NULL")
    docs = src[DOCS_OK]
    for kind in (FACTS_OK, KEYWORDS, SKIPS):
        con.execute(f"DELETE FROM {kind.table} WHERE doc_key IN (SELECT doc_key FROM {docs})")
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
        f"INSERT INTO {FACTS_OK.table} BY NAME SELECT * EXCLUDE ({', '.join(FACTS_OK.unloaded)}), "
        f"?::VARCHAR AS run_id FROM {src[FACTS_OK]}",
        rid,
    )
    for kind in (KEYWORDS, SKIPS):
        con.execute(
            f"INSERT INTO {kind.table} BY NAME SELECT *, ?::VARCHAR AS run_id "
            f"FROM {src[kind]} WHERE {loaded}",
            rid,
        )
    con.execute(
        f"INSERT INTO quarantined_facts BY NAME SELECT *, ?::VARCHAR AS run_id "
        f"FROM {src[QUARANTINE]}",
        rid,
    )
    rejected = " UNION ALL ".join(
        f"SELECT * FROM {src[kind]}" for kind in REJECTED)
    con.execute(
        f"INSERT INTO rejected_pages BY NAME SELECT *, ?::VARCHAR AS run_id FROM ({rejected})",
        rid,
    )
    # A known page whose new bytes were read and refused no longer says what the
    # document says: withdraw it (v_facts leaves it out) until a version loads again.
    con.execute(
        f"""
        UPDATE dim_document SET withdrawn_run_id = ?, withdrawn_reason = w.reason
        FROM (SELECT doc_key, min(stage || ': ' || reason) AS reason FROM ({rejected})
              WHERE stage IN ('clean', 'validate') AND doc_key IS NOT NULL
              GROUP BY doc_key) w
        WHERE dim_document.doc_key = w.doc_key AND dim_document.withdrawn_run_id IS NULL
        """,
        rid,
    )
    con.execute(
        f"""
        INSERT INTO dq_results
        SELECT ?, suite, expectation, bool_and(success), sum(element_count)::INTEGER,
               sum(unexpected_count)::INTEGER, now()
        FROM {src[DQ]}
        GROUP BY suite, expectation
        """,
        rid,
    )
