"""What an operator sees of a `fupin run`: its id and flow-run link at the start,
progress on stderr while it goes, the reasons of its rejections at the end, and an exit
code a shell can act on. Real `fupin run` subprocesses, a real HTTP server, a real
terminal (a pty) for the live display."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest
from http_server import Reply, always, serve

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"
FUPIN = Path(sys.executable).with_name("fupin")
PARTIAL, NOTHING_LOADED = 4, 5  # README: its exit status table

pytestmark = pytest.mark.slow


def etl_run(db: Path, run_id: str) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT run_id, seconds FROM etl_runs WHERE run_id = ?",
                           [run_id]).fetchone()


def run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """`fupin run` with stderr on a pty (as in a terminal) and stdout on a pipe."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(FUPIN), "run", *args], stdout=subprocess.PIPE,
                            stderr=follower, text=True, cwd=REPO, env=env)
    os.close(follower)
    screen = bytearray()

    def read_screen() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the process and its children closed the terminal
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=read_screen, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=600)
    reader.join(timeout=30)
    os.close(leader)
    return proc.returncode, out, screen.decode("utf-8", "replace")


def test_a_run_with_rejections_says_so_from_start_to_exit_code(
    prefect_server: str, tmp_path: Path
) -> None:
    db = tmp_path / "fupin.duckdb"
    missing = tmp_path / "gone" / "report.html"
    with serve({"/news/1.html": always(Reply(404, b"not here"))}) as site:
        url = site.url("/news/1.html")
        code, out, screen = run_on_a_terminal(
            [str(SAMPLES), str(missing), url, "--db", str(db), "--batch-size", "1"],
            env={**os.environ, "PREFECT_API_URL": prefect_server})
    assert code == PARTIAL, out + screen[-3000:]
    lines = out.splitlines()
    # At the start: the run id, then the flow run's page on the configured server.
    run_id = re.fullmatch(rf"run (\S+) → {re.escape(str(db))}", lines[0]).group(1)
    flow_run = re.fullmatch(r"flow run: (\S+)/runs/flow-run/([0-9a-f-]{36})", lines[1])
    assert flow_run and flow_run.group(1) == prefect_server.removesuffix("/api")
    assert etl_run(db, run_id)[0] == run_id
    # At the end: every rejection grouped by reason with where it came from (the URL).
    assert "pages: 5 in = 0 unchanged + 3 loaded + 2 rejected" in lines
    rejected = lines[lines.index("rejected pages by reason:") + 1:]
    assert any("not_found" in line and str(missing) in line for line in rejected[:2])
    assert any(url in line for line in rejected[:2])
    quarantined = lines[lines.index("quarantined facts by expectation:") + 1]
    assert "value_not_above_indicator_max" in quarantined and "112.5" in quarantined
    # Meanwhile, on the terminal: the batches as they are fetched and extracted.
    assert "Traceback" not in screen
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)  # colours and cursor moves
    assert re.search(r"extracted .* 4/4 batches 4/4 pages [\d.]+ pages/s", text)  # URL: a batch
    for stage in ("fetched", "cleaned", "validated"):
        assert re.search(rf"{stage} .* 4/4 batches", text), stage


def test_a_run_off_a_terminal_is_quiet_and_times_its_start_up(
    tmp_path: Path
) -> None:
    db = tmp_path / "fupin.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # temporary API
    proc = subprocess.run(
        [str(FUPIN), "run", str(SAMPLES), str(tmp_path / "none.html"), "--db", str(db),
         "--batch-size", "1", "--json"],
        capture_output=True, text=True, timeout=600, cwd=REPO, env=env)
    assert proc.returncode == PARTIAL, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert len(proc.stdout.splitlines()) == 1  # with --json, stdout is the JSON alone
    assert summary["exit_code"] == PARTIAL
    assert [g["reason"] for g in summary["rejected_by_reason"]] == ["discover/not_found"]
    assert summary["rejected_by_reason"][0]["examples"] == [str(tmp_path / "none.html")]
    # The printed time is the whole command's: more than the flow's own, which starts
    # after the API server has booted.
    run_id, flow_seconds = etl_run(db, summary["run_id"])
    assert summary["seconds"] > flow_seconds
    # stderr is a log here: the run id, and no progress display.
    assert proc.stderr.splitlines() == [f"run {run_id} → {db}"], proc.stderr[-3000:]
    assert "flow run:" not in proc.stderr  # a temporary API has no UI to link to


