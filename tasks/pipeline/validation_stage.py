"""The validate stage: run both suites over extracted batches and split what fails.

Kept apart from ``tasks.pipeline.stages`` so that the clean and extract workers never import
it; Great Expectations itself is only imported when a validator is first created,
which an empty group never asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from fupin.tasks.models import Rejection
from fupin.tasks.pipeline.kinds import (
    DOCS,
    DOCS_OK,
    DQ,
    FACTS,
    FACTS_OK,
    QUARANTINE,
    REJECTED_EXTRACT,
    REJECTED_VALIDATE,
)
from fupin.tasks.pipeline.staging import BatchRef
from fupin.tasks.validate import Validator, document_frame, fact_frame, get_validator, observed

# GE's cost is mostly per call, so batches are validated together up to this many rows.
VALIDATE_CHUNK_ROWS = 60_000
# Pages the flow hands to one validate-batches task, while later batches are still
# being extracted. GE's memory grows with the rows of a call: 2,000 pages a call
# instead of 1,000 saved 1.75 CPU-s per 10,000 pages and cost about 250 MB more.
VALIDATE_PAGES = 1000


def batches_per_validation(batch_size: int) -> int:
    """How many batches of ``batch_size`` pages one validate-batches task takes."""
    return max(1, VALIDATE_PAGES // max(1, batch_size))


def validation_groups(
    refs: list[BatchRef], limit: int = VALIDATE_CHUNK_ROWS
) -> list[list[BatchRef]]:
    """Consecutive batches whose documents and facts together stay under ``limit`` rows."""
    groups: list[list[BatchRef]] = []
    size = 0
    for ref in refs:
        rows = ref.counts.cleaned + ref.counts.facts_candidate
        if not groups or size + rows > limit:
            groups.append([])
            size = 0
        groups[-1].append(ref)
        size += rows
    return groups


def validate_batches(refs: list[BatchRef]) -> list[BatchRef]:
    """Validate batches with this process's validator, up to VALIDATE_CHUNK_ROWS rows a call."""
    return [out for chunk in validation_groups(refs)
            for out in validate_group(chunk, get_validator)]


def validate_group(refs: list[BatchRef], get: Callable[[], Validator]) -> list[BatchRef]:
    """Validate several batches with one GE call per suite, then split the verdicts back.

    Only the columns the suites read become Python rows (a body only long enough
    to count its CJK share); loadable rows are then filtered out of each batch's
    Arrow table, so bodies never pile up in this process. Quarantined rows carry
    their reasons; the group's expectation results go with its first batch. ``get``
    is only called when there is something to validate, so a run with nothing new
    never loads GE.
    """
    now = datetime.now(UTC)
    docs_by = [_document_rows(ref) for ref in refs]
    facts_by = [ref.read(FACTS, _FACT_COLUMNS) for ref in refs]
    docs = [d for batch in docs_by for d in batch]
    facts = [f for batch in facts_by for f in batch]
    if not docs and not facts:  # nothing new (a re-run): no GE context, nothing to write
        return refs
    validator = get()
    run_name = Path(refs[0].folder).parent.name  # batches sit in staging/<run id>/
    doc_frame = document_frame(docs)
    doc_verdict = validator.validate("documents", doc_frame, run_name)
    bad_docs = {d["doc_key"]: doc_verdict.failed(i) for i, d in enumerate(docs)
                if doc_verdict.failed(i)}
    frame = fact_frame(facts, {d["doc_key"]: d["published_date"] for d in docs})
    verdict = validator.validate("facts", frame, run_name)
    out: list[BatchRef] = []
    doc_at = fact_at = 0
    for n, ref in enumerate(refs):
        rejected = []
        for doc in docs_by[n]:
            failed = bad_docs.get(doc["doc_key"])
            if failed:
                # here only: the validation process needs none of the stages' imports
                from fupin.tasks.pipeline.stages import rejection_row

                rejected.append(rejection_row(Rejection(
                    doc["location"], doc["doc_key"], "validate", failed[0],
                    observed(doc_frame.iloc[doc_at], failed), doc["url"])))
            doc_at += 1
        failures = []
        for fact in facts_by[n]:
            failed = ["document_quarantined"] if fact["doc_key"] in bad_docs else []
            failures.append(failed + verdict.failed(fact_at))
            fact_at += 1
        first = fact_at - len(failures)
        doc_table = ref.read_table(DOCS)
        fact_table = ref.read_table(FACTS)
        sentences = fact_table.column("sentence")
        quarantined = [
            _quarantine_row({**fact, "sentence": sentences[i].as_py()}, failed,
                            observed(frame.iloc[first + i], failed), now)
            for i, (fact, failed) in enumerate(zip(facts_by[n], failures, strict=True))
            if failed
        ]
        keep = {d["doc_key"] for d in docs_by[n]} - bad_docs.keys()
        good = doc_table.filter(pa.array([k in keep for k in doc_table["doc_key"].to_pylist()],
                                         pa.bool_()))
        loaded = fact_table.filter(pa.array([not f for f in failures], pa.bool_()))
        out.append(ref.write_table(DOCS_OK, good).write(REJECTED_VALIDATE, rejected)
                   .write_table(FACTS_OK, loaded).write(QUARANTINE, quarantined)
                   .write(DQ, doc_verdict.results + verdict.results if n == 0 else []))
    return out


