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
        ("近年来", "cumulative", 2020, None),
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
    body = "全县红牛在去年首届大会上获奖。全县有1816户贫困群众。"
    assert times_of(body) == [(2020, None, "point")]


def test_relative_year_without_publication_date_is_unknown() -> None:
    assert times_of("去年全县脱贫1200户。", published=None) == [(None, None, None)]


def test_five_year_plan_period() -> None:
    assert times_of("“十二五”期间,全县贫困人口减少3.4万人。") == [(2015, 2011, "period")]


def test_as_of_on_fact() -> None:
    (f,) = extract("截至9月23日,全县易地扶贫搬迁1200人。", published=PUB).facts
    assert f.as_of == date(2020, 9, 23) and f.year == 2020


def sources_of(body: str, published: date | None = None):
    return [(f.indicator, f.year, f.period_start, f.year_source)
            for f in extract(body, published=published).facts]


def test_an_undated_page_counts_last_year_from_the_year_it_speaks_from() -> None:
    """No publication date: 去年 and a running total count from the latest year the page
    reports as past (a year-end reported as past puts the page in the next year)."""
    body = ("2018年，清溪县脱贫1200户。截至2018年底，全县贫困发生率降至1.2%。"
            "去年累计发放扶贫小额信贷2.5亿元。三年来累计减贫3600户。")
    assert sources_of(body) == [
        ("lifted_households", 2018, None, "explicit"),
        ("poverty_incidence", 2018, None, "explicit"),
        ("poverty_loans", 2018, None, "estimated"),
        ("lifted_households", 2019, None, "estimated"),
    ]


def test_an_undated_page_estimates_nothing_from_plans_plan_names_or_a_start() -> None:
    """A target year, a plan's name and the start of a running total say nothing about
    when an undated page was written: 去年 and the running total stay without a year,
    and so does a present-tense figure (no year in its sentence, no publication date)."""
    body = ("2015年以来，清溪县累计减贫3600户。力争2020年全部脱贫。“十三五”期间搬迁群众。"
            "去年发放扶贫小额信贷2.5亿元。全县现有贫困村12个。")
    assert sources_of(body) == [
        ("lifted_households", None, 2015, "none"),
        ("poverty_loans", None, None, "none"),
        ("poor_villages", None, None, "none"),
    ]


def test_a_publication_date_wins_over_any_estimate() -> None:
    body = "2018年，清溪县脱贫1200户。去年累计发放扶贫小额信贷2.5亿元。"
    assert sources_of(body, date(2021, 3, 1))[1] == ("poverty_loans", 2020, None, "relative")


def test_a_span_after_from_dates_the_figure_at_its_end() -> None:
    """"从2010年到2019年,…减少…" is a span, not the starting year of a from-to pair."""
    body = "从2010年到2019年,全省农村贫困人口减少480万人。"
    assert times_of(body) == [(2019, 2010, "period")]


def test_the_past_year_after_a_speaker_frames_the_paragraph() -> None:
    """"某某介绍,在过去一年里,…" frames the sentences after it with last year."""
    body = ("市扶贫办主任王某介绍,在过去一年里,全市上下合力攻坚。"
            "市级领导分别联系12个贫困县,选派干部驻村帮扶。")
    assert times_of(body, date(2019, 3, 1)) == [(2018, None, "point")]


def test_both_halves_of_a_starting_value_keep_its_year() -> None:
    """"由2015年的3280户11560人,减少到现在的…": the persons are the start's too."""
    body = "全县贫困人口由2015年的3280户11560人,减少到现在的412户1033人。"
    assert times_of(body, date(2018, 6, 1))[:2] == [(2015, None, "point"), (2015, None, "point")]


def test_a_pairs_end_year_dates_later_figures_only_without_a_time_of_their_own() -> None:
    """After "从2015年末的…下降至2018年末的…" a figure keeps the sentence's running total
    ("2015年以来" ends at publication); without one it takes the year the pair ends in."""
    framed = ("2015年以来,清溪县累计减贫1.2万人,贫困发生率从2015年末的12.3%下降至2018年末的"
              "1.1%,实现56个贫困村脱贫出列。")
    assert times_of(framed, date(2019, 7, 1))[-1] == (2019, 2015, "cumulative")
    bare = ("全县贫困人口由2014年的5.2万人减少至2018年的0.8万人,累计减少4.4万人。")
    assert times_of(bare, date(2019, 7, 1))[-1] == (2018, None, "cumulative")


