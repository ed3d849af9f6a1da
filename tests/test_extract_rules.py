"""Rule families on short sentences written for these tests."""

from __future__ import annotations

from datetime import date

import pytest

from fupin.tasks.extract import extract
from fupin.tasks.extract.rules import find_cues, lexicon

PUB = date(2019, 6, 30)


def facts(body: str, **kw):
    kw.setdefault("published", PUB)
    ex = extract(body, **kw)
    for f in ex.facts:
        assert body[f.char_start : f.char_end] == f.evidence
        assert f.evidence in f.sentence and f.sentence in body
    return ex.facts


def brief(body: str, **kw) -> list[tuple[str, float]]:
    return [(f.indicator, f.value) for f in facts(body, **kw)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("全县贫困发生率为3.2%。", [("poverty_incidence", 3.2)]),
        (
            "全县总人口31万,其中农业人口26.4万人。",
            [("total_population", 310_000), ("agricultural_population", 264_000)],
        ),
        ("驻村第一书记215人。", [("first_secretaries", 215)]),
        ("全年转移就业1.3万人。", [("employment", 13_000)]),
        ("当年发放扶贫小额信贷2.1亿元。", [("poverty_loans", 210_000_000)]),
        ("到位帮扶资金达4600万元。", [("assistance_fund", 46_000_000)]),
        ("全县农民人均纯收入为7021元。", [("per_capita_income", 7021)]),
    ],
)
def test_cue_left(body: str, expected: list) -> None:
    assert brief(body) == expected


def test_cue_right_and_unit_decides_between_shared_cues() -> None:
    assert brief("全县共识别352户贫困户。") == [("poor_households", 352)]
    assert brief("全县还有1.7万贫困人口。") == [("poor_population", 17_000)]


def test_list_gives_households_and_persons() -> None:
    fs = facts("全县有建档立卡贫困户2.31万户8.02万人。")
    assert [(f.indicator, f.value, f.rule) for f in fs] == [
        ("poor_households", 23_100, "cue_left"),
        ("poor_population", 80_200, "list"),
    ]
    assert fs[1].evidence == "建档立卡贫困户2.31万户8.02万人"


def test_event_turns_stock_into_flow() -> None:
    got = brief("去年全县57个贫困村全部退出,1.2万贫困人口稳定脱贫。")
    assert got == [("villages_exited", 57), ("lifted_population", 12_000)]


def test_event_after_a_coordinated_list() -> None:
    got = brief("今年3个贫困村和4100名贫困人口如期脱贫退出。")
    assert got == [("villages_exited", 3), ("lifted_population", 4100)]


def test_event_with_bare_counter() -> None:
    assert brief("全省今年有12个县退出贫困县序列。") == [("counties_exited", 12)]
    assert brief("全市5县(区)全部摘帽。") == [("counties_exited", 5)]


def test_noun_shared_backwards_in_a_list() -> None:
    got = brief("确定了412户1377人的搬迁对象。")
    assert got == [("relocated_households", 412), ("relocated_population", 1377)]


def test_subset_inherits_the_flow_it_is_part_of() -> None:
    fs = facts("累计改造农村危房3.6万户,其中建档立卡贫困户1.1万户。")
    assert [(f.indicator, f.value, f.subset_of) for f in fs] == [
        ("housing_renovated", 36_000, None),
        ("housing_renovated", 11_000, 0),
    ]
    assert fs[1].evidence == "其中建档立卡贫困户1.1万户"


def test_subset_without_cue_inherits_money_indicator() -> None:
    fs = facts("累计投入财政专项扶贫资金9.8亿元,其中县级财政列支1.2亿元。")
    assert [(f.indicator, f.value, f.subset_of, f.rule) for f in fs] == [
        ("fiscal_poverty_fund", 980_000_000, None, "cue_left"),
        ("fiscal_poverty_fund", 120_000_000, 0, "subset"),
    ]


def test_subset_of_a_stock_keeps_its_own_indicator() -> None:
    fs = facts("全县总人口31万,其中农业人口26.4万人。")
    assert fs[1].indicator == "agricultural_population"
    assert fs[1].subset_of == 0


