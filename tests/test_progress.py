"""The live display of `fupin run` while discover still hands batches on: the batches
known so far and "discovering…", no total, then the total once discover has ended."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from fupin.progress import RunWatcher
from fupin.tasks.pipeline.summary import ProgressPlan, batch_progress, write_progress_plan

WAIT_S = 30  # a hang becomes a failure; the display redraws four times a second


class _Terminal(io.StringIO):
    """What the display writes, kept; it says it is a terminal, so the display is live."""

    def __init__(self) -> None:
        super().__init__()
        self.drawn = threading.Condition()

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self.drawn:
            written = super().write(text)
            self.drawn.notify_all()
        return written

    def wait_for(self, text: str, after: int = 0) -> int:
        """Where ``text`` is first drawn after position ``after`` (waiting for it)."""
        with self.drawn:
            self.drawn.wait_for(lambda: text in self.getvalue()[after:], timeout=WAIT_S)
            found = self.getvalue().find(text, after)
        assert found >= 0, f"{text!r} never drawn: {self.getvalue()[after:][-500:]!r}"
        return found


def test_the_display_shows_discovering_until_discover_ends_then_the_total(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    two = [("batch-00000", 200), ("batch-00001", 200)]
    write_progress_plan(str(run_dir), ProgressPlan("flow-1", two, discovering=True))
    progress = batch_progress(str(run_dir))
    assert progress is not None and (progress.batches, progress.discovering) == (2, True)
    screen = _Terminal()
    with RunWatcher(str(run_dir), show=True, stream=screen):
        seen = screen.wait_for("discovering… 2 batches so far")
        screen.wait_for("0/400+ pages")
        assert "0/2" not in screen.getvalue()  # no total while it may grow
        three = [*two, ("batch-00002", 37)]
        write_progress_plan(str(run_dir), ProgressPlan("flow-1", three))
        done = screen.wait_for("0/3")
        screen.wait_for("0/437 pages", seen)
        assert "discovering" not in screen.getvalue()[done:]