def test_a_yearly_rate_word_rates_only_its_own_clause() -> None:
    """"2014年至2018年五年间,每年减贫超过20万人,累计脱贫112万人": the running total is
    of the span, not a yearly rate, and "五年间" only restates the span."""
    body = "2014年至2018年五年间,全省每年减少贫困人口超过20万人,累计脱贫112万人。"
    assert times_of(body, date(2019, 3, 1))[-1] == (2018, 2014, "period")


def test_a_year_in_an_aside_dates_only_the_aside() -> None:
    """"(2010年不变价)" in brackets says nothing about the figures after it."""
    body = ("按现行农村贫困标准(2010年不变价每人每年2300元)测算,全省贫困人口由2013年的"
            "320万人减少至2017年的85万人,累计减少235万人。")
    assert times_of(body, date(2018, 2, 1))[-1] == (2017, None, "cumulative")


def test_a_year_in_brackets_after_a_figure_dates_it() -> None:
    body = "2020年3月,清溪村实现全部脱贫,村人均纯收入达12380.5元(2019年)。"
    assert times_of(body, date(2020, 6, 1)) == [(2019, None, "point")]


def test_now_has_after_a_dated_clause_is_as_of_publication() -> None:
    """"…2018年减贫150户,现有贫困户420户": "现有" states the figure as of now."""
    body = "2014年底全乡有贫困户1100户,2018年减贫150户,现有建档立卡贫困户420户。"
    assert times_of(body, date(2019, 4, 2)) == [
        (2014, None, "point"), (2018, None, "point"), (2019, None, "point"),
    ]


def test_a_restatement_without_a_year_adds_no_start_to_a_dated_value() -> None:
    """"…从30个减少到6个,2020年以来,对剩余6个贫困县…": the restatement's running total
    has no end year on an undated page, so it must not lend the dated 6 its start."""
    body = ("全省贫困人口从2014年的80万人减少到2019年的5万人,贫困县从30个减少到6个,"
            "2020年以来,对剩余6个贫困县实行挂牌督战。")
    facts = [(f.value, f.year, f.period_start) for f in extract(body).facts
             if f.indicator == "poor_counties"]
    assert facts == [(30, 2014, None), (6, 2019, None)]


def test_a_year_compared_with_is_a_baseline_not_the_date_of_what_follows() -> None:
    body = ("截至2018年底,全县有建档立卡贫困村32个。与2015年精准识别时相比,脱贫8200户、"
            "2.31万人,剩余贫困人口310户、905人,贫困发生率降至0.52%。")
    assert {f.year for f in extract(body, published=date(2021, 5, 6)).facts} == {2018}
    # with no frame, the change is as of publication
    assert times_of("和2014年相比,全乡减少贫困人口3200人。") == [(2020, None, "point")]
    # a year of its own still dates the figure
    assert times_of("与2014年相比,2019年全乡减少贫困人口3200人。") == [(2019, None, "point")]


@pytest.mark.parametrize(
    ("body", "value", "year", "period_start"),
    [
        # a change from one year to another, then "N years" of it: the span is that change
        ("全省农村贫困人口从2013年的410万人减少到2019年的12万人,6年时间减少398万人。",
         3_980_000, 2019, 2013),
        ("该县贫困人口从2012年的4.1万人减少至2015年的1.9万人,4年来共减少贫困人口2.2万人。",
         22_000, 2015, 2012),
        # a stock at a year's end, then "N years" since
        ("2014年底全镇有建档立卡贫困户860户,三年来累计减贫540户,2019年减贫120户。",
         540, 2017, 2014),
        # an as-of year-end is where the span ends
        ("到2019年底,全县五年来累计脱贫2.1万人。", 21_000, 2019, 2014),
        # a span that would end after publication counts back from publication
        ("2018年底全镇有贫困户860户,五年来累计减贫540户。", 540, 2021, None),
    ],
)
def test_a_span_of_years_counts_from_the_year_its_sentence_starts_from(
    body: str, value: float, year: int, period_start: int | None
) -> None:
    (f,) = [f for f in extract(body, published=date(2021, 5, 6)).facts if f.value == value]
    assert (f.year, f.period_start) == (year, period_start)


