"""Choose where mapped batches run: threads, local processes, or a Dask cluster.

The choice is read from FUPIN_TASK_RUNNER when the flow module is imported
(``fupin run --task-runner`` sets it; a deployment sets it in its job variables):

* ``threads`` (default): one process; cheap start, right for small runs.
* ``processes[:N]``: N local worker processes (default: all cores) for CPU-bound batches.
* ``dask``: a Dask LocalCluster with one worker process per core.
* ``dask:tcp://HOST:PORT``: an existing Dask cluster.

Only fetch, clean and extract are mapped; validate and load always run in the flow's
own process, so the warehouse keeps a single writer.
"""

from __future__ import annotations

import os

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner


def make_task_runner(spec: str | None = None) -> TaskRunner:
    spec = (spec or os.environ.get("FUPIN_TASK_RUNNER") or "threads").strip()
    kind, _, arg = spec.partition(":")
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=int(arg) if arg else None)
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
