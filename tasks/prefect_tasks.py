"""Thin Prefect task wrappers around the plain stage functions.

Tasks take and return small ``BatchRef`` records, never page contents, and do
not cache on their inputs (the input hash would cost more than the work).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import get_client, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run, task_run

from fupin.settings import home_dir
from fupin.tasks import stages, validation_stage, workers
from fupin.tasks.extract.regions import load_gazetteer
from fupin.tasks.extract.taxonomy import load_taxonomy
from fupin.tasks.fetch import unchanged_files
from fupin.tasks.run_folders import (
    claim_run_folder,
    release_run_folder,
    remove_orphaned_run_folders,
)
from fupin.tasks.sources import expand_sources, legacy_renames
from fupin.tasks.staging import BatchRef, write_rows
from fupin.tasks.summary import summarize, summary_markdown, validation_markdown
from fupin.tasks.validate import build_data_docs
from fupin.tasks.warehouse import (
    connect,
    known_pages,
    known_signatures,
    load_run,
    stored_locations,
)


def stage_cache_dir() -> Path:
    """Clean and extract results by content hash and code version (see tasks.stage_cache)."""
    return home_dir() / "cache"


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


def _tag_flow_run(names: list[str]) -> None:
    """Tag the running flow with its source names, so runs can be filtered in the UI."""
    run_id = flow_run.get_id()
    if not run_id or not names:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(run_id).tags or []
        client.update_flow_run(run_id, tags=sorted(set(current) | set(names)))


def _source_tags(origins: list[str]) -> list[str]:
    """Short tags: a sources-file entry's name, or the last part of a path or URL."""
    tags = set()
    for origin in origins:
        tail = origin.rstrip("/").rsplit("/", 1)[-1] or origin
        tags.add(f"source:{tail[:40]}")
    return sorted(tags)[:20]


def _progress(run_dir: Path, done_marker: str) -> None:
    """Advance the run's progress artifact: half for fetched batches, half for extracted."""
    state = json.loads((run_dir / "progress.json").read_text())
    if not state.get("artifact_id"):
        return
    total = max(1, state["batches"])
    fetched = len(list(run_dir.glob("batch-*/raw.parquet")))
    extracted = len(list(run_dir.glob("batch-*/facts.parquet")))
    update_progress_artifact(
        artifact_id=uuid.UUID(state["artifact_id"]),
        progress=round(100 * (fetched + extracted) / (2 * total), 1),
        description=f"{done_marker}: {fetched}/{total} batches fetched, "
        f"{extracted}/{total} extracted",
    )


@task(name="discover", cache_policy=NO_CACHE)
def discover(
    sources: list[str], db: str, staging_root: str, batch_size: int, reprocess: bool = False
) -> dict[str, Any]:
    """Expand the SOURCE arguments and write the batches the rest of the run maps over.

    When some page is new, also starts the validation process, so Great
    Expectations warms up meanwhile; a re-run over known pages may never need it.
    Staging folders left by killed runs are removed first.
    """
    orphans = remove_orphaned_run_folders(Path(staging_root))
    if orphans:
        get_run_logger().info("removed the staging folders of %d killed runs", len(orphans))
    run_id = new_run_id()
    run_dir = claim_run_folder(Path(staging_root) / run_id)
    try:
        plan = _plan_run(sources, db, run_dir, batch_size, reprocess)
    except BaseException:
        release_run_folder(run_dir)
        raise
    return {"run_id": run_id, "run_dir": str(run_dir), "started_at": datetime.now(UTC), **plan}


def _plan_run(
    sources: list[str], db: str, run_dir: Path, batch_size: int, reprocess: bool
) -> dict[str, Any]:
    stored = stored_locations(db)
    found, rejected = expand_sources(sources, stored=stored)
    renames = legacy_renames(found, stored)
    write_rows(run_dir / "batch-discover" / "rejected_discover.parquet", "rejected",
               [stages.rejection_row(r) for r in rejected])
    known = {} if reprocess else known_pages(db)
    for old, new in renames.items():  # a document keyed the old way is this source's
        if old in known:
            known[new] = known.pop(old)
    unchanged = unchanged_files(found, known)
    refs = stages.plan_batches([s for s in found if s.doc_key not in unchanged], known,
                               run_dir, batch_size)
    if any(s.doc_key not in known for s in found):
        workers.start_validator()
    get_run_logger().info("%d pages: %d unchanged files, the rest in %d batches; "
                          "%d arguments rejected", len(found), len(unchanged), len(refs),
                          len(rejected))
    _tag_flow_run(_source_tags(sorted({s.origin for s in found} | {r.location for r in rejected})))
    artifact = create_progress_artifact(
        progress=0.0, key="fupin-progress", description=f"{len(refs)} batches to process"
    ) if refs else None
    (run_dir / "progress.json").write_text(
        json.dumps({"artifact_id": str(artifact) if artifact else None, "batches": len(refs)})
    )
    return {"refs": refs, "discover_rejected": len(rejected),
            "discover_unchanged": len(unchanged), "renames": renames}


