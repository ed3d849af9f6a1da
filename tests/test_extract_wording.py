"""Which sentence shapes of real pages yield which indicator and value.

Every sentence here is written for these tests, in the shape real pages use
(village profiles, counts of exited counties, relocation tallies, not-facts).
"""

from __future__ import annotations

from datetime import date

import pytest

from tasks.extract import extract

PUB = date(2020, 12, 1)


def brief(body: str, published: date | None = PUB) -> list[tuple[str, float]]:
    ex = extract(body, title=None, published=published)
    for f in ex.facts:
        assert body[f.char_start : f.char_end] == f.evidence
    return [(f.indicator, f.value) for f in ex.facts]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a bracket after the count ("尚有贫困村42个(其中…)") is no measure word
        ("目前全县尚有贫困村42个(其中深度贫困村30个)。", [("poor_villages", 42)]),
        # a count whose noun is a bare 县/村 joins the list after it, and the
        # event after the list is its verb
        ("全县还有38个村、1.2万人未脱贫摘帽。",
         [("poor_villages", 38), ("poor_population", 12_000)]),
        ("2019年,112个村、9870人精准脱贫出列。",
         [("villages_exited", 112), ("lifted_population", 9870)]),
        ("全州7个县(市)、402个贫困村全部脱贫。",
         [("counties_exited", 7), ("villages_exited", 402)]),
        # 脱贫 after "N个县全部" is the verb, not what is counted
        ("截至11月,这24个县全部脱贫摘帽。", [("counties_exited", 24)]),
    ],
)
def test_counts_of_bare_villages_and_counties(body: str, expected: list) -> None:
    assert brief(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a count with no noun before an event counts what the sentence counted last
        ("全省原有58个贫困县,截至去年底,已有41个实现脱贫摘帽,未摘帽县只剩17个。",
         [("poor_counties", 58), ("counties_exited", 41), ("poor_counties", 17)]),
        ("全省37个扶贫工作重点县中,已有12个摘掉了贫困帽子。",
         [("poor_counties", 37), ("counties_exited", 12)]),
        # ... but not when a noun of its own stands in between, nor with no count before
        ("全市有9个贫困县,另有4个乡镇全部脱贫。", [("poor_counties", 9)]),
        ("全省已有15个实现脱贫摘帽。", []),
        ("全市5个国家重点贫困县(区)均已实现脱贫摘帽。", [("counties_exited", 5)]),
        # a short bracket after the cue ("贫困县(市、区)") does not hide the count
        ("全省有贫困县(市、区)23个。", [("poor_counties", 23)]),
        # an event after 和 belongs to the next noun, not to the count
        ("全国剩余41个贫困县和脱贫难度大的900个贫困村挂牌督战。",
         [("poor_counties", 41), ("poor_villages", 900)]),
    ],
)
def test_counts_of_counties_that_exited_or_remain(body: str, expected: list) -> None:
    assert brief(body) == expected
