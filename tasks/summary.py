"""The run summary: counts that must reconcile, and how they read to a person."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI reads progress and exit codes without loading pyarrow
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


# Exit codes of `fupin run`: what a cron job or a shell script can act on.
EXIT_OK = 0  # every page loaded or unchanged
EXIT_FAILED = 1  # the run failed: the Prefect API did not start, or an unexpected error
EXIT_USAGE = 2  # a bad argument, setting or input file; nothing was done
EXIT_BUSY = 3  # another process held the warehouse past FUPIN_LOCK_WAIT
EXIT_PARTIAL = 4  # the run loaded, but some pages were rejected
EXIT_NOTHING_LOADED = 5  # no page is in the warehouse after the run (all rejected, or none found)


def exit_status(summary: dict[str, Any]) -> int:
    """The exit code a run's counts call for.

    Quarantined facts leave it at 0: holding back an implausible number is validation
    doing its job, and the bundled samples quarantine one on purpose. A rejected page
    is a source the warehouse did not get, which someone may have to look at.
    """
    if summary["documents_loaded"] + summary["pages_unchanged"] == 0:
        return EXIT_NOTHING_LOADED
    if summary["pages_rejected"]:
        return EXIT_PARTIAL
    return EXIT_OK


@dataclass(frozen=True)
class ReasonGroup:
    """Rows of one rejection or quarantine reason: how many, and the first few places."""

    reason: str
    count: int
    examples: Sequence[str]


def reasons_text(title: str, groups: Sequence[ReasonGroup]) -> list[str]:
    """Lines for a terminal: one per reason, counts right-aligned, examples after."""
    if not groups:
        return []
    reason_w = max(len(g.reason) for g in groups)
    count_w = max(len(f"{g.count:,}") for g in groups)
    lines = [f"{title}:"]
    for g in groups:
        more = g.count - len(g.examples)
        shown = ", ".join(g.examples) + (f" (+{more:,} more)" if more > 0 else "")
        lines.append(f"  {g.reason:<{reason_w}}  {g.count:>{count_w},}  {shown}")
    return lines


@dataclass(frozen=True)
class Progress:
    """How far a run's batches have got, read from its staging folder."""

    batches: int | None  # None until discover has planned them
    fetched: int
    extracted: int
    pages: int
    pages_extracted: int
    flow_run_id: str | None


PROGRESS_FILE = "progress.json"


def write_progress_plan(run_dir: Path, flow_run_id: str | None,
                        batches: Sequence[tuple[str, int]] | None = None,
                        **extra: Any) -> None:
    """Record what progress is measured against: the flow run, and each batch's folder
    and number of pages (None until discover has planned them)."""
    state = {"flow_run_id": flow_run_id, "batches": batches, **extra}
    tmp = run_dir / f".{PROGRESS_FILE}"
    tmp.write_text(json.dumps(state))
    tmp.replace(run_dir / PROGRESS_FILE)  # a reader never sees half of it


def read_progress_state(run_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((run_dir / PROGRESS_FILE).read_text())
    except (OSError, ValueError):  # not written yet, or the run's folder is gone
        return None


def batch_progress(run_dir: Path) -> Progress | None:
    """Batches fetched and extracted so far: a stage's output file exists once it is whole."""
    state = read_progress_state(run_dir)
    if state is None:
        return None
    batches: list[tuple[str, int]] | None = state.get("batches")
    if batches is None:
        return Progress(None, 0, 0, 0, 0, state.get("flow_run_id"))
    fetched = sum((run_dir / folder / "raw.parquet").exists() for folder, _ in batches)
    extracted = [pages for folder, pages in batches
                 if (run_dir / folder / "facts.parquet").exists()]
    return Progress(len(batches), fetched, len(extracted), sum(p for _, p in batches),
                    sum(extracted), state.get("flow_run_id"))
