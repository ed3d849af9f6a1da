"""The warehouse under stress: crashes mid-load, readers during writes, schema upgrades,
and the example queries analysts start from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from fupin.tasks.extract.regions import load_gazetteer
from fupin.tasks.extract.taxonomy import load_taxonomy
from fupin.tasks.warehouse import (
    Dimensions,
    connect,
    ensure_schema,
    load_dimensions,
    packaged_dimensions,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"
QUERIES = sorted((REPO / "warehouse" / "queries").glob("*.sql"))
FUPIN = Path(sys.executable).with_name("fupin")


def snapshot(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


def fupin(*args: str, api: str, env: dict | None = None, held: Path | None = None,
          **kw) -> subprocess.Popen:
    """A `fupin` process; with ``held``, one whose load stops mid-transaction (see
    tests/held_load.py) after writing the file ``held``."""
    full_env = {**os.environ, "PREFECT_API_URL": api, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), full_env.get("PYTHONPATH")]))
    cmd = [str(FUPIN)]
    if held:
        cmd = [sys.executable, str(REPO / "tests" / "held_load.py"), str(held)]
    return subprocess.Popen([*cmd, *args], env=full_env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.slow
def test_sigkill_during_the_load_leaves_the_warehouse_as_it_was(
    prefect_server: str, tmp_path: Path
) -> None:
    db = tmp_path / "fupin.duckdb"
    first = fupin("run", str(SAMPLES / "longxi_2019_exit.html"), "--db", str(db), "--json",
                  api=prefect_server)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    before = snapshot(db)

    marker = tmp_path / "in-load"
    victim = fupin("run", str(SAMPLES), "--db", str(db), api=prefect_server, held=marker)
    for _ in range(1500):  # polls 0.2 s apart: a run that never loads fails, not hangs
        if marker.exists():
            break
        assert victim.poll() is None, victim.communicate()[1][-2000:]
        time.sleep(0.2)
    assert marker.exists(), "the run never reached its load"

    # A reader while the write transaction is open waits, then gives a clear message.
    reader = fupin("sql", "SELECT count(*) FROM dim_document", "--db", str(db),
                   api=prefect_server, env={"FUPIN_LOCK_WAIT": "1"})
    _, reader_err = reader.communicate(timeout=120)
    assert reader.returncode == 3
    assert "being written by another process" in reader_err and "Traceback" not in reader_err

    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert snapshot(db) == before

    again = fupin("run", str(SAMPLES), "--db", str(db), "--json", api=prefect_server)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["documents_loaded"] == 2 and summary["pages_unchanged"] == 1
    assert snapshot(db)["dim_document"] == 3


@pytest.fixture(scope="module")
def sample_warehouse(prefect_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fupin.flows.etl import etl

    db = tmp_path_factory.mktemp("queries") / "fupin.duckdb"
    etl(sources=[str(SAMPLES)], db=str(db))
    return db


@pytest.mark.slow
@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_every_example_query_runs_and_answers(sample_warehouse: Path, query: Path) -> None:
    with connect(sample_warehouse, read_only=True) as con:
        cursor = con.execute(query.read_text(encoding="utf-8"))
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    assert columns
    expected_rows = {
        "poor_households_by_region": lambda r: len(r) >= 2,
        "poverty_incidence_over_time": lambda r: any(row[1] == "陇西县" for row in r),
        "funds_by_region": lambda r: len(r) >= 3,
        "quarantined_last_run": lambda r: any(row[4] == "value_not_above_indicator_max"
                                              for row in r),
        "sources_disagree": lambda r: r == [],
        "frontier_waiting": lambda r: r == [],  # the samples name no sitemap, feed or site
    }
    assert expected_rows[query.stem](rows), rows


def test_every_table_and_column_is_commented(tmp_path: Path) -> None:
    with connect(tmp_path / "w.duckdb") as con:
        ensure_schema(con)
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE comment IS NULL").fetchall()
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE NOT internal AND comment IS NULL "
            "AND table_name IN (SELECT table_name FROM duckdb_tables())").fetchall()
    assert tables == [] and columns == []


def test_an_older_warehouse_gains_new_columns(tmp_path: Path) -> None:
    from fupin.tasks.warehouse import connect, ensure_schema

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE raw_pages (sha256 VARCHAR PRIMARY KEY, location VARCHAR NOT NULL, "
                "url VARCHAR, fetched_at TIMESTAMPTZ NOT NULL, http_status INTEGER, "
                "content_type VARCHAR, encoding VARCHAR, size_bytes INTEGER NOT NULL, "
                "content BLOB NOT NULL)")
    con.execute("INSERT INTO raw_pages VALUES ('s', 'loc', NULL, now(), 200, NULL, 'utf-8', 1, "
                "'x'::BLOB)")
    con.close()
    with connect(db) as con:
        ensure_schema(con)
        columns = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'raw_pages'").fetchall()}
        assert {"etag", "last_modified"} <= columns
        assert con.execute("SELECT count(*) FROM raw_pages").fetchone()[0] == 1


@pytest.mark.slow
def test_the_duckdb_command_line_of_the_registries_opens_the_warehouse(
    sample_warehouse: Path,
) -> None:
    """The `duckdb` CLI that PyPI ships (1.5.x, pinned in the lock) reads the file a
    run wrote with the DuckDB 2.0 library: tables, views and the analyst contract."""
    cli = Path(sys.executable).with_name("duckdb")
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1.5"), version.stdout
    sql = ("SELECT count(*) FROM v_facts; "
           "SELECT count(*) FROM dim_document; SELECT count(*) FROM etl_runs;")
    out = subprocess.run([str(cli), "-readonly", "-csv", "-noheader", str(sample_warehouse),
                          "-c", sql], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    facts, docs, runs = (int(v) for v in out.stdout.split())
    with connect(sample_warehouse, read_only=True) as con:
        assert facts == con.execute("SELECT count(*) FROM v_facts").fetchone()[0] > 0
        assert docs > 0 and runs == 1


def _indicator(name_en: str) -> list[dict]:
    return [{"code": "poor_villages", "name_zh": "贫困村", "name_en": name_en, "unit": "个",
             "measure": "count", "min_value": 0, "max_value": 100000}]


REGION_ROWS = [{"code": "620000", "name": "甘肃省", "level": "province", "parent_code": None,
                "province": "甘肃省", "prefecture": None}]


def _names(db: Path) -> list[str]:
    with connect(db, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT name_en FROM dim_indicator").fetchall()]


def _load(db: Path, dimensions: Dimensions) -> None:
    with connect(db) as con:
        ensure_schema(con)
        load_dimensions(con, dimensions)


def test_dimensions_of_a_known_version_are_kept_without_being_built(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    _load(db, Dimensions(lambda: _indicator("Poor villages"), lambda: REGION_ROWS, "v1"))

    def unbuildable() -> list[dict]:
        raise AssertionError("rows of a version the warehouse holds were built again")

    _load(db, Dimensions(unbuildable, unbuildable, "v1"))
    assert _names(db) == ["Poor villages"]
    _load(db, Dimensions(lambda: _indicator("Villages in poverty"), lambda: REGION_ROWS, "v2"))
    assert _names(db) == ["Villages in poverty"]


def test_rows_changed_by_a_load_without_a_version_are_built_again(tmp_path: Path) -> None:
    """A fupin that keeps only the rows' digest may load the same warehouse in between."""
    db = tmp_path / "w.duckdb"
    _load(db, Dimensions(lambda: _indicator("Poor villages"), lambda: REGION_ROWS, "v1"))
    _load(db, Dimensions(lambda: _indicator("Villages in poverty"), lambda: REGION_ROWS))
    assert _names(db) == ["Villages in poverty"]
    _load(db, Dimensions(lambda: _indicator("Poor villages"), lambda: REGION_ROWS, "v1"))
    assert _names(db) == ["Poor villages"]


