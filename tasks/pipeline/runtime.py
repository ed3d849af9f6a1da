"""The processes one run owns: warm workers for clean and extract, and a validation process.

The stages are pure Python, so threads share one core. Prefect's thread runner
still runs one task run per batch (what the UI shows); the task's thread hands the
batch to a worker process and waits. Workers load jieba's dictionary once each, and
only a small ``BatchRef`` crosses the process boundary: the stages read and write
their batch's files themselves.

Great Expectations lives in a process of its own for the same reason: its import
and context cost seconds of CPU, which then overlap fetch, clean and extract instead
of following them; it ends after the run's validation, so its memory is free again
when the load starts.

The flow makes one ``Runtime`` per run, hands it to the tasks and closes it however
the run ends. Nothing here is global but the hand-over of a validation process the
CLI starts before the flow (``processes_ahead``): the flow's parameters cannot carry
a process pool, so the run's runtime takes it from this module. A runtime sent to
another process (a task on Dask or a process pool) arrives there empty, and that
process runs the stages and the validation itself.
"""

from __future__ import annotations

import importlib.abc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from fupin.lifeline import live_with_parent
from fupin.settings import collector_paused, parse_task_runner, release_free_memory

R = TypeVar("R")

# A worker process costs about 3 CPU-seconds to start (imports, jieba's dictionary,
# the extraction tables), what clean and extract spend on some 150 pages. A run with
# fewer pages than this per worker runs its stages in the flow's process instead: on
# 15 pages in 3 batches two workers cost 6 CPU-seconds for 0.3 of work, on 2 cores
# where Great Expectations and the Prefect API are starting too.
PAGES_PER_WORKER = 100
# How far the CLI looks into a run's sources before the flow: past this many pages
# the run starts workers whatever else it finds (``stage_workers``).
LOOK_AHEAD_PAGES = 2 * PAGES_PER_WORKER


def local_workers(spec: str, workers: int) -> int:
    """Worker processes the flow's own process starts: only the thread runner uses them;
    0 when another runner's processes run the stages."""
    return max(1, workers) if parse_task_runner(spec)[0] == "threads" else 0


