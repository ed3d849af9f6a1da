"""Top keywords by TF-IDF from the tokens the extractor already has.

jieba.analyse.extract_tags would segment the page a second time; this computes
the same score (term frequency x the IDF table jieba.analyse ships, median IDF
for unknown words) from the existing token list instead. The table is read
directly: importing jieba.analyse also loads jieba.posseg, ~3 s we never use.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import jieba

from tasks.extract.segment import ensure_jieba

NOT_A_WORD = re.compile(r"^[\d\W_a-zA-Z]+$")
_ELIGIBLE: dict[str, bool] = {}  # word -> counts as a keyword (memo across pages)


# jieba.analyse's default stop words (English function words) plus Chinese ones
# that carry no topic.
_STOP = """
the of is and to in that we for an are by be as on with can if from which you it this then at have
all not one has or 我们 他们 一个 没有 这个 这些 那些 以及 进行 通过 已经 可以 就是 还是 但是 因为
所以 如果 其中 同时 以上 以下 目前 今年 去年
"""
STOP_WORDS = frozenset(_STOP.split())


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float, frozenset[str]]:
    ensure_jieba()
    path = Path(jieba.__file__).resolve().parent / "analyse" / "idf.txt"
    idf: dict[str, float] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            word, _, freq = line.rstrip("\n").rpartition(" ")
            if word:
                idf[word] = float(freq)
    values = sorted(idf.values())
    median = values[len(values) // 2] if values else 1.0
    return idf, median, STOP_WORDS


def top_keywords(words: Sequence[str], k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` best (word, weight) pairs; weights sum-normalised like jieba's."""
    idf, median, stop = _idf()
    counts = Counter(words)
    for w in list(counts):
        ok = _ELIGIBLE.get(w)
        if ok is None:
            ok = len(w.strip()) >= 2 and w.lower() not in stop and not NOT_A_WORD.match(w)
            if len(_ELIGIBLE) < 500_000:
                _ELIGIBLE[w] = ok
        if not ok:
            del counts[w]
    total = sum(counts.values())
    if not total:
        return []
    scored = [(w, c * idf.get(w, median) / total) for w, c in counts.items()]
    scored.sort(key=lambda p: (-p[1], p[0]))
    return [(w, round(s, 6)) for w, s in scored[:k]]
