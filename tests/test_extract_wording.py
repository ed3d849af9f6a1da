"""Which sentence shapes of real pages yield which indicator and value.

Every sentence here is written for these tests, in the shape real pages use
(village profiles, counts of exited counties, relocation tallies, not-facts).
"""

from __future__ import annotations

from datetime import date

import pytest

from fupin.tasks.extract import extract

PUB = date(2020, 12, 1)


def brief(body: str, published: date | None = PUB) -> list[tuple[str, float]]:
    ex = extract(body, title=None, published=published)
    for f in ex.facts:
        assert body[f.char_start : f.char_end] == f.evidence
    return [(f.indicator, f.value) for f in ex.facts]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a bracket after the count ("尚有贫困村42个(其中…)") is no measure word
        ("目前全县尚有贫困村42个(其中深度贫困村30个)。", [("poor_villages", 42)]),
        # a count whose noun is a bare 县/村 joins the list after it, and the
        # event after the list is its verb
        ("全县还有38个村、1.2万人未脱贫摘帽。",
         [("poor_villages", 38), ("poor_population", 12_000)]),
        ("2019年,112个村、9870人精准脱贫出列。",
         [("villages_exited", 112), ("lifted_population", 9870)]),
        ("全州7个县(市)、402个贫困村全部脱贫。",
         [("counties_exited", 7), ("villages_exited", 402)]),
        # 脱贫 after "N个县全部" is the verb, not what is counted
        ("截至11月,这24个县全部脱贫摘帽。", [("counties_exited", 24)]),
    ],
)
def test_counts_of_bare_villages_and_counties(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a count with no noun before an event counts what the sentence counted last
        ("全省原有58个贫困县,截至去年底,已有41个实现脱贫摘帽,未摘帽县只剩17个。",
         [("poor_counties", 58), ("counties_exited", 41), ("poor_counties", 17)]),
        ("全省37个扶贫工作重点县中,已有12个摘掉了贫困帽子。",
         [("poor_counties", 37), ("counties_exited", 12)]),
        # ... but not when a noun of its own stands in between, nor with no count before
        ("全市有9个贫困县,另有4个乡镇全部脱贫。", [("poor_counties", 9)]),
        ("全省已有15个实现脱贫摘帽。", []),
        ("全市5个国家重点贫困县(区)均已实现脱贫摘帽。", [("counties_exited", 5)]),
        # a short bracket after the cue ("贫困县(市、区)") does not hide the count
        ("全省有贫困县(市、区)23个。", [("poor_counties", 23)]),
        # an event after 和 belongs to the next noun, not to the count
        ("全国剩余41个贫困县和脱贫难度大的900个贫困村挂牌督战。",
         [("poor_counties", 41), ("poor_villages", 900)]),
    ],
)
def test_counts_of_counties_that_exited_or_remain(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the head count of a village profile, after its groups and a comma
        ("石岭村下辖9个村民小组,共有415户1730人,耕地2000亩。", [("total_population", 1730)]),
        ("全村共有3个自然村,5个村民小组,268户,1102人。", [("total_population", 1102)]),
        # a rate that fell to nothing, the clause's 率 some way back
        ("全县贫困发生率从2014年的18.62%降为零。",
         [("poverty_incidence", 18.62), ("poverty_incidence", 0)]),
        # relocation tallies with a bare 搬迁 and a verb of moving
        ("建成安置点6个,搬迁318户1264人。",
         [("relocated_households", 318), ("relocated_population", 1264)]),
        ("该村已有63户贫困户迁至县城安置点。", [("relocated_households", 63)]),
        ("两年来,全县1.4万贫困群众搬出大山。", [("relocated_population", 14_000)]),
        # only the poor are relocated: pupils moving into a new school are not
        ("新校舍落成后,全校420名学生搬进新教室。", []),
        # a 其中 part after "其中:" alone is still a part of the flow before it
        ("全县实施易地扶贫搬迁4200人1050户,其中:建档立卡贫困人口3100人780户。",
         [("relocated_population", 4200), ("relocated_households", 1050),
          ("relocated_population", 3100), ("relocated_households", 780)]),
        ("财政贴息支持890户贫困户贷款资金1.6亿元。",
         [("poor_households", 890), ("poverty_loans", 160_000_000)]),
        ("全省选派2.3万名机关干部到贫困村和软弱涣散村担任第一书记。",
         [("first_secretaries", 23_000)]),
    ],
)
def test_village_profiles_relocation_loans_and_secretaries(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # town dwellers' income is no rural per-capita income
        ("全县城镇居民人均可支配收入26410元,农村居民人均可支配收入9870元。",
         [("per_capita_income", 9870)]),
        # a poverty line written with 人民币 before its 标准
        ("按照农民人均纯收入2736元人民币的国家扶贫标准,全县有贫困人口4.2万人。",
         [("poor_population", 42_000)]),
        # a part of a plan is a plan; a non-registered part is no poor household
        ("全县计划搬迁2100户9300人,其中建档立卡户1900户8500人,非建档立卡户200户800人。", []),
        # a part of a stock with no indicator of its own is a subgroup, not the stock
        ("全村辖8个村民小组1120户4310人,其中少数民族410户1380人。",
         [("total_population", 4310)]),
        # targets: 确保, 将有, and an event of a share of the count
        ("确保今年全省减少贫困人口60万人以上。", []),
        ("全省37个贫困县今年将有20个摘帽。", [("poor_counties", 37)]),
        ("全国832个贫困县有一半的县摘帽了。", [("poor_counties", 832)]),
        # beneficiaries of one measure are not the poverty stock (TAXONOMY)
        ("光伏产业带动贫困户3600人增收。", []),
        ("全县扶持4120户贫困户发展产业。", []),
        ("小额信贷惠及建档立卡贫困人口1.2万人。", []),
        ("全县还有贫困户2300户。", [("poor_households", 2300)]),
    ],
)
def test_not_facts(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # households and persons that fell to new households and persons: each
        # end value pairs with the start value of its own unit
        ("全县贫困人口由2015年的9210户31870人,减少到2019年的860户2150人。",
         [("poor_households", 9210), ("poor_population", 31_870),
          ("poor_households", 860), ("poor_population", 2150)]),
        ("贫困人口由8702户、25116人减少至8630户、24980人。",
         [("poor_households", 8702), ("poor_population", 25_116),
          ("poor_households", 8630), ("poor_population", 24_980)]),
        # a growth rate after a comma is no end value of the pair before it
        ("人均可支配收入从2016年的8100元增长到2020年的11250元,增长38.9%。",
         [("per_capita_income", 8100), ("per_capita_income", 11_250)]),
        # where a planned change starts is a fact, where it should end is not
        ("贫困发生率将从2018年的36.5%下降到19.8%。", [("poverty_incidence", 36.5)]),
        # a rate bounded from above is the exit standard
        ("全乡8个贫困村贫困发生率均降至2%以下。", [("poor_villages", 8)]),
        # 退出 right before households and persons is the exit of households
        ("2019年,经动态调整,退出23户、61人。",
         [("lifted_households", 23), ("lifted_population", 61)]),
        # the verb before a list lends itself to the bare items after it
        ("全县累计退出贫困村96个(其中插花村3个),贫困人口21400户90310人。",
         [("villages_exited", 96), ("lifted_households", 21_400),
          ("lifted_population", 90_310)]),
        ("全县累计脱贫退出贫困人口6100户2.4万人。",
         [("lifted_households", 6100), ("lifted_population", 24_000)]),
        # ... but not to a figure with its own verb
        ("全县减贫4200人,贫困人口还剩1900人。",
         [("lifted_population", 4200), ("poor_population", 1900)]),
    ],
)
def test_changes_and_shared_verbs(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # newly identified households join the stock; they are not the stock
        ("今年新识别贫困人口87户301人,返贫12户40人。", []),
        # a year after the plans before it in the sentence is planned too
        ("2019年计划脱贫96户310人,2020年兜底保障脱贫14户22人。", []),
        # a part of a planned whole no rule read is a plan too
        ("2017年,全市下达年度搬迁计划6万人,其中建卡贫困人口4.5万人、随迁人口1.5万人。", []),
        # ... while a part with an indicator of its own under a plain whole stays
        ("全省有特困片区县(市、区)41个,其中贫困县(市、区)19个。", [("poor_counties", 19)]),
    ],
)
def test_new_entrants_and_parts_of_plans(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("当时,处于贫困线以下的236户村民生活困难。", [("poor_households", 236)]),
        ("全州还有9个未脱贫村。", [("poor_villages", 9)]),
        # what is left is a fact however small
        ("全镇未脱贫3户7人。", [("poor_households", 3), ("poor_population", 7)]),
        ("村民人均年收入达到约7600元。", [("per_capita_income", 7600)]),
        # a word inside a bracketed aside before the number is no cue of it
        ("1985年,全国贫困发生率(按农业人口计)超过60%。", [("poverty_incidence", 60)]),
        ("按照人均年收入少于2300元人民币的中国贫困线标准,全国有贫困人口9899万人。",
         [("poor_population", 98_990_000)]),
    ],
)
def test_more_cues_of_village_and_national_pages(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # persons counted by mouths (口人), as township reports write them
        ("崆峒区柳湖镇全镇共有3210户11820口人,建档立卡贫困户402户1396口人。",
         [("total_population", 11820), ("poor_households", 402), ("poor_population", 1396)]),
        # 贫穷人口 (Hong Kong and Taiwan wording) is the poverty stock too
        ("据统计部门的数字,全国农村仍有5120万的贫穷人口。", [("poor_population", 51200000)]),
        ("據統計,全國農村仍有5120萬的貧窮人口。", [("poor_population", 51200000)]),
    ],
)
def test_other_words_for_persons_and_for_the_poor(body: str, expected: list) -> None:
    assert sorted(brief(body)) == sorted(expected)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a bracket opening with 含/其中/包括 holds a part of the count before it
        ("全省贫困县(市、区)23个(含2个省定贫困县),贫困村1800个。",
         [("poor_counties", 23), ("poor_villages", 1800)]),
        ("全市共有国家级贫困县6个(其中3个深度贫困县)。", [("poor_counties", 6)]),
    ],
)
def test_a_part_in_brackets_is_no_count_of_its_own(body: str, expected: list) -> None:
    assert sorted(brief(body)) == sorted(expected)


@pytest.mark.parametrize(
    "body",
    [
        "柳湖镇青松村居住着三个民族214户、986人,三分之一是贫困户。",
        "柳湖鎮青松村居住著三個民族214戶、986人,三分之一是貧困戶。",
        "柳湖镇青松村生活着268户1013人。",
    ],
)
def test_those_living_in_a_village_are_its_population(body: str) -> None:
    got = brief(body)
    assert ("total_population", 986) in got or ("total_population", 1013) in got


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("2016年,全省向贫困村选派1830名“第一书记”,实现全覆盖。", [("first_secretaries", 1830)]),
        ("2019年末全县还有3150户「建档立卡贫困户」。", [("poor_households", 3150)]),
    ],
)
def test_a_cue_in_quotes_after_its_count_still_names_it(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "2017年,全国有690个贫困县启动统筹整合使用财政涉农资金试点。",
        "2019年全县有1260户贫困户参与光伏扶贫项目。",
    ],
)
def test_those_taking_part_in_one_measure_are_not_the_stock(body: str) -> None:
    assert brief(body) == []
