"""The ``fupin`` command line: run, clean, export, eval and sql."""

from __future__ import annotations

import time

STARTED = time.monotonic()  # a run's printed time counts from here, start-up included

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from contextlib import AbstractContextManager, contextmanager, nullcontext  # noqa: E402
from dataclasses import asdict  # noqa: E402
from datetime import date, datetime  # noqa: E402
from decimal import Decimal  # noqa: E402
from functools import cache  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import IO, TYPE_CHECKING, Any  # noqa: E402

from fupin import quick_exit  # noqa: E402
from fupin.settings import (  # noqa: E402
    CHECKOUT,
    SQL_DIR,
    SettingError,
    collector_paused,
    configure_environment,
    parse_task_runner,
    settings,
    work_root,
)
from fupin.tasks.pipeline import storage  # noqa: E402
from fupin.tasks.pipeline.records import RunRecord  # noqa: E402
from fupin.tasks.pipeline.summary import (  # noqa: E402
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_NOTHING_LOADED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    ReasonGroup,
    discovery_text,
    exit_status,
    reasons_text,
)

if TYPE_CHECKING:
    from fupin.api_server import LocalApi

configure_environment()

QUERIES_DIR = SQL_DIR / "queries"


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def run_pipeline(
    sources: list[str], db: Path, batch_size: int, reprocess: bool = False, *,
    task_runner: str | None = None,
    workers: int | None = None,
    run_id: str | None = None,
    on_start: Callable[[], None] | None = None,
    follow: Callable[[str], AbstractContextManager[object]] | None = None,
    api: LocalApi | None = None,
) -> RunRecord:
    """Run the flow in this process. ``task_runner`` and ``workers`` (default: the
    settings) go to the flow as parameters, so the flow run records them. ``on_start``
    is called once the warehouse and a configured Prefect API have passed their checks
    (a run that cannot start announces nothing); ``follow`` watches the run's staging
    folder (given ``run_id``) while the flow runs. ``api`` is one the caller started
    already (else it is started here)."""
    from fupin.api_server import run_scoped_api
    from fupin.tasks.acquire.sources import pages_named
    from fupin.tasks.pipeline.runtime import LOOK_AHEAD_PAGES, local_workers, processes_ahead
    from fupin.tasks.warehouse import check_writable

    config = settings()
    check_writable(db)  # before any page is pulled, not after the work is done
    problem = storage.problem_writing(config.staging_dir)
    if problem:
        raise SettingError(f"cannot write the staging area {config.staging_dir} "
                           f"(FUPIN_STORAGE): {problem}")
    api = api or run_scoped_api()
    new_warehouse = not db.exists()  # every page the run finds is new to it
    if on_start:
        on_start()
    runner, count = task_runner or config.task_runner, workers or config.workers
    pages = pages_named(sources, LOOK_AHEAD_PAGES) if new_warehouse else None
    with processes_ahead(new_warehouse, local_workers(runner, count), pages):
        with collector_paused():  # Prefect's import, and the wait for the API
            from fupin.flows.etl import etl

            api.ready(meanwhile=() if new_warehouse or reprocess
                      else _discover_ahead(sources, db))
        watching = (follow(storage.join(config.staging_dir, run_id)) if follow and run_id
                    else nullcontext())
        with watching, api.flow_settings():
            return etl(sources=sources, db=str(db), batch_size=batch_size,
                       reprocess=reprocess, run_id=run_id, task_runner=runner, workers=count)


def _discover_ahead(sources: list[str], db: Path) -> Iterator[None]:
    """Steps that read what discover will ask of the warehouse (``read_ahead``), then
    hash the local files of SOURCES it holds (``hash_ahead``) in the order discover
    will meet them: done while the Prefect API boots, they spare a re-run's discover
    most of its reading."""
    from fupin.tasks.acquire.fetch import hash_ahead
    from fupin.tasks.acquire.sources import expand_sources
    from fupin.tasks.models import Source
    from fupin.tasks.warehouse import read_ahead

    # Optional work: whatever goes wrong here (a warehouse being written, a file that
    # vanished) is discover's to meet and report, so it only ends the look-ahead.
    try:
        loaded = set(read_ahead(db).values())
        yield
        for item in expand_sources(sources):  # a step per item: a new folder is walked
            if isinstance(item, Source) and item.location in loaded:  # only as polls allow
                yield from hash_ahead([item])
            else:
                yield
    except Exception:
        logging.getLogger(__name__).debug("look-ahead stopped", exc_info=True)


