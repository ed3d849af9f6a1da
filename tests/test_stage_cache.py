"""Clean and extract results are reused only for the same bytes and the same code."""

from __future__ import annotations

from pathlib import Path

import pytest

from fupin.tasks.models import Source
from fupin.tasks.pipeline import stage_cache, stages
from fupin.tasks.pipeline.staging import read_rows

PAGE = ("<html><head><title>示例</title></head><body><div><p>"
        "2016年底,全县共有建档立卡贫困户1.2万户4.5万人,贫困发生率为12.3%。</p>" * 3
        + "</div></body></html>")


def _batch(tmp_path: Path, name: str, text: str):
    page = tmp_path / "pages" / f"{name}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text, encoding="utf-8")
    (ref,) = stages.plan_batches([Source(str(page), "file", name)], {}, tmp_path / name, 10)
    return stages.fetch_stage(ref)


def test_a_second_batch_with_the_same_pages_is_restored_not_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = stages.extract_stage(stages.clean_stage(_batch(tmp_path, "p", PAGE), cache), cache)
    facts = read_rows(first.path("facts"))
    assert facts and first.counts["facts_candidate"] == len(facts)

    def broken(*_args, **_kwargs):
        raise AssertionError("recomputed")

    monkeypatch.setattr(stages, "clean_page", broken)
    monkeypatch.setattr(stages, "extract", broken)
    (ref,) = stages.plan_batches([Source(str(tmp_path / "pages" / "p.html"), "file", "p")], {},
                                 tmp_path / "rerun", 10)
    again = stages.extract_stage(stages.clean_stage(stages.fetch_stage(ref), cache), cache)
    assert read_rows(again.path("facts")) == facts
    assert again.counts["facts_candidate"] == len(facts)


def test_the_same_bytes_at_another_location_are_cleaned_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = stages.clean_stage(_batch(tmp_path / "a", "p", PAGE), cache)
    moved = stages.clean_stage(_batch(tmp_path / "b", "p", PAGE), cache)
    (a,), (b,) = read_rows(first.path("docs")), read_rows(moved.path("docs"))
    assert a["location"] != b["location"] and b["location"].startswith(str(tmp_path / "b"))


def test_changed_bytes_or_code_change_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    key = stage_cache.cache_key("clean", [("p", "sha-1")])
    assert stage_cache.cache_key("clean", [("p", "sha-2")]) != key
    assert stage_cache.cache_key("extract", [("p", "sha-1")]) != key
    monkeypatch.setitem(stage_cache.STAGE_FILES, "clean", ("tasks/acquire/decode.py",))
    stage_cache.code_version.cache_clear()
    try:
        assert stage_cache.cache_key("clean", [("p", "sha-1")]) != key
    finally:
        stage_cache.code_version.cache_clear()


def test_every_word_list_the_extractor_reads_is_part_of_its_code_version() -> None:
    # A cached extraction must not outlive an edit to any schemas/ word list or table.
    root = stage_cache.ROOT
    covered = {p for pattern in stage_cache.STAGE_FILES["extract"] for p in root.glob(pattern)}
    data = {p for ext in ("yaml", "csv") for p in (root / "schemas").glob(f"*.{ext}")}
    assert data, "no schemas/ data files found"
    assert sorted(p.name for p in data - covered) == []
