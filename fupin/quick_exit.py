"""Leave the ``fupin`` command without the interpreter's teardown.

Once a run is over, Python's exit collects the whole heap once more and unloads
every module (Prefect, Great Expectations, pandas, DuckDB): about 0.4 s of a 6.5 s
re-run, spent freeing memory that the process gives back anyway. ``arm(code)`` makes
the last exit handler end the process with ``code`` instead, after everything that
matters has happened: Prefect has sent its logs and events (when its threads stop,
before any exit handler), the other handlers have stopped the run's Prefect API and
flushed the logs, and the standard streams are flushed here.

The handler is registered when fupin is first imported, before any other, so that it
runs after all of them. It does nothing unless armed, and only the command arms it,
after ``main`` has returned: a test calling ``main`` in its own process, a worker
process and an uncaught exception all end the usual way.
"""

from __future__ import annotations

import atexit
import os
import sys
from contextlib import suppress

_armed: list[int] = []


def arm(code: int) -> None:
    """End the process with ``code`` at the last exit handler."""
    _armed[:] = [code]


def _leave() -> None:
    if not _armed:
        return
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None: the process started with the stream closed
            with suppress(OSError, ValueError):  # a closed pipe or stream: nothing to show
                stream.flush()
    os._exit(_armed[0])


atexit.register(_leave)