def test_from_to_second_value() -> None:
    fs = facts("农民人均纯收入从2015年的6100元增加到2018年的8900元。")
    assert [(f.indicator, f.value, f.year) for f in fs] == [
        ("per_capita_income", 6100, 2015),
        ("per_capita_income", 8900, 2018),
    ]


def test_purpose_of_money() -> None:
    got = brief("县财政每年安排3000万元用于产业发展。")
    assert got == [("industry_fund", 30_000_000)]


@pytest.mark.parametrize(
    "body",
    [
        "从增收、减支、搬迁、服务、保障5个方面推进工作。",  # count with no cue
        "投资5.1亿元建设引黄灌溉工程。",  # money, but not poverty funds
        "贫困户住院每天给予津贴50元。",  # money near a household cue
        "选聘建档立卡贫困户生态护林员900名。",  # the number counts 护林员, not 贫困户
        "带动贫困群众养牛2.5万头。",  # 头 is not people
        "处级干部挂钩3户贫困户。",  # anecdote, below min_plausible
        "每个村整合资金不少于300万元。",  # distributive
        "召回不称职第一书记12名。",  # negative context
        "聘请专业机构为40个深度贫困村编制规划。",  # excluded compound
        "为贫困户制定“一户一策”帮扶计划。",  # idiom
        "有70%的贫困群众依靠产业实现稳定脱贫。",  # percent is not a count
    ],
)
def test_no_garbage(body: str) -> None:
    assert brief(body) == []


def test_skips_are_recorded() -> None:
    body = "每个村整合资金不少于300万元。召回不称职第一书记12名。"
    ex = extract(body, published=PUB)
    assert {s.reason for s in ex.skips} == {"distributive", "negative_context"}
    for s in ex.skips:
        assert s.text == body[s.char_start : s.char_end]


def test_scrubbed_number_is_a_skip_not_a_fact() -> None:
    body = "截至年底,该市个贫困村全部退出,累计选派名第一书记。"
    ex = extract(body, published=PUB)
    assert ex.facts == []
    reasons = [s.reason for s in ex.skips]
    assert reasons.count("scrubbed_number") == 2
    assert "scrubbed_year" in reasons


def test_restatement_is_deduplicated_and_fills_time() -> None:
    body = (
        "全县累计投入产业扶贫资金2.6亿元。\n"
        "2015年以来全县累计投入财政专项扶贫资金2.6亿元用于产业发展。"
    )
    fs = facts(body, published=date(2020, 5, 1))
    assert [(f.indicator, f.value, f.year, f.period_start) for f in fs] == [
        ("industry_fund", 260_000_000, 2020, 2015)
    ]


def test_repeated_body_gives_each_fact_once() -> None:
    para = "全县贫困发生率为3.2%,有建档立卡贫困户2.31万户8.02万人。\n"
    assert len(facts(para * 2)) == 3


def test_keywords_are_computed() -> None:
    ex = extract("全县扶贫产业发展迅速,扶贫产业带动贫困户增收。" * 3)
    assert 0 < len(ex.keywords) <= 10
    words = [w for w, _ in ex.keywords]
    assert "扶贫" in words or "产业" in words
    assert all(isinstance(s, float) and s > 0 for _, s in ex.keywords)


def test_confidence_in_range_and_rule_named() -> None:
    for f in facts("全县有建档立卡贫困户2.31万户8.02万人,带动贫困户900户增收。"):
        assert 0 < f.confidence <= 1
        assert f.rule in {"cue_left", "cue_right", "list", "event", "subset", "from_to", "purpose"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("今年全县将摘帽3个贫困县。", "plan_or_target"),
        ("全市计划明年实现脱贫5000人。", "plan_or_target"),
        ("力争贫困发生率降至2%以下。", "plan_or_target"),
        ("以农民人均纯收入2300元的扶贫标准衡量。", "threshold"),
        ("全县把人均纯收入低于3000元的农户列为帮扶对象。", "threshold"),
        ("按照扶贫标准2300元计算。", None),
        ("每户补助危房改造资金2万元。", None),
    ],
)
def test_plans_thresholds_and_allowances_are_not_facts(body: str, reason: str | None) -> None:
    ex = extract(body, published=PUB)
    assert ex.facts == [], ex.facts
    assert reason is None or reason in [s.reason for s in ex.skips]


