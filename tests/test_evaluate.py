"""The scoring rule of the gold set, on small hand-made cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fupin.evaluate import GoldFact, load_gold, same_region, same_value, score


def gold(indicator="poor_households", value=1000.0, region="平凉市", year=2020, note="", seed="s1"):
    return GoldFact(seed, indicator, region, "甘肃省", year, None, value, "household", "exact",
                    "evidence", note)  # fmt: skip


def pred(indicator="poor_households", value=1000.0, region="平凉市", year=2020, seed="s1"):
    return {"seed": seed, "indicator": indicator, "region": region, "value": value, "year": year}


def test_value_tolerance_is_half_a_percent() -> None:
    assert same_value(1004.9, 1000)
    assert same_value(995.0, 1000)
    assert not same_value(1005.1, 1000)
    assert same_value(0, 0) and not same_value(0.001, 0)


@pytest.mark.parametrize(
    ("a", "b", "ok"),
    [("平凉市", "平凉市", True), ("平凉", "平凉市", True), ("河曲县", "河曲", True),
     ("崆峒", "崆峒区", True), ("平凉市", "平凉县", False), ("平凉市", "庆阳市", False),
     (None, None, True), (None, "平凉市", False)],
)  # fmt: skip
def test_region_suffix_tolerance(a, b, ok) -> None:
    assert same_region(a, b) is ok


def test_perfect_and_empty() -> None:
    g = [gold()]
    r = score([pred()], g)
    assert (r.precision, r.recall, r.f1, r.year_accuracy) == (1, 1, 1, 1)
    r = score([], g)
    assert (r.precision, r.recall, r.f1, r.year_accuracy) == (0, 0, 0, None)
    assert len(r.misses) == 1


def test_mismatches_on_each_key() -> None:
    g = [gold()]
    for p in (pred(indicator="poor_population"), pred(value=1010), pred(region="庆阳市"),
              pred(seed="s2")):  # fmt: skip
        r = score([p], g)
        assert r.counts["matched"] == 0 and r.precision == 0 and r.recall == 0


def test_each_gold_fact_matches_once() -> None:
    r = score([pred(), pred()], [gold()])
    assert r.counts["matched"] == 1
    assert r.precision == 0.5 and r.recall == 1
    assert len(r.false_positives) == 1


def test_borderline_counts_for_precision_not_recall() -> None:
    g = [gold(), gold(value=50, note="borderline: beneficiaries")]
    r = score([pred(), pred(value=50)], g)
    assert r.precision == 1 and r.recall == 1
    assert r.counts["gold"] == 1 and r.counts["borderline"] == 1
    r = score([pred()], g)
    assert r.recall == 1  # missing a borderline fact is not a miss
    assert r.misses == []


def test_matching_is_maximum_not_greedy() -> None:
    # prediction A fits both gold facts, B fits only the first: a greedy pass
    # that gives A to the first gold fact would leave the second unmatched.
    g = [gold(value=1000), gold(value=1004)]
    p = [pred(value=1002), pred(value=998)]
    r = score(p, g)
    assert r.counts["matched"] == 2


def test_required_fact_wins_over_borderline_one() -> None:
    g = [gold(value=1000, note="borderline: x"), gold(value=1003)]
    r = score([pred(value=1001)], g)
    assert r.counts["matched_required"] == 1 and r.recall == 1


def test_year_accuracy_over_matched_pairs_only() -> None:
    g = [gold(value=1000, year=2019), gold(value=2000, year=2020), gold(value=3000)]
    p = [pred(value=1000, year=2019), pred(value=2000, year=None), pred(value=9999)]
    r = score(p, g)
    assert r.year_accuracy == 0.5
    assert r.year_errors[0]["gold_year"] == 2020


def test_per_indicator_table_and_reports() -> None:
    g = [gold(), gold(indicator="poor_villages", value=7)]
    p = [pred(), pred(indicator="poor_villages", value=8)]
    r = score(p, g)
    rows = {row.indicator: row for row in r.per_indicator}
    assert (rows["poor_households"].precision, rows["poor_households"].recall) == (1, 1)
    assert (rows["poor_villages"].matched, rows["poor_villages"].f1) == (0, 0)
    d = r.to_dict()
    json.dumps(d, ensure_ascii=False)
    assert d["counts"]["predicted"] == 2 and len(d["per_indicator"]) == 2
    text = r.format_text()
    assert "poor_villages" in text and "misses" in text and "false positives" in text


def test_seeds_filter() -> None:
    g = [gold(seed="s1"), gold(seed="s2")]
    r = score([pred(seed="s1")], g, seeds=["s1"])
    assert r.recall == 1


def test_load_gold(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    rows = [
        {"seed": "s1", "indicator": "poor_households", "region": "平凉市", "province": "甘肃省",
         "year": 2014, "period_start": None, "value": 101100, "unit": "household",
         "qualifier": "exact", "evidence": "贫困户10.11万户"},
        {"seed": "s1", "indicator": "poor_villages", "region": "平凉市", "province": "甘肃省",
         "year": None, "period_start": None, "value": 66, "unit": "village",
         "qualifier": "exact", "evidence": "66个贫困村", "note": "borderline: subset"},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    got = load_gold(path)
    assert [g.borderline for g in got] == [False, True]
    assert got[0].value == 101100.0
    path.write_text('{"seed": "s1"}\n')
    with pytest.raises(ValueError, match="bad gold fact"):
        load_gold(path)


def test_development_gold_file_loads() -> None:
    from shared_data_extract import GOLD, require_shared

    require_shared()
    facts = load_gold(GOLD / "facts.jsonl")
    seeds = {f.seed for f in facts}
    assert len(seeds) == 5, "the gold covers all five seed pages"
    assert all(f.value >= 0 and f.unit for f in facts)
    assert 0 < sum(f.borderline for f in facts) < len(facts)
