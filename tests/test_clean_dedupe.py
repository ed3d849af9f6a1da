"""Near-duplicate detection with MinHash signatures."""

from __future__ import annotations

from tasks.clean.dedupe import NUM_PERM, body_signature, find_near_duplicates, similarity

STORY = (
    "今年以来,某县把发展食用菌产业作为脱贫攻坚的重要抓手,新建标准化大棚三百二十座,"
    "带动一千四百户群众户均增收六千元。县农业农村局负责人介绍,全县统一提供菌棒和技术指导,"
    "合作社负责收购和销售,农户只管种植管理,风险大大降低。下一步,县里还将建设冷库和加工车间,"
    "延长产业链条,让群众在家门口就能稳定增收。在该县东部的一个村子里,五十多岁的村民老李"
    "去年种了两万棒香菇,除去成本净赚四万多元,他说自己从没想过在家里也能挣到这么多钱。"
    "村党支部书记表示,村里的年轻人也开始回乡创业,有的搞电商直播,有的办起了农家乐,"
    "村子一天比一天热闹。"
)
REPOST = "(转自某某网)" + STORY.replace("六千元", "6000元") + "编辑:某某"
OTHER = (
    "为解决山区群众饮水难题,某市投入资金一点二亿元实施农村供水保障工程,新建集中供水站四十七处,"
    "铺设管网八百多公里,惠及十二万人。工程建成后,由专业公司负责运营维护,水质每月检测一次,"
    "群众用上了放心水。市水利局表示,明年将继续推进城乡供水一体化,实现自来水村村通。"
)


def test_signature_is_fixed_size_bytes_and_deterministic() -> None:
    sig = body_signature(STORY)
    assert isinstance(sig, bytes) and len(sig) == NUM_PERM * 8
    assert sig == body_signature(STORY)
    assert body_signature("太短") == b""


def test_similarity_from_signatures() -> None:
    assert similarity(body_signature(STORY), body_signature(REPOST)) > 0.8
    assert similarity(body_signature(STORY), body_signature(OTHER)) < 0.2
    assert similarity(b"", body_signature(STORY)) == 0.0


def test_repost_maps_to_known_original() -> None:
    found = find_near_duplicates(
        [("new-1", body_signature(REPOST)), ("new-2", body_signature(OTHER))],
        [("old-1", body_signature(STORY))],
    )
    assert found == {"new-1": "old-1"}


def test_earlier_candidate_is_the_original_and_copies_of_copies_resolve() -> None:
    copy2 = REPOST + "(完)"
    bodies = [("a", STORY), ("b", REPOST), ("c", copy2)]
    found = find_near_duplicates([(k, body_signature(b)) for k, b in bodies], [])
    assert found == {"b": "a", "c": "a"}


def test_threshold_is_respected() -> None:
    half = STORY[: len(STORY) // 2] + OTHER[: len(OTHER) // 2]
    assert find_near_duplicates([("x", body_signature(half))], [("s", body_signature(STORY))]) == {}
    assert find_near_duplicates([("x", body_signature(half))], [("s", body_signature(STORY))],
                                threshold=0.2) == {"x": "s"}


def test_short_and_empty_bodies_never_match() -> None:
    assert find_near_duplicates([("a", b""), ("b", b"")], [("k", b"")]) == {}
