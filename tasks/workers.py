"""Warm local worker processes: a pool for clean and extract, one process for validation.

The stages are pure Python, so threads share one core. Prefect's thread runner
still runs one task run per batch (what the UI shows); the task's thread hands the
batch to a worker process and waits. Workers are started once per run and load
jieba's dictionary once each, and only a small ``BatchRef`` crosses the process
boundary: the stages read and write their batch's files themselves.

Great Expectations lives in a process of its own for the same reason: its import
and context cost seconds of CPU, which then overlap with Prefect's start and the
first batches instead of following them; it ends after the run's validation, so
its memory is free again when the load starts.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TypeVar

from fupin.lifeline import live_with_parent
from fupin.settings import worker_count

R = TypeVar("R")

_POOL: ProcessPoolExecutor | None = None
_VALIDATOR: ProcessPoolExecutor | None = None
_LOCK = threading.Lock()


def default_workers() -> int:
    """FUPIN_WORKERS, else one per core; 1 means "in this process"."""
    return worker_count()


def _warm() -> None:
    from fupin.tasks.extract import warm_up
    from fupin.tasks.pipeline import stages  # noqa: F401  (imports bs4, lxml, pyarrow once)

    warm_up()


def warm_here_in_background() -> None:
    """Warm this process's stages on a thread, for a run that will not start workers.

    A run of one batch extracts in the flow's own process; this lets jieba's
    dictionary and the extraction tables load while the Prefect API boots. Not
    for larger runs: their workers do the extracting, and the tables would only
    add to this process's memory.
    """
    threading.Thread(target=_warm, name="fupin-warm-up", daemon=True).start()


@contextmanager
def local_workers(workers: int | None = None) -> Iterator[int]:
    """Run ``call``-ed stages on ``workers`` processes while the block is open.

    With one worker (or a single core) nothing is started and stages run in the
    calling thread, which is also what happens on Dask or process-pool runners,
    whose task processes never open this block.
    """
    global _POOL
    n = default_workers() if workers is None else workers
    if n <= 1:
        yield 1
        return
    pool = _spawn_pool(n, _warm)  # workers start on the first batch that needs one
    with _LOCK:
        _POOL = pool
    try:
        yield n
    finally:
        with _LOCK:
            _POOL = None
        pool.shutdown(wait=True, cancel_futures=True)


def call(fn: Callable[..., R], *args: object) -> R:
    """``fn(*args)`` on a worker process when a pool is open, else right here."""
    with _LOCK:
        pool = _POOL
    if pool is None:
        return fn(*args)
    return pool.submit(fn, *args).result()


def _start_worker(parent_pid: int, warm: Callable[[], None]) -> None:
    live_with_parent(parent_pid)  # a killed run leaves no worker behind
    warm()


def _spawn_pool(n: int, warm: Callable[[], None]) -> ProcessPoolExecutor:
    # spawn: the parent holds Prefect's threads and event loops, which fork would copy.
    return ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(os.getpid(), warm))


def _warm_validator() -> None:
    from fupin.tasks.validate import get_validator

    get_validator()


def start_validator() -> None:
    """Start the validation process now (once per process) so it warms up meanwhile."""
    global _VALIDATOR
    with _LOCK:
        if _VALIDATOR is None:
            _VALIDATOR = _spawn_pool(1, _warm_validator)
            _VALIDATOR.submit(int)


def stop_validator() -> None:
    """End the validation process (the next run starts a fresh one)."""
    global _VALIDATOR
    with _LOCK:
        pool, _VALIDATOR = _VALIDATOR, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def call_validator(fn: Callable[..., R], *args: object) -> R:
    """``fn(*args)`` in the validation process, starting it if needed.

    A daemonic process (a Dask worker) may not start children: it validates itself.
    """
    global _VALIDATOR
    if multiprocessing.current_process().daemon:
        return fn(*args)
    start_validator()
    with _LOCK:
        pool = _VALIDATOR
    assert pool is not None
    try:
        return pool.submit(fn, *args).result()
    except BrokenProcessPool:
        with _LOCK:  # the next run starts a fresh one
            if _VALIDATOR is pool:
                _VALIDATOR = None
        raise
