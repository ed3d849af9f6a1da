"""Locate the shared evaluation data (../shared beside the repository) for tests.

The seeds, gold files and news_bench corpus are not part of the repository. Tests
that need them skip with a clear reason when they are absent, unless
FUPIN_REQUIRE_SHARED=1 is set (as in CI), in which case absence is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    """Path under ../shared, or skip (fail when FUPIN_REQUIRE_SHARED=1) if it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        where = "/".join(("..", "shared", *parts))
        if os.environ.get("FUPIN_REQUIRE_SHARED") == "1":
            pytest.fail(f"shared data {where} is missing and FUPIN_REQUIRE_SHARED=1")
        pytest.skip(f"shared data {where} not found beside the repository")
    return path
