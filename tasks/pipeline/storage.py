"""Where a run's files live: a local folder, or object storage named by an fsspec URL.

A location is a string: a plain path (the default, ``$FUPIN_HOME``) or a URL such as
``s3://bucket/prefix``. Workers on other machines share nothing with the flow's
process but that location, so every staged batch, a run's owner and progress files
and the stage cache are read and written through these functions. Plain paths stay
on ``pathlib`` and ``os`` (no fsspec import, no extra copy), so a local run pays
nothing for the URL case.

Writes are whole or absent: a local file goes through a temporary name and a
rename, an object through one PUT of its complete bytes. Kept free of pyarrow and
of fsspec at import, since ``fupin run`` reads owner files before its heavy imports.
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

# A location: a URL or a local path (a Path is taken as its string).
Location = str | os.PathLike[str]


def is_remote(location: Location) -> bool:
    """Whether ``location`` names object storage (or any fsspec URL but ``file://``)."""
    scheme, sep, _ = os.fspath(location).partition("://")
    return bool(sep) and scheme.isidentifier() and scheme != "file"


def local(location: Location) -> str:
    """A local location as a plain path (a ``file://`` URL loses its scheme)."""
    return os.fspath(location).removeprefix("file://")


def join(location: Location, *parts: str) -> str:
    if is_remote(location):
        return posixpath.join(os.fspath(location), *parts)
    return os.path.join(local(location), *parts)


def parent(location: Location) -> str:
    if is_remote(location):
        scheme, _, path = os.fspath(location).partition("://")
        return f"{scheme}://{posixpath.dirname(path.rstrip('/'))}"
    return os.path.dirname(local(location).rstrip(os.sep))


def name(location: Location) -> str:
    if is_remote(location):
        return posixpath.basename(os.fspath(location).rstrip("/"))
    return Path(local(location)).name


@cache
def _filesystem(protocol: str) -> AbstractFileSystem:
    import fsspec

    # No listing cache: other processes add and remove the files this one lists.
    return fsspec.filesystem(protocol, use_listings_cache=False, skip_instance_cache=True)


def filesystem(location: Location) -> tuple[AbstractFileSystem, str]:
    """The fsspec filesystem of a URL (one instance per process) and the path inside it."""
    url = os.fspath(location)
    fs = _filesystem(_scheme(url))
    return fs, fs._strip_protocol(url)


def check_location(location: Location) -> str | None:
    """Why fupin cannot use ``location`` (an unknown scheme, a missing package), or None."""
    if not is_remote(location):
        return None
    try:
        filesystem(location)
    except (ImportError, ValueError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def read_bytes(location: Location) -> bytes | None:
    """A file's bytes, or None when there is none."""
    try:
        if is_remote(location):
            fs, path = filesystem(location)
            return bytes(fs.cat_file(path))
        return Path(local(location)).read_bytes()
    except FileNotFoundError:
        return None


def write_file(location: Location, write: Callable[[str | BinaryIO], object]) -> None:
    """Write a whole file: a reader sees the old one, the new one, or none, never a part.

    ``write`` gets a local path to write (a temporary name, renamed when it returns)
    or, for object storage, a buffer whose bytes become the object in one PUT.
    A local file's folder is made here, but never the folder above it: a run stopped
    by a signal removes its folder while a thread may still be writing a batch, and
    the write must fail rather than bring the run's folder back.
    """
    if is_remote(location):
        buffer = io.BytesIO()
        write(buffer)
        fs, path = filesystem(location)
        fs.pipe_file(path, buffer.getvalue())
        return
    path = Path(local(location))
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    write(str(tmp))
    tmp.replace(path)


def write_bytes(location: Location, data: bytes) -> None:
    write_file(location, lambda target: target.write(data) if not isinstance(target, str)
               else Path(target).write_bytes(data))


def problem_writing(location: Location) -> str | None:
    """Why a file cannot be written and removed under ``location`` (a missing bucket, no
    permission), or None: asked before a run does any work, not found out mid-run."""
    probe = join(location, f".fupin-probe-{os.getpid()}-{threading.get_ident()}")
    try:
        make_folder(location)
        write_bytes(probe, b"")
        remove_file(probe)
    except Exception as exc:  # any backend's error: its first line is the reason
        return (str(exc).splitlines() or [type(exc).__name__])[0]
    return None


def remove_file(location: Location) -> None:
    if is_remote(location):
        fs, path = filesystem(location)
        fs.rm_file(path)
    else:
        os.remove(local(location))


def exists(location: Location) -> bool:
    if is_remote(location):
        fs, path = filesystem(location)
        return bool(fs.exists(path))
    return os.path.exists(local(location))


def make_folder(location: Location) -> None:
    """Create a folder with its parents (object storage has none to make)."""
    if not is_remote(location):
        Path(local(location)).mkdir(parents=True, exist_ok=True)


def glob(location: Location, pattern: str) -> list[str]:
    """What under ``location`` matches ``pattern``, sorted, as locations."""
    if is_remote(location):
        fs, path = filesystem(location)
        found = fs.glob(posixpath.join(path, pattern))
        return sorted(f"{_scheme(location)}://{each}" for each in found)
    return sorted(str(p) for p in Path(local(location)).glob(pattern))


def files_under(location: Location) -> set[str]:
    """Every file below ``location``, as paths relative to it, from one listing."""
    if is_remote(location):
        fs, path = filesystem(location)
        root = path.rstrip("/") + "/"
        return {found[len(root):] for found in fs.find(root)}
    # os.walk, not Path.rglob: the progress artifact lists a run's folder twice a batch,
    # and rglob's per-entry objects cost about eight times as much
    root = os.fspath(local(location))
    out = set()
    for folder, _, names in os.walk(root):
        rel = os.path.relpath(folder, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        out.update(prefix + name for name in names)
    return out


def copy(source: Location, target: Location) -> None:
    """Copy one file: on one disk or within one store directly (server-side in object
    storage), between a disk and a store through this process."""
    remote = (is_remote(source), is_remote(target))
    if remote == (False, False):
        shutil.copyfile(local(source), local(target))
    elif remote == (True, True) and _scheme(source) == _scheme(target):
        fs, path = filesystem(source)
        fs.copy(path, filesystem(target)[1])
    else:
        data = read_bytes(source)
        if data is None:
            raise FileNotFoundError(os.fspath(source))
        write_bytes(target, data)


def _scheme(location: Location) -> str:
    return os.fspath(location).partition("://")[0]


def remove_tree(location: Location, attempts: int = 20) -> None:
    """Remove a folder (every object under a prefix), even while a thread of a stopping
    run may still add a file to it."""
    if is_remote(location):
        fs, path = filesystem(location)
        for _ in range(attempts):
            found = fs.find(path.rstrip("/") + "/")
            if not found:
                return
            fs.rm(found)
        return
    folder = Path(local(location))
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return


@contextmanager
def local_copy(location: Location, beside: Path) -> Iterator[str]:
    """``location`` as a local folder: itself, or for object storage a copy of every file
    under it, downloaded concurrently into a temporary folder in ``beside`` and removed
    afterwards. DuckDB reads a local copy of a run about 20 times faster than the same
    objects through an fsspec filesystem registered on it (many small reads through
    Python), and ``beside`` (the warehouse's folder) has room, where /tmp may be memory.
    """
    if not is_remote(location):
        yield local(location)
        return
    fs, path = filesystem(location)
    with tempfile.TemporaryDirectory(prefix=".fupin-load-", dir=beside) as tmp:
        files = fs.find(path.rstrip("/") + "/")
        if files:
            root = path.rstrip("/") + "/"
            fs.get(files, [os.path.join(tmp, f[len(root):]) for f in files])
        yield tmp