def test_a_goal_reported_as_reached_does_not_make_a_year_a_target() -> None:
    """"目标任务已接近完成,…减少到2019年底的…": the goal is met and the year-end is
    reported as past, so the undated page speaks from 2020."""
    body = ("目前,全县脱贫目标任务已接近完成,贫困人口从2014年底的3.2万人减少到2019年底的"
            "1200人。去年全县发放扶贫小额信贷2.5亿元。")
    assert sources_of(body)[-1] == ("poverty_loans", 2019, None, "estimated")
    # a goal still ahead makes the years of its sentence targets
    body = ("全县计划,到2021年底贫困人口全部脱贫。2019年全县脱贫1200户。"
            "去年发放扶贫小额信贷2.5亿元。")
    assert sources_of(body)[-1] == ("poverty_loans", 2018, None, "estimated")


REPORT = ("全镇建档立卡贫困户655户2144人,其中2017年脱贫114户407人。今年发放扶贫小额信贷"
          "1.3亿元。")


def test_a_work_report_speaks_from_the_year_its_title_names() -> None:
    """A "2019年…工作汇报" reposted years later reports on 2019: its present-tense
    figures and 今年 are of 2019, not of the repost."""
    def years(title: str | None, published: date | None) -> list[int | None]:
        return [f.year for f in extract(REPORT, title=title, published=published).facts]

    assert years("某镇2019年脱贫攻坚工作汇报", date(2023, 6, 2)) == [2019, 2019, 2017, 2017, 2019]
    assert years("清溪县2018年度扶贫工作总结", None) == [2018, 2018, 2017, 2017, 2018]
    # a title with no year, or with a span, says nothing; nor does a report's year
    # after the publication date
    assert years("某镇脱贫攻坚工作汇报", date(2023, 6, 2)) == [2023, 2023, 2017, 2017, 2023]
    assert years("某镇2014-2019年脱贫攻坚工作总结", date(2023, 6, 2))[0] == 2023
    assert years("某镇2024年脱贫攻坚工作计划的报告", date(2023, 6, 2))[0] == 2023


def test_now_before_what_remains_outranks_the_paragraphs_earlier_year() -> None:
    """"2018年脱贫144户。全镇现剩余212户751人未脱贫": 现 dates what remains now, not in
    the year that opened the paragraph."""
    body = "2018年,全镇脱贫144户530人。全镇现剩余212户751人未脱贫,贫困发生率2.45%。"
    assert [f.year for f in extract(body, published=PUB).facts] == [2018, 2018, 2020, 2020, 2020]
    # 实现 is no 现: a target for next year stays a target
    body = "明年上半年剩余贫困村全部出列,实现剩余的2.3万贫困人口脱贫。"
    assert extract(body, published=PUB).facts == []
    assert find_times("实现有效衔接", PUB) == []


def test_a_year_end_written_with_the_year_twice_is_one_time() -> None:
    """"2012年年底" is "2012年底": one point, a year-end for an as-of, and the values
    of a from-to pair written with it are read with their years."""
    (t,) = find_times("截至2019年年末", PUB)
    assert (t.year, t.as_of) == (2019, date(2019, 12, 31))
    body = "全省贫困人口从2013年年底的86万人减少到2019年年底的3.1万人,贫困发生率由12.4%降至0.5%。"
    assert times_of(body) == [(2013, None, "point"), (2019, None, "point"),
                              (2013, None, "point"), (2019, None, "point")]


