"""SIGINT and SIGTERM stop a ``fupin run`` within moments, at any stage.

Python runs signal handlers only in the main thread, between bytecodes, and
Prefect swaps in its own SIGTERM handler while a flow runs: it raises into the
flow, whose unwinding then waits for running batches and retries a dead API. So
the run keeps both signals away from its main thread (threads started later
inherit the block) and a thread of its own waits for them on Python's signal
wake-up pipe, which is written whichever thread the signal lands on. That thread
says in one line that the run was interrupted, ends every child process (API
server, workers, validation process), removes the run's staging folder and exits
with 128 + the signal's number. The load is one DuckDB transaction, so an
interrupted load is never committed and DuckDB discards it.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import resource_tracker
from pathlib import Path
from typing import NoReturn

from fupin.lifeline import RUN_SIGNALS
from fupin.tasks.pipeline import storage
from fupin.tasks.pipeline.run_folders import folders_in_use, loaded_runs


def _noted(signum: int, frame: object) -> None:
    """The main thread's handler, instead of KeyboardInterrupt: the watcher stops the run."""


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Stop the run in this block on SIGINT or SIGTERM; enter it in the main thread.

    Child processes inherit the blocked signals and unblock them themselves
    (``fupin.lifeline.live_with_parent``).
    """
    spared = _start_resource_tracker()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    handlers = {signum: signal.signal(signum, _noted) for signum in RUN_SIGNALS}
    previous_fd = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, RUN_SIGNALS)
    watcher = threading.Thread(target=_wait_for_signal, args=(wake_read, spared),
                               name="fupin-signals", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        os.write(wake_write, _RUN_ENDED)  # a signal that came before still stops the run
        watcher.join()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(previous_fd)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        os.close(wake_read)
        os.close(wake_write)


_RUN_ENDED = b"\0"  # not a signal number


def _start_resource_tracker() -> set[int]:
    """Start multiprocessing's resource tracker now; the processes a stop must spare.

    Started later, it would unblock both signals in the thread that happens to
    start it, handing them to Prefect's handler. It is spared by a stop: once the
    run's processes are gone it removes the semaphores they leave, and its
    warning about them goes to /dev/null instead of under the run's last line.
    """
    stderr = os.dup(2)
    _to_devnull(2)
    try:
        resource_tracker.ensure_running()
    finally:
        os.dup2(stderr, 2)
        os.close(stderr)
    return set(descendants(os.getpid()))


def _wait_for_signal(wake_read: int, spared: set[int]) -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, RUN_SIGNALS)  # a thread that takes them
    while (woken_by := os.read(wake_read, 1)) != _RUN_ENDED:
        if woken_by[0] in RUN_SIGNALS:
            _stop(woken_by[0], spared)


def _stop(signum: int, spared: set[int]) -> NoReturn:
    name = signal.Signals(signum).name
    runs = [storage.name(folder) for folder in folders_in_use()]
    loaded = loaded_runs()
    if loaded:
        line = f"fupin: interrupted by {name} after run {loaded[-1]} was loaded"
    else:
        which = f"run {runs[0]}" if runs else "the run"
        line = f"fupin: {which} was interrupted by {name}; nothing was loaded"
    os.write(2, f"{line}\n".encode())
    _to_devnull(1, 2)  # the flow's threads may still log their batches' errors meanwhile
    end_children(spared)
    for folder in folders_in_use():
        storage.remove_tree(folder)
    end_children(spared)  # a worker a thread started meanwhile
    os._exit(128 + signum)  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


def _to_devnull(*fds: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in fds:
        os.dup2(devnull, fd)
    os.close(devnull)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, children first (Linux: /proc/PID/task/*/children)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                pids = [int(p) for p in children.read_text().split()]
            except OSError:  # the thread or process ended meanwhile
                continue
            found += pids
            todo += pids
    return found


def end_children(spared: set[int]) -> None:
    """SIGKILL every process this one started, and theirs, but ``spared``."""
    for pid in set(descendants(os.getpid())) - spared:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
