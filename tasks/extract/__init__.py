"""Fact extraction: numbers in a clean article body -> candidate statistical facts.

Public entry point: :func:`extract`. The rules read their domain knowledge from
``schemas/indicators.yaml`` (indicators, cue words, units, qualifiers, time
words) and ``schemas/regions.csv`` (the gazetteer).
"""

from __future__ import annotations

from datetime import date

from tasks.models import Extraction

__all__ = ["extract"]


def extract(
    body: str,
    *,
    title: str | None = None,
    published: date | None = None,
    top_k: int = 10,
) -> Extraction:
    """Facts, deliberate skips and top keywords of one document body.

    ``published`` anchors 今年/去年 and gives running totals their year; the
    title, when given, names the subject region that 全市/全县 refer to.
    """
    from tasks.extract.document import extract_document

    return extract_document(body or "", title, published, top_k)
