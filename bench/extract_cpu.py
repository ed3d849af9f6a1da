"""CPU of clean and extract per page, in one process, against a parse+segment floor.

The end-to-end benchmark (``run_bench.py``) times a whole run, where start-up,
Parquet, validation and the warehouse blur what one change to the cleaner or the
extractor costs. This times only the two stages, on the same decoded pages, with
``time.process_time`` (CPU, so a busy machine stretches it far less than wall
time), the best of ``--runs`` passes after a warm-up:

* clean    ``clean_page(text, url=...)`` for every page;
* extract  ``extract(body, ...)`` for every clean body, with the arguments the
           extract stage passes (title, publication date, source site, the
           address's year when the page has no date);
* floor    ``BeautifulSoup(text, "lxml").get_text()`` + ``jieba.lcut`` of it for
           every page: the least a pipeline that parses and segments must do (the
           floor of ``run_bench.py``, in this process, on the same text).

Pages: the synthetic corpus for ``--pages``/``--seed`` (generated under ``--workdir``
on first use, as ``run_bench.py`` does) and, with ``--dev``, a development set
folder (``pages.jsonl`` and the git-ignored ``cache/`` of page texts, like
``bench/devset``). Nothing is written; compare two checkouts by running each with
its own folder first on ``PYTHONPATH``.

    .venv/bin/python bench/extract_cpu.py --pages 300 --dev bench/devset
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def synthetic_pages(workdir: Path, pages: int, seed: int) -> list[tuple[str, str | None]]:
    """(decoded text, address) of every page of the synthetic corpus."""
    from bench.run_bench import ensure_corpus, page_files
    from fupin.tasks.acquire.decode import decode_bytes

    corpus, _ = ensure_corpus(workdir, pages, seed)
    return [(decode_bytes(p.read_bytes())[0], None) for p in page_files(corpus / "pages")]


def dev_pages(folder: Path) -> list[tuple[str, str | None]]:
    """(text, address) of every development page whose text is in the cache."""
    out = []
    for line in (folder / "pages.jsonl").read_text(encoding="utf-8").splitlines():
        page = json.loads(line)
        cached = folder / "cache" / f"{page['id']}.txt"
        if cached.exists():
            out.append((cached.read_text(encoding="utf-8"), page.get("url")))
    return out


def best_cpu(work: Callable[[], Any], runs: int) -> float:
    """The least CPU seconds of ``runs`` passes of ``work``."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.process_time()
        work()
        best = min(best, time.process_time() - t0)
    return best


def measure(pages: list[tuple[str, str | None]], runs: int) -> dict[str, float]:
    """CPU seconds of clean, extract and the floor over ``pages``."""
    import jieba
    from bs4 import BeautifulSoup

    from fupin.tasks.clean import clean_page
    from fupin.tasks.clean.lines import classify
    from fupin.tasks.clean.metadata import url_year
    from fupin.tasks.extract import extract, warm_up

    jieba.setLogLevel(60)
    jieba.initialize()
    warm_up()
    docs = [(clean_page(text, url=url), url) for text, url in pages]

    def clean_all() -> None:
        # the line memo keeps verdicts on lines already seen; a second pass over the
        # same pages would time its hits, which a run (every page once) never gets
        classify.cache_clear()
        for text, url in pages:
            clean_page(text, url=url)

    def extract_all() -> None:
        for doc, url in docs:
            extract(doc.body, title=doc.title, published=doc.published,
                    source_site=doc.source_site,
                    published_year=None if doc.published else url_year(url))

    def floor_all() -> None:
        for text, _ in pages:
            jieba.lcut(BeautifulSoup(text, "lxml").get_text())

    return {"pages": len(pages), "clean_s": best_cpu(clean_all, runs),
            "extract_s": best_cpu(extract_all, runs), "floor_s": best_cpu(floor_all, runs)}


def report(name: str, r: dict[str, float]) -> str:
    n = r["pages"] or 1
    ms = {k: 1000 * r[k] / n for k in ("clean_s", "extract_s", "floor_s")}
    both = r["clean_s"] + r["extract_s"]
    return (f"{name:<10} {r['pages']:>5} pages  clean {ms['clean_s']:6.2f} ms  "
            f"extract {ms['extract_s']:6.2f} ms  floor {ms['floor_s']:6.2f} ms per page  "
            f"(clean+extract)/floor {both / r['floor_s']:.2f}x  extract/floor "
            f"{r['extract_s'] / r['floor_s']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=300, help="synthetic pages (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=REPO / "bench" / "out")
    ap.add_argument("--dev", type=Path, help="a development set folder (pages.jsonl, cache/)")
    ap.add_argument("--runs", type=int, default=3, help="passes per stage; the best counts")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    sets = {}
    if args.pages:
        sets["synthetic"] = synthetic_pages(args.workdir, args.pages, args.seed)
    if args.dev:
        sets["dev"] = dev_pages(args.dev)
    if not sets:
        ap.error("nothing to time: give --pages or --dev")
    results = {name: measure(pages, args.runs) for name, pages in sets.items()}
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for name, r in results.items():
            print(report(name, r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
