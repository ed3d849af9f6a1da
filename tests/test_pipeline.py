"""The whole flow on the bundled sample pages, against a real Prefect server and DuckDB file."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"

pytestmark = pytest.mark.slow

V_FACTS_CONTRACT = {
    "doc_key", "url", "title", "published_date", "source_site", "indicator",
    "indicator_name_zh", "region", "region_code", "province", "year", "period_start", "value",
    "unit", "qualifier", "evidence", "sentence", "char_start", "char_end",
}


def table_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name NOT IN ('etl_runs')"
        ).fetchall()]
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def first_run(prefect_server: str, tmp_path_factory: pytest.TempPathFactory):
    from fupin.flows.etl import etl

    pages = tmp_path_factory.mktemp("pages")
    for page in SAMPLES.iterdir():
        shutil.copy(page, pages / page.name)
    db = tmp_path_factory.mktemp("wh") / "fupin.duckdb"
    summary = etl(sources=[str(pages), str(pages / "missing.html")], db=str(db), batch_size=2)
    return summary, db, pages


def test_counts_reconcile_and_every_sample_page_loads(first_run) -> None:
    summary, db, _ = first_run
    counts = summary.counts
    assert counts.pages_in == 4
    assert counts.documents_loaded == 3 and counts.pages_rejected == 1
    assert counts.pages_in == (counts.pages_unchanged + counts.documents_loaded
                               + counts.pages_rejected)
    assert counts.facts_candidate == counts.facts_loaded + counts.facts_quarantined
    assert counts.facts_loaded >= 20
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute("SELECT pages_in, facts_loaded, status FROM etl_runs").fetchone()
    assert row == (4, summary.counts.facts_loaded, "completed")
    reason = con.execute("SELECT stage, reason FROM rejected_pages").fetchall()
    assert reason == [("discover", "not_found")]
    con.close()


def test_v_facts_keeps_the_contract_and_offsets_slice_the_body(first_run) -> None:
    _, db, _ = first_run
    con = duckdb.connect(str(db), read_only=True)
    columns = {d[0] for d in con.execute("SELECT * FROM v_facts LIMIT 0").description}
    assert columns >= V_FACTS_CONTRACT
    mismatches = con.execute(
        """
        SELECT count(*) FROM fact_indicator f JOIN dim_document d USING (doc_key)
        WHERE substr(d.body, f.char_start + 1, f.char_end - f.char_start) <> f.evidence
        """
    ).fetchone()[0]
    assert mismatches == 0
    con.close()


def test_gbk_page_is_decoded_and_its_facts_found(first_run) -> None:
    _, db, pages = first_run
    key = f"{pages.name}/bijie_2020_relocation_gbk.html"
    con = duckdb.connect(str(db), read_only=True)
    title, encoding = con.execute(
        "SELECT title, encoding FROM dim_document WHERE doc_key = ?", [key]
    ).fetchone()
    assert title == "毕节市易地扶贫搬迁工作综述"
    assert encoding.lower() in {"gb18030", "gbk"}
    relocated = con.execute(
        "SELECT value FROM v_facts WHERE doc_key = ? "
        "AND indicator = 'relocated_households' ORDER BY value DESC", [key]
    ).fetchall()
    assert relocated and relocated[0][0] == 48000
    con.close()


def test_implausible_incidence_is_quarantined_not_dropped(first_run) -> None:
    summary, db, _ = first_run
    docs = Path(summary.data_docs)
    assert docs.name == "index.html" and docs.parent == db.parent / "data_docs" / db.name
    pages = [p.read_text(encoding="utf-8") for p in (docs.parent / "validations").rglob("*.html")]
    assert any("112.5" in page and "poverty_incidence" in page for page in pages)
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "SELECT value, expectation FROM quarantined_facts WHERE indicator = 'poverty_incidence'"
    ).fetchall()
    assert (112.5, "value_not_above_indicator_max") in rows
    con.close()


def test_rerun_on_unchanged_pages_changes_nothing(first_run) -> None:
    from fupin.flows.etl import etl

    _, db, pages = first_run
    before = table_counts(db)
    summary = etl(sources=[str(pages)], db=str(db))
    assert summary.counts.pages_unchanged == 3 and summary.counts.documents_loaded == 0
    assert table_counts(db) == before


def test_changed_page_replaces_its_facts(first_run, tmp_path: Path) -> None:
    from fupin.flows.etl import etl

    _, db, pages = first_run
    page = pages / "xiji_2016_briefing.html"
    text = page.read_text(encoding="utf-8").replace("2.3万户9.2万人", "2.4万户9.6万人")
    page.write_text(text, encoding="utf-8")
    summary = etl(sources=[str(page)], db=str(db))
    assert summary.counts.documents_loaded == 1
    con = duckdb.connect(str(db), read_only=True)
    values = sorted(v for (v,) in con.execute(
        "SELECT value FROM v_facts WHERE doc_key = ? "
        "AND indicator IN ('poor_households', 'poor_population')",
        [f"{pages.name}/xiji_2016_briefing.html"]).fetchall())
    con.close()
    assert 24000 in values and 96000 in values
    assert 23000 not in values and 92000 not in values


def test_the_run_is_visible_through_the_prefect_api(first_run, prefect_api) -> None:
    summary, db, _ = first_run
    con = duckdb.connect(str(db), read_only=True)
    flow_run_id = con.execute(
        "SELECT flow_run_id FROM etl_runs WHERE run_id = ?", [summary.run_id]).fetchone()[0]
    con.close()
    assert prefect_api.flow_run(flow_run_id)["state"]["type"] == "COMPLETED"
    names = {t["name"].split("-batch-")[0].rsplit("-", 1)[0]
             for t in prefect_api.task_runs(flow_run_id)}
    assert {"discover", "fetch", "clean", "extract", "validate", "load", "report"} <= names
    keys = {a["key"] for a in prefect_api.artifacts(flow_run_id)}
    assert {"fupin-run-summary", "fupin-progress"} <= keys
