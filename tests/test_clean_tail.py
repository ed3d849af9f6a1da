"""The last paragraph of a text dump survives a byline or photo credit after it, and
Traditional-script chrome is removed like Simplified chrome."""

from __future__ import annotations

import pytest

from fupin.tasks.clean import clean_page
from fupin.tasks.clean.lines import classify
from fupin.tasks.clean.normalize import clean_line
from fupin.tasks.extract import extract

HEAD = "清溪县扶贫纪实\n时间:2020-01-02 09:30 来源:某某日报\n"
PROSE = "村里建起了食用菌大棚,二十多户贫困户在家门口就业,每人每月增收一千二百元。"


@pytest.mark.parametrize(
    ("last", "kept"),
    [
        ("全县贫困人口减少1.2万人。王小明", "全县贫困人口减少1.2万人。"),
        ("全县贫困人口减少1.2万人。 赵大海 摄", "全县贫困人口减少1.2万人。"),
        ("全縣貧困人口減少1.2萬人。 趙大海 攝", "全縣貧困人口減少1.2萬人。"),
        ("全县贫困人口减少1.2万人。记者 王小明 通讯员 李芳", "全县贫困人口减少1.2万人。"),
        ("全县贫困人口减少1.2万人。图/孙强", "全县贫困人口减少1.2万人。"),
    ],
)
def test_last_paragraph_kept_without_its_credit(last: str, kept: str) -> None:
    doc = clean_page(f"{HEAD}{PROSE}\n{last}\n")
    assert doc.body.split("\n") == [PROSE, kept]


def test_facts_of_a_credited_last_paragraph_are_found() -> None:
    doc = clean_page(f"{HEAD}{PROSE}\n2019年全县贫困发生率降至0.6%,贫困人口减少1.2万人。王小明\n")
    found = {f.indicator for f in extract(doc.body, title=doc.title,
                                          published=doc.published).facts}
    assert {"poverty_incidence", "lifted_population"} <= found


def test_headline_list_after_the_article_still_goes() -> None:
    doc = clean_page(f"{HEAD}{PROSE}\n清溪县召开脱贫攻坚推进会\n南山镇举办电商培训班\n")
    assert doc.body == PROSE


TRAD_PAGE = """首頁 > 新聞中心 > 正文
和平縣脫貧攻堅紀實
發佈時間:2019-11-08 10:20 來源:和平日報 作者:陳明
全縣把產業扶貧作為主攻方向,2018年貧困發生率降至0.9%,貧困人口減少3200人。
各鄉鎮建起扶貧車間,讓貧困群眾在家門口實現就業,每月收入兩千多元。
(責任編輯:林小青)
相關新聞
版權所有 和平日報社 未經授權不得轉載
"""


def test_traditional_chrome_is_removed() -> None:
    doc = clean_page(TRAD_PAGE)
    assert doc.body.split("\n") == [
        "全縣把產業扶貧作為主攻方向,2018年貧困發生率降至0.9%,貧困人口減少3200人。",
        "各鄉鎮建起扶貧車間,讓貧困群眾在家門口實現就業,每月收入兩千多元。",
    ]
    assert doc.title == "和平縣脫貧攻堅紀實"
    assert (doc.source_site, doc.author) == ("和平日報", "陳明")
    assert str(doc.published) == "2019-11-08"


@pytest.mark.parametrize("line", ["時間:2019-11-08 10:20", "來源:和平日報 編輯:林小青",
                                  "記者:陳明 通訊員:李華", "責任編輯:林小青"])
def test_traditional_dateline_and_credit_lines_are_chrome(line: str) -> None:
    assert classify(clean_line(line)) is not None


def test_a_last_paragraph_cut_off_mid_sentence_keeps_its_finished_sentences() -> None:
    text = (
        "某县扶贫工作取得新进展\n"
        "全县今年实现脱贫1200户。全县贫困发生率降至2.1%。预计年底还将实现3个贫困村出列、21"
    )
    doc = clean_page(text)
    assert doc.body.endswith("全县贫困发生率降至2.1%。")
    assert "预计年底" not in doc.body


def test_a_run_on_last_paragraph_cut_off_with_no_full_stop_keeps_its_clauses() -> None:
    run_on = (
        "2018年到青松村任第一书记,先摸清了全村底数,全村共312户,1046人,"
        "建档立卡贫困户58户,173人,低保户21户40人,耕地65公顷,人均纯收入5800多元,"
        "其后修通村道9公里,建起蓄水池3口,新建村卫生室一所,组织村民外出务工,"
        "全村四个村民小组分布在河谷两岸,南岸一组、二组,北岸三"
    )
    doc = clean_page(f"{HEAD}{PROSE}\n{run_on}")
    assert "建档立卡贫困户58户,173人" in doc.body
    assert not doc.body.endswith("北岸三")
    found = {f.indicator for f in extract(doc.body, title=doc.title,
                                          published=doc.published).facts}
    assert {"poor_households", "poor_population", "total_population"} <= found


def test_a_short_unfinished_teaser_after_the_article_still_goes() -> None:
    teaser = "清溪县:产业扶贫让群众腰包鼓起来,合作社带动,电商助力,返乡青年创业"
    doc = clean_page(f"{HEAD}{PROSE}\n{teaser}\n")
    assert doc.body == PROSE


@pytest.mark.parametrize("mark", ["◆", " ■", "▲"])
def test_a_last_paragraph_closed_by_an_end_mark_stays(mark: str) -> None:
    last = "全省今年只剩下12個貧困縣,已先後宣佈「清零」。"
    doc = clean_page(f"{HEAD}{PROSE}\n{last}{mark}\n")
    assert doc.body.split("\n") == [PROSE, last]


def test_a_last_paragraph_cut_off_after_a_few_clauses_keeps_them() -> None:
    cut = ("王主任说,今年5月以来,全市集中用两个月时间开展了巩固脱贫成果自查行动,"
           "对全市31.6万脱贫人口和2.3万边缘易致贫人口进行入户核查,"
           "对发现的各类风险隐患再次进行排查、逐条整改、")
    doc = clean_page(f"{HEAD}{PROSE}\n{cut}")
    assert "2.3万边缘易致贫人口进行入户核查" in doc.body
    found = {(f.indicator, f.value) for f in extract(doc.body, title=doc.title,
                                                     published=doc.published).facts}
    assert ("monitored_population", 23000) in found