def stage_workers(workers: int, batches: int, pages: int) -> int:
    """Worker processes a run starts for clean and extract: ``workers``, but no more than
    its batches or one per PAGES_PER_WORKER pages; at most 1 means none, the stages
    running in the flow's own process."""
    return min(workers, batches, pages // PAGES_PER_WORKER)


class Runtime:
    """Worker processes, the validation process and the warm-up of one run.

    ``workers``: processes for clean and extract; 1 runs them in this process, 0
    means they run elsewhere (another task runner's processes), so this process
    neither starts workers nor warms up. Nothing starts until ``prepare``.
    """

    def __init__(self, workers: int = 1) -> None:
        _arrow_without_pandas()
        self.workers = max(0, workers)
        self._spawns = True
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._validator: ProcessPoolExecutor | None = None

    @classmethod
    def here(cls) -> Runtime:
        """A runtime that runs everything in the calling process and starts nothing."""
        runtime = cls()
        runtime._spawns = False
        return runtime

    def __reduce__(self) -> tuple[Callable[[], Runtime], tuple[()]]:
        # processes cannot cross to another process: there, everything runs in place
        return (Runtime.here, ())

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def full_with(self, batches: int, pages: int) -> bool:
        """Whether this many batches and pages already call for every worker, so that
        discover, which streams its batches, need not wait for more to ``prepare``."""
        return stage_workers(self.workers, batches, pages) >= self.workers

    def prepare(self, batches: int, new_pages: bool, pages: int) -> None:
        """Start what the run will need, as soon as discover knows enough of its batches.

        Discover streams its batches and calls this once: when the batches written so
        far call for every worker (``full_with``), else when it ends; a batch whose
        stages run before then runs them here. ``new_pages``: a page of those batches
        is new to the warehouse.

        The rule: the validation process starts at the first moment the run knows it
        has rows to validate, here when some page is new to the warehouse (a page
        that only changed, or a new one only in a later batch, is known after clean,
        by ``validate``), so Great Expectations imports while the batches are
        fetched; a re-run over known pages never starts it. Worker processes:
        ``stage_workers`` when that is more than one (each starts on the first batch
        it is given); else the stages run here and load their tables on a thread
        while the batch is fetched (``processes_ahead`` may have started that).
        """
        if not self._spawns:
            return
        if new_pages:
            self._validation_process()
        here = stage_workers(self.workers, batches, pages)
        if here > 1:
            with self._lock:
                self._pool = self._pool or _spawn(here, _warm_worker)
        elif self.workers and new_pages:
            threading.Thread(target=_warm_stages, name="fupin-warm-up", daemon=True).start()

    def call(self, fn: Callable[..., R], *args: Any) -> R:
        """``fn(*args)`` on a worker process when the run has them, else right here."""
        with self._lock:
            pool = self._pool
        if pool is None:
            return fn(*args)
        return pool.submit(_then_trim, fn, *args).result()

    def validate(self, fn: Callable[..., R], *args: Any) -> R:
        """``fn(*args)`` in the validation process, starting it if ``prepare`` did not."""
        if not self._spawns:
            return fn(*args)
        return self._validation_process().submit(fn, *args).result()

    def _validation_process(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._validator is None:
                self._validator = _AHEAD.pop() if _AHEAD else _validation_pool()
            return self._validator

    def end_stage_workers(self) -> None:
        """End the worker processes once every batch is extracted.

        They hold about 300 MB each: left until the run's end, they sat idle beside the
        last validation and the Data Docs, which is where a run's memory peaked. A stage
        asked for after this (a retried task) runs in this process.
        """
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """End the run's processes (waiting for work they have begun); safe to call twice."""
        with self._lock:
            pools = [p for p in (self._pool, self._validator) if p is not None]
            self._pool = self._validator = None
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


def _validation_pool() -> ProcessPoolExecutor:
    pool = _spawn(1, _warm_validator)
    pool.submit(int)  # start it now, so it warms up meanwhile
    return pool


# A validation process started before the flow (``processes_ahead``), which the first
# runtime of this process that needs one takes over.
_AHEAD: list[ProcessPoolExecutor] = []


@contextmanager
def processes_ahead(new_warehouse: bool, workers: int, pages: int | None) -> Iterator[None]:
    """Start what the run will need now, before the flow, when the run is known to need it.

    The same rules as ``Runtime.prepare``, applied as soon as the run can know. A run
    into a warehouse that does not exist yet knows before Prefect's API is up that
    every page it finds is new, so it starts the validation process, and Great
    Expectations imports while that server boots and the flow imports, rather than
    after discover (a one-page run waited ~5 s for it there). ``pages``: how many
    pages the sources name, when the CLI counted them all (at most
    LOOK_AHEAD_PAGES, and no discovery entries); a run with so few pages that the
    stages run in this process (``stage_workers``) loads jieba and the extraction
    tables on a thread during that wait too, instead of after discover (about a
    second and a half of a one-page run). ``workers``: the runtime's
    (``local_workers``). The run's runtime takes the validation process over and
    ends it; one left untaken (no page was found) ends here.
    """
    if new_warehouse:
        _AHEAD.append(_validation_pool())
        most = sys.maxsize if pages is None else pages  # a run has no more batches than pages
        if workers and stage_workers(workers, most, most) <= 1:
            threading.Thread(target=_warm_stages, name="fupin-warm-up", daemon=True).start()
    try:
        yield
    finally:
        while _AHEAD:
            _AHEAD.pop().shutdown(wait=True, cancel_futures=True)


_WARMING = threading.Lock()
_warmed = False


def _warm_stages() -> None:
    """Load what clean and extract read lazily, once per process: ``processes_ahead``
    and ``Runtime.prepare`` may both ask, and the second caller waits for the first."""
    global _warmed
    with _WARMING:
        if _warmed:
            return
        from fupin.tasks.extract import warm_up
        from fupin.tasks.pipeline import stages  # noqa: F401  (imports bs4, lxml, pyarrow once)

        warm_up()
        _warmed = True


def _warm_worker() -> None:
    _arrow_without_pandas()
    _warm_stages()


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, *_: object) -> None:
        if name == "pandas":
            raise ImportError("this process builds its tables from rows, not data frames")


def _arrow_without_pandas() -> None:
    """Keep pyarrow from importing pandas (≈ 40 MB of a process) where no frame is built.

    pyarrow imports pandas the first time it turns a Python list into an array, only
    to ask whether the list is a pandas object, and remembers the answer. A stage
    worker and the flow's process build their tables from plain rows, so they let
    that first question fail: pyarrow then goes on without pandas, and a later
    ``to_pandas`` would still import it. Called before anything else runs in a
    freshly spawned worker, and by a run's ``Runtime`` in the flow's process, before
    discover writes the first batch (where pandas is already loaded, nothing changes).
    """
    import pyarrow as pa

    blocker = _NoPandas()
    sys.meta_path.insert(0, blocker)
    try:
        pa.array([])
    finally:
        sys.meta_path.remove(blocker)


def _then_trim(fn: Callable[..., R], *args: Any) -> R:
    """``fn(*args)`` in a worker, then the batch's freed memory goes back to the system."""
    try:
        return fn(*args)
    finally:
        release_free_memory()


def _warm_validator() -> None:
    from fupin.tasks.validate import get_validator, skip_unused_backends

    skip_unused_backends()  # this process validates and nothing else
    get_validator()


def _start_process(parent_pid: int, warm: Callable[[], None]) -> None:
    live_with_parent(parent_pid)  # a killed run leaves no process behind
    with collector_paused():
        warm()


def _spawn(n: int, warm: Callable[[], None]) -> ProcessPoolExecutor:
    # spawn: the parent holds Prefect's threads and event loops, which fork would copy.
    return ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_process, initargs=(os.getpid(), warm))
