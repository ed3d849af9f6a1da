"""What the run's tasks hand each other: counts, the plan, the validated batches, the record.

Small dataclasses rather than dicts, so a misspelt count is an error where it is
written and the types show what each task takes. They pickle, so Prefect and the
worker processes pass them as they are; no pyarrow here (the CLI reads them early).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING

from fupin.tasks.pipeline.kinds import REJECTED

if TYPE_CHECKING:
    from fupin.tasks.pipeline.staging import BatchRef


@dataclass(frozen=True)
class BatchCounts:
    """What a batch's stages have counted; a staged file's rows set the field its
    registry entry names (``tasks.pipeline.kinds``), fetch sets the first two."""

    pages_in: int = 0
    pages_unchanged: int = 0
    fetched: int = 0
    rejected_fetch: int = 0
    cleaned: int = 0
    rejected_clean: int = 0
    facts_candidate: int = 0
    rejected_extract: int = 0
    documents_loaded: int = 0
    rejected_validate: int = 0
    facts_loaded: int = 0
    facts_quarantined: int = 0

    @property
    def pages_rejected(self) -> int:
        return sum(getattr(self, k.count) for k in REJECTED if k.count)

    def shown(self) -> str:
        """The counts set so far, for a log line."""
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self)
                         if getattr(self, f.name))


@dataclass(frozen=True)
class RunCounts:
    """A run's totals; they reconcile: pages in = unchanged + loaded + rejected, and
    candidate facts = loaded + quarantined (``tasks.pipeline.summary.summarize``)."""

    pages_in: int = 0
    pages_unchanged: int = 0
    documents_loaded: int = 0
    pages_rejected: int = 0
    facts_candidate: int = 0
    facts_loaded: int = 0
    facts_quarantined: int = 0


@dataclass(frozen=True)
class DiscoveryCounts:
    """What the discovery sources (sitemap, feed, site) of a run found. Counted apart
    from the pages: only the articles handed to fetch (new + due) are pages in, and a
    listing page read to find them is none (``tasks.acquire.discovery``)."""

    urls_discovered: int = 0  # distinct article URLs the sources named, on their hosts
    urls_new: int = 0  # never fetched before: fetched now
    urls_due: int = 0  # re-check due, or sitemap lastmod moved: fetched now (conditional GET)
    urls_waiting: int = 0  # known and not due, or over a cap: left for a later run
    urls_robots_skipped: int = 0  # disallowed by robots.txt: never fetched
    urls_offsite: int = 0  # on a host the source does not name: never fetched
    listing_pages: int = 0  # listing pages, sitemaps and feeds read to find the articles

    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class RunPlan:
    """What discover decided: the run's folder, how many batches it wrote (each was
    handed on as it was written), and what it counted itself (arguments it rejected,
    files it found unchanged before planning batches)."""

    run_id: str
    run_dir: str
    started_at: datetime
    batches: int
    discover_rejected: int = 0
    discover_unchanged: int = 0
    renames: dict[str, str] = field(default_factory=dict)  # old doc key -> new (legacy keys)
    discovery: DiscoveryCounts = field(default_factory=DiscoveryCounts)


@dataclass(frozen=True)
class Validated:
    """Every batch after validation, and the Data Docs built for them (None: nothing new)."""

    refs: list[BatchRef]
    data_docs: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """A loaded run as ``etl_runs`` keeps it and ``fupin run`` reports it."""

    run_id: str
    flow_run_id: str | None
    started_at: datetime
    sources: list[str]
    counts: RunCounts
    seconds: float
    data_docs: str | None = None
    discovery: DiscoveryCounts = field(default_factory=DiscoveryCounts)
