"""Property tests: any text is safe to extract from, and every fact is consistent."""

from __future__ import annotations

import math
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fupin.tasks.extract import extract
from fupin.tasks.extract.numbers import find_quantities

# fragments that make hypothesis produce text close to real sentences
FRAGMENTS = [
    "全县", "全市", "贫困户", "贫困人口", "建档立卡", "贫困村", "贫困县", "全部退出", "脱贫",
    "摘帽", "其中", "从", "增加到", "累计", "投入", "财政专项扶贫资金", "帮扶资金", "第一书记",
    "贫困发生率为", "易地扶贫搬迁", "危房改造", "监测户", "边缘户", "万", "亿", "万元", "亿元",
    "户", "人", "个", "名", "%", "元", "余", "多", "近", "约", "以上", "以下", "左右", "、", "和",
    ",", "，", "。", ";", "；", "\n", "(", ")", "“", "”", "年", "2014年", "今年以来", "去年",
    "十三五", "截至", "9月23日", "平凉市", "河曲县", "北川", "两", "八九千", "一千余", "3-5",
    "10.11", "1,234", "0.99", "７", "以来", "每年", "其中农业人口",
]  # fmt: skip
texty = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4), st.integers(0, 10**9).map(str)),
    max_size=40,
).map("".join)


def _check(body: str) -> None:
    ex = extract(body, title=body[:10] or None, published=date(2020, 6, 1))
    for f in ex.facts:
        assert body[f.char_start : f.char_end] == f.evidence
        assert f.evidence
        assert f.sentence in body
        assert math.isfinite(f.value) and f.value >= 0
        assert 0.0 <= f.confidence <= 1.0
        assert f.qualifier in {"exact", "approx", "at_least", "at_most"}
        if f.subset_of is not None:
            assert 0 <= f.subset_of < len(ex.facts)
    for s in ex.skips:
        assert body[s.char_start : s.char_end] == s.text
    assert len(ex.keywords) <= 10


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texty)
def test_domain_like_text(body: str) -> None:
    _check(body)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text(body: str) -> None:
    _check(body)


@settings(max_examples=300, deadline=None)
@given(texty)
def test_quantities_are_finite_and_inside_text(body: str) -> None:
    for q in find_quantities(body):
        assert 0 <= q.qual_start <= q.start < q.end <= len(body)
        assert math.isfinite(q.value) and q.value >= 0
