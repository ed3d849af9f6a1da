"""Read title, publication date, source outlet and author from a page's chrome.

Every field is optional: a value is returned only when a labelled line (来源:, 作者:,
a dateline) or a byline convention states it, because a wrong author or date stored
as fact is worse than a null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from fupin.tasks.clean.cues import chrome_cues
from fupin.tasks.clean.lines import DATE_RE, HAN_RE, is_meta_line

# "09.10.2015" and "09/10/2015 09:15": month first, as in the pages that write the
# year last, unless the first number can only be a day.
_YEAR_LAST_RE = re.compile(
    r"(?<![\d.])(?P<a>\d{1,2})\s*[./]\s*(?P<b>\d{1,2})\s*[./]\s*(?P<y>(?:19|20)\d{2})(?![\d.])"
    r"(?:\s*(?P<H>\d{1,2})\s*:\s*(?P<M>\d{2})(?:\s*:\s*(?P<S>\d{2}))?)?"
)
# A date in a page's address: /2017/0529/, /201705/29/, /2017-05/29/, t20170529_, and
# an article number that a path segment opens with its date (/20200627000145-260202,
# /2021062632679.html).
_URL_DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})[-/_]?(?P<m>[01]\d)[-/_]?(?P<d>[0-3]\d)"
    r"(?:(?!\d)|(?<=/\d{8})(?=\d{2,}(?:[-_.]|$)))")
# A speech or work report dated in its own opening line: "——2018年1月25日在…会议上".
_CN_NUM = "〇零一二三四五六七八九十"
_SPEECH_DATE_RE = re.compile(
    rf"^[(（]?\s*[—\-－]{{1,2}}\s*(?P<date>(?:19|20|一九|二〇|二零)[\d{_CN_NUM}]{{2}}\s*年"
    rf"\s*[\d{_CN_NUM}]{{1,3}}\s*月\s*[\d{_CN_NUM}]{{1,3}}\s*日)\s*在"
)
_LEAD_DATE_LINES = 4
# A newspaper's print credit closing an article: "《 清溪日报 》( 2020年01月25日 01 版)".
_PRINT_CREDIT_RE = re.compile(
    r"《[^《》]{1,20}》\s*[(（]\s*(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})"
    r"\s*日\s*(?:第?\s*\d{1,3}\s*版)?\s*[)）]\s*$"
)
_CREDIT_LINES = 3
_LEAD_DATE_MAX = 80
_SENTENCE_OR_CLAUSE_RE = re.compile(r"[。！？!?；;，,]")
_CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}
_VALUE_END_RE = re.compile(r"[\s|｜/,，;；()（）【】\[\]]")
_URL_RE = re.compile(r"https?://|www\.|\.(?:com|cn|net|org)\b", re.IGNORECASE)
_PERSON_NAME_RE = re.compile(r"^[\u3400-\u9fff]{2,4}$|^[\u3400-\u9fff]{1,5}·[\u3400-\u9fff]{1,6}$")
_LATIN_NAME_RE = re.compile(r"^[A-Z][a-zA-Z.'-]+(?: [A-Z][a-zA-Z.'-]+){1,3}$")
_BYLINE_TAIL_RE = re.compile(r"[(（]([^()（）]{2,40})[)）]\s*$")


@dataclass
class PageMeta:
    published: date | None = None
    published_at: datetime | None = None
    source_site: str | None = None
    author: str | None = None
    published_from: str | None = None  # text | meta | url: where the date was read


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


def _year_last(match: re.Match[str]) -> tuple[date, datetime | None] | None:
    a, b = int(match["a"]), int(match["b"])
    month, day = (b, a) if a > 12 else (a, b)
    moment = (f"{match['y']}-{month}-{day} {match['H']}:{match['M']}:{match['S'] or 0}"
              if match["H"] else f"{match['y']}-{month}-{day}")
    return parse_date(DATE_RE.match(moment))  # type: ignore[arg-type]


def _line_dates(line: str) -> list[tuple[date, datetime | None]]:
    found = [parse_date(m) for m in DATE_RE.finditer(line)]
    found += [_year_last(m) for m in _YEAR_LAST_RE.finditer(line)]
    return [d for d in found if d is not None]


def rank_dates(lines: list[str]) -> tuple[int, tuple[date, datetime | None]] | None:
    """The most article-like date in ``lines`` and its rank: labelled (发布时间:) 2,
    on a dateline 1, elsewhere 0, plus one when it has a time of day."""
    cues = chrome_cues()
    best: tuple[int, tuple[date, datetime | None]] | None = None
    for line in lines:
        labelled = cues.date_label.search(line)
        if cues.banner.search(line) and not labelled:
            # "2018年1月6日 星期六 | 联系热线" is today's date on the site banner; a
            # labelled dateline ("编辑: 某某 2016-08-08 17:38 星期一") is the article's
            continue
        for parsed in _line_dates(line):
            rank = 2 if labelled else (1 if is_meta_line(line) else 0)
            rank += 1 if parsed[1] is not None else 0
            if best is None or rank > best[0]:
                best = (rank, parsed)
    return best


def find_published(lines: list[str]) -> tuple[date | None, datetime | None]:
    """Date of the article from the header lines: labelled datelines first, banners never."""
    best = rank_dates(lines)
    return best[1] if best else (None, None)


def url_date(url: str | None) -> date | None:
    """A date the page's address is built from (the path only, never the host)."""
    if not url:
        return None
    path = re.sub(r"^[a-z]+://[^/]*", "", url, flags=re.IGNORECASE)
    for m in _URL_DATE_RE.finditer(path):
        try:
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            continue
    return None


