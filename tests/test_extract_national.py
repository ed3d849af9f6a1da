"""National figures, datelines and numbers about several places at once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from fupin.tasks.extract import extract
from fupin.tasks.pipeline import kinds
from fupin.tasks.pipeline.records import RunCounts, RunRecord
from fupin.tasks.pipeline.stages import extract_stage
from fupin.tasks.pipeline.staging import BatchRef
from fupin.tasks.pipeline.validation_stage import validate_group
from fupin.tasks.validate import get_validator
from fupin.tasks.warehouse import load_run, packaged_dimensions

PUB = date(2019, 3, 1)
NATIONAL = "100000000000"

DATELINE_PAGE = (
    "本报北京2月14日电 (记者 张明)国务院扶贫办今天介绍,2018年全国农村贫困人口减少1386万人,"
    "贫困发生率下降到1.7%。"
)
REGIONS_PAGE = (
    "国家统计局发布数据,2018年末全国农村贫困人口1660万人。分地区看,东部地区农村贫困人口147万人,"
    "中部地区农村贫困人口597万人,西部地区农村贫困人口916万人。西部12省区贫困发生率为3.2%。"
)


def test_a_national_figure_after_a_beijing_dateline_is_national() -> None:
    got = extract(DATELINE_PAGE, published=PUB).facts
    assert [(f.indicator, f.region, f.region_code) for f in got] == [
        ("lifted_population", "全国", NATIONAL),
        ("poverty_incidence", "全国", NATIONAL),
    ]


def test_xinhua_dateline_place_is_not_the_subject() -> None:
    body = ("新华社北京10月16日电 我国建档立卡贫困人口已由2013年底的8875万人"
            "减少到2018年底的1660万人。")
    got = extract(body, published=PUB).facts
    assert got and {f.region for f in got} == {"全国"}


def test_quan_guo_as_an_attribute_is_not_a_place() -> None:
    body = "河曲县扶贫办获评全国脱贫攻坚先进集体,现有建档立卡贫困户1200户。"
    (f,) = extract(body, title="河曲县扶贫纪实", published=PUB).facts
    assert (f.indicator, f.region) == ("poor_households", "河曲县")


def test_east_central_west_breakdown_is_skipped_not_given_to_anyone() -> None:
    ex = extract(REGIONS_PAGE, published=PUB)
    assert [(f.indicator, f.value, f.region) for f in ex.facts] == [
        ("poor_population", 16600000.0, "全国")
    ]
    skipped = [s.text for s in ex.skips if s.reason == "multi_region"]
    assert len(skipped) == 4 and "贫困发生率为3.2%" in skipped


def test_a_group_of_counties_is_no_one_county() -> None:
    body = "平凉市脱贫攻坚。庄浪县等4个县今年共减少贫困人口3.2万人。"
    ex = extract(body, title="平凉市扶贫工作", published=PUB)
    assert not [f for f in ex.facts if f.region == "庄浪县"]
    assert [s.reason for s in ex.skips] == ["multi_region"]


def test_national_and_village_facts_load_with_their_level(tmp_path: Path) -> None:
    """Through extraction, validation and the load: national and village figures are
    facts (not quarantined), dim_region gains the village, v_facts says each level."""
    folder = tmp_path / "run" / "batch-00000"
    folder.mkdir(parents=True)
    ref = BatchRef(0, str(folder))
    pages = {
        "national": ("全国扶贫", DATELINE_PAGE),
        "village": ("崆峒区红崖村的脱贫路", "全村共有建档立卡贫困户41户,贫困发生率为0.6%。"),
    }
    docs = [
        {**dict.fromkeys(kinds.DOCS.schema.names),
         "doc_key": key, "location": f"/pages/{key}.html", "url": None, "title": title,
         "published_date": PUB, "published_at": None, "published_from": "text",
         "source_site": "示例网", "author": None, "content_sha256": f"sha-{key}",
         "encoding": "utf-8", "body": body, "body_chars": len(body), "flags": {}}
        for key, (title, body) in pages.items()
    ]
    ref = ref.write(kinds.DOCS, docs)
    ref = extract_stage(ref)
    (ref,) = validate_group([ref], get_validator)
    assert ref.read(kinds.QUARANTINE) == []
    run = RunRecord("r1", None, datetime(2026, 1, 1, tzinfo=UTC), [], RunCounts(
        pages_in=2, documents_loaded=2, facts_candidate=4, facts_loaded=4), seconds=1.0)
    db = tmp_path / "w.duckdb"
    load_run(db, folder.parent, run, packaged_dimensions())
    with duckdb.connect(str(db), read_only=True) as con:
        levels = con.execute(
            "SELECT doc_key, region, region_level FROM v_facts ORDER BY doc_key, char_start"
        ).fetchall()
        village = con.execute(
            "SELECT v.level, p.name, p.level FROM dim_region v "
            "JOIN dim_region p ON p.code = v.parent_code WHERE v.name = '红崖村'"
        ).fetchall()
        top = con.execute(
            "SELECT name, level FROM dim_region WHERE code = (SELECT parent_code FROM "
            "dim_region WHERE name = '甘肃省')"
        ).fetchall()
    assert levels == [("national", "全国", "national")] * 2 + [("village", "红崖村", "village")] * 2
    assert village == [("village", "崆峒区", "county")]
    assert top == [("全国", "national")]


def test_bare_quan_guo_and_wo_guo_are_the_country() -> None:
    for body in ("全国贫困发生率降至1.7%。", "我国贫困发生率降至1.7%。"):
        (f,) = extract(body, published=PUB).facts
        assert (f.region, f.region_code, f.region_note) == ("全国", NATIONAL, None)


def test_a_count_of_listed_counties_belongs_to_the_region_that_holds_them() -> None:
    body = "2019年，甘肃省宣布会宁县、靖远县、景泰县等3个县退出贫困县序列。"
    [fact] = extract(body, published=date(2019, 12, 1)).facts
    assert (fact.indicator, fact.value, fact.region) == ("counties_exited", 3, "甘肃省")
    body = "宁夏回族自治区介绍，盐池、隆德、泾源、彭阳四县脱贫摘帽。"
    [fact] = extract(body, published=date(2019, 12, 1)).facts
    assert (fact.indicator, fact.value, fact.region) == ("counties_exited", 4, "宁夏回族自治区")


def test_a_group_in_an_earlier_clause_does_not_hide_later_figures() -> None:
    body = "定西市7个县区整体脱贫摘帽，1101个贫困村全部退出。"
    fs = extract(body, published=date(2020, 5, 1)).facts
    assert [(f.indicator, f.value, f.region) for f in fs] == [
        ("counties_exited", 7, "定西市"), ("villages_exited", 1101, "定西市")
    ]  # fmt: skip


def test_a_single_place_before_a_count_is_the_place_counted_in() -> None:
    body = "这标志着国务院确定的全国832个贫困县全部脱贫摘帽。"
    [fact] = extract(body, title="贵州省扶贫工作", published=date(2020, 11, 24)).facts
    assert (fact.indicator, fact.value, fact.region) == ("counties_exited", 832, "全国")


def test_a_named_group_speaks_for_the_rest_of_its_sentence() -> None:
    ex = extract("分地区看，西部地区农村贫困人口90万人，比上年减少120万人。",
                 published=date(2020, 1, 20))
    assert ex.facts == []
    assert [s.reason for s in ex.skips] == ["multi_region", "multi_region"]


def test_zhongguo_on_a_provincial_page_is_the_country() -> None:
    body = ("定西市脱贫攻坚回顾。2013年底,中国仍有8249万农村贫困人口。"
            "同年定西市贫困人口减少到46万人。")
    got = extract(body, published=PUB).facts
    assert [(f.value, f.region) for f in got] == [(82490000.0, "全国"), (460000.0, "定西市")]
    body = "定西市脫貧攻堅回顧。2015年,中國還有5000萬人沒有脫貧,定西市貧困人口還有20萬人。"
    got = extract(body, published=PUB).facts
    assert [(f.value, f.region) for f in got] == [(50000000.0, "全国"), (200000.0, "定西市")]


def test_a_company_named_after_the_country_is_not_the_country() -> None:
    body = "定西市脱贫攻坚回顾。中国石化累计投入帮扶资金3000万元。"
    got = extract(body, published=PUB).facts
    assert [(f.indicator, f.region) for f in got] == [("assistance_fund", "定西市")]


def test_a_sentence_naming_no_place_after_a_national_one_is_still_national() -> None:
    body = ("黄石市脱贫攻坚成效显著。\n"
            "党的十八大以来,全国建档立卡贫困人口累计减少9300万人。贫困发生率由10.2%下降到0.6%。\n"
            "黄石市贫困发生率降至0.1%。")
    got = extract(body, published=PUB).facts
    assert [(f.value, f.region) for f in got] == [
        (93000000.0, "全国"), (10.2, "全国"), (0.6, "全国"), (0.1, "黄石市")
    ]


def test_a_county_named_in_passing_does_not_carry_to_the_next_sentence() -> None:
    body = "平凉市脱贫攻坚。静宁县有贫困村128个。贫困发生率降至1.2%。"
    got = extract(body, published=PUB).facts
    assert [(f.value, f.region) for f in got] == [(128.0, "静宁县"), (1.2, "平凉市")]


def test_a_national_body_stands_for_the_country_unless_it_is_a_source() -> None:
    body = ("庆阳市脱贫攻坚纪实。今年初,国务院扶贫开发领导小组对未摘帽的52个贫困县挂牌督战。"
            "镇原县是国务院扶贫办挂牌督战的52个贫困县之一。"
            "镇原县去年争取国务院扶贫办财政专项扶贫资金5000万元。")
    got = extract(body, published=PUB).facts
    assert [(f.indicator, f.region) for f in got] == [
        ("poor_counties", "全国"), ("fiscal_poverty_fund", "镇原县")
    ]


def test_a_national_sentence_ending_on_another_place_does_not_carry() -> None:
    # past the lead, where only the places and the figures' sentences are segmented
    body = ("昭觉县脱贫纪实。\n" + "驻村干部走村入户,宣讲政策,帮助群众发展产业。" * 15 + "\n"
            "中国要在2020年让所有贫困县全部脱贫摘帽,为此当地政府决定把山上的这个村庄连同该村的全部"
            "农户整体搬迁到县城安置点。如今贫困人口已减少到120人。")
    got = extract(body, published=PUB).facts
    assert [(f.value, f.region) for f in got] == [(120.0, "昭觉县")]


def test_more_poor_counties_than_the_page_province_has_are_the_country_s() -> None:
    body = (
        "甘肃省扶贫办回顾了扶贫开发的历程。\n"
        "1994年国定贫困县增加到592个,2012年确定的贫困县名单共有贫困县832个。"
        "甘肃省有58个国家扶贫开发重点县,今年又有16个贫困县脱贫摘帽。"
    )
    got = {(f.indicator, f.value): f.region for f in extract(body, title="甘肃扶贫开发回顾",
                                                             published=PUB).facts}
    assert got[("poor_counties", 592)] == "全国"
    assert got[("poor_counties", 832)] == "全国"
    assert got[("poor_counties", 58)] == "甘肃省"
    assert got[("counties_exited", 16)] == "甘肃省"


def test_a_named_group_with_numerals_in_its_name_speaks_for_its_whole_sentence() -> None:
    body = ("会议通报,“三区三州”建档立卡贫困人口减少到52万,"
            "贫困发生率由7.9%下降到2.4%,降幅高于全国平均水平。")
    got = extract(body, published=PUB)
    assert got.facts == []
    assert {s.reason for s in got.skips} == {"multi_region"}