def test_a_value_restated_with_only_a_guessed_year_is_one_fact() -> None:
    """A headline's "5年减贫120万人" (as of publication) and the body's "…5年时间减少
    120万人" (up to 2019) are one figure, dated by the body; a restatement under an
    estimated running total ("2020年以来,对剩余9个…") keeps the pair's year and adds
    no start to it."""
    body = ("全省5年减贫120万人。全省农村贫困人口从2014年的150万人减少到2019年的30万人,"
            "5年时间减少120万人。")
    facts = [(f.value, f.year, f.period_start)
             for f in extract(body, published=date(2020, 3, 1)).facts
             if f.indicator == "lifted_population"]
    assert facts == [(1_200_000, 2019, 2014)]
    body = ("全省贫困县从2014年的66个减少到2019年底的9个,2020年以来,对剩余9个贫困县挂牌督战,"
            "截至2020年8月底,新识别监测户1200户。")
    facts = [(f.value, f.year, f.period_start) for f in extract(body).facts
             if f.indicator == "poor_counties"]
    assert facts == [(66, 2014, None), (9, 2019, None)]


def test_last_year_and_a_whole_year_of_figures_are_one_year_on_an_undated_page() -> None:
    """"去年,全市减贫…" and "2018年,全市投入…3.2亿元" on one undated page report the same
    year: it speaks from 2019. A year opening a sentence with no figures ("2019年,是…
    关键年") is the year it speaks from, and a page without 去年 keeps the year it writes."""
    body = "去年全市减少贫困人口4200人。2018年,全市投入扶贫资金3.2亿元。"
    assert sources_of(body)[0] == ("lifted_population", 2018, None, "estimated")
    body = ("去年全市减少贫困人口4200人。2018年,全市投入扶贫资金3.2亿元。"
            "2019年,是脱贫攻坚的关键年。")
    assert sources_of(body)[0] == ("lifted_population", 2018, None, "estimated")
    body = "2018年,全市投入扶贫资金3.2亿元。2019年,是脱贫攻坚的关键年。去年全市减少贫困人口4200人。"
    assert sources_of(body)[-1] == ("lifted_population", 2018, None, "estimated")
    body = "2018年,全市投入扶贫资金3.2亿元。目前全市累计减少贫困人口4200人。"
    assert sources_of(body)[-1] == ("lifted_population", None, None, "none")


def test_a_figure_the_place_once_had_is_not_dated_by_publication() -> None:
    """"全省原有58个贫困县" counts what there was before: with no year of its own it has
    none; the figures after it are as of publication or of their own year."""
    body = "全省原有58个贫困县,目前已有41个实现脱贫摘帽。全省现有贫困村12个。"
    assert times_of(body) == [(None, None, None), (2020, None, "point"), (2020, None, "point")]
    assert times_of("2014年全省原有58个贫困县。") == [(2014, None, "point")]


def test_a_plan_span_opening_a_paragraph_dates_the_review_in_the_paragraphs_after() -> None:
    body = ("县长在报告中说:“十三五”时期,全县经济社会发展取得显著成绩。\n"
            "他说,全县易地扶贫搬迁1.2万人,改造危房3400户,38个贫困村出列。\n"
            "今年全县贫困发生率为0.3%。")
    facts = {f.indicator: (f.year, f.period_start)
             for f in extract(body, title="清溪县政府工作报告", published=date(2021, 1, 15)).facts}
    assert facts["relocated_population"] == (2020, 2016)
    assert facts["housing_renovated"] == (2020, 2016)
    assert facts["villages_exited"] == (2020, 2016)
    assert facts["poverty_incidence"] == (2021, None)  # a time of its own


def test_a_plan_span_inside_a_paragraph_frames_only_that_paragraph() -> None:
    body = ("全县修通了村组道路。“十三五”期间,全县累计新建村道800公里。\n"
            "全县投入产业扶贫资金2.6亿元。")
    (fund,) = [f for f in extract(body, title="清溪县脱贫攻坚", published=None).facts
               if f.indicator == "industry_fund"]
    assert fund.year is None


@pytest.mark.parametrize("dateline", ["date 2018-09 【清溪台】", "2018年9月", "2018.09 本刊"])
def test_a_dateline_with_a_month_but_no_day_dates_last_year_and_now(dateline: str) -> None:
    body = "去年全省有16个贫困县脱贫摘帽。目前全省仍有贫困县40个。"
    for page in (f"{dateline}\n{body}", body):  # as the body's first line, or read as the title
        ex = extract(page, title=dateline if page == body else "全省脱贫攻坚")
        assert [(f.indicator, f.year) for f in ex.facts] == [
            ("counties_exited", 2017), ("poor_counties", 2018)]


