"""The same pages give the same warehouse whichever runner executes the batches."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"

pytestmark = pytest.mark.slow

CONTENT = {
    "dim_document": "SELECT doc_key, title, published_date, source_site, author, "
                    "content_sha256, body, duplicate_of FROM dim_document",
    "fact_indicator": "SELECT fact_id, doc_key, indicator, region_code, year, period_start, "
                      "value, unit, qualifier, char_start, char_end, subset_of "
                      "FROM fact_indicator",
    "quarantined_facts": "SELECT fact_id, expectation FROM quarantined_facts",
    "fact_keyword": "SELECT doc_key, rank, keyword FROM fact_keyword",
}


def contents(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: sorted(con.execute(sql).fetchall(), key=repr)
                for name, sql in CONTENT.items()}
    finally:
        con.close()


def test_a_dask_local_cluster_builds_the_same_warehouse_as_threads(
    prefect_server: str, tmp_path: Path
) -> None:
    from fupin.flows.etl import etl

    threads_db, dask_db = tmp_path / "threads.duckdb", tmp_path / "dask.duckdb"
    etl(sources=[str(SAMPLES)], db=str(threads_db), batch_size=1, task_runner="threads")
    summary = etl(sources=[str(SAMPLES)], db=str(dask_db), batch_size=1, task_runner="dask")
    assert summary.counts.documents_loaded == 3
    threads, dask = contents(threads_db), contents(dask_db)
    assert threads["fact_indicator"] and threads == dask


def test_unknown_runner_names_are_refused_clearly() -> None:
    from fupin.flows.runners import make_task_runner

    with pytest.raises(ValueError, match="unknown task runner"):
        make_task_runner("spark", workers=2)
