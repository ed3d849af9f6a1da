"""Measure words, multipliers and which indicator units they can feed.

The tables come from the ``lexicon`` of indicators.yaml; this module only turns
them into lookups that the number regex and the rule engine share.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from fupin.tasks.extract import taxonomy


@dataclass(frozen=True)
class UnitTables:
    multipliers: dict[str, float]
    counters: dict[str, str | None]  # measure word -> quantity unit (None: noun decides)
    counted_nouns: dict[str, str]  # noun after 个 -> quantity unit
    accepts: dict[str, frozenset[str]]  # indicator unit -> quantity units it accepts
    bare_units: frozenset[str]  # indicator units a bare "234万" may stand for
    time_units: frozenset[str]  # after a number: a year, date, time or age, not a quantity


@lru_cache(maxsize=1)
def tables() -> UnitTables:
    lex = taxonomy.load().lexicon
    nouns = {n: unit for unit, words in lex["counted_nouns"].items() for n in words}
    return UnitTables(
        multipliers={k: float(v) for k, v in lex["multipliers"].items()},
        counters=dict(lex["counters"]),
        counted_nouns=nouns,
        accepts={k: frozenset(v) for k, v in lex["unit_accepts"].items()},
        bare_units=frozenset(lex["bare_multiplier_units"]),
        time_units=frozenset(lex["time_units"]),
    )


def compatible(indicator_unit: str, quantity_unit: str | None) -> bool:
    """May a quantity measured in ``quantity_unit`` be a value of this indicator?

    ``None`` is a bare multiplied number ("总人口234万"): it can only stand for
    people or households, never money or percentages, because those are always
    written with their unit.
    """
    t = tables()
    if quantity_unit is None:
        return indicator_unit in t.bare_units
    return quantity_unit in t.accepts.get(indicator_unit, frozenset({indicator_unit}))
