"""Top keywords by TF-IDF from the tokens the extractor already has.

jieba.analyse.extract_tags would segment the page a second time; this computes
the same score (term frequency x the IDF table jieba.analyse ships, median IDF
for unknown words) from the existing tokens instead. The extractor segments
only the parts of a page it reads, so :func:`page_keywords` takes the
vocabulary from those tokens and counts it over the rest of the body. The table
is read directly: importing jieba.analyse also loads jieba.posseg, ~3 s we
never use.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import islice
from pathlib import Path

import jieba
import numpy as np

from fupin.tasks.extract import taxonomy
from fupin.tasks.extract.segment import ensure_jieba

NOT_A_WORD = re.compile(r"^[\d\W_a-zA-Z]+$")
_ELIGIBLE: dict[str, bool] = {}  # word -> counts as a keyword (memo across pages)
_IDF_SEEN: dict[str, float] = {}  # word -> IDF, for the words pages have used so far
MEMO_WORDS = 500_000  # bound on each memo: pages' vocabulary, not the IDF table's 270k


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Words that are never keywords (``lexicon.keyword_stop_words`` of indicators.yaml)."""
    return frozenset(taxonomy.load().lexicon["keyword_stop_words"])


@lru_cache(maxsize=1)
def _idf() -> tuple[np.ndarray, float]:
    """jieba.analyse's IDF table as (64-bit word hash, IDF) rows sorted by hash, and its median.

    Every worker process holds it: as a dict of its 270k words it took ~43 MB of
    each, as arrays read in slices ~17 MB. Two words sharing a hash among 270k
    has odds of about 1 in 10^8.
    """
    ensure_jieba()
    path = Path(jieba.__file__).resolve().parent / "analyse" / "idf.txt"
    parts = []
    with path.open(encoding="utf-8") as fh:
        while lines := list(islice(fh, 5_000)):  # in slices: no 270k-string transient
            pairs = [line.rstrip("\n").rpartition(" ") for line in lines]
            part = np.empty(sum(1 for w, _, _ in pairs if w), dtype=_IDF_ROW)
            part["hash"] = [hash(w) for w, _, _ in pairs if w]
            part["idf"] = [float(v) for w, _, v in pairs if w]
            parts.append(part)
    rows = np.concatenate(parts) if parts else np.empty(0, dtype=_IDF_ROW)
    rows = rows[np.argsort(rows["hash"], kind="stable")]
    median = float(np.sort(rows["idf"])[len(rows) // 2]) if len(rows) else 1.0
    return rows, median


_IDF_ROW = np.dtype([("hash", np.int64), ("idf", np.float64)])


def _idf_of(words: list[str]) -> list[float]:
    """The IDF of each word; the table's median for a word it lacks, as jieba does.

    Pages share most of their vocabulary, so each word is searched in the table
    once per process and remembered: a numpy search per page costs more than the
    dictionary lookups for its few hundred words.
    """
    seen = _IDF_SEEN
    new = [w for w in dict.fromkeys(words) if w not in seen]
    if len(seen) + len(new) > MEMO_WORDS:
        seen.clear()
        new = list(dict.fromkeys(words))
    if new:
        rows, median = _idf()
        if len(rows):
            wanted = np.fromiter((hash(w) for w in new), dtype=np.int64, count=len(new))
            at = np.minimum(np.searchsorted(rows["hash"], wanted), len(rows) - 1)
            found = np.where(rows["hash"][at] == wanted, rows["idf"][at], median).tolist()
        else:
            found = [median] * len(new)
        seen.update(zip(new, found, strict=True))
    return [seen[w] for w in words]


def _eligible(w: str) -> bool:
    """Can ``w`` be a keyword (two or more characters, not a stop word, not a number)?"""
    ok = _ELIGIBLE.get(w)
    if ok is None:
        ok = len(w.strip()) >= 2 and w.lower() not in stop_words() and not NOT_A_WORD.match(w)
        if len(_ELIGIBLE) < MEMO_WORDS:
            _ELIGIBLE[w] = ok
    return ok


def _rank(counts: dict[str, int], k: int) -> list[tuple[str, float]]:
    total = sum(counts.values())
    if not total:
        return []
    words = list(counts)
    scored = [(w, counts[w] * idf / total) for w, idf in zip(words, _idf_of(words), strict=True)]
    scored.sort(key=lambda p: (-p[1], p[0]))
    return [(w, round(s, 6)) for w, s in scored[:k]]


def _eligible_counts(words: Iterable[str]) -> dict[str, int]:
    """How often each keyword-eligible word occurs (counted first, then each word
    checked once: a page repeats its words)."""
    return {w: n for w, n in Counter(words).items() if _eligible(w)}


def top_keywords(words: Sequence[str], k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` best (word, weight) pairs; weights sum-normalised like jieba's."""
    return _rank(_eligible_counts(words), k)


def word_counts(body: str, words: Iterable[str]) -> dict[str, int]:
    """How often each keyword-eligible word of ``words`` stands on its own in ``body``.

    The extractor segments only part of a page; counting the words it has over
    text it never segmented gives page-wide term frequencies without a second
    jieba pass. An occurrence inside a longer word of ``words`` (脱贫 in
    脱贫攻坚) is taken off, since segmentation would have kept the longer word
    whole.
    """
    # most words of the segmented part never occur in the rest: a word with a
    # character the rest lacks is not searched for, and no word found 0 times is kept
    present = set(body)
    counts = {w: n for w in set(words)
              if _eligible(w) and present.issuperset(w) and (n := body.count(w))}
    # longest first, so a word's count is final before it is taken off its parts
    for w in sorted(counts, key=len, reverse=True):
        n = counts[w]
        if n <= 0:
            continue
        size = len(w)
        for i in range(size - 1):
            for j in range(i + 2, size + 1 if i else size):
                part = w[i:j]
                if part in counts:
                    counts[part] -= n
    return {w: n for w, n in counts.items() if n > 0}


def page_keywords(
    words: Sequence[str], rest: str, extra: Iterable[str] = (), k: int = 10
) -> list[tuple[str, float]]:
    """:func:`top_keywords` of a page segmented only in part.

    ``words`` are the tokens of the segmented part and count as they are;
    ``rest`` is the text never segmented, where the same vocabulary (plus
    ``extra``, such as the title's words) is counted by :func:`word_counts`.
    """
    counts = _eligible_counts(words)
    for w, n in word_counts(rest, [*counts, *extra]).items():
        counts[w] = counts.get(w, 0) + n
    return _rank(counts, k)
