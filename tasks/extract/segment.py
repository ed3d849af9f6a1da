"""jieba set-up and the one segmentation pass every page gets.

jieba's dictionary load costs about half a second, so it is paid once per
process (:func:`ensure_jieba`); the taxonomy's cue words and the gazetteer's
names are added to it so they come out as single tokens ("建档立卡贫困户",
"北川羌族自治县") instead of being split by jieba's general-purpose model.
``add_word`` on a few thousand words is faster than writing and parsing a
user-dictionary file, and leaves nothing on disk.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import jieba

from tasks.extract import regions, taxonomy

_LOCK = threading.Lock()
_READY = False

CUE_FREQ = 200_000  # high enough to win over jieba's own splits
PLACE_FREQ = 50_000
SHORT_PLACE_FREQ = 3_000  # short names must not swallow neighbouring characters
# jieba's HMM only guesses words missing from the dictionary (mostly person
# names); every cue and place the rules need is in the dictionary, and the HMM
# pass costs about a quarter of segmentation time.
HMM = False


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
    for w in lex["anaphors"]:
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
    """The page's single segmentation pass (tokens with offsets)."""
    return [Token(w, a, b) for w, a, b in tokens(text)]


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Same as :func:`tokenize` as plain (word, start, end) tuples: cheaper per page."""
    ensure_jieba()
    return list(jieba.tokenize(text, HMM=HMM))
