"""The run's processes (workers, validation process) and the run-scoped Prefect API."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import sqlite3
import subprocess
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
from test_signals import run_processes, wait_until_gone
from test_task_runners import SAMPLES, contents

from fupin.settings import collector_paused
from fupin.tasks.pipeline.runtime import LOOK_AHEAD_PAGES, Runtime, processes_ahead

REPO = Path(__file__).resolve().parents[1]
FUPIN = REPO / ".venv" / "bin" / "fupin"


def flow_run_events(prefect_db: Path) -> set[str]:
    """The names of the flow-run events a temporary API stored (its SQLite database)."""
    with closing(sqlite3.connect(prefect_db)) as con:
        rows = con.execute("SELECT DISTINCT event FROM events "
                           "WHERE event LIKE 'prefect.flow-run.%'").fetchall()
    return {event for (event,) in rows}


def children() -> set[int]:
    """The live processes this test process started."""
    return {p.pid for p in multiprocessing.active_children()}


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_stages_run_on_worker_processes_once_the_run_has_batches_for_them() -> None:
    with Runtime(2) as runtime:
        assert runtime.call(os.getpid) == os.getpid()  # nothing runs elsewhere before prepare
        runtime.prepare(batches=3, new_pages=False, pages=600)
        inside = {runtime.call(os.getpid) for _ in range(4)}
    assert os.getpid() not in inside and 1 <= len(inside) <= 2
    assert all(gone(pid) for pid in inside)  # closed: the workers have ended


def test_the_workers_end_once_every_batch_is_extracted_and_the_rest_runs_here() -> None:
    with Runtime(2) as runtime:
        runtime.prepare(batches=3, new_pages=False, pages=600)
        inside = {runtime.call(os.getpid) for _ in range(4)}
        validator = runtime.validate(os.getpid)
        runtime.end_stage_workers()
        assert all(gone(pid) for pid in inside)
        assert runtime.call(os.getpid) == os.getpid()  # a stage asked for late runs here
        assert runtime.validate(os.getpid) == validator  # validation goes on where it was
        runtime.end_stage_workers()  # twice is harmless
    assert os.getpid() not in inside and gone(validator)


@pytest.mark.parametrize(("workers", "batches", "pages"), [(1, 5, 1000), (4, 1, 200), (2, 3, 15)])
def test_one_worker_one_batch_or_few_pages_mean_this_process(
    workers: int, batches: int, pages: int,
) -> None:
    """A worker's start would cost more than a few pages' clean and extract."""
    before = children()
    with Runtime(workers) as runtime:
        runtime.prepare(batches, new_pages=False, pages=pages)
        assert runtime.call(os.getpid) == os.getpid()
        assert children() == before


def test_new_pages_start_the_validation_process_at_once_and_it_is_reused() -> None:
    before = children()
    with Runtime(0) as runtime:  # 0: the stages run elsewhere, nothing to warm here
        runtime.prepare(batches=2, new_pages=True, pages=400)
        started = children() - before
        first = runtime.validate(os.getpid)
        assert runtime.validate(os.getpid) == first != os.getpid()
        assert started == {first}
    assert gone(first)


def test_a_run_over_known_pages_starts_no_process_until_it_has_rows_to_validate() -> None:
    before = children()
    with Runtime(2) as runtime:
        runtime.prepare(batches=3, new_pages=False, pages=600)
        assert children() == before
        checked_in = runtime.validate(os.getpid)  # a page that changed: validated all the same
        assert checked_in != os.getpid()


def test_a_validation_process_started_before_the_flow_is_the_one_the_run_uses() -> None:
    before = children()
    with processes_ahead(True, 0, None):
        ahead = children() - before
        with Runtime(0) as runtime:
            runtime.prepare(batches=1, new_pages=True, pages=1)
            assert {runtime.validate(os.getpid)} == ahead
            assert children() - before == ahead  # no second one
    assert len(ahead) == 1 and all(gone(pid) for pid in ahead)


def test_a_validation_process_started_ahead_and_never_needed_ends_with_the_run() -> None:
    before = children()
    with processes_ahead(True, 0, None):
        ahead = children() - before
        with Runtime(2) as runtime:
            runtime.prepare(batches=0, new_pages=False, pages=0)  # no page was found
    assert len(ahead) == 1 and all(gone(pid) for pid in ahead)
    with processes_ahead(False, 2, 1):  # a warehouse that exists: nothing known yet
        assert children() == before


_WARMED_AHEAD = """
import threading
from fupin.tasks.extract import segment
from fupin.tasks.pipeline.runtime import processes_ahead
with processes_ahead(True, 2, {pages}):
    for thread in threading.enumerate():
        if thread.name == "fupin-warm-up":
            thread.join()