def test_income_next_to_a_poverty_line_is_still_a_fact() -> None:
    body = "按照扶贫标准2300元计算，全县农民人均纯收入8200元。"
    assert brief(body) == [("per_capita_income", 8200)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("去年全市发放精准扶贫专项贷款3.2亿元。", [("poverty_loans", 320_000_000)]),
        ("全县累计发放贷款2.1亿元。", [("poverty_loans", 210_000_000)]),
        ("下达财政专项扶贫发展资金1.5亿元。", [("fiscal_poverty_fund", 150_000_000)]),
        ("全县搬迁安置生态移民1200户5300人。",
         [("relocated_households", 1200), ("relocated_population", 5300)]),
        ("全县贫困人口仅1.2万人。", [("poor_population", 12_000)]),
        ("去年全省24个贫困县达到摘帽标准。", [("counties_exited", 24)]),
        ("全县贫困人口由建档立卡时的5.2万人减少到3100人。",
         [("poor_population", 52_000), ("poor_population", 3100)]),
    ],
)
def test_cue_variants_of_real_pages(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("全乡还有1.2万人未脱贫。", [("poor_population", 12_000)]),
        ("全县未脱贫人口1200人。", [("poor_population", 1200)]),
        ("全县尚有贫困村70个，累计退出贫困村13个。",
         [("poor_villages", 70), ("villages_exited", 13)]),
        ("全区20个旗县退出国家级贫困旗县序列。", [("counties_exited", 20)]),
        ("全州减贫120万。", [("lifted_population", 1_200_000)]),
        ("贫困村脱贫出列12个，贫困人口脱贫退出12078名。",
         [("villages_exited", 12), ("lifted_population", 12_078)]),
    ],
)
def test_negated_events_and_exit_wordings(body: str, expected: list) -> None:
    assert brief(body) == expected


def test_pairs_in_one_sentence_share_the_first_pairs_years() -> None:
    body = ("全州贫困人口从2014年的34.36万人减少到2018年底的4.5万人，"
            "贫困村从644个减少到188个，贫困发生率从12.25%下降到2.5%。")
    got = [(f.indicator, f.value, f.year) for f in facts(body)]
    assert got == [
        ("poor_population", 343_600, 2014), ("poor_population", 45_000, 2018),
        ("poor_villages", 644, 2014), ("poor_villages", 188, 2018),
        ("poverty_incidence", 12.25, 2014), ("poverty_incidence", 2.5, 2018),
    ]  # fmt: skip


def test_pair_under_a_since_frame_starts_in_the_frames_year() -> None:
    body = "2013年以来，全省贫困发生率由21.5%下降到2.1%。"
    got = [(f.value, f.year) for f in facts(body, published=date(2019, 5, 1))]
    assert got == [(21.5, 2013), (2.1, 2019)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("全省贫困发生率从6.3%降为零。", [("poverty_incidence", 6.3), ("poverty_incidence", 0)]),
        ("全县贫困发生率下降为零。", [("poverty_incidence", 0)]),
        ("全县实现零的突破，零星种植玉米。", []),
        ("全省三县脱贫摘帽。", [("counties_exited", 3)]),
        ("全县1.2万人脱贫。", [("lifted_population", 12_000)]),
        ("全省1个以上增收脱贫。", []),
    ],
)
def test_zero_and_counts_before_an_event_word(body: str, expected: list) -> None:
    assert brief(body) == expected


def test_a_total_after_a_pair_takes_the_sentences_own_year() -> None:
    body = "截至2018年末，全省贫困人口从2013年末的310万人减少至42万人，累计减少268万人。"
    got = [(f.indicator, f.value, f.year) for f in facts(body, published=date(2019, 2, 1))]
    assert got == [
        ("poor_population", 3_100_000, 2013), ("poor_population", 420_000, 2018),
        ("lifted_population", 2_680_000, 2018),
    ]  # fmt: skip


