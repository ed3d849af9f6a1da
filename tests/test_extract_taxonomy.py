"""The taxonomy file: complete, consistent with the gold set's TAXONOMY.md, sane bounds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from shared_data_extract import GOLD, require_shared

from fupin.tasks.extract.taxonomy import DEFAULT_PATH, Indicator, load_file, load_taxonomy

EXPECTED_UNITS = {"household", "person", "percent", "village", "county", "yuan", "yuan_per_person"}


def test_loads_24_indicators_with_required_fields() -> None:
    inds = load_taxonomy()
    assert len(inds) == 24
    for ind in inds:
        assert isinstance(ind, Indicator)
        assert ind.code and ind.name_zh and ind.name_en
        assert ind.unit in EXPECTED_UNITS
        assert ind.measure in {"stock", "flow", "rate", "level"}
        assert ind.min_value >= 0 and ind.max_value > ind.min_value
        assert ind.cues or ind.patterns or ind.event_nouns, ind.code
        for p in ind.patterns:
            re.compile(p)


def test_bounds_follow_units() -> None:
    for ind in load_taxonomy():
        if ind.unit == "percent":
            assert (ind.min_value, ind.max_value, ind.integer) == (0, 100, False)
        if ind.unit in {"household", "person", "village", "county"}:
            assert ind.integer
        if ind.unit == "household":
            assert ind.max_value <= 1e8


def test_matches_gold_taxonomy_table() -> None:
    require_shared()
    text = (GOLD / "TAXONOMY.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\w+) \| .*? \| (\w+) \| (\w+) \|$", text, re.MULTILINE)
    table = {code: (unit, measure) for code, unit, measure in rows if code != "code"}
    ours = {i.code: (i.unit, i.measure) for i in load_taxonomy()}
    assert ours == table


def test_rejects_bad_files(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["indicators"].append(dict(data["indicators"][0]))
    bad = tmp_path / "dup.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate"):
        load_file(bad)
    data["indicators"].pop()
    data["indicators"][0] = {**data["indicators"][0], "measure": "level-ish"}
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="measure"):
        load_file(bad)
