"""Warm local worker processes for the CPU-bound batch stages (clean, extract).

The stages are pure Python, so threads share one core. Prefect's thread runner
still runs one task run per batch (what the UI shows); the task's thread hands the
batch to a worker process and waits. Workers are started once per run and load
jieba's dictionary once each, and only a small ``BatchRef`` crosses the process
boundary: the stages read and write their batch's files themselves.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

R = TypeVar("R")

_POOL: ProcessPoolExecutor | None = None
_LOCK = threading.Lock()


def default_workers() -> int:
    """FUPIN_WORKERS, else one per core; 1 means "in this process"."""
    value = os.environ.get("FUPIN_WORKERS", "").strip()
    return max(1, int(value)) if value else max(1, os.cpu_count() or 1)


def _warm() -> None:
    from tasks import stages  # noqa: F401  (imports bs4, lxml, pyarrow once)
    from tasks.extract.segment import ensure_jieba

    ensure_jieba()


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
    # spawn: the parent holds Prefect's threads and event loops, which fork would copy.
    pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_warm)
    for _ in range(n):  # start and warm every worker now, while the first batches are fetched
        pool.submit(int)
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
