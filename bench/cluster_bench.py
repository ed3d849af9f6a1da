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
import re
import resource
import statistics
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


def _run(corpus: Path, db: Path, env: dict[str, str], runner: str, batch: int,
         log: Path) -> dict:
    """One `fupin run`; its INFO log lines (a line per batch and stage) go to ``log``."""
    out = subprocess.run(
        [str(FUPIN), "run", str(corpus), "--db", str(db), "--task-runner", runner,
         "--batch-size", str(batch), "--json", "-q", "--log-level", "INFO"],
        env=env, text=True, capture_output=True, check=False)
    log.write_text(out.stderr)
    if out.returncode not in (0, 3):
        raise SystemExit(f"fupin run ({runner}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


_STAMP = r"^(\d\d):(\d\d):(\d\d\.\d+) \| INFO +\| "
_STAGE_END = re.compile(_STAMP + r".*? - batch (\d+) (fetch|clean|extract):")
_LOAD = re.compile(_STAMP + r"Task run 'load-\w+' - (loading run|Finished)")


def _seconds(match: re.Match[str]) -> float:
    hours, minutes, seconds = match.group(1, 2, 3)
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def stage_times(log: Path) -> dict[str, float]:
    """From a run's log lines: the median seconds a batch spent in clean and in extract
    (from the previous stage's end to its own), and the load's seconds."""
    ends: dict[tuple[int, str], float] = {}
    load: list[float] = []
    for line in log.read_text().splitlines():
        if m := _STAGE_END.match(line):
            ends[(int(m.group(4)), m.group(5))] = _seconds(m)
        elif m := _LOAD.match(line):
            load.append(_seconds(m))
    batches = {b for b, _ in ends}
    times = {}
    for before, stage in (("fetch", "clean"), ("clean", "extract")):
        spans = [ends[(b, stage)] - ends[(b, before)] for b in batches
                 if (b, stage) in ends and (b, before) in ends]
        times[f"{stage} s/batch"] = statistics.median(spans) if spans else float("nan")
    times["load s"] = load[-1] - load[0] if len(load) > 1 else float("nan")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of pages")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="Dask workers")
    parser.add_argument("--logs", type=Path, default=REPO / "bench" / "out" / "logs",
                        help="folder for each run's log lines (threads.log, dask.log)")
    args = parser.parse_args()
    pages = sum(1 for p in args.corpus.iterdir() if p.is_file())
    args.logs.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="fupin-cluster-bench-") as tmp:
        root = Path(tmp)
        cpu, wall = _children_cpu(), time.perf_counter()
        _run(args.corpus, root / "threads.duckdb", _env(root / "threads"), "threads",
             args.batch_size, args.logs / "threads.log")
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
                     f"dask:{c.address}", args.batch_size, args.logs / "dask.log")
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
    # a Dask worker's log lines go to the Prefect API, not to the run's terminal: the
    # dask run's log shows only what the flow's own process did (its load)
    for name in ("threads", "dask"):
        times = stage_times(args.logs / f"{name}.log")
        print(f"{name}: " + ", ".join(f"{k} {v:.1f}" for k, v in times.items()
                                      if v == v))  # NaN: not in that log
    print(f"warehouses equal by content: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
