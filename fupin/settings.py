"""Where fupin keeps its files, its settings, and the environment Prefect and GE must see.

Every FUPIN_* variable is read in one place, ``Settings.from_env``, once per process
(``settings()``). Prefect reads its own settings when it is first imported, so
``configure_environment`` runs before any Prefect import (the CLI and the flows call
it at import time).
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_parent = PACKAGE_DIR.parent
# A checkout keeps tasks/, schemas/, warehouse/ beside fupin/; an installed fupin keeps
# them inside the package. CODE_ROOT is whichever holds them.
CHECKOUT: Path | None = (
    _parent if (_parent / "pyproject.toml").is_file() and (_parent / "tasks").is_dir() else None
)
CODE_ROOT = CHECKOUT or PACKAGE_DIR
SCHEMAS_DIR = CODE_ROOT / "schemas"
SQL_DIR = CODE_ROOT / "warehouse"  # schema.sql and the example queries
SAMPLES_DIR = CODE_ROOT / "samples"


def work_root() -> Path:
    """Where the default warehouse and working area live: the checkout, or for an
    installed fupin the current directory — never site-packages."""
    return CHECKOUT or Path.cwd()


class SettingError(ValueError):
    """An environment variable holds a value fupin cannot use; the message names it."""


TASK_RUNNER_KINDS = "threads, processes[:N], dask or dask:ADDRESS"


def parse_task_runner(spec: str) -> tuple[str, str]:
    """Split a task-runner choice into its kind and argument, or raise ValueError.

    Checked before any work, so a typo costs one line, not a run that fails mid-way.
    """
    kind, _, arg = spec.strip().partition(":")
    if kind not in ("threads", "processes", "dask"):
        raise ValueError(f"unknown task runner {spec!r}: use {TASK_RUNNER_KINDS}")
    if kind != "dask" and arg and not (arg.isdigit() and int(arg) >= 1):
        raise ValueError(f"{kind}:{arg} needs a whole number ≥ 1 after the colon")
    if kind == "dask" and ":" in spec and not arg:
        raise ValueError("dask: needs the scheduler's address after the colon")
    return kind, arg


DEFAULT_BATCH_SIZE = 200


@dataclass(frozen=True)
class Settings:
    """Every FUPIN_* variable, read once per process and checked all together, so a
    bad value is one line naming it before any work starts, not an error mid-run.

    A run's choices that a caller may override (workers, task runner, batch size)
    are only defaults here: the flow takes them as parameters.
    """

    home: Path  # FUPIN_HOME: Prefect's home, and the default storage
    # FUPIN_STORAGE: staged batches and the stage cache; a folder (default FUPIN_HOME) or
    # an fsspec URL (s3://bucket/prefix) that Dask workers on other machines share
    storage: str
    db: Path  # FUPIN_DB: the default warehouse
    workers: int  # FUPIN_WORKERS: worker processes, one per core unless set
    task_runner: str  # FUPIN_TASK_RUNNER: threads (default), processes[:N], dask[:ADDRESS]
    batch_size: int  # FUPIN_BATCH_SIZE: pages per batch
    lock_wait: float  # FUPIN_LOCK_WAIT: seconds to wait for another process's write
    duckdb_memory: str  # FUPIN_DUCKDB_MEMORY: DuckDB's buffer pool cap, in its syntax
    extract_timeout: float  # FUPIN_EXTRACT_TIMEOUT: seconds one page's extraction may take

    @property
    def staging_dir(self) -> str:
        """Where runs stage their batches; ``staging_dir/<run_id>`` is one run's folder."""
        return _join(self.storage, "staging")

    @property
    def cache_dir(self) -> str:
        """Clean and extract results by content hash and code version (tasks.stage_cache)."""
        return _join(self.storage, "cache")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        home = _home(env)
        return cls(
            home=home,
            storage=_storage(env, home),
            db=Path(_value(env, "FUPIN_DB") or work_root() / "warehouse" / "fupin.duckdb"),
            workers=_count(env, "FUPIN_WORKERS", os.cpu_count() or 1, "worker processes"),
            task_runner=_task_runner(env),
            batch_size=_count(env, "FUPIN_BATCH_SIZE", DEFAULT_BATCH_SIZE, "pages"),
            lock_wait=_seconds(env, "FUPIN_LOCK_WAIT", 60.0, zero_ok=True),
            duckdb_memory=_duckdb_memory(env),
            extract_timeout=_seconds(env, "FUPIN_EXTRACT_TIMEOUT", 30.0, zero_ok=False),
        )


@cache
def settings() -> Settings:
    """This process's settings, read from its environment the first time they are needed."""
    return Settings.from_env(os.environ)


def _value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _home(env: Mapping[str, str]) -> Path:
    """The git-ignored working area: Prefect's home, caches, staged batches."""
    return Path(_value(env, "FUPIN_HOME") or work_root() / ".fupin").resolve()


