"""Classify single lines of a page as body text or one kind of site chrome.

Both the text-dump cleaner and the HTML cleaner end up with a list of lines; the same
rules decide which of them are breadcrumbs, datelines, editor credits, widget labels,
footers or the headings of link blocks. Cue words come from ``schemas/chrome_cues.yaml``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from fupin.tasks.clean.cues import chrome_cues


class Chrome(StrEnum):
    """Kinds of chrome line. ``ends_body`` kinds close the article when met after text."""

    BREADCRUMB = "breadcrumb"
    META = "meta"
    EDITOR = "editor"
    HEADING = "heading"
    FOOTER = "footer"
    WIDGET = "widget"
    NOISE = "noise"

    @property
    def ends_body(self) -> bool:
        return self in (Chrome.EDITOR, Chrome.HEADING, Chrome.FOOTER)


HAN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:时]\s*(?P<M>\d{2})(?:\s*[:分]\s*(?P<S>\d{2}))?)?"
)
_BARE_DATE_RE = re.compile(rf"^[\[(【]?\s*(?:{DATE_RE.pattern})\s*(?:星期.|周.)?\s*[\])】]?$")
_BREADCRUMB_SPLIT_RE = re.compile(r"\s*(?:>>|[>»›→]|->)\s*")
_NO_WORDS_RE = re.compile(r"^[^a-zA-Z\u3400-\u9fff\uf900-\ufaff]*$")
_SENTENCE_PUNCT_RE = re.compile(r"[。!?;！？；]")
_CLAUSE_PUNCT_RE = re.compile(r"[,，、:：]")
_SENTENCE_END_RE = re.compile(r"[。!?！？…]+[”」』\"']?")
_MIN_FINISHED_SENTENCES = 2
_CLAUSE_END_RE = re.compile(r"[。!?！？…;；,，]")
# A paragraph cut off with no full stop keeps its clauses from this size on.
_RUN_ON_MIN_CHARS, _RUN_ON_MIN_CLAUSES = 80, 3
_FINAL_RE = re.compile(r"[。!?！？…”」』)）\]】.;；:：\"'》]$")
_END_MARK_RE = re.compile(r"\s*[◆◇■□▲△●○★☆▼▽]+\s*$")

# Lines longer than this are never chrome by label alone: they are prose that
# happens to contain a cue word.
_MAX_META_CHARS = 150
_MAX_FOOTER_CHARS = 200
_MAX_EDITOR_CHARS = 40
_MAX_NAVIGATION_CHARS = 60


def is_prose(line: str) -> bool:
    """A line that reads as running text: long enough and punctuated like sentences."""
    if len(line) < 8:
        return False
    if _SENTENCE_PUNCT_RE.search(line):
        return True
    return len(line) >= 40 and len(_CLAUSE_PUNCT_RE.findall(line)) >= 2


def ends_like_sentence(line: str) -> bool:
    """True when the line ends with sentence-final punctuation or a closing bracket."""
    return bool(_FINAL_RE.search(line))


def cut_credit(line: str) -> str | None:
    """The line up to its last sentence when only a byline or photo credit follows.

    "…减少1.2万人。王某" and "…新貌。 张三 摄" keep their text; a credit is no reason
    to lose the last paragraph. None when the line does not have that shape.
    """
    ends = list(_SENTENCE_END_RE.finditer(line))
    if not ends:
        return None
    cut = ends[-1].end()
    if chrome_cues().credit.match(line[cut:].strip()):
        return line[:cut]
    return None


def cut_end_mark(line: str) -> str | None:
    """The line without the mark some papers close an article with ("…清零」。◆"),
    when what it closes ends like a sentence; None otherwise."""
    kept = _END_MARK_RE.sub("", line)
    return kept if kept != line and ends_like_sentence(kept) else None


def cut_unfinished(line: str) -> str | None:
    """A prose paragraph cut off mid-sentence (an excerpt that stops at "…脱贫出列、119")
    keeps its finished sentences; a teaser or headline has too few to count.

    A long paragraph with fewer full stops, strung together with commas (a village
    report listing 全村…户,…人,…), that the page cut off keeps its finished clauses:
    a headline or teaser is never that long nor that many clauses.
    """
    ends = list(_SENTENCE_END_RE.finditer(line))
    if len(ends) >= _MIN_FINISHED_SENTENCES:
        return line[: ends[-1].end()]
    clauses = list(_CLAUSE_END_RE.finditer(line))
    if len(line) >= _RUN_ON_MIN_CHARS and len(clauses) >= _RUN_ON_MIN_CLAUSES:
        return line[: clauses[-1].start()] + "。"
    return None


def is_breadcrumb(line: str) -> bool:
    """"首页 > 新闻 > 正文": short segments joined by arrows, or a known opening word."""
    if len(line) > 80:
        return False
    parts = [p for p in _BREADCRUMB_SPLIT_RE.split(line) if p]
    if len(parts) < 2 or len(parts) == len(line.split()):
        return False  # no arrow separators at all
    if any(len(p) > 16 for p in parts):
        return False
    cues = chrome_cues()
    return (len(parts) >= 3 or bool(cues.breadcrumb_start.search(parts[0]))
            or bool(cues.breadcrumb_end.search(parts[-1])))


def is_meta_line(line: str) -> bool:
    """A dateline such as "时间:2020-12-17 来源:某某网 作者:某某 点击:" or a bare date."""
    if len(line) > _MAX_META_CHARS or "。" in line:
        return False
    if _BARE_DATE_RE.match(line):
        return True
    labels = len(chrome_cues().meta_label.findall(line))
    if labels >= 2:
        return True
    return labels == 1 and (bool(DATE_RE.search(line)) or len(line) <= 40)


@lru_cache(maxsize=4096)
def classify(line: str) -> Chrome | None:
    """Return the kind of chrome ``line`` is, or None when it may be body text.

    Cached: the HTML cleaner asks once to value a block and again to filter the
    article's lines, and a site's chrome lines recur on every page of it.
    """
    if not line:
        return Chrome.NOISE
    cues = chrome_cues()
    if (_NO_WORDS_RE.match(line) and "…" not in line) or (
            cues.separator.search(line) and len(line) < 60):
        return Chrome.NOISE
    if len(line) <= 30:
        if cues.widget.match(line):
            return Chrome.WIDGET
        if cues.block_heading.match(line):
            return Chrome.HEADING
    if len(line) <= _MAX_NAVIGATION_CHARS and cues.navigation.match(line):
        return Chrome.HEADING
    if len(line) <= _MAX_EDITOR_CHARS and cues.editor.match(line.rstrip(")]】")):
        return Chrome.EDITOR
    if len(line) <= _MAX_FOOTER_CHARS and cues.footer.search(line):
        return Chrome.FOOTER
    if is_breadcrumb(line):
        return Chrome.BREADCRUMB
    if is_meta_line(line):
        return Chrome.META
    return None