# A year and month closing a path segment: /201707/, /2019-05/, /2019/05/.
_URL_MONTH_RE = re.compile(r"(?<![\d])(?P<y>(?:19|20)\d{2})[-/_]?(?P<m>0[1-9]|1[0-2])(?=/)")


def url_year(url: str | None) -> int | None:
    """The publication year a page's address gives when it gives no day (/201707/)."""
    if not url:
        return None
    path = re.sub(r"^[a-z]+://[^/]*", "", url, flags=re.IGNORECASE)
    m = _URL_MONTH_RE.search(path)
    return int(m["y"]) if m else None


def _cn_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if len(text) == 4 or "十" not in text:  # 二〇一八 digit by digit
        digits = [_CN_DIGIT.get(c) for c in text]
        return None if None in digits else int("".join(map(str, digits)))
    tens, _, ones = text.partition("十")
    return (_CN_DIGIT.get(tens, 1) if tens else 1) * 10 + (_CN_DIGIT.get(ones, 0) if ones else 0)


def speech_date(lines: list[str]) -> date | None:
    """The date a speech or work report gives in its opening lines (——X年X月X日在…)."""
    for line in lines:
        m = _SPEECH_DATE_RE.match(line)
        if m is None:
            continue
        parts = re.split(r"\s*[年月日]\s*", m["date"])
        try:
            y, mo, d = (_cn_number(p) for p in parts[:3])
            return date(y, mo, d)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
    return None


def print_date(lines: list[str]) -> date | None:
    """The day a newspaper printed the article, from the credit that closes it ("《某某日
    报》(2020年01月25日 01 版)"): a copy that kept the credit in the body is dated by it."""
    for line in reversed(lines[-_CREDIT_LINES:]):
        m = _PRINT_CREDIT_RE.search(line)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None


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
    if _PERSON_NAME_RE.match(value) and not value.endswith(cues.organisation_endings):
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
        m = cues.leading_byline.match(body[0])
        if m and len(body[0]) <= 20:
            name = clean_person(m.group(1))
            if name:
                return name
        for line in reversed(body[-2:]):
            m = _BYLINE_TAIL_RE.search(line)
            if m is None:
                continue
            inner = m.group(1)
            label = cues.author_label.search(inner) or cues.bracket_credit.search(inner)
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


# Opening lines of the body where a speech states its own date.
_SPEECH_LINES = 3


def read_meta(header: list[str], body: list[str], *, elsewhere: list[str] | None = None,
              meta_dates: list[str] | None = None, url: str | None = None) -> PageMeta:
    """Collect the optional metadata fields from header lines and the body's edges.

    The publication date comes from, in order: a speech's own opening line; a
    labelled dateline in the header; the page's <meta> tags (``meta_dates``); any
    other date in the header; a labelled dateline or date line elsewhere among the
    chrome (``elsewhere``: a dateline under a summary, a 发布日期 in the footer); a
    dateline among the body's first lines; the page's address.
    """
    meta = PageMeta(source_site=find_source(header), author=find_author(header, body))
    spoken = speech_date(body[:_SPEECH_LINES])
    if spoken is not None:
        meta.published, meta.published_from = spoken, "text"
        return meta
    in_header = rank_dates(header)
    in_meta = rank_dates(meta_dates or [])
    in_rest = rank_dates(elsewhere or [])
    # excerpts copied from the web often start with a dateline the cut kept in the
    # body ("范存宝 2020-04-26 18:48 央广网", "2017-12-07 02:26本刊"): a short line
    # with a full date and no sentence in it
    lead = [ln for ln in body[:_LEAD_DATE_LINES]
            if len(ln) <= _LEAD_DATE_MAX and not _SENTENCE_OR_CLAUSE_RE.search(ln)]
    for found, origin in ((in_header if in_header and in_header[0] >= 2 else None, "text"),
                          (in_meta, "meta"), (in_header, "text"),
                          (in_rest if in_rest and in_rest[0] >= 1 else None, "text"),
                          (rank_dates(lead), "text")):
        if found is not None:
            (meta.published, meta.published_at), meta.published_from = found[1], origin
            return meta
    printed = print_date(body)
    if printed is not None:
        meta.published, meta.published_from = printed, "text"
        return meta
    meta.published = url_date(url)
    meta.published_from = "url" if meta.published else None
    return meta
