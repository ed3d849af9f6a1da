"""The gazetteer file and region resolution."""

from __future__ import annotations

from datetime import date

import pytest

from fupin.tasks.extract import extract
from fupin.tasks.extract.regions import load_gazetteer

PUB = date(2020, 3, 1)


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer()


def test_gazetteer_shape(gaz) -> None:
    assert len(gaz.rows) > 40000
    codes = [r.code for r in gaz.rows]
    assert len(set(codes)) == len(codes)
    (top,) = [r for r in gaz.rows if r.level == "national"]
    assert top.name == "全国" and top.parent_code is None
    for r in gaz.rows:
        assert len(r.code) == 12 and r.code.isdigit()
        assert r.level in {"national", "province", "prefecture", "county", "township"}
        if r.level == "national":
            continue
        if r.level == "province":
            assert r.parent_code == top.code and r.province == r.name
        else:
            parent = gaz.by_code[r.parent_code]
            assert r.code[:2] == parent.code[:2]
            assert r.province == gaz.by_code[r.code[:2] + "0" * 10].name
    assert not [r for r in gaz.rows if r.name in {"市辖区", "县", "省直辖县级行政区划"}]
    rows = gaz.as_dicts()
    assert {"code", "name", "level", "parent_code", "province", "prefecture"} <= set(rows[0])


def test_municipality_districts_hang_under_the_municipality(gaz) -> None:
    (haidian,) = gaz.lookup("海淀区")
    assert haidian.parent_code == "110000000000"
    assert haidian.prefecture is None and haidian.province == "北京市"
    (chengkou,) = gaz.lookup("城口县")
    assert chengkou.parent_code == "500000000000"


def test_prefecture_and_county_links(gaz) -> None:
    (hequ,) = gaz.lookup("河曲县")
    assert (hequ.level, hequ.prefecture, hequ.province) == ("county", "忻州市", "山西省")
    assert gaz.by_code[hequ.parent_code].name == "忻州市"
    (beichuan,) = gaz.lookup("北川")
    assert beichuan.name == "北川羌族自治县"


def test_common_words_are_not_short_names(gaz) -> None:
    assert gaz.lookup("平和") == []  # 平和县 must be written in full
    assert [r.name for r in gaz.lookup("平和县")] == ["平和县"]


def region_of(body: str, **kw) -> list[tuple[str | None, str | None]]:
    kw.setdefault("published", PUB)
    return [(f.region, f.province) for f in extract(body, **kw).facts]


def test_anaphor_resolves_to_subject_from_title() -> None:
    got = region_of("全县贫困发生率降至0.8%。", title="河曲县脱贫攻坚纪实")
    assert got == [("河曲县", "山西省")]


def test_subject_from_most_mentioned_place_without_title() -> None:
    body = "庄浪县地处陇东。庄浪县多山。全县贫困发生率为12.6%。"
    assert region_of(body) == [("庄浪县", "甘肃省")]


def test_explicit_mention_is_most_specific_and_beats_subject() -> None:
    body = "平凉市脱贫成效显著。静宁县有贫困村128个。"
    assert region_of(body, title="平凉市扶贫工作") == [("静宁县", "甘肃省")]


def test_partner_regions_are_not_the_subject() -> None:
    body = "加强与天津市河西区、武清区对接,累计落实财政援助资金2.3亿元。"
    assert region_of(body, title="平凉市东西部扶贫协作") == [("平凉市", "甘肃省")]


def test_enumerated_members_are_not_the_subject() -> None:
    body = "绵阳市脱贫攻坚。北川、平武2个国家级贫困县全部摘帽。"
    assert region_of(body) == [("绵阳市", "四川省")]


def test_other_province_named_in_a_question() -> None:
    body = "平凉市举行发布会。记者提问:随着贵州省政府宣布9个县退出贫困县序列,平凉市将如何巩固成果?"
    assert region_of(body, title="平凉市新闻发布会") == [("贵州省", "贵州省")]


def test_anaphor_county_inside_prefecture_document() -> None:
    body = "漳州市扶贫。比如诏安县发展富硒产业,该县有贫困户120户发展养殖。"
    assert region_of(body, title="漳州市精准扶贫综述") == [("诏安县", "福建省")]


