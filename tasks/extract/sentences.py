"""Paragraph, sentence and clause spans with offsets into the body.

Facts are scoped by these spans: a cue binds to a number within its clause,
time and region words within the sentence, a fronted time phrase within the
paragraph. Pages mix ASCII and full-width punctuation, so both count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE_END = re.compile(r"[。！？!?]+[”’\"」』）)]*|\n+")
# a comma between digits is a thousands separator, not a clause boundary
CLAUSE_END = re.compile(r"[，；：;:]|,(?!\d{3}(?!\d))|(?<!\d)\.(?!\d)")
PARAGRAPH_END = re.compile(r"\n")
# Longest sentence the rules read (prose tops out near 600 characters). A longer
# run without a full stop is a table or a dump; cut into pieces, it keeps the
# work per number bounded, so a page costs time in proportion to its length.
MAX_SENTENCE = 1000


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    paragraph: int = 0

    def text(self, body: str) -> str:
        return body[self.start : self.end]


def _split(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """Non-empty (start, end) pieces of text[start:end], keeping the delimiter
    at the end of the piece it closes."""
    out = []
    pos = start
    for m in pattern.finditer(text, start, end):
        if m.end() > pos:
            piece_end = m.end()
            if text[pos:piece_end].strip():
                out.append((pos, piece_end))
            pos = piece_end
    if pos < end and text[pos:end].strip():
        out.append((pos, end))
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _bounded(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """``start..end`` in pieces of at most MAX_SENTENCE characters, each cut after
    the last clause end in its second half when there is one."""
    pieces = []
    while end - start > MAX_SENTENCE:
        cut = start + MAX_SENTENCE
        ends = [m.end() for m in CLAUSE_END.finditer(body, start + MAX_SENTENCE // 2, cut)]
        cut = ends[-1] if ends else cut
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def sentences(body: str) -> list[Span]:
    """Sentences with paragraph numbers; leading/trailing blanks trimmed."""
    out: list[Span] = []
    for paragraph, (p_start, p_end) in enumerate(_split(body, 0, len(body), PARAGRAPH_END)):
        for s_start, s_end in _split(body, p_start, p_end, SENTENCE_END):
            for piece in _bounded(body, s_start, s_end):
                a, b = _trim(body, *piece)
                if a < b:
                    out.append(Span(a, b, paragraph))
    return out


def clauses(body: str, sentence: Span) -> list[Span]:
    """Comma/semicolon pieces of one sentence."""
    return [
        Span(a, b, sentence.paragraph)
        for a, b in _split(body, sentence.start, sentence.end, CLAUSE_END)
    ]
