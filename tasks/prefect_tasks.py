"""Thin Prefect task wrappers around the plain stage functions.

Tasks take and return small ``BatchRef`` records, never page contents, and do
not cache on their inputs (the input hash would cost more than the work).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import get_client, get_run_logger, task
from prefect.artifacts import update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.actions import ArtifactCreate
from prefect.runtime import flow_run

from fupin.settings import settings
from fupin.tasks.acquire.discovery import discover as discover_urls
from fupin.tasks.acquire.fetch import FetchOptions, unchanged_files
from fupin.tasks.acquire.sources import (
    discovery_entries,
    expand_sources,
    legacy_key,
    legacy_keys,
)
from fupin.tasks.data_docs import data_docs_dir
from fupin.tasks.extract.taxonomy import load_taxonomy
from fupin.tasks.models import Rejection, Source, Validators
from fupin.tasks.pipeline import stages, storage, validation_stage
from fupin.tasks.pipeline.kinds import FRONTIER, REJECTED_DISCOVER
from fupin.tasks.pipeline.records import DiscoveryCounts, RunPlan, RunRecord, Validated
from fupin.tasks.pipeline.run_folders import (
    claim_run_folder,
    new_run_id,
    release_run_folder,
    remove_orphaned_run_folders,
)
from fupin.tasks.pipeline.runtime import Runtime
from fupin.tasks.pipeline.staging import BatchRef, write_rows
from fupin.tasks.pipeline.summary import (
    ARTIFACT_ROWS,
    ProgressPlan,
    batch_progress,
    quarantine_table,
    read_progress_plan,
    rejected_table,
    summarize,
    summary_markdown,
    validation_markdown,
    write_progress_plan,
)
from fupin.tasks.validate import build_data_docs
from fupin.tasks.warehouse import (
    connect,
    known_pages,
    known_signatures,
    load_run,
    packaged_dimensions,
    read_frontier,
    stored_locations,
)


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


def _run_artifact(kind: str, key: str, description: str, data: Any) -> uuid.UUID:
    """Create an artifact of the flow run itself rather than of the task making it.

    Prefect's ``create_*_artifact`` helpers attach an artifact to the task run they
    are called from; the run's summaries belong on the flow run's page, so the
    artifact is created with the flow run's id and no task run id.
    """
    with get_client(sync_client=True) as client:
        return client.create_artifact(ArtifactCreate(
            type=kind, key=key, description=description, data=data,
            flow_run_id=flow_run.get_id(),
        )).id


def _progress(run_dir: str, done_marker: str) -> None:
    """Advance the run's progress artifact: half for fetched batches, half for extracted
    (of the batches known so far while discover still writes them)."""
    plan = read_progress_plan(run_dir)
    progress = batch_progress(run_dir)
    if not plan or not plan.artifact_id or progress is None or not progress.batches:
        return
    total = progress.batches
    more = " (discovering…)" if progress.discovering else ""
    update_progress_artifact(
        artifact_id=uuid.UUID(plan.artifact_id),
        progress=round(100 * (progress.fetched + progress.extracted) / (2 * total), 1),
        description=f"{done_marker}: {progress.fetched}/{total} batches fetched, "
        f"{progress.extracted}/{total} extracted{more}",
    )


@task(name="discover", cache_policy=NO_CACHE)
def discover(
    sources: list[str], db: str, staging_root: str, batch_size: int, reprocess: bool,
    run_id: str | None, runtime: Runtime,
) -> Generator[BatchRef, None, RunPlan]:
    """Expand the SOURCE arguments and yield each batch as soon as it is written.

    A generator task: the flow hands each batch to fetch while discover walks on, so a
    large run starts fetching at once; the task run ends when the sources do, and
    returns the RunPlan. At the first batch the run's processes start
    (``Runtime.prepare``). Staging folders left by killed runs are removed first.
    ``run_id`` is given by a caller that names the run before it starts (``fupin run``
    prints it and follows the run's progress file).
    """
    orphans = remove_orphaned_run_folders(staging_root)
    if orphans:
        get_run_logger().info("removed the staging folders of %d killed runs", len(orphans))
    run_id = run_id or new_run_id()
    run_dir = claim_run_folder(storage.join(staging_root, run_id))
    try:
        write_progress_plan(run_dir, ProgressPlan(_flow_run_id(), discovering=True))
        return (yield from _plan_run(sources, db, run_id, run_dir, batch_size, reprocess,
                                     runtime))
    except BaseException:  # a failure, or the flow stopped asking for batches
        release_run_folder(run_dir)
        raise


def _flow_run_id() -> str | None:
    return str(flow_run.get_id() or "") or None


@dataclass
class _Walk:
    """What discover counts while the sources stream past it."""

    found: int = 0
    unchanged: int = 0
    new_pages: bool = False
    rejected: list[Rejection] = field(default_factory=list)
    origins: set[str] = field(default_factory=set)
    renames: dict[str, str] = field(default_factory=dict)
    discovery: DiscoveryCounts = field(default_factory=DiscoveryCounts)


def _pages_to_fetch(
    sources: list[str], db: str, run_dir: str, reprocess: bool, stored: dict[str, str],
    known: dict[str, Validators], walk: _Walk,
) -> Iterator[Source]:
    """The run's pages as they are found, less the files whose bytes are loaded already.

    Legacy keys are renamed per source (``legacy_keys`` is built from the warehouse,
    not from the run), so ``known`` follows a renamed document before its file is
    compared. Discovery runs after the named arguments, when the batches before it
    are already on their way.
    """
    legacy = legacy_keys(stored)
    for item in expand_sources(sources, stored=stored,
                               more=_discovered(sources, db, run_dir, reprocess, walk)):
        if isinstance(item, Rejection):
            walk.rejected.append(item)
            continue
        walk.found += 1
        walk.origins.add(item.origin)
        old = legacy_key(item, legacy)
        if old is not None:  # a document keyed the old way is this one
            walk.renames[old] = item.doc_key
            if old in known:
                known[item.doc_key] = known.pop(old)
        if unchanged_files([item], known):
            walk.unchanged += 1
            continue
        walk.new_pages = walk.new_pages or item.doc_key not in known
        yield item


def _discovered(sources: list[str], db: str, run_dir: str, reprocess: bool,
                walk: _Walk) -> Iterator[Source]:
    """The articles the sources file's discovery entries find, asked for only when the
    named arguments are done; everything seen is staged for the frontier table."""
    entries = discovery_entries(sources)
    # only entries read the frontier: a run without them opens the warehouse no more
    # after its first batches (the load may find another writer then, and waits)
    known = read_frontier(db) if entries else {}
    discovery = discover_urls(entries, known, FetchOptions(), datetime.now(UTC),
                              recheck_all=reprocess)
    write_rows(storage.join(run_dir, FRONTIER.file), FRONTIER, list(discovery.frontier.values()))
    if entries:
        get_run_logger().info("discovery: %s", discovery.counts)
    walk.discovery = discovery.counts
    yield from discovery.sources


def _progress_due(batches: int) -> bool:
    """Whether the progress file is rewritten after this many batches: at 1, 2, 4, 8, …
    and every 64th, so a long run rewrites it a few dozen times, not once per batch."""
    return batches & (batches - 1) == 0 or batches % 64 == 0


def _plan_run(
    sources: list[str], db: str, run_id: str, run_dir: str, batch_size: int, reprocess: bool,
    runtime: Runtime,
) -> Generator[BatchRef, None, RunPlan]:
    started_at = datetime.now(UTC)  # batches are under way long before discover ends
    stored = stored_locations(db)
    known = {} if reprocess else known_pages(db)
    walk = _Walk()
    todo = _pages_to_fetch(sources, db, run_dir, reprocess, stored, known, walk)
    batches: list[tuple[str, int]] = []
    artifact = None
    planned = 0  # pages handed to batches so far
    prepared = False
    for ref in stages.plan_batches(todo, known, run_dir, batch_size):
        pages = walk.found - walk.unchanged - planned  # the sources it took
        planned += pages
        batches.append((storage.name(ref.folder), pages))
        if not prepared and runtime.full_with(len(batches), planned):
            runtime.prepare(len(batches), walk.new_pages, planned)
            prepared = True
        if ref.index == 0:
            artifact = _run_artifact("progress", "fupin-progress", "discovering batches…", 0.0)
        if _progress_due(len(batches)):
            write_progress_plan(run_dir, ProgressPlan(_flow_run_id(), batches, str(artifact),
                                                      discovering=True))
        yield ref
    if not prepared:
        runtime.prepare(len(batches), walk.new_pages, planned)
    write_rows(storage.join(run_dir, REJECTED_DISCOVER.file), REJECTED_DISCOVER,
               [stages.rejection_row(r) for r in walk.rejected])
    get_run_logger().info("%d pages: %d unchanged files, the rest in %d batches; "
                          "%d arguments rejected", walk.found, walk.unchanged, len(batches),
                          len(walk.rejected))
    _tag_flow_run(_source_tags(sorted(walk.origins | {r.location for r in walk.rejected})))
    write_progress_plan(run_dir, ProgressPlan(_flow_run_id(), batches,
                                              str(artifact) if artifact else None))
    if artifact:
        _progress(run_dir, "discover")
    return RunPlan(run_id, run_dir, started_at, len(batches), len(walk.rejected),
                   walk.unchanged, walk.renames, walk.discovery)


@task(name="fetch", cache_policy=NO_CACHE, task_run_name="fetch-batch-{ref.index}")
def fetch(ref: BatchRef) -> BatchRef:
    """Not retried as a task: each request is retried with backoff (``tasks.acquire.fetch``)."""
    out = stages.fetch_stage(ref)
    _progress(storage.parent(ref.folder), "fetch")
    _log_batch("fetch", out)
    return out


def _log_batch(stage: str, ref: BatchRef) -> None:
    """One INFO line per batch and stage, so the flow run's Logs tab follows the run."""
    get_run_logger().info("batch %d %s: %s", ref.index, stage,
                          ref.counts.shown() or "nothing to do")


def _on_worker_if(pages: int, stage: Callable[[BatchRef, str], BatchRef],
                  ref: BatchRef, runtime: Runtime) -> BatchRef:
    """A batch with pages goes to a worker process; an empty one (all unchanged) stays here,
    so a re-run never waits for workers to start."""
    if pages:
        return runtime.call(stage, ref, settings().cache_dir)
    return stage(ref, settings().cache_dir)


@task(name="clean", cache_policy=NO_CACHE, task_run_name="clean-batch-{ref.index}")
def clean(ref: BatchRef, runtime: Runtime) -> BatchRef:
    out = _on_worker_if(ref.counts.fetched, stages.clean_stage, ref, runtime)
    _log_batch("clean", out)
    return out


@task(name="extract", cache_policy=NO_CACHE, task_run_name="extract-batch-{ref.index}")
def extract(ref: BatchRef, runtime: Runtime) -> BatchRef:
    out = _on_worker_if(ref.counts.cleaned, stages.extract_stage, ref, runtime)
    _progress(storage.parent(ref.folder), "extract")
    _log_batch("extract", out)
    return out


def _has_new_rows(refs: list[BatchRef]) -> bool:
    """Whether any batch brings documents or facts to validate (a re-run brings none)."""
    return any(r.counts.cleaned or r.counts.facts_candidate for r in refs)


@task(name="validate-batches", cache_policy=NO_CACHE,
      task_run_name="validate-batches-{group}")
def validate_batches(refs: list[BatchRef], group: int, runtime: Runtime) -> list[BatchRef]:
    """Validate a group of batches as soon as they are extracted, while later ones still are.

    One GE call per suite serves up to 60k rows (its cost is mostly per call).
    """
    if _has_new_rows(refs):
        return runtime.validate(validation_stage.validate_batches, refs)
    return validation_stage.validate_batches(refs)  # nothing new: no need to start GE


@task(name="validate", cache_policy=NO_CACHE)
def validate(groups: list[list[BatchRef]], db: str, runtime: Runtime) -> Validated:
    """Sum up the run's expectation results, build the warehouse's Data Docs and artifact.

    Then the run's processes end: their memory is free before the load needs DuckDB's.
    """
    validated = [ref for group in groups for ref in group]
    docs = (runtime.validate(build_data_docs, str(data_docs_dir(db)))
            if _has_new_rows(validated) else None)
    runtime.close()
    dq = validation_stage.dq_summary(validated)
    _run_artifact("markdown", "fupin-validation", "Great Expectations results of this run",
                  validation_markdown(dq, Path(docs) if docs else None))
    return Validated(validated, str(docs) if docs else None)


@task(name="find-copies", cache_policy=NO_CACHE)
def find_copies(plan: RunPlan, db: str) -> dict[str, str]:
    """doc_key -> original doc_key for the run's documents that copy another story.

    A task of its own so that the flow can run it beside the final validate, whose
    Data Docs are built in the validation process meanwhile: at 10,000 pages each
    took about a second and a half of the run's serial end, one after the other.
    """
    renames = plan.renames
    return stages.find_duplicates(
        plan.run_dir, lambda: [(renames.get(k, k), sig) for k, sig in known_signatures(db)])


@task(name="load", cache_policy=NO_CACHE)
def load(plan: RunPlan, validated: Validated, db: str, sources: list[str],
         duplicates: dict[str, str]) -> RunRecord:
    """Load the whole run into DuckDB in one transaction, then drop its staging folder.

    ``duplicates``: what ``find_copies`` found.
    """
    counts = summarize(validated.refs, plan.discover_rejected, plan.discover_unchanged)
    run = RunRecord(plan.run_id, str(flow_run.get_id() or ""), plan.started_at, sources, counts,
                    (datetime.now(UTC) - plan.started_at).total_seconds(), validated.data_docs,
                    plan.discovery)
    run_dir = plan.run_dir
    get_run_logger().info("loading run %s into %s: %d documents, %d facts", run.run_id, db,
                          counts.documents_loaded, counts.facts_loaded)
    load_run(db, run_dir, run, packaged_dimensions(), duplicates, renames=plan.renames)
    release_run_folder(run_dir, loaded_run=run.run_id)
    return run


@task(name="report", cache_policy=NO_CACHE)
def report(run: RunRecord, db: str) -> RunRecord:
    """Publish the run summary and its rejected and quarantined rows on the flow run."""
    rid = [run.run_id]
    names = {i.code: i.name_zh for i in load_taxonomy()}
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
        quarantined = _rows(con, "SELECT doc_key, indicator, value, unit, region, year, "
                            "expectation, expectations, observed, evidence FROM quarantined_facts "
                            "WHERE run_id = ? ORDER BY doc_key, char_start", rid)
        rejected = _rows(con, "SELECT location, url, stage, reason, detail FROM rejected_pages "
                         "WHERE run_id = ? ORDER BY stage, reason, location", rid)
    index = data_docs_dir(db) / "index.html"  # a run with nothing new links earlier runs' docs
    shown = replace(run, data_docs=run.data_docs or (str(index) if index.is_file() else None))
    _run_artifact("markdown", "fupin-run-summary", "fupin run summary",
                  summary_markdown(shown, details, names))
    tables = (
        ("fupin-quarantined-facts", "Quarantined facts of this run",
         quarantine_table(quarantined, run.counts.facts_quarantined, names)),
        ("fupin-rejected-pages", "Pages of this run that did not become documents",
         rejected_table(rejected, run.counts.pages_rejected)),
    )
    for key, description, table in tables:
        if table:
            _run_artifact("table", key, description, json.dumps(table, ensure_ascii=False))
    return run


def _rows(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """The first ARTIFACT_ROWS rows of a query, as dicts (the totals come from the run)."""
    cur = con.execute(f"{sql} LIMIT {ARTIFACT_ROWS}", params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