def test_ambiguous_short_name_resolved_by_province() -> None:
    # 朝阳 alone is a common word and not matched; 城关区 exists in Lanzhou and Lhasa
    body = "兰州市脱贫攻坚。兰州市加大投入。城关区有贫困村12个。"
    assert region_of(body) == [("城关区", "甘肃省")]


def test_ambiguous_without_province_is_left_unresolved_with_note() -> None:
    ex = extract("城关区有贫困村12个。", published=PUB)
    (f,) = ex.facts
    assert f.region is None
    assert f.region_note and "ambiguous" in f.region_note


def test_district_name_used_as_common_word_outside_province() -> None:
    body = "河曲县扶贫。针对全县平川区、山区的差异,每年拿出4500万元对农业产业进行奖补。"
    assert region_of(body, title="河曲县产业扶贫") == [("河曲县", "山西省")]


def test_former_county_name_keeps_the_written_name_and_todays_code() -> None:
    # 华亭县 became 华亭市 in 2018 (new code); pages from before and after both count
    ex = extract("华亭县2016年减少贫困人口3200人。", published=date(2017, 1, 5))
    assert [(f.region, f.region_code) for f in ex.facts] == [("华亭县", "620881000000")]
    ex = extract("华亭市2019年减少贫困人口900人。", published=PUB)
    assert [(f.region, f.region_code) for f in ex.facts] == [("华亭市", "620881000000")]


def test_renamed_county_from_the_curated_table() -> None:
    # 郫县 -> 郫都区 (2016): a new stem, so the pairing is curated, not derived
    ex = extract("郫县2015年有贫困村12个。", published=date(2016, 2, 1))
    assert [(f.region, f.region_code, f.province) for f in ex.facts] == [
        ("郫县", "510117000000", "四川省")
    ]


def test_renamed_units_are_one_row_each(gaz) -> None:
    (huating,) = gaz.lookup("华亭县")
    assert huating is gaz.lookup("华亭市")[0] and "华亭县" in huating.aliases
    assert not [r for r in gaz.rows if r.name == "华亭县"]


def test_townships_hang_under_their_county(gaz) -> None:
    (liuhu,) = [r for r in gaz.lookup("柳湖镇") if r.prefecture == "平凉市"]
    assert liuhu.level == "township"
    assert gaz.by_code[liuhu.parent_code].name == "崆峒区"
    assert [r.level for r in gaz.ancestors(liuhu)] == ["township", "county", "prefecture",
                                                       "province"]
    assert len(gaz.lookup("城关镇")) > 50 and gaz.lookup("城关") == []


def test_wo_xian_without_a_name_is_the_source_site_place() -> None:
    body = "我县坚持产业带动。截至去年底,我县贫困发生率降至0.6%。"
    ex = extract(body, title="产业兴 百姓富", published=PUB, source_site="河曲县人民政府网")
    assert [(f.region, f.province) for f in ex.facts] == [("河曲县", "山西省")]


def test_the_page_own_place_beats_the_site_place() -> None:
    body = "庄浪县梯田连片。全县贫困发生率降至0.9%。"
    ex = extract(body, published=PUB, source_site="平凉日报")
    assert [f.region for f in ex.facts] == ["庄浪县"]


def test_whole_prefecture_is_no_county_of_that_name() -> None:
    from datetime import date

    from fupin.tasks.extract import extract

    body = "临夏回族自治州扶贫工作会议召开。全州累计减少贫困人口35万人。"
    [fact] = extract(body, published=date(2019, 5, 1)).facts
    assert fact.region == "临夏回族自治州"