def _seconds(env: Mapping[str, str], name: str, default: float, *, zero_ok: bool) -> float:
    raw = _value(env, name)
    if raw is None:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero_ok):
        kind = "a number" if zero_ok else "a positive number"
        raise SettingError(f"{name}={raw!r} is not {kind} of seconds (e.g. {default:g})")
    return seconds


def _count(env: Mapping[str, str], name: str, default: int, what: str) -> int:
    """A whole number; 1 (or less) counts as 1."""
    raw = _value(env, name)
    if raw is None:
        return default
    try:
        return max(1, int(raw))
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number of {what}") from None


def _join(location: str, part: str) -> str:
    from fupin.tasks.pipeline.storage import join

    return join(location, part)


def _storage(env: Mapping[str, str], home: Path) -> str:
    """A folder (made absolute: workers must find the same one) or a URL fsspec can open."""
    from fupin.tasks.pipeline.storage import check_location, is_remote

    raw = _value(env, "FUPIN_STORAGE")
    if raw is None:
        return str(home)
    if not is_remote(raw):
        return str(Path(raw.removeprefix("file://")).expanduser().resolve())
    problem = check_location(raw)
    if problem:
        raise SettingError(f"FUPIN_STORAGE={raw!r} cannot be opened: {problem}")
    return raw.rstrip("/")


def _task_runner(env: Mapping[str, str]) -> str:
    raw = _value(env, "FUPIN_TASK_RUNNER") or "threads"
    try:
        parse_task_runner(raw)
    except ValueError as exc:
        raise SettingError(f"FUPIN_TASK_RUNNER={raw!r}: {exc}") from None
    return raw


def _duckdb_memory(env: Mapping[str, str]) -> str:
    raw = _value(env, "FUPIN_DUCKDB_MEMORY") or "512MB"
    if not _is_duckdb_memory(raw):
        raise SettingError(
            f"FUPIN_DUCKDB_MEMORY={raw!r} is not a memory size DuckDB understands "
            "(e.g. 512MB, 2GB or 50%)")
    return raw


@cache
def _is_duckdb_memory(value: str) -> bool:
    """DuckDB itself judges the value, so fupin accepts exactly what DuckDB does."""
    import duckdb

    try:
        duckdb.connect(":memory:", config={"memory_limit": value}).close()
    except duckdb.Error:
        return False
    return True


def configure_environment() -> None:
    """Keep Prefect and Great Expectations offline, quiet and inside the project.

    Only FUPIN_HOME is read here (the CLI and the flows call this at import time);
    the rest of the settings are checked when ``settings()`` first reads them.
    """
    home = _home(os.environ)
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",  # Prefect's client-side telemetry (and its first-run notice)
        # INFO reaches the flow run's Logs tab; the terminal shows warnings and up,
        # or what the user asked Prefect's loggers for
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": _value(os.environ, "PREFECT_LOGGING_LEVEL")
        or "WARNING",
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.5",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "TQDM_DISABLE": "1",
        "DASK_LOGGING__DISTRIBUTED": "warning",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    use_lean_allocators()


# glibc gives each thread that allocates an arena of its own (up to 8 per core) and
# Arrow's default mimalloc keeps freed pages; a run's processes then hold memory they
# no longer use. Two arenas and Arrow on the system allocator took a 3,000-page run's
# process tree from 1.68 to 1.49 GB at the same speed (bench/README.md).
LEAN_ALLOCATORS = {"MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system"}
_M_ARENA_MAX = -8  # mallopt parameter number, from glibc's malloc.h


def use_lean_allocators() -> None:
    """Set LEAN_ALLOCATORS for the processes a run starts, and the arena cap for this one.

    glibc reads MALLOC_ARENA_MAX when a process starts, so this process gets it
    through mallopt; pyarrow reads its variable on first use. A value the user
    set is kept.
    """
    for key, value in LEAN_ALLOCATORS.items():
        os.environ.setdefault(key, value)
    libc = _glibc()
    try:
        arenas = int(os.environ["MALLOC_ARENA_MAX"])
    except ValueError:  # a value glibc ignores too
        return
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, arenas)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Import and warm up with Python's cyclic garbage collector off, then turn it back on.

    Importing Prefect, Great Expectations or the stages makes hundreds of thousands of
    objects, none of them garbage, and the collector, run every few hundred new
    objects, walks them again and again: a fifth of the Prefect API's start-up (2.4 →
    1.95 s, bench/README.md). Each process of a run pauses it while it imports and
    warms up, and only then: cycles left by its real work are still collected.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def release_free_memory() -> None:
    """Hand the heap's free pages back to the system (glibc keeps them otherwise).

    A stage worker calls it after each batch: the batch's pages, bodies and Arrow
    buffers are freed by then, and without it each worker grew by about 15 MB more
    over a long run. The call takes about a millisecond.
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@cache
def _glibc() -> ctypes.CDLL | None:
    """glibc, or None on a system without it (its malloc tuning then does not apply)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
