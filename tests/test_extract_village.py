"""Village pages: a village named in the lead is what the page's figures are about."""

from __future__ import annotations

from datetime import date

from fupin.tasks.extract import extract

PUB = date(2019, 6, 1)


def facts(body: str, title: str | None = None):
    return extract(body, title=title, published=PUB).facts


def regions_of(got) -> set[tuple[str | None, str | None]]:
    return {(f.region, f.region_code) for f in got}


def test_a_village_named_under_its_township_in_the_lead_is_the_page_subject() -> None:
    body = (
        "记者日前走进崆峒区柳湖镇石桥村,看到一排排新房。\n"
        "全村共有农户420户1580人,建档立卡贫困户36户121人,贫困发生率降至0.5%。"
    )
    got = facts(body)
    assert len(got) >= 3
    assert regions_of(got) == {("石桥村", "620802105000/石桥村")}


def test_a_village_opening_a_paragraph_of_the_lead_is_the_page_subject() -> None:
    body = (
        "市农业局驻村工作队认真开展帮扶工作,现将情况报告如下:\n"
        "石桥村位于崆峒区柳湖镇东部,距镇政府6公里。\n"
        "全村共有农户420户1580人,建档立卡贫困户36户121人。"
    )
    got = facts(body, title=None)
    assert len(got) >= 2
    assert {f.region for f in got} == {"石桥村"}
    assert all(f.region_code and f.region_code.startswith("620802") for f in got)


def test_a_community_under_its_subdistrict_is_a_village_level_place() -> None:
    body = (
        "崆峒区东关街道北苑社区扎实做好帮扶工作。\n"
        "全社区共有建档立卡贫困户28户75人,已全部脱贫。"
    )
    got = facts(body)
    assert got and regions_of(got) == {("北苑社区", "620802001000/北苑社区")}


def test_a_village_in_the_lead_of_a_county_page_does_not_take_its_figures() -> None:
    body = (
        "崆峒区扶贫办组织人员到柳湖镇石桥村调研。\n"
        "全区建档立卡贫困户减少到1200户4100人,贫困发生率降至1.1%。"
    )
    got = facts(body)
    assert got and regions_of(got) == {("崆峒区", "620802000000")}


def test_households_and_persons_after_quan_cun_are_the_village_population() -> None:
    body = (
        "记者日前走进崆峒区柳湖镇石桥村。\n"
        "全村共有420户1580人,其中建档立卡贫困户36户121人。"
    )
    got = {(f.indicator, f.value, f.region) for f in facts(body)}
    assert ("total_population", 1580, "石桥村") in got
    assert ("poor_population", 121, "石桥村") in got


def test_households_and_persons_after_the_groups_are_the_village_population() -> None:
    body = "石桥村位于崆峒区柳湖镇东部,辖7个村民小组395户1466人。全村有贫困户30户。"
    got = {(f.indicator, f.value) for f in facts(body)}
    assert ("total_population", 1466) in got


def test_a_township_that_only_locates_the_village_does_not_take_its_figures() -> None:
    body = (
        "记者日前走进崆峒区柳湖镇石桥村。\n"
        "该村位于柳湖镇北部,辖7个村民小组395户1466人,有贫困户30户98人。"
    )
    got = facts(body)
    assert len(got) >= 3
    assert {f.region for f in got} == {"石桥村"}


def test_bracketed_persons_after_households_and_a_noun_after_the_bracket() -> None:
    body = "崆峒区东关街道上报复审结果:北苑社区126户(388人)为贫困户,石桥村41户(97人)为贫困户。"
    got = {(f.indicator, f.value, f.region) for f in facts(body)}
    assert got == {
        ("poor_households", 126, "北苑社区"), ("poor_population", 388, "北苑社区"),
        ("poor_households", 41, "石桥村"), ("poor_population", 97, "石桥村"),
    }


