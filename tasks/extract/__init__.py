"""Fact extraction: numbers in a clean article body -> candidate statistical facts.

Public entry point: :func:`extract`. The rules read their domain knowledge from
``schemas/indicators.yaml`` (indicators, cue words, units, qualifiers, time
words) and ``schemas/regions.csv`` (the gazetteer).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fupin.tasks.models import Extraction

__all__ = ["extract", "warm_up"]


def extract(
    body: str,
    *,
    title: str | None = None,
    published: date | None = None,
    top_k: int = 10,
    source_site: str | None = None,
    budget: float | None = None,
    published_year: int | None = None,
    taxonomy_path: Path | None = None,
) -> Extraction:
    """Facts, deliberate skips and top keywords of one document body.

    ``published`` anchors 今年/去年 and gives running totals their year; the
    title, when given, names the subject region that 全市/全县 refer to; the
    source site (河曲县人民政府网) names the place 我县/本县 mean when the page
    does not. ``published_year`` is the publication year of a page whose day is not
    known (its address gives /201905/). ``taxonomy_path`` reads the indicators and
    words from another file than ``schemas/indicators.yaml``. Past ``budget`` seconds, raises
    :class:`~tasks.extract.budget.ExtractTimeout`.
    """
    from fupin.tasks.extract.budget import deadline
    from fupin.tasks.extract.document import extract_document

    with deadline(budget):
        return extract_document(body or "", title, published, top_k, source_site=source_site,
                                published_year=published_year, taxonomy_path=taxonomy_path)


def warm_up() -> None:
    """Load everything extraction reads lazily (jieba, IDF, gazetteer, taxonomy, rules).

    Running it over one sentence loads exactly what a page would, so a process can
    pay for it while it waits on something else rather than on its first page.
    """
    extract("2014年，平凉市有建档立卡贫困户10.11万户，贫困发生率为20.87%。",
            title="平凉市脱贫攻坚", published=date(2015, 1, 1))
