"""Great Expectations really validating crafted facts; failing rows keep their reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from fupin.tasks.pipeline import kinds
from fupin.tasks.pipeline.records import RunCounts, RunRecord
from fupin.tasks.pipeline.staging import BatchRef
from fupin.tasks.pipeline.validation_stage import (
    batches_per_validation,
    cjk_share,
    validate_group,
)
from fupin.tasks.validate import get_validator
from fupin.tasks.warehouse import load_run, packaged_dimensions

PINGLIANG = {"region": "平凉市", "region_code": "620800000000", "province": "甘肃省"}
BODY = "2014年全市有建档立卡贫困户10.11万户40.6万人,贫困发生率为20.87%。" * 3


def _doc(key: str, body: str = BODY, published: date | None = date(2020, 12, 17)) -> dict:
    return {  # a column the registry adds later is empty here
        **dict.fromkeys(kinds.DOCS.schema.names),
        "doc_key": key, "location": f"/pages/{key}.html", "url": None, "title": "标题",
        "published_date": published, "published_at": None, "source_site": "示例网",
        "author": None, "content_sha256": f"sha-{key}", "encoding": "utf-8", "body": body,
        "body_chars": len(body), "flags": {}, "published_from": "text",
    }


def _fact(key: str, n: int, indicator: str, value: float, unit: str, **extra: Any) -> dict:
    row = {
        **dict.fromkeys(kinds.FACTS.schema.names),
        "fact_id": f"{key}-{n}", "doc_key": key, "ordinal": n, "indicator": indicator,
        **PINGLIANG, "year": 2014, "period_start": None, "as_of": None, "time_kind": "point",
        "value": value, "unit": unit, "qualifier": "exact", "evidence": "证据",
        "sentence": f"句子{key}-{n}", "char_start": 0, "char_end": 2, "rule": "test",
        "confidence": 0.9,
        "year_source": "explicit",
    }
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def verdict(tmp_path_factory: pytest.TempPathFactory) -> tuple[BatchRef, dict[str, list[str]]]:
    folder = tmp_path_factory.mktemp("run") / "batch-00000"
    ref = BatchRef(0, str(folder))
    docs = [_doc("good"), _doc("only_bad"), _doc("empty", body="", published=None),
            _doc("future", published=date(2999, 1, 1))]
    facts = [
        _fact("good", 0, "poor_households", 101100, "household"),
        _fact("good", 1, "poor_population", 406000, "person"),
        _fact("good", 2, "poverty_incidence", 20.87, "percent"),
        _fact("only_bad", 0, "poverty_incidence", 120.0, "percent"),
        _fact("only_bad", 1, "poor_villages", -3, "village"),
        _fact("only_bad", 2, "poor_households", 500000, "household"),
        _fact("only_bad", 3, "poor_population", 400000, "person"),
        _fact("only_bad", 4, "poor_villages", 12, "village", year=2099),
        _fact("only_bad", 5, "poor_villages", 12, "yuan"),
        _fact("only_bad", 6, "poor_villages", 12, "village", region="某某乡",
              region_code=None, province=None),
        _fact("only_bad", 7, "poor_villages", 12.5, "village"),
        _fact("only_bad", 8, "fiscal_poverty_fund", 100, "yuan"),
        _fact("only_bad", 9, "fiscal_poverty_fund", 200, "yuan",
              subset_of="only_bad-8"),
        _fact("empty", 0, "poor_villages", 3, "village"),
    ]
    ref = ref.write(kinds.DOCS, docs)
    ref = ref.write(kinds.FACTS, facts)
    (out,) = validate_group([ref], get_validator)
    failures = {q["fact_id"]: q["expectations"] for q in out.read(kinds.QUARANTINE)}
    return out, failures


def test_good_rows_load_and_counts_reconcile(verdict) -> None:
    ref, failures = verdict
    loaded = {f["fact_id"] for f in ref.read(kinds.FACTS_OK)}
    assert {"good-0", "good-1", "good-2"} <= loaded
    assert ref.counts.facts_loaded + ref.counts.facts_quarantined == 14
    assert not loaded & set(failures)


def test_loaded_and_quarantined_rows_keep_their_own_sentence(verdict) -> None:
    ref, _ = verdict
    rows = ref.read(kinds.FACTS_OK) + ref.read(kinds.QUARANTINE)
    assert len(rows) == 14
    assert all(r["sentence"] == "句子" + r["fact_id"] for r in rows)


@pytest.mark.parametrize(
    ("fact_id", "expectation"),
    [
        ("only_bad-0", "value_not_above_indicator_max"),
        ("only_bad-1", "value_non_negative"),
        ("only_bad-2", "households_le_persons_poor"),
        ("only_bad-4", "year_not_after_publication"),
        ("only_bad-5", "unit_matches_indicator"),
        ("only_bad-6", "region_resolved"),
        ("only_bad-7", "whole_number_for_counts"),
        ("only_bad-9", "subset_le_parent"),
        ("empty-0", "document_quarantined"),
    ],
)
def test_each_bad_fact_is_quarantined_with_the_failing_expectation(
    verdict, fact_id: str, expectation: str
) -> None:
    _, failures = verdict
    assert expectation in failures.get(fact_id, [])


def test_a_page_with_only_bad_facts_still_loads_its_document(verdict) -> None:
    ref, _ = verdict
    loaded_docs = {d["doc_key"] for d in ref.read(kinds.DOCS_OK)}
    rejected = {r["doc_key"]: r["reason"] for r in ref.read(kinds.REJECTED_VALIDATE)}
    assert "only_bad" in loaded_docs and "good" in loaded_docs
    assert rejected == {"empty": "body_min_length", "future": "published_not_in_future"}


def test_quarantine_and_dq_results_land_in_the_warehouse(verdict, tmp_path: Path) -> None:
    ref, failures = verdict
    run = RunRecord("r1", None, datetime(2026, 1, 1, tzinfo=UTC), [], RunCounts(
        pages_in=4, documents_loaded=2, pages_rejected=2, facts_candidate=14,
        facts_loaded=ref.counts.facts_loaded, facts_quarantined=ref.counts.facts_quarantined),
        seconds=1.0)
    db = tmp_path / "w.duckdb"
    load_run(db, Path(ref.folder).parent, run, packaged_dimensions())
    con = duckdb.connect(str(db), read_only=True)
    quarantined = dict(con.execute(
        "SELECT fact_id, expectation FROM quarantined_facts WHERE run_id = 'r1'").fetchall())
    assert set(quarantined) == set(failures)
    dq = dict(con.execute(
        "SELECT expectation, unexpected_count FROM dq_results WHERE suite = 'facts'").fetchall())
    assert dq["value_non_negative"] == 1 and dq["region_resolved"] == 1
    docs = {r[0] for r in con.execute("SELECT doc_key FROM dim_document").fetchall()}
    assert docs == {"good", "only_bad"}
    con.close()



def test_batches_validated_together_keep_their_own_rows(tmp_path: Path) -> None:
    from fupin.tasks.pipeline.validation_stage import validation_groups

    refs = []
    for n, key in enumerate(("a", "b")):
        ref = BatchRef(n, str(tmp_path / f"batch-{n:05d}"))
        ref = ref.write(kinds.DOCS, [_doc(key)])
        ref = ref.write(kinds.FACTS, [
            _fact(key, 0, "poverty_incidence", 20.5, "percent"),
            _fact(key, 1, "poverty_incidence", 150.0 if key == "b" else 30.0, "percent")])
        refs.append(ref)
    assert [len(g) for g in validation_groups(refs)] == [2]
    assert [len(g) for g in validation_groups(refs, limit=3)] == [1, 1]
    first, second = validate_group(refs, get_validator)
    assert (first.counts.facts_loaded, first.counts.facts_quarantined) == (2, 0)
    assert (second.counts.facts_loaded, second.counts.facts_quarantined) == (1, 1)
    assert [q["fact_id"] for q in second.read(kinds.QUARANTINE)] == ["b-1"]
    assert [f["fact_id"] for f in first.read(kinds.FACTS_OK)] == ["a-0", "a-1"]
    assert [f["fact_id"] for f in second.read(kinds.FACTS_OK)] == ["b-0"]
    assert [d["doc_key"] for d in second.read(kinds.DOCS_OK)] == ["b"]
    assert first.read(kinds.DQ) and not second.read(kinds.DQ)


@pytest.mark.parametrize(("batch_size", "batches"),
                         [(1, 1000), (5, 200), (200, 5), (300, 3), (500, 2), (1000, 1), (5000, 1)])
def test_a_validate_task_takes_about_a_thousand_pages_whatever_the_batch_size(
        batch_size: int, batches: int) -> None:
    """GE's time is mostly per call and its memory per row: the flow groups batches by
    pages, so a larger batch size neither multiplies the rows of a call nor its calls."""
    assert batches_per_validation(batch_size) == batches


def test_a_run_id_that_reads_like_a_date_and_offset_still_validates(tmp_path: Path) -> None:
    """A run id's random tail can read as a time zone to a date parser ("-9043ad":
    offset -90:43); the run's results must not depend on it."""
    folder = tmp_path / "20261130T213045Z-9043ad" / "batch-00000"
    folder.parent.mkdir()
    ref = BatchRef(0, str(folder))
    ref = ref.write(kinds.DOCS, [_doc("a")])
    ref = ref.write(kinds.FACTS, [_fact("a", 0, "poverty_incidence", 20.5, "percent")])
    (out,) = validate_group([ref], get_validator)
    assert (out.counts.facts_loaded, out.counts.facts_quarantined) == (1, 0)


