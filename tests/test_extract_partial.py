"""Segmenting only what the rules read: same facts as a whole-body pass, exact offsets.

The extractor cuts jieba blocks in sentences holding a quantity, blocks naming
a place and the lead; these tests hold it to the facts, skips and mentions a
whole-body segmentation gives, and check that number-free prose is never cut.
"""

from __future__ import annotations

from datetime import date

import jieba
from hypothesis import HealthCheck, given, settings
from shared_data_extract import all_seeds, load_seed, require_shared
from test_extract_properties import texty

from fupin.tasks.extract import document, extract, keywords, regions, segment
from fupin.tasks.extract.regions import Gazetteer, Region

PUB = date(2020, 6, 1)
PROSE = "驻村工作队队员吃住在村,逐户走访,摸清底数,建立台账。帮扶干部带着政策进村、带着项目入户。\n"


class _WholeBodyDoc(document._Doc):
    """The same rules over a body segmented from end to end (the old behaviour)."""

    def _segment(self) -> list[tuple[str, int, int]]:
        self.seg.cut([(0, len(self.body))])
        return self.seg.tokens()


def _run(cls: type[document._Doc], body: str, title: str | None, published: date | None):
    doc = cls(body, title, published)
    doc.run()
    return doc


def _same_as_whole_body(body: str, title: str | None, published: date | None) -> None:
    part = _run(document._Doc, body, title, published)
    whole = _run(_WholeBodyDoc, body, title, published)
    assert part.facts == whole.facts
    assert part.skips == whole.skips
    assert part.regions.mentions == whole.regions.mentions
    assert part.regions.subject == whole.regions.subject


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texty, texty, texty)
def test_partial_segmentation_gives_the_whole_body_facts(a: str, b: str, title: str) -> None:
    # past the lead, so that only sentences with numbers and blocks with places are cut
    body = PROSE * 7 + a + "\n" + PROSE + b
    _same_as_whole_body(body, title or None, PUB)
    _same_as_whole_body(a, title or None, PUB)


def test_seed_pages_give_the_whole_body_facts() -> None:
    require_shared()
    for seed in all_seeds():
        doc = load_seed(seed)
        _same_as_whole_body(doc.body, doc.title, doc.published)


def test_cut_block_is_jiebas_cut_on_the_seed_pages() -> None:
    require_shared()
    segment.ensure_jieba()
    for seed in all_seeds():
        for m in segment.BLOCK.finditer(load_seed(seed).body):
            assert segment.cut_block(m.group()) == list(jieba.dt.cut(m.group(), HMM=False))


def test_offsets_slice_back_when_only_some_sentences_are_segmented() -> None:
    body = (
        PROSE * 6
        + "群众满意度持续提升。2019年,全县减少贫困人口1.99万人,50个贫困村脱贫出列。\n"
        + PROSE * 6
        + "河曲县扎实推进产业扶贫。"
    )
    doc = _run(document._Doc, body, None, PUB)
    cut = {(a, b) for _, a, b in doc.tokens}
    assert sum(b - a for a, b in cut) < len(body) / 2  # most of the prose is never cut
    assert not any(a > document.KEYWORD_LEAD and b <= body.index("群众满意度") for a, b in cut)
    assert [(f.indicator, f.value) for f in doc.facts] == [
        ("lifted_population", 19900.0),
        ("villages_exited", 50.0),
    ]
    for f in doc.facts:
        assert body[f.char_start : f.char_end] == f.evidence
        assert f.sentence.startswith("2019年") and f.region == "河曲县" and f.year == 2019
    _same_as_whole_body(body, None, PUB)


def test_page_without_numbers_yields_no_facts_and_segments_only_the_lead() -> None:
    body = PROSE * 400  # ~20,000 characters, no number, no place
    extract(body[:200])  # jieba and the lexicon loaded
    ex = extract(body, title="扶贫路上的坚守", published=PUB)
    assert ex.facts == [] and ex.skips == []
    assert {"驻村", "工作队", "帮扶", "台账"} & {w for w, _ in ex.keywords}
    doc = document._Doc(body, None, PUB)
    assert max(b for _, _, b in doc.tokens) < document.KEYWORD_LEAD + 40  # only the lead is cut


def test_keywords_count_words_over_the_uncut_text() -> None:
    body = "易地扶贫搬迁让群众住上了新房。\n" + PROSE * 8 + "村里推进易地扶贫搬迁,新房整齐。" * 10
    doc = document._Doc(body, None, PUB)
    assert [w for w, _, _ in doc.tokens].count("易地扶贫搬迁") == 1  # only the lead is cut
    ex = extract(body, published=PUB)
    assert ex.keywords[0][0] == "易地扶贫搬迁"  # counted on the whole page
    assert len(ex.keywords) == 10 and all(w > 0 for _, w in ex.keywords)


def test_word_counts_take_off_occurrences_inside_longer_words() -> None:
    text = "脱贫攻坚,脱贫,精准脱贫攻坚。"
    assert keywords.word_counts(text, ["脱贫", "脱贫攻坚", "攻坚", "。"]) == {
        "脱贫攻坚": 2,
        "脱贫": 1,
    }
    # words the text lacks, whole or with all their characters scattered in it
    assert keywords.word_counts(text, ["脱贫", "扶贫", "贫脱", "精准扶贫"]) == {"脱贫": 3}


def test_keywords_stay_the_same_when_the_idf_memo_overflows(monkeypatch) -> None:
    body = "易地扶贫搬迁让群众住上了新房。\n" + PROSE * 3 + "驻村工作队帮扶贫困户建档立卡。" * 4
    keywords._IDF_SEEN.clear()
    expected = extract(body, published=PUB).keywords
    # a memo of three words is full at every page: it is emptied and refilled
    monkeypatch.setattr(keywords, "MEMO_WORDS", 3)
    for _ in range(2):
        assert extract(body, published=PUB).keywords == expected


def test_name_starts_cover_every_mention_on_the_seed_pages() -> None:
    require_shared()
    gaz = regions.load_gazetteer()
    for seed in all_seeds():
        body = load_seed(seed).body
        starts = set(gaz.name_starts(body))
        mentions = regions.find_mentions(segment.tokens(body), gaz)
        assert mentions and {m.start for m in mentions} <= starts


def test_name_starts_with_one_character_names() -> None:
    rows = [
        Region("110000000000", "京", "province", None, "京", None, "", False),
        Region("120000000000", "天津市", "province", None, "天津市", None, "天津", True),
    ]
    gaz = Gazetteer(rows)
    assert gaz.name_starts("北京天津和京") == [1, 2, 5]
    assert Gazetteer([]).name_starts("天津市") == []
