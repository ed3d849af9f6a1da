"""Choose where mapped batches run: threads, local processes, or a Dask cluster.

The choice is read from FUPIN_TASK_RUNNER when the flow module is imported
(``fupin run --task-runner`` sets it; a deployment sets it in its job variables):

* ``threads`` (default): task runs in threads of the flow's process, at most
  2 per worker + 2 at once so batches stream; clean and extract run on local worker
  processes (``tasks.workers``, FUPIN_WORKERS, default one per core).
* ``processes[:N]``: N local worker processes (default: all cores) for CPU-bound batches.
* ``dask``: a Dask LocalCluster with one worker process per core.
* ``dask:tcp://HOST:PORT``: an existing Dask cluster.

Only fetch, clean and extract are mapped; validate and load always run in the flow's
own process, so the warehouse keeps a single writer.
"""

from __future__ import annotations

import os

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from fupin.tasks.workers import default_workers


def _spec(spec: str | None = None) -> str:
    return (spec or os.environ.get("FUPIN_TASK_RUNNER") or "threads").strip()


def local_worker_count(spec: str | None = None) -> int:
    """Worker processes the flow's own process should start: only the thread runner uses them."""
    return default_workers() if _spec(spec).partition(":")[0] == "threads" else 1


def make_task_runner(spec: str | None = None) -> TaskRunner:
    spec = _spec(spec)
    kind, _, arg = spec.partition(":")
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=int(arg) if arg else 2 * default_workers() + 2)
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=int(arg) if arg else os.cpu_count())
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if arg:
            return DaskTaskRunner(address=arg)
        workers = os.cpu_count() or 1
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                            "processes": True, "dashboard_address": None}
        )
    raise ValueError(
        f"unknown task runner {spec!r}: use threads, processes[:N], dask or dask:ADDRESS"
    )
