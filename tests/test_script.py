"""Traditional-script pages give the same facts as their Simplified twins, with
evidence and offsets taken from the page as written."""

from __future__ import annotations

from datetime import date

from fupin.tasks.extract import extract
from fupin.tasks.extract.script import matching_view, to_simplified

PUB = date(2019, 12, 20)

TRAD = (
    "截至2018年底，清溪縣貧困發生率降至1.6%，建檔立卡貧困人口剩餘2.35萬人。"
    "全縣共有貧困村42個，當年投入財政專項扶貧資金1.8億元，"
    "發放扶貧小額信貸3600萬元，易地扶貧搬迁安置1200戶。\n"
    "記者走進縣城南邊的搬遷社區，看到樓房整齊、道路乾淨。"
)
SIMP = (
    "截至2018年底，清溪县贫困发生率降至1.6%，建档立卡贫困人口剩余2.35万人。"
    "全县共有贫困村42个，当年投入财政专项扶贫资金1.8亿元，"
    "发放扶贫小额信贷3600万元，易地扶贫搬迁安置1200户。\n"
    "记者走进县城南边的搬迁社区，看到楼房整齐、道路干净。"
)


def _key(body: str, title: str) -> list[tuple]:
    ex = extract(body, title=title, published=PUB)
    for f in ex.facts:
        assert body[f.char_start:f.char_end] == f.evidence
        assert f.evidence in f.sentence and f.sentence in body
    for s in ex.skips:
        assert body[s.char_start:s.char_end] == s.text
    return [(f.indicator, f.value, f.unit, f.region, f.year, f.char_start, f.char_end)
            for f in ex.facts]


def test_traditional_page_gives_the_facts_of_its_simplified_twin() -> None:
    trad = _key(TRAD, "清溪縣脫貧攻堅紀實")
    assert trad == _key(SIMP, "清溪县脱贫攻坚纪实")
    got = {(k[0], k[1]) for k in trad}
    assert {("poverty_incidence", 1.6), ("poor_population", 23_500),
            ("poor_villages", 42), ("fiscal_poverty_fund", 180_000_000)} <= got


def test_traditional_evidence_is_the_page_text() -> None:
    ex = extract(TRAD, title="清溪縣脫貧攻堅紀實", published=PUB)
    evidence = {f.indicator: f.evidence for f in ex.facts}
    assert evidence["poor_population"] == "建檔立卡貧困人口剩餘2.35萬人"
    assert all("貧" in f.sentence or "扶" in f.sentence for f in ex.facts)


def test_traditional_region_names_resolve_in_the_gazetteer() -> None:
    body = "2017年，廣西壯族自治區貧困發生率為5.7%。"
    [fact] = extract(body, published=PUB).facts
    assert (fact.region, fact.province) == ("广西壮族自治区", "广西壮族自治区")
    assert fact.evidence == "貧困發生率為5.7%"


def test_conversion_keeps_every_character_in_place() -> None:
    for text in (TRAD, "乾隆年間的乾燥氣候。", "臺灣與香港的發展\n後來", "一個人 2.5萬元"):
        out = to_simplified(text)
        assert len(out) == len(text)
        assert [c for c in out if not c.strip() or c.isdigit()] == \
               [c for c in text if not c.strip() or c.isdigit()]


def test_simplified_page_is_read_as_written() -> None:
    # 乾县 is a Simplified place name that a blind conversion would turn into 干县.
    body = "乾县位于关中平原西部，2016年全县贫困发生率为9.1%，著名的乾陵就在县城北边。"
    assert to_simplified(body) is body


def test_lost_characters_do_not_break_cues_or_sentences() -> None:
    # "?" for characters a conversion could not encode: the cue word around them is
    # still recognised, and the sentence is not cut at them.
    body = "2018年,和平縣?困?生率降至1.2%,?困人口減少到1.5萬人。"
    ex = extract(body, published=PUB)
    got = {(f.indicator, f.value, f.region): f.evidence for f in ex.facts}
    assert got[("poverty_incidence", 1.2, "和平县")] == "?困?生率降至1.2%"
    assert ("poor_population", 15_000, "和平县") in got  # 减少到: what remains
    assert all(body[f.char_start:f.char_end] == f.evidence for f in ex.facts)
    view = matching_view(body)
    assert len(view) == len(body) and "?" not in view


def test_an_unknowable_lost_character_ends_no_sentence() -> None:
    body = "全縣??鄉貧困人口減少到1.5萬人。"
    view = matching_view(body)
    assert len(view) == len(body) and "?" not in view
    [fact] = extract(body, published=PUB).facts
    assert fact.sentence == body


def test_an_ascii_question_mark_is_left_alone() -> None:
    body = "全县如何巩固脱贫成果?县长说,全县贫困人口已减少到1200人。"
    assert matching_view(body) == body


def test_a_lost_character_between_cue_and_number_does_not_part_them() -> None:
    # 爲 has no Big5 code: the page says "貧困發生率?20.87%".
    body = "2014年,和平縣建檔立卡貧困戶1.01萬戶,貧困發生率?20.87%。"
    got = {f.indicator: f.evidence for f in extract(body, published=PUB).facts}
    assert got["poverty_incidence"] == "貧困發生率?20.87%"


def test_variant_shapes_conversion_leaves_are_read_as_simplified() -> None:
    # Shapes OpenCC keeps as they are (戸, 県, 発, 収) on a Traditional page and on a
    # Simplified one: the facts are those of the page written in standard characters.
    trad = "2019年，長河県貧困戸減少到315戸，貧困発生率降至0.8%，農民人均収入9120元。"
    simp = "2019年，长河县贫困戸减少到315戸，贫困发生率降至0.8%，农民人均收入9120元。"
    plain = "2019年，长河县贫困户减少到315户，贫困发生率降至0.8%，农民人均收入9120元。"
    want = {(k[0], k[1], k[3], k[4]) for k in _key(plain, "长河县扶贫工作")}
    assert {("poor_households", 315), ("poverty_incidence", 0.8)} <= {k[:2] for k in want}
    for body in (trad, simp):
        assert {(k[0], k[1], k[3], k[4]) for k in _key(body, "長河県扶貧工作")} == want


def test_corner_quotes_read_like_mainland_quotes() -> None:
    # Hong Kong and Taiwan pages quote with 「」 and 『』 where mainland pages use “” and ‘’.
    corner = "全縣貧困人口由「十三五」初的4.6萬人減少到2019年底的820人,『兩不愁』全面實現。"
    curly = "全縣貧困人口由“十三五”初的4.6萬人減少到2019年底的820人,‘兩不愁’全面實現。"
    got = _key(corner, "全縣脫貧紀實")
    assert got == _key(curly, "全縣脫貧紀實")
    assert {("poor_population", 46_000), ("poor_population", 820)} <= {k[:2] for k in got}
