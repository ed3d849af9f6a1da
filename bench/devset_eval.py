"""Score fupin on the real development set, overall and by script and level.

The set (``bench/devset/``) is real pages found by search and annotated by
hand before fupin ever ran on them: ``pages.jsonl`` gives each page's URL, the
query that found it, its script (simplified / traditional) and the level of its
subject (national … village); ``gold.jsonl`` gives the facts. The page texts
are third-party and stay out of the repository: they live in the git-ignored
``bench/devset/cache/<id>.txt`` (and ``cache/gold_full.jsonl`` keeps the gold
with its evidence strings, for reading misses). Without the cache this script
says so and exits 2.

These are development figures: the accuracy that counts is measured on real
pages kept apart from the project.

    python bench/devset_eval.py [--json] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEVSET = HERE / "devset"
sys.path.insert(0, str(HERE.parent))

from fupin.cli import query_rows, run_pipeline  # noqa: E402
from fupin.tasks.evaluate import EvalReport, load_gold, score  # noqa: E402


def _pages() -> dict[str, dict]:
    lines = (DEVSET / "pages.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["id"]: r for r in map(json.loads, filter(None, lines))}


def _line(name: str, r: EvalReport, pages: int) -> str:
    ya = "n/a" if r.year_accuracy is None else f"{r.year_accuracy:.3f}"
    c = r.counts
    return (f"{name:<24} {pages:>5} {c['gold']:>5} {c['predicted']:>5} "
            f"{r.precision:>6.3f} {r.recall:>6.3f} {r.f1:>6.3f} {ya:>6}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--show-misses", action="store_true", help="print misses and false positives")
    args = ap.parse_args(argv)
    cache = DEVSET / "cache"
    pages = _pages()
    missing = [p for p in pages if not (cache / f"{p}.txt").is_file()]
    if missing:
        print(f"devset cache incomplete: {len(missing)} of {len(pages)} page texts missing "
              f"under {cache} (first: {missing[0]}); the texts are not in the repository",
              file=sys.stderr)  # fmt: skip
        return 2
    full = cache / "gold_full.jsonl"
    gold = load_gold(full if full.is_file() else DEVSET / "gold.jsonl")
    with tempfile.TemporaryDirectory(prefix="fupin-devset-") as tmp:
        db = Path(tmp) / "devset.duckdb"
        run_pipeline([str(cache / f"{p}.txt") for p in pages], db, 200)
        columns, rows = query_rows(db, "SELECT doc_key AS seed, * FROM v_facts")
        _, dated = query_rows(db, "SELECT doc_key, published_date FROM dim_document")
    found = {Path(str(k)).stem: d for k, d in dated}
    in_text = {p: m["published"] for p, m in pages.items() if m.get("published_from") == "text"}
    dates_ok = sorted(p for p, d in in_text.items() if str(found.get(p)) == d)
    preds = [dict(zip(columns, r, strict=True)) for r in rows]
    for p in preds:  # doc keys may carry a folder or suffix; the page id is the stem
        p["seed"] = Path(str(p["seed"])).stem
    overall = score(preds, gold, seeds=list(pages))
    groups: dict[str, list[str]] = defaultdict(list)
    for pid, meta in pages.items():
        groups[f"script={meta['script']}"].append(pid)
        groups[f"level={meta['level']}"].append(pid)
    reports = {k: score(preds, gold, seeds=v) for k, v in sorted(groups.items())}
    dates = {"in_text": len(in_text), "found": len(dates_ok),
             "missed": sorted(set(in_text) - set(dates_ok))}  # fmt: skip
    if args.json:
        out = {"overall": overall.to_dict(), "publication_dates": dates,
               **{k: r.to_dict() for k, r in reports.items()}}  # fmt: skip
        print(json.dumps(out, ensure_ascii=False, default=str))
        return 0
    print(f"development set: {len(pages)} real pages, {len({p['site'] for p in pages.values()})} "
          "sites (development figures, not the held-out score)")  # fmt: skip
    head = ("group", "pages", "gold", "pred", "P", "R", "F1", "year")
    print(f"{head[0]:<24} " + " ".join(f"{h:>{5 if i < 3 else 6}}" for i, h in enumerate(head[1:])))
    print(_line("all", overall, len(pages)))
    for k, r in reports.items():
        print(_line(k, r, len(groups[k])))
    print(f"publication dates stated in the text: {dates['found']} of {dates['in_text']} found"
          + (f" (missed: {', '.join(dates['missed'])})" if dates["missed"] else ""))
    if args.show_misses:
        print()
        print(overall.format_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
