"""Score fupin on the real development set, overall and by script and level.

The set (``bench/devset/``) is real pages found by search and annotated by
hand before fupin ever ran on them: ``pages.jsonl`` gives each page's URL, the
query that found it, its script (simplified / traditional) and the level of its
subject (national … village); ``gold.jsonl`` gives the facts. The page texts
are third-party and stay out of the repository: they live in the git-ignored
``bench/devset/cache/<id>.txt`` (and ``cache/gold_full.jsonl`` keeps the gold
with its evidence strings, for reading misses). Without the cache this script
says so and exits 2.

By default the pipeline reads the cached texts as files, so a page that states
no date of its own has none. ``--by-url`` serves every text from an HTTP server
on 127.0.0.1 at its page's original path (and query) and runs the pipeline on
those URLs, as a crawl would: the dates that only a page's address holds
(``/2017/0529/``, ``t20170529_``) are then read too.

These are development figures: the accuracy that counts is measured on real
pages kept apart from the project.

    python bench/devset_eval.py [--json] [--show-misses] [--by-url] [--devset DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

HERE = Path(__file__).resolve().parent
DEVSET = HERE / "devset"
sys.path.insert(0, str(HERE.parent))

from fupin.cli import query_rows, run_pipeline  # noqa: E402
from fupin.evaluate import EvalReport, load_gold, score  # noqa: E402
from fupin.tasks.acquire.links import url_key  # noqa: E402
from fupin.tasks.acquire.sources import page_stem  # noqa: E402
from tests.http_server import Reply, always, serve  # noqa: E402


def _pages(devset: Path) -> dict[str, dict]:
    lines = (devset / "pages.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["id"]: r for r in map(json.loads, filter(None, lines))}


def _original_path(url: str) -> str:
    """The path and query of a page's URL, percent-encoded as a client sends them."""
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    return path + (f"?{quote(parts.query, safe='/%:@!$&()*+,;=-._~?')}" if parts.query else "")


@contextmanager
def _served(pages: dict[str, dict], cache: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Serve each cached text at its page's original path on 127.0.0.1; yields the
    URLs to run and the doc key each page will get, mapped to its page id."""
    routes = {}
    for pid, meta in pages.items():
        body = (cache / f"{pid}.txt").read_bytes()
        reply = Reply(body=body, headers={"Content-Type": "text/plain; charset=utf-8"})
        routes[_original_path(meta["url"])] = always(reply)
    with serve(routes) as site:
        urls = {pid: site.url(_original_path(m["url"])) for pid, m in pages.items()}
        yield list(urls.values()), {url_key(u): pid for pid, u in urls.items()}


def _run(pages: dict[str, dict], cache: Path, by_url: bool) -> tuple[list[dict], dict]:
    """Predicted facts (``seed`` = page id) and each page's publication date."""
    with tempfile.TemporaryDirectory(prefix="fupin-devset-") as tmp:
        db = Path(tmp) / "devset.duckdb"
        if by_url:
            with _served(pages, cache) as (urls, page_of):
                run_pipeline(urls, db, 200)
        else:
            run_pipeline([str(cache / f"{p}.txt") for p in pages], db, 200)
            page_of = {}
        columns, rows = query_rows(db, "SELECT doc_key AS seed, * FROM v_facts")
        _, dated = query_rows(db, "SELECT doc_key, published_date FROM dim_document")
    preds = [dict(zip(columns, r, strict=True)) for r in rows]
    for p in preds:  # a file's key carries its folder and suffix; the page id is the stem
        p["seed"] = page_of.get(str(p["seed"])) or page_stem(str(p["seed"]))
    found = {page_of.get(str(k)) or page_stem(str(k)): d for k, d in dated}
    return preds, found


def _line(name: str, r: EvalReport, pages: int) -> str:
    ya = "n/a" if r.year_accuracy is None else f"{r.year_accuracy:.3f}"
    c = r.counts
    return (f"{name:<24} {pages:>5} {c['gold']:>5} {c['predicted']:>5} "
            f"{r.precision:>6.3f} {r.recall:>6.3f} {r.f1:>6.3f} {ya:>6}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--show-misses", action="store_true", help="print misses and false positives")
    ap.add_argument("--by-url", action="store_true",
                    help="fetch the pages from a local HTTP server at their original URL paths")
    ap.add_argument("--devset", type=Path, default=DEVSET,
                    help="folder with pages.jsonl, gold.jsonl and cache/ (default: bench/devset)")
    args = ap.parse_args(argv)
    cache = args.devset / "cache"
    pages = _pages(args.devset)
    missing = [p for p in pages if not (cache / f"{p}.txt").is_file()]
    if missing:
        print(f"devset cache incomplete: {len(missing)} of {len(pages)} page texts missing "
              f"under {cache} (first: {missing[0]}); the texts are not in the repository",
              file=sys.stderr)  # fmt: skip
        return 2
    full = cache / "gold_full.jsonl"
    gold = load_gold(full if full.is_file() else args.devset / "gold.jsonl")
    preds, found = _run(pages, cache, args.by_url)
    origins = ("text", "url") if args.by_url else ("text",)
    dates = {}
    for origin in origins:
        stated = {p: m["published"] for p, m in pages.items() if m.get("published_from") == origin}
        ok = {p for p, d in stated.items() if str(found.get(p)) == d}
        dates[f"in_{origin}"] = {"stated": len(stated), "found": len(ok),
                                 "missed": sorted(set(stated) - ok)}  # fmt: skip
    overall = score(preds, gold, seeds=list(pages))
    groups: dict[str, list[str]] = defaultdict(list)
    for pid, meta in pages.items():
        groups[f"script={meta['script']}"].append(pid)
        groups[f"level={meta['level']}"].append(pid)
    reports = {k: score(preds, gold, seeds=v) for k, v in sorted(groups.items())}
    if args.json:
        out = {"read_by": "url" if args.by_url else "file",
               "overall": overall.to_dict(), "publication_dates": dates,
               **{k: r.to_dict() for k, r in reports.items()}}  # fmt: skip
        print(json.dumps(out, ensure_ascii=False, default=str))
        return 0
    print(f"development set: {len(pages)} real pages, {len({p['site'] for p in pages.values()})} "
          "sites (development figures, not the held-out score), read "
          + ("by URL from a local server" if args.by_url else "from files"))  # fmt: skip
    head = ("group", "pages", "gold", "pred", "P", "R", "F1", "year")
    print(f"{head[0]:<24} " + " ".join(f"{h:>{5 if i < 3 else 6}}" for i, h in enumerate(head[1:])))
    print(_line("all", overall, len(pages)))
    for k, r in reports.items():
        print(_line(k, r, len(groups[k])))
    for origin, d in dates.items():
        missed = f" (missed: {', '.join(d['missed'])})" if d["missed"] else ""
        print(f"publication dates stated {origin.replace('_', ' the ')}: "
              f"{d['found']} of {d['stated']} found{missed}")
    if args.show_misses:
        print()
        print(overall.format_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
