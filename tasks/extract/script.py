"""A Simplified-script view of a body for matching, with the body's own offsets.

The cue words, units and the gazetteer are written in Simplified Chinese, so a
Traditional page (貧困發生率, 萬人, 億元, 縣) would meet none of them. The rules
therefore read a converted copy of the body; because the copy has the same length
and every character stays at its place, a span found in it slices the stored body
exactly, and evidence and sentences are taken from the stored body afterwards.

OpenCC's phrase conversion is used where it keeps every character in place (it
knows 乾隆 from 乾燥); a paragraph where a phrase would change the length is
converted character by character instead. Variant shapes OpenCC leaves alone
(貧困戸, 発生率: schemas/script_variants.yaml) are read as their Simplified
character on every page, since none of them is a Simplified character itself;
so are Hong Kong and Taiwan quotation marks (「十三五」 as “十三五”).

A "?" that stands for a character a conversion lost would end the sentence and cut
the cue word it sits in ("?困?生率"). In the view it becomes the character a cue word
pins down; between a word and a number, a linking verb (schemas/mask_repairs.yaml);
elsewhere a neutral "□" that ends nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import numpy as np
from opencc import OpenCC

from fupin.tasks.clean.cues import lost_before_number, script_variants
from fupin.tasks.clean.normalize import lost_spans
from fupin.tasks.models import CandidateFact, Skip

# A page counts as Traditional when at least this share of its Han characters
# changes under conversion. Simplified pages change a handful (著, 於, 乾县 would
# become 干县), Traditional ones a fifth or more; below the share the body is read
# as written, so a Simplified place name is never rewritten.
_TRADITIONAL_SHARE = 0.04
_PROBE = 600  # characters converted first to tell a Simplified page at once


@cache
def _converter() -> OpenCC:
    """Traditional -> Simplified converter, loaded once per process."""
    return OpenCC("t2s")


@cache
def _char(c: str) -> str:
    out = _converter().convert(c)
    return out if len(out) == 1 else c


_HAN_RANGES = ((0x3400, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


def _is_han(c: str) -> bool:
    o = ord(c)
    return any(lo <= o <= hi for lo, hi in _HAN_RANGES)


def _code_points(text: str) -> np.ndarray:
    """The code points of ``text``: whole-page comparisons run on arrays, since a
    Python step per character costs more than the conversion itself."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _han_mask(codes: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(codes), dtype=bool)
    for lo, hi in _HAN_RANGES:
        mask |= (codes >= lo) & (codes <= hi)
    return mask


@cache
def _variant_finder() -> re.Pattern[str]:
    """Any character the variant table rewrites: most pages have none, and a
    search is far cheaper than translating the whole body to find out."""
    chars = "".join(re.escape(chr(c)) for c in script_variants())
    return re.compile(f"[{chars}]" if chars else "(?!)")


def _aligned(original: str, converted: str) -> bool:
    """Same length and only Han characters replaced by Han characters."""
    if len(original) != len(converted):
        return False
    a, b = _code_points(original), _code_points(converted)
    differ = a != b
    return bool(_han_mask(a[differ]).all() and _han_mask(b[differ]).all())


def _paragraph(text: str) -> str:
    out = _converter().convert(text)
    if _aligned(text, out):
        return out
    return "".join(_char(c) for c in text)