def task_runner_choice(text: str) -> str:
    """An argparse type: a task runner fupin knows, checked before any work."""
    try:
        parse_task_runner(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return value


def flow_run_url(flow_run_id: str) -> str:
    """The Prefect UI's page of a flow run, from the configured API's settings."""
    from prefect.utilities.urls import url_for

    return url_for("flow-run", obj_id=flow_run_id) or flow_run_id


REJECTED_BY_REASON = """
SELECT stage || '/' || reason, count(*),
       list(coalesce(url, location) ORDER BY coalesce(url, location))[1:3]
FROM rejected_pages WHERE run_id = ? GROUP BY 1 ORDER BY 2 DESC, 1"""

QUARANTINED_BY_REASON = """
SELECT expectation, count(*),
       list(doc_key || ': ' || coalesce(indicator, '?') || ' ' || CASE
            WHEN value = round(value) AND abs(value) < 1e15 THEN CAST(value::BIGINT AS VARCHAR)
            ELSE CAST(value AS VARCHAR) END ORDER BY doc_key, char_start)[1:3]
FROM quarantined_facts WHERE run_id = ? GROUP BY 1 ORDER BY 2 DESC, 1"""


def run_reasons(db: Path, run_id: str) -> dict[str, list[ReasonGroup]]:
    """This run's rejected pages and quarantined facts, grouped by reason."""
    out = {}
    for key, sql in (("rejected", REJECTED_BY_REASON), ("quarantined", QUARANTINED_BY_REASON)):
        _, rows = query_rows(db, sql, [run_id])
        out[key] = [ReasonGroup(reason, count, examples) for reason, count, examples in rows]
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from fupin.api_server import ApiStartError, run_scoped_api

    server = os.environ.get("PREFECT_API_URL")  # a server of the user's, not a temporary one
    if args.log_level:  # read by Prefect's logging set-up, which has not run yet
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = args.log_level
    try:  # first: a temporary API boots (about 4 s) on the other core while this
        api = run_scoped_api()  # process imports and checks; it is on the critical path
    except ApiStartError as exc:
        print(f"fupin: {exc}", file=sys.stderr)
        return EXIT_FAILED

    from fupin.interrupt import stop_on_signals
    from fupin.tasks.acquire.sources import sources_file_problems
    from fupin.tasks.pipeline.run_folders import new_run_id
    from fupin.tasks.warehouse import WarehouseBusy

    problems = sources_file_problems(args.sources)
    if problems:  # before any work: a bad option would fail or stall pages mid-run
        for problem in problems:
            print(f"fupin run: {problem}", file=sys.stderr)
        return EXIT_USAGE
    text = not args.json or args.verbose
    notes = sys.stdout if text else sys.stderr  # --json keeps stdout for the JSON
    run_id = new_run_id()

    def on_start() -> None:
        print(f"run {run_id} → {args.db}", file=notes, flush=True)

    def on_flow_run(flow_run_id: str) -> None:
        if server:
            print(f"flow run: {flow_run_url(flow_run_id)}", file=notes, flush=True)

    def follow(run_dir: str) -> AbstractContextManager[object]:
        from fupin.progress import RunWatcher

        return RunWatcher(run_dir, show=display, on_flow_run=on_flow_run)

    # The watcher lists the run's folder four times a second: only worth it for the
    # live display, drawn on a terminal alone, or for the flow run's link to a server.
    # Off a terminal it had nothing to show, for about 2 CPU-seconds of a 10,000-page run
    # (0.66 CPU-s per 20 s over 50 batches' files).
    display = not args.quiet and sys.stderr.isatty()

    try:
        with stop_on_signals():  # SIGINT/SIGTERM: children ended, staging removed, exit 130/143
            summary = run_pipeline(args.sources, Path(args.db), args.batch_size, args.reprocess,
                                   task_runner=args.task_runner, workers=args.workers,
                                   run_id=run_id, on_start=on_start,
                                   follow=follow if display or server else None, api=api)
    except ApiStartError as exc:
        print(f"fupin: {exc}", file=sys.stderr)
        return EXIT_FAILED
    seconds = time.monotonic() - STARTED
    counts = asdict(summary.counts)
    try:
        reasons = run_reasons(Path(args.db), summary.run_id)
    except WarehouseBusy:  # the run is loaded; only its reasons cannot be read just now
        print(f"fupin: the warehouse is busy; the reasons of run {run_id} are in "
              "rejected_pages and quarantined_facts", file=sys.stderr)
        reasons = {"rejected": [], "quarantined": []}
    if text:
        print(
            "pages: {pages_in:,} in = {pages_unchanged:,} unchanged + {documents_loaded:,} loaded"
            " + {pages_rejected:,} rejected".format(**counts)
        )
        print(
            "facts: {facts_candidate:,} candidates = {facts_loaded:,} loaded"
            " + {facts_quarantined:,} quarantined   ({seconds:.1f}s)".format(**counts,
                                                                        seconds=seconds)
        )
        if summary.discovery.any():
            print(discovery_text(summary.discovery))
        if summary.data_docs:
            print(f"data docs: {summary.data_docs}")
        for line in (reasons_text("rejected pages by reason", reasons["rejected"])
                     + reasons_text("quarantined facts by expectation", reasons["quarantined"])):
            print(line)
    status = exit_status(summary.counts, summary.discovery)
    if args.json:
        out: dict[str, Any] = {**counts, "seconds": seconds, "run_id": summary.run_id,
                               "data_docs": summary.data_docs,
                               "discovery": asdict(summary.discovery)}
        out["db"] = str(args.db)
        for key, groups in reasons.items():
            out[f"{key}_by_reason"] = [
                {"reason": g.reason, "count": g.count, "examples": list(g.examples)}
                for g in groups]
        out["exit_code"] = status
        print(_dumps(out))
    return status


def cmd_clean(args: argparse.Namespace) -> int:
    from fupin.tasks.acquire.decode import DecodeError, decode_bytes, read_page_bytes
    from fupin.tasks.clean import clean_page

    status = 0
    for path in args.paths:
        record: dict[str, Any] = {"path": path}
        try:
            text, encoding = decode_bytes(read_page_bytes(path))
            doc = clean_page(text)
        except (OSError, DecodeError) as exc:
            status = 1
            record["error"] = str(exc)
            print(_dumps(record) if args.jsonl else f"{path}: {exc}", file=sys.stderr)
            continue
        record.update(
            title=doc.title,
            published=doc.published_at or doc.published,
            source_site=doc.source_site,
            author=doc.author,
            body=doc.body,
            flags={**doc.flags, "encoding": encoding},
        )
        if args.jsonl:
            print(_dumps(record))
        else:
            print(f"== {path}\ntitle: {doc.title}\npublished: {record['published']}\n"
                  f"source_site: {doc.source_site}\nauthor: {doc.author}\n"
                  f"flags: {record['flags']}\n\n{doc.body}\n")
    return status


class QueryRefused(ValueError):
    """SQL that `fupin sql` does not run, with the reason."""


@contextmanager
def sandboxed_connection(db: Path) -> Iterator[Any]:
    """The warehouse through a read-only connection that can reach no other file, so
    nothing run on it can change anything on disk (`fupin sql` and `fupin export`)."""
    from fupin.tasks.warehouse import connect, require_warehouse

    with connect(db, read_only=True, sandboxed=True) as con:
        require_warehouse(con, db, empty_ok=False)
        yield con


def query_rows(db: Path, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
    """Run one statement on the sandboxed connection and fetch its rows."""
    with sandboxed_connection(db) as con:
        statements = con.extract_statements(sql)
        if not statements:
            raise QueryRefused("no SQL statement given")
        if len(statements) > 1:
            # Only the last result would come back; say so rather than drop the others.
            raise QueryRefused(f"give one statement at a time (found {len(statements)})")
        cursor = con.execute(sql, list(params))
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return columns, cursor.fetchall()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def format_table(columns: list[str], rows: list[tuple], max_width: int | None = None) -> str:
    """Rows as an aligned text table; cells longer than ``max_width`` are cut with "…"."""

    def cell(v: Any) -> str:
        # 15 significant digits: 1e-10 stays 1e-10 and 1860000000 is not cut to 1.86e+09.
        text = "NULL" if v is None else (f"{v:.15g}" if isinstance(v, float) else str(v))
        text = text.replace("\n", " ")
        if max_width is None or len(text) <= max_width:
            return text
        return text[: max_width - 1] + "…"

    def width(s: str) -> int:  # CJK characters take two terminal columns
        return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in s)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([width(c)] + [width(r[i]) for r in cells]) for i, c in enumerate(columns)]
    # A column of numbers (NULLs aside) is right-aligned, so digits line up by place.
    numeric = [any(r[i] is not None for r in rows)
               and all(r[i] is None or _is_number(r[i]) for r in rows)
               for i in range(len(columns))]

    def line(values: list[str]) -> str:
        return " | ".join(
            " " * (w - width(v)) + v if right else v + " " * (w - width(v))
            for v, w, right in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line(columns), "-+-".join("-" * w for w in widths)] + [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


TERMINAL_CELL = 40  # characters of a cell shown on a terminal


def named_queries() -> dict[str, Path]:
    """The example queries shipped in warehouse/queries, by file stem."""
    return {path.stem: path for path in sorted(QUERIES_DIR.glob("*.sql"))}


def sql_text(args: argparse.Namespace) -> str:
    """The statement from wherever the user gave it: argument, -f FILE, - (stdin) or --query."""
    if args.name:
        return named_queries()[args.name].read_text(encoding="utf-8")
    if args.file:
        return Path(args.file).read_text(encoding="utf-8")
    if args.sql == "-":
        return sys.stdin.read()
    return args.sql or ""


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    given = [x for x in (args.sql, args.file, args.name) if x is not None]
    if len(given) != 1:
        print("fupin sql: give the SQL once: as an argument, - (stdin), -f FILE or --query "
              "NAME (see fupin sql --help)", file=sys.stderr)
        return EXIT_USAGE
    sql = sql_text(args)
    if not sql.strip():
        where = {"-": "stdin"}.get(args.sql or "", args.file or "the argument")
        print(f"fupin sql: no SQL statement given ({where} is empty)", file=sys.stderr)
        return EXIT_USAGE
    try:
        columns, rows = query_rows(Path(args.db), sql)
    except QueryRefused as exc:
        print(f"fupin sql: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except duckdb.Error as exc:
        print(f"fupin sql: {sql_error_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    print_rows(columns, rows, "json" if args.json else "csv" if args.csv else "table")
    return 0


def sql_error_message(exc: Exception) -> str:
    """One line a person can act on, for an error DuckDB raised on a user's query."""
    from fupin.tasks.warehouse import first_line

    message = first_line(exc)
    lowered = message.lower()
    if "read-only" in lowered or "read only" in lowered:
        return "the warehouse is opened read-only by `fupin sql`; writes are refused"
    if "disabled by configuration" in lowered or "configuration has been locked" in lowered:
        return ("`fupin sql` reads the warehouse only; reading or writing other files and "
                f"changing settings are turned off ({message})")
    return message


def _plain(value: Any) -> Any:
    """A value CSV writes as itself: dates, lists and bytes as their JSON text."""
    return value if value is None or isinstance(value, str | int | float) else _json_default(
        value)


def write_rows(out: IO[str], columns: list[str], rows: Iterator[tuple] | list[tuple],
               fmt: str) -> None:
    if fmt == "jsonl":
        for r in rows:
            out.write(_dumps(dict(zip(columns, r, strict=True))) + "\n")
    else:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([_plain(v) for v in r] for r in rows)


def print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    if fmt == "json":
        print(_dumps([dict(zip(columns, r, strict=True)) for r in rows]))
    elif fmt in ("jsonl", "csv"):
        write_rows(sys.stdout, columns, rows, fmt)
    else:  # a terminal gets short cells; a file or a pipe the whole text
        print(format_table(columns, rows, TERMINAL_CELL if sys.stdout.isatty() else None))


EXPORT_ALIASES = {"facts": "v_facts"}
EXPORT_ORDER = {"v_facts": " ORDER BY doc_key, char_start"}
EXPORT_CHUNK = 10_000


def warehouse_relations(con: Any) -> list[str]:
    rows = con.execute("""
        SELECT table_name FROM duckdb_tables()
        WHERE database_name = current_database() AND schema_name = 'main'
        UNION SELECT view_name FROM duckdb_views()
        WHERE NOT internal AND database_name = current_database() AND schema_name = 'main'
        ORDER BY 1""").fetchall()
    return [name for (name,) in rows]


def _chunks(cursor: Any) -> Iterator[tuple]:
    while chunk := cursor.fetchmany(EXPORT_CHUNK):
        yield from chunk


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


@contextmanager
def _output(target: str | None, binary: bool) -> Iterator[Any]:
    """stdout, or a file that appears whole: written beside it, renamed at the end."""
    if target is None:
        yield sys.stdout
        return
    path = Path(target)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with open(tmp, "wb" if binary else "w", **({} if binary else {
                "encoding": "utf-8", "newline": ""})) as fh:
            yield fh
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def cmd_export(args: argparse.Namespace) -> int:
    import duckdb

    db = Path(args.db)
    name = EXPORT_ALIASES.get(args.table, args.table)
    if args.output and any(_same_file(Path(args.output), f)
                           for f in (db, db.with_name(db.name + ".wal"))):
        print(f"fupin export: -o {args.output} is the warehouse itself; give another file",
              file=sys.stderr)
        return EXIT_USAGE
    if args.format == "parquet" and not args.output:
        print("fupin export: --format parquet needs -o FILE", file=sys.stderr)
        return EXIT_USAGE
    try:
        with sandboxed_connection(db) as con:
            relations = warehouse_relations(con)
            if name not in relations:
                print(f"fupin export: {db} has no table or view {args.table!r} "
                      f"(one of: facts, {', '.join(relations)})", file=sys.stderr)
                return EXIT_USAGE
            quoted = '"' + name.replace('"', '""') + '"'
            select = f"SELECT * FROM {quoted}{EXPORT_ORDER.get(name, '')}"
            with _output(args.output, binary=args.format == "parquet") as out:
                if args.format == "parquet":
                    import pyarrow.parquet as pq

                    batches = con.sql(select).to_arrow_reader(EXPORT_CHUNK)
                    with pq.ParquetWriter(out, batches.schema) as writer:
                        for batch in batches:
                            writer.write_batch(batch)
                else:
                    cursor = con.execute(select)
                    columns = [d[0] for d in cursor.description]
                    write_rows(out, columns, _chunks(cursor), args.format)
    except duckdb.Error as exc:
        print(f"fupin export: {db}: {sql_error_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    return 0


# What `fupin frontier` shows: each source's URLs by kind and state, and the next due.
FRONTIER_COUNTS = """
SELECT source, kind,
       count(*) FILTER (WHERE kind = 'article' AND last_fetched IS NULL) AS never_fetched,
       count(*) FILTER (WHERE kind = 'article' AND last_fetched IS NOT NULL
                        AND next_check <= now()) AS due,
       count(*) FILTER (WHERE kind = 'article' AND last_fetched IS NOT NULL
                        AND next_check > now()) AS waiting,
       count(*) AS urls, min(next_check) FILTER (WHERE kind = 'article') AS next_check
FROM frontier GROUP BY source, kind ORDER BY source, kind
"""
FRONTIER_NEXT = """
SELECT url, source, coalesce(last_status, 'never fetched') AS last_status, next_check
FROM frontier WHERE kind = 'article'
ORDER BY last_fetched IS NOT NULL, next_check, url LIMIT ?
"""


def cmd_frontier(args: argparse.Namespace) -> int:
    """The frontier's URLs by source and kind, then the articles next in line."""
    columns, rows = query_rows(Path(args.db), FRONTIER_COUNTS)
    fmt = "json" if args.json else "table"
    print_rows(columns, rows, fmt)
    if args.next:
        columns, rows = query_rows(Path(args.db), FRONTIER_NEXT, [args.next])
        if not args.json:
            print(f"\nnext {len(rows)} articles to fetch (never fetched first):")
        print_rows(columns, rows, fmt)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from fupin.evaluate import load_gold, score
    from fupin.tasks.acquire.sources import page_stem

    try:
        gold = load_gold(Path(args.gold))
    except UnicodeDecodeError as exc:
        problem = f"{args.gold}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset " \
                  f"{exc.start})"
    except ValueError as exc:  # load_gold names the file and the line
        problem = str(exc)
    else:
        problem = "" if gold else f"{args.gold}: no gold facts in it"
    if problem:
        print(f"fupin eval: {problem}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="fupin-eval-") as tmp:
        db = Path(tmp) / "eval.duckdb"
        run_pipeline(args.sources, db, args.batch_size, workers=args.workers)
        columns, rows = query_rows(db, "SELECT doc_key AS seed, * FROM v_facts")
        _, pulled = query_rows(
            db, "SELECT doc_key FROM dim_document UNION SELECT doc_key FROM rejected_pages"
        )
    # Gold names a page by its file stem. Score only pages with gold that were in this run.
    seeds = {g.seed for g in gold} & {page_stem(r[0]) for r in pulled}
    predictions = [{**p, "seed": page_stem(p["seed"])}
                   for p in (dict(zip(columns, r, strict=True)) for r in rows)]
    predictions = [p for p in predictions if p["seed"] in seeds]
    report = score(predictions, [g for g in gold if g.seed in seeds])
    if args.json:
        print(_dumps({"seeds": sorted(seeds), **report.to_dict()}))
    else:
        print(f"scored pages: {', '.join(sorted(seeds)) or '(none with gold)'}")
        print(report.format_text())
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    # The generator is a benchmark tool: it lives in the checkout's bench/, not in the
    # installed packages, so the checkout this CLI runs from is put on the path.
    if CHECKOUT is None:
        print("fupin synth: the corpus generator lives in a checkout's bench/ folder; "
              "run it from a clone of the repository", file=sys.stderr)
        return 2
    checkout = str(CHECKOUT)
    if checkout not in sys.path:
        sys.path.insert(0, checkout)
    from bench.synth import generate_corpus

    counts = generate_corpus(Path(args.out), args.pages, seed=args.seed)
    print(_dumps(counts))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from fupin.report import build_report
    from fupin.tasks.warehouse import connect, require_warehouse

    out = Path(args.out)
    if out.is_dir():
        print(f"fupin report: --out {out} is a directory; give the path of an HTML file",
              file=sys.stderr)
        return 2
    with connect(Path(args.db), read_only=True) as con:
        require_warehouse(con, args.db, empty_ok=False)
    out = build_report(Path(args.db), out)
    print(f"report written to {out}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from fupin.flows.serve import ServeError, serve_deployments

    try:
        serve_deployments(Path(args.prefect_yaml), args.deployment or None, args.limit)
    except ServeError as exc:
        print(f"fupin serve: {exc}", file=sys.stderr)
        return 2
    return 0


RUN_EPILOG = f"""\
exit status:
  {EXIT_OK}    every page was loaded or is unchanged (facts may have been quarantined)
  {EXIT_FAILED}    the run failed: the Prefect API did not start, or an unexpected error
  {EXIT_USAGE}    a bad argument, setting or sources file; nothing was done
  {EXIT_BUSY}    another process held the warehouse longer than FUPIN_LOCK_WAIT
  {EXIT_PARTIAL}    the run was loaded, but some pages were rejected (reasons printed at the end)
  {EXIT_NOTHING_LOADED}    no page is in the warehouse after the run: all rejected, or none found
  130  stopped by SIGINT (Ctrl-C); 143 by SIGTERM; nothing of the run is loaded

example:
  fupin run pages/ https://example.org/news/1.html @urls.txt --db warehouse/fupin.duckdb
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fupin",
        description="Chinese poverty-alleviation news pages → a DuckDB statistical warehouse.",
    )
    from fupin import __version__

    parser.add_argument("--version", action="version", version=f"fupin {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    config = settings()
    db_help = f"warehouse file (default {config.db})"
    workers_help = ("processes for clean and extract with the threads runner "
                    f"(default {config.workers}, FUPIN_WORKERS or one per core; 1: all in "
                    "this process)")
    raw = argparse.RawDescriptionHelpFormatter

    run = sub.add_parser(
        "run", help="run the ETL flow over SOURCE... into the warehouse", formatter_class=raw,
        description=textwrap.fill(
            "Pull pages, clean, extract, validate and load them in one Prefect flow "
            "run. Prints the run id at the start (and the flow run's page when PREFECT_API_URL "
        "names a server), progress on stderr, and at the end the counts and the reasons of "
        "every rejected page and quarantined fact.", 78),
        epilog=RUN_EPILOG)
    run.add_argument("sources", nargs="+", metavar="SOURCE",
                     help="file, directory, glob, http(s) URL, @FILE with one per line, "
                     "or a sources .yaml file")
    run.add_argument("--db", default=str(config.db), help=db_help)
    run.add_argument("--batch-size", type=positive_int, default=config.batch_size,
                     help=f"pages per task run (default {config.batch_size})")
    run.add_argument("--task-runner", metavar="KIND", type=task_runner_choice,
                     help="threads, processes[:N], dask, or dask:ADDRESS (default "
                     f"{config.task_runner})")
    run.add_argument("--workers", type=positive_int, metavar="N", help=workers_help)
    run.add_argument("--reprocess", action="store_true",
                     help="clean, extract and validate unchanged pages again")
    run.add_argument("--json", action="store_true",
                     help="print the summary as JSON (last line of stdout; the run id goes "
                     "to stderr)")
    run.add_argument("--verbose", action="store_true", help="with --json, also print the text")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="no progress display (shown on stderr only when it is a "
                     "terminal)")
    run.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                     type=str.upper, metavar="LEVEL",
                     help="Prefect log lines shown on stderr: DEBUG, INFO (a line per batch "
                     "and stage), WARNING (default) or ERROR; the flow run's Logs tab in the "
                     "Prefect UI always gets INFO")
    run.add_argument("-v", dest="log_level", action="store_const", const="INFO",
                     help="short for --log-level INFO")
    run.set_defaults(func=cmd_run)

    clean = sub.add_parser(
        "clean", help="strip site chrome from pages and print the result", formatter_class=raw,
        description="Decode each page (GBK, Big5 or UTF-8), strip navigation, footers and "
        "related-news lists,\nand print its title, date and body: what extraction would read.",
        epilog="examples:\n  fupin clean samples/pages/longxi_2019_exit.html\n"
        "  fupin clean pages/*.html --jsonl > bodies.jsonl")
    clean.add_argument("paths", nargs="+", metavar="PATH", help="HTML pages or text dumps")
    clean.add_argument("--jsonl", action="store_true",
                       help="one JSON object per input (default: readable text)")
    clean.set_defaults(func=cmd_clean)

    export = sub.add_parser(
        "export", help="write a warehouse table or view as CSV, JSON lines or Parquet",
        formatter_class=raw,
        description=textwrap.fill("Read a table or view through the same read-only connection as "
        "`fupin sql` and write it to stdout or -o FILE.", 78),
        epilog="examples:\n  fupin export facts --format csv > facts.csv\n"
        "  fupin export v_region_summary --format parquet -o regions.parquet")
    export.add_argument("table", metavar="TABLE",
                        help="a table or view, e.g. v_facts, dim_region, rejected_pages; "
                        "facts is short for v_facts")
    export.add_argument("--db", default=str(config.db), help=db_help)
    export.add_argument("--format", choices=["jsonl", "csv", "parquet"], default="jsonl",
                        help="default jsonl; parquet needs -o")
    export.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE (replaced whole at the end) instead of stdout")
    export.set_defaults(func=cmd_export)

    ev = sub.add_parser(
        "eval", help="score extraction against gold facts", formatter_class=raw,
        description="Run the pipeline on SOURCE... into a temporary warehouse and score its "
        "facts against\nhand-checked gold (precision, recall, F1, year accuracy, misses).",
        epilog="example:\n  fupin eval --gold gold/facts.jsonl seeds/")
    ev.add_argument("--gold", required=True,
                    help="gold facts, JSON lines (seed, indicator, region, year, value, ...)")
    ev.add_argument("sources", nargs="+", metavar="SOURCE", help="the pages the gold covers")
    ev.add_argument("--batch-size", type=positive_int, default=config.batch_size,
                    help=f"pages per batch (default {config.batch_size})")
    ev.add_argument("--workers", type=positive_int, metavar="N", help=workers_help)
    ev.add_argument("--json", action="store_true", help="print the scores as JSON")
    ev.set_defaults(func=cmd_eval)

    synth = sub.add_parser(
        "synth", help="write a synthetic corpus of realistic pages with gold facts (benchmarks)",
        formatter_class=raw,
        description="Generate site-like pages (five layouts, GBK and UTF-8, noise) with "
        "their gold facts;\nneeds a checkout (the generator lives in bench/).",
        epilog="example:\n  fupin synth --pages 2000 --out /tmp/corpus && fupin run "
        "/tmp/corpus/pages")
    synth.add_argument("--pages", type=positive_int, required=True, help="how many pages")
    synth.add_argument("--out", required=True, help="folder for pages/ and gold.jsonl")
    synth.add_argument("--seed", type=int, default=0,
                       help="random seed: the same seed writes the same corpus (default 0)")
    synth.set_defaults(func=cmd_synth)

    report = sub.add_parser(
        "report", help="write a static HTML report of the warehouse", formatter_class=raw,
        description="One self-contained HTML page: coverage, headline indicators by region "
        "and year,\nquarantine and rejection reasons, and a link to the Data Docs.",
        epilog="example:\n  fupin report --out /tmp/fupin-report.html")
    report.add_argument("--db", default=str(config.db), help=db_help)
    report.add_argument("--out", default=str(work_root() / "warehouse" / "report.html"),
                        help="where to write the report (default warehouse/report.html)")
    report.set_defaults(func=cmd_report)

    serve = sub.add_parser(
        "serve", help="run the prefect.yaml schedules in this process (no work pool needed)",
        formatter_class=raw,
        description="Register prefect.yaml's fupin-etl deployments with their schedules and "
        "concurrency limits\nand run them as they come due; Ctrl-C or SIGTERM stops and pauses "
        "them.",
        epilog="examples:\n  fupin serve\n  PREFECT_API_URL=http://127.0.0.1:4200/api "
        "fupin serve --deployment daily-incremental")
    serve.add_argument("--prefect-yaml", default=str(work_root() / "prefect.yaml"),
                       help="the deployments file (default: %(default)s)")
    serve.add_argument("--deployment", action="append", metavar="NAME",
                       help="serve only this deployment (repeatable; default: all)")
    serve.add_argument("--limit", type=int, default=1,
                       help="flow runs at a time (default 1: runs never overlap)")
    serve.set_defaults(func=cmd_serve)

    frontier = sub.add_parser(
        "frontier", help="what the sitemap, feed and site sources found, and what is waiting",
        formatter_class=raw,
        description=textwrap.fill(
            "Count the frontier's URLs by source and kind (article, listing, sitemap, feed, "
            "robots_blocked, offsite): articles never fetched, due for a re-check, or waiting "
            "until their next_check; then list the articles next in line.", 78),
        epilog="examples:\n  fupin frontier\n  fupin frontier --next 50\n"
        "  fupin sql --query frontier_waiting")
    frontier.add_argument("--db", default=str(config.db), help=db_help)
    frontier.add_argument("--next", type=int, default=20, metavar="N",
                          help="list the N articles next in line (default 20; 0: none)")
    frontier.add_argument("--json", action="store_true", help="rows as JSON arrays")
    frontier.set_defaults(func=cmd_frontier)

    queries = named_queries()
    sql = sub.add_parser(
        "sql", help="read-only ad hoc SQL on the warehouse", formatter_class=raw,
        description=textwrap.fill(
            "Run one statement on a read-only connection that can reach no file "
            "but the warehouse. Give the SQL as an argument, - to read it from stdin, "
        "-f FILE, or --query NAME for an example query.", 78),
        epilog="examples:\n  fupin sql \"SELECT region, year, value FROM v_facts LIMIT 5\"\n"
        "  fupin sql -f my_query.sql --csv\n  echo 'SELECT count(*) FROM v_facts' | fupin "
        f"sql -\n  fupin sql --query {next(iter(queries), 'NAME')}")
    sql.add_argument("sql", nargs="?", metavar="SQL", help="the statement, or - for stdin")
    sql.add_argument("-f", "--file", metavar="FILE", help="read the statement from FILE")
    sql.add_argument("-q", "--query", dest="name", metavar="NAME", choices=list(queries),
                     help=f"an example query: {', '.join(queries)}")
    sql.add_argument("--db", default=str(config.db), help=db_help)
    fmt = sql.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="rows as one JSON array")
    fmt.add_argument("--csv", action="store_true", help="rows as CSV")
    sql.set_defaults(func=cmd_sql)
    return parser


@cache
def _known_errors() -> tuple[type[BaseException], ...]:
    """The errors main() reports in one line. Imported when first needed (then kept:
    the log filter asks on every Prefect record): the warehouse module pulls in DuckDB
    and Arrow, and ``fupin run`` starts its Prefect API before paying for them."""
    from fupin.settings import SettingError
    from fupin.tasks.warehouse import WarehouseBusy, WarehouseError

    return WarehouseError, WarehouseBusy, SettingError


class _QuietKnownErrors(logging.Filter):
    """Drop Prefect's log records (with their tracebacks) about an error that main()
    reports itself in one line; other failures keep their full record."""

    def filter(self, record: logging.LogRecord) -> bool:
        known = _known_errors()
        if record.exc_info and isinstance(record.exc_info[1], known):
            return False
        return not any(k.__name__ in record.getMessage() for k in known)


def _exit_code(exc: Exception) -> int | None:
    """The exit status of an error main() reports in one line (None for any other)."""
    if isinstance(exc, BrokenPipeError):
        return 0
    from fupin.tasks.warehouse import WarehouseBusy

    if isinstance(exc, WarehouseBusy):
        print(f"fupin: {exc}", file=sys.stderr)
        return EXIT_BUSY
    if isinstance(exc, _known_errors()):
        print(f"fupin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, OSError):  # a file fupin was asked to read or write
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"fupin: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return None


def main(argv: Sequence[str] | None = None) -> int:
    from fupin.settings import SettingError

    try:  # every setting, before any work (and before the defaults in --help)
        settings()
    except SettingError as exc:
        print(f"fupin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = build_parser().parse_args(argv)
    quiet = _QuietKnownErrors()
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addFilter(quiet)
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        code = _exit_code(exc)
        if code is None:
            raise
        return code


def command() -> None:
    """The ``fupin`` command (``[project.scripts]``): ``main``, then a quick exit."""
    code = main()
    quick_exit.arm(code)
    sys.exit(code)


if __name__ == "__main__":
    command()
