"""Choose where a run's batches go: threads, local processes, or a Dask cluster.

The choice is a parameter of the flow (``task_runner``; ``fupin run --task-runner``,
a deployment's ``parameters``, else FUPIN_TASK_RUNNER), so it is made per run, not
when the flow's module is imported:

* ``threads`` (default): task runs in threads of the flow's process, at most
  2 per worker + 2 at once so batches stream; clean and extract run on local worker
  processes (``tasks.pipeline.runtime``; ``workers``, default one per core).
* ``processes[:N]``: N local worker processes (default: all cores) for CPU-bound batches.
* ``dask``: a Dask LocalCluster with one worker process per core.
* ``dask:tcp://HOST:PORT``: an existing Dask cluster.

Only fetch, clean, extract and validate-batches are submitted to it; discover,
validate, load and report run in the flow's own process, so the warehouse keeps a
single writer.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import Any, Generic, TypeVar

from prefect.futures import PrefectFuture
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner
from prefect.tasks import Task

from fupin.settings import parse_task_runner

Y = TypeVar("Y")
R = TypeVar("R")


def make_task_runner(spec: str, workers: int) -> TaskRunner[Any]:
    """The runner ``spec`` names; ``workers`` sizes the thread runner's pool."""
    kind, arg = parse_task_runner(spec)
    if kind == "threads":
        return ThreadPoolTaskRunner(
            max_workers=int(arg) if arg else 2 * max(1, workers) + 2)
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=int(arg) if arg else os.cpu_count())
    from prefect_dask import DaskTaskRunner  # the only kind left: dask

    if arg:
        return DaskTaskRunner(address=arg)
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": os.cpu_count() or 1, "threads_per_worker": 1,
                        "processes": True, "dashboard_address": None}
    )


def submit(runner: TaskRunner[Any], task: Task[..., Any], **parameters: Any) -> PrefectFuture[Any]:
    """Submit a task run to the run's own runner (``Task.submit`` would use the flow's)."""
    return runner.submit(task, parameters)


class Yields(Generic[Y, R]):
    """A generator task's yields for a for loop, then the value it returned.

    Kept here rather than in the flow's module: a flow a deployment loads from its file
    travels by value with the batch tasks, and with this class defined beside it a Dask
    scheduler in another process failed to deserialize the task graph.
    """

    def __init__(self, gen: Generator[Y, None, R]) -> None:
        self._gen = gen
        self.returned: R | None = None

    def __iter__(self) -> Iterator[Y]:
        self.returned = yield from self._gen

    def close(self) -> None:
        self._gen.close()
