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
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from fupin.tasks.extract import taxonomy

PART = r"底|末|初|上半年|下半年|前三季度|一季度|二季度|三季度|四季度|\d{1,2}月(?:底|末|份)?"
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
    # explicit | relative (今年, or a date with no year) | period | publication
    source: str = "explicit"


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    t = taxonomy.load().lexicon["time"]
    rel = "|".join(sorted(t["relative_years"], key=len, reverse=True))
    parts = [
        rf"(?P<ya>{YEAR})(?:{SP}年)?\s*[-—–~至到]\s*(?P<yb>{YEAR}){SP}年",
        rf"(?P<asof>{ASOF})?(?:(?P<dy>{YEAR}){SP}年{SP})?(?P<dm>\d{{1,2}}){SP}月(?P<dd>\d{{1,2}})[日号]"
        rf"(?P<dsince>{SINCE})?",
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
    # every alternative starts with one of these characters; the lookahead lets
    # the scan skip other positions without trying nine alternatives at each
    first = "".join(
        sorted({w[0] for w in (*t["relative_years"], "截至", "截止", "到", "每年", "年均")})
    )
    trigger = rf"(?=[\d“十目当现至如打开实启部推年近这一二三四五六七八九两{first}])"
    return re.compile(trigger + "(?:" + "|".join(parts) + ")", re.MULTILINE)


def _fyp_years(word: str) -> tuple[int, int]:
    """十三五 -> (2016, 2020). Plans are regular five-year blocks from the third (1966)."""
    n = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}[word[1]] + 10
    start = 1966 + 5 * (n - 3)
    return start, start + 4


def _part_date(year: int, part: str | None) -> date | None:
    if part in ("底", "末"):
        return date(year, 12, 31)
    return None


def find_times(text: str, published: date | None) -> list[TimeExpr]:
    """All time expressions of ``text`` in order (none inside 《book titles》)."""
    titles = [(m.start(), m.end()) for m in BOOK_TITLE.finditer(text)]
    title_starts = [a for a, _ in titles]
    pub_year = published.year if published else None
    rel_years = taxonomy.load().lexicon["time"]["relative_years"]
    out: list[TimeExpr] = []
    for m in _pattern().finditer(text):
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
            try:
                as_of = date(year, month, day) if year else None
            except ValueError:
                as_of = None
            src = "explicit" if g("dy") else "relative"
            if g("dsince"):
                out.append(TimeExpr(s, e, "cumulative", pub_year, year, source="period"))
            else:
                out.append(TimeExpr(s, e, "point", year, None, as_of, source=src))
        elif g("y"):
            year = int(g("y"))
            if g("since"):
                out.append(TimeExpr(s, e, "cumulative", pub_year, year, source="period"))
            else:
                as_of = _part_date(year, g("part")) if g("asof2") else None
                out.append(TimeExpr(s, e, "point", year, None, as_of))
        elif g("rel"):
            year = None if pub_year is None else pub_year + int(rel_years[g("rel")])
            if g("rsince"):
                out.append(TimeExpr(s, e, "cumulative", pub_year, year, source="period"))
            else:
                as_of = _part_date(year, g("rpart")) if (year and g("asof3")) else None
                out.append(TimeExpr(s, e, "point", year, None, as_of, source="relative"))
        elif g("fyp"):
            first, last = _fyp_years(g("fyp"))
            if g("fkind") == "以来":
                out.append(TimeExpr(s, e, "cumulative", pub_year, first, source="period"))
            elif g("fkind") in ("初", "末"):  # "十三五初": the plan's first (last) year
                out.append(TimeExpr(s, e, "point", first if g("fkind") == "初" else last,
                                    source="explicit"))
            else:
                if pub_year and first <= pub_year < last:
                    last = pub_year
                out.append(TimeExpr(s, e, "period", last, first, source="period"))
        elif g("now"):
            out.append(TimeExpr(s, e, "point", pub_year, None, published, source="publication"))
        elif g("span") or g("open"):  # "五年来": a running total up to publication
            out.append(TimeExpr(s, e, "cumulative", pub_year, None, source="period"))
        elif g("annual"):
            out.append(TimeExpr(s, e, "annual"))
        elif g("scrub") is not None:
            out.append(TimeExpr(s, e, "scrubbed"))
    return out
