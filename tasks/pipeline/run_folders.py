"""A run's staging folder, from its creation to its removal however the run ends.

A run loaded, failed or stopped by a signal removes its folder (the stage cache,
``tasks.pipeline.stage_cache``, is separate and kept). A run killed outright cannot, so each
folder records its owner, and the next run removes folders whose owner is gone.
Kept apart from ``tasks.pipeline.staging`` (pyarrow) so that the signal handling of
``fupin run`` can use it before the heavy imports.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fupin.tasks.pipeline.kinds import OWNER

# This process's staging folders still in use, and the runs it has loaded: what a run
# stopped by a signal must remove and report (fupin.interrupt).
_IN_USE: set[Path] = set()
_LOADED: list[str] = []


def _process_identity(pid: int) -> str:
    """A pid and its start time: a pid alone may belong to a later process."""
    try:
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):  # gone, or no /proc: the pid alone
        start = ""
    return f"{pid} {start}"


def new_run_id() -> str:
    """A run's name: sortable by start time, unique without asking anyone."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


def claim_run_folder(folder: Path) -> Path:
    """Create a run's staging folder, recording this process as its owner."""
    folder.mkdir(parents=True)
    _IN_USE.add(folder)
    (folder / OWNER.file).write_text(_process_identity(os.getpid()))
    return folder


def release_run_folder(folder: Path, loaded_run: str | None = None) -> None:
    """Remove a run's staging folder: loaded, failed or stopped, nothing reads it again."""
    if loaded_run:
        _LOADED.append(loaded_run)
    remove_tree(folder)
    _IN_USE.discard(folder)  # only now: a signal meanwhile still removes the rest


def folders_in_use() -> list[Path]:
    return list(_IN_USE)


def loaded_runs() -> list[str]:
    return list(_LOADED)


def remove_tree(folder: Path, attempts: int = 20) -> None:
    """Remove a folder even while a thread of a stopping run may still add a file to it."""
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return


def remove_orphaned_run_folders(root: Path) -> list[Path]:
    """Remove the staging folders whose owning process is gone (killed outright).

    A run that ends in any other way removes its own folder; one killed with
    SIGKILL cannot, and nothing will ever load what it staged. A folder without
    an owner (an older version's) is left alone.
    """
    removed = []
    for owner in root.glob(f"*/{OWNER.file}"):
        try:
            recorded = owner.read_text()
        except OSError:  # its run just removed it
            continue
        pid = recorded.split()[0] if recorded.strip() else ""
        if pid.isdigit() and _process_identity(int(pid)) != recorded:
            remove_tree(owner.parent)
            removed.append(owner.parent)
    return removed
