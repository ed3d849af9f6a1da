"""The same pages give the same warehouse whichever runner executes the batches."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dask_cluster import contents

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"

pytestmark = pytest.mark.slow


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
