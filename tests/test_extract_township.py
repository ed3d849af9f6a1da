"""Townships and villages: their figures are theirs, never their county's."""

from __future__ import annotations

from datetime import date

from fupin.tasks.clean import clean_page
from fupin.tasks.extract import extract

PUB = date(2019, 6, 1)


def facts(body: str, title: str | None = None):
    return extract(body, title=title, published=PUB).facts


def test_township_story_in_a_named_county_stays_with_the_township() -> None:
    got = facts(
        "柳湖镇地处城郊。2018年底,柳湖镇有建档立卡贫困户326户,全镇贫困发生率降至1.4%。",
        title="平凉市崆峒区柳湖镇:产业路上奔小康",
    )
    assert {(f.region, f.region_code) for f in got} == {("柳湖镇", "620802105000")}
    assert {f.indicator for f in got} == {"poor_households", "poverty_incidence"}


def test_a_shared_township_name_is_placed_by_the_county_the_page_names() -> None:
    body = "静宁县脱贫攻坚。城关镇今年有贫困户218户实现脱贫。"
    (f,) = facts(body, title="静宁县扶贫纪实")
    assert (f.region, f.region_code) == ("城关镇", "620826100000")


def test_a_shared_township_name_without_its_county_is_left_unresolved() -> None:
    # 平凉市 has two 城关镇 (泾川县 and 静宁县): no guess, and not the prefecture either
    (f,) = facts("平凉市脱贫攻坚。城关镇今年有贫困户218户实现脱贫。", title="平凉市扶贫纪实")
    assert f.region is None and f.region_code is None
    assert f.region_note and "ambiguous" in f.region_note


def test_quan_cun_is_the_village_of_the_page() -> None:
    got = facts(
        "村里通了硬化路。全村共有建档立卡贫困户41户156人,贫困发生率由2014年的18.3%降到0.6%。",
        title="崆峒区红崖村的脱贫路",
    )
    assert got and {(f.region, f.region_code) for f in got} == {
        ("红崖村", "620802000000/红崖村")
    }


def test_a_village_named_under_its_township_takes_the_township_as_parent() -> None:
    body = "崆峒区聚焦产业。柳湖镇石桥村贫困户32户全部发展了养殖。"
    (f,) = facts(body, title="崆峒区产业扶贫")
    assert (f.region, f.region_code) == ("石桥村", "620802105000/石桥村")


def test_a_village_as_an_organisation_address_is_not_the_figure_place() -> None:
    body = "静宁县发展果业。该县威戎镇杨桥村鑫源果品专业合作社,入社贫困户60多户。"
    (f,) = facts(body, title="静宁县产业扶贫")
    assert f.region == "静宁县"


def test_quan_cun_without_a_village_is_not_given_to_the_county() -> None:
    (f,) = facts("全村贫困发生率降至1.2%。", title="河曲县脱贫攻坚纪实")
    assert f.region is None
    assert f.region_note and "全村" in f.region_note


def test_quan_qu_on_a_township_page_is_its_district() -> None:
    body = "柳湖镇加快发展。全区贫困发生率降至0.9%。"
    (f,) = facts(body, title="崆峒区柳湖镇见闻")
    assert f.region == "崆峒区"


def regions_of(got) -> set[tuple[str | None, str | None]]:
    return {(f.region, f.region_code) for f in got}


def test_a_township_named_under_its_county_in_the_lead_is_the_page_subject() -> None:
    # no title: the lead's 县+镇 and the page's 全镇 make it the township's page
    body = (
        "崆峒区白水镇党委、政府扎实推进脱贫攻坚,各项工作稳步推进。\n"
        "全镇建档立卡贫困户512户1893人,2017年以来脱贫488户1802人。\n"
        "贫困发生率降至0.4%。"
    )
    got = facts(body)
    assert len(got) >= 5
    assert regions_of(got) == {("白水镇", "620802103000")}


def test_a_township_opening_the_page_is_its_subject() -> None:
    body = (
        "香莲乡是崆峒区最偏远的乡,距崆峒区城区60公里,辖8个行政村1960户8120人。\n"
        "2018年全乡减贫156户602人,贫困发生率降至2.1%。"
    )
    got = facts(body)
    assert got and regions_of(got) == {("香莲乡", "620802212000")}


