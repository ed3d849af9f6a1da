"""The ``fupin`` command line: run, clean, export, eval and sql."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fupin.settings import PROJECT_ROOT, configure_environment, default_db

configure_environment()


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


RUN_KEYS = ("pages_in", "pages_unchanged", "documents_loaded", "pages_rejected",
            "facts_candidate", "facts_loaded", "facts_quarantined", "seconds")


def run_pipeline(
    sources: list[str], db: Path, batch_size: int, reprocess: bool = False
) -> dict[str, Any]:
    from fupin.api_server import run_scoped_api
    from fupin.tasks.sources import names_at_most
    from fupin.tasks.warehouse import check_writable
    from fupin.tasks.workers import start_validator, warm_here_in_background

    check_writable(db)  # before any page is pulled, not after the work is done
    with run_scoped_api() as api:
        from fupin.flows.etl import etl

        # Surely needed (every page is new): GE imports while the API finishes booting.
        # Not earlier: three imports on two cores would delay the API, which the flow
        # waits for first. A run of one batch extracts right here: warm that up too.
        if reprocess or not db.exists():
            start_validator()
            if names_at_most(sources, batch_size):
                warm_here_in_background()
        api.ready()
        return etl(sources=sources, db=str(db), batch_size=batch_size, reprocess=reprocess)


def _runner_options(args: argparse.Namespace) -> None:
    if getattr(args, "task_runner", None):
        os.environ["FUPIN_TASK_RUNNER"] = args.task_runner
    if args.workers is not None:
        os.environ["FUPIN_WORKERS"] = str(args.workers)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    from fupin.api_server import ApiStartError
    from fupin.interrupt import stop_on_signals
    from fupin.tasks.sources import sources_file_problems

    problems = sources_file_problems(args.sources)
    if problems:  # before any work: a bad option would fail or stall pages mid-run
        for problem in problems:
            print(f"fupin run: {problem}", file=sys.stderr)
        return 2
    _runner_options(args)
    try:
        with stop_on_signals():  # SIGINT/SIGTERM: children ended, staging removed, exit 130/143
            summary = run_pipeline(args.sources, Path(args.db), args.batch_size, args.reprocess)
    except ApiStartError as exc:
        print(f"fupin: {exc}", file=sys.stderr)
        return 1
    if not args.json or args.verbose:
        print(f"run {summary['run_id']} → {args.db}")
        print(
            "pages: {pages_in} in = {pages_unchanged} unchanged + {documents_loaded} loaded"
            " + {pages_rejected} rejected".format(**summary)
        )
        print(
            "facts: {facts_candidate} candidates = {facts_loaded} loaded"
            " + {facts_quarantined} quarantined   ({seconds:.1f}s)".format(**summary)
        )
        if summary.get("data_docs"):
            print(f"data docs: {summary['data_docs']}")
    if args.json:
        out = {k: summary[k] for k in RUN_KEYS}
        out["run_id"] = summary["run_id"]
        out["data_docs"] = summary.get("data_docs")
        out["db"] = str(args.db)
        print(_dumps(out))
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from fupin.tasks.clean import clean_page
    from fupin.tasks.decode import DecodeError, decode_bytes, read_page_bytes

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


def query_rows(db: Path, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
    """Run one statement on the warehouse through a read-only connection that can
    reach no other file, so a query can change nothing on disk."""
    from fupin.tasks.warehouse import connect, require_warehouse

    with connect(db, read_only=True, sandboxed=True) as con:
        require_warehouse(con, db, empty_ok=False)
        statements = con.extract_statements(sql)
        if not statements:
            raise QueryRefused("no SQL statement given")
        if len(statements) > 1:
            # Only the last result would come back; say so rather than drop the others.
            raise QueryRefused(f"give one statement at a time (found {len(statements)})")
        cursor = con.execute(sql, list(params))
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return columns, cursor.fetchall()


def format_table(columns: list[str], rows: list[tuple], max_width: int = 40) -> str:
    def cell(v: Any) -> str:
        # 15 significant digits: 1e-10 stays 1e-10 and 1860000000 is not cut to 1.86e+09.
        text = "NULL" if v is None else (f"{v:.15g}" if isinstance(v, float) else str(v))
        text = text.replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    def width(s: str) -> int:  # CJK characters take two terminal columns
        return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in s)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([width(c)] + [width(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return " | ".join(v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True))

    out = [line(columns), "-+-".join("-" * w for w in widths)] + [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    try:
        columns, rows = query_rows(Path(args.db), args.query)
    except QueryRefused as exc:
        print(f"fupin sql: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"fupin sql: {sql_error_message(exc)}", file=sys.stderr)
        return 2
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


def print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    if fmt == "json":
        print(_dumps([dict(zip(columns, r, strict=True)) for r in rows]))
    elif fmt == "jsonl":
        for r in rows:
            print(_dumps(dict(zip(columns, r, strict=True))))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([_json_default(v) if v is not None and not isinstance(
            v, str | int | float) else v for v in r] for r in rows)
    else:
        print(format_table(columns, rows))


def cmd_export(args: argparse.Namespace) -> int:
    import duckdb

    try:
        columns, rows = query_rows(
            Path(args.db), "SELECT doc_key AS seed, * FROM v_facts ORDER BY doc_key, char_start"
        )
    except duckdb.Error as exc:
        print(f"fupin export: {args.db}: {sql_error_message(exc)}", file=sys.stderr)
        return 2
    if args.format == "csv":
        print_rows(columns[1:], [r[1:] for r in rows], "csv")
    else:
        print_rows(columns, rows, "jsonl")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from fupin.tasks.evaluate import load_gold, score
    from fupin.tasks.sources import page_stem

    gold = load_gold(Path(args.gold))
    _runner_options(args)
    with tempfile.TemporaryDirectory(prefix="fupin-eval-") as tmp:
        db = Path(tmp) / "eval.duckdb"
        run_pipeline(args.sources, db, args.batch_size)
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
    checkout = str(PROJECT_ROOT)
    if checkout not in sys.path:
        sys.path.insert(0, checkout)
    from bench.synth import generate_corpus

    counts = generate_corpus(Path(args.out), args.pages, seed=args.seed)
    print(_dumps(counts))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from fupin.tasks.report import build_report
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
    from fupin.flows.serve import serve_deployments

    serve_deployments(Path(args.prefect_yaml), args.deployment or None, args.limit)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fupin",
        description="Chinese poverty-alleviation news pages → a DuckDB statistical warehouse.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = f"warehouse file (default {default_db()})"
    workers_help = ("processes for clean and extract with the threads runner "
                    "(default: one per core; 1: all in this process)")

    run = sub.add_parser("run", help="run the ETL flow over SOURCE... into the warehouse")
    run.add_argument("sources", nargs="+", metavar="SOURCE",
                     help="file, directory, glob, http(s) URL, or @FILE with one per line")
    run.add_argument("--db", default=str(default_db()), help=db_help)
    run.add_argument("--batch-size", type=positive_int, default=200, help="pages per task run")
    run.add_argument("--task-runner", metavar="KIND",
                     help="threads (default), processes[:N], dask, or dask:ADDRESS")
    run.add_argument("--workers", type=positive_int, metavar="N", help=workers_help)
    run.add_argument("--reprocess", action="store_true",
                     help="clean, extract and validate unchanged pages again")
    run.add_argument("--json", action="store_true", help="print the summary as JSON (last line)")
    run.add_argument("--verbose", action="store_true", help="with --json, also print the text")
    run.set_defaults(func=cmd_run)

    clean = sub.add_parser("clean", help="strip site chrome from pages and print the result")
    clean.add_argument("paths", nargs="+", metavar="PATH")
    clean.add_argument("--jsonl", action="store_true", help="one JSON object per input")
    clean.set_defaults(func=cmd_clean)

    export = sub.add_parser("export", help="export warehouse rows")
    export.add_argument("what", choices=["facts"])
    export.add_argument("--db", default=str(default_db()), help=db_help)
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.set_defaults(func=cmd_export)

    ev = sub.add_parser("eval", help="score extraction against gold facts")
    ev.add_argument("--gold", required=True, help="gold facts.jsonl")
    ev.add_argument("sources", nargs="+", metavar="SOURCE")
    ev.add_argument("--batch-size", type=positive_int, default=200)
    ev.add_argument("--workers", type=positive_int, metavar="N", help=workers_help)
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_eval)

    synth = sub.add_parser(
        "synth", help="write a synthetic corpus of realistic pages with gold facts (benchmarks)"
    )
    synth.add_argument("--pages", type=int, required=True)
    synth.add_argument("--out", required=True, help="folder for pages/ and gold.jsonl")
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(func=cmd_synth)

    report = sub.add_parser("report", help="write a static HTML report of the warehouse")
    report.add_argument("--db", default=str(default_db()), help=db_help)
    report.add_argument("--out", default=str(PROJECT_ROOT / "warehouse" / "report.html"),
                        help="where to write the report (default warehouse/report.html)")
    report.set_defaults(func=cmd_report)

    serve = sub.add_parser(
        "serve", help="run the prefect.yaml schedules in this process (no work pool needed)"
    )
    serve.add_argument("--prefect-yaml", default=str(PROJECT_ROOT / "prefect.yaml"))
    serve.add_argument("--deployment", action="append",
                       help="serve only this deployment (repeatable)")
    serve.add_argument("--limit", type=int, default=1,
                       help="flow runs at a time (1: runs never overlap)")
    serve.set_defaults(func=cmd_serve)

    sql = sub.add_parser("sql", help="read-only ad hoc SQL on the warehouse")
    sql.add_argument("query")
    sql.add_argument("--db", default=str(default_db()), help=db_help)
    fmt = sql.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="rows as one JSON array")
    fmt.add_argument("--csv", action="store_true", help="rows as CSV")
    sql.set_defaults(func=cmd_sql)
    return parser


class _QuietKnownErrors(logging.Filter):
    """Drop Prefect's log records (with their tracebacks) about an error that main()
    reports itself in one line; other failures keep their full record."""

    def __init__(self, known: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.known = known

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], self.known):
            return False
        return not any(k.__name__ in record.getMessage() for k in self.known)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from fupin.settings import SettingError, check_settings
    from fupin.tasks.warehouse import WarehouseBusy, WarehouseError

    try:
        check_settings()
    except SettingError as exc:
        print(f"fupin: {exc}", file=sys.stderr)
        return 2
    quiet = _QuietKnownErrors((WarehouseError, WarehouseBusy, SettingError))
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addFilter(quiet)
    try:
        return int(args.func(args) or 0)
    except WarehouseBusy as exc:
        print(f"fupin: {exc}", file=sys.stderr)
        return 3
    except (WarehouseError, SettingError) as exc:
        print(f"fupin: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file fupin was asked to read or write
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"fupin: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
