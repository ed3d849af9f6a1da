"""Batch stages: each reads the previous stage's load package and writes its own.

These are plain functions (no Prefect), so they run the same in a test, in a
thread, or on a Dask worker; ``tasks.prefect_tasks`` wraps them as tasks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from typing import Any

from fupin.settings import settings
from fupin.tasks.acquire.decode import DecodeError, decode_bytes
from fupin.tasks.acquire.fetch import FetchOptions, fetch_batch
from fupin.tasks.acquire.links import listing_evidence
from fupin.tasks.clean import clean_page
from fupin.tasks.clean.dedupe import body_signature, find_near_duplicates
from fupin.tasks.clean.metadata import url_year
from fupin.tasks.extract import extract, warm_up
from fupin.tasks.extract.budget import ExtractTimeout
from fupin.tasks.models import CandidateFact, RawPage, Rejection, Source, Validators
from fupin.tasks.pipeline import stage_cache, storage
from fupin.tasks.pipeline.kinds import (
    BATCH_GLOB,
    DOCS,
    DOCS_OK,
    FACTS,
    KEYWORDS,
    RAW,
    REJECTED_CLEAN,
    REJECTED_EXTRACT,
    REJECTED_FETCH,
    SKIPS,
    SOURCES,
    Stage,
    batch_folder_name,
    written_by,
)
from fupin.tasks.pipeline.staging import BatchRef, read_table


def rejection_row(rejection: Rejection) -> dict[str, Any]:
    row = asdict(rejection)
    row["recorded_at"] = datetime.now(UTC)
    return row


def _raw_row(p: RawPage) -> dict[str, Any]:
    return {
        "sha256": p.sha256,
        "location": p.source.location,
        "url": p.url,
        "doc_key": p.source.doc_key,
        "fetched_at": p.fetched_at,
        "http_status": p.http_status,
        "content_type": p.content_type,
        "declared_charset": p.declared_charset,
        "etag": p.etag,
        "last_modified": p.last_modified,
        "size_bytes": len(p.content),
        "content": p.content,
    }


def fetch_stage(ref: BatchRef, options: FetchOptions | None = None) -> BatchRef:
    """Pull the batch's sources; pages whose bytes are already loaded are only counted.

    A page that fails has been retried by ``tasks.acquire.fetch`` already (backoff, jitter,
    Retry-After), so every failure is recorded as a rejected page with its reason.
    """
    rows = ref.read(SOURCES)
    known = {
        row["doc_key"]: Validators(row.pop("known_sha256"), row.pop("known_etag"),
                                   row.pop("known_last_modified"))
        for row in rows
    }
    sources = [Source(**row) for row in rows]
    result = fetch_batch(sources, options, known)
    raw = [_raw_row(p) for p in result.pages if known[p.source.doc_key].sha256 != p.sha256]
    unchanged = len(result.pages) - len(raw) + len(result.not_modified)
    rejected = [rejection_row(r) for r in result.rejections]
    out = ref.write(RAW, raw).write(REJECTED_FETCH, rejected)
    return replace(out, counts=replace(out.counts, pages_in=len(sources),
                                       pages_unchanged=unchanged))


def _cached(
    stage: Stage, ref: BatchRef, pages: list[tuple[str, str]],
    compute: Callable[[], BatchRef], cache_dir: storage.Location | None,
) -> BatchRef:
    """Run ``compute`` for the batch, or restore the files it writes from the stage cache.

    An empty batch (every page unchanged) is computed: there is nothing to save.
    """
    if cache_dir is None or not pages:
        return compute()
    kinds = written_by(stage)
    files = tuple(k.file for k in kinds)
    key = stage_cache.cache_key(stage, pages)
    entries = storage.join(cache_dir, stage)
    if stage_cache.restore(entries, key, ref.folder, files):
        return ref.recount(kinds)
    out = compute()
    if not out.counts.rejected_extract:  # a timeout says more about the load than the page
        stage_cache.store(entries, key, ref.folder, files)
    return out


def clean_stage(ref: BatchRef, cache_dir: storage.Location | None = None) -> BatchRef:
    """Decode and strip chrome; undecodable pages become rejections."""
    # The location is part of the key: the documents it writes carry it.
    pages = [(r["doc_key"], f"{r['sha256']}\x1f{r['location']}\x1f{r['url']}")
             for r in ref.read(RAW, ["doc_key", "sha256", "location", "url"])]
    return _cached("clean", ref, pages, lambda: _clean(ref), cache_dir)


class _Listing(Exception):
    """A page that is mostly links: a list of headlines, not a document (its frontier
    row becomes a listing at load time)."""

    reason = "listing_page"

    def __init__(self, links: int, share: float) -> None:
        self.detail = f"{links} links carry {share:.0%} of its text (schemas/discovery.yaml)"
        super().__init__(self.detail)


def _not_a_listing(text: str) -> None:
    evidence = listing_evidence(text)
    if evidence:
        raise _Listing(*evidence)


def _clean(ref: BatchRef) -> BatchRef:
    docs: list[dict[str, Any]] = []
    rejections: list[dict[str, Any]] = []
    for raw in ref.read(RAW):
        try:
            text, encoding = decode_bytes(raw["content"], raw["declared_charset"])
            _not_a_listing(text)
            doc = clean_page(text, url=raw["url"])
        except Exception as exc:  # a decoder or cleaner bug must cost one page, not the run
            reason, detail = ((exc.reason, exc.detail) if isinstance(exc, DecodeError | _Listing)
                              else ("cleaner_error", f"{type(exc).__name__}: {exc}"))
            rejections.append(rejection_row(
                Rejection(raw["location"], raw["doc_key"], "clean", reason, detail, raw["url"])))
            continue
        docs.append(
            {
                "doc_key": raw["doc_key"],
                "location": raw["location"],
                "url": raw["url"],
                "title": doc.title,
                "published_date": doc.published,
                "published_at": doc.published_at,
                "published_from": doc.published_from,
                "source_site": doc.source_site,
                "author": doc.author,
                "content_sha256": raw["sha256"],
                "encoding": encoding,
                "body": doc.body,
                "body_chars": len(doc.body),
                "flags": doc.flags,
                "minhash": body_signature(doc.body),
            }
        )
    return ref.write(DOCS, docs).write(REJECTED_CLEAN, rejections)


def fact_id(doc_key: str, content_sha256: str, ordinal: int) -> str:
    digest = hashlib.sha1(f"{doc_key}\x1f{content_sha256}\x1f{ordinal}".encode()).hexdigest()
    return digest[:20]


def fact_row(
    fact: CandidateFact, doc_key: str, content_sha256: str, ordinal: int
) -> dict[str, Any]:
    row = dict(vars(fact))  # flat fields: a shallow copy, not asdict's deep one (10 % of extract)
    subset = row.pop("subset_of")
    row.update(
        fact_id=fact_id(doc_key, content_sha256, ordinal),
        doc_key=doc_key,
        ordinal=ordinal,
        subset_of=fact_id(doc_key, content_sha256, subset) if subset is not None else None,
    )
    return row


def extract_stage(ref: BatchRef, cache_dir: storage.Location | None = None,
                  budget: float | None = None) -> BatchRef:
    """Read indicator facts, deliberate skips and keywords from every document.

    ``budget``: seconds one page may take (default FUPIN_EXTRACT_TIMEOUT).
    """
    pages = [(r["doc_key"], r["content_sha256"])
             for r in ref.read(DOCS, ["doc_key", "content_sha256"])]
    seconds = settings().extract_timeout if budget is None else budget
    return _cached("extract", ref, pages, lambda: _extract(ref, seconds), cache_dir)


def _extract(ref: BatchRef, budget: float) -> BatchRef:
    facts: list[dict[str, Any]] = []
    skips: list[dict[str, Any]] = []
    keywords: list[dict[str, Any]] = []
    rejections: list[dict[str, Any]] = []
    columns = ["doc_key", "location", "url", "title", "published_date", "content_sha256", "body",
               "source_site"]
    docs = ref.read(DOCS, columns)
    if docs:
        warm_up()  # the budget is for the page, not for loading the tables on the first one
    for doc in docs:
        published: date | None = doc["published_date"]
        key, sha = doc["doc_key"], doc["content_sha256"]
        try:
            result = extract(doc["body"], title=doc["title"], published=published,
                             source_site=doc["source_site"], budget=budget,
                             published_year=None if published else url_year(doc["url"]))
        except ExtractTimeout:
            rejections.append(rejection_row(Rejection(
                doc["location"], key, "extract", "extract_timeout",
                f"extraction ran past {budget:g} s (FUPIN_EXTRACT_TIMEOUT); "
                f"body of {len(doc['body'])} characters", doc["url"])))
            continue
        except Exception as exc:  # keep the document; record why it has no facts
            detail = f"{type(exc).__name__}: {exc}"
            skips.append({"doc_key": key, "reason": "extractor_error", "text": detail[:500],
                          "char_start": 0, "char_end": 0})
            continue
        facts.extend(fact_row(f, key, sha, i) for i, f in enumerate(result.facts))
        skips.extend({"doc_key": key, **asdict(s)} for s in result.skips)
        keywords.extend(
            {"doc_key": key, "rank": rank, "keyword": word, "weight": weight}
            for rank, (word, weight) in enumerate(result.keywords, start=1)
        )
    return (ref.write(FACTS, facts).write(SKIPS, skips).write(KEYWORDS, keywords)
            .write(REJECTED_EXTRACT, rejections))


def plan_batches(
    sources: Iterable[Source], known: dict[str, Validators], run_dir: storage.Location,
    batch_size: int,
) -> Iterator[BatchRef]:
    """Write each batch's sources, with what is already loaded for each key, to its folder.

    A batch is written and yielded as soon as it is full (the last one when the sources
    end), before the next source is asked for: a slow source later in the run does not
    hold back the batches before it.
    """
    storage.make_folder(run_dir)  # later writes make only batch folders
    rows: list[dict[str, Any]] = []
    index = 0
    for s in sources:
        seen = known.get(s.doc_key, Validators())
        rows.append({**asdict(s), "known_sha256": seen.sha256, "known_etag": seen.etag,
                     "known_last_modified": seen.last_modified})
        if len(rows) == batch_size:
            yield _batch(index, rows, run_dir)
            rows, index = [], index + 1
    if rows:
        yield _batch(index, rows, run_dir)


def _batch(index: int, rows: list[dict[str, Any]], run_dir: storage.Location) -> BatchRef:
    return BatchRef(index, storage.join(run_dir, batch_folder_name(index))).write(SOURCES, rows)


def find_duplicates(
    run_dir: storage.Location, known: Callable[[], list[tuple[str, bytes]]]
) -> dict[str, str]:
    """doc_key -> original doc_key for this run's documents that copy another story.

    Documents already in the warehouse are the originals; within the run, the
    earlier published one is (ties broken by key, so the answer is stable).
    ``known`` is only read when the run has new documents (a re-run has none).
    """
    docs = [
        row
        for folder in storage.glob(run_dir, BATCH_GLOB)
        for row in read_table(storage.join(folder, DOCS_OK.file), DOCS_OK,
                              ["doc_key", "published_date", "minhash"]).to_pylist()
    ]
    if not docs:
        return {}
    docs.sort(key=lambda d: (d["published_date"] or date.max, d["doc_key"]))
    keys = {d["doc_key"] for d in docs}
    earlier = [(k, sig) for k, sig in known() if k not in keys]
    return find_near_duplicates([(d["doc_key"], d["minhash"]) for d in docs], earlier)
