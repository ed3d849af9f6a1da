"""Every file a run stages: its name, its columns and the stage that writes it.

The stages hand each other files in a run's staging folder, and the load, the
progress display and the stage cache read those files too. They all take names
and schemas from this registry, so a new column or a new staged file is declared
once, here, and a file whose columns differ from its entry is refused when it is
written or read.

Importing this module does not import pyarrow (``fupin run`` reads progress and
run-folder owners before its heavy imports); the Arrow schemas are built on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pyarrow as pa

# Batches of a run sit in numbered folders of its staging folder.
BATCH_GLOB = "batch-*"


def batch_folder_name(index: int) -> str:
    return f"batch-{index:05d}"


@cache
def _layouts() -> dict[str, pa.Schema]:
    """The column layouts staged files follow; their names equal the warehouse columns,
    so loads are ``INSERT … BY NAME``."""
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return {
        "sources": pa.schema(
            [("location", pa.string()), ("kind", pa.string()), ("doc_key", pa.string()),
             ("origin", pa.string()), ("options", pa.string()), ("known_sha256", pa.string()),
             ("known_etag", pa.string()), ("known_last_modified", pa.string())]
        ),
        "frontier": pa.schema(
            [("url", pa.string()), ("location", pa.string()), ("host", pa.string()),
             ("source", pa.string()), ("found_in", pa.string()), ("kind", pa.string()),
             ("first_seen", ts), ("last_seen", ts), ("lastmod", ts), ("next_check", ts),
             ("scheduled", pa.bool_()), ("last_status", pa.string()), ("etag", pa.string()),
             ("last_modified", pa.string())]
        ),
        "raw": pa.schema(
            [("sha256", pa.string()), ("location", pa.string()), ("url", pa.string()),
             ("doc_key", pa.string()), ("fetched_at", ts), ("http_status", pa.int32()),
             ("content_type", pa.string()), ("declared_charset", pa.string()),
             ("etag", pa.string()), ("last_modified", pa.string()),
             ("size_bytes", pa.int32()), ("content", pa.binary())]
        ),
        "rejected": pa.schema(
            [("location", pa.string()), ("url", pa.string()), ("doc_key", pa.string()),
             ("stage", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
             ("recorded_at", ts)]
        ),
        "docs": pa.schema(
            [("doc_key", pa.string()), ("location", pa.string()), ("url", pa.string()),
             ("title", pa.string()), ("published_date", pa.date32()),
             ("published_at", pa.timestamp("us")), ("published_from", pa.string()),
             ("source_site", pa.string()),
             ("author", pa.string()), ("content_sha256", pa.string()), ("encoding", pa.string()),
             ("body", pa.string()), ("body_chars", pa.int32()),
             ("flags", pa.map_(pa.string(), pa.int32())), ("minhash", pa.binary())]
        ),
        "facts": pa.schema(
            [("fact_id", pa.string()), ("doc_key", pa.string()), ("ordinal", pa.int32()),
             ("indicator", pa.string()), ("region_code", pa.string()), ("region", pa.string()),
             ("province", pa.string()), ("year", pa.int32()), ("period_start", pa.int32()),
             ("as_of", pa.date32()), ("time_kind", pa.string()), ("year_source", pa.string()),
             ("value", pa.float64()),
             ("unit", pa.string()), ("qualifier", pa.string()), ("evidence", pa.string()),
             ("sentence", pa.string()), ("char_start", pa.int32()), ("char_end", pa.int32()),
             ("rule", pa.string()), ("confidence", pa.float64()), ("subset_of", pa.string()),
             ("region_note", pa.string())]
        ),
        "skips": pa.schema(
            [("doc_key", pa.string()), ("reason", pa.string()), ("text", pa.string()),
             ("char_start", pa.int32()), ("char_end", pa.int32())]
        ),
        "keywords": pa.schema(
            [("doc_key", pa.string()), ("rank", pa.int32()), ("keyword", pa.string()),
             ("weight", pa.float64())]
        ),
        "quarantine": pa.schema(
            [("fact_id", pa.string()), ("doc_key", pa.string()), ("indicator", pa.string()),
             ("value", pa.float64()), ("unit", pa.string()), ("qualifier", pa.string()),
             ("region", pa.string()), ("region_code", pa.string()), ("year", pa.int32()),
             ("expectation", pa.string()), ("expectations", pa.list_(pa.string())),
             ("observed", pa.string()), ("evidence", pa.string()), ("sentence", pa.string()),
             ("char_start", pa.int32()), ("char_end", pa.int32()), ("recorded_at", ts)]
        ),
        "dq": pa.schema(
            [("suite", pa.string()), ("expectation", pa.string()), ("success", pa.bool_()),
             ("element_count", pa.int64()), ("unexpected_count", pa.int64())]
        ),
    }


Stage = Literal["discover", "fetch", "clean", "extract", "validate"]


@dataclass(frozen=True)
class Kind:
    """One staged file.

    ``layout`` names its columns (None: not a table); ``count`` is the ``BatchCounts``
    field its number of rows sets; ``table`` the warehouse table its rows load into by
    column name, all but the ``unloaded`` columns (read by later stages or by the load,
    not kept); ``per_run`` marks a file of the run's folder rather than of each batch.
    """

    name: str
    stage: Stage
    layout: str | None = None
    count: str | None = None
    table: str | None = None
    unloaded: tuple[str, ...] = ()
    per_run: bool = False
    suffix: str = ".parquet"

    @property
    def file(self) -> str:
        return self.name + self.suffix

    @property
    def schema(self) -> pa.Schema:
        if self.layout is None:
            raise TypeError(f"the staged file {self.file} is not a table")
        return _layouts()[self.layout]


# discover: each batch's sources, with what the warehouse already holds for them
SOURCES = Kind("sources", "discover", "sources")
REJECTED_DISCOVER = Kind("rejected_discover", "discover", "rejected", table="rejected_pages",
                         per_run=True)
# discover: every URL the discovery sources named this run, for the frontier table
# (``scheduled``: handed to fetch this run; the load reads it, the table does not keep it)
FRONTIER = Kind("frontier", "discover", "frontier", table="frontier", unloaded=("scheduled",),
                per_run=True)
# what progress is measured against: the flow run and each batch's pages
PROGRESS = Kind("progress", "discover", suffix=".json", per_run=True)
# the process that owns the run's folder (tasks.pipeline.run_folders)
OWNER = Kind("owner", "discover", suffix="", per_run=True)
# fetch
RAW = Kind("raw", "fetch", "raw", count="fetched", table="raw_pages",
           unloaded=("doc_key", "declared_charset"))
REJECTED_FETCH = Kind("rejected_fetch", "fetch", "rejected", count="rejected_fetch",
                      table="rejected_pages")
# clean
DOCS = Kind("docs", "clean", "docs", count="cleaned")
REJECTED_CLEAN = Kind("rejected_clean", "clean", "rejected", count="rejected_clean",
                      table="rejected_pages")
# extract
FACTS = Kind("facts", "extract", "facts", count="facts_candidate")
SKIPS = Kind("skips", "extract", "skips", table="extraction_skips")
KEYWORDS = Kind("keywords", "extract", "keywords", table="fact_keyword")
REJECTED_EXTRACT = Kind("rejected_extract", "extract", "rejected", count="rejected_extract",
                        table="rejected_pages")
# validate: what loads, what is held back and why, and the expectation results
DOCS_OK = Kind("docs_ok", "validate", "docs", count="documents_loaded", table="dim_document")
FACTS_OK = Kind("facts_ok", "validate", "facts", count="facts_loaded", table="fact_indicator",
                unloaded=("region_note",))
QUARANTINE = Kind("quarantine", "validate", "quarantine", count="facts_quarantined",
                  table="quarantined_facts")
REJECTED_VALIDATE = Kind("rejected_validate", "validate", "rejected", count="rejected_validate",
                         table="rejected_pages")
DQ = Kind("dq", "validate", "dq", table="dq_results")

KINDS: tuple[Kind, ...] = (
    SOURCES, REJECTED_DISCOVER, FRONTIER, PROGRESS, OWNER, RAW, REJECTED_FETCH, DOCS,
    REJECTED_CLEAN, FACTS, SKIPS, KEYWORDS, REJECTED_EXTRACT, DOCS_OK, FACTS_OK, QUARANTINE,
    REJECTED_VALIDATE, DQ,
)

# Every file whose rows become rejected_pages: one per stage that can refuse a page.
REJECTED = tuple(k for k in KINDS if k.table == "rejected_pages")
# What the load reads: the files of some warehouse table, and the documents, whose
# encoding goes with their raw page.
LOADED = (*(k for k in KINDS if k.table), DOCS)


def written_by(stage: Stage) -> tuple[Kind, ...]:
    """A stage's result in a batch folder: the files that are loaded or counted (what the
    stage cache keeps; a retried fetch's partial files are neither)."""
    return tuple(k for k in KINDS if k.stage == stage and not k.per_run
                 and (k.count or k.table))
