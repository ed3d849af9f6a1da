"""What an operator reads about a run: Prefect artifacts on the flow run, and Data Docs."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from http_server import serve

from fupin.tasks.data_docs import data_docs_dir, make_site_offline
from fupin.tasks.extract.taxonomy import load_taxonomy
from fupin.tasks.pipeline.records import RunCounts, RunRecord
from fupin.tasks.pipeline.summary import (
    ARTIFACT_ROWS,
    quarantine_table,
    rejected_table,
    summary_markdown,
    validation_markdown,
)
from fupin.tasks.validate import Validator, document_frame

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"
NAMES = {i.code: i.name_zh for i in load_taxonomy()}
REMOTE_ASSET = re.compile(
    r"<link\b[^>]*\bhref=[\"']https?:|<script\b[^>]*\bsrc=[\"']https?:", re.I)

RUN = RunRecord("r1", None, datetime(2026, 1, 1, tzinfo=UTC), [], RunCounts(
    pages_in=12345, pages_unchanged=10000, documents_loaded=2000, pages_rejected=345,
    facts_candidate=98765, facts_loaded=98000, facts_quarantined=765), seconds=1234.5)


# ------------------------------------------------------------------ artifact content


def test_summary_shows_chinese_names_beside_codes_and_separates_thousands() -> None:
    text = summary_markdown(RUN, {"facts_per_indicator": [("poor_population", 12345)]}, NAMES)
    assert "| 12,345 | 10,000 | 2,000 | 345 | 98,765 | 98,000 | 765 | 1,234.5 |" in text
    assert f"| {NAMES['poor_population']} (poor_population) | 12,345 |" in text


def test_summary_tables_are_capped_with_where_to_find_the_rest() -> None:
    reasons = [("fetch", f"http_{400 + i}", 1) for i in range(ARTIFACT_ROWS + 7)]
    text = summary_markdown(RUN, {"rejection_reasons": reasons}, NAMES)
    assert text.count("| fetch | http_") == ARTIFACT_ROWS
    assert "7 more rows — query rejected_pages in the warehouse" in text


def test_summary_and_validation_link_the_data_docs(tmp_path: Path) -> None:
    docs = tmp_path / "data_docs" / "w.duckdb" / "index.html"
    assert f"]({docs.as_uri()})" in summary_markdown(replace(RUN, data_docs=str(docs)), {},
                                                      NAMES)
    assert f"]({docs.as_uri()})" in validation_markdown([], docs)


def test_rejected_pages_show_their_url_and_reason_and_count_what_is_left_out() -> None:
    rows = [{"location": f"https://example.org/{i}.html", "url": f"https://example.org/{i}.html",
             "stage": "fetch", "reason": "http_404", "detail": None} for i in range(60)]
    rows[0] = {"location": "/pages/a.html", "url": None, "stage": "clean",
               "reason": "too_short", "detail": "x" * 500}
    table = rejected_table(rows, 1060)
    assert table[0]["page"] == "/pages/a.html" and len(table[0]["detail"]) <= 200
    assert table[1] == {"page": "https://example.org/1.html", "stage": "fetch",
                        "reason": "http_404", "detail": ""}
    assert len(table) == ARTIFACT_ROWS + 1
    assert table[-1]["page"] == "1,010 more rows — query rejected_pages in the warehouse"


def test_quarantined_facts_show_names_separated_values_and_the_parent_value() -> None:
    row = {"doc_key": "d", "indicator": "fiscal_poverty_fund", "value": 25000000.0,
           "unit": "yuan", "region": "平凉市", "year": 2019, "expectation": "subset_le_parent",
           "expectations": ["subset_le_parent"], "evidence": "其中2500万元",
           "observed": json.dumps({"failed": ["subset_le_parent"], "value": 25000000.0,
                                   "parent_value": 12500000.5})}
    (out,) = quarantine_table([row], 1, NAMES)
    assert out["indicator"] == f"{NAMES['fiscal_poverty_fund']} (fiscal_poverty_fund)"
    assert out["value"] == "25,000,000" and out["parent value"] == "12,500,000.5"
    assert out["reason"] == "subset_le_parent" and out["year"] == "2019"


# ------------------------------------------------------------------ Data Docs


def _validate_and_build(folder: Path, run_name: str = "20240301T010000Z-aaaaaa") -> Path:
    """One validation by a fresh GE context, as one run's validation process makes it."""
    validator = Validator()
    frame = document_frame([{"doc_key": "a", "location": "/p/a.html", "url": None,
                             "published_date": None, "body_chars": 500, "cjk_share": 0.9}])
    validator.validate("documents", frame, run_name)
    return validator.build_docs(folder)


def _validation_links(index: Path) -> set[str]:
    return set(re.findall(r'href="(validations/[^"]+\.html)"', index.read_text(encoding="utf-8")))