def test_every_autonomous_unit_and_region_answers_to_its_short_name(gaz) -> None:
    # the place's own name may end in a people's character (西藏, 融水, 长白) or be the
    # people's name itself (东乡族自治县); a 区 may end in 林 or 新 (西林区)
    for full, short in [("西藏自治区", "西藏"), ("内蒙古自治区", "内蒙古"),
                        ("融水苗族自治县", "融水"), ("长白朝鲜族自治县", "长白"),
                        ("东乡族自治县", "东乡"), ("鄂温克族自治旗", "鄂温克"),
                        ("管城回族区", "管城"), ("西林区", "西林")]:
        assert full in [r.name for r in gaz.lookup(short)], short
    body = "西藏全区贫困发生率降至0.5%。内蒙古累计减少贫困人口80万人。"
    assert region_of(body) == [("西藏自治区", "西藏自治区"), ("内蒙古自治区", "内蒙古自治区")]


def test_a_former_name_two_places_share_is_settled_by_the_page_province() -> None:
    # 东乡县 is both the everyday name of Gansu's 东乡族自治县 and the former name
    # of Jiangxi's 东乡区 (抚州)
    gansu = "临夏州东乡县推进易地搬迁。东乡县累计搬迁贫困群众2100户。"
    assert region_of(gansu) == [("东乡族自治县", "甘肃省")]
    jiangxi = "抚州市东乡县精准扶贫。东乡县2015年有贫困村41个。"
    ex = extract(jiangxi, published=date(2016, 3, 1))
    assert [(f.region, f.region_code) for f in ex.facts] == [("东乡县", "361003000000")]


def test_a_county_heading_a_counted_group_with_a_modifier_is_a_member() -> None:
    body = "今天,云南省宣布镇雄县等最后9个县退出贫困县序列。"
    assert region_of(body, title="云南脱贫攻坚") == [("云南省", "云南省")]


def test_a_count_of_counties_is_never_one_county() -> None:
    # the county only says which group it belongs to; the group is the page's place
    body = "昭觉县是当地11个国家级贫困县之一。"
    got = extract(body, title="凉山州脱贫纪实", published=PUB).facts
    assert [(f.indicator, f.region) for f in got] == [("poor_counties", "凉山彝族自治州")]
    # with no page place containing it, the place right above it
    body = "记者手记。悬崖村所在的昭觉县,正是其辖内七个国家级贫困县之一。"
    got = extract(body, published=PUB).facts
    assert [(f.indicator, f.region) for f in got] == [("poor_counties", "凉山彝族自治州")]


def test_quan_sheng_ranking_or_spreading_something_is_not_the_figure_place() -> None:
    body = "庄浪县的梯田做法在全省推广;发放扶贫小额信贷2.1亿元。全省第一,全县贫困发生率降至0.5%。"
    assert region_of(body, title="庄浪县扶贫纪实") == [("庄浪县", "甘肃省"), ("庄浪县", "甘肃省")]


def test_places_counted_in_their_own_clause_do_not_take_the_next_figure() -> None:
    # 华亭 written with a suffix the gazetteer does not give it still closes the list
    body = ("2017年,甘肃脱贫首战告捷:减少贫困人口80万,崆峒区和华亭区两个贫困县率先摘帽,"
            "850个贫困村脱贫出列。")
    found = extract(body, published=date(2018, 3, 1)).facts
    got = {(f.indicator, f.value): f.region for f in found}
    assert got[("villages_exited", 850)] == "甘肃省"
    assert got[("counties_exited", 2)] == "甘肃省"


def test_a_place_that_is_the_list_item_before_a_count_does_not_take_it() -> None:
    body = ("2014年以来,平凉市累计减贫30万人。"
            "未摘帽的庄浪县、21个未脱贫村、全市剩余的8300名未脱贫人口已达到退出标准。")
    found = extract(body, published=date(2020, 3, 1)).facts
    got = {(f.indicator, f.value): f.region for f in found}
    assert got[("poor_villages", 21)] == "平凉市"
    assert got[("poor_population", 8300)] == "平凉市"


@pytest.mark.parametrize("place, province", [("武乡县", "山西省"), ("新乡市", "河南省"),
                                             ("新乡县", "河南省")])
def test_a_county_whose_name_begins_with_a_former_township_name_is_the_county(
        place: str, province: str) -> None:
    # 武乡 and 新乡 are also the names towns (武镇, 新镇) went by as townships
    body = f"截至2020年底，{place}建档立卡贫困户1050户全部脱贫。"
    assert region_of(body) == [(place, province)]
