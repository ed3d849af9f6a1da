"""Extraction on the five real seed pages, scored against their hand-checked gold.

The bar (development figures, not the accuracy that counts: that is measured on
real pages kept apart): F1 >= 0.95 over all five seeds. Year accuracy is held
to TAXONOMY.md's Year rules; the gold of seeds 000 and 003 was annotated before
the rule "a figure with no time phrase is as of the publication date" and
leaves those years null, so the year bar is set on the seeds annotated under
the rule (001, 002, 004) and reported for all five.
"""

from __future__ import annotations

from shared_data_extract import GOLD, all_seeds, load_seed, require_shared

from fupin.evaluate import load_gold, score
from fupin.tasks.extract import extract
from fupin.tasks.extract.taxonomy import load_taxonomy


def predictions(seeds) -> list[dict]:
    out = []
    for seed in seeds:
        doc = load_seed(seed)
        ex = extract(doc.body, title=doc.title, published=doc.published)
        for f in ex.facts:
            assert doc.body[f.char_start : f.char_end] == f.evidence
            out.append(
                {
                    "seed": seed,
                    "indicator": f.indicator,
                    "region": f.region,
                    "value": f.value,
                    "unit": f.unit,
                    "year": f.year,
                    "period_start": f.period_start,
                    "qualifier": f.qualifier,
                    "evidence": f.evidence,
                }
            )
    return out


YEAR_BAR = 0.85
RULE_SEEDS = ("001_7466b54d2739728f", "002_e3490206b02f5a3e", "004_3bcde9490c7b0b05")


def test_seed_gold_reaches_the_bar() -> None:
    require_shared()
    seeds = all_seeds()
    gold = load_gold(GOLD / "facts.jsonl")
    assert {g.seed for g in gold} <= set(seeds), "gold names a seed page that is missing"
    report = score(predictions(seeds), gold, seeds=seeds)
    print(report.format_text())
    assert report.f1 >= 0.95, report.format_text()
    ruled = score(predictions(RULE_SEEDS), gold, seeds=RULE_SEEDS)
    assert ruled.year_accuracy is not None and ruled.year_accuracy >= YEAR_BAR, ruled.format_text()


def test_gold_evidence_is_found_in_the_pages() -> None:
    """The gold evidence strings are exact substrings of the cut bodies, so the
    cut used here does not lose facts."""
    require_shared()
    for g in load_gold(GOLD / "facts.jsonl"):
        assert g.evidence in load_seed(g.seed).body, g.evidence


def test_every_seed_gives_plausible_facts() -> None:
    """Each page on its own: units and bounds from the taxonomy, a province for
    every region, years in the programme's span, and most of its gold found."""
    require_shared()
    units = {i.code: i for i in load_taxonomy()}
    gold = load_gold(GOLD / "facts.jsonl")
    for seed in all_seeds():
        doc = load_seed(seed)
        ex = extract(doc.body, title=doc.title, published=doc.published)
        assert 3 <= len(ex.facts) <= 60, seed
        for f in ex.facts:
            ind = units[f.indicator]
            assert f.unit == ind.unit
            assert ind.min_value <= f.value <= ind.max_value
            assert f.region is None or f.province is not None or f.region == "全国"
            assert f.year is None or 1990 <= f.year <= 2030
        report = score(predictions([seed]), gold, seeds=[seed])
        assert report.recall >= 0.6, report.format_text()


def test_repeated_page_body_is_not_double_counted() -> None:
    """A body pasted twice (seed 004's dump repeats it) states each fact once."""
    require_shared()
    doc = load_seed("004_3bcde9490c7b0b05")
    once = extract(doc.body, title=doc.title, published=doc.published)
    twice = extract(doc.body + "\n" + doc.body, title=doc.title, published=doc.published)
    assert once.facts
    key = lambda f: (f.indicator, f.value, f.region, f.year)  # noqa: E731
    assert sorted(map(key, twice.facts)) == sorted(map(key, once.facts))
