"""The warehouse and the commands that read it, against hostile or broken input.

Every test drives the installed `fupin` command on real DuckDB files. Where the point
is that nothing was lost, the file's sha256 is compared before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from tiny_warehouse import tiny_warehouse

from fupin.tasks.warehouse import connect

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"
FUPIN = Path(sys.executable).with_name("fupin")


def fupin(*args: str, env: dict[str, str] | None = None,
          api: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    if api:
        full_env["PREFECT_API_URL"] = api
    return subprocess.run([str(FUPIN), *args], capture_output=True, text=True, env=full_env,
                          cwd=REPO, timeout=600)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(proc: subprocess.CompletedProcess[str], *names: str) -> str:
    """The command failed with exactly one line on stderr that names each of ``names``."""
    assert proc.returncode != 0, proc.stdout
    err = proc.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for name in names:
        assert name in err, err
    return err


def snapshot(db: Path) -> dict[str, object]:
    """Every table's columns and rows, to compare a warehouse's content before and after."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out: dict[str, object] = {}
        for (table,) in con.execute(
                "SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "ORDER BY column_index", [table]).fetchall()]
            rows = con.execute(f"SELECT md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)), "
                               f"count(*) FROM {table} t").fetchall()
            out[table] = (columns, rows)
        return out
    finally:
        con.close()


TINY_RATE = 1e-10
BIG_FUND = 1_860_000_000.0


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A small fupin warehouse: one document, two facts (a tiny rate and a large sum)."""
    return tiny_warehouse(tmp_path / "fupin.duckdb", "贫困发生率降至很低。",
                          [("poverty_incidence", TINY_RATE, "percent"),
                           ("fiscal_poverty_fund", BIG_FUND, "yuan")])


# D1: the query connection reaches no file but the warehouse.

def _file_statements(db: Path, tmp: Path) -> list[str]:
    return [
        f"COPY (SELECT 'x') TO '{db}' (FORMAT csv)",
        f"COPY (SELECT 'x') TO '{tmp / 'out.csv'}' (FORMAT csv)",
        f"EXPORT DATABASE '{tmp / 'dump'}'",
        f"ATTACH '{tmp / 'other.duckdb'}' AS other (READ_ONLY)",
        f"SELECT * FROM read_blob('{tmp / 'secret.txt'}')",
        f"SELECT * FROM read_csv('{tmp / 'secret.txt'}')",
        f"SELECT * FROM read_text('{tmp / 'secret.txt'}')",
        f"SELECT * FROM glob('{tmp}/*')",
        # Not open to begin with; locked, so a query cannot turn it back on either.
        "SET enable_external_access = true",
    ]


@pytest.mark.parametrize("index", range(9))
def test_sql_cannot_write_or_read_any_other_file(warehouse: Path, tmp_path: Path,
                                                 index: int) -> None:
    (tmp_path / "secret.txt").write_text("private words\n")
    other = duckdb.connect(str(tmp_path / "other.duckdb"))
    other.execute("CREATE TABLE notes AS SELECT 'private words' AS note")
    other.close()
    statement = _file_statements(warehouse, tmp_path)[index]
    before = sha256(warehouse)
    listing = sorted(p.name for p in tmp_path.iterdir())
    proc = fupin("sql", statement, "--db", str(warehouse))
    one_line_error(proc, "fupin sql")
    assert "private words" not in proc.stdout and "secret.txt" not in proc.stdout
    assert sha256(warehouse) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


# D27, D21: one statement at a time; an empty one is refused.

def test_sql_refuses_several_statements_instead_of_printing_the_last(warehouse: Path) -> None:
    proc = fupin("sql", "SELECT 1 AS a; SELECT 2 AS b", "--db", str(warehouse))
    one_line_error(proc, "one statement")
    assert proc.stdout == ""
    single = fupin("sql", "SELECT 7 AS a;", "--db", str(warehouse), "--json")
    assert single.returncode == 0, single.stderr
    assert json.loads(single.stdout) == [{"a": 7}]


@pytest.mark.parametrize("query", ["", "   ", "-- only a comment"])
def test_sql_without_a_statement_is_one_line(warehouse: Path, query: str) -> None:
    one_line_error(fupin("sql", query, "--db", str(warehouse)), "no SQL statement")


def test_small_and_large_values_print_in_full(warehouse: Path) -> None:
    query = "SELECT indicator, value FROM fact_indicator ORDER BY ordinal"
    table = fupin("sql", query, "--db", str(warehouse))
    assert table.returncode == 0, table.stderr
    assert "1e-10" in table.stdout and "1860000000" in table.stdout
    rows = json.loads(fupin("sql", query, "--db", str(warehouse), "--json").stdout)
    assert [r["value"] for r in rows] == [TINY_RATE, BIG_FUND]
    csv_lines = fupin("sql", query, "--db", str(warehouse), "--csv").stdout.splitlines()
    assert [float(line.split(",")[1]) for line in csv_lines[1:]] == [TINY_RATE, BIG_FUND]


def test_extraction_keeps_a_tiny_rate() -> None:
    from fupin.tasks.extract import extract

    body = "截至2019年底,陇西县贫困发生率降至0.0000000001%,全县累计减少贫困人口13.6万人。"
    facts = {f.indicator: f.value for f in extract(body).facts}
    assert facts["poverty_incidence"] == TINY_RATE
    assert facts["lifted_population"] == 136_000


# D22 and D3: files and settings fupin cannot use are one line, before any work.

def _foreign(db: Path) -> Path:
    """Another program's DuckDB file that happens to use two of fupin's table names."""
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE fact_indicator (id INTEGER NOT NULL, note VARCHAR NOT NULL)")
    con.execute("INSERT INTO fact_indicator VALUES (1, 'kept as it is')")
    con.execute("CREATE TABLE etl_runs (job VARCHAR NOT NULL, ok BOOLEAN)")
    con.execute("INSERT INTO etl_runs VALUES ('nightly', true)")
    con.close()
    return db


def _damaged(db: Path) -> Path:
    db.write_bytes(b"DUCK" + bytes(range(256)) * 40)
    return db


BAD_FILES = {
    "foreign": (_foreign, "not a fupin warehouse"),
    "damaged": (_damaged, "not a DuckDB database"),
    "directory": (lambda p: (p.mkdir(), p)[1], "is a directory"),
}
READERS = {
    "sql": ("sql", "SELECT 1"),
    "export": ("export", "facts"),
    "report": ("report", "--out", "{tmp}/report.html"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
@pytest.mark.parametrize("command", sorted(READERS))
def test_readers_refuse_a_file_that_is_not_a_warehouse(tmp_path: Path, kind: str,
                                                       command: str) -> None:
    make, words = BAD_FILES[kind]
    db = make(tmp_path / "given.duckdb")
    before = sha256(db) if db.is_file() else None
    args = [a.format(tmp=tmp_path) for a in READERS[command]]
    one_line_error(fupin(*args, "--db", str(db)), str(db), words)
    assert (sha256(db) if db.is_file() else None) == before
    assert not (tmp_path / "report.html").exists()


def test_report_on_a_directory_is_one_line_and_leaves_no_tmp(warehouse: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    one_line_error(fupin("report", "--db", str(warehouse), "--out", str(out)), str(out))
    assert list(out.iterdir()) == []
    assert not [p for p in tmp_path.rglob("*.tmp")]


@pytest.mark.parametrize(("variable", "value"), [
    ("FUPIN_DUCKDB_MEMORY", "abc"), ("FUPIN_LOCK_WAIT", "abc"), ("FUPIN_LOCK_WAIT", "-5"),
    ("FUPIN_WORKERS", "abc"), ("FUPIN_EXTRACT_TIMEOUT", "abc"), ("FUPIN_EXTRACT_TIMEOUT", "0"),
    ("FUPIN_BATCH_SIZE", "many"), ("FUPIN_TASK_RUNNER", "spark"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(warehouse: Path, variable: str,
                                                       value: str) -> None:
    one_line_error(fupin("sql", "SELECT 1", "--db", str(warehouse), env={variable: value}),
                   variable)


@pytest.mark.slow
@pytest.mark.parametrize(("variable", "value"), [
    ("FUPIN_DUCKDB_MEMORY", "abc"), ("FUPIN_LOCK_WAIT", "abc"), ("FUPIN_WORKERS", "abc"),
])
def test_a_run_with_a_bad_setting_stops_before_any_work(
    prefect_server: str, tmp_path: Path, variable: str, value: str
) -> None:
    db = tmp_path / "fupin.duckdb"
    proc = fupin("run", str(SAMPLES), "--db", str(db), env={variable: value},
                 api=prefect_server)
    one_line_error(proc, variable)
    assert list(tmp_path.iterdir()) == []  # no warehouse, no data docs


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_a_run_refuses_a_file_that_is_not_a_warehouse(
    prefect_server: str, tmp_path: Path, kind: str
) -> None:
    """The foreign file once gained 22 and 14 columns from a run that then failed."""
    make, words = BAD_FILES[kind]
    db = make(tmp_path / "given.duckdb")
    before = sha256(db) if db.is_file() else None
    proc = fupin("run", str(SAMPLES / "longxi_2019_exit.html"), "--db", str(db),
                 api=prefect_server)
    one_line_error(proc, str(db), words)
    assert (sha256(db) if db.is_file() else None) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["given.duckdb"]


# Small or read-only file systems: real mounts, so root only.

@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    mounted: list[Path] = []

    def make(name: str, options: str) -> Path:
        if os.geteuid() != 0 or not shutil.which("mount"):
            pytest.skip("mounting a small tmpfs needs root")
        point = tmp_path / name
        point.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.mark.slow
def test_a_run_into_a_read_only_folder_stops_before_any_work(
    prefect_server: str, mount: Callable[[str, str], Path]
) -> None:
    folder = mount("ro", "size=1m,ro")
    db = folder / "fupin.duckdb"
    proc = fupin("run", str(SAMPLES), "--db", str(db), api=prefect_server)
    one_line_error(proc, str(db), "Read-only file system")


@pytest.fixture(scope="module")
def loaded(prefect_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("loaded") / "fupin.duckdb"
    proc = fupin("run", str(SAMPLES), "--db", str(db), api=prefect_server)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return db


@pytest.fixture(scope="module")
def synthetic_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    proc = fupin("synth", "--pages", "200", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out / "pages"


@pytest.mark.slow
def test_a_full_disk_at_commit_is_reported_and_the_warehouse_keeps_its_last_run(
    prefect_server: str, loaded: Path, synthetic_pages: Path, mount: Callable[[str, str], Path],
    tmp_path: Path
) -> None:
    """The disk fills while the load writes its log: the error says so (not "cannot
    rollback"), and the warehouse, one column short like an older version's, still
    holds exactly what it held, without the column the failed load would have added."""
    size_kib = loaded.stat().st_size // 1024 + 1700
    folder = mount("small", f"size={size_kib}k")
    db = folder / "fupin.duckdb"
    shutil.copyfile(loaded, db)
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE dim_document DROP COLUMN author")
    con.close()
    (tmp_path / "docs").mkdir()
    (folder / "data_docs").symlink_to(tmp_path / "docs")  # only the warehouse fills the disk
    before, content = sha256(db), snapshot(db)
    proc = fupin("run", str(synthetic_pages), "--db", str(db), "-q", api=prefect_server)
    err = one_line_error(proc, str(db), "No space left on device")
    assert "cannot rollback" not in err
    assert snapshot(db) == content
    assert sha256(db) == before


@pytest.mark.slow
def test_a_run_upgrades_a_warehouse_an_older_version_loaded(
    prefect_server: str, loaded: Path, tmp_path: Path
) -> None:
    db = tmp_path / "older.duckdb"
    shutil.copyfile(loaded, db)
    con = duckdb.connect(str(db))
    for column in ("etag", "last_modified"):
        con.execute(f"ALTER TABLE raw_pages DROP COLUMN {column}")
    con.close()
    proc = fupin("run", str(SAMPLES), "--db", str(db), "--json", api=prefect_server)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["pages_unchanged"] == summary["pages_in"] == 3
    assert {"etag", "last_modified"} <= set(snapshot(db)["raw_pages"][0])


# D5: a known page edited into a version that is rejected.

@pytest.mark.slow
def test_a_page_edited_into_a_rejected_version_withdraws_its_facts(
    prefect_server: str, tmp_path: Path
) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("longxi_2019_exit.html", "xiji_2016_briefing.html"):
        shutil.copy(SAMPLES / name, pages / name)
    db = tmp_path / "fupin.duckdb"
    # documents are keyed by the folder named and the path inside it
    longxi, xiji = "pages/longxi_2019_exit.html", "pages/xiji_2016_briefing.html"

    def run() -> dict:
        proc = fupin("run", str(pages), "--db", str(db), "--json", api=prefect_server)
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        # 4 (README: its exit status table) for the run whose edited page is rejected
        assert proc.returncode == (4 if summary["pages_rejected"] else 0), proc.stderr[-3000:]
        assert summary["pages_in"] == (summary["pages_unchanged"] + summary["documents_loaded"]
                                       + summary["pages_rejected"])
        assert summary["facts_candidate"] == (summary["facts_loaded"]
                                              + summary["facts_quarantined"])
        return summary

    def query(sql: str) -> list[dict]:
        proc = fupin("sql", sql, "--db", str(db), "--json")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def current_facts() -> dict[str, int]:
        rows = query("SELECT doc_key, count(*) AS n FROM v_facts GROUP BY 1")
        return {r["doc_key"]: r["n"] for r in rows}

    run()
    loaded_facts = current_facts()
    assert loaded_facts[longxi] > 0

    (pages / "longxi_2019_exit.html").write_text("  \n\n  ", encoding="utf-8")
    second = run()
    assert second["pages_rejected"] == 1 and second["documents_loaded"] == 0
    assert current_facts() == {xiji: loaded_facts[xiji]}
    assert query(f"SELECT * FROM v_indicator_best WHERE doc_key = '{longxi}'") == []
    [withdrawn] = query("SELECT doc_key, withdrawn_run_id, withdrawn_reason, detail, "
                        "facts_withdrawn FROM v_withdrawn_documents")
    assert withdrawn["doc_key"] == longxi
    assert withdrawn["withdrawn_reason"] == "clean: empty" and withdrawn["detail"]
    assert withdrawn["facts_withdrawn"] == loaded_facts[longxi]
    [rejection] = query("SELECT run_id, stage, reason FROM rejected_pages "
                        f"WHERE doc_key = '{longxi}'")
    assert rejection["run_id"] == withdrawn["withdrawn_run_id"]

    # The page comes back as it first was: it loads again rather than counting as unchanged.
    shutil.copy(SAMPLES / "longxi_2019_exit.html", pages / "longxi_2019_exit.html")
    third = run()
    assert third["documents_loaded"] == 1
    assert current_facts() == loaded_facts
    assert query("SELECT * FROM v_withdrawn_documents") == []


# D8: the warehouse and its log are private to their owner.

def test_a_new_warehouse_and_its_log_are_private(tmp_path: Path) -> None:
    db = tmp_path / "fupin.duckdb"
    previous = os.umask(0o022)
    try:
        with connect(db) as con:
            con.execute("CREATE TABLE t (a INTEGER)")
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO t VALUES (1)")
            con.execute("COMMIT")
            wal = db.with_name(db.name + ".wal")
            modes = {p.name: p.stat().st_mode & 0o777 for p in (db, wal) if p.exists()}
        assert os.umask(0o022) == 0o022  # the process's umask is back once it is closed
    finally:
        os.umask(previous)
    assert modes and set(modes.values()) == {0o600}, modes


@pytest.mark.slow
def test_fupin_run_creates_a_private_warehouse(loaded: Path) -> None:
    assert loaded.stat().st_mode & 0o777 == 0o600
