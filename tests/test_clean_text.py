"""Text-dump cleaning: one test per family of line rule, then the real seed pages."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime

import pytest
from shared_data import shared_path

from fupin.tasks.clean import clean_page, looks_like_html
from fupin.tasks.clean.lines import Chrome, classify, ends_like_sentence
from fupin.tasks.clean.normalize import clean_line, nfkc

PROSE = "村里建起了食用菌大棚,二十多户贫困户在家门口就业,每人每月增收一千二百元。"
PROSE2 = "合作社负责人说,明年还要再建五个大棚,带动更多农户一起种植。"


def _dump(*lines: str) -> str:
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("首页 > 地方新闻 > 正文", Chrome.BREADCRUMB),
        ("当前位置:首页 > 扶贫", Chrome.BREADCRUMB),
        ("某某网 >> 县域 >> 要闻", Chrome.BREADCRUMB),
        ("时间:2021-03-02 10:15 来源:某某日报 作者:张三 点击:", Chrome.META),
        ("2021年3月2日 10:15", Chrome.META),
        ("来源:县融媒体中心 2019-07-01", Chrome.META),
        ("(责任编辑:李四)", Chrome.EDITOR),
        ("责编:王五", Chrome.EDITOR),
        (">相关新闻", Chrome.HEADING),
        ("相关阅读:", Chrome.HEADING),
        ("猜你喜欢", Chrome.HEADING),
        ("48小时点击排行榜", Chrome.HEADING),
        ("顶一下", Chrome.WIDGET),
        ("• 踩一下", Chrome.WIDGET),
        ("(0)", Chrome.NOISE),
        ("0%", Chrome.NOISE),
        ("-----分隔线-----", Chrome.NOISE),
        ("Copyright © 2008-2020 Example Inc. All Rights Reserved", Chrome.FOOTER),
        ("某ICP备12345678号 版权所有", Chrome.FOOTER),
        ("关于我们 | 联系我们 | 免责条款", Chrome.FOOTER),
        ("声明:转载此文是出于传递更多信息之目的。", Chrome.FOOTER),
    ],
)
def test_chrome_line_families(line: str, kind: Chrome) -> None:
    assert classify(clean_line(line)) is kind


@pytest.mark.parametrize(
    "line",
    [
        PROSE,
        "记者问答",
        "二、突出产业扶贫,带动群众增收",
        "县长王某某:今年全县脱贫人口达到一万二千人。",
        "……",
        "江油市新安镇的水果产业园。马俊摄",
        "编辑部的同事们也来到了村里。",
    ],
)
def test_body_lines_are_not_chrome(line: str) -> None:
    assert classify(clean_line(line)) is None


def test_header_dateline_and_title() -> None:
    doc = clean_page(_dump("标题:小山村的新产业", "2021-03-02 10:15 来源:某某日报 作者:记者张三",
                           PROSE, PROSE2))
    assert doc.title == "标题:小山村的新产业"
    assert doc.body == PROSE + "\n" + PROSE2
    assert doc.published == date(2021, 3, 2)
    assert doc.published_at == datetime(2021, 3, 2, 10, 15)
    assert doc.source_site == "某某日报"
    assert doc.author == "张三"


def test_body_ends_at_editor_line_and_drops_everything_after() -> None:
    doc = clean_page(_dump(PROSE, PROSE2, "(责任编辑:李四)", "• 一条链接标题", "另一条链接标题"))
    assert doc.body.splitlines() == [PROSE, PROSE2]


def test_related_block_and_widgets_are_cut() -> None:
    doc = clean_page(_dump(PROSE, ">相关新闻", "• 县里召开大会", "顶一下", "(0)", "0%"))
    assert doc.body == PROSE


def test_trailing_headlines_without_cue_are_trimmed() -> None:
    doc = clean_page(_dump(PROSE, PROSE2, "某地举办农民丰收节 现场热闹", "一图读懂新政策"))
    assert doc.body.splitlines() == [PROSE, PROSE2]


def test_editor_is_not_author_but_byline_is() -> None:
    doc = clean_page(_dump(PROSE, PROSE2 + "(记者 赵六 通讯员 钱七)", "编辑:孙八"))
    assert doc.author == "赵六"
    doc = clean_page(_dump(PROSE, "编辑:孙八"))
    assert doc.author is None


def test_missing_metadata_is_null() -> None:
    doc = clean_page(_dump(PROSE, PROSE2))
    assert (doc.title, doc.published, doc.source_site, doc.author) == (None, None, None, None)


def test_banner_date_is_not_the_publication_date() -> None:
    doc = clean_page(_dump("2018年1月6日 星期六 | 联系热线:12345678", "首页 > 要闻 > 正文",
                           "一篇报道的标题", "2019-05-05 17:58:40 来源:某某网", PROSE))
    assert doc.published == date(2019, 5, 5)
    assert doc.title == "一篇报道的标题"


def test_repeated_body_is_kept_once() -> None:
    doc = clean_page(_dump("小标题", PROSE, PROSE2, "小标题", PROSE, PROSE2))
    assert doc.body.count(PROSE) == 1 and doc.body.count("小标题") == 1
    assert doc.flags["repeated_paragraphs"] == 3
    assert doc.flags["duplicated_body"] == 1


def test_masks_are_counted_and_repaired_when_unambiguous() -> None:
    doc = clean_page(_dump("全县落实各项*策,*府投入资金三百万元,*土村也通了公路。"))
    assert doc.body == "全县落实各项政策,政府投入资金三百万元,*土村也通了公路。"
    assert doc.flags["masked_chars"] == 3
    assert doc.flags["mask_repairs"] == 2


def test_bracketed_readings_are_removed_and_counted() -> None:
    page = _dump("全縣產業發(fā)展狀態(tài)良好,脫貧標(biāo)準（zhǔn）穩步提高,投入資金兩千萬元。",
                 "合作社的章程寫明(WTO)規則與(a)項條款。")
    doc = clean_page(page)
    assert doc.body.split("\n") == [
        "全縣產業發展狀態良好,脫貧標準穩步提高,投入資金兩千萬元。",
        "合作社的章程寫明(WTO)規則與(a)項條款。",
    ]
    assert doc.flags["mojibake_repaired"] == 4


def test_readings_with_a_space_inside_the_brackets_are_removed() -> None:
    doc = clean_page(_dump("鄉里召開幹部大會(huì )部署工作,產業項(xiàng )目開(kāi)工十二個。"))
    assert doc.body == "鄉里召開幹部大會部署工作,產業項目開工十二個。"
    assert doc.flags["mojibake_repaired"] == 3


def test_a_character_lost_as_two_marks_and_a_letter_is_one_lost_character() -> None:
    doc = clean_page(_dump("長寧??k境內河流眾多,全??x貧困人口減少到三百人。股市?A股上漲。"))
    assert doc.body == "長寧?境內河流眾多,全?貧困人口減少到三百人。股市?A股上漲。"
    assert doc.flags["lost_chars"] == 2
    assert doc.flags["mojibake_repaired"] == 2


def test_lost_characters_are_counted_and_a_lost_zero_repaired() -> None:
    doc = clean_page(_dump("二?一八年,全縣?困?生率降至1.2%,人口1.5?人。你問為什麼？因為路通了。"))
    assert doc.body == "二〇一八年,全縣?困?生率降至1.2%,人口1.5?人。你問為什麼？因為路通了。"
    assert doc.flags["lost_chars"] == 3
    assert doc.flags["mojibake_repaired"] == 1
    asked = clean_page(_dump("全县下一步如何巩固脱贫成果?怎样接续推进乡村振兴?记者采访了县长。"))
    assert asked.flags["lost_chars"] == 0


def test_fullwidth_forms_are_folded_but_ellipsis_kept() -> None:
    doc = clean_page("全县脱贫１２３４户，占比１００％……面积３０㎡。")
    assert doc.body == "全县脱贫1234户,占比100%……面积30㎡。"


def test_sniffing() -> None:
    assert looks_like_html("<!DOCTYPE html><html><body><p>正文</p></body></html>")
    assert looks_like_html("<div class='a'>正文</div>")
    assert not looks_like_html(_dump("标题", PROSE))
    assert not looks_like_html("数学里 a<b 与 b>c 不是标签。")


# ---- the real seed pages -------------------------------------------------------------

SEEDS = ("000_1a6d0a1ae0cc2c29", "001_7466b54d2739728f", "002_e3490206b02f5a3e",
         "003_f56de98b570f9315", "004_3bcde9490c7b0b05")


def _seed(name: str):
    path = shared_path("seeds", f"{name}.txt")
    return clean_page(path.read_text(encoding="utf-8"))


def _gold_documents() -> dict[str, dict]:
    path = shared_path("gold", "documents.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {row["seed"]: row for row in rows}


def _gold_evidence() -> dict[str, list[str]]:
    path = shared_path("gold", "facts.jsonl")
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line:
            row = json.loads(line)
            out.setdefault(row["seed"], []).append(row["evidence"])
    return out


@pytest.mark.parametrize("seed", ["000_1a6d0a1ae0cc2c29", "003_f56de98b570f9315"])
def test_gold_seed_chrome_body_edges_and_metadata(seed: str) -> None:
    gold = _gold_documents()[seed]
    doc = _seed(seed)
    lines = doc.body.split("\n")
    for chrome in gold["chrome_lines"]:
        assert clean_line(chrome) not in lines, chrome
    assert lines[0] == gold["body_first_line"]
    assert lines[-1] == gold["body_last_line"]
    assert doc.title == gold["title"]
    assert doc.published is not None and doc.published.isoformat() == gold["published"]
    assert doc.source_site == gold["source_site"]
    assert doc.author == gold["author"]
    assert doc.flags.get("duplicated_body", 0) == int(gold["duplicated_body"])
    assert doc.flags["masked_chars"] == gold["masked_chars"]


@pytest.mark.parametrize("seed", ["000_1a6d0a1ae0cc2c29", "003_f56de98b570f9315"])
def test_gold_evidence_strings_survive_cleaning(seed: str) -> None:
    body = _seed(seed).body
    for evidence in _gold_evidence()[seed]:
        assert evidence in body, evidence


@pytest.mark.parametrize("seed", SEEDS)
def test_every_seed_loses_its_chrome(seed: str) -> None:
    doc = _seed(seed)
    lines = doc.body.split("\n")
    assert len(doc.body) > 1000
    for cue in ("责任编辑", "版权所有", "ICP备", "相关新闻", "相关阅读", "Copyright", "点击排行"):
        assert not any(cue in line for line in lines), cue
    assert all(classify(line) is None for line in lines)
    assert ends_like_sentence(lines[-1])
    assert len(lines[-1]) > 30


def test_seed_002_tail_of_headline_lists_is_gone() -> None:
    doc = _seed("002_e3490206b02f5a3e")
    assert doc.body.rstrip().endswith("(记者吴志润通讯员穆伦刚)")
    assert doc.title == "漳州市精准扶贫工作综述:迎难而上打赢脱贫攻坚战"
    assert doc.source_site == "闽南日报"


def test_seed_004_body_appears_once() -> None:
    doc = _seed("004_3bcde9490c7b0b05")
    lines = doc.body.split("\n")
    long_lines = [line for line in lines if len(line) > 20]
    assert len(long_lines) == len(set(long_lines))
    assert doc.body.count("抓重点破瓶颈 脱贫攻坚行稳致远") == 1
    assert doc.flags["repeated_paragraphs"] >= 25
    assert doc.flags["duplicated_body"] == 1
    assert "文章字数" not in doc.body


def test_seed_001_masks() -> None:
    doc = _seed("001_7466b54d2739728f")
    assert doc.flags["masked_chars"] >= 15
    assert doc.flags["mask_repairs"] >= 10
    assert "*策" not in doc.body and "*府" not in doc.body
    assert "*土村" in doc.body  # a place name no dictionary can restore
    assert doc.body.startswith("江油市新安镇")
    assert "声明" not in doc.body


VILLAGE_ABSTRACT = (
    "论文摘要\n"
    "县扶贫办定点帮扶的青松乡石门村是个偏远山村,全村共有5个村民小组,286户,1043人。"
    "该村土地贫瘠,群众生活困难,2010年人均收入仅720元。结对帮扶以来,村里发展养殖和林果,"
    "人均收入逐年提高,2015年达到3100元,同比增长28%。\n"
    "Shimen village of Qingsong township lies in a remote mountain area. It has five village "
    "groups, 286 households and 1043 people. The land is poor and the villagers lived hard "
    "lives: in 2010 the per capita income was only 720 yuan. Since the county poverty office "
    "paired with the village, farming of livestock and fruit has grown and the per capita "
    "income reached 3100 yuan in 2015, up 28 percent on the year before.\n"
)


def test_an_english_rendering_under_a_chinese_body_is_dropped() -> None:
    doc = clean_page(VILLAGE_ABSTRACT)
    assert "1043人" in doc.body
    assert "Shimen" not in doc.body
    assert doc.flags["foreign_paragraphs"] == 1


def test_an_english_page_keeps_its_paragraphs() -> None:
    english = VILLAGE_ABSTRACT.split("\n")[2]
    doc = clean_page(f"Village report\n{english}\nThe county plans more roads next year (石门).\n")
    assert "Shimen" in doc.body
    assert doc.flags["foreign_paragraphs"] == 0


def test_list_markers_are_not_digits_of_the_number_after_them() -> None:
    from fupin.tasks.extract import extract

    text = ("扶贫办负责人介绍成效\n"
            "①全省贫困人口减少到21万人。②58个贫困县全部摘帽。③2018年有建档立卡贫困村1200个。\n")
    doc = clean_page(text)
    assert "②58个贫困县" in doc.body
    got = {(f.indicator, f.value, f.year)
           for f in extract(doc.body, published=date(2020, 12, 1)).facts}
    assert ("counties_exited", 58, 2020) in got or ("poor_counties", 58, 2020) in got
    assert ("poor_villages", 1200, 2018) in got


@pytest.mark.parametrize(("han", "dropped"), [(60, 1), (59, 0)])
def test_the_chinese_that_makes_a_body_chinese_is_counted_over_all_its_lines(
    han: int, dropped: int,
) -> None:
    words = ("全村发展养殖和林果产业人均收入逐年提高该村土地贫瘠群众生活困难"
             "结对帮扶以来变化很大县里修通了进村道路还建起了新的学校和卫生室")
    assert len(words) >= han
    lines = [words[:20] + "。", words[20:40] + "。", words[40:han] + "。"]
    english = VILLAGE_ABSTRACT.split("\n")[2]
    doc = clean_page("\n".join([*lines, english]) + "\n")
    assert doc.flags["foreign_paragraphs"] == dropped


def _nfkc_by_definition(text: str) -> str:
    """NFKC of every stretch between protected characters, the protected ones kept."""
    from fupin.tasks.clean.normalize import _PROTECTED_RE

    parts = _PROTECTED_RE.split(text)
    return "".join(part if i % 2 else unicodedata.normalize("NFKC", part)
                   for i, part in enumerate(parts))


def test_nfkc_equals_plain_nfkc_for_every_character_in_every_neighbourhood() -> None:
    """Whatever shortcut nfkc takes, every BMP character next to full-width forms, Han,
    combining marks and protected characters comes out as plain NFKC would make it."""
    contexts = ("{}", "扶贫{}资金", "１２{}％", "A{}\u0301", "{}\u0301，", "？{}①",
                "\u00a0{}\u3000", "e{}", "ｅ\u0301{}", "\u1100{}\u1161")
    for code in range(0x20, 0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        for context in contexts:
            text = context.format(chr(code))
            assert nfkc(text) == _nfkc_by_definition(text), (hex(code), context)
