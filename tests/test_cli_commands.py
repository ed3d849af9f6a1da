"""`fupin` commands that need no flow run: version, sql, export, and arguments refused
before any work. Each runs the installed console script on a real warehouse file."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tiny_warehouse import tiny_warehouse

from fupin.tasks.warehouse import connect

REPO = Path(__file__).resolve().parents[1]
FUPIN = Path(sys.executable).with_name("fupin")
BODY = ("全县建档立卡贫困户从上年的2315户减少到7户，"
        "全年投入各级财政专项扶贫资金1860000元，搬迁群众全部入住新居。")


def fupin(*args: str, stdin: str | None = None,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FUPIN), *args], capture_output=True, text=True, input=stdin,
                          timeout=120, cwd=REPO, env={**os.environ, **(env or {})})


def one_line_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stderr.strip().splitlines()[-1]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A fupin warehouse holding one document and two facts of very different sizes."""
    return tiny_warehouse(tmp_path / "fupin.duckdb", BODY,
                          [("poor_households", 7.0, "households"),
                           ("fiscal_poverty_fund", 1_860_000.0, "yuan")])


def test_version_is_the_installed_distribution() -> None:
    proc = fupin("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"fupin {version('fupin')}"


def test_sql_reads_its_statement_from_a_file_stdin_or_a_named_query(
    warehouse: Path, tmp_path: Path
) -> None:
    statement = "SELECT fact_id, value FROM fact_indicator ORDER BY fact_id"
    query_file = tmp_path / "q.sql"
    query_file.write_text(f"-- two facts\n{statement};\n", encoding="utf-8")
    by_argument = fupin("sql", statement, "--csv", "--db", str(warehouse))
    by_file = fupin("sql", "-f", str(query_file), "--csv", "--db", str(warehouse))
    by_stdin = fupin("sql", "-", "--csv", "--db", str(warehouse), stdin=statement)
    assert by_argument.returncode == by_file.returncode == by_stdin.returncode == 0
    assert by_argument.stdout == by_file.stdout == by_stdin.stdout
    assert list(csv.reader(io.StringIO(by_file.stdout)))[1:] == [["f0", "7.0"],
                                                                ["f1", "1860000.0"]]
    named = fupin("sql", "--query", "quarantined_last_run", "--db", str(warehouse))
    assert named.returncode == 0, named.stderr
    assert named.stdout.splitlines()[0].split(" | ")[0].strip() == "doc_key"


@pytest.mark.parametrize(("args", "stdin", "says"), [
    (("",), None, "no SQL statement given (the argument is empty)"),
    (("  \n",), None, "no SQL statement given (the argument is empty)"),
    (("-",), "", "no SQL statement given (stdin is empty)"),
    (("-q", "no_such_query"), None, "invalid choice: 'no_such_query'"),
    ((), None, "give the SQL once"),
    (("SELECT 1", "-q", "quarantined_last_run"), None, "give the SQL once"),
])
def test_sql_without_exactly_one_statement_is_one_line(
    warehouse: Path, args: tuple[str, ...], stdin: str | None, says: str
) -> None:
    proc = fupin("sql", *args, "--db", str(warehouse), stdin=stdin)
    assert says in one_line_error(proc)


def test_sql_table_right_aligns_numbers(warehouse: Path) -> None:
    proc = fupin("sql", "SELECT indicator, value, NULL::INTEGER AS none FROM fact_indicator "
                 "ORDER BY value", "--db", str(warehouse))
    assert proc.returncode == 0, proc.stderr
    header, _, small, large, count = proc.stdout.splitlines()
    assert [c.strip() for c in header.split(" | ")] == ["indicator", "value", "none"]
    value_column = [line.split(" | ")[1] for line in (header, small, large)]
    assert value_column == ["  value", "      7", "1860000"]
    assert small.startswith("poor_households ")  # text stays left-aligned
    assert count == "(2 rows)"


def test_sql_table_into_a_pipe_keeps_long_text_whole(warehouse: Path) -> None:
    proc = fupin("sql", "SELECT body FROM dim_document", "--db", str(warehouse))
    assert proc.returncode == 0, proc.stderr
    assert len(BODY) > 40 and proc.stdout.splitlines()[2] == BODY


def test_a_long_answer_reaches_a_pipe_whole_and_a_reader_that_stops_early_ends_it_quietly(
        warehouse: Path) -> None:
    """The command leaves without the interpreter's teardown (``fupin.quick_exit``):
    whatever it printed must still be flushed, and its exit status kept."""
    rows = 200_000
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run([str(FUPIN), "sql", f"SELECT range AS n FROM range({rows})", "--db",
                           str(warehouse)], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env=buffered)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == f"({rows} rows)" and lines[-2].strip() == str(rows - 1)
    assert len(lines) == rows + 3
    reader = subprocess.Popen([str(FUPIN), "sql", f"SELECT range FROM range({rows})", "--db",
                               str(warehouse)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              cwd=REPO, env=buffered)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.readline()
    reader.stdout.close()  # like `| head -1`
    assert reader.wait(timeout=120) == 0
    assert reader.stderr.read() == b""
    reader.stderr.close()
    assert one_line_error(fupin("sql", "SELECT 1", "--db", str(warehouse.with_name("none.duckdb"))))


def test_a_quick_exit_flushes_what_was_printed_and_keeps_the_exit_status() -> None:
    """Armed, the last exit handler ends the process without the interpreter's teardown;
    output still buffered (stdout into a pipe is) must be written first. Unarmed, an
    uncaught error ends the process as usual."""
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    # A handler registered before fupin is imported would run after the quick exit's
    # (it must not get to run); one registered after runs before it. Neither ends its
    # line, so what they write stays buffered until the quick exit flushes it.
    armed = ("import atexit, sys\n"
             "atexit.register(lambda: sys.stderr.write('too late'))\n"
             "from fupin import quick_exit\n"
             "atexit.register(lambda: sys.stderr.write('in time'))\n"
             "print('x' * 70000)\nquick_exit.arm(3)\nsys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", armed], capture_output=True, text=True,
                          timeout=60, env=buffered)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "x" * 70000 + "\n", "in time")
    unarmed = "from fupin import quick_exit\nprint('partial')\nraise SystemError('boom')\n"
    proc = subprocess.run([sys.executable, "-c", unarmed], capture_output=True, text=True,
                          timeout=60, env=buffered)
    assert proc.returncode == 1 and proc.stdout == "partial\n"
    assert "SystemError: boom" in proc.stderr