def test_a_run_that_loads_nothing_has_its_own_exit_code(tmp_path: Path) -> None:
    db = tmp_path / "fupin.duckdb"
    proc = subprocess.run(
        [str(FUPIN), "run", str(tmp_path / "a.html"), str(tmp_path / "b.html"), "--db",
         str(db), "-q"], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == NOTHING_LOADED, proc.stderr[-3000:]
    assert "pages: 2 in = 0 unchanged + 0 loaded + 2 rejected" in proc.stdout
    assert re.search(r"discover/not_found\s+2\s+\S+a\.html, \S+b\.html", proc.stdout)


def test_a_run_on_a_busy_warehouse_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "fupin.duckdb"
    duckdb.connect(str(db)).close()  # an empty DuckDB file: a new warehouse
    writer = duckdb.connect(str(db))  # this process holds the write lock throughout
    try:
        proc = subprocess.run(
            [str(FUPIN), "run", str(SAMPLES), "--db", str(db)], capture_output=True,
            text=True, timeout=600, cwd=REPO, env={**os.environ, "FUPIN_LOCK_WAIT": "1"})
    finally:
        writer.close()
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert proc.stderr.splitlines() == [
        f"fupin: the warehouse {db} is being written by another process; waited 1s. "
        "Try again when that run has finished."]


def test_batch_log_lines_reach_the_flow_run_but_not_the_terminal_unless_asked(
    prefect_server: str, prefect_api, tmp_path: Path
) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    quiet = subprocess.run([str(FUPIN), "run", str(SAMPLES), "--db", str(tmp_path / "a.duckdb"),
                            "--batch-size", "1"], capture_output=True, text=True, cwd=REPO,
                           env=env, timeout=600)  # fmt: skip
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert "INFO" not in quiet.stderr
    flow_run = re.search(r"flow run: \S+/runs/flow-run/([0-9a-f-]{36})", quiet.stdout).group(1)
    logs = prefect_api._post("logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run]}},
                                             "limit": 200})  # fmt: skip
    messages = [entry["message"] for entry in logs]
    for batch in range(3):
        for stage in ("fetch", "clean", "extract"):
            assert any(m.startswith(f"batch {batch} {stage}: ") for m in messages), messages

    loud = subprocess.run([str(FUPIN), "run", str(SAMPLES), "--db", str(tmp_path / "b.duckdb"),
                           "-v"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert loud.returncode == 0, loud.stderr[-3000:]
    assert re.search(r"\| INFO +\| .*batch 0 extract: ", loud.stderr)


def test_the_runner_workers_and_batch_size_of_a_run_are_its_flow_runs_parameters(
    prefect_server: str, prefect_api, tmp_path: Path
) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "FUPIN_BATCH_SIZE": "1"}
    proc = subprocess.run([str(FUPIN), "run", str(SAMPLES), "--db", str(tmp_path / "w.duckdb"),
                           "--task-runner", "threads:3", "--workers", "1"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    flow_run = re.search(r"flow run: \S+/runs/flow-run/([0-9a-f-]{36})", proc.stdout).group(1)
    parameters = prefect_api.flow_run(flow_run)["parameters"]
    assert {k: parameters[k] for k in ("task_runner", "workers", "batch_size")} == {
        "task_runner": "threads:3", "workers": 1, "batch_size": 1}
    fetches = {t["name"] for t in prefect_api.task_runs(flow_run) if t["name"][:6] == "fetch-"}
    assert fetches == {"fetch-batch-0", "fetch-batch-1", "fetch-batch-2"}  # one page each


def test_a_first_run_on_a_terminal_has_prefect_telemetry_off(
    tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PREFECT_HOME", "DO_NOT_TRACK", "PREFECT_API_URL"}}
    env["FUPIN_HOME"] = str(tmp_path / "home")  # a first run: nothing shown before
    code, _, screen = run_on_a_terminal(
        [str(SAMPLES / "longxi_2019_exit.html"), "--db", str(tmp_path / "w.duckdb")], env=env)
    assert code == 0, screen[-3000:]
    # Prefect shows this notice on a terminal's first run unless telemetry is off
    assert "usage data" not in screen and "telemetry" not in screen.lower()
