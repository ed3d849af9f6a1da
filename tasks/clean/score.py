"""Character-level precision/recall/F1 of an extracted body against a reference body.

This is the news_bench scoring rule: both sides NFKC-normalised, all whitespace removed,
compared as multisets of characters. It ignores order, so it measures what text was
kept, not how it was laid out; an empty extraction scores zero.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import NamedTuple

_WS_RE = re.compile(r"\s+")


class CharScore(NamedTuple):
    precision: float
    recall: float
    f1: float


def _chars(text: str) -> Counter[str]:
    return Counter(_WS_RE.sub("", unicodedata.normalize("NFKC", text)))


def char_f1(predicted: str, reference: str) -> CharScore:
    """Score ``predicted`` against ``reference`` by multiset character overlap."""
    pred, ref = _chars(predicted), _chars(reference)
    n_pred, n_ref = sum(pred.values()), sum(ref.values())
    if n_pred == 0 or n_ref == 0:
        return CharScore(0.0, 0.0, 0.0)
    overlap = sum((pred & ref).values())
    precision, recall = overlap / n_pred, overlap / n_ref
    f1 = 0.0 if overlap == 0 else 2 * precision * recall / (precision + recall)
    return CharScore(precision, recall, f1)