def test_data_docs_read_offline_and_keep_every_run(tmp_path: Path) -> None:
    folder = data_docs_dir(tmp_path / "fupin.duckdb")
    index = _validate_and_build(folder)
    page = index.read_text(encoding="utf-8")
    assert not REMOTE_ASSET.search(page)
    assert "<style>" in page and "static/images/logo-long.png" in page
    first = _validation_links(index)
    assert len(first) == 1  # the row the index's script used to insert is in the page itself
    _validate_and_build(folder, "20240302T010000Z-bbbbbb")
    second = _validation_links(index)
    assert first < second and len(second) == 2
    assert "<td>run-20240301T010000Z-aaaaaa</td>" in index.read_text(encoding="utf-8")
    assert "<td>run-20240302T010000Z-bbbbbb</td>" in index.read_text(encoding="utf-8")
    assert all((folder / link).is_file() for link in second)
    for page_path in folder.rglob("*.html"):
        assert not REMOTE_ASSET.search(page_path.read_text(encoding="utf-8")), page_path
    assert make_site_offline(folder) == 0  # pages once rewritten are left alone


def test_a_run_id_that_reads_like_a_date_and_offset_still_gets_its_page(tmp_path: Path) -> None:
    """GE's page renderer parses a run's name as a date: a run id whose random tail reads
    as a time zone past ±24 h ("Z-9043ad": offset -90:43) must still get its page."""
    folder = data_docs_dir(tmp_path / "fupin.duckdb")
    index = _validate_and_build(folder, "20261130T213045Z-9043ad")
    (link,) = _validation_links(index)
    page = (folder / link).read_text(encoding="utf-8")
    assert "20261130T213045Z-9043ad" in page and "Validations / documents" in page


def test_two_warehouses_in_one_folder_get_their_own_data_docs(tmp_path: Path) -> None:
    a, b = data_docs_dir(tmp_path / "a.duckdb"), data_docs_dir(tmp_path / "b.duckdb")
    assert a != b and a.parent == b.parent
    _validate_and_build(a)
    _validate_and_build(b)
    assert len(_validation_links(a / "index.html")) == 1
    assert len(_validation_links(b / "index.html")) == 1


# ------------------------------------------------------------------ a real run


@pytest.fixture(scope="module")
def runs(prefect_server: str, tmp_path_factory: pytest.TempPathFactory):
    """Two warehouses in one folder; the first gets a second run with one new page."""
    from fupin.flows.etl import etl

    pages = tmp_path_factory.mktemp("pages")
    for page in SAMPLES.iterdir():
        shutil.copy(page, pages / page.name)
    folder = tmp_path_factory.mktemp("wh")
    with serve({}) as site:  # every path answers 404
        missing = site.url("/news/gone.html")
        first = etl(sources=[str(pages), missing], db=str(folder / "a.duckdb"))
        links_after_first = _validation_links(Path(first.data_docs))
        other = etl(sources=[str(pages)], db=str(folder / "b.duckdb"))
        unchanged = etl(sources=[str(pages)], db=str(folder / "b.duckdb"))
        shutil.copy(SAMPLES / "longxi_2019_exit.html", pages / "longxi_copy.html")
        second = etl(sources=[str(pages)], db=str(folder / "a.duckdb"))
    return {"folder": folder, "first": first, "other": other, "unchanged": unchanged,
            "second": second,
            "missing": missing, "links_after_first": links_after_first}


@pytest.mark.slow
def test_run_artifacts_belong_to_the_flow_run(runs, prefect_api) -> None:
    first = runs["first"]
    artifacts = {a["key"]: a for a in prefect_api.artifacts(first.flow_run_id)}
    keys = {"fupin-run-summary", "fupin-validation", "fupin-rejected-pages",
            "fupin-quarantined-facts", "fupin-progress"}
    assert keys <= set(artifacts)
    for key in keys:
        assert artifacts[key]["flow_run_id"] == first.flow_run_id, key
        assert artifacts[key]["task_run_id"] is None, key
    rejected = json.loads(artifacts["fupin-rejected-pages"]["data"])
    assert {"page": runs["missing"], "stage": "fetch", "reason": "http_404"}.items() \
        <= rejected[0].items()
    summary = artifacts["fupin-run-summary"]["data"]
    con = duckdb.connect(str(runs["folder"] / "a.duckdb"), read_only=True)
    codes = [c for (c,) in con.execute("SELECT DISTINCT indicator FROM fact_indicator "
                                       "WHERE run_id = ?", [first.run_id]).fetchall()]
    con.close()
    assert codes and all(f"| {NAMES[c]} ({c}) |" in summary for c in codes)
    assert Path(first.data_docs).as_uri() in summary


@pytest.mark.slow
def test_a_run_with_nothing_new_still_links_the_warehouse_data_docs(runs, prefect_api) -> None:
    unchanged = runs["unchanged"]
    assert unchanged.counts.documents_loaded == 0 and unchanged.data_docs is None
    artifacts = {a["key"]: a for a in prefect_api.artifacts(unchanged.flow_run_id)}
    index = data_docs_dir(runs["folder"] / "b.duckdb") / "index.html"
    assert index.as_uri() in artifacts["fupin-run-summary"]["data"]


@pytest.mark.slow
def test_each_warehouse_keeps_its_own_data_docs_history(runs) -> None:
    folder = runs["folder"]
    a_index, b_index = (data_docs_dir(folder / n) / "index.html" for n in ("a.duckdb", "b.duckdb"))
    assert Path(runs["first"].data_docs) == Path(runs["second"].data_docs) == a_index
    assert Path(runs["other"].data_docs) == b_index
    assert runs["links_after_first"] < _validation_links(a_index)
    listed = a_index.read_text(encoding="utf-8")
    assert runs["first"].run_id in listed and runs["second"].run_id in listed
    assert not REMOTE_ASSET.search(a_index.read_text(encoding="utf-8"))