print(segment._READY)
"""


@pytest.mark.parametrize(("pages", "warmed"), [(1, "True"), (LOOK_AHEAD_PAGES, "False"),
                                               (None, "False")])
def test_a_new_warehouse_run_warms_the_stages_here_only_when_they_will_run_here(
    pages: int | None, warmed: str,
) -> None:
    """A few pages run their stages in the flow's process, which loads jieba while the
    API boots; more (or an unknown number) go to workers, which load it themselves."""
    out = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c",
                          _WARMED_AHEAD.format(pages=pages)], cwd=REPO,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == warmed


def _where_it_runs(runtime: Runtime) -> tuple[int, int, int]:
    return os.getpid(), runtime.call(os.getpid), runtime.validate(os.getpid)


def test_a_runtime_sent_to_another_process_runs_everything_there() -> None:
    """As on a Dask worker or a process-pool task: that process starts nothing of its own."""
    with Runtime(2) as runtime:
        runtime.prepare(batches=3, new_pages=False, pages=600)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=spawn) as other:
            there, called, validated = other.submit(_where_it_runs, runtime).result()
    assert there != os.getpid() and called == validated == there


_FLOW_PROCESS = """
import sys
import fupin.flows.etl
from fupin.tasks.acquire.sources import expand_sources
from fupin.tasks.pipeline.runtime import Runtime
from fupin.tasks.pipeline.stages import fetch_stage, plan_batches
from fupin.tasks.pipeline.staging import BatchRef
from fupin.tasks.pipeline.validation_stage import validate_batches
with Runtime(2) as runtime:  # as the flow makes it, before discover
    refs = [fetch_stage(ref) for ref in
            plan_batches(expand_sources([{pages!r}]), {{}}, {run_dir!r}, 5)]
    validate_batches([BatchRef(9, {empty!r})])
print(sorted({{"great_expectations", "scipy", "pandas"}} & set(sys.modules)), len(refs))
"""


def test_the_flows_process_leaves_great_expectations_and_pandas_to_the_validation_process(
    tmp_path: Path,
) -> None:
    """The flow's modules, its batches written and fetched, and a group with nothing new
    (which the flow validates itself): GE and pandas are the validation process's memory."""
    (tmp_path / "empty").mkdir()
    probe = _FLOW_PROCESS.format(pages=str(SAMPLES), run_dir=str(tmp_path / "run"),
                                 empty=str(tmp_path / "empty"))
    out = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", probe], cwd=REPO,
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "1"]


def test_the_collector_pauses_only_while_a_process_boots_and_comes_back_as_it_was() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
    with Runtime(2) as runtime:  # on again once warm, in every process the run starts
        runtime.prepare(batches=2, new_pages=True, pages=400)
        assert runtime.call(os.getpid) != os.getpid()
        assert runtime.call(gc.isenabled) and runtime.validate(gc.isenabled)


def test_processes_a_run_starts_get_the_lean_allocators_unless_the_user_chose() -> None:
    probe = ("import os; from fupin.settings import configure_environment; "
             "configure_environment(); "
             "print(os.environ['MALLOC_ARENA_MAX'], os.environ['ARROW_DEFAULT_MEMORY_POOL'])")
    python = str(REPO / ".venv" / "bin" / "python")
    env = {k: v for k, v in os.environ.items()
           if k not in ("MALLOC_ARENA_MAX", "ARROW_DEFAULT_MEMORY_POOL")}
    lean = subprocess.run([python, "-c", probe], cwd=REPO, env=env,
                          capture_output=True, text=True, check=True)
    assert lean.stdout.split() == ["2", "system"]
    chosen = subprocess.run([python, "-c", probe], cwd=REPO,
                            env={**env, "MALLOC_ARENA_MAX": "8"},
                            capture_output=True, text=True, check=True)
    assert chosen.stdout.split() == ["8", "system"]


@pytest.mark.slow
def test_worker_processes_build_the_same_warehouse_as_one_process(
    prefect_server: str, tmp_path: Path
) -> None:
    from bench.synth import generate_corpus
    from fupin.flows.etl import etl

    generate_corpus(tmp_path / "corpus", 200, seed=3)  # enough pages for two workers
    sources = [str(SAMPLES), str(tmp_path / "corpus" / "pages")]
    results = {}
    for n in (1, 2):
        db = tmp_path / f"workers-{n}.duckdb"
        summary = etl(sources=sources, db=str(db), batch_size=100, workers=n)
        assert summary.counts.documents_loaded == 203
        results[n] = contents(db)
    assert results[1]["fact_indicator"] and results[1] == results[2]


@pytest.mark.slow
def test_an_ad_hoc_run_boots_its_own_api_and_stops_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["FUPIN_HOME"] = str(tmp_path / "home")
    env["PREFECT_HOME"] = str(tmp_path / "prefect")  # the server's database: this run's alone
    env["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "INFO"  # and INFO logs go to the API
    out = subprocess.run(
        [str(FUPIN), "run", str(SAMPLES), "--db", str(tmp_path / "w.duckdb"), "--json"],
        env=env, capture_output=True, text=True, timeout=600, check=True)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["documents_loaded"] == 3
    assert (tmp_path / "home" / "api-server.log").exists()  # it started its own server
    assert run_processes(tmp_path / "home", b"fupin.api_server") == []  # stopped, not orphaned
    assert wait_until_gone(tmp_path / "home") == []
    assert "Traceback" not in out.stderr  # the server's shutdown noise stays in its log
    # logs and events reach the API before it stops, not in a minute of retries after
    assert "Error logging to API" not in out.stderr
    assert "Finished in state Completed" in out.stderr
    # Its flow run's events are in that server's database; a heartbeat says "still
    # running" to a server that outlives the run, so this one was sent none.
    events = flow_run_events(tmp_path / "prefect" / "prefect.db")
    assert "prefect.flow-run.Completed" in events
    assert "prefect.flow-run.heartbeat" not in events
