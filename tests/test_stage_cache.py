"""Clean and extract results are reused only for the same bytes and the same code."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fupin.tasks.models import Source
from fupin.tasks.pipeline import kinds, stage_cache, stages

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
    facts = first.read(kinds.FACTS)
    assert facts and first.counts.facts_candidate == len(facts)

    def broken(*_args, **_kwargs):
        raise AssertionError("recomputed")

    monkeypatch.setattr(stages, "clean_page", broken)
    monkeypatch.setattr(stages, "extract", broken)
    (ref,) = stages.plan_batches([Source(str(tmp_path / "pages" / "p.html"), "file", "p")], {},
                                 tmp_path / "rerun", 10)
    again = stages.extract_stage(stages.clean_stage(stages.fetch_stage(ref), cache), cache)
    assert again.read(kinds.FACTS) == facts
    assert again.counts.facts_candidate == len(facts)


def test_the_same_bytes_at_another_location_are_cleaned_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = stages.clean_stage(_batch(tmp_path / "a", "p", PAGE), cache)
    moved = stages.clean_stage(_batch(tmp_path / "b", "p", PAGE), cache)
    (a,), (b,) = first.read(kinds.DOCS), moved.read(kinds.DOCS)
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


def _versions_after_editing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            edited: str) -> tuple[dict[str, str], dict[str, str]]:
    """Both stages' keys in a copy of the files they cover, before and after ``edited``
    (a path in the checkout) gets one more line."""
    root = tmp_path / "checkout"
    for stage in ("clean", "extract"):
        for pattern in stage_cache.STAGE_FILES[stage]:
            for path in stage_cache.ROOT.glob(pattern):
                copy = root / path.relative_to(stage_cache.ROOT)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
    monkeypatch.setattr(stage_cache, "ROOT", root)

    def keys() -> dict[str, str]:
        stage_cache.code_version.cache_clear()
        return {s: stage_cache.cache_key(s, [("p", "sha-1")]) for s in ("clean", "extract")}

    try:
        before = keys()
        target = root / edited
        target.parent.mkdir(parents=True, exist_ok=True)
        text = target.read_text(encoding="utf-8") if target.exists() else ""
        target.write_text(text + "\n# one more line\n", encoding="utf-8")
        return before, keys()
    finally:
        stage_cache.code_version.cache_clear()


@pytest.mark.parametrize("edited", ["tasks/pipeline/kinds.py", "tasks/pipeline/records.py",
                                    "tasks/pipeline/staging.py", "tasks/models.py",
                                    "requirements.lock"])
def test_an_edit_to_the_registry_or_the_record_types_misses_both_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: str
) -> None:
    # A new column in the registry must not restore Parquet files written without it.
    before, after = _versions_after_editing(tmp_path, monkeypatch, edited)
    assert before["clean"] != after["clean"] and before["extract"] != after["extract"]


def _has_code(path: Path) -> bool:
    """Whether a module holds more than a docstring (an empty __init__ changes nothing)."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return any(not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in body)


def test_every_module_and_data_file_the_stages_use_is_part_of_their_version() -> None:
    probe = ("import sys, fupin.tasks.pipeline.stages\n"
             "for m in list(sys.modules.values()):\n"
             "    if m.__name__.startswith('fupin.tasks') and getattr(m, '__file__', None):\n"
             "        print(m.__file__)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    root = stage_cache.ROOT
    imported = {Path(line).resolve() for line in out.split()}
    imported = {p for p in imported if _has_code(p)}
    assert imported, "the probe found no module"
    extract_only = {p for p in imported if (root / "tasks" / "extract") in p.parents}
    for stage, needed in (("extract", imported), ("clean", imported - extract_only)):
        covered = {p.resolve() for pattern in stage_cache.STAGE_FILES[stage]
                   for p in root.glob(pattern)}
        assert sorted(str(p.relative_to(root)) for p in needed - covered) == [], stage
        # (the cache's own module names every file in its lists, so it is not read here)
        code = "".join(p.read_text(encoding="utf-8") for p in covered
                       if p.suffix == ".py" and p.name != "stage_cache.py")
        named = {p.resolve() for p in (root / "schemas").iterdir()
                 if p.suffix in {".yaml", ".csv"} and p.name in code}
        assert sorted(p.name for p in named - covered) == [], stage
