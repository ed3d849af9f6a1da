"""jieba set-up and the page's segmentation, cut only where the rules read it.

jieba's dictionary load costs about half a second, so it is paid once per
process (:func:`ensure_jieba`); the taxonomy's cue words and the gazetteer's
names are added to it so they come out as single tokens ("建档立卡贫困户",
"北川羌族自治县") instead of being split by jieba's general-purpose model.
``add_word`` on a few thousand words is faster than writing and parsing a
user-dictionary file, and leaves nothing on disk.

Segmenting a whole body is most of the cost of extraction, yet the rules only
read tokens near numbers and place names. jieba cuts every *block* (maximal run
of CJK/alphanumeric characters) on its own and emits every other character as a
token of its own, so cutting just the blocks a rule reads gives exactly the
tokens, and the token boundaries, that a whole-body pass would give there
(:class:`Segmentation`).
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from math import log
from operator import itemgetter

import jieba

from fupin.tasks.extract import regions, taxonomy
from fupin.tasks.extract.budget import check_budget

_LOCK = threading.Lock()
_READY = False

CUE_FREQ = 200_000  # high enough to win over jieba's own splits
PLACE_FREQ = 50_000
SHORT_PLACE_FREQ = 3_000  # short names must not swallow neighbouring characters
# jieba's HMM only guesses words missing from the dictionary (mostly person
# names); every cue and place the rules need is in the dictionary, and the HMM
# pass costs about a quarter of segmentation time.
HMM = False
# jieba's own block pattern (what jieba.cut splits on before its DAG search);
# taken from jieba so that the blocks cut here are the blocks it would cut.
BLOCK: re.Pattern[str] = re.compile(jieba.re_han_default.pattern.strip("()"))

Tok = tuple[str, int, int]
_END = itemgetter(2)


@dataclass(frozen=True)
class Token:
    word: str
    start: int
    end: int


def user_words() -> dict[str, int]:
    """Words added to jieba, with the frequency each gets."""
    tax = taxonomy.load()
    words: dict[str, int] = {}
    for ind in tax.indicators:
        for w in (*ind.cues, *ind.event_nouns, *ind.exclude):
            words[w] = CUE_FREQ
    lex = tax.lexicon
    for nouns in lex["counted_nouns"].values():
        for w in nouns:
            if len(w) > 1:
                words[w] = CUE_FREQ
    for w in regions.anaphors():  # 全市 … and the township and village ones (全镇, 全社区)
        words[w] = CUE_FREQ
    gaz = regions.load_gazetteer()
    for name in gaz.full_names():
        words.setdefault(name, PLACE_FREQ)
    for name in gaz.short_names():
        words.setdefault(name, SHORT_PLACE_FREQ)
    return words


def ensure_jieba() -> None:
    """Initialise jieba once per process, quietly, with the domain dictionary."""
    global _READY
    if _READY:
        return
    with _LOCK:
        if _READY:
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for word, freq in user_words().items():
            jieba.add_word(word, freq)
        _READY = True


def tokenize(text: str) -> list[Token]:
    """A whole-text segmentation pass (tokens with offsets)."""
    return [Token(w, a, b) for w, a, b in tokens(text)]


def tokens(text: str) -> list[Tok]:
    """Same as :func:`tokenize` as plain (word, start, end) tuples: cheaper per page."""
    ensure_jieba()
    return list(jieba.tokenize(text, HMM=HMM))


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_PREFIX = 1.0  # memo value of a dictionary prefix that is no word (log-probabilities are < 0)
_costs: dict[str, float] = {}
_costs_total = 0


def _word_costs() -> dict[str, float]:
    """Memo of log(freq / total) per dictionary entry (``_PREFIX`` for a prefix
    with no frequency), dropped whenever the dictionary grows (``add_word``
    changes ``total``). Only dictionary entries are kept, never page text."""
    global _costs, _costs_total
    if jieba.dt.total != _costs_total or len(_costs) > 1_000_000:
        _costs, _costs_total = {}, jieba.dt.total
    return _costs


def cut_block(block: str) -> list[str]:
    """jieba's words for one block, without HMM: the same maximum-probability
    route as ``jieba.cut(block, HMM=False)``, about twice as fast.

    jieba builds a dict of candidate ends per character, then scores them
    through a generator, recomputing each word's log-probability on every call;
    this walks the prefix dictionary once per character and memoises the
    log-probabilities, so a known fragment costs one lookup. Ties go to the
    longer word, as in jieba's ``max((score, end))``. Tests check it against
    jieba word for word.
    """
    freq, costs = jieba.dt.FREQ, _word_costs()
    logtotal = log(jieba.dt.total)
    n = len(block)
    score = [0.0] * (n + 1)
    route = list(range(1, n + 1))  # start -> end of the best word starting there
    for k in range(n - 1, -1, -1):
        best = None
        i, frag = k, block[k]
        while True:
            c = costs.get(frag)
            if c is None:
                f = freq.get(frag)
                if f is None:
                    break  # no dictionary entry starts with frag
                c = costs[frag] = log(f) - logtotal if f else _PREFIX
            if c != _PREFIX:
                s = c + score[i + 1]
                if best is None or s >= best:
                    best, route[k] = s, i + 1
            i += 1
            if i >= n:
                break
            frag = block[k : i + 1]
        if best is None:  # unknown character: a word of its own
            best = (log(freq.get(block[k]) or 1) - logtotal) + score[k + 1]
        score[k] = best
    return _route_words(block, route)


def _route_words(block: str, route: list[int]) -> list[str]:
    """Follow the route from the start; runs of single ASCII letters or digits
    are joined into one word, as jieba does."""
    out: list[str] = []
    buf = ""
    x, n = 0, len(block)
    while x < n:
        y = route[x]
        word = block[x:y]
        if y - x == 1 and word in _ALNUM:
            buf += word
        else:
            if buf:
                out.append(buf)
                buf = ""
            out.append(word)
        x = y
    if buf:
        out.append(buf)
    return out


def _block_tokens(block: str, offset: int) -> list[Tok]:
    """Tokens of one block, offset into the text the block came from."""
    out = []
    pos = offset
    words = jieba.dt.cut(block, HMM=True) if HMM else cut_block(block)
    for w in words:
        end = pos + len(w)
        out.append((w, pos, end))
        pos = end
    return out


class Segmentation:
    """A text whose blocks are segmented on demand.

    :meth:`cut` segments the blocks overlapping given spans or positions;
    :meth:`tokens` lists the tokens of the blocks cut so far (only blocks carry
    words: the characters between them are single-character tokens), and
    ``pos in seg`` answers whether a whole-text pass would put a token boundary
    at ``pos``, cutting the block around ``pos`` first if needed. Both agree
    exactly with :func:`tokens` on the whole text.
    """

    def __init__(self, text: str) -> None:
        ensure_jieba()
        self.text = text
        spans = [m.span() for m in BLOCK.finditer(text)]
        self._starts = [a for a, _ in spans]
        self._ends = [b for _, b in spans]
        self._tokens: dict[int, list[Tok]] = {}  # block index -> its tokens
        self._bounds: set[int] = set()  # where a token of a cut block ends

    def _block(self, pos: int) -> int:
        """Index of the block containing text[pos], or -1."""
        i = bisect.bisect_right(self._starts, pos) - 1
        return i if i >= 0 and pos < self._ends[i] else -1

    def _cut_block(self, i: int) -> None:
        if i in self._tokens:
            return
        a, b = self._starts[i], self._ends[i]
        toks = _block_tokens(self.text[a:b], a)
        self._tokens[i] = toks
        self._bounds.update(map(_END, toks))

    def cut(self, spans: Iterable[tuple[int, int]] = (), at: Iterable[int] = ()) -> None:
        """Segment every block overlapping one of ``spans`` or holding one of ``at``."""
        for a, b in spans:
            check_budget()
            lo = bisect.bisect_right(self._ends, a)
            hi = bisect.bisect_left(self._starts, b)
            for i in range(lo, hi):
                self._cut_block(i)
        for pos in at:
            i = self._block(pos)
            if i >= 0:
                self._cut_block(i)

    def tokens(self) -> list[Tok]:
        """Tokens of the blocks cut so far, in text order."""
        return [t for i in sorted(self._tokens) for t in self._tokens[i]]

    def uncut(self) -> str:
        """The text outside the blocks cut so far, pieces joined by newlines so
        that no word can be found across a gap."""
        parts, pos = [], 0
        for i in sorted(self._tokens):
            parts.append(self.text[pos : self._starts[i]])
            pos = self._ends[i]
        parts.append(self.text[pos:])
        return "\n".join(parts)

    def __contains__(self, pos: object) -> bool:
        """Would a whole-text pass end a token at ``pos`` (or is ``pos`` 0)?"""
        if not isinstance(pos, int) or not 0 <= pos <= len(self.text):
            return False
        i = self._block(pos)
        if i >= 0 and self._starts[i] < pos:
            self._cut_block(i)
            return pos in self._bounds  # inside a block, a boundary is some token's end
        return pos == 0 or self.text[pos - 1 : pos + 1] != "\r\n"  # \r\n is one token
