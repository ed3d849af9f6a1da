"""A run's staging folder, from its creation to its removal however the run ends.

A run loaded, failed or stopped by a signal removes its folder (the stage cache,
``tasks.pipeline.stage_cache``, is separate and kept). A run killed outright cannot, so each
folder records its owner (host, process and the process's start), and the next run on
that host removes folders whose owner is gone. A folder is a location of
``tasks.pipeline.storage``, so this holds for object storage too; there a run can
only judge the owners on its own host (another host's processes are not visible),
so a folder of a run killed on another host stays until a run on that host or a
lifecycle rule of the bucket removes it. Kept apart from ``tasks.pipeline.staging``
(pyarrow) so that the signal handling of ``fupin run`` can use it before the heavy
imports.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fupin.tasks.pipeline import storage
from fupin.tasks.pipeline.kinds import OWNER

# This process's staging folders still in use, and the runs it has loaded: what a run
# stopped by a signal must remove and report (fupin.interrupt).
_IN_USE: set[storage.Location] = set()
_LOADED: list[str] = []


def _process_identity(pid: int) -> str:
    """A pid and its start time: a pid alone may belong to a later process."""
    try:
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):  # gone, or no /proc: the pid alone
        start = ""
    return f"{pid} {start}"


def _owner_record(pid: int) -> str:
    """What an owner file holds: the process's identity, and on a line of its own its host."""
    return f"{_process_identity(pid)}\n{socket.gethostname()}"


def _owner_gone(recorded: str) -> bool:
    """Whether the process an owner file names has ended. Only judged on its own host; a
    record without a host is an older version's, written where the folder is."""
    identity, _, host = recorded.partition("\n")
    if host and host != socket.gethostname():
        return False
    pid = identity.split()[0] if identity.strip() else ""
    return pid.isdigit() and _process_identity(int(pid)) != identity


def new_run_id() -> str:
    """A run's name: sortable by start time, unique without asking anyone."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


def claim_run_folder(folder: storage.Location) -> storage.Location:
    """Create a run's staging folder, recording this process as its owner."""
    owner = storage.join(folder, OWNER.file)
    if storage.exists(owner):  # a run id is unique: a folder of that name is another run's
        raise FileExistsError(f"the staging folder {folder} is already claimed")
    storage.make_folder(folder)
    _IN_USE.add(folder)
    storage.write_bytes(owner, _owner_record(os.getpid()).encode())
    return folder


def release_run_folder(folder: storage.Location, loaded_run: str | None = None) -> None:
    """Remove a run's staging folder: loaded, failed or stopped, nothing reads it again."""
    if loaded_run:
        _LOADED.append(loaded_run)
    storage.remove_tree(folder)
    _IN_USE.discard(folder)  # only now: a signal meanwhile still removes the rest


def folders_in_use() -> list[storage.Location]:
    return list(_IN_USE)


def loaded_runs() -> list[str]:
    return list(_LOADED)


def remove_orphaned_run_folders(root: storage.Location) -> list[str]:
    """Remove the staging folders whose owning process is gone (killed outright).

    A run that ends in any other way removes its own folder; one killed with
    SIGKILL cannot, and nothing will ever load what it staged. A folder without
    an owner (an older version's) is left alone.
    """
    removed = []
    for owner in storage.glob(root, f"*/{OWNER.file}"):
        try:
            recorded = (storage.read_bytes(owner) or b"").decode()
        except OSError:  # its run just removed it
            continue
        if _owner_gone(recorded):
            folder = storage.parent(owner)
            storage.remove_tree(folder)
            removed.append(folder)
    return removed
