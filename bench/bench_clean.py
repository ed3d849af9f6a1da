"""Benchmark the chrome-removal step against trafilatura on news_bench.

Both sides get the same bytes for the same pages (the zh pages whose ground truth is
human-made or a maintained fixture) and each runs in a fresh interpreter, so start-up
and imports count on both sides. Bodies are scored with the news_bench rule
(character multiset P/R/F1 after NFKC, whitespace removed).

    .venv/bin/python bench/bench_clean.py [--corpus PATH] [--json] [--per-page]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "news_bench"
GT_KINDS = ("human", "fixture")
LOW_F1 = 0.5
SIDES = ("fupin", "trafilatura")


def select_pages(corpus: Path) -> list[dict]:
    """Manifest entries of the scored pages: Chinese, with human or fixture ground truth."""
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    return [p for p in manifest["pages"]
            if p["gt_kind"] in GT_KINDS and p["language"].startswith("zh")]


def _run_fupin(paths: list[Path]) -> list[str]:
    from fupin.tasks.acquire.decode import DecodeError, decode_bytes, read_page_bytes
    from fupin.tasks.clean import clean_page

    out = []
    for path in paths:
        try:
            text, _ = decode_bytes(read_page_bytes(path))
        except DecodeError:
            out.append("")
            continue
        out.append(clean_page(text).body)
    return out


def _run_trafilatura(paths: list[Path]) -> list[str]:
    import trafilatura

    from fupin.tasks.acquire.decode import read_page_bytes

    return [trafilatura.extract(read_page_bytes(path)) or "" for path in paths]


def worker(side: str, paths: list[Path]) -> None:
    """Extract every page with one side and print the bodies as JSON (child process)."""
    runner = _run_fupin if side == "fupin" else _run_trafilatura
    json.dump(runner(paths), sys.stdout, ensure_ascii=False)


def run_side(side: str, corpus: Path, pages: list[dict]) -> tuple[list[str], float]:
    """Run one side in a fresh interpreter; return its bodies and wall-clock seconds."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", side,
           "--corpus", str(corpus)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{side} worker failed:\n{proc.stderr[-2000:]}")
    bodies = json.loads(proc.stdout)
    if len(bodies) != len(pages):
        raise SystemExit(f"{side} worker returned {len(bodies)} bodies for {len(pages)} pages")
    return bodies, seconds


def score_side(bodies: list[str], pages: list[dict], corpus: Path) -> list[dict]:
    from fupin.tasks.clean.score import char_f1

    rows = []
    for body, page in zip(bodies, pages, strict=True):
        gt = json.loads((corpus / page["gt"]).read_text(encoding="utf-8"))
        s = char_f1(body, gt["body"] or "")
        rows.append({"id": page["id"], "p": s.precision, "r": s.recall, "f1": s.f1})
    return rows


def summarise(rows: list[dict], seconds: float) -> dict:
    n = len(rows)
    return {
        "pages": n,
        "precision": sum(r["p"] for r in rows) / n,
        "recall": sum(r["r"] for r in rows) / n,
        "f1": sum(r["f1"] for r in rows) / n,
        "min_f1": min(r["f1"] for r in rows),
        "below_0_5": sum(r["f1"] < LOW_F1 for r in rows),
        "seconds": seconds,
        "pages_per_s": n / seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="news_bench directory (default: ../shared/corpus/news_bench)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--per-page", action="store_true", help="list per-page F1, worst first")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    corpus: Path = args.corpus.resolve()
    if not (corpus / "manifest.json").is_file():
        print(f"error: no news_bench corpus at {corpus} (expected manifest.json there); "
              "pass --corpus PATH", file=sys.stderr)
        return 2
    pages = select_pages(corpus)
    paths = [corpus / p["html"] for p in pages]
    if args.worker:
        worker(args.worker, paths)
        return 0

    result: dict = {"corpus": corpus.name, "sides": {}}
    per_page: dict[str, list[dict]] = {}
    for side in SIDES:
        bodies, seconds = run_side(side, corpus, pages)
        rows = score_side(bodies, pages, corpus)
        per_page[side] = rows
        result["sides"][side] = summarise(rows, seconds)
    fup, traf = result["sides"]["fupin"], result["sides"]["trafilatura"]
    result["speed_ratio"] = fup["pages_per_s"] / traf["pages_per_s"]
    if args.per_page:
        result["per_page"] = {
            side: sorted(rows, key=lambda r: r["f1"]) for side, rows in per_page.items()}

    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    print(f"news_bench: {len(pages)} pages (zh, gt_kind {'+'.join(GT_KINDS)}), bytes in")
    print(f"{'side':<12} {'P':>6} {'R':>6} {'F1':>6} {'minF1':>6} {'<0.5':>5} "
          f"{'pages/s':>8} {'seconds':>8}")
    for side, s in result["sides"].items():
        print(f"{side:<12} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} "
              f"{s['min_f1']:6.3f} {s['below_0_5']:5d} {s['pages_per_s']:8.1f} "
              f"{s['seconds']:8.2f}")
    print(f"speed ratio fupin/trafilatura: {result['speed_ratio']:.2f}x "
          "(each side in a fresh interpreter, start-up included)")
    if args.per_page:
        traf_f1 = {r["id"]: r["f1"] for r in per_page["trafilatura"]}
        print(f"\n{'page':<18} {'P':>6} {'R':>6} {'F1':>6} {'traf F1':>8}")
        for r in result["per_page"]["fupin"]:
            print(f"{r['id']:<18} {r['p']:6.3f} {r['r']:6.3f} {r['f1']:6.3f} "
                  f"{traf_f1[r['id']]:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