def test_nothing_new_to_validate_does_not_start_great_expectations(tmp_path: Path) -> None:
    ref = BatchRef(0, str(tmp_path / "batch-00000"))

    def must_not_run():
        raise AssertionError("GE context created for an empty run")

    (out,) = validate_group([ref], must_not_run)
    assert out.counts.facts_loaded == 0 and out.counts.documents_loaded == 0


def test_a_failed_subset_check_records_the_parent_value_it_was_checked_against(verdict) -> None:
    ref, _ = verdict
    rows = {q["fact_id"]: q for q in ref.read(kinds.QUARANTINE)}
    seen = json.loads(rows["only_bad-9"]["observed"])
    assert "subset_le_parent" in seen["failed"]
    assert seen["value"] == 200 and seen["parent_value"] == 100


@pytest.mark.parametrize(("body", "share"), [
    ("", 0.0),
    ("脱贫攻坚 news", 4 / 8),  # a space is not a visible character
    ("\u3000\u3000全县\t\n\xa0\u2028\u202f\x1c脱贫", 4 / 4),  # nor any other kind of space
    ("㐀䶿一鿿ꀀabc", 4 / 8),  # both CJK blocks counted to their last code point, Yi not
    ("𠀀村", 1 / 2),  # a character beyond the basic plane is visible, not counted
    ("\ud800中", 1 / 2),  # a lone surrogate from a damaged page is one visible character
])
def test_the_cjk_share_counts_cjk_among_visible_characters(body: str, share: float) -> None:
    assert cjk_share(body) == share


def test_a_body_mostly_in_another_script_is_rejected(tmp_path: Path) -> None:
    latin = "The county reported its figures for the year in this text. " * 4
    ref = BatchRef(0, str(tmp_path / "batch-00000")).write(
        kinds.DOCS, [_doc("latin", body=latin + "全县脱贫。"), _doc("chinese")])
    (out,) = validate_group([ref], get_validator)
    assert {r["doc_key"]: r["reason"] for r in out.read(kinds.REJECTED_VALIDATE)} == {
        "latin": "body_mostly_chinese"}