FETCH_RETRIES = 2


@task(
    name="fetch",
    cache_policy=NO_CACHE,
    task_run_name="fetch-batch-{ref.index}",
    retries=FETCH_RETRIES,
    retry_delay_seconds=[2, 10],
    retry_jitter_factor=0.5,
)
def fetch(ref: BatchRef) -> BatchRef:
    """Retried as a batch when pages fail transiently; the last attempt records them."""
    final = (task_run.get_run_count() or 1) > FETCH_RETRIES
    out = stages.fetch_stage(ref, final_attempt=final)
    _progress(Path(ref.folder).parent, "fetch")
    return out


def _on_worker_if(pages: int, stage: Callable[[BatchRef, Path], BatchRef],
                  ref: BatchRef) -> BatchRef:
    """A batch with pages goes to a worker process; an empty one (all unchanged) stays here,
    so a re-run never waits for workers to start."""
    if pages:
        return workers.call(stage, ref, stage_cache_dir())
    return stage(ref, stage_cache_dir())


@task(name="clean", cache_policy=NO_CACHE, task_run_name="clean-batch-{ref.index}")
def clean(ref: BatchRef) -> BatchRef:
    return _on_worker_if(ref.counts.get("fetched", 0), stages.clean_stage, ref)


@task(name="extract", cache_policy=NO_CACHE, task_run_name="extract-batch-{ref.index}")
def extract(ref: BatchRef) -> BatchRef:
    out = _on_worker_if(ref.counts.get("cleaned", 0), stages.extract_stage, ref)
    _progress(Path(ref.folder).parent, "extract")
    return out


def _has_new_rows(refs: list[BatchRef]) -> bool:
    """Whether any batch brings documents or facts to validate (a re-run brings none)."""
    return any(r.counts.get("cleaned") or r.counts.get("facts_candidate") for r in refs)


@task(name="validate-batches", cache_policy=NO_CACHE,
      task_run_name="validate-batches-{group}")
def validate_batches(refs: list[BatchRef], group: int) -> list[BatchRef]:
    """Validate a group of batches as soon as they are extracted, while later ones still are.

    One GE call per suite serves up to 60k rows (its cost is mostly per call).
    """
    if _has_new_rows(refs):
        return workers.call_validator(validation_stage.validate_batches, refs)
    return validation_stage.validate_batches(refs)  # nothing new: no need to start GE


@task(name="validate", cache_policy=NO_CACHE)
def validate(groups: list[list[BatchRef]], docs_dir: str) -> dict[str, Any]:
    """Sum up the run's expectation results, build Data Docs and the validation artifact."""
    validated = [ref for group in groups for ref in group]
    docs = workers.call_validator(build_data_docs, docs_dir) if _has_new_rows(validated) else None
    workers.stop_validator()  # its memory is free before the load needs DuckDB's
    dq = validation_stage.dq_summary(validated)
    create_markdown_artifact(
        validation_markdown(dq, docs), key="fupin-validation",
        description="Great Expectations results of this run",
    )
    return {"refs": validated, "data_docs": str(docs) if docs else None}


@task(name="load", cache_policy=NO_CACHE)
def load(
    plan: dict[str, Any], validated: dict[str, Any], db: str, sources: list[str]
) -> dict[str, Any]:
    """Load the whole run into DuckDB in one transaction, then drop its staging folder."""
    refs: list[BatchRef] = validated["refs"]
    counts = summarize(refs, plan["discover_rejected"], plan["discover_unchanged"])
    started: datetime = plan["started_at"]
    run = {
        "run_id": plan["run_id"],
        "flow_run_id": str(flow_run.get_id() or ""),
        "started_at": started,
        "sources": sources,
        **counts,
        "seconds": (datetime.now(UTC) - started).total_seconds(),
        "data_docs": validated["data_docs"],
    }
    indicators = [asdict(i) for i in load_taxonomy()]
    regions = [asdict(r) for r in load_gazetteer().rows]
    run_dir = Path(plan["run_dir"])
    renames: dict[str, str] = plan["renames"]
    duplicates = stages.find_duplicates(
        run_dir, lambda: [(renames.get(k, k), sig) for k, sig in known_signatures(db)])
    get_run_logger().info("loading run %s into %s: %d documents, %d facts", run["run_id"], db,
                          run["documents_loaded"], run["facts_loaded"])
    load_run(db, run_dir, run, indicators, regions, duplicates, renames=renames)
    release_run_folder(run_dir, loaded_run=run["run_id"])
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
