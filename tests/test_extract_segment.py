"""jieba set-up: once per process, with the domain words as single tokens."""

from __future__ import annotations

import time

import jieba

from tasks.extract import segment


def test_ensure_jieba_is_idempotent_and_cheap_after_first_call() -> None:
    segment.ensure_jieba()
    t = time.perf_counter()
    for _ in range(100):
        segment.ensure_jieba()
    assert time.perf_counter() - t < 0.05


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
