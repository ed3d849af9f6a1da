"""Time expressions and how a fact's year, period_start and as_of are set."""

from __future__ import annotations

from datetime import date

import pytest

from fupin.tasks.extract import extract
from fupin.tasks.extract.timeexpr import find_times

PUB = date(2020, 11, 20)


def times_of(body: str, published: date | None = PUB):
    return [(f.year, f.period_start, f.time_kind) for f in extract(body, published=published).facts]


@pytest.mark.parametrize(
    ("text", "kind", "year", "period_start"),
    [
        ("2016年", "point", 2016, None),
        ("2016年底", "point", 2016, None),
        ("2016年以来", "cumulative", 2020, 2016),
        ("今年以来", "cumulative", 2020, 2020),
        ("去年", "point", 2019, None),
        ("前年上半年", "point", 2018, None),
        ("“十二五”期间", "period", 2015, 2011),
        ("十三五时期", "period", 2020, 2016),
        ("十三五以来", "cumulative", 2020, 2016),
        ("2014-2018年", "period", 2018, 2014),
        ("脱贫攻坚战打响以来", "cumulative", 2020, None),
        ("目前", "point", 2020, None),
        ("每年", "annual", None, None),
    ],
)
def test_time_expressions(text: str, kind: str, year: int | None, period_start: int | None) -> None:
    (t,) = find_times(text, PUB)
    assert (t.kind, t.year, t.period_start) == (kind, year, period_start)


def test_as_of_date_without_year_takes_publication_year() -> None:
    (t,) = find_times("截至9月23日", PUB)
    assert t.as_of == date(2020, 9, 23) and t.year == 2020
    (t,) = find_times("截至12月31日", date(2021, 1, 10))
    assert t.as_of == date(2020, 12, 31)


def test_book_titles_hold_no_time() -> None:
    assert find_times("编制《脱贫攻坚“十三五”规划》", PUB) == []


def test_scrubbed_year_is_recognised() -> None:
    assert [t.kind for t in find_times("截至年底,全市", PUB)] == ["scrubbed"]


def test_explicit_year_on_a_stock() -> None:
    assert times_of("2014年全县有建档立卡贫困户1.2万户。") == [(2014, None, "point")]


def test_nearest_preceding_time_wins_per_number() -> None:
    got = times_of("农民人均纯收入从2014年底的5100元增加到2019年底的9800元。")
    assert [y for y, _, _ in got] == [2014, 2019]


def test_running_total_gets_publication_year_and_start() -> None:
    got = times_of("2013年以来,全县累计投入财政专项扶贫资金5.2亿元,统筹整合涉农资金3.1亿元。")
    assert got == [(2020, 2013, "cumulative"), (2020, 2013, "cumulative")]


def test_cumulative_flow_without_date_is_publication_year() -> None:
    assert times_of("全县累计改造农村危房1.9万户。") == [(2020, None, "cumulative")]


def test_stock_without_date_is_as_of_publication() -> None:
    assert times_of("全县总人口31万。") == [(2020, None, "point")]
    assert times_of("全县总人口31万。", published=None) == [(None, None, None)]
    fact = extract("全县有贫困村36个。", published=PUB).facts[0]
    assert fact.year_source == "publication"


@pytest.mark.parametrize(
    ("body", "source"),
    [
        ("2016年全县脱贫1200户。", "explicit"),
        ("去年全县脱贫1200户。", "relative"),
        ("2016年以来全县累计脱贫1200户。", "period"),
        ("全县累计脱贫1200户。", "period"),
        ("目前全县有贫困户1200户。", "publication"),
        ("全县年均脱贫1200户。", "none"),
    ],
)
def test_year_source_says_where_the_year_came_from(body: str, source: str) -> None:
    assert [f.year_source for f in extract(body, published=PUB).facts] == [source]


def test_from_to_with_years_on_both_sides_gives_each_its_year() -> None:
    body = "全县贫困发生率由2014年的23.9%降至2019年的1.2%。"
    assert [(f.value, f.year) for f in extract(body, published=PUB).facts] == [
        (23.9, 2014), (1.2, 2019)
    ]  # fmt: skip


def test_year_written_with_a_space_is_a_year() -> None:
    fs = extract("截至2018 年末，全县建档立卡贫困人口1660 人。", published=PUB).facts
    assert [(f.value, f.year) for f in fs] == [(1660, 2018)]


def test_future_target_is_not_a_fact() -> None:
    ex = extract("到2025年，全县农民人均纯收入达到2万元。", published=PUB)
    assert ex.facts == []
    assert [s.reason for s in ex.skips] == ["plan_or_target"]


def test_annual_rate_has_no_year() -> None:
    assert times_of("全县年输转劳务近12万人。") == [(None, None, None)]


def test_fronted_time_frames_the_paragraph() -> None:
    body = "今年以来,全县加强监测。新识别监测户36户142人。"
    assert times_of(body) == [(2020, 2020, "cumulative")] * 2


def test_buried_time_does_not_frame_the_paragraph() -> None:
    body = "全县红牛在去年首届大会上获奖。带动1816户贫困群众增收。"
    assert times_of(body) == [(2020, None, "point")]


def test_relative_year_without_publication_date_is_unknown() -> None:
    assert times_of("去年全县脱贫1200户。", published=None) == [(None, None, None)]


def test_five_year_plan_period() -> None:
    assert times_of("“十二五”期间,全县贫困人口减少3.4万人。") == [(2015, 2011, "period")]


def test_as_of_on_fact() -> None:
    (f,) = extract("截至9月23日,全县易地扶贫搬迁1200人。", published=PUB).facts
    assert f.as_of == date(2020, 9, 23) and f.year == 2020
