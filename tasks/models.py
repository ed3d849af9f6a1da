"""Records that move between pipeline stages.

Plain dataclasses keep every stage a pure function that is easy to test and
to pickle across processes; the Prefect layer only moves them around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

SourceKind = Literal["file", "http"]
Qualifier = Literal["exact", "approx", "at_least", "at_most"]


@dataclass(frozen=True)
class Source:
    """One page to pull: where it lives and the key its document will carry."""

    location: str
    kind: SourceKind
    doc_key: str
    origin: str = ""  # the SOURCE argument, or the name of the sources-file entry
    options: str = ""  # fetch options of a sources-file entry, as JSON ("" = defaults)


@dataclass(frozen=True)
class DiscoverOptions:
    """The ``discover`` mapping of a sources-file entry (``tasks.acquire.sources``)."""

    include: tuple[str, ...] = ()  # regexes an article URL must match one of (none: any)
    exclude: tuple[str, ...] = ()  # regexes no article URL may match
    start: tuple[str, ...] = ()  # more start pages of a site, besides its location
    hosts: tuple[str, ...] = ()  # more hosts the source may visit, besides its location's
    depth: int = 10  # listing pages followed from a start page, one link after another
    max_listing_pages: int = 100  # listing pages a site source reads per run
    max_pages: int = 1000  # articles a source hands to fetch per run
    max_per_host: int = 1000  # articles fetched per host per run, all sources together
    recheck_days: float = 7.0  # days until a fetched article is worth a conditional GET

    @classmethod
    def of(cls, given: dict[str, Any]) -> DiscoverOptions:
        """The options a checked ``discover`` mapping gives (lists become tuples)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})


@dataclass(frozen=True)
class DiscoveryEntry:
    """A discovery source of a sources file, its fetch options merged with the defaults."""

    name: str
    kind: str  # sitemap | feed | site
    location: str
    fetch_options: str  # JSON, as Source.options
    options: DiscoverOptions


@dataclass(frozen=True)
class Known:
    """What the frontier holds for a URL."""

    kind: str
    lastmod: datetime | None = None
    next_check: datetime | None = None
    last_fetched: datetime | None = None
    found_in: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class RawPage:
    """Bytes of one page exactly as pulled, before any decoding."""

    source: Source
    content: bytes
    sha256: str
    fetched_at: datetime
    url: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    declared_charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Validators:
    """What the warehouse knows of a page, for conditional and unchanged checks."""

    sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Rejection:
    """Why a page did not become a document; stored in rejected_pages."""

    location: str
    doc_key: str
    stage: str
    reason: str
    detail: str = ""
    url: str | None = None


@dataclass
class CleanDoc:
    """A page with the site chrome removed and its metadata read."""

    title: str | None
    body: str
    published: date | None = None
    published_at: datetime | None = None
    source_site: str | None = None
    author: str | None = None
    flags: dict[str, int] = field(default_factory=dict)
    published_from: str | None = None  # text | meta | url: where the date was read


@dataclass
class CandidateFact:
    """A number the extractor read from one sentence, before validation.

    ``char_start``/``char_end`` index the clean body: ``body[char_start:char_end]``
    is ``evidence``. ``subset_of`` is the position, in the same document's list,
    of the fact this one is a part of ("其中…").
    """

    indicator: str
    value: float
    unit: str
    qualifier: Qualifier
    evidence: str
    sentence: str
    char_start: int
    char_end: int
    rule: str
    confidence: float
    region: str | None = None
    region_code: str | None = None
    province: str | None = None
    year: int | None = None
    period_start: int | None = None
    as_of: date | None = None
    time_kind: str | None = None  # point | cumulative | period | None
    year_source: str = "none"  # explicit | relative | period | publication | estimated | none
    subset_of: int | None = None
    region_note: str | None = None


@dataclass
class Skip:
    """A span the extractor looked at and deliberately did not turn into a fact."""

    reason: str
    text: str
    char_start: int
    char_end: int


@dataclass
class Extraction:
    facts: list[CandidateFact] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    keywords: list[tuple[str, float]] = field(default_factory=list)
