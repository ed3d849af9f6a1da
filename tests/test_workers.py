"""Worker processes, the validation process and the run-scoped Prefect API."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from test_signals import run_processes, wait_until_gone
from test_task_runners import SAMPLES, contents

from fupin.tasks import workers

REPO = Path(__file__).resolve().parents[1]
FUPIN = REPO / ".venv" / "bin" / "fupin"


def test_stages_run_on_worker_processes_only_inside_the_block() -> None:
    with workers.local_workers(2) as n:
        assert n == 2
        inside = {workers.call(os.getpid) for _ in range(4)}
    assert os.getpid() not in inside
    assert workers.call(os.getpid) == os.getpid()


def test_one_worker_means_this_process() -> None:
    with workers.local_workers(1) as n:
        assert n == 1
        assert workers.call(os.getpid) == os.getpid()


def test_the_validation_process_is_started_once_and_reused() -> None:
    workers.start_validator()
    first = workers.call_validator(os.getpid)
    workers.start_validator()
    assert workers.call_validator(os.getpid) == first != os.getpid()


def test_the_flows_process_leaves_great_expectations_to_the_validation_process(
    tmp_path: Path,
) -> None:
    # The flow's modules, and a group with nothing new, which the flow validates itself.
    # (pandas is no test: pyarrow loads it in any process that builds a table.)
    probe = ("import sys, fupin.flows.etl; from fupin.tasks.pipeline.staging import BatchRef; "
             "from fupin.tasks.pipeline.validation_stage import validate_batches; "
             f"validate_batches([BatchRef(0, {str(tmp_path)!r})]); "
             "print(sorted({'great_expectations', 'scipy'} & set(sys.modules)))")
    out = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", probe], cwd=REPO,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
    prefect_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fupin.flows.etl import etl

    results = {}
    for n in (1, 2):
        monkeypatch.setenv("FUPIN_WORKERS", str(n))
        db = tmp_path / f"workers-{n}.duckdb"
        summary = etl(sources=[str(SAMPLES)], db=str(db), batch_size=1)
        assert summary.counts.documents_loaded == 3
        results[n] = contents(db)
    assert results[1]["fact_indicator"] and results[1] == results[2]


@pytest.mark.slow
def test_an_ad_hoc_run_boots_its_own_api_and_stops_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["FUPIN_HOME"] = str(tmp_path / "home")
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
