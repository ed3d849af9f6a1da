"""The run summary: counts that must reconcile, and how they read to a person."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fupin.tasks.staging import BatchRef

COUNT_KEYS = (
    "pages_in", "pages_unchanged", "documents_loaded", "pages_rejected",
    "facts_candidate", "facts_loaded", "facts_quarantined",
)


def summarize(
    refs: Iterable[BatchRef], discover_rejected: int, discover_unchanged: int = 0
) -> dict[str, int]:
    """Add up the batch counts; raise if pages or facts do not reconcile (a lost row is a bug).

    Discover's own counts come first: arguments it rejected and files it found
    unchanged before planning batches.
    """
    total = {key: 0 for key in COUNT_KEYS}
    total["pages_in"] = discover_rejected + discover_unchanged
    total["pages_rejected"] = discover_rejected
    total["pages_unchanged"] = discover_unchanged
    for ref in refs:
        c = ref.counts
        total["pages_in"] += c.get("pages_in", 0)
        total["pages_unchanged"] += c.get("pages_unchanged", 0)
        total["documents_loaded"] += c.get("documents_loaded", 0)
        total["pages_rejected"] += (
            c.get("rejected_fetch", 0) + c.get("rejected_clean", 0)
            + c.get("rejected_extract", 0) + c.get("rejected_validate", 0)
        )
        total["facts_candidate"] += c.get("facts_candidate", 0)
        total["facts_loaded"] += c.get("facts_loaded", 0)
        total["facts_quarantined"] += c.get("facts_quarantined", 0)
    pages = total["pages_unchanged"] + total["documents_loaded"] + total["pages_rejected"]
    facts = total["facts_loaded"] + total["facts_quarantined"]
    if pages != total["pages_in"] or facts != total["facts_candidate"]:
        raise AssertionError(f"run counts do not reconcile: {total}")
    return total


def summary_markdown(summary: dict[str, Any], details: dict[str, list[tuple[Any, ...]]]) -> str:
    """A short report for the Prefect UI: counts, facts per indicator, reasons."""
    lines = [
        f"# fupin run {summary['run_id']}",
        "",
        "| pages in | unchanged | documents loaded | pages rejected | candidate facts "
        "| facts loaded | facts quarantined | seconds |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| {pages_in} | {pages_unchanged} | {documents_loaded} | {pages_rejected} | "
        "{facts_candidate} | {facts_loaded} | {facts_quarantined} | {seconds:.1f} |".format(
            **summary
        ),
    ]
    if summary.get("data_docs"):
        lines += ["", f"Great Expectations Data Docs: `{summary['data_docs']}`"]
    titles = {
        "facts_per_indicator": ("Facts per indicator", ("indicator", "facts")),
        "quarantine_reasons": ("Quarantine reasons", ("expectation", "facts")),
        "rejection_reasons": ("Rejected pages", ("stage", "reason", "pages")),
    }
    for key, (title, header) in titles.items():
        rows = details.get(key) or []
        if not rows:
            continue
        lines += ["", f"## {title}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def validation_markdown(results: list[dict[str, Any]], docs: Path | None) -> str:
    """The GE verdicts of a run for the Prefect UI, failures on top."""
    failed = [r for r in results if not r["success"]]
    lines = [
        "# Validation",
        "",
        f"{len(results) - len(failed)} of {len(results)} expectations passed on every row.",
    ]
    if docs:
        lines += ["", f"Data Docs: `{docs}`"]
    if failed:
        lines += ["", "| suite | expectation | rows checked | rows failed |", "|---|---|---:|---:|"]
        lines += [f"| {r['suite']} | {r['expectation']} | {r['element_count']} | "
                  f"{r['unexpected_count']} |" for r in failed]
    return "\n".join(lines) + "\n"
