"""The validate stage: run both suites over extracted batches and split what fails.

Kept apart from ``tasks.stages`` so that the clean and extract workers never import
pandas or Great Expectations: only the validation process does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from tasks.models import Rejection
from tasks.stages import rejection_row
from tasks.staging import BatchRef, read_rows, write_rows
from tasks.validate import Validator, Verdict, document_frame, fact_frame, get_validator

# GE's cost is mostly per call, so batches are validated together up to this many rows.
VALIDATE_CHUNK_ROWS = 60_000


def validation_groups(
    refs: list[BatchRef], limit: int = VALIDATE_CHUNK_ROWS
) -> list[list[BatchRef]]:
    """Consecutive batches whose documents and facts together stay under ``limit`` rows."""
    groups: list[list[BatchRef]] = []
    size = 0
    for ref in refs:
        rows = ref.counts.get("cleaned", 0) + ref.counts.get("facts_candidate", 0)
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

    Loadable rows and quarantined rows (each with its reasons) are written per batch;
    the group's expectation results go with its first batch. ``get`` is only called
    when there is something to validate, so a run with nothing new never loads GE.
    """
    now = datetime.now(UTC)
    docs_by = [read_rows(ref.path("docs")) for ref in refs]
    facts_by = [read_rows(ref.path("facts")) for ref in refs]
    docs = [d for batch in docs_by for d in batch]
    facts = [f for batch in facts_by for f in batch]
    validator = get() if docs or facts else None
    doc_frame = document_frame(docs)
    doc_verdict = validator.validate("documents", doc_frame) if validator else Verdict()
    bad_docs = {d["doc_key"]: doc_verdict.failed(i) for i, d in enumerate(docs)
                if doc_verdict.failed(i)}
    frame = fact_frame(facts, {d["doc_key"]: d["published_date"] for d in docs})
    verdict = validator.validate("facts", frame) if validator else Verdict()
    out: list[BatchRef] = []
    doc_at = fact_at = 0
    for n, ref in enumerate(refs):
        good, rejected = [], []
        for doc in docs_by[n]:
            failed = bad_docs.get(doc["doc_key"])
            if failed:
                rejected.append(rejection_row(Rejection(
                    doc["location"], doc["doc_key"], "validate", failed[0],
                    _observed(doc_frame.iloc[doc_at], failed), doc["url"])))
            else:
                good.append(doc)
            doc_at += 1
        loaded, quarantined = [], []
        for fact in facts_by[n]:
            failed = ["document_quarantined"] if fact["doc_key"] in bad_docs else []
            failed += verdict.failed(fact_at)
            if failed:
                quarantined.append(_quarantine_row(fact, failed, frame.iloc[fact_at], now))
            else:
                loaded.append(fact)
            fact_at += 1
        write_rows(ref.path("docs_ok"), "docs", good)
        write_rows(ref.path("rejected_validate"), "rejected", rejected)
        write_rows(ref.path("facts_ok"), "facts", loaded)
        write_rows(ref.path("quarantine"), "quarantine", quarantined)
        write_rows(ref.path("dq"), "dq", doc_verdict.results + verdict.results if n == 0 else [])
        counts = {
            "rejected_validate": len(rejected),
            "documents_loaded": len(good),
            "facts_loaded": len(loaded),
            "facts_quarantined": len(quarantined),
        }
        out.append(BatchRef(ref.index, ref.folder, {**ref.counts, **counts}))
    return out


def _quarantine_row(
    fact: dict[str, Any], failed: list[str], row: Any, now: datetime
) -> dict[str, Any]:
    keep = ("fact_id", "doc_key", "indicator", "value", "unit", "qualifier", "region",
            "region_code", "year", "evidence", "sentence", "char_start", "char_end")
    return {**{k: fact[k] for k in keep}, "expectation": failed[0], "expectations": failed,
            "observed": _observed(row, failed), "recorded_at": now}


_OBSERVED_COLUMNS = ("indicator", "value", "unit", "min_value", "max_value", "year",
                     "region", "region_code", "region_note", "latest_year", "body_chars",
                     "cjk_share", "published_days_ahead")


def _observed(row: Any, failed: list[str]) -> str:
    """What the failing expectations saw, as a compact JSON object for the analyst."""
    seen = {
        col: (None if pd.isna(row[col]) else row[col])
        for col in _OBSERVED_COLUMNS
        if col in row.index
    }
    return json.dumps({"failed": failed, **seen}, ensure_ascii=False, default=str)


def dq_summary(refs: list[BatchRef]) -> list[dict[str, Any]]:
    """Expectation results of the whole run: batches added up, failures first."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for ref in refs:
        for row in read_rows(ref.path("dq")):
            key = (row["suite"], row["expectation"])
            agg = totals.setdefault(key, {"suite": key[0], "expectation": key[1],
                                          "success": True, "element_count": 0,
                                          "unexpected_count": 0})
            agg["success"] = agg["success"] and row["success"]
            agg["element_count"] += row["element_count"]
            agg["unexpected_count"] += row["unexpected_count"]
    return sorted(totals.values(), key=lambda r: (r["success"], r["suite"], r["expectation"]))
