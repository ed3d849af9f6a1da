"""A time budget per page, checked cooperatively by the extraction loops.

Extraction runs on worker processes that serve a whole batch, and a thread or a
process cannot be stopped from outside without losing the batch with it. So the
page carries a deadline and the long loops (sentences, segmentation) ask
:func:`check_budget` as they go: a runaway page raises :class:`ExtractTimeout` at the
next check, the stage records it as rejected and the batch goes on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["ExtractTimeout", "check_budget", "deadline"]

_DEADLINE: ContextVar[float | None] = ContextVar("extract_deadline", default=None)


class ExtractTimeout(Exception):
    """The page's extraction ran past its budget."""


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Give the extraction run inside the block ``seconds`` (None: no limit)."""
    token = _DEADLINE.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check_budget() -> None:
    """Raise ExtractTimeout once the current page's deadline has passed."""
    end = _DEADLINE.get()
    if end is not None and time.monotonic() > end:
        raise ExtractTimeout