def test_the_packaged_dimensions_load_the_taxonomy_and_the_gazetteer(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    _load(db, packaged_dimensions())
    with connect(db, read_only=True) as con:
        indicators, regions = con.execute(
            "SELECT (SELECT count(*) FROM dim_indicator), (SELECT count(*) FROM dim_region)"
        ).fetchall()[0]
    assert indicators == len(load_taxonomy()) and regions == len(load_gazetteer().rows)


def test_reads_taken_ahead_of_a_run_are_only_served_from_an_unchanged_warehouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``fupin run`` reads the warehouse for discover while the Prefect API boots; a
    commit in between (another process's load) must be seen, not the earlier read,
    and a warehouse written just now is not read ahead (its clock may not have ticked)."""
    from fupin.tasks import warehouse
    from tests.tiny_warehouse import tiny_warehouse

    db = tiny_warehouse(tmp_path / "fupin.duckdb", "正文", [])
    assert warehouse.read_ahead(db) == {"d1": "d1.html"}
    past = time.time_ns() - 60 * 10**9
    os.utime(db, ns=(past, past))
    warehouse.read_ahead(db)

    def read_again(*_: object, **__: object) -> None:
        raise AssertionError("read again")

    with monkeypatch.context() as patch:  # the reads ahead serve once, without a read
        patch.setattr(warehouse, "_known_pages", read_again)
        patch.setattr(warehouse, "_stored_locations", read_again)
        assert warehouse.known_pages(db)["d1"].sha256 == "abc"
        assert warehouse.stored_locations(db) == {"d1": "d1.html"}
    warehouse.read_ahead(db)
    with warehouse.connect(db) as con:
        con.execute("UPDATE dim_document SET content_sha256 = 'def', location = 'moved.html'")
    assert warehouse.known_pages(db)["d1"].sha256 == "def"
    assert warehouse.stored_locations(db) == {"d1": "moved.html"}
