"""The thread runner against a local 2-worker Dask cluster staging in S3, on the same pages.

Both runs start from an empty warehouse and an empty stage cache. The Dask run uses
the cluster of the tests (a scheduler and workers started from the `dask` command line,
each worker with a home of its own) and moto's S3 server on 127.0.0.1 in this process.
Prints pages/s (wall), CPU seconds (every process each setup used: the run, its
workers, the cluster, and the S3 server's share of this process) and whether the two
warehouses hold the same rows.

    python bench/cluster_bench.py --corpus /tmp/cl2000/pages
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.dask_cluster import contents, dask_cluster  # noqa: E402
from tests.s3_server import s3_server  # noqa: E402

FUPIN = Path(sys.executable).with_name("fupin")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT_HOME", "FUPIN_STORAGE", "FUPIN_HOME")}
    return {**env, "PYTHONPATH": str(REPO), "FUPIN_HOME": str(home),
            "PREFECT_HOME": str(home / "prefect"), **extra}


def _run(corpus: Path, db: Path, env: dict[str, str], runner: str, batch: int) -> dict:
    out = subprocess.run(
        [str(FUPIN), "run", str(corpus), "--db", str(db), "--task-runner", runner,
         "--batch-size", str(batch), "--json", "-q"],
        env=env, text=True, capture_output=True, check=False)
    if out.returncode not in (0, 3):
        raise SystemExit(f"fupin run ({runner}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of pages")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="Dask workers")
    args = parser.parse_args()
    pages = sum(1 for p in args.corpus.iterdir() if p.is_file())
    rows = []
    with tempfile.TemporaryDirectory(prefix="fupin-cluster-bench-") as tmp:
        root = Path(tmp)
        cpu, wall = _children_cpu(), time.perf_counter()
        _run(args.corpus, root / "threads.duckdb", _env(root / "threads"), "threads",
             args.batch_size)
        rows.append(("threads, local staging", time.perf_counter() - wall,
                     _children_cpu() - cpu))
        with s3_server() as s3:
            shared = {**s3.env, "FUPIN_STORAGE": s3.url("fupin")}
            cpu, own, wall = _children_cpu(), time.process_time(), time.perf_counter()
            worker_env = {k: v for k, v in _env(root).items()
                          if k not in ("FUPIN_HOME", "PREFECT_HOME")}
            with dask_cluster(root / "cluster", args.workers, {**worker_env, **shared}) as c:
                started = time.perf_counter()
                _run(args.corpus, root / "dask.duckdb", _env(root / "coordinator", **shared),
                     f"dask:{c.address}", args.batch_size)
                run_wall = time.perf_counter() - started
            rows.append((f"dask, {args.workers} workers, S3 staging (run only)", run_wall,
                         _children_cpu() - cpu + time.process_time() - own))
            rows.append(("  with the cluster's start", time.perf_counter() - wall, None))
        same = contents(root / "threads.duckdb") == contents(root / "dask.duckdb")
    print(f"{pages} pages, batches of {args.batch_size}, {os.cpu_count()} cores")
    print(f"{'setup':<44} {'wall s':>8} {'pages/s':>8} {'CPU s':>8}")
    for name, seconds, cpu_s in rows:
        shown = f"{cpu_s:8.1f}" if cpu_s is not None else f"{'':>8}"
        print(f"{name:<44} {seconds:8.1f} {pages / seconds:8.1f} {shown}")
    print(f"warehouses equal by content: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
