"""Split a plain-text dump of a news page into header, body and tail.

A dump is what a browser's "save as text" or a scraper's get_text leaves behind: the
headline and dateline on top, the article, then editor credit, link lists, widgets and
the footer. The body is the stretch between the last header chrome line and the first
line that closes the article; trailing headline lists with no cue at all are trimmed
because they do not end like sentences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fupin.tasks.clean.lines import (
    Chrome,
    classify,
    cut_credit,
    cut_end_mark,
    cut_unfinished,
    ends_like_sentence,
    is_prose,
)
from fupin.tasks.clean.normalize import clean_line

# The header is looked for among the lines before the first prose paragraph, at most this many.
_HEADER_SCAN = 15
_TITLE_MIN, _TITLE_MAX = 4, 80
# Characters of prose that must precede a closing cue for it to end the body.
_MIN_PROSE_BEFORE_END = 60


@dataclass
class TextParts:
    """A dump cut into its parts; the lines are already normalised."""

    title: str | None
    header: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    chrome_lines: int = 0
    # chrome lines between header and tail (a dateline under a summary, a credit)
    inner_chrome: list[str] = field(default_factory=list)


def _title_like(line: str) -> bool:
    return (_TITLE_MIN <= len(line) <= _TITLE_MAX and not line.endswith(("。", ":", ","))
            and "。" not in line[:-1])


def split_lines(text: str) -> list[str]:
    """Normalised non-empty lines of ``text``."""
    out = []
    for raw in text.splitlines():
        line = clean_line(raw)
        if line:
            out.append(line)
    return out


def find_header(lines: list[str], kinds: list[Chrome | None]) -> tuple[int, str | None]:
    """Return (index of the first body line, title) for the top of the page."""
    limit = min(len(lines), _HEADER_SCAN)
    first_prose = next((i for i in range(limit) if kinds[i] is None and is_prose(lines[i])),
                       limit)
    chrome_at = [i for i in range(first_prose) if kinds[i] is not None]
    if not chrome_at:
        # No dateline or breadcrumb: a short unpunctuated first line followed by
        # prose is the headline.
        if first_prose == 1 and len(lines) > 1 and _title_like(lines[0]):
            return 1, lines[0]
        return 0, None
    last = chrome_at[-1]
    titles = [i for i in range(last) if kinds[i] is None and _title_like(lines[i])]
    title = None
    if titles:
        # The headline sits right above the dateline; otherwise take the longest candidate.
        before = [i for i in titles if i + 1 in chrome_at]
        pick = before[-1] if before else max(titles, key=lambda i: len(lines[i]))
        title = lines[pick]
    return last + 1, title


def find_body_end(lines: list[str], kinds: list[Chrome | None], start: int) -> int:
    """Index just past the body: the first closing chrome line after some prose.

    A headline that happens to end in "!" is not enough prose: a share bar or a
    "related" box right under it must not end the article before it starts.
    """
    prose_chars = 0
    for i in range(start, len(lines)):
        kind = kinds[i]
        if kind is None:
            if is_prose(lines[i]):
                prose_chars += len(lines[i])
        elif kind.ends_body and prose_chars >= _MIN_PROSE_BEFORE_END:
            return i
    return len(lines)


def trim_unfinished_tail(body: list[str]) -> tuple[list[str], list[str]]:
    """Split off trailing lines that do not end like sentences (headline lists, teasers).

    A paragraph that ends in a byline, a photo credit or an end mark (◆) is the
    article's last one: it stays, without them.
    """
    end = len(body)
    while end > 0 and not ends_like_sentence(body[end - 1]):
        kept = cut_credit(body[end - 1]) or cut_end_mark(body[end - 1])
        if kept is None:
            kept = cut_unfinished(body[end - 1])
        if kept is not None:
            return [*body[:end - 1], kept], [body[end - 1][len(kept):].strip(), *body[end:]]
        end -= 1
    if end == 0:
        return body, []
    return body[:end], body[end:]


def split_dump(text: str) -> TextParts:
    """Cut a text dump into title, header lines, body lines and tail lines."""
    lines = split_lines(text)
    kinds = [classify(line) for line in lines]
    start, title = find_header(lines, kinds)
    end = find_body_end(lines, kinds, start)
    body = [line for line, kind in zip(lines[start:end], kinds[start:end], strict=True)
            if kind is None]
    body, trimmed = trim_unfinished_tail(body)
    inner = [line for line, kind in zip(lines[start:end], kinds[start:end], strict=True)
             if kind is not None]
    parts = TextParts(title=title, header=lines[:start], body=body,
                      tail=trimmed + lines[end:], inner_chrome=inner)
    parts.chrome_lines = len(lines) - len(body) - (1 if title else 0)
    return parts
