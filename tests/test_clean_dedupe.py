"""Near-duplicate detection with MinHash signatures."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fupin.tasks.clean.dedupe import body_signature, find_near_duplicates, similarity

REPO = Path(__file__).resolve().parents[1]

STORY = (
    "今年以来,某县把发展食用菌产业作为脱贫攻坚的重要抓手,新建标准化大棚三百二十座,"
    "带动一千四百户群众户均增收六千元。县农业农村局负责人介绍,全县统一提供菌棒和技术指导,"
    "合作社负责收购和销售,农户只管种植管理,风险大大降低。下一步,县里还将建设冷库和加工车间,"
    "延长产业链条,让群众在家门口就能稳定增收。在该县东部的一个村子里,五十多岁的村民老李"
    "去年种了两万棒香菇,除去成本净赚四万多元,他说自己从没想过在家里也能挣到这么多钱。"
    "村党支部书记表示,村里的年轻人也开始回乡创业,有的搞电商直播,有的办起了农家乐,"
    "村子一天比一天热闹。"
)
# A repost: new headline, a figure rewritten, the last sentence cut, an editor's line added.
REPOST = ("小小香菇撑起脱贫大产业\n"
          + STORY.replace("六千元", "6000元").removesuffix("村子一天比一天热闹。")
          + "\n(责任编辑:王某)")
OTHER = (
    "为解决山区群众饮水难题,某市投入资金一点二亿元实施农村供水保障工程,新建集中供水站四十七处,"
    "铺设管网八百多公里,惠及十二万人。工程建成后,由专业公司负责运营维护,水质每月检测一次,"
    "群众用上了放心水。市水利局表示,明年将继续推进城乡供水一体化,实现自来水村村通。"
)
# What the datasketch-based code stored: 128 little-endian uint64 below 2**32, no header.
LEGACY = np.arange(1, 129, dtype="<u8").tobytes()


def shingles(body: str) -> set[str]:
    text = "".join(body.split())
    return {text[i:i + 5] for i in range(len(text) - 4)}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_identical_bodies_match_whatever_their_line_breaks() -> None:
    relaid = STORY.replace("。", "。\n").replace(",", ", ")
    assert similarity(body_signature(STORY), body_signature(relaid)) == 1.0
    found = find_near_duplicates([("copy", body_signature(relaid))],
                                 [("orig", body_signature(STORY))])
    assert found == {"copy": "orig"}


def test_repost_with_new_headline_and_trimmed_ending_matches_its_original() -> None:
    assert jaccard(STORY, REPOST) > 0.8  # the premise: it is a near copy
    found = find_near_duplicates(
        [("new-1", body_signature(REPOST)), ("new-2", body_signature(OTHER))],
        [("old-1", body_signature(STORY))],
    )
    assert found == {"new-1": "old-1"}


def test_unrelated_articles_do_not_match() -> None:
    assert similarity(body_signature(STORY), body_signature(OTHER)) < 0.1
    bodies = [("a", STORY), ("b", OTHER)]
    assert find_near_duplicates([(k, body_signature(b)) for k, b in bodies], []) == {}


def test_similarity_estimates_jaccard_of_shingles() -> None:
    half = STORY[: len(STORY) // 2] + OTHER[: len(OTHER) // 2]
    for a, b in [(STORY, REPOST), (STORY, half), (REPOST, half), (STORY, OTHER)]:
        assert abs(similarity(body_signature(a), body_signature(b)) - jaccard(a, b)) < 0.1


def test_copy_of_a_copy_maps_to_the_first_original() -> None:
    # A repost of the repost that also drops the opening: near the repost, not the story.
    copy2 = REPOST.replace("今年以来,某县把发展食用菌产业作为脱贫攻坚的重要抓手,", "")
    assert jaccard(STORY, copy2) < 0.8 < jaccard(REPOST, copy2)
    assert similarity(body_signature(STORY), body_signature(copy2)) < 0.8
    bodies = [("a", STORY), ("b", REPOST), ("c", copy2)]
    found = find_near_duplicates([(k, body_signature(b)) for k, b in bodies], [])
    assert found == {"b": "a", "c": "a"}
    # The same when the first original is already in the warehouse.
    found = find_near_duplicates([(k, body_signature(b)) for k, b in bodies[1:]],
                                 [("a", body_signature(STORY))])
    assert found == {"b": "a", "c": "a"}


def test_best_match_wins_and_ties_go_to_the_earliest() -> None:
    sig_story, sig_repost = body_signature(STORY), body_signature(REPOST)
    known = [("weaker", sig_repost), ("first", sig_story), ("second", sig_story)]
    assert find_near_duplicates([("x", sig_story)], known) == {"x": "first"}
    assert find_near_duplicates([("x", sig_story)], known[::-1]) == {"x": "second"}


def test_threshold_is_respected() -> None:
    half = STORY[: len(STORY) // 2] + OTHER[: len(OTHER) // 2]
    known = [("s", body_signature(STORY))]
    assert find_near_duplicates([("x", body_signature(half))], known) == {}
    assert find_near_duplicates([("x", body_signature(half))], known, threshold=0.2) == {"x": "s"}
    with pytest.raises(ValueError):
        find_near_duplicates([], known, threshold=0.0)


@pytest.mark.parametrize("threshold", [0.3, 0.6, 0.8, 0.9, 1.0])
def test_banding_finds_every_pair_that_reaches_the_threshold(threshold: float) -> None:
    sig_story = body_signature(STORY)
    for cut in range(0, len(STORY) - 20, 7):
        variant = body_signature(STORY[cut:] + OTHER[:cut])
        expected = {"x": "s"} if similarity(sig_story, variant) >= threshold else {}
        assert find_near_duplicates([("x", variant)], [("s", sig_story)], threshold) == expected


def test_short_bodies_never_match() -> None:
    assert body_signature("太短") == b""
    assert body_signature(" 一 二\n三 四 ") == b""  # four characters once spaces are gone
    assert body_signature("一二三四五") != b""
    assert similarity(b"", b"") == 0.0
    short = body_signature("四个字啊")
    found = find_near_duplicates([("a", short), ("b", short)], [("k", short), ("e", b"")])
    assert found == {}


def test_legacy_signatures_are_ignored_without_error() -> None:
    sig = body_signature(STORY)
    assert len(sig) != len(LEGACY)
    assert similarity(LEGACY, LEGACY) == 0.0
    assert similarity(LEGACY, sig) == similarity(sig, LEGACY) == 0.0
    found = find_near_duplicates([("new", LEGACY), ("new2", LEGACY), ("c", sig)],
                                 [("old", LEGACY)])
    assert found == {}
    # A legacy-signed original does not hide a re-signed one of the same key.
    assert find_near_duplicates([("c", sig)], [("k", LEGACY), ("k", sig)]) == {"c": "k"}


def test_corrupt_signatures_raise() -> None:
    sig = body_signature(STORY)
    for bad in (sig[:-1], sig + b"\x00", b"x" + sig[1:], b"\x00" * 16):
        with pytest.raises(ValueError):
            similarity(bad, sig)


def test_signatures_are_deterministic_across_processes() -> None:
    code = ("import sys; from fupin.tasks.clean.dedupe import body_signature; "
            "sys.stdout.write(body_signature(sys.argv[1]).hex())")
    for hash_seed in ("0", "12345"):
        out = subprocess.run([sys.executable, "-c", code, STORY], cwd=REPO, check=True,
                             capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout
        assert bytes.fromhex(out) == body_signature(STORY)


def test_signature_format_is_pinned() -> None:
    # Stored signatures only compare with ones made the same way: a change to the
    # hashing must come with a new header, and then this digest is updated.
    digest = hashlib.sha256(body_signature(STORY)).hexdigest()
    assert digest == "ee9c89c0c52854631496c4d69b16389c26c8170c1f703f49d91f0126fa981e34"
