"""Thin Prefect task wrappers around the plain stage functions.

Tasks take and return small ``BatchRef`` records, never page contents, and do
not cache on their inputs (the input hash would cost more than the work).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from tasks import stages
from tasks.extract.regions import load_gazetteer
from tasks.extract.taxonomy import load_taxonomy
from tasks.sources import expand_sources
from tasks.staging import BatchRef, write_rows
from tasks.summary import summarize, summary_markdown
from tasks.validate import get_validator
from tasks.warehouse import connect, known_pages, known_signatures, load_run


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


@task(name="discover", cache_policy=NO_CACHE)
def discover(
    sources: list[str], db: str, staging_root: str, batch_size: int, reprocess: bool = False
) -> dict[str, Any]:
    """Expand the SOURCE arguments and write the batches the rest of the run maps over."""
    run_id = new_run_id()
    run_dir = Path(staging_root) / run_id
    found, rejected = expand_sources(sources)
    write_rows(run_dir / "batch-discover" / "rejected_discover.parquet", "rejected",
               [stages.rejection_row(r) for r in rejected])
    known = {} if reprocess else known_pages(db)
    refs = stages.plan_batches(found, known, run_dir, batch_size)
    get_run_logger().info("%d pages in %d batches, %d arguments rejected",
                          len(found), len(refs), len(rejected))
    return {
        "run_id": run_id,
        "run_dir": str(run_dir),
        "started_at": datetime.now(UTC),
        "refs": refs,
        "discover_rejected": len(rejected),
    }


@task(name="fetch", cache_policy=NO_CACHE, task_run_name="fetch-batch-{ref.index}")
def fetch(ref: BatchRef) -> BatchRef:
    return stages.fetch_stage(ref)


@task(name="clean", cache_policy=NO_CACHE, task_run_name="clean-batch-{ref.index}")
def clean(ref: BatchRef) -> BatchRef:
    return stages.clean_stage(ref)


@task(name="extract", cache_policy=NO_CACHE, task_run_name="extract-batch-{ref.index}")
def extract(ref: BatchRef) -> BatchRef:
    return stages.extract_stage(ref)


@task(name="validate", cache_policy=NO_CACHE)
def validate(refs: list[BatchRef]) -> list[BatchRef]:
    """Run both GE suites over every batch with one GE context."""
    validator = get_validator()
    return [stages.validate_stage(ref, validator) for ref in refs]


@task(name="load", cache_policy=NO_CACHE)
def load(plan: dict[str, Any], refs: list[BatchRef], db: str, sources: list[str]) -> dict[str, Any]:
    """Load the whole run into DuckDB in one transaction, then drop its staging folder."""
    counts = summarize(refs, plan["discover_rejected"])
    started: datetime = plan["started_at"]
    run = {
        "run_id": plan["run_id"],
        "flow_run_id": str(flow_run.get_id() or ""),
        "started_at": started,
        "sources": sources,
        **counts,
        "seconds": (datetime.now(UTC) - started).total_seconds(),
    }
    indicators = [asdict(i) for i in load_taxonomy()]
    regions = [asdict(r) for r in load_gazetteer().rows]
    run_dir = Path(plan["run_dir"])
    duplicates = stages.find_duplicates(run_dir, known_signatures(db))
    load_run(db, run_dir, run, indicators, regions, duplicates)
    shutil.rmtree(plan["run_dir"], ignore_errors=True)
    return run


@task(name="report", cache_policy=NO_CACHE)
def report(run: dict[str, Any], db: str) -> dict[str, Any]:
    """Publish the run summary as Prefect artifacts and return it."""
    rid = [run["run_id"]]
    with connect(db, read_only=True) as con:
        details = {
            "facts_per_indicator": con.execute(
                "SELECT indicator, count(*) FROM fact_indicator WHERE run_id = ? "
                "GROUP BY 1 ORDER BY 2 DESC, 1", rid).fetchall(),
            "quarantine_reasons": con.execute(
                "SELECT expectation, count(*) FROM quarantined_facts WHERE run_id = ? "
                "GROUP BY 1 ORDER BY 2 DESC, 1", rid).fetchall(),
            "rejection_reasons": con.execute(
                "SELECT stage, reason, count(*) FROM rejected_pages WHERE run_id = ? "
                "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2", rid).fetchall(),
        }
        top = con.execute(
            "SELECT doc_key, indicator, value, unit, expectation, evidence "
            "FROM quarantined_facts WHERE run_id = ? ORDER BY doc_key, char_start LIMIT 50",
            rid,
        ).fetchall()
    key = "fupin-run-summary"
    create_markdown_artifact(summary_markdown(run, details), key=key,
                             description="fupin run summary")
    if top:
        create_table_artifact(
            [dict(zip(("doc_key", "indicator", "value", "unit", "expectation", "evidence"),
                      row, strict=True)) for row in top],
            key="fupin-quarantined-facts",
            description="Quarantined facts of this run (first 50)",
        )
    return run
