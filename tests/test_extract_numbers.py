"""Numbers, multipliers, measure words, qualifiers and ranges."""

from __future__ import annotations

import pytest

from fupin.tasks.extract.numbers import find_quantities
from fupin.tasks.extract.units import compatible


def one(text: str):
    qs = find_quantities(text)
    assert len(qs) == 1, [(text[q.start : q.end], q.value) for q in qs]
    return qs[0]


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("共有12.5万户", 125_000, "household"),
        ("投入3.6亿元", 360_000_000, "yuan"),
        ("下降到1.25%", 1.25, "percent"),
        ("合计2,345,600元", 2_345_600, "yuan"),
        ("达到８６户", 86, "household"),  # full-width digits
        ("选派二十名干部", 20, "person"),
        ("培训一千二百人次", 1200, "person"),
        ("两个乡镇", 2, "count"),
        ("人口39万", 390_000, None),  # bare multiplier: unit decided by the cue
        ("建成17个村", 17, "count"),  # the noun after 个 is read by the rules
        ("5县摘帽", 5, "county"),
        ("3千元", 3000, "yuan"),
        ("减少到1660 万人", 16_600_000, "person"),  # a space before the multiplier
        ("共有3100 户", 3100, "household"),
        ("共有3100\u3000户", 3100, "household"),
        ("共有１２，３４５户", 12_345, "household"),  # full-width thousands separator
        ("降至百分之零点五", 0.5, "percent"),
        ("占百分之十二点零八", 12.08, "percent"),
        ("占百分之3.5", 3.5, "percent"),
        ("降至三点五万人", 35_000, "person"),
    ],
)
def test_values_and_units(text: str, value: float, unit: str | None) -> None:
    q = one(text)
    assert q.value == pytest.approx(value)
    assert q.unit == unit


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        ("约3000户", "approx"),
        ("近8万人", "approx"),
        ("120人左右", "approx"),
        ("1500余户", "at_least"),
        ("6000多万元", "at_least"),
        ("2万元以上", "at_least"),
        ("超过90%", "at_least"),
        ("不少于200万元", "at_least"),
        ("5000元以内", "at_most"),
        ("3000元以下", "at_most"),
        ("低于800元", "at_most"),
        ("不到40户", "at_most"),
        ("共计455户", "exact"),
    ],
)
def test_qualifiers(text: str, qualifier: str) -> None:
    assert one(text).qualifier == qualifier


def test_qualifier_word_is_kept_out_of_the_number_but_in_the_span() -> None:
    text = "约3000户"
    q = one(text)
    assert text[q.start : q.end] == "3000户"
    assert q.qual_start == 0


@pytest.mark.parametrize(
    ("text", "value"),
    [("每月收入六七千元", 6000), ("增收3-5万元", 30_000), ("培训20~30人", 20)],
)
def test_ranges_become_lower_bound_at_least(text: str, value: float) -> None:
    q = one(text)
    assert q.is_range
    assert q.value == pytest.approx(value)
    assert q.qualifier == "at_least"


@pytest.mark.parametrize(
    "text",
    [
        "2019年",
        "9月23日",
        "十三五期间",
        "一是加强领导",
        "一户一策",
        "每一名干部",
        "第一书记",
        "近三年",
    ],
)
def test_not_quantities(text: str) -> None:
    assert [q for q in find_quantities(text) if q.unit != "other"] == []


def test_scrubbed_digits_yield_no_number() -> None:
    assert find_quantities("截至年底,该市个贫困村全部退出") == []


def test_list_of_two_numbers() -> None:
    qs = find_quantities("贫困户3.2万户11.5万人")
    assert [(q.value, q.unit) for q in qs] == [(32_000, "household"), (115_000, "person")]


def test_unknown_measure_word_is_other() -> None:
    assert one("存栏12万头").unit is None  # bare; the rules reject it because 头 follows
    assert one("种植3000亩").unit == "other"


def test_unit_compatibility() -> None:
    assert compatible("household", "household")
    assert compatible("yuan_per_person", "yuan")
    assert compatible("village", "count")
    assert compatible("person", None)
    assert not compatible("yuan", None)
    assert not compatible("percent", "yuan")
    assert not compatible("village", "person")


@pytest.mark.parametrize("text", ["2018 年末", "截至2018 年底", "2019 年"])
def test_a_year_written_with_a_space_is_no_quantity(text: str) -> None:
    assert find_quantities(text) == []


def test_a_lone_space_does_not_join_two_numbers_into_one_unit() -> None:
    qs = find_quantities("共有3 个乡镇、15 户")
    assert [(q.value, q.unit) for q in qs] == [(3, "count"), (15, "household")]
