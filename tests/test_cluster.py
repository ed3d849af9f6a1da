"""The flow on a Dask cluster whose workers share nothing but object storage.

A scheduler and two workers are started from the `dask` command line, each worker in
an empty working directory with a FUPIN_HOME of its own; batches are staged in an S3
bucket served on 127.0.0.1. The warehouse must equal the one the thread runner builds
from the same pages, also when a worker is killed in the middle of the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from fupin.tasks.pipeline import storage
from tests.dask_cluster import Cluster, contents, dask_cluster
from tests.s3_server import S3, s3_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
FUPIN = Path(sys.executable).with_name("fupin")
SAMPLES = REPO / "samples" / "pages"
SYNTH_PAGES = 160
BATCH = 8  # many small batches: a worker dies holding some of them
RUN_S = 900  # a hang fails; a busy machine does not

def _env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment for a run of its own: its own home, no outside API."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT_HOME", "FUPIN_STORAGE")}
    return {**env, "PYTHONPATH": str(REPO), "FUPIN_HOME": str(home),
            "PREFECT_HOME": str(home / "prefect"), **extra}


def fupin_run(sources: list[Path], db: Path, env: dict[str, str],
              runner: str = "threads") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(FUPIN), "run", *map(str, sources), "--db", str(db), "--batch-size", str(BATCH),
         "--task-runner", runner, "--json", "-q"],
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)


def finished(run: subprocess.Popen[str]) -> dict:
    try:
        out, err = run.communicate(timeout=RUN_S)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, 9)
        run.communicate()
        raise
    assert run.returncode in (0, 3), err[-3000:]  # 3: some pages rejected, as with threads
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from bench.synth import generate_corpus

    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, SYNTH_PAGES, seed=18)
    return [SAMPLES, out / "pages"]


@pytest.fixture(scope="module")
def threads_warehouse(corpus: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: the default runner, local staging, on the same pages."""
    root = tmp_path_factory.mktemp("threads")
    db = root / "threads.duckdb"
    summary = finished(fupin_run(corpus, db, _env(root / "home")))
    assert summary["documents_loaded"] > SYNTH_PAGES // 2
    return db


@pytest.fixture
def s3() -> Iterator[S3]:
    with s3_server() as server:
        yield server


@pytest.fixture
def cluster(s3: S3, tmp_path: Path) -> Iterator[Cluster]:
    # every worker shares the stage cache in the bucket, and nothing else
    env = {k: v for k, v in _env(tmp_path).items() if k not in ("FUPIN_HOME", "PREFECT_HOME")}
    with dask_cluster(tmp_path / "cluster", 2, {**env, **s3.env,
                                                "FUPIN_STORAGE": s3.url("fupin")}) as c:
        yield c


def _coordinator_env(tmp_path: Path, s3: S3) -> dict[str, str]:
    return _env(tmp_path / "coordinator", FUPIN_STORAGE=s3.url("fupin"), **s3.env)


def _left_in(s3: S3, *prefix: str) -> list[str]:
    fs, path = storage.filesystem(s3.url(*prefix))
    return fs.find(path)


def _local_files(cluster_root: Path) -> list[str]:
    """What the workers left in their own homes (nothing of a run may be there)."""
    return sorted(str(p.relative_to(cluster_root)) for p in cluster_root.glob("worker-*/home/*")
                  if p.name in ("staging", "cache"))


def test_a_cluster_sharing_only_object_storage_builds_the_same_warehouse_as_threads(
    corpus: list[Path], threads_warehouse: Path, s3: S3, cluster: Cluster, tmp_path: Path,
) -> None:
    db = tmp_path / "cluster.duckdb"
    summary = finished(fupin_run(corpus, db, _coordinator_env(tmp_path, s3),
                                 runner=f"dask:{cluster.address}"))
    assert summary["documents_loaded"] > SYNTH_PAGES // 2
    assert contents(db) == contents(threads_warehouse)
    assert _left_in(s3, "fupin", "staging") == []  # the loaded run removed its batches
    assert _left_in(s3, "fupin", "cache")  # the workers' shared stage cache stays
    assert _local_files(tmp_path / "cluster") == []
    assert not (tmp_path / "coordinator" / "staging").exists()


