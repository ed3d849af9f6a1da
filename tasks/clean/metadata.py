"""Read title, publication date, source outlet and author from a page's chrome.

Every field is optional: a value is returned only when a labelled line (来源:, 作者:,
a dateline) or a byline convention states it, because a wrong author or date stored
as fact is worse than a null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from tasks.clean.cues import chrome_cues
from tasks.clean.lines import DATE_RE, HAN_RE, is_meta_line

# Lines whose date is the article's date rather than some other date on the page.
_DATE_LABEL_RE = re.compile(r"发布|发表|时间|日期|更新|来源|作者|编辑|点击|浏览|阅读")
_VALUE_END_RE = re.compile(r"[\s|｜/,，;；()（）【】\[\]]")
_URL_RE = re.compile(r"https?://|www\.|\.(?:com|cn|net|org)\b", re.IGNORECASE)
_PERSON_NAME_RE = re.compile(r"^[\u3400-\u9fff]{2,4}$|^[\u3400-\u9fff]{1,5}·[\u3400-\u9fff]{1,6}$")
_LATIN_NAME_RE = re.compile(r"^[A-Z][a-zA-Z.'-]+(?: [A-Z][a-zA-Z.'-]+){1,3}$")
_ORG_ENDINGS = ("社", "网", "报", "台", "站", "部", "局", "办", "委", "处", "厅", "院", "所",
                "中心", "组", "会", "司", "县", "市", "省", "区", "镇", "村", "完")
_BYLINE_TAIL_RE = re.compile(r"[(（]([^()（）]{2,40})[)）]\s*$")
_LEADING_BYLINE_RE = re.compile(r"^(?:文|记者|作者)\s*[/:：|]\s*(\S{2,12})")


@dataclass
class PageMeta:
    published: date | None = None
    published_at: datetime | None = None
    source_site: str | None = None
    author: str | None = None


def parse_date(match: re.Match[str]) -> tuple[date, datetime | None] | None:
    """Turn a DATE_RE match into (date, datetime or None), rejecting impossible values."""
    try:
        day = date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None
    if match["H"] is None:
        return day, None
    try:
        moment = datetime(day.year, day.month, day.day, int(match["H"]), int(match["M"]),
                          int(match["S"] or 0))
    except ValueError:
        return day, None
    return day, moment


def find_published(lines: list[str]) -> tuple[date | None, datetime | None]:
    """Date of the article from the header lines: labelled datelines first, banners never."""
    cues = chrome_cues()
    best: tuple[int, int, tuple[date, datetime | None]] | None = None
    for pos, line in enumerate(lines):
        if cues.banner.search(line):
            continue  # "2018年1月6日 星期六 | 联系热线" is today's date on the site banner
        for m in DATE_RE.finditer(line):
            parsed = parse_date(m)
            if parsed is None:
                continue
            rank = 2 if _DATE_LABEL_RE.search(line) else (1 if is_meta_line(line) else 0)
            rank += 1 if parsed[1] is not None else 0
            if best is None or rank > best[0]:
                best = (rank, pos, parsed)
    if best is None:
        return None, None
    return best[2]


def _label_value(line: str, label: re.Pattern[str]) -> str | None:
    m = label.search(line)
    if m is None:
        return None
    rest = line[m.end():]
    stop = chrome_cues().meta_label.search(rest)
    if stop:
        rest = rest[:stop.start()]
    rest = _VALUE_END_RE.split(rest.strip(), maxsplit=1)[0]
    rest = DATE_RE.split(rest, maxsplit=1)[0].strip()
    return rest or None


def find_source(lines: list[str]) -> str | None:
    """The outlet after a 来源 label, unless it is a URL or a non-answer like "网络"."""
    cues = chrome_cues()
    for line in lines:
        value = _label_value(line, cues.source_label)
        if not value or _URL_RE.search(value) or value in cues.source_non_answers:
            continue
        if len(value) <= 30:
            return value
    return None


def clean_person(raw: str) -> str | None:
    """Strip 记者/文图-style wrappers from a byline value and accept it only if it is a name."""
    cues = chrome_cues()
    value = cues.author_prefix.sub("", raw.strip()).strip()
    stop = cues.author_stop.search(value)
    if stop and stop.start() > 0:
        value = value[:stop.start()]
    value = re.split(r"[\s、,，;；/|]", value, maxsplit=1)[0]
    for _ in range(2):
        value = cues.author_prefix.sub("", value)
        value = cues.author_suffix.sub("", value) if len(value) > 2 else value
    if _PERSON_NAME_RE.match(value) and not value.endswith(_ORG_ENDINGS):
        return value
    if _LATIN_NAME_RE.match(raw.strip()):
        return raw.strip()
    return None


def find_author(header: list[str], body: list[str]) -> str | None:
    """Author from a labelled header field, else from a byline opening or closing the body."""
    cues = chrome_cues()
    for line in header:
        m = cues.author_label.search(line)
        if m is None:
            continue
        rest = line[m.end():]
        stop = cues.meta_label.search(rest)
        name = clean_person(rest[:stop.start()] if stop else rest)
        if name:
            return name
    if body:
        m = _LEADING_BYLINE_RE.match(body[0])
        if m and len(body[0]) <= 20:
            name = clean_person(m.group(1))
            if name:
                return name
        for line in reversed(body[-2:]):
            m = _BYLINE_TAIL_RE.search(line)
            if m is None:
                continue
            inner = m.group(1)
            label = cues.author_label.search(inner) or re.search(r"记者|作者|供稿", inner)
            name = clean_person(inner[label.end():] if label else inner)
            if name and (label or HAN_RE.match(name)):
                return name
    return None


def split_site_name(title: str) -> str:
    """Remove a trailing (or leading) site name: "标题_新浪新闻" -> "标题"."""
    cues = chrome_cues()
    title = title.strip()
    for _ in range(3):
        cut = None
        for sep in cues.title_separators:
            idx = title.rfind(sep)
            if idx > 0:
                tail = title[idx + len(sep):].strip()
                if tail and len(tail) <= 20 and (
                        tail.endswith(cues.site_name_endings) or len(tail) <= 6
                        or _URL_RE.search(tail)):
                    cut = idx if cut is None else max(cut, idx)
        if cut is None:
            break
        title = title[:cut].strip()
    return title


def read_meta(header: list[str], body: list[str]) -> PageMeta:
    """Collect the optional metadata fields from header lines and the body's edges."""
    published, published_at = find_published(header)
    return PageMeta(published=published, published_at=published_at,
                    source_site=find_source(header), author=find_author(header, body))
