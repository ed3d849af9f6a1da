"""Run the `fupin` CLI with its load transaction held open, for crash tests.

    python tests/held_load.py MARKER [fupin arguments...]

Inside the load transaction, after the staged rows are written and before the run is
recorded, the process writes MARKER and sleeps, so a test can kill it there. The hold
lives here, in the tests, by replacing one function of the warehouse module before the
CLI starts; production code has no switch for it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fupin.tasks.warehouse as warehouse
from fupin.cli import main

HOLD_SECONDS = 120


def _held(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        Path(sys.argv[1]).write_text("in load transaction\n", encoding="utf-8")
        time.sleep(HOLD_SECONDS)
        return result

    return wrapper


if __name__ == "__main__":
    warehouse.add_villages = _held(warehouse.add_villages)
    sys.exit(main(sys.argv[2:]))