def test_export_writes_a_table_or_view_in_each_format(warehouse: Path, tmp_path: Path) -> None:
    jsonl = fupin("export", "fact_indicator", "--db", str(warehouse))
    assert jsonl.returncode == 0, jsonl.stderr
    assert sorted(json.loads(line)["value"] for line in jsonl.stdout.splitlines()) == [
        7.0, 1_860_000.0]
    out = tmp_path / "facts.csv"
    proc = fupin("export", "facts", "--format", "csv", "-o", str(out), "--db", str(warehouse))
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["doc_key"], r["indicator"]) for r in rows] == [
        ("d1", "poor_households"), ("d1", "fiscal_poverty_fund")]
    parquet = tmp_path / "region.parquet"
    proc = fupin("export", "dim_region", "--format", "parquet", "-o", str(parquet),
                 "--db", str(warehouse))
    assert proc.returncode == 0, proc.stderr
    with connect(warehouse, read_only=True) as con:
        regions = con.execute("SELECT count(*) FROM dim_region").fetchone()[0]
    assert pq.read_table(parquet).num_rows == regions


def test_export_never_writes_the_warehouse(warehouse: Path) -> None:
    before = warehouse.read_bytes()
    for target in (str(warehouse), str(warehouse.parent / "." / warehouse.name)):
        proc = fupin("export", "fact_indicator", "-o", target, "--db", str(warehouse))
        assert "is the warehouse itself" in one_line_error(proc)
    assert warehouse.read_bytes() == before
    with connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM fact_indicator").fetchone()[0] == 2


@pytest.mark.parametrize(("args", "says"), [
    (("no_such_table",), "has no table or view 'no_such_table'"),
    (('fact_indicator"; DROP TABLE fact_indicator; --',), "has no table or view"),
    (("fact_indicator", "--format", "parquet"), "--format parquet needs -o FILE"),
])
def test_export_refusals_are_one_line(warehouse: Path, args: tuple[str, ...], says: str) -> None:
    proc = fupin("export", *args, "--db", str(warehouse))
    assert says in one_line_error(proc)
    with connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM fact_indicator").fetchone()[0] == 2


@pytest.mark.parametrize("runner", ["foo", "processes:x", "threads:0", "dask:"])
def test_an_unknown_task_runner_is_refused_before_any_work(tmp_path: Path, runner: str) -> None:
    db = tmp_path / "never.duckdb"
    proc = fupin("run", str(REPO / "samples" / "pages"), "--db", str(db),
                 "--task-runner", runner)
    assert "argument --task-runner" in one_line_error(proc)
    assert not db.exists()


def test_an_unknown_task_runner_setting_names_the_variable(tmp_path: Path) -> None:
    db = tmp_path / "never.duckdb"
    proc = fupin("run", str(REPO / "samples" / "pages"), "--db", str(db),
                 env={"FUPIN_TASK_RUNNER": "spark"})
    assert one_line_error(proc).startswith("fupin: FUPIN_TASK_RUNNER='spark': unknown task runner")
    assert not db.exists()


@pytest.mark.parametrize(("content", "says"), [
    (b'{"seed": "a", "indicator": "poor_households", "value": 3}\n{"seed": "b"\n',
     ":2: bad gold fact"),
    (b'{"seed": "a", "indicator": "poor_households"}\n', ":1: bad gold fact"),
    (b"\xff\xfe{}", "not UTF-8 text (byte 0xff at offset 0)"),
    (b"\n\n", "no gold facts in it"),
])
def test_eval_with_a_bad_gold_file_is_one_line(tmp_path: Path, content: bytes,
                                               says: str) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_bytes(content)
    proc = fupin("eval", "--gold", str(gold), str(REPO / "samples" / "pages"))
    line = one_line_error(proc)
    assert line.startswith(f"fupin eval: {gold}") and says in line


def test_every_subcommand_describes_itself_with_an_example() -> None:
    top = fupin("--help")
    commands = re.search(r"\{([a-z,]+)\}", top.stdout).group(1).split(",")
    assert len(commands) >= 8
    for command in commands:
        proc = fupin(command, "--help")
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout
        assert re.search(r"^examples?:\n  (\S+=\S+ )?fupin ", text, re.MULTILINE), command
        assert text.count("\n\n") >= 3, text  # usage, description, arguments, example