def _when_busy(cluster: Cluster, name: str, run: subprocess.Popen[str]) -> list[str]:
    """Wait until worker ``name`` is running a batch's task, then kill it; the keys it held."""
    from distributed import Client

    with Client(cluster.address, timeout=30) as client:
        address = next(a for a, w in client.scheduler_info(n_workers=-1)["workers"].items()
                       if w["name"] == name)
        deadline = time.monotonic() + RUN_S
        while time.monotonic() < deadline and run.poll() is None:
            held = [k for k in client.processing().get(address, ())
                    if "extract" in str(k) or "clean" in str(k)]
            if held:
                cluster.kill_worker(name)
                return held
            time.sleep(0.05)
    raise AssertionError("the worker never held a batch while the run went on")


def _task_runs(api: str, flow_run_id: str) -> dict[str, list[str]]:
    """Each task run's name and the state the Prefect API ended up recording for it."""
    import httpx

    found: dict[str, list[str]] = {}
    offset = 0
    while True:
        page = httpx.post(f"{api}/task_runs/filter", timeout=30, json={
            "flow_runs": {"id": {"any_": [flow_run_id]}}, "offset": offset, "limit": 200,
        }).json()
        for run in page:
            found.setdefault(run["name"], []).append(run["state_type"])
        if len(page) < 200:
            return found
        offset += len(page)


def _recorded(api: str, flow_run_id: str) -> dict[str, list[str]]:
    """The task runs once the API has recorded every state the run sent (events arrive
    a little after the flow ends)."""
    deadline = time.monotonic() + 120
    while True:
        runs = _task_runs(api, flow_run_id)
        if all(states == ["COMPLETED"] for states in runs.values()) or (
                time.monotonic() > deadline):
            return runs
        time.sleep(1)


def test_a_worker_killed_mid_run_is_survived_with_nothing_lost_or_twice(
    corpus: list[Path], threads_warehouse: Path, s3: S3, cluster: Cluster, tmp_path: Path,
    prefect_server: str,
) -> None:
    db = tmp_path / "cluster.duckdb"
    run = fupin_run(corpus, db, {**_coordinator_env(tmp_path, s3),
                                 "PREFECT_API_URL": prefect_server},
                    runner=f"dask:{cluster.address}")
    killed: list[list[str]] = []
    watcher = threading.Thread(target=lambda: killed.append(_when_busy(cluster, "worker-1", run)))
    watcher.start()
    summary = finished(run)
    watcher.join(timeout=60)
    assert killed and killed[0], "no worker was killed while holding a batch"
    assert cluster.workers["worker-1"].poll() is not None
    counts = summary
    assert counts["pages_in"] == (counts["pages_unchanged"] + counts["documents_loaded"]
                                  + counts["pages_rejected"])
    assert counts["facts_candidate"] == counts["facts_loaded"] + counts["facts_quarantined"]
    assert contents(db) == contents(threads_warehouse)
    assert _left_in(s3, "fupin", "staging") == []
    # Dask ran the dead worker's batches again under the same task run ids: Prefect shows
    # one task run per batch and stage, each completed, none left running
    with duckdb.connect(str(db), read_only=True) as con:
        (flow_run_id,), = con.execute("SELECT flow_run_id FROM etl_runs").fetchall()
    runs = _recorded(prefect_server, flow_run_id)
    batches = -(-summary["pages_in"] // BATCH)
    assert sum(name.startswith("extract-batch-") for name in runs) == batches
    assert {name: states for name, states in runs.items() if states != ["COMPLETED"]} == {}
