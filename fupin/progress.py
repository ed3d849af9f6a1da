"""What `fupin run` shows while a run goes: how far its batches have got, on stderr.

The flow writes nothing for the terminal; this watcher reads the run's staging folder
(``tasks.pipeline.summary.batch_progress``) from a thread of its own. On a terminal it draws a
live display with rich (a row per stage: batches fetched, cleaned, extracted and
validated; pages and pages per second; elapsed time and ETA). Discover hands batches
on as it writes them, so until it ends the total is the batches known so far, shown
as "discovering…" with no ETA. Off a terminal (a log
file, a cron mail) it stays quiet: the run id before and the summary after say enough.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from fupin.tasks.pipeline import storage
from fupin.tasks.pipeline.summary import Progress as RunProgress
from fupin.tasks.pipeline.summary import batch_progress

POLL_SECONDS = 0.25
# A look at a run in object storage is a GET and a listing of every staged object
REMOTE_POLL_SECONDS = 2.0
STAGES = ("fetched", "cleaned", "extracted", "validated")  # a row each, in the flow's order


class _CursorKeepingConsole(Console):
    """A run stopped by a signal exits at once, without unwinding the display: a
    hidden cursor would stay hidden in the user's terminal, so it is never hidden."""

    def show_cursor(self, show: bool = True) -> bool:
        return False


class RunWatcher:
    """Follow one run's staging folder until ``stop()``.

    ``on_flow_run`` is called once with the flow run's id as soon as the flow has
    recorded it (the CLI prints the Prefect UI link then).
    """

    def __init__(self, run_dir: str, *, show: bool,
                 on_flow_run: Callable[[str], None] | None = None,
                 stream: TextIO | None = None) -> None:
        self.run_dir = run_dir
        self.show = show
        self.on_flow_run = on_flow_run
        self.stream = stream or sys.stderr
        self.live = show and self.stream.isatty()
        self._stop = threading.Event()
        self._completed = False
        self._thread = threading.Thread(target=self._watch, name="fupin-progress", daemon=True)
        self._display: Progress | None = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> RunWatcher:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.stop(completed=exc_type is None)

    def stop(self, completed: bool = False) -> None:
        """``completed``: the flow returned, so every batch went through, even if the
        last ones finished between two looks at the folder the load has since removed."""
        self._completed = completed
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        flow_run_told = False
        last: RunProgress | None = None
        while True:
            stopping = self._stop.wait(
                REMOTE_POLL_SECONDS if storage.is_remote(self.run_dir) else POLL_SECONDS)
            progress = batch_progress(self.run_dir)
            if progress is None:  # not started, or loaded and gone: keep the last view
                progress = last
            if stopping and self._completed and progress and progress.batches:
                n = progress.batches
                progress = replace(progress, fetched=n, cleaned=n, extracted=n, validated=n,
                                   pages_extracted=progress.pages, discovering=False)
            if progress is not None:
                if progress.flow_run_id and not flow_run_told and self.on_flow_run:
                    self.on_flow_run(progress.flow_run_id)
                    flow_run_told = True
                if self.show and progress.batches:
                    self._show(progress)
                last = progress
            if stopping:
                break
        if self._display is not None:
            self._display.stop()

    def _show(self, p: RunProgress) -> None:
        if self.live:
            self._draw(p)

    def _draw(self, p: RunProgress) -> None:
        if self._display is None:
            self._display = Progress(
                TextColumn("{task.description:<9}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("batches"),
                TextColumn("{task.fields[pages]}"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=_CursorKeepingConsole(file=self.stream),
                refresh_per_second=4,
                redirect_stdout=False,  # stdout may be a pipe to a program, never the display
            )
            self._tasks = {stage: self._display.add_task(stage, total=None, pages="", rate="",
                                                         note="")
                           for stage in STAGES}
            self._display.start()
        # While discover still writes batches the total is unknown: no total, so no ETA
        # (rich shows ?), and the batches known so far beside "discovering…".
        total = None if p.discovering else p.batches
        for stage in STAGES:
            self._display.update(self._tasks[stage], completed=getattr(p, stage), total=total)
        self._display.update(self._tasks[STAGES[0]], note=(
            f"discovering… {p.batches:,} batches so far" if p.discovering else ""))
        task = next(t for t in self._display.tasks if t.id == self._tasks["extracted"])
        elapsed = task.elapsed or 0.0
        rate = f"{p.pages_extracted / elapsed:,.1f} pages/s" if elapsed and p.pages_extracted \
            else ""
        more = "+" if p.discovering else ""
        self._display.update(self._tasks["extracted"], rate=rate,
                             pages=f"{p.pages_extracted:,}/{p.pages:,}{more} pages")
