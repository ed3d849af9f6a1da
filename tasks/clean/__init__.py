"""Remove site chrome from a decoded page and read its metadata.

``clean_page`` accepts either HTML or a plain-text dump of a page and returns a
``CleanDoc``: the article body as paragraphs separated by "\\n", plus title, date,
source outlet and author when the page states them, and counters in ``flags``
(chrome lines removed, foreign-language paragraphs dropped, repeated paragraphs, masked
and repaired characters, marks of a bad conversion chain repaired, characters it lost).
"""

from __future__ import annotations

import re

from fupin.tasks.clean.html import DATE_META_KEYS, extract_html
from fupin.tasks.clean.lines import classify, is_prose
from fupin.tasks.clean.metadata import PageMeta, read_meta, split_site_name
from fupin.tasks.clean.normalize import (
    HAN_CHAR_RE,
    clean_line,
    lost_chars,
    repair_masks,
    repair_readings,
)
from fupin.tasks.clean.repeats import drop_repeats
from fupin.tasks.clean.textdump import find_body_end, find_header, split_dump
from fupin.tasks.models import CleanDoc

__all__ = ["clean_page", "looks_like_html"]

_HTML_SNIFF_CHARS = 5000
_HTML_TAG_RE = re.compile(
    r"<(?:!doctype|html|head|body|div|p|table|meta|title|br|span|text|article|section)[\s>/]",
    re.IGNORECASE,
)
# A repeat that removes at least this share of the body means the page printed it twice.
_DUPLICATED_BODY_SHARE = 0.3
# Latin words a paragraph with no Chinese must hold to be foreign-language prose (a
# line of code, a name or a reference is shorter).
_LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_FOREIGN_MIN_WORDS = 25
# Chinese characters a body needs before its paragraphs with none are taken as foreign.
_CHINESE_BODY_MIN = 60


def looks_like_html(text: str) -> bool:
    """Sniff markup: an HTML-ish tag in the first few KB means HTML, otherwise a text dump."""
    return bool(_HTML_TAG_RE.search(text, 0, _HTML_SNIFF_CHARS))


def _html_title(title: str | None, h1: str | None) -> str | None:
    """Prefer the <h1> when the <title> confirms it; else the <title> minus the site name."""
    if h1 and title and 4 <= len(h1) <= 120 and h1 in title:
        return h1
    if title:
        return split_site_name(title) or None
    return h1 or None


def _filter_html_lines(lines: list[str], headline: str) -> tuple[list[str], list[str], int]:
    """Drop chrome lines from the chosen container and cut it where the article ends.

    The container often repeats the headline and dateline on top and carries the
    editor credit and link blocks below the text; the same line rules as for text
    dumps remove them. Returns (body lines, header lines, number of lines removed).
    """
    kinds = [classify(line) for line in lines]
    start, _ = find_header(lines, kinds)
    end = find_body_end(lines, kinds, start)
    body = [line for line, kind in zip(lines[start:end], kinds[start:end], strict=True)
            if kind is None]
    lead = 0
    while lead < len(body) and not is_prose(body[lead]) and body[lead] in headline:
        lead += 1
    header = lines[:start] + body[:lead]
    body = body[lead:]
    return body, header, len(lines) - len(body)


def _drop_foreign(lines: list[str]) -> tuple[list[str], int]:
    """Drop the paragraphs with no Chinese at all from a Chinese body.

    A paper's abstract or a bilingual report prints an English rendering under the
    Chinese text; it says nothing the Chinese does not, and left in it makes the page
    look foreign to validation. A body with little Chinese (an English page quoting a
    name) keeps everything.
    """
    if not _han_at_least(lines, _CHINESE_BODY_MIN):
        return lines, 0
    chinese = [HAN_CHAR_RE.search(line) is not None for line in lines]
    kept = [line for line, han in zip(lines, chinese, strict=True)
            if han or len(_LATIN_WORD_RE.findall(line)) < _FOREIGN_MIN_WORDS]
    return kept, len(lines) - len(kept)


def _han_at_least(lines: list[str], count: int) -> bool:
    """Whether the lines hold ``count`` Han characters; counted line by line until they
    do (counting every character of every body was a tenth of the cleaner's time)."""
    for line in lines:
        count -= len(HAN_CHAR_RE.findall(line))
        if count <= 0:
            return True
    return False


def _finish(title: str | None, body_lines: list[str], meta: PageMeta,
            flags: dict[str, int]) -> CleanDoc:
    body_lines, flags["foreign_paragraphs"] = _drop_foreign(body_lines)
    before = sum(map(len, body_lines))
    body_lines, repeated = drop_repeats(body_lines)
    flags["repeated_paragraphs"] = repeated
    removed_chars = before - sum(map(len, body_lines))
    flags["duplicated_body"] = int(bool(before) and removed_chars >= _DUPLICATED_BODY_SHARE * before
                                   and repeated > 0)
    body, masked, repaired = repair_masks("\n".join(body_lines))
    flags["masked_chars"] = masked
    flags["mask_repairs"] = repaired
    body, lost, zeros = lost_chars(body)
    flags["lost_chars"] = lost
    flags["mojibake_repaired"] = flags.get("mojibake_repaired", 0) + zeros
    return CleanDoc(title=title or None, body=body, published=meta.published,
                    published_at=meta.published_at, source_site=meta.source_site,
                    author=meta.author, flags=flags, published_from=meta.published_from)


def clean_page(text: str, *, is_html: bool | None = None, url: str | None = None) -> CleanDoc:
    """Return the article body and metadata of a decoded page (HTML or text dump).

    ``is_html=None`` sniffs the text. The body keeps paragraph boundaries as "\\n".
    ``url``, when the page came from one, dates a page that states no date itself.
    """
    if is_html is None:
        is_html = looks_like_html(text)
    text, readings = repair_readings(text)
    if not is_html:
        parts = split_dump(text)
        meta = read_meta(parts.header, parts.body, elsewhere=parts.inner_chrome + parts.tail,
                         url=url)
        flags = {"chrome_lines": parts.chrome_lines, "mojibake_repaired": readings}
        return _finish(parts.title, parts.body, meta, flags)

    found = extract_html(text)
    title = _html_title(found.title, found.h1)
    headline = " ".join(t for t in (found.title, found.h1, title) if t)
    body, top_lines, removed = _filter_html_lines(found.paragraphs, headline)
    header = [*found.before, *top_lines]
    meta_dates = [clean_line(found.meta[k]) for k in DATE_META_KEYS if k in found.meta]
    kept = {*body, *top_lines}
    below = [line for line in found.paragraphs if line not in kept]  # chrome in the container
    meta = read_meta(header, body, elsewhere=below, meta_dates=meta_dates, url=url)
    flags = {"chrome_lines": removed, "mojibake_repaired": readings}
    return _finish(title, body, meta, flags)
