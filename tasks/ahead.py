"""Work done before the flow asks for it, while ``fupin run`` waits for the Prefect API.

An ad-hoc re-run over unchanged pages is mostly waiting: about 2 s for its API, then
discover reads the warehouse and every file. Computed during that wait, a value is
kept with a stamp of what it came from (sizes, modification times and inodes of files) and
handed out once, only while the stamp still holds; otherwise the caller computes it
as it would have.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

Stamp = tuple[int, int, int] | None


# A file modified this recently may be modified again within the same tick of its
# file system's clock (a second or two on some), keeping its stamp: what is read of
# it then is not kept (git's "racily clean" rule).
SETTLED_S = 2.0


def file_stamp(path: Path | str) -> Stamp:
    """A file's size, modification time and inode; None when it cannot be looked at."""
    try:
        stat = os.stat(path)  # not Path.stat: half the cost, over every held file of a re-run
    except (OSError, ValueError):  # ValueError: a path holding a NUL character
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def settled(*stamps: Stamp) -> bool:
    """Whether no file of ``stamps`` was modified within SETTLED_S seconds (a missing
    file is settled): only then may a value read from them be kept."""
    now = time.time_ns()
    return all(s is None or now - s[1] >= SETTLED_S * 1e9 for s in stamps)


class Ahead(Generic[T]):
    """Values computed ahead, each taken at most once while its stamp holds."""

    def __init__(self) -> None:
        self._kept: dict[Hashable, tuple[Hashable, T]] = {}
        self._lock = threading.Lock()

    def keep(self, key: Hashable, stamp: Hashable, value: T) -> None:
        """Keep ``value``; ``stamp`` must be taken before the value is computed, so a
        change while it is computed shows as another stamp."""
        with self._lock:
            self._kept[key] = (stamp, value)

    def take_or(self, key: Hashable, stamp: Callable[[], Hashable],
                compute: Callable[[], T]) -> T:
        """The value kept for ``key`` if it was kept under the stamp ``stamp()`` gives
        now (then forgotten), else ``compute()``. ``stamp`` is called only when a value
        is kept: a run that computed nothing ahead looks at no file for it."""
        with self._lock:
            kept = self._kept.pop(key, None)
        if kept is not None and kept[0] == stamp():
            return kept[1]
        return compute()