def to_simplified(text: str) -> str:
    """``text`` in Simplified script, same length, each character in its place.

    Returns ``text`` itself when it is not Traditional and has no variant shapes,
    so callers can tell by identity that nothing changed.
    """
    if text.isascii():
        return text
    plain = text
    if _variant_finder().search(text):
        plain = text.translate(script_variants())
        if plain == text:
            plain = text  # the same object, for the identity test above
    # A Traditional page changes about a third of its characters, a Simplified one
    # almost none: a probe of its middle spares converting every Simplified page.
    mid = len(plain) // 2
    probe = plain[max(0, mid - _PROBE // 2) : mid + _PROBE // 2]
    if len(plain) > _PROBE and _converter().convert(probe) == probe:
        return plain
    out = _converter().convert(plain)
    if out == plain:
        return plain
    han = int(np.count_nonzero(_han_mask(_code_points(plain))))
    if not _aligned(plain, out):
        out = "\n".join(_paragraph(p) for p in plain.split("\n"))
    changed = int(np.count_nonzero(_code_points(text) != _code_points(out)))
    if changed < _TRADITIONAL_SHARE * han:
        return plain
    return out


_UNKNOWN = "□"
# A cue word fills lost characters only where at least this many of its own
# characters are there to recognise it by.
_MIN_KNOWN = 2


@cache
def _cue_words() -> tuple[str, ...]:
    from fupin.tasks.extract.rules import lexicon

    lx = lexicon()
    return tuple(sorted({*lx.left, *lx.nouns}, key=len, reverse=True))


@cache
def _cue_letters() -> dict[str, tuple[tuple[int, int], ...]]:
    """Character -> (index in :func:`_cue_words`, offset) of every cue word holding it."""
    out: dict[str, list[tuple[int, int]]] = {}
    for i, word in enumerate(_cue_words()):
        for k, c in enumerate(word):
            out.setdefault(c, []).append((i, k))
    return {c: tuple(v) for c, v in out.items()}


def _fits(view: list[str], start: int, word: str) -> bool:
    """Whether ``word`` reads at ``start`` with every other character a lost "?"."""
    known = 0
    for a, b in zip(view[start : start + len(word)], word, strict=True):
        if a == b:
            known += 1
        elif a != "?":
            return False
    return known >= _MIN_KNOWN


def _fill(view: list[str], pos: int) -> None:
    """Fill the lost characters around ``pos`` from the one cue word that fits there.

    Of the words that fit, the longest wins (贫困发生率 before 发生率). A word can
    only fit where one of its characters stands, so the words are looked up by
    the characters around ``pos`` instead of each being tried at every start.
    """
    words = _cue_words()
    if not words:
        return
    letters, n = _cue_letters(), len(view)
    starts: dict[int, set[int]] = {}  # word index -> starts where it fits
    tried: set[tuple[int, int]] = set()
    for j in range(max(0, pos - len(words[0]) + 1), min(n, pos + len(words[0]))):
        for i, k in letters.get(view[j], ()):
            start, size = j - k, len(words[i])
            if (start < 0 or start + size > n or not start <= pos < start + size
                    or (i, start) in tried):
                continue
            tried.add((i, start))
            if _fits(view, start, words[i]):
                starts.setdefault(i, set()).add(start)
    if not starts:
        return
    first = min(starts)  # the words are sorted longest first
    if len(starts[first]) == 1:
        start, word = next(iter(starts[first])), words[first]
        for i, c in enumerate(word):
            if view[start + i] == "?":
                view[start + i] = c


def fill_lost(text: str) -> str:
    """``text`` with every lost-character "?" filled or neutralised, same length."""
    if "?" not in text:
        return text
    view = list(text)
    spans = lost_spans(text)
    for start, end in spans:
        for pos in range(start, end):
            if view[pos] == "?":
                _fill(view, pos)
    for start, end in spans:
        for pos in range(start, end):
            if view[pos] == "?":
                before_number = (end - start == 1 and pos > 0 and _is_han(view[pos - 1])
                                 and text[pos + 1:pos + 2].isdigit())
                view[pos] = lost_before_number() if before_number else _UNKNOWN
    return "".join(view)


def matching_view(body: str) -> str:
    """What the rules read: ``body`` in Simplified script with lost characters filled."""
    return fill_lost(to_simplified(body))


def restore_spans(body: str, view: str, facts: Iterable[CandidateFact],
                  skips: Iterable[Skip]) -> None:
    """Give facts and skips found in ``view`` the stored body's own text.

    A fact's sentence is the one view span of its length that covers the evidence;
    the same offsets in ``body`` hold the sentence as the page wrote it.
    """
    for fact in facts:
        fact.evidence = body[fact.char_start:fact.char_end]
        n = len(fact.sentence)
        start = view.find(fact.sentence, max(0, fact.char_end - n), fact.char_start + n)
        if start >= 0:
            fact.sentence = body[start:start + n]
    for skip in skips:
        skip.text = body[skip.char_start:skip.char_end]