def test_a_county_page_that_names_a_township_in_its_lead_stays_the_county() -> None:
    body = (
        "崆峒区召开脱贫攻坚推进会,白水镇等乡镇负责人参加会议。\n"
        "全区建档立卡贫困户减少到1200户4100人,贫困发生率降至1.1%。"
    )
    got = facts(body)
    assert got and regions_of(got) == {("崆峒区", "620802000000")}


def test_households_and_persons_after_quan_zhen_are_the_township_population() -> None:
    body = "崆峒区白水镇位于城区西部。全镇8420户31057人,建档立卡贫困户612户2240人。"
    got = {(f.indicator, f.value, f.region) for f in facts(body)}
    assert ("total_population", 31057, "白水镇") in got


def test_a_county_that_only_locates_the_township_does_not_take_its_figures() -> None:
    body = "白水镇是崆峒区的农业大镇,有建档立卡贫困户612户2240人。全镇贫困发生率降至0.8%。"
    got = facts(body, title="崆峒区白水镇见闻")
    assert got and regions_of(got) == {("白水镇", "620802103000")}


def test_a_county_after_a_locating_word_with_figures_of_its_own_keeps_them() -> None:
    # 是 before a county that is not the parent of the place before it: not a locator
    body = "贫困人口最多的是崆峒区,有建档立卡贫困户3120户。"
    (f,) = facts(body, title="平凉市脱贫攻坚纪实")
    assert f.region == "崆峒区"


def test_a_township_named_only_in_the_headline_above_a_body_label_is_the_subject() -> None:
    # a "文章正文" label sits between the headline and the date line: it is no title
    page = (
        "崆峒区人民政府 白水镇 崆峒区白水镇概况\n\n文章正文\n发布时间:2019-05-20 10:00\n\n"
        "我镇地处崆峒区西部,辖12个行政村,全镇4210户15870人。\n\n"
        "2018年建档立卡贫困户310户1102人,贫困发生率2.4%。\n"
    )
    doc = clean_page(page, is_html=False)
    got = facts(doc.body, title=doc.title)
    assert len(got) >= 3
    assert regions_of(got) == {("白水镇", "620802103000")}


def test_persons_after_households_across_a_comma_are_the_same_count() -> None:
    body = "崆峒区白水镇党委抓实帮扶。全镇总人口4210户,15870人。2018年全镇脱贫121户,433人。"
    got = {(f.indicator, f.value, f.region) for f in facts(body)}
    assert ("total_population", 15870, "白水镇") in got
    assert ("lifted_population", 433, "白水镇") in got


def test_a_shared_township_name_is_settled_by_the_kind_of_province_the_page_speaks_of() -> None:
    # 大良镇 is in 天津 and in 广西 (柳州); the page names neither, but only an
    # autonomous region has an 自治区 government to carry out its plans
    body = ("镇党委认真落实自治区、市、县决策部署。\n"
            "大良镇总面积126平方公里,全镇建档立卡贫困户640户2710人。")
    got = extract(body, published=date(2020, 5, 1)).facts
    assert {(f.region, f.province) for f in got} == {("大良镇", "广西壮族自治区")}
    # without the clue the name stays unresolved rather than guessed
    got = extract(body.replace("自治区、", ""), published=date(2020, 5, 1)).facts
    assert got and all(f.region_code is None for f in got)


def test_a_town_written_by_its_former_township_name_is_found_under_that_name() -> None:
    # 柳湖镇 was 柳湖乡 before it became a town; old reports write the old name
    body = ("区人大主任深入崆峒区柳湖乡调研脱贫攻坚。\n"
            "柳湖乡共有12个行政村,其中贫困户420户,1390口人。")
    got = extract(body, title="区人大主任深入柳湖乡调研", published=date(2016, 11, 25)).facts
    assert {(f.indicator, f.value) for f in got} == {
        ("poor_households", 420), ("poor_population", 1390)}
    assert {(f.region, f.region_code) for f in got} == {("柳湖乡", "620802105000")}
