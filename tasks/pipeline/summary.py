"""The run summary: counts that must reconcile, and how they read to a person."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fupin.tasks.pipeline import storage
from fupin.tasks.pipeline.kinds import DOCS, FACTS, FACTS_OK, PROGRESS, RAW, Kind
from fupin.tasks.pipeline.records import DiscoveryCounts, RunCounts, RunRecord

if TYPE_CHECKING:  # the CLI reads progress and exit codes without loading pyarrow
    from fupin.tasks.pipeline.staging import BatchRef


def summarize(
    refs: Iterable[BatchRef], discover_rejected: int, discover_unchanged: int = 0
) -> RunCounts:
    """Add up the batch counts; raise if pages or facts do not reconcile (a lost row is a bug).

    Discover's own counts come first: arguments it rejected and files it found
    unchanged before planning batches.
    """
    batches = [ref.counts for ref in refs]
    total = RunCounts(
        pages_in=discover_rejected + discover_unchanged + sum(c.pages_in for c in batches),
        pages_unchanged=discover_unchanged + sum(c.pages_unchanged for c in batches),
        documents_loaded=sum(c.documents_loaded for c in batches),
        pages_rejected=discover_rejected + sum(c.pages_rejected for c in batches),
        facts_candidate=sum(c.facts_candidate for c in batches),
        facts_loaded=sum(c.facts_loaded for c in batches),
        facts_quarantined=sum(c.facts_quarantined for c in batches),
    )
    pages = total.pages_unchanged + total.documents_loaded + total.pages_rejected
    facts = total.facts_loaded + total.facts_quarantined
    if pages != total.pages_in or facts != total.facts_candidate:
        raise AssertionError(f"run counts do not reconcile: {total}")
    return total


# Rows an artifact table shows; the rest is counted and left to the warehouse.
ARTIFACT_ROWS = 50


def number(value: Any) -> str:
    """A count or value with thousands separators; fractions keep up to two decimals."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def indicator_label(code: str | None, names: dict[str, str]) -> str:
    """An indicator's Chinese name with its code beside it, as the taxonomy names it."""
    if code is None:
        return "–"
    return f"{names[code]} ({code})" if code in names else code


def more_rows(shown: int, total: int, table: str) -> str | None:
    """What a capped table leaves out, and where to read it in full."""
    if total <= shown:
        return None
    return f"{number(total - shown)} more rows — query {table} in the warehouse"


