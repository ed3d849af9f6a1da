"""Access to the shared seed pages and gold facts for the extraction tests.

The shared folder sits next to the repository (``../shared``). When it is
missing the tests that need it are skipped, unless FUPIN_REQUIRE_SHARED=1, in
which case they fail: CI sets that flag so a missing mount cannot pass silently.

Bodies are cut from the raw dumps with the first and last body lines recorded
in ``gold/documents.jsonl`` (an exact cut, independent of the chrome stripper);
pages without such a record get a crude cut: the lines from the first long
prose line to the last one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GOLD = SHARED / "gold"
SEEDS = SHARED / "seeds"


def require_shared() -> Path:
    """The shared folder, or skip (fail when FUPIN_REQUIRE_SHARED=1)."""
    if not (GOLD / "facts.jsonl").is_file() or not SEEDS.is_dir():
        reason = "shared data (../shared beside the repository: gold/ and seeds/) not found"
        if os.environ.get("FUPIN_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " and FUPIN_REQUIRE_SHARED=1")
        pytest.skip(reason)
    return SHARED


@dataclass(frozen=True)
class SeedDoc:
    seed: str
    raw: str
    body: str
    title: str | None
    published: date | None


def _documents() -> dict[str, dict]:
    path = GOLD / "documents.jsonl"
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {r["seed"]: r for r in rows}


def _crude_cut(raw: str) -> str:
    lines = raw.splitlines(keepends=True)
    prose = [i for i, line in enumerate(lines) if len(line.strip()) >= 60]
    if not prose:
        return raw
    return "".join(lines[prose[0] : prose[-1] + 1])


def load_seed(seed: str) -> SeedDoc:
    raw = (SEEDS / f"{seed}.txt").read_text(encoding="utf-8")
    meta = _documents().get(seed)
    if meta:
        a = raw.index(meta["body_first_line"])
        b = raw.index(meta["body_last_line"], a) + len(meta["body_last_line"])
        published = date.fromisoformat(meta["published"]) if meta.get("published") else None
        return SeedDoc(seed, raw, raw[a:b], meta.get("title"), published)
    return SeedDoc(seed, raw, _crude_cut(raw), None, None)


def all_seeds() -> list[str]:
    return sorted(p.stem for p in SEEDS.glob("*.txt"))
