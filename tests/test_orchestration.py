"""Runs through a served deployment on a real Prefect server, watched through its API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from http_server import Reply, fail_then, serve

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"
FUPIN = Path(sys.executable).with_name("fupin")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(prefect_server: str, tmp_path_factory: pytest.TempPathFactory):
    """`fupin serve` in a subprocess, serving a deployment defined like prefect.yaml's."""
    work = tmp_path_factory.mktemp("served")
    (work / "prefect.yaml").write_text(
        "deployments:\n"
        "  - name: test-etl\n"
        "    entrypoint: flows/etl.py:etl\n"
        "    tags: [fupin, test]\n"
        "    parameters: {sources: [sources.yaml], db: wh/fupin.duckdb}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    log = open(work / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([str(FUPIN), "serve", "--prefect-yaml", str(work / "prefect.yaml"),
                             "--limit", "2"], env=env, stdout=log, stderr=subprocess.STDOUT)
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + 120
    with get_client(sync_client=True) as client:
        while True:
            try:
                client.read_deployment_by_name("fupin-etl/test-etl")
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.close()
                    raise RuntimeError(
                        (work / "serve.log").read_text(errors="replace")[-3000:]
                    ) from None
                time.sleep(1)
    yield work
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _run(parameters: dict, timeout: int = 300):
    from prefect.deployments import run_deployment

    return run_deployment("fupin-etl/test-etl", parameters=parameters, timeout=timeout)


def test_a_served_deployment_run_completes_with_tasks_artifacts_and_data(
    served: Path, prefect_api
) -> None:
    (served / "sources.yaml").write_text(
        f"roots: ['{SAMPLES}']\n"
        f"sources:\n  - {{name: samples, kind: files, location: '{SAMPLES}'}}\n",
        encoding="utf-8",
    )
    run = _run({"sources": [str(served / "sources.yaml")],
                "db": str(served / "wh" / "fupin.duckdb")})
    assert run.state.is_completed(), run.state
    tags = prefect_api.flow_run(run.id)["tags"]
    assert "source:samples" in tags and "fupin" in tags
    tasks = prefect_api.task_runs(run.id)
    names = {t["name"] for t in tasks}
    assert {"discover", "fetch-batch-0", "clean-batch-0", "extract-batch-0", "validate", "load",
            "report"} <= {n if "batch" in n else n.rsplit("-", 1)[0] for n in names}
    assert all(t["state"]["type"] == "COMPLETED" for t in tasks)
    artifacts = {a["key"]: a for a in prefect_api.artifacts(run.id)}
    assert {"fupin-run-summary", "fupin-progress", "fupin-validation"} <= set(artifacts)
    assert artifacts["fupin-progress"]["data"] == 100.0
    assert "documents loaded" in artifacts["fupin-run-summary"]["data"]
    con = duckdb.connect(str(served / "wh" / "fupin.duckdb"), read_only=True)
    flow_run_id, docs = con.execute(
        "SELECT flow_run_id, documents_loaded FROM etl_runs").fetchone()
    con.close()
    assert flow_run_id == str(run.id) and docs == 3


def test_a_fetch_that_fails_once_is_retried_as_a_task(served: Path, prefect_api) -> None:
    page = (SAMPLES / "longxi_2019_exit.html").read_bytes()
    route = fail_then(Reply(503, b"busy"), 2, Reply(200, page))
    with serve({"/p": route}) as site:
        (served / "urls.yaml").write_text(
            "sources:\n"
            f"  - {{name: flaky, kind: url, location: '{site.url('/p')}',"
            " options: {retries: 1, backoff: 0.01}}\n",
            encoding="utf-8",
        )
        run = _run({"sources": [str(served / "urls.yaml")], "db": str(served / "retry.duckdb")})
    assert run.state.is_completed(), run.state
    fetch = next(t for t in prefect_api.task_runs(run.id) if t["name"] == "fetch-batch-0")
    assert fetch["run_count"] == 2
    history = [s["name"] for s in prefect_api.task_run_states(fetch["id"])]
    assert "AwaitingRetry" in history and history[-1] == "Completed"
    assert site.hits["/p"] == 3
