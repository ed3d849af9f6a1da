"""Runs through a served deployment on a real Prefect server, watched through its API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from http_server import Reply, always, fail_then, serve

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


def test_fetch_retries_each_request_never_the_whole_batch(served: Path, prefect_api) -> None:
    page = (SAMPLES / "longxi_2019_exit.html").read_bytes()
    routes = {"/flaky": fail_then(Reply(503, b"busy"), 2, Reply(200, page)),
              "/down": always(Reply(503, b"busy", {"Retry-After": "0"}))}
    with serve(routes) as site:
        (served / "urls.yaml").write_text(
            "defaults: {retries: 2, backoff: 0.01}\n"
            "sources:\n"
            f"  - {{name: flaky, kind: url, location: '{site.url('/flaky')}'}}\n"
            f"  - {{name: down, kind: url, location: '{site.url('/down')}'}}\n",
            encoding="utf-8",
        )
        db = served / "retry.duckdb"
        run = _run({"sources": [str(served / "urls.yaml")], "db": str(db)})
    assert run.state.is_completed(), run.state
    fetch = next(t for t in prefect_api.task_runs(run.id) if t["name"] == "fetch-batch-0")
    assert fetch["run_count"] == 1  # the batch was fetched once ...
    assert site.hits == {"/flaky": 3, "/down": 3}  # ... each page retried by its requests
    con = duckdb.connect(str(db), read_only=True)
    rejected = con.execute("SELECT url, stage, reason FROM rejected_pages").fetchall()
    documents = con.execute("SELECT url FROM dim_document").fetchall()
    con.close()
    assert rejected == [(site.url("/down"), "fetch", "http_503")]
    assert documents == [(site.url("/flaky"),)]


@pytest.fixture
def dask_cluster() -> Iterator[tuple[str, object]]:
    """A Dask cluster of one worker process that a run can be sent to by address."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield cluster.scheduler_address, client


def test_a_deployment_parameter_chooses_the_task_runner(
    served: Path, prefect_api, dask_cluster: tuple[str, object]
) -> None:
    from distributed import get_task_stream

    address, client = dask_cluster
    (served / "samples.yaml").write_text(
        f"roots: ['{SAMPLES}']\n"
        f"sources:\n  - {{name: samples, kind: files, location: '{SAMPLES}'}}\n",
        encoding="utf-8")
    with get_task_stream(client) as stream:
        run = _run({"sources": [str(served / "samples.yaml")],
                    "db": str(served / "dask.duckdb"), "batch_size": 1,
                    "task_runner": f"dask:{address}"})
    assert run.state.is_completed(), run.state
    assert prefect_api.flow_run(run.id)["parameters"]["task_runner"] == f"dask:{address}"
    # the cluster the parameter names ran the batches: 3 × fetch, clean and extract,
    # and validate-batches for their group
    assert sorted(t["key"].split("-")[0] for t in stream.data) == sorted(
        ["fetch", "clean", "extract"] * 3 + ["validate_batches"])
    con = duckdb.connect(str(served / "dask.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM dim_document").fetchone() == (3,)
    con.close()
