"""Numbers as written in Chinese news: digits, 万/亿 multipliers, Chinese numerals,
ranges and the qualifiers around them.

jieba splits "10.11" and "1,234" into pieces, so numbers are taken with one
precompiled regex over the whole text; every match is a :class:`Quantity` with
its span, so that evidence offsets slice back exactly.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import cn2an

from fupin.tasks.extract import taxonomy
from fupin.tasks.extract.units import tables
from fupin.tasks.wordlists import alternation

CN_DIGITS = "零〇一二两三四五六七八九"
CN_ALL = CN_DIGITS + "十百千万亿"
CN_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
CN_SCALE = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}

# Full-width digits and percent signs map one-to-one onto ASCII, so translating
# keeps every offset valid.
FULLWIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")
# str.translate walks a CJK text char by char in Python-level lookups; most pages
# have no full-width digits, and this search skips the copy for them.
HAS_FULLWIDTH = re.compile("[０-９．％]")
# "１２，３４５": between full-width digits a full-width comma groups thousands
FULLWIDTH_COMMA = re.compile("(?<=[０-９])，(?=[０-９]{3}(?![０-９]))")


@dataclass(frozen=True)
class Quantity:
    """A number with its unit as written; ``unit`` is a quantity unit
    (household, person, village, county, yuan, percent, count), None for a bare
    multiplied number, or "other" for units no indicator uses (亩, 吨, 头 …)."""

    start: int  # first char of the number (after any qualifier word)
    end: int  # one past the measure word
    value: float
    unit: str | None
    qualifier: str
    is_range: bool
    counter: str
    qual_start: int  # start including a qualifier written before the number


def _cn_to_float(text: str) -> float | None:
    """Chinese numeral to number; ``None`` for non-numbers such as 十三五."""
    try:
        value = cn2an.cn2an(text, "smart")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    return float(value)


def _cn_range(text: str) -> float | None:
    """Lower bound of an adjacent-digit range: 八九千 -> 8000, 三四十 -> 30."""
    if len(text) < 3 or text[0] not in CN_VALUE or text[1] not in CN_VALUE:
        return None
    a, b = CN_VALUE[text[0]], CN_VALUE[text[1]]
    if b != a + 1:
        return None
    scale = 1.0
    for ch in text[2:]:
        if ch not in CN_SCALE:
            return None
        scale *= CN_SCALE[ch]
    return a * scale


@lru_cache(maxsize=1)
def _tail() -> re.Pattern[str]:
    t = tables()
    lex = taxonomy.load().lexicon["qualifiers"]
    mult = alternation(t.multipliers)
    counters = alternation(t.counters)
    inner = alternation(lex["at_least"]["inner"])
    return re.compile(
        rf"(?P<inner>{inner})?(?P<mult>{mult})?(?P<inner2>{inner})?(?P<counter>{counters})?"
    )


@lru_cache(maxsize=1)
def _zero() -> dict[str, str]:
    """When a written 零 is a value: after a verb of falling, in a rate's clause."""
    z = taxonomy.load().lexicon["zero"]
    after = "|".join(f"(?<={re.escape(w)})" for w in z["after"])
    return {"after": f"(?:{after})", "rate": z["rate_marker"]}


@lru_cache(maxsize=1)
def _head() -> re.Pattern[str]:
    arabic = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|\d+(?:\.\d+)?"
    cn_decimal = rf"[{CN_ALL}]*[{CN_DIGITS}][{CN_ALL}]*(?:点[{CN_DIGITS}]+)?"
    return re.compile(
        rf"(?=[\d{CN_ALL}百])(?:"
        rf"百分之(?P<pct>\d+(?:\.\d+)?|{cn_decimal})"
        rf"|{_zero()['after']}(?P<zero>零)(?![点{CN_ALL}])"
        rf"|(?P<num>{arabic})(?:\s*[-—–~～至到]\s*(?P<num2>\d+(?:\.\d+)?)(?![\d年月日]))?"
        rf"|(?<![第{CN_ALL}])(?P<cn>{cn_decimal}))"
    )


# one space (ASCII, ideographic or no-break) between a number and its
# multiplier or measure word, as text copied from the web often has ("1660 万人")
SPACES = " \u3000\xa0"


