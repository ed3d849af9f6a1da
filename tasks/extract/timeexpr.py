"""Time expressions: explicit years and dates, 今年/去年 relative to publication,
five-year plans, "since" phrases, "as of" dates, annual rates and scrubbed years.

What a fact's ``year`` means follows the gold annotation: a point value keeps
its stated year; a running total ("2013年以来累计…", "…打响以来") is a value as
of publication, so year = publication year and period_start = the first year
when one is stated; an annual rate ("年输转劳务…", "每年…") has no year.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from fupin.tasks import wordlists
from fupin.tasks.extract import taxonomy

PART = r"年?[底末初]|上半年|下半年|前三季度|一季度|二季度|三季度|四季度|\d{1,2}月(?:底|末|份)?"
SINCE = r"以来|至今|起|开始"
ASOF = r"截至|截止到|截止|到"
YEAR = r"(?:19|20)\d\d"
SP = "[ \u3000]?"  # text copied from the web often has a space before 年/月 ("2018 年末")
BOOK_TITLE = re.compile(r"《[^》]{0,60}》")


@dataclass(frozen=True)
class TimeExpr:
    start: int
    end: int
    kind: str  # point | cumulative | period | annual | scrubbed
    year: int | None = None
    period_start: int | None = None
    as_of: date | None = None
    # where the year came from, for fact_indicator.year_source:
    # explicit | relative (今年, or a date with no year) | period | publication |
    # estimated (counted from the page's estimated year: it has no publication date)
    source: str = "explicit"
    plan: bool = False  # the span of a five-year plan ("“十三五”时期")


@lru_cache(maxsize=2)
def _pattern(taxonomy_path: Path | None = None) -> re.Pattern[str]:
    t = taxonomy.load(taxonomy_path).lexicon["time"]
    rel = "|".join(sorted(t["relative_years"], key=len, reverse=True))
    parts = [
        rf"(?P<ya>{YEAR})(?:{SP}年)?\s*[-—–~至到]\s*(?P<yb>{YEAR}){SP}年",
        rf"(?P<asof>{ASOF})?(?:(?P<dy>{YEAR}){SP}年{SP})?(?P<dm>\d{{1,2}}){SP}月(?P<dd>\d{{1,2}})[日号]"
        rf"(?P<dsince>{SINCE})?",
        r"(?<![\d.月])(?P<dday>\d{1,2})日(?![内间])",
        rf"(?P<asof2>{ASOF})?(?P<y>{YEAR})(?:{SP}年(?P<part>{PART})?|(?=以来))(?P<since>{SINCE})?",
        # "比上年减少…": a comparison with last year, not a date of the value
        rf"(?P<asof3>{ASOF})?(?<!比)(?P<rel>{rel})(?P<rpart>{PART})?(?P<rsince>以来|来)?",
        rf"“?(?P<fyp>{t['five_year_plan'].strip('()')})”?+(?P<fkind>期间|时期|以来|末|初)?+"
        rf"(?!{t['five_year_plan_category']})",
        rf"(?P<now>{t['now']})",
        rf"(?P<open>{t['open_since']})",
        rf"(?P<span>{t['years_to_now']})",
        rf"(?P<annual>{t['annual']})",
        r"(?P<scrub>(?:^|(?<=[，,。；;：:\s“\"（(])|(?<=截至)|(?<=截止)|(?<=至)|(?<=于)|(?<=在))"
        r"年(?=[底末初]|以来|[，,]|[他她我]))",
    ]
    # the scan skips positions where no alternative can start instead of trying
    # nine alternatives at each; the characters come from the words loaded above
    body = "(?:" + "|".join(parts) + ")"
    first = wordlists.first_chars(body)
    trigger = rf"(?=[{first}])" if first else ""
    return re.compile(trigger + body, re.MULTILINE)


@lru_cache(maxsize=2)
def _scan(text: str, taxonomy_path: Path | None = None) -> tuple[re.Match[str], ...]:
    """The matches of a text, kept for the second reading of a page whose years count
    from an estimate."""
    return tuple(_pattern(taxonomy_path).finditer(text))


def _fyp_years(word: str) -> tuple[int, int]:
    """十三五 -> (2016, 2020). Plans are regular five-year blocks from the third (1966)."""
    n = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}[word[1]] + 10
    start = 1966 + 5 * (n - 3)
    return start, start + 4


def _part_date(year: int, part: str | None) -> date | None:
    if part and part[-1] in "底末":  # "2019年底", "2019年年底"
        return date(year, 12, 31)
    return None


DAY_REACH = 300  # how far a day with no month looks back for its month
_CLAUSE_EDGE = re.compile(r"[，,。；;！？!?：:\n]")
SENTENCE_ENDS = "。；;！？!?\n"
_YEAR_END = re.compile(r"年[底末]")
_WRITTEN_YEAR = re.compile(YEAR)


@lru_cache(maxsize=2)
def _reached(taxonomy_path: Path | None = None) -> re.Pattern[str]:
    """"…已基本完成": after a plan word, the goal is reported as reached."""
    t = taxonomy.load(taxonomy_path).lexicon["time"]
    return re.compile(rf"[^，,。；;！？\n]{{0,4}}?已(?:经)?(?:{t['goal_reached_degree']})?"
                      rf"(?:{t['goal_reached']})")


_FIGURE = re.compile(r"\d")


def _sentence_end(text: str, pos: int) -> int:
    ends = [i for i in (text.find(c, pos) for c in SENTENCE_ENDS) if i >= 0]
    return min(ends, default=len(text))


def estimate_year(
    text: str, times: list[TimeExpr], plan: re.Pattern[str], taxonomy_path: Path | None = None,
) -> int | None:
    """The year a page with no publication date speaks from: the latest year it writes
    for something that has happened, and the year after a year-end it reports as
    past ("减少到2019年底的…" is written in 2020 at the earliest). A year in a sentence
    with a plan word ("力争2020年…", "列出2019年的工作任务" of a 计划) is a target, not
    the past, unless the goal is reported as reached ("目标任务已接近完成,…"); a
    plan's name (十三五) and the start of a running total are no year the page speaks
    from; a page that writes no such year has no estimate.

    A page that says 去年 and opens a sentence of figures with a whole past year ("2016
    年,该市投入…40多亿元") speaks of one year both ways: it was written the year after
    ("2018年,是…的关键年" gives no figures: it is the year the page is written in)."""
    best = None
    whole_years: set[int] = set()  # "2016年," opening a sentence: a year reported whole
    relative = taxonomy.load(taxonomy_path).lexicon["time"]["relative_years"]
    reached = _reached(taxonomy_path)
    says_last_year = any(t.source == "relative" and relative.get(text[t.start:t.end]) == -1
                         for t in times)
    for t in times:
        # "2016年以来" says when a running total began, not when the page was written
        if t.source not in ("explicit", "period") or t.kind == "cumulative":
            continue
        written = [int(y) for y in _WRITTEN_YEAR.findall(text, t.start, t.end)]
        if not written:
            continue
        lo = max(0, t.start - 200)
        a = max(lo, *(text.rfind(c, lo, t.start) + 1 for c in SENTENCE_ENDS))
        edge = _CLAUSE_EDGE.search(text, t.end)
        if any(not reached.match(text, m.end())
               for m in plan.finditer(text, a, edge.start() if edge else len(text))):
            continue
        year = max(written) + (1 if t.kind == "point" and _YEAR_END.search(text, t.start, t.end)
                               else 0)
        if (t.kind == "point" and t.start == a and text[t.end : t.end + 1] in (",", "，")
                and text[t.end - 1] == "年"
                and _FIGURE.search(text, t.end, _sentence_end(text, t.end))):
            whole_years.add(year)
        best = year if best is None else max(best, year)
    return best + 1 if says_last_year and best in whole_years else best


_COUNT = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)} | {"两": 2}


def _span_from(
    text: str, before: list[TimeExpr], at: int, span: str, pub_year: int | None,
    markers: str,
) -> tuple[int, int] | None:
    """(first, last) year of a span of N years ("6年时间", "四年来") that counts from a
    year its sentence starts a change from ("从2012年的9899万人") or gives a stock at
    the end of ("2013年底全乡有…"): it ends in the year the change reaches ("…减少至
    2014年的…,4年来": years are counted both inclusively and not), else N years after
    it, unless that passes the publication year. An as-of date ("到2018年底,五年来…")
    is where the span ends instead."""
    n = next((int(d) for d in re.findall(r"\d+", span)), None) or sum(
        _COUNT.get(c, 0) for c in span.partition("年")[0])
    if not n:
        return None
    reached = None
    for t in reversed(before):
        if any(c in SENTENCE_ENDS for c in text[t.end : at]):
            return None
        if t.kind != "point" or t.source != "explicit" or t.year is None:
            continue
        if t.as_of is not None:
            return t.year - n, t.year
        from_year = text[t.start - 1 : t.start] in markers if t.start else False
        if from_year or (t.as_of is None and _YEAR_END.search(text, t.start, t.end)):
            if reached is not None and t.year < reached <= t.year + n:
                return t.year, reached
            last = t.year + n
            return (t.year, last) if pub_year is None or last <= pub_year else None
        reached = reached or t.year
    return None


# a first line that is a dateline giving a month but no day: "date 2017-11 【某台】", "2017年11月"
_MONTH_DATELINE = re.compile(
    rf"[^\n\d\u3400-\u9fff]{{0,12}}(?P<y>{YEAR})\s*(?:[-/.]\s*|年\s*)(?:0?[1-9]|1[0-2])"
    r"(?:\s*月)?(?:[\s【\[(（][^\n，,。；;！？!?\d]{0,24})?$",
    re.MULTILINE,
)


def dateline_year(body: str) -> int | None:
    """The year of a dateline that opens the body with a month but no day: a page copied
    with it ("date 2017-11 【某台】") was published that year, as one whose address gives
    only a month (/201711/)."""
    m = _MONTH_DATELINE.match(body.lstrip())
    return int(m["y"]) if m else None


@lru_cache(maxsize=2)
def _report_title(taxonomy_path: Path | None = None) -> re.Pattern[str]:
    words = taxonomy.load(taxonomy_path).lexicon["time"]["report_title"]
    return re.compile(rf"(?P<y>{YEAR})\s?年(?:度)?[^\d，,。；;]{{0,24}}?(?:工作)?(?:{words})")


def report_year(title: str, taxonomy_path: Path | None = None) -> int | None:
    """The one year a report's title names ("某镇2020年脱贫攻坚工作汇报", "2019年度扶贫
    工作总结", "2021年政府工作报告"): the year its 今年 and present tense speak from;
    none when the title names no year or several."""
    if len(set(_WRITTEN_YEAR.findall(title))) != 1:
        return None
    m = _report_title(taxonomy_path).search(title)
    return int(m["y"]) if m else None


def find_times(
    text: str, published: date | None, year: int | None = None, estimated: bool = False,
    taxonomy_path: Path | None = None,
) -> list[TimeExpr]:
    """All time expressions of ``text`` in order (none inside 《book titles》).

    ``year`` stands in for the publication year of a page that has no publication
    date: the year its address gives (/201905/), or, ``estimated``, the year
    :func:`estimate_year` reads from the text, from which 今年, 去年 and running
    totals count with ``source`` ``estimated`` (目前 then has no year).
    ``taxonomy_path`` reads the time words from another indicators file than the
    one in ``schemas/``.
    """
    titles = [(m.start(), m.end()) for m in BOOK_TITLE.finditer(text)]
    title_starts = [a for a, _ in titles]
    pub_year = published.year if published else year
    # the source of a year counted from the publication year, when that is an estimate
    counted = "estimated" if published is None and year is not None and estimated else None
    lexicon = taxonomy.load(taxonomy_path).lexicon
    time_words = lexicon["time"]
    rel_years = time_words["relative_years"]
    not_now = time_words["now_not_after"]
    out: list[TimeExpr] = []
    last_date: TimeExpr | None = None  # the latest date written with its month
    for m in _scan(text, taxonomy_path):
        i = bisect.bisect_right(title_starts, m.start()) - 1
        if i >= 0 and m.start() < titles[i][1]:
            continue
        g = m.group
        s, e = m.start(), m.end()
        if g("ya"):
            out.append(TimeExpr(s, e, "period", int(g("yb")), int(g("ya")), source="period"))
        elif g("dm"):
            month, day = int(g("dm")), int(g("dd"))
            year = int(g("dy")) if g("dy") else None
            if year is None and published:
                year = (
                    pub_year if (month, day) <= (published.month, published.day) else pub_year - 1
                )
            elif year is None:
                year = pub_year
            try:
                as_of = date(year, month, day) if year else None
            except ValueError:
                as_of = None
            src = "explicit" if g("dy") else counted or "relative"
            if g("dsince"):
                out.append(TimeExpr(s, e, "cumulative", pub_year, year, source=counted or "period"))
            else:
                out.append(TimeExpr(s, e, "point", year, None, as_of, source=src))
                last_date = out[-1] if as_of else None
        elif g("dday"):
            # "11月23日,…加上21日…,20日…": a day with no month is in the month of the date
            # written last before it; with none, it says nothing about the year
            if last_date is None or last_date.as_of is None or s - last_date.end > DAY_REACH:
                continue
            try:
                as_of = last_date.as_of.replace(day=int(g("dday")))
            except ValueError:
                continue
            out.append(replace(last_date, start=s, end=e, as_of=as_of))
        elif g("y"):
            year = int(g("y"))
            if g("since"):
                out.append(TimeExpr(s, e, "cumulative", pub_year, year, source=counted or "period"))
            else:
                as_of = _part_date(year, g("part")) if g("asof2") else None
                out.append(TimeExpr(s, e, "point", year, None, as_of))
        elif g("rel"):
            year = None if pub_year is None else pub_year + int(rel_years[g("rel")])
            if g("rsince"):
                out.append(TimeExpr(s, e, "cumulative", pub_year, year, source=counted or "period"))
            else:
                as_of = _part_date(year, g("rpart")) if (year and g("asof3")) else None
                out.append(TimeExpr(s, e, "point", year, None, as_of,
                                    source=counted or "relative"))
        elif g("fyp"):
            first, last = _fyp_years(g("fyp"))
            if g("fkind") == "以来":
                out.append(TimeExpr(s, e, "cumulative", pub_year, first,
                                    source=counted or "period"))
            elif g("fkind") in ("初", "末"):  # "十三五初": the plan's first (last) year
                out.append(TimeExpr(s, e, "point", first if g("fkind") == "初" else last,
                                    source="explicit"))
            else:
                if pub_year and first <= pub_year < last:
                    last = pub_year
                out.append(TimeExpr(s, e, "period", last, first, source="period", plan=True))
        elif g("now") and s and text[s - 1] in not_now:  # "实现剩余…", "实现有效衔接"
            continue
        elif g("now"):
            # "目前" is the publication date, which an estimated year does not give
            out.append(TimeExpr(s, e, "point", None if counted else pub_year, None,
                                published, source="publication"))
        elif g("span") and out and out[-1].kind == "period" and out[-1].end == s:
            continue  # "2013年至2016年四年间" names the span it follows once more
        elif g("span") and (counted_from := _span_from(text, out, s, g("span"), pub_year,
                                                          lexicon["from_markers"])):
            # "从2012年的…减少到2018年的…,6年时间减少…": the span counts from the year
            # the sentence starts from, not back from publication
            out.append(TimeExpr(s, e, "cumulative", counted_from[1], counted_from[0],
                                source="period"))
        elif g("span") or g("open"):  # "五年来": a running total up to publication
            out.append(TimeExpr(s, e, "cumulative", pub_year, None, source=counted or "period"))
        elif g("annual"):
            out.append(TimeExpr(s, e, "annual"))
        elif g("scrub") is not None:
            out.append(TimeExpr(s, e, "scrubbed"))
    if counted:  # a running total that began after the estimated year ends when? unknown
        out = [replace(t, year=None) if t.kind == "cumulative" and t.year is not None
               and t.period_start is not None and t.year < t.period_start else t for t in out]
    return out