def test_figures_of_a_listed_group_of_villages_go_to_none_of_them() -> None:
    body = (
        "崆峒区柳湖镇石桥村是全镇的示范村。2017年全镇退出东坪、西坪、南湾3个村,"
        "贫困发生率分别为0.82%、1.05%、0.64%。"
    )
    got = facts(body)
    assert not [f for f in got if f.indicator == "poverty_incidence"]


def test_households_and_persons_with_spaces_between_are_one_count() -> None:
    body = "崆峒区柳湖镇石桥村今年有新变化。全村脱贫 31户 104 人。"
    got = {(f.indicator, f.value, f.region) for f in facts(body)}
    assert ("lifted_households", 31, "石桥村") in got
    assert ("lifted_population", 104, "石桥村") in got


def test_a_village_named_by_its_committee_is_the_village() -> None:
    body = (
        "崆峒区柳湖镇石桥村委会是个山区村,距城区30公里。\n"
        "2017年全村人均收入仅2100元,该村有贫困户41户。"
    )
    got = facts(body)
    assert got and {f.region for f in got} == {"石桥村"}


def test_quan_cun_before_the_village_it_describes_is_that_village() -> None:
    # the village is named after its figures, as an apposition of the sentence
    body = (
        "驻村干部讲述帮扶故事。\n"
        "全村186户702人,贫困人口45户160人,地处六盘山区的甘肃省庄浪县韩店镇石门村,"
        "是许多贫困村的写照。"
    )
    got = facts(body)
    assert len(got) == 3
    assert {f.region for f in got} == {"石门村"}
    assert all(f.region_code and f.region_code.startswith("620825104000") for f in got)


def test_a_village_name_ending_in_a_district_short_name_is_no_district() -> None:
    # 马村 is the short name of 焦作's 马村区; 白马村 is a village, whose figure is its own
    got = facts("云南白马村距镇中心20公里。白马村人均纯收入达到9000元。")
    assert [f.region for f in got] == ["白马村"]
    got = facts("焦作马村2018年贫困发生率降至0.3%。")
    assert [f.region for f in got] == ["马村区"]


def test_a_village_tied_to_its_township_keeps_its_figures_when_named_bare_later() -> None:
    body = (
        "记者来到崆峒区柳湖镇石桥村,村道两旁种满了苹果树。\n"
        "2016年平凉市把石桥村列为贫困村时,村里还有贫困户52户,人均纯收入不足3000元。"
    )
    got = [f for f in facts(body) if f.indicator == "poor_households"]
    assert got and regions_of(got) == {("石桥村", "620802105000/石桥村")}


def test_a_village_named_under_its_province_only_takes_its_figures() -> None:
    # a Hong Kong style report names the province and the village, no county
    body = (
        "【晨報專訊】遭遇山洪的甘肅紅馬村,距鄉政府15公里,海拔2300米。\n"
        "紅馬村下轄9個村民小組,共有860戶3410人。2006年前,紅馬村人均純收入僅650元。\n"
        "目前紅馬村人均年收入達到約7600元。"
    )
    got = facts(body)
    assert {(f.indicator, f.value) for f in got} == {
        ("total_population", 3410), ("per_capita_income", 650), ("per_capita_income", 7600)}
    assert {f.region for f in got} == {"红马村"}
    assert all(f.region_code and f.region_code.startswith("620000000000/") for f in got)


def test_the_village_a_paragraph_calls_quan_cun_takes_its_figures() -> None:
    body = (
        "柳湖镇位于崆峒区东部,辖12个村和2个社区,是全区的农业大镇。\n"
        "2018年起担任青松村驻村第一书记,先摸清底数,全村贫困户64户,212人,全村共有298户,1010人。"
    )
    got = facts(body)
    assert {(f.indicator, f.value) for f in got} >= {
        ("poor_households", 64), ("poor_population", 212), ("total_population", 1010)}
    assert {f.region for f in got} == {"青松村"}
