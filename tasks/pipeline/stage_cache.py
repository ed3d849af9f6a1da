"""Reuse clean and extract results for pages whose bytes and code are unchanged.

A stage's output for a batch is a pure function of the pages' content and of the
code and data files that implement the stage, so it is cached under a key made of
both. A full re-validation over unchanged pages (or a re-run after a failed load)
then skips the expensive work. Any edit to a stage's code or schema files changes
its version and so misses the cache. The cache is a location of
``tasks.pipeline.storage`` (``$FUPIN_STORAGE/cache``), so workers that share object
storage share it too.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from fupin.tasks.pipeline import storage

ROOT = Path(__file__).resolve().parents[2]

# Everything a stage's output depends on: its own code and data, the record types,
# the registry of staged files and their schemas, how batches are read, written and
# cached, the pinned libraries, and for extract everything clean depends on too (it
# reads clean's output: a new date rule must re-extract). tests/test_stage_cache.py
# checks that every module the stages import and every data file they name is here.
_SHARED = ("tasks/models.py", "tasks/pipeline/kinds.py", "tasks/pipeline/records.py",
           "tasks/pipeline/staging.py", "tasks/pipeline/stages.py",
           "tasks/pipeline/stage_cache.py", "tasks/pipeline/storage.py", "tasks/acquire/*.py",
           "tasks/ahead.py",
           "requirements.lock")
_CLEAN = ("tasks/clean/*.py", "tasks/wordlists.py", "schemas/discovery.yaml",
          "schemas/chrome_cues.yaml",
          "schemas/mask_repairs.yaml", "schemas/script_variants.yaml")
STAGE_FILES: dict[str, tuple[str, ...]] = {
    "clean": (*_SHARED, *_CLEAN),
    "extract": (*_SHARED, *_CLEAN, "tasks/extract/*.py", "schemas/indicators.yaml",
                "schemas/regions.csv", "schemas/townships.csv", "schemas/region_words.yaml",
                "schemas/region_renames.csv"),
}


@cache
def code_version(stage: str) -> str:
    """A hash of every file the stage's output depends on."""
    digest = hashlib.sha256()
    for pattern in STAGE_FILES[stage]:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(stage: str, pages: Iterable[tuple[str, str]]) -> str:
    """Key of a batch: the stage's code version and each page's key and content hash."""
    digest = hashlib.sha256(code_version(stage).encode())
    for doc_key, sha in sorted(pages):
        digest.update(f"{doc_key}\x1f{sha}\n".encode())
    return digest.hexdigest()


# Written last into an entry's folder: an entry without it is not one.
_COMPLETE = "complete"


def restore(cache_dir: storage.Location, key: str, folder: storage.Location,
            files: tuple[str, ...]) -> bool:
    """Copy a cached result into ``folder``; False on a miss."""
    entry = storage.join(cache_dir, key[:2], key)
    if not storage.exists(storage.join(entry, _COMPLETE)):
        return False
    for name in files:
        storage.copy(storage.join(entry, name), storage.join(folder, name))
    return True


def store(cache_dir: storage.Location, key: str, folder: storage.Location,
          files: tuple[str, ...]) -> None:
    """Save a batch's result, its completion marker last, so readers never see half.

    On a local disk the entry is written in a folder of its own and renamed (two
    workers may store the same batch: two empty batches do); in object storage each
    object is put whole, and two writers of one entry write the same bytes.
    """
    entry = storage.join(cache_dir, key[:2], key)
    if storage.exists(storage.join(entry, _COMPLETE)):
        return
    remote = storage.is_remote(entry)
    target = entry if remote else f"{entry}.{os.getpid()}.{threading.get_ident()}.tmp"
    if not remote:
        storage.remove_tree(target)
        Path(target).mkdir(parents=True)
    for name in files:
        storage.copy(storage.join(folder, name), storage.join(target, name))
    storage.write_bytes(storage.join(target, _COMPLETE), b"")
    if remote:
        return
    try:
        Path(target).rename(entry)
    except OSError:  # another worker stored the same batch first
        storage.remove_tree(target)