def _markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]], numeric: int,
                    total: int, table: str) -> list[str]:
    """Markdown lines of a table whose last ``numeric`` columns are right-aligned."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "---|" * (len(header) - numeric) + "---:|" * numeric]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in rows]
    note = more_rows(len(rows), total, table)
    return lines + (["", f"*{note}*"] if note else [])


def summary_markdown(
    run: RunRecord, details: dict[str, list[tuple[Any, ...]]],
    names: dict[str, str] | None = None,
) -> str:
    """A short report for the Prefect UI: counts, facts per indicator, reasons.

    ``names`` maps indicator codes to their Chinese names; each list in ``details``
    is capped at ARTIFACT_ROWS with a note naming the table that holds the rest.
    """
    names = names or {}
    lines = [
        f"# fupin run {run.run_id}",
        "",
        "| pages in | unchanged | documents loaded | pages rejected | candidate facts "
        "| facts loaded | facts quarantined | seconds |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| " + " | ".join(number(getattr(run.counts, f.name)) for f in fields(RunCounts))
        + f" | {run.seconds:,.1f} |",
    ]
    if run.discovery.any():
        lines += ["", "## Discovery", "", *discovery_markdown(run.discovery)]
    if run.data_docs:
        docs = Path(run.data_docs)
        lines += ["", f"Great Expectations Data Docs: [{docs}]({docs.as_uri()})"]
    sections = {
        "facts_per_indicator": ("Facts per indicator", ("indicator", "facts"), 1,
                                "fact_indicator",
                                lambda r: (indicator_label(r[0], names), number(r[1]))),
        "quarantine_reasons": ("Quarantine reasons", ("expectation", "facts"), 1,
                               "quarantined_facts", lambda r: (str(r[0]), number(r[1]))),
        "rejection_reasons": ("Rejected pages", ("stage", "reason", "pages"), 1,
                              "rejected_pages", lambda r: (str(r[0]), str(r[1]), number(r[2]))),
    }
    for key, (title, header, numeric, table, cells) in sections.items():
        rows = details.get(key) or []
        if rows:
            lines += ["", f"## {title}", ""]
            lines += _markdown_table(header, [cells(r) for r in rows[:ARTIFACT_ROWS]],
                                     numeric, len(rows), table)
    return "\n".join(lines) + "\n"


def discovery_text(counts: DiscoveryCounts) -> str:
    """The discovery counts in one line, as ``fupin run`` prints them."""
    return (f"discovery: {counts.urls_discovered:,} articles found = {counts.urls_new:,} new"
            f" + {counts.urls_due:,} due + {counts.urls_waiting:,} waiting; "
            f"{counts.urls_robots_skipped:,} skipped by robots.txt, {counts.urls_offsite:,} "
            f"off-site, {counts.listing_pages:,} listing pages, sitemaps and feeds read")


def discovery_markdown(counts: DiscoveryCounts) -> list[str]:
    """The discovery counts as a table, and how they relate to the page counts."""
    header = ("articles found", "new", "due", "waiting", "skipped by robots.txt", "off-site",
              "listings, sitemaps, feeds")
    return [
        "| " + " | ".join(header) + " |", "|" + "---:|" * len(header),
        "| " + " | ".join(number(getattr(counts, f.name)) for f in fields(DiscoveryCounts))
        + " |", "",
        "Only the new and due articles are fetched, so only they count as pages in; "
        "listing pages, sitemaps and feeds are read to find them and are counted here alone "
        "(the frontier table holds every URL found).",
    ]


def quarantine_table(
    rows: list[dict[str, Any]], total: int, names: dict[str, str]
) -> list[dict[str, str]]:
    """Quarantined facts as the Prefect UI lists them, with the value each was checked against.

    A fact that is part of another (其中…) records its parent's value in ``observed``;
    it is shown beside the fact, so a failed subset check can be judged at a glance.
    """
    out = []
    for row in rows[:ARTIFACT_ROWS]:
        seen = json.loads(row.get("observed") or "{}")
        parent = seen.get("parent_value")
        out.append({
            "document": row["doc_key"],
            "indicator": indicator_label(row["indicator"], names),
            "value": number(row["value"]),
            "unit": row.get("unit") or "",
            "region": row.get("region") or "",
            "year": str(row["year"]) if row.get("year") is not None else "",
            "reason": ", ".join(row.get("expectations") or [row["expectation"]]),
            "parent value": number(parent) if parent is not None else "",
            "evidence": row.get("evidence") or "",
        })
    return _with_note(out, total, "quarantined_facts")


def rejected_table(rows: list[dict[str, Any]], total: int) -> list[dict[str, str]]:
    """Rejected pages for the Prefect UI: where each came from (its URL when fetched) and why."""
    out = [{
        "page": row.get("url") or row["location"],
        "stage": row["stage"],
        "reason": row["reason"],
        "detail": _shorten(row.get("detail") or ""),
    } for row in rows[:ARTIFACT_ROWS]]
    return _with_note(out, total, "rejected_pages")


def _with_note(rows: list[dict[str, str]], total: int, table: str) -> list[dict[str, str]]:
    """A last row saying how many rows the table leaves out, when it leaves some."""
    note = more_rows(len(rows), total, table)
    if note and rows:
        first, *rest = rows[0]
        rows = [*rows, {first: note, **dict.fromkeys(rest, "")}]
    return rows


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def validation_markdown(results: list[dict[str, Any]], docs: Path | None) -> str:
    """The GE verdicts of a run for the Prefect UI, failures on top."""
    failed = [r for r in results if not r["success"]]
    lines = [
        "# Validation",
        "",
        f"{number(len(results) - len(failed))} of {number(len(results))} expectations "
        "passed on every row.",
    ]
    if docs:
        lines += ["", f"Data Docs: [{docs}]({docs.as_uri()})"]
    if failed:
        lines += ["", "| suite | expectation | rows checked | rows failed |", "|---|---|---:|---:|"]
        lines += [f"| {r['suite']} | {r['expectation']} | {number(r['element_count'])} | "
                  f"{number(r['unexpected_count'])} |" for r in failed]
    return "\n".join(lines) + "\n"


# Exit codes of `fupin run`: what a cron job or a shell script can act on.
EXIT_OK = 0  # every page loaded or unchanged
EXIT_FAILED = 1  # the run failed: the Prefect API did not start, or an unexpected error
EXIT_USAGE = 2  # a bad argument, setting or input file; nothing was done
EXIT_BUSY = 3  # another process held the warehouse past FUPIN_LOCK_WAIT
EXIT_PARTIAL = 4  # the run loaded, but some pages were rejected
EXIT_NOTHING_LOADED = 5  # no page is in the warehouse after the run (all rejected, or none found)


def exit_status(counts: RunCounts, discovery: DiscoveryCounts | None = None) -> int:
    """The exit code a run's counts call for.

    Quarantined facts leave it at 0: holding back an implausible number is validation
    doing its job, and the bundled samples quarantine one on purpose. A rejected page
    is a source the warehouse did not get, which someone may have to look at. A run
    whose discovery sources found articles that are all waiting (none new, none due)
    has nothing to fetch, and that is no fault.
    """
    waiting = discovery is not None and discovery.urls_waiting > 0
    if counts.documents_loaded + counts.pages_unchanged == 0 and not (
            waiting and counts.pages_in == 0):
        return EXIT_NOTHING_LOADED
    if counts.pages_rejected:
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

    batches: int | None  # None until discover has written the first; then those known so far
    fetched: int
    extracted: int
    pages: int
    pages_extracted: int
    flow_run_id: str | None
    cleaned: int = 0
    validated: int = 0
    discovering: bool = False  # discover is still writing batches: the total may grow


@dataclass(frozen=True)
class ProgressPlan:
    """What progress is measured against: the flow run, and each batch's folder and
    number of pages (None until discover has written the first batch). Batches stream
    out of discover, so while ``discovering`` the list holds those written so far."""

    flow_run_id: str | None
    batches: list[tuple[str, int]] | None = None
    artifact_id: str | None = None  # the flow run's progress artifact
    discovering: bool = False


def write_progress_plan(run_dir: storage.Location, plan: ProgressPlan) -> None:
    storage.write_bytes(storage.join(run_dir, PROGRESS.file), json.dumps(asdict(plan)).encode())


def read_progress_plan(run_dir: storage.Location) -> ProgressPlan | None:
    try:
        state = json.loads(storage.read_bytes(storage.join(run_dir, PROGRESS.file)) or b"")
    except (OSError, ValueError):  # not written yet, or the run's folder is gone
        return None
    batches = state.get("batches")
    return ProgressPlan(state.get("flow_run_id"),
                        None if batches is None else [(str(f), int(n)) for f, n in batches],
                        state.get("artifact_id"), bool(state.get("discovering")))


def batch_progress(run_dir: storage.Location) -> Progress | None:
    """Batches fetched, cleaned, extracted and validated so far: a stage's output file
    exists once it is whole. One listing of the run's folder answers for every batch."""
    plan = read_progress_plan(run_dir)
    if plan is None:
        return None
    if plan.batches is None:
        return Progress(None, 0, 0, 0, 0, plan.flow_run_id, discovering=plan.discovering)
    batches = plan.batches
    written = storage.files_under(run_dir)

    def done(kind: Kind) -> int:
        return sum(f"{folder}/{kind.file}" in written for folder, _ in batches)

    extracted = [pages for folder, pages in batches if f"{folder}/{FACTS.file}" in written]
    return Progress(len(batches), done(RAW), len(extracted), sum(p for _, p in batches),
                    sum(extracted), plan.flow_run_id, cleaned=done(DOCS),
                    validated=done(FACTS_OK), discovering=plan.discovering)
