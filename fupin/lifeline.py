"""A run's child processes live only as long as the run, whatever ends it.

A parent that is killed outright (SIGKILL, the OOM killer) runs no clean-up, so
each child watches its parent itself. Linux's PR_SET_PDEATHSIG is not enough on
its own: it fires when the *thread* that started the child ends, and workers are
started from task threads. A thread polling the parent's pid works whatever
thread started the child, and on any POSIX system.

Stopping a run is the parent's job (``fupin.interrupt``): a child ignores the
SIGINT a terminal sends to the whole foreground process group, so a Ctrl-C
cannot leave the flow running against a dead API or a half-dead worker pool.
"""

from __future__ import annotations

import os
import signal
import threading
import time

PARENT_POLL_S = 0.25
RUN_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def live_with_parent(parent_pid: int) -> None:
    """Call first thing in a child: ignore the terminal's SIGINT, exit when the parent is gone.

    The parent blocks SIGINT and SIGTERM while it runs (``fupin.interrupt``), and
    children inherit that mask, so both are unblocked here: SIGTERM (and SIGKILL)
    still end a child, SIGINT no longer does.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, RUN_SIGNALS)
    if os.getppid() != parent_pid:  # the parent died before this child got here
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="fupin-parent-watch",
                     daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:  # a child is re-parented when its parent dies
        time.sleep(PARENT_POLL_S)
    os._exit(1)
