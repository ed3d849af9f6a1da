"""A Dask cluster of real processes, started from the `dask` command line as on machines
that share nothing: a scheduler, and workers each in an empty working directory of its
own with a FUPIN_HOME of its own. Everything it starts, it stops (each process leads a
process group of its own, and only those groups are signalled). Also: two warehouses
compared by what they hold rather than by ids or times."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from fupin.api_server import free_port

REPO = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
START_S = 120  # a generous bound on start-up: a hang fails, a slow machine does not


@dataclass
class Cluster:
    address: str
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # name -> process
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def worker_pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.workers.items()}

    def kill_worker(self, name: str) -> None:
        """SIGKILL one worker this cluster started: no goodbye to the scheduler."""
        os.killpg(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait()


def _start(args: list[str], cwd: Path, env: Mapping[str, str],
           log: Path) -> subprocess.Popen[bytes]:
    cwd.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        return subprocess.Popen([str(DASK), *args], cwd=cwd, env=dict(env), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for_workers(address: str, count: int, procs: list[subprocess.Popen[bytes]]) -> None:
    from distributed import Client

    deadline = time.monotonic() + START_S
    while True:
        dead = [p.args for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a cluster process ended while starting: {dead}")
        try:
            with Client(address, timeout=5) as client:
                client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))
                return
        except (OSError, TimeoutError):
            if time.monotonic() > deadline:
                raise


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def dask_cluster(root: Path, workers: int, env: Mapping[str, str],
                 threads: int = 1) -> Iterator[Cluster]:
    """A scheduler on a free port of 127.0.0.1 and ``workers`` workers without nannies
    (a killed worker stays dead, as a lost machine would), each with ``env`` plus its
    own FUPIN_HOME under ``root``."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    base = {**env, "PYTHONPATH": str(REPO), "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "warning"}
    cluster = Cluster(address)
    try:
        scheduler = _start(["scheduler", "--host", "127.0.0.1", "--port", str(port),
                            "--no-dashboard"], root / "scheduler", base, root / "scheduler.log")
        cluster.started.append(scheduler)
        for n in range(workers):
            name = f"worker-{n}"
            folder = root / name
            proc = _start(["worker", address, "--name", name, "--no-nanny",
                           "--nthreads", str(threads), "--no-dashboard",
                           "--local-directory", str(folder / "dask")],
                          folder, {**base, "FUPIN_HOME": str(folder / "home")},
                          root / f"{name}.log")
            cluster.started.append(proc)
            cluster.workers[name] = proc
        _wait_for_workers(address, workers, cluster.started)
        yield cluster
    finally:
        for proc in reversed(cluster.started):
            _stop(proc)


# Compared by content (here and in test_task_runners): every column a row's meaning
# rests on, no run ids or times.
CONTENT = {
    "dim_document": "SELECT doc_key, location, title, published_date, source_site, author, "
                    "content_sha256, encoding, body, flags, duplicate_of FROM dim_document",
    "fact_indicator": "SELECT doc_key, indicator, region_code, year, period_start, value, "
                      "unit, qualifier, evidence, char_start, char_end, rule, subset_of "
                      "FROM fact_indicator",
    "quarantined_facts": "SELECT doc_key, indicator, value, unit, char_start, expectation, "
                         "expectations FROM quarantined_facts",
    "rejected_pages": "SELECT location, stage, reason FROM rejected_pages",
    "fact_keyword": "SELECT doc_key, rank, keyword FROM fact_keyword",
    "raw_pages": "SELECT sha256, size_bytes FROM raw_pages",
    "counts": "SELECT pages_in, pages_unchanged, documents_loaded, pages_rejected, "
              "facts_candidate, facts_loaded, facts_quarantined FROM etl_runs",
}


def contents(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: sorted(con.execute(sql).fetchall(), key=repr)
                for name, sql in CONTENT.items()}
    finally:
        con.close()