# What the suites and the rejection rows read; ``sentence`` is read back for quarantined facts.
_DOC_COLUMNS = ["doc_key", "location", "url", "published_date", "body_chars"]
_FACT_COLUMNS = [name for name in FACTS.schema.names if name != "sentence"]


def _document_rows(ref: BatchRef) -> list[dict[str, Any]]:
    """A batch's documents as the suite sees them: bodies reduced to their CJK share.

    Pages that extraction rejected are not documents any more.
    """
    table = ref.read_table(DOCS, [*_DOC_COLUMNS, "body"])
    rows = table.select(_DOC_COLUMNS).to_pylist()
    rejected = {r["doc_key"] for r in ref.read(REJECTED_EXTRACT, ["doc_key"])}
    for row, body in zip(rows, table.column("body").to_pylist(), strict=True):
        row["cjk_share"] = cjk_share(body or "")
    return [row for row in rows if row["doc_key"] not in rejected]


# Code points Python's ``\s`` matches (all below U+3001), and the CJK blocks counted.
_SPACE_AT = np.zeros(0x3002, dtype=np.uint8)
_SPACE_AT[[c for c in range(0x3001) if chr(c).isspace()]] = 1
_CJK_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))


def cjk_share(text: str) -> float:
    """Share of CJK among the visible characters.

    Counted on the body's code points as one array (a regex pass per body was a
    fifth of the validation process's time).
    """
    if not text:
        return 0.0
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    spaces = int(_SPACE_AT[np.minimum(codes, len(_SPACE_AT) - 1)].sum())
    cjk = sum(int(np.count_nonzero((codes >= lo) & (codes <= hi))) for lo, hi in _CJK_BLOCKS)
    return cjk / max(1, len(text) - spaces)


def _quarantine_row(
    fact: dict[str, Any], failed: list[str], seen: str, now: datetime
) -> dict[str, Any]:
    """A quarantined fact keeps the fact's columns its kind declares, and why it failed."""
    verdict = {"expectation": failed[0], "expectations": failed, "observed": seen,
               "recorded_at": now}
    return {k: verdict[k] if k in verdict else fact[k] for k in QUARANTINE.schema.names}


def dq_summary(refs: list[BatchRef]) -> list[dict[str, Any]]:
    """Expectation results of the whole run: batches added up, failures first."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for ref in refs:
        for row in ref.read(DQ):
            key = (row["suite"], row["expectation"])
            agg = totals.setdefault(key, {"suite": key[0], "expectation": key[1],
                                          "success": True, "element_count": 0,
                                          "unexpected_count": 0})
            agg["success"] = agg["success"] and row["success"]
            agg["element_count"] += row["element_count"]
            agg["unexpected_count"] += row["unexpected_count"]
    return sorted(totals.values(), key=lambda r: (r["success"], r["suite"], r["expectation"]))
