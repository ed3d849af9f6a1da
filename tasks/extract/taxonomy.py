"""The indicator taxonomy and extraction lexicon, read from ``schemas/indicators.yaml``.

Domain knowledge (cue words, units, qualifiers, time words) lives in YAML so that
adding an indicator or a synonym is a data edit reviewed by people who know the
field, not a code change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
DEFAULT_PATH = SCHEMAS / "indicators.yaml"
MEASURES = ("stock", "flow", "rate", "level")


@dataclass(frozen=True)
class Indicator:
    """One row of dim_indicator plus the cue data the extractor matches on."""

    code: str
    name_zh: str
    name_en: str
    unit: str
    measure: str
    min_value: float
    max_value: float
    integer: bool
    cues: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    event_nouns: tuple[str, ...] = ()
    bare: bool = False
    purpose: str | None = None
    exclude: tuple[str, ...] = ()
    min_plausible: float | None = None
    negated: str | None = None  # the stock a negated event counts (未脱贫 -> poor_population)
    whole_stock: bool = False  # "带动N户贫困户", "新识别N户": some of them, not this stock


@dataclass(frozen=True)
class Taxonomy:
    indicators: tuple[Indicator, ...]
    lexicon: dict[str, Any] = field(default_factory=dict)

    def by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}


def _indicator(raw: dict[str, Any]) -> Indicator:
    code = raw["code"]
    if raw["measure"] not in MEASURES:
        raise ValueError(f"{code}: measure must be one of {MEASURES}")
    lo, hi = float(raw["min_value"]), float(raw["max_value"])
    if lo > hi:
        raise ValueError(f"{code}: min_value > max_value")
    return Indicator(
        code=code,
        name_zh=raw["name_zh"],
        name_en=raw["name_en"],
        unit=raw["unit"],
        measure=raw["measure"],
        min_value=lo,
        max_value=hi,
        integer=bool(raw.get("integer", False)),
        cues=tuple(raw.get("cues") or ()),
        patterns=tuple(raw.get("patterns") or ()),
        events=tuple(raw.get("events") or ()),
        event_nouns=tuple(raw.get("event_nouns") or ()),
        bare=bool(raw.get("bare", False)),
        purpose=raw.get("purpose"),
        exclude=tuple(raw.get("exclude") or ()),
        min_plausible=raw.get("min_plausible"),
        negated=raw.get("negated"),
        whole_stock=bool(raw.get("whole_stock", False)),
    )


def load_file(path: Path | None = None) -> Taxonomy:
    """Indicators and lexicon of one YAML file (validated: unique codes, known measures)."""
    data = yaml.safe_load((path or DEFAULT_PATH).read_text(encoding="utf-8"))
    indicators = tuple(_indicator(r) for r in data["indicators"])
    codes = [i.code for i in indicators]
    if len(set(codes)) != len(codes):
        raise ValueError("duplicate indicator codes in taxonomy")
    for i in indicators:
        if i.negated is not None and i.negated not in codes:
            raise ValueError(f"{i.code}: negated names an unknown indicator {i.negated!r}")
    return Taxonomy(indicators=indicators, lexicon=data.get("lexicon") or {})


@lru_cache(maxsize=4)
def _cached(path: str) -> Taxonomy:
    return load_file(Path(path))


def load(path: Path | None = None) -> Taxonomy:
    """Cached :func:`load_file`: the extractor asks for it many times per page."""
    if path is None:
        return _default()
    return _cached(str(path.resolve()))


@lru_cache(maxsize=1)
def _default() -> Taxonomy:
    return _cached(str(DEFAULT_PATH.resolve()))


def load_taxonomy(path: Path | None = None) -> list[Indicator]:
    """The indicators (dim_indicator rows, validation bounds and units)."""
    return list(load(path).indicators)
