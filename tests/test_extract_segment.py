"""jieba set-up: once per process, with the domain words as single tokens."""

from __future__ import annotations

import jieba
from hypothesis import given, settings
from hypothesis import strategies as st

from fupin.tasks.extract import segment


def test_ensure_jieba_is_idempotent() -> None:
    segment.ensure_jieba()
    words = len(segment.jieba.dt.FREQ)
    for _ in range(3):
        segment.ensure_jieba()
    assert len(segment.jieba.dt.FREQ) == words  # the dictionary is not extended again


def test_user_dictionary_keeps_cues_and_places_whole() -> None:
    words = [t.word for t in segment.tokenize("北川羌族自治县建档立卡贫困户和脱贫监测户")]
    assert "北川羌族自治县" in words
    assert "建档立卡贫困户" in words
    assert "脱贫监测户" in words


def test_offsets_slice_back() -> None:
    text = "2014年全市有建档立卡贫困户10.11万户40.6万人。"
    for t in segment.tokenize(text):
        assert text[t.start : t.end] == t.word


def test_user_words_cover_taxonomy_and_gazetteer() -> None:
    words = segment.user_words()
    assert "财政专项扶贫资金" in words and "河曲县" in words
    assert jieba.dt.FREQ.get("财政专项扶贫资金")  # added to the live dictionary


# ---------------------------------------------------------------- partial segmentation

# text close to real pages: CJK, ASCII/full-width digits, Latin, punctuation, \r\n
_PIECES = ["北川羌族自治县", "建档立卡贫困户", "脱贫攻坚", "全县", "10.11万户", "3-5", "1,234",
           "GDP", "A股", "，", "。", "、", "“", "”", "(", ")", " ", "\n", "\r\n", "\t", "％", "７",
           "+", "#", "&", "_", "-", ".", "%", "贫困发生率", "以来", "其中"]  # fmt: skip
mixed = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)), max_size=30).map("".join)


def _whole_pass(text: str) -> tuple[list[tuple[str, int, int]], set[int]]:
    toks = segment.tokens(text)
    return [t for t in toks if segment.BLOCK.fullmatch(t[0])], {b for _, _, b in toks} | {0}


@settings(max_examples=300, deadline=None)
@given(mixed)
def test_cut_block_is_jiebas_cut(text: str) -> None:
    segment.ensure_jieba()
    for m in segment.BLOCK.finditer(text):
        assert segment.cut_block(m.group()) == list(jieba.dt.cut(m.group(), HMM=False))


@settings(max_examples=300, deadline=None)
@given(mixed)
def test_segmentation_agrees_with_a_whole_text_pass(text: str) -> None:
    block_tokens, ends = _whole_pass(text)
    lazy = segment.Segmentation(text)
    # boundaries are answered (cutting on demand) without cutting anything up front
    assert [p in lazy for p in range(-1, len(text) + 2)] == [
        p in ends for p in range(-1, len(text) + 2)
    ]
    assert lazy.tokens() == [t for t in block_tokens if lazy._block(t[1]) in lazy._tokens]
    full = segment.Segmentation(text)
    assert full.uncut() == text
    full.cut([(0, len(text))])
    assert full.tokens() == block_tokens
    assert not segment.BLOCK.search(full.uncut())


def test_cutting_one_sentence_gives_the_whole_pass_tokens_there() -> None:
    text = "脱贫攻坚取得决定性成就。全县建档立卡贫困户10.11万户全部脱贫。群众满意度持续提升。"
    a = text.index("全县")
    b = text.index("。", a) + 1
    seg = segment.Segmentation(text)
    seg.cut([(a, b)])
    block_tokens, _ = _whole_pass(text)
    assert seg.tokens() == [t for t in block_tokens if a <= t[1] and t[2] <= b]
    assert "脱贫攻坚" not in [w for w, _, _ in seg.tokens()]  # the other sentences stay uncut
    assert "脱贫攻坚取得决定性成就" in seg.uncut()


def test_cut_at_positions_cuts_only_their_blocks() -> None:
    text = "今年以来,北川羌族自治县加快发展,群众增收。"
    seg = segment.Segmentation(text)
    seg.cut(at=[text.index("北川") + 1])
    start = text.index("北川")
    assert seg.tokens() == [("北川羌族自治县", start, start + 7), ("加快", start + 7, start + 9),
                            ("发展", start + 9, start + 11)]  # fmt: skip
    assert seg.uncut() == "今年以来,\n,群众增收。"


def test_word_cost_memo_is_dropped_when_the_dictionary_grows(monkeypatch) -> None:
    segment.ensure_jieba()
    memo = segment._word_costs()
    segment.cut_block("建档立卡贫困户")
    assert memo and segment._word_costs() is memo
    monkeypatch.setattr(jieba.dt, "total", jieba.dt.total + 1)
    assert segment._word_costs() is not memo