def test_a_first_line_that_is_a_sentence_gives_no_publication_year() -> None:
    ex = extract("2018年9月全省又有16个贫困县脱贫摘帽\n目前全省仍有贫困县40个。")
    assert [(f.indicator, f.year) for f in ex.facts if f.indicator == "poor_counties"] == [
        ("poor_counties", None)]


def test_a_one_clause_sentence_opened_by_a_year_dates_only_its_own_figure() -> None:
    def years(first: str) -> dict[str, int | None]:
        body = f"该村辖7个村民小组。{first}按照新的识别标准,该村共有建档立卡贫困户52户160人。"
        ex = extract(body, title="清溪县石门村脱贫纪实", published=date(2017, 10, 9))
        return {f.indicator: f.year for f in ex.facts}

    assert years("2016年底农民人均纯收入3100元。")["poor_households"] == 2017
    # with a clause after it the year frames the paragraph, as before
    assert years("2016年底,全村农民人均纯收入3100元。")["poor_households"] == 2016


def test_a_year_describing_the_places_of_an_earlier_clause_dates_only_them() -> None:
    body = "加上2019年宣布退出的清溪县和石门县,全省的38个贫困县中,已有12个摘下贫困帽子。"
    ex = extract(body, title="湖南省脱贫攻坚", published=date(2020, 5, 8))
    assert {(f.indicator, f.value, f.year) for f in ex.facts} == {
        ("poor_counties", 38, 2020), ("counties_exited", 12, 2020)}


def test_a_year_heading_a_list_of_figures_dates_the_whole_list() -> None:
    body = "目前,2019年认定的监测户6户20人,边缘户30户98人,均已消除风险。"
    ex = extract(body, title="清溪镇脱贫攻坚", published=date(2021, 3, 2))
    assert {f.year for f in ex.facts if f.indicator == "monitored_households"} == {2019}


def test_a_figure_after_a_pair_whose_end_took_the_verbs_to_is_dated_by_the_sentence() -> None:
    body = "近年来,全县农民人均纯收入从2014年的3100元增加到2019年的9800元;完成1200人易地扶贫搬迁。"
    ex = extract(body, title="清溪县脱贫攻坚", published=date(2020, 6, 1))
    assert {(f.indicator, f.value): f.year for f in ex.facts} == {
        ("per_capita_income", 3100): 2014, ("per_capita_income", 9800): 2019,
        ("relocated_population", 1200): 2020}


def test_now_before_a_pair_stands_for_the_pairs_end() -> None:
    body = "目前,全省贫困人口已从2012年底的520万人减少到2019年底的48万人,472万人脱贫。"
    ex = extract(body, title="某省脱贫攻坚", published=date(2020, 3, 1))
    assert [f.year for f in ex.facts if f.indicator == "lifted_population"] == [2019]


def test_a_day_without_a_month_is_in_the_month_of_the_date_before_it() -> None:
    body = ("11月20日,某省宣布最后7个贫困县退出贫困县序列。\n"
            "加上18日另一省宣布最后6个贫困县脱贫摘帽,全国贫困县清零在即。")
    years = [(f.value, f.year) for f in extract(body, title="脱贫攻坚").facts
             if f.indicator == "counties_exited"]
    assert years == [(7, None), (6, None)]  # an undated page that writes no year
    dated = "2020年是脱贫攻坚收官之年。\n" + body
    years = [(f.value, f.year) for f in extract(dated, title="脱贫攻坚").facts
             if f.indicator == "counties_exited"]
    assert years == [(7, 2020), (6, 2020)]


@pytest.mark.parametrize("text", ["国家统计局23日公布", "在30日内完成"])
def test_a_day_alone_with_no_month_before_it_is_no_time(text: str) -> None:
    assert find_times(f"2019年。{text}", PUB) == find_times("2019年。", PUB)