@lru_cache(maxsize=1)
def _qualifier_rx() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """Qualifier words written before the number (anchored at its start) and
    after the measure word, and the qualifier each one means."""
    lex = taxonomy.load().lexicon["qualifiers"]
    before = {w: q for q, d in lex.items() for w in d.get("before", [])}
    after = {w: q for q, d in lex.items() for w in d.get("after", [])}
    return (re.compile(f"(?:{alternation(before)})$"), re.compile(alternation(after)),
            {**before, **after})


CLAUSE_ENDS = "，,。；;！？!?\n"
ZERO_LOOKBACK = 40  # "贫困发生率由2013年的26.58%下降为零" spans some 20 characters


def _clause_before(text: str, pos: int) -> str:
    """The text of the clause before ``pos``, at most ZERO_LOOKBACK characters."""
    window = text[max(0, pos - ZERO_LOOKBACK) : pos]
    return window[max(window.rfind(c) for c in CLAUSE_ENDS) + 1 :]


def find_quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` with multiplier, measure word and qualifier.

    Years, dates and times ("2014年", "12月17日") are not quantities: the next
    character tells them apart. Chinese numerals count only when a multiplier
    or measure word follows, so 一是/十三五/一方水土 are left alone.
    """
    t = tables()
    norm = text
    if HAS_FULLWIDTH.search(text):
        norm = FULLWIDTH_COMMA.sub(",", text).translate(FULLWIDTH)
    before_rx, after_rx, qual_of = _qualifier_rx()
    range_q = taxonomy.load().lexicon.get("range_qualifier", "at_least")
    tail = _tail()
    out: list[Quantity] = []
    for m in _head().finditer(norm):
        tm = tail.match(norm, m.end())
        assert tm is not None
        if not tm.group(0) and norm[m.end() : m.end() + 1] in SPACES:
            spaced = tail.match(norm, m.end() + 1)
            assert spaced is not None
            if spaced.group(0) or norm[m.end() + 1 : m.end() + 2] in t.time_units:
                tm = spaced
        end = tm.end()
        mult, counter = tm.group("mult"), tm.group("counter") or ""
        if not counter and norm[end : end + 1] in t.time_units:
            continue  # a year, date or age, not a quantity
        is_range = False
        cn = m.group("cn")
        if m.group("zero") is not None:
            # "贫困发生率降为零": a rate fell to nothing; elsewhere 零 is no statistic
            if _zero()["rate"] in _clause_before(norm, m.start()):
                out.append(Quantity(m.start(), m.end(), 0.0, "percent", "exact", False, "",
                                    m.start()))
            continue
        pct = m.group("pct")
        if pct is not None:
            parsed = float(pct) if pct[0].isdigit() else _cn_to_float(pct)
            if parsed is None:
                continue
            out.append(Quantity(m.start(), end, parsed, "percent", "exact", False, "%", m.start()))
            continue
        if cn is None:
            if norm[end : end + 1] == "." and not tm.group(0):
                continue
            value = float(m.group("num").replace(",", ""))
            is_range = m.group("num2") is not None
        else:
            if not (mult or counter):
                continue
            rng = _cn_range(cn)
            if rng is not None:
                value, is_range = rng, True
            else:
                parsed = _cn_to_float(cn)
                if parsed is None or parsed == 1:
                    continue  # 十三五; or a lone 一 (一户一策, 每一个): idiom, not a statistic
                value = parsed
        if mult:
            value *= t.multipliers[mult]
        if counter:
            unit = t.counters[counter] or "count"
        elif mult:
            unit = None
        else:
            unit = "other"
        qualifier = "exact"
        if is_range:
            qualifier = range_q
        elif tm.group("inner") or tm.group("inner2"):
            qualifier = "at_least"
        qual_start = m.start()
        bm = before_rx.search(norm, max(0, qual_start - 4), qual_start)
        if bm:
            if qualifier == "exact":
                qualifier = qual_of[bm.group(0)]
            qual_start = bm.start()
        am = after_rx.match(norm, end)
        if am:
            if qualifier == "exact":
                qualifier = qual_of[am.group(0)]
            end = am.end()
        if not math.isfinite(value) or value < 0:
            continue
        out.append(
            Quantity(
                start=m.start(),
                end=end,
                value=value,
                unit=unit,
                qualifier=qualifier,
                is_range=is_range,
                counter=counter,
                qual_start=qual_start,
            )
        )
    return out
