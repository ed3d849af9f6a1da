"""Where fupin keeps its files, and the environment Prefect and GE must see.

Prefect reads its settings when it is first imported, so ``configure_environment``
runs before any Prefect import (the CLI and the flows call it at import time).
"""

from __future__ import annotations

import ctypes
import math
import os
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


def home_dir() -> Path:
    """The git-ignored working area: Prefect's home, caches, staged load packages."""
    return Path(os.environ.get("FUPIN_HOME", work_root() / ".fupin")).resolve()


def staging_dir() -> Path:
    """Where runs stage their batches; ``staging_dir() / run_id`` is one run's folder."""
    return home_dir() / "staging"


def default_db() -> Path:
    return Path(os.environ.get("FUPIN_DB", work_root() / "warehouse" / "fupin.duckdb"))


class SettingError(ValueError):
    """An environment variable holds a value fupin cannot use; the message names it."""


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _seconds(name: str, default: float, *, zero_ok: bool) -> float:
    """A duration setting, refused with one line naming it when it is no number."""
    raw = _env(name)
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


def lock_wait_seconds() -> float:
    """How long to wait for another process's write to finish (FUPIN_LOCK_WAIT, default 60)."""
    return _seconds("FUPIN_LOCK_WAIT", 60.0, zero_ok=True)


def duckdb_memory_limit() -> str:
    """DuckDB's buffer pool cap (FUPIN_DUCKDB_MEMORY, default 512MB), in DuckDB's syntax."""
    raw = _env("FUPIN_DUCKDB_MEMORY") or "512MB"
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


def worker_count() -> int:
    """FUPIN_WORKERS, else one per core; 1 (or less) means "in this process"."""
    raw = _env("FUPIN_WORKERS")
    if raw is None:
        return max(1, os.cpu_count() or 1)
    try:
        return max(1, int(raw))
    except ValueError:
        raise SettingError(
            f"FUPIN_WORKERS={raw!r} is not a whole number of worker processes") from None


def extract_timeout() -> float:
    """Seconds one page's extraction may take before the page is rejected as
    ``extract_timeout`` (FUPIN_EXTRACT_TIMEOUT, default 30): one runaway page
    cannot hold a run."""
    return _seconds("FUPIN_EXTRACT_TIMEOUT", 30.0, zero_ok=False)


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


def task_runner() -> tuple[str, str]:
    """FUPIN_TASK_RUNNER (default threads) as (kind, argument)."""
    raw = _env("FUPIN_TASK_RUNNER") or "threads"
    try:
        return parse_task_runner(raw)
    except ValueError as exc:
        raise SettingError(f"FUPIN_TASK_RUNNER={raw!r}: {exc}") from None


def check_settings() -> None:
    """Refuse a bad FUPIN_* value before any work starts, not when it is first read."""
    lock_wait_seconds()
    duckdb_memory_limit()
    worker_count()
    extract_timeout()
    task_runner()


def configure_environment() -> None:
    """Keep Prefect and Great Expectations offline, quiet and inside the project."""
    home = home_dir()
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",  # Prefect's client-side telemetry (and its first-run notice)
        # INFO reaches the flow run's Logs tab; the terminal shows warnings and up,
        # or what the user asked Prefect's loggers for
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": _env("PREFECT_LOGGING_LEVEL") or "WARNING",
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
    try:
        arenas = int(os.environ["MALLOC_ARENA_MAX"])
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, arenas)
    except (OSError, AttributeError, ValueError):  # not glibc, or a value glibc ignores too
        return
