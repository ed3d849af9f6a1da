"""Word lists from ``schemas/`` turned into the lookups the cleaner and extractor scan with.

Every list the rules read is data, so the lookups are derived here rather than
written next to each rule: the words that may start at a position (longest first,
so a longer word wins over its prefix), one pattern for "is any of them here",
and the characters a match can begin with, which lets a scan over a whole page
skip every other position. Deriving those characters from the loaded words is
what makes a word added to the YAML reachable; a hand-written list of first
characters would silently ignore it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Words:
    """One word list, ready to be looked up at a position or searched for."""

    words: tuple[str, ...]  # longest first
    by_first: dict[str, tuple[str, ...]]
    pattern: re.Pattern[str]

    def starting_at(self, text: str, pos: int) -> tuple[str, ...]:
        """The words that may start at ``pos`` (those sharing its character), longest first."""
        return self.by_first.get(text[pos : pos + 1], ())

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        """The first of the words in ``text[pos:endpos]`` (none when the list is empty)."""
        return self.pattern.search(text, pos, endpos)


def words(items: Iterable[str]) -> Words:
    """A :class:`Words` of ``items`` (duplicates dropped, empty strings ignored)."""
    ordered = sorted(dict.fromkeys(w for w in items if w), key=len, reverse=True)
    by_first: dict[str, list[str]] = {}
    for w in ordered:
        by_first.setdefault(w[0], []).append(w)
    return Words(
        words=tuple(ordered),
        by_first={k: tuple(v) for k, v in by_first.items()},
        pattern=re.compile("|".join(map(re.escape, ordered)) or "(?!)"),
    )


def alternation(items: Iterable[str]) -> str:
    """A regex alternation of literal words, longest first (for words inside a larger pattern)."""
    return "|".join(map(re.escape, words(items).words)) or "(?!)"


_CATEGORIES = {
    sre_c.CATEGORY_DIGIT: r"\d", sre_c.CATEGORY_NOT_DIGIT: r"\D",
    sre_c.CATEGORY_SPACE: r"\s", sre_c.CATEGORY_NOT_SPACE: r"\S",
    sre_c.CATEGORY_WORD: r"\w", sre_c.CATEGORY_NOT_WORD: r"\W",
}
_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)}
_ZERO_WIDTH = {sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT}


class _Unbounded(Exception):
    """A part of the pattern may start with any character."""


def _class_item(op: object, av: object) -> str:
    if op is sre_c.LITERAL:
        return re.escape(chr(av))  # type: ignore[arg-type]
    if op is sre_c.RANGE:
        lo, hi = av  # type: ignore[misc]
        return f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
    if op is sre_c.CATEGORY and av in _CATEGORIES:
        return _CATEGORIES[av]
    raise _Unbounded


def _firsts(seq: Iterable[tuple[object, object]]) -> tuple[set[str], bool]:
    """The class items a match of ``seq`` may start with, and whether it may match nothing."""
    out: set[str] = set()
    for op, av in seq:
        empty = False
        if op is sre_c.LITERAL:
            out.add(_class_item(op, av))
        elif op is sre_c.IN:
            if any(o is sre_c.NEGATE for o, _ in av):  # type: ignore[attr-defined]
                raise _Unbounded
            out.update(_class_item(o, a) for o, a in av)  # type: ignore[attr-defined]
        elif op is sre_c.BRANCH:
            for branch in av[1]:  # type: ignore[index]
                items, branch_empty = _firsts(branch)
                out |= items
                empty = empty or branch_empty
        elif op is sre_c.SUBPATTERN:
            _, add_flags, _, sub = av  # type: ignore[misc]
            if add_flags & re.IGNORECASE:
                raise _Unbounded
            items, empty = _firsts(sub)
            out |= items
        elif op in _REPEATS:
            lo, _, sub = av  # type: ignore[misc]
            items, empty = _firsts(sub)
            out |= items
            empty = empty or lo == 0
        elif op is getattr(sre_c, "ATOMIC_GROUP", None):
            items, empty = _firsts(av)  # type: ignore[arg-type]
            out |= items
        elif op in _ZERO_WIDTH:
            empty = True  # an anchor or a lookaround consumes nothing
        else:
            raise _Unbounded
        if not empty:
            return out, False
    return out, True


def first_chars(pattern: str) -> str | None:
    """A character-class body (``\\d截到今…``) holding every character a match of
    ``pattern`` can start with; None when that is any character, or nothing is
    consumed at all (then a scan cannot skip positions)."""
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return None
    try:
        items, empty = _firsts(parsed)
    except _Unbounded:
        return None
    return None if empty or not items else "".join(sorted(items))


def led(pattern: str) -> str:
    """``pattern`` behind a lookahead for the characters a match can start with.

    A scan then rejects most positions with one class test instead of trying
    every alternative there; that matters most for a case-blind alternation of
    words, where the engine has no literal prefix to skip by. The matches are
    the same. ``pattern`` is returned as it is when those characters are unknown.
    """
    first = first_chars(pattern)
    return rf"(?=[{first}])(?:{pattern})" if first else pattern