def test_years_counted_back_from_now_run_to_publication() -> None:
    fs = facts("四年来全乡累计减贫300户1250人。", published=date(2018, 6, 1))
    assert [(f.value, f.year, f.time_kind) for f in fs] == [
        (300, 2018, "cumulative"), (1250, 2018, "cumulative")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("全区贫困人口由2013年底的157万减少到2019年底的1.6万。",
         [("poor_population", 1_570_000), ("poor_population", 16_000)]),
        ("全区31个国贫旗县全部“摘帽”。", [("counties_exited", 31)]),
        ("全市贫困面由2013年的29.93%下降到16.18%。",
         [("poverty_incidence", 29.93), ("poverty_incidence", 16.18)]),
    ],
)
def test_bare_counts_before_change_verbs_quoted_events_and_rate_synonyms(
    body: str, expected: list
) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("全县未脱贫村12个。", [("poor_villages", 12)]),
        ("全县脱贫人口1.1万户、2.65万人。",
         [("lifted_households", 11_000), ("lifted_population", 26_500)]),
        ("全市存在返贫风险的1200名群众得到帮扶。", [("monitored_population", 1200)]),
        ("全县贫困户数降至800户，贫困人口数为2600人。",
         [("poor_households", 800), ("poor_population", 2600)]),
        ("全省贫困人口累计减少超过300万人。", [("lifted_population", 3_000_000)]),
    ],
)
def test_more_wordings_of_real_pages(body: str, expected: list) -> None:
    assert brief(body) == expected


def test_the_start_or_end_of_a_five_year_plan_is_one_year() -> None:
    fs = facts("“十三五”初全县贫困人口3.2万人，“十二五”末全县贫困村40个。",
               published=date(2019, 5, 1))
    assert [(f.value, f.year) for f in fs] == [(32_000, 2016), (40, 2015)]


def test_zero_households_left_is_a_fact_but_three_assisted_is_an_anecdote() -> None:
    assert brief("全镇未脱贫0户0人。") == [("poor_households", 0), ("poor_population", 0)]
    assert brief("县长挂钩帮扶3户贫困户。") == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("全州还有3个未摘帽贫困县、33个未退出贫困村。",
         [("poor_counties", 3), ("poor_villages", 33)]),
        ("全县未脱贫人口仅剩498户、1072人。",
         [("poor_households", 498), ("poor_population", 1072)]),
        ("全省有51个扶贫工作重点县。", [("poor_counties", 51)]),
        ("全县9个县退出贫困县序列。", [("counties_exited", 9)]),
    ],
)
def test_what_has_not_exited_yet_is_the_remaining_stock(body: str, expected: list) -> None:
    assert brief(body) == expected


def test_every_cue_pattern_is_found_in_a_sentence_whatever_else_it_holds() -> None:
    """The sentences are screened with one scan for all patterns; a pattern the
    screen cannot hold (one that starts with a lookbehind) is still looked for."""
    figures = ["全村共有120户450人。", "截至去年底，全县未脱贫村还有3个。",
               "贫困人口累计减少1.2万人，退出贫困村15个，摘帽贫困县2个。", "改造农村危房800户。",
               "发放扶贫贷款3亿元。", "整合到位涉农资金2亿元，扶贫标准线以下的农户100户。",
               "全镇新建道路12公里。"]
    body, spans = "", []
    for sentence in figures:  # apart: only the figure sentences are searched
        spans.append((len(body), len(body) + len(sentence)))
        body += sentence + "这里风景很好。"
    lx = lexicon()
    one_by_one = sorted((m.start(), m.end(), codes) for a, b in spans
                        for rx, codes in lx.patterns for m in rx.finditer(body, a, b))
    assert len({codes for _, _, codes in one_by_one}) >= 8
    found = sorted((c.start, c.end, c.codes) for c in find_cues(body, [], lx, spans))
    assert found == one_by_one
