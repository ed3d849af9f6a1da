"""Where fupin keeps its files, and the environment Prefect and GE must see.

Prefect reads its settings when it is first imported, so ``configure_environment``
runs before any Prefect import (the CLI and the flows call it at import time).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = PROJECT_ROOT / "schemas"
WAREHOUSE_DIR = PROJECT_ROOT / "warehouse"
SAMPLES_DIR = PROJECT_ROOT / "samples"


def home_dir() -> Path:
    """The git-ignored working area: Prefect's home, caches, staged load packages."""
    return Path(os.environ.get("FUPIN_HOME", PROJECT_ROOT / ".fupin")).resolve()


def default_db() -> Path:
    return Path(os.environ.get("FUPIN_DB", WAREHOUSE_DIR / "fupin.duckdb"))


def configure_environment() -> None:
    """Keep Prefect and Great Expectations offline, quiet and inside the project."""
    home = home_dir()
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.5",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "TQDM_DISABLE": "1",
        "DASK_LOGGING__DISTRIBUTED": "warning",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
