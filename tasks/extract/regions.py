"""The gazetteer (``schemas/regions.csv``, ``schemas/townships.csv``) and region
resolution for one document.

A number is about the most specific region the sentence names for it; 全市/全县
and friends stand for the document's subject region, which is read from the
title and lead and, failing that, from the most-mentioned place; a page whose
lead names a township or village under its county (方城县某镇) or opens with
it, and which says 全镇/全村 at least as often as 全县, is that township's or
village's page. Short names that several places share are settled by the
document's province, or left unresolved with a note saying why, because a
wrong region is worse than none. Township names repeat across China (82 城关镇),
so a township counts only where the page names its county, prefecture or
province. Villages are not listed anywhere: a name ending in 村 (or 社区)
becomes a place when the page ties it to its township or county. 全国/我国 is
the country; a dateline place (本报北京…电) is
where a report was filed, never what a number is about.
"""

from __future__ import annotations

import bisect
import csv
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from operator import attrgetter, itemgetter
from pathlib import Path

import yaml

from fupin.tasks import wordlists
from fupin.tasks.extract import taxonomy

DEFAULT_PATH = taxonomy.SCHEMAS / "regions.csv"
TOWNSHIPS_PATH = taxonomy.SCHEMAS / "townships.csv"
WORDS_PATH = taxonomy.SCHEMAS / "region_words.yaml"
LEVEL_RANK = {"national": -1, "province": 0, "prefecture": 1, "county": 2, "township": 3,
              "village": 4}
NUMERAL_START = re.compile(r"[\d零〇一二两三四五六七八九十]")
_NUMERALS = "\\d零〇一二两三四五六七八九十"
# a bare count of places (8个省份, 等9个县): a number, then a kind of place and no more
COUNTED_GROUP = re.compile(f"等?[{_NUMERALS}]+个?[^{_NUMERALS}、]{{1,4}}")
CLAUSE_END = re.compile(r"[,，;；。:：!！?？、\s]")
# 某县等9个县, 某县等最后9个县, 某县等首批12个县: the place heads a counted group
ENUM_TAIL = re.compile(r"等[\u4e00-\u9fff]{0,2}?[\d零〇一二两三四五六七八九十]")
YEAR_START = re.compile(r"(?:\d{4}|[〇零一二三四五六七八九]{4})年")  # 华亭县2016年…: no count
CJK_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
LINE_TAGS = re.compile(r"[<〈【\[(（][^>〉】\])）]{0,6}[>〉】\])）]")
SENTENCE_END = re.compile(r"[。！？!?；;\n]")
SPARE_SUFFIXES = frozenset("区县市旗")
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None
    province: str
    prefecture: str | None
    short_name: str
    match_short: bool
    aliases: tuple[str, ...] = ()  # former names (华亭县 for 华亭市)


@dataclass
class Gazetteer:
    """China's administrative divisions (country to township) with lookups."""

    rows: list[Region]
    national_words: tuple[str, ...] = ()
    by_code: dict[str, Region] = field(init=False)
    _names: dict[str, list[Region]] = field(init=False)
    _shorts: dict[str, list[Region]] = field(init=False)
    _lookup: dict[str, list[Region]] = field(init=False)
    _by_prefix: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _singles: frozenset[str] = field(init=False, repr=False)
    _prefilter: re.Pattern[str] = field(init=False, repr=False)
    _towns: frozenset[str] = field(init=False, repr=False)
    _town_lengths: tuple[int, ...] = field(init=False, repr=False)
    _town_ends: re.Pattern[str] = field(init=False, repr=False)
    _scan: tuple[str, list[tuple[int, int, str]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_code = {r.code: r for r in self.rows}
        self._names = {}
        self._shorts = {}
        for r in self.rows:
            self._names.setdefault(r.name, []).append(r)
            for alias in r.aliases:
                self._names.setdefault(alias, []).append(r)
            if r.level == "national":
                for word in self.national_words:
                    if word != r.name:
                        self._names.setdefault(word, []).append(r)
            if r.short_name and r.match_short:
                self._shorts.setdefault(r.short_name, []).append(r)
                # everyday forms of autonomous units: 阿坝州, 北川县
                for ending, short_suffix in region_words()["autonomous_forms"].items():
                    if r.name.endswith(ending):
                        self._names.setdefault(r.short_name + short_suffix, []).append(r)
                        break
        self._lookup = {**self._shorts, **self._names}
        self._index_names()

    def _index_names(self) -> None:
        """Names by their first two characters, and a regex capturing the pair
        (or single character) at every position where a name may start.

        Township names are indexed by how they end instead: 38,000 of them
        begin with nearly any pair of characters, but end in a handful (镇, 乡,
        街道, 苏木), so a page is scanned for those few and looked back from."""
        towns = {n for n, rs in self._lookup.items() if all(r.level == "township" for r in rs)}
        self._towns = frozenset(towns)
        self._town_lengths = tuple(sorted({len(n) for n in towns}, reverse=True))
        # the shortest ending that still means "township": 镇, 乡, but 街道 and
        # 苏木 rather than 道 and 木, which end far more ordinary words
        by_last: dict[str, set[str]] = {}
        for n in towns:
            by_last.setdefault(n[-1], set()).add(n[-2:])
        ends = sorted(next(iter(two)) if len(two) == 1 else c for c, two in by_last.items())
        self._town_ends = re.compile("|".join(map(re.escape, ends)) or "(?!)")
        self._scan = ("", [])
        by_prefix: dict[str, list[str]] = {}
        for name in self._lookup:
            if name not in towns:
                by_prefix.setdefault(name[:2], []).append(name)
        self._by_prefix = {p: tuple(ws) for p, ws in by_prefix.items()}
        self._singles = frozenset(p for p in by_prefix if len(p) == 1)
        pairs = [p for p in by_prefix if len(p) == 2]
        alts = []
        if pairs:
            firsts = re.escape("".join(sorted({p[0] for p in pairs})))
            seconds = re.escape("".join(sorted({p[1] for p in pairs})))
            alts.append(f"[{firsts}][{seconds}]")
        if self._singles:
            alts.append(f"[{re.escape(''.join(sorted(self._singles)))}]")
        self._prefilter = re.compile(f"(?=({'|'.join(alts) or '(?!)'}))")

    def as_dicts(self) -> list[dict[str, object]]:
        """Rows for dim_region."""
        return [asdict(r) for r in self.rows]

    def full_names(self) -> list[str]:
        """Names to teach the segmenter. Not township names: 38,000 more
        dictionary words make every segmentation slower (longer prefix walks),
        and :meth:`township_spans` finds townships in the text directly."""
        return [n for n in self._names if n not in self._towns]

    def short_names(self) -> list[str]:
        return [s for s in self._shorts if s not in self._names]

    def lookup(self, word: str) -> list[Region]:
        """Candidates for a word: exact official names first, else short names."""
        return self._lookup.get(word, [])

    def name_starts(self, text: str) -> list[int]:
        """Positions in ``text`` where a name :meth:`lookup` knows begins.

        Every token :func:`find_mentions` accepts starts with such a name, so
        segmenting only around these positions finds every mention.
        """
        by_prefix, singles = self._by_prefix, self._singles
        out = []
        for m in self._prefilter.finditer(text):
            key = m.group(1)
            if key[0] in singles:
                out.append(m.start())
                continue
            i = m.start()
            for name in by_prefix.get(key, ()):
                if text.startswith(name, i):
                    out.append(i)
                    break
        towns = self.township_spans(text)
        if towns:
            out = sorted({*out, *(a for a, _, _ in towns)})
        return out

    def township_spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, name) of every township name in ``text``, the longest
        where several end at the same place (太平镇 inside 新太平镇). The last
        text's answer is kept: a page is scanned for segmentation, then again
        for its mentions."""
        last_text, last = self._scan
        if last_text is text:
            return last
        towns, lengths = self._towns, self._town_lengths
        out = []
        for m in self._town_ends.finditer(text):
            end = m.end()
            for n in lengths:
                if n <= end and text[end - n : end] in towns:
                    out.append((end - n, end, text[end - n : end]))
                    break
        self._scan = (text, out)
        return out

    def exact(self, word: str) -> list[Region]:
        """Candidates by official name (or 阿坝州-style alias) only."""
        return self._names.get(word) or []

    def province_row(self, region: Region) -> Region:
        return self.by_code[region.code[:2] + "0" * 10]

    def ancestors(self, region: Region) -> list[Region]:
        """The region and its parents up to the province, nearest first."""
        out = [region]
        while out[-1].parent_code and out[-1].level != "province":
            parent = self.by_code.get(out[-1].parent_code)
            if parent is None:
                break
            out.append(parent)
        return out


def read_gazetteer(
    *paths: Path, national_words: Sequence[str] = (),
    former_suffixes: Mapping[str, str] | None = None,
) -> Gazetteer:
    """The gazetteer in ``paths``. A township whose name ends in a key of
    ``former_suffixes`` also answers to its name with the old suffix (某镇 was
    某乡 before it became a town) when no other place has that name."""
    rows = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as fh:
            rows.extend(
                Region(
                    code=r["code"],
                    name=r["name"],
                    level=r["level"],
                    parent_code=r["parent_code"] or None,
                    province=r["province"],
                    prefecture=r["prefecture"] or None,
                    short_name=r["short_name"],
                    match_short=r["match_short"] == "1",
                    aliases=tuple(a for a in r.get("aliases", "").split("|") if a),
                )
                for r in csv.DictReader(fh)
            )
    if former_suffixes:
        taken = {n for r in rows for n in (r.name, *r.aliases)}
        for i, r in enumerate(rows):
            old = former_suffixes.get(r.name[-1:]) if r.level == "township" else None
            if old and (name := r.name[:-1] + old) not in taken:
                rows[i] = replace(r, aliases=(*r.aliases, name))
    return Gazetteer(rows, tuple(national_words))


@lru_cache(maxsize=1)
def region_words() -> dict:
    """``schemas/region_words.yaml`` with its patterns compiled."""
    with WORDS_PATH.open(encoding="utf-8") as fh:
        words = yaml.safe_load(fh)
    words["dateline_after"] = re.compile(words["dateline_after"])
    several = "|".join(f"(?:{p})" for p in words["multi_region"])
    words["multi_region"] = re.compile(wordlists.led(several))  # scanned in every figure
    words["attributive"] = tuple(words["attributive"])
    words["national_sources"] = tuple(words["national_sources"])
    words["province_kinds"] = tuple(words["province_kinds"])
    words["village_followers"] = tuple(words["village_followers"])
    words["village_endings"] = tuple(words["village_endings"])
    words["locators"] = tuple(words["locators"])
    words["village_bodies"] = frozenset(words["village_bodies"])
    words["not_villages"] = frozenset(words["not_villages"])
    words["organisations"] = tuple(words["organisations"])
    words["name_suffixes"] = frozenset(words["name_suffixes"])
    words["local_suffixes"] = frozenset(words["local_suffixes"])
    words["not_village_parts"] = tuple(words["not_village_parts"])
    return words


@lru_cache(maxsize=1)
def anaphors() -> dict[str, str]:
    """Region anaphors (全市, 全镇, 全村 …) -> the suffix of the place they stand for."""
    return {**taxonomy.load().lexicon["anaphors"], **region_words()["anaphors"]}


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The packaged gazetteer, read once per process."""
    return read_gazetteer(DEFAULT_PATH, TOWNSHIPS_PATH,
                          national_words=region_words()["national"],
                          former_suffixes=region_words()["former_suffixes"])


# ---------------------------------------------------------------- per document


@dataclass
class Mention:
    start: int
    end: int
    text: str
    candidates: tuple[Region, ...]
    region: Region | None = None
    note: str | None = None
    # subject | partner | member | foreign | dateline | attribute | address
    role: str = "subject"
    in_title: bool = False
    # a larger place that only says where the one before it lies (某乡是某县…,
    # 该村位于某镇…): the figures after it are still about the smaller place
    locates: bool = False


@dataclass
class DocRegions:
    mentions: list[Mention]  # body mentions in text order
    subject: Region | None
    province: str | None  # province code the document is about
    gazetteer: Gazetteer
    # spans naming several places at once (东部地区, 8个省份, 某县等9个县)
    groups: list[tuple[int, int, str]] = field(default_factory=list)
    site: Region | None = None  # the place the source site names
    # places the page writes only by a former name (华亭县, 部官乡): code -> that name
    written: dict[str, str] = field(default_factory=dict)

    def before(self, start: int, end: int) -> Mention | None:
        """Nearest subject-role mention inside [start, end)."""
        i = bisect.bisect_left(self.mentions, end, key=attrgetter("start")) - 1
        while i >= 0 and self.mentions[i].start >= start:
            m = self.mentions[i]
            if m.role == "subject" and not m.locates:
                return m
            i -= 1
        return None

    def group_between(self, start: int, end: int, counted: bool) -> str | None:
        """A span naming several places that starts inside [start, end): only the
        counted ones ("8个省份", "7个县区") or only the named ones (东部地区)."""
        for a, _, text in self.groups:
            if a >= end:
                break
            # a list of names closed by its count (甲、乙3个村) names its members,
            # and a name with numerals in it (三区三州, 西部12省) is no bare count
            bare_count = COUNTED_GROUP.fullmatch(text) is not None
            if a >= start and bare_count == counted:
                return text
        return None


@lru_cache(maxsize=1)
def _anaphor_words() -> frozenset[str]:
    """全市, 全州, 全乡 …: words that stand for the page's place, whatever county
    shares their letters."""
    lexicon = taxonomy.load().lexicon.get("anaphors", {})
    return frozenset(lexicon) | frozenset(region_words().get("anaphors", {}))


def find_mentions(tokens: Iterable[tuple[str, int, int]], gaz: Gazetteer) -> list[Mention]:
    """Tokens that name a place; a token that merely starts with an official
    name (jieba's "贵州省政府", "平凉市委") yields that name. A short name
    ending like a village (马村 of 马村区) right after a word that is no place
    is the end of a village's name (野 + 马村): a name ending in 村 is a village."""
    out = []
    lookup = gaz._lookup
    anaphors = _anaphor_words()
    endings = region_words()["village_endings"]
    suffixes = region_words()["name_suffixes"]
    prev: tuple[str, int, int] | None = None
    for tok in tokens:
        word, start, end = tok
        before, prev = prev, tok
        if word in anaphors:
            continue  # 全州 ("the whole prefecture") is no mention of 全州县
        cands = lookup.get(word)
        if cands:
            if (word.endswith(endings) and word not in gaz._names and before is not None
                    and before[2] == start and CJK_RUN.fullmatch(before[0])
                    and before[0] not in lookup):
                continue
            out.append(Mention(start, end, word, tuple(cands)))
            continue
        if len(word) < 4:
            continue
        for cut in range(len(word) - 1, 2, -1):
            if word[cut - 1] not in suffixes:
                continue
            cands = gaz.exact(word[:cut])
            if cands:
                out.append(Mention(start, start + cut, word[:cut], tuple(cands)))
                break
    return out


def _with_townships(
    text: str, tokens: Sequence[tuple[str, int, int]], mentions: list[Mention], gaz: Gazetteer
) -> list[Mention]:
    """Add the township names of ``text`` that start where a token starts (the
    segmenter does not know them: 柳湖镇 comes out as 柳 + 湖镇); a mention
    inside one (华亭 in 华亭镇) gives way to it, and one inside a longer mention
    gives way to that (武乡, a former name of 武镇, inside the county 武乡县)."""
    towns = []
    for start, end, name in gaz.township_spans(text):
        i = bisect.bisect_right(tokens, start, key=_start) - 1
        if i >= 0 and tokens[i][1] == start and not any(
                m.start <= start and end <= m.end and m.end - m.start > end - start
                for m in mentions):
            towns.append(Mention(start, end, name, tuple(gaz.lookup(name))))
    if not towns:
        return mentions
    spans = [(m.start, m.end) for m in towns]
    kept = [m for m in mentions if not any(a <= m.start and m.end <= b for a, b in spans)]
    return sorted((*kept, *towns), key=lambda m: m.start)


def _pick(cands: Sequence[Region], province: str | None) -> tuple[Region | None, str | None]:
    if len(cands) == 1:
        return cands[0], None
    pool = [c for c in cands if province and c.code[:2] == province[:2]] or list(cands)
    if len({c.code[:2] for c in pool}) == 1:
        top = min(LEVEL_RANK[c.level] for c in pool)
        best = [c for c in pool if LEVEL_RANK[c.level] == top]
        if len(best) == 1:
            return best[0], None
    return None, _ambiguous(pool)


def _ambiguous(pool: Sequence[Region]) -> str:
    names = "/".join(sorted({f"{c.province}{c.prefecture or ''}{c.name}" for c in pool}))
    return f"ambiguous: {len(pool)} places ({names})"


def _province_kinds(body: str, mentions: Sequence[Mention]) -> tuple[str, ...]:
    """The kinds of province (自治区) the page speaks of without a name
    (落实自治区部署, 自治区扶贫办): its own province is one of that kind."""
    out = []
    for word in region_words()["province_kinds"]:
        i = body.find(word)
        while i != -1:
            if not any(m.start <= i < m.end for m in mentions):
                out.append(word)
                break
            i = body.find(word, i + 1)
    return tuple(out)


def _pick_township(
    cands: Sequence[Region], context: set[str], province: str | None
) -> tuple[Region | None, str | None]:
    """The township whose county, else prefecture, else province the page names;
    a name shared by several is never guessed."""

    def depth(t: Region) -> int:
        for d, code in ((3, t.parent_code), (2, t.code[:4] + "0" * 8), (1, t.code[:2] + "0" * 10)):
            if code in context:
                return d
        return 0

    best = max(depth(c) for c in cands)
    winners = [c for c in cands if depth(c) == best]
    if len(winners) == 1 and (best > 0 or len(cands) == 1):
        t = winners[0]
        if best == 0 and province and t.code[:2] != province[:2]:
            return None, f"{t.name}: township outside the document's province, county not named"
        return t, None
    return None, _ambiguous(winners)


def _roles(body: str, mentions: list[Mention], partner_markers: Sequence[str],
           joiners: Iterable[str]) -> None:
    """Mark partner groups (与天津市河西区、武清区…) and enumerated members
    (北川、平武2个贫困县; 西吉县等9个县): neither is the region the number is about."""
    markers = tuple(partner_markers)  # str.endswith tests a tuple in one call
    joins = frozenset(("", *joiners))
    i = 0
    while i < len(mentions):
        j = i
        while j + 1 < len(mentions) and body[mentions[j].end : mentions[j + 1].start] in joins:
            j += 1
        group = mentions[i : j + 1]
        head = body[max(0, group[0].start - 4) : group[0].start]
        # a short name written with a suffix the gazetteer lacks (洪江 + 区) ends there
        end = group[-1].end + (body[group[-1].end : group[-1].end + 1] in SPARE_SUFFIXES)
        tail = body[end : end + 4]
        role = "subject"
        if head.endswith(markers):
            role = "partner"
        elif (
            # a single place right before a count ("全国832个贫困县", "阿坝州10个县")
            # is the place counted in; a list before one (北川、平武2个贫困县) is not
            (len(group) > 1 and NUMERAL_START.match(tail)
             and not YEAR_START.match(body, end))
            or (tail[:1] in ("、", "和") and NUMERAL_START.match(tail[3:4] or tail[2:3]))
            or ENUM_TAIL.match(body, end)
        ):
            role = "member"
        for m in group:
            m.role = role
        i = j + 1


def _not_places(body: str, mentions: list[Mention]) -> None:
    """Datelines (本报北京5月28日电), 全国 as an attribute (全国先进集体) and a
    national body as the source of something (争取国务院扶贫办资金)."""
    words = region_words()
    openers, after = tuple(words["dateline_openers"]), words["dateline_after"]
    sources = words["national_sources"]
    for m in mentions:
        if body.endswith(openers, 0, m.start) or after.match(body, m.end):
            m.role = "dateline"
        elif m.region is not None and m.region.level == "national":
            if is_attribute(body, m.end):
                m.role = "attribute"
            elif body.endswith(sources, 0, m.start):
                m.role = "partner"


def is_attribute(body: str, end: int) -> bool:
    """Whether 全国/全省/全市 … ending at ``end`` ranks or qualifies what follows
    (全国先进集体, 全省第一, 在全市推广) instead of being a figure's place."""
    return body.startswith(region_words()["attributive"], end)


def _addresses(body: str, mentions: list[Mention]) -> None:
    """A township or village that is the address of an organisation named right
    after it (某镇某村某合作社…带动贫困户80户) is not what the number is about."""
    orgs = region_words()["organisations"]
    for m in mentions:
        if m.region is None or m.region.level not in ("township", "village"):
            continue
        stretch = CLAUSE_END.split(body[m.end : m.end + 16], maxsplit=1)[0]
        if any(w in stretch for w in orgs):
            m.role = "address"


def _foreign(mentions: list[Mention], province: str | None) -> None:
    """A county outside the document's province counts only when its prefecture
    or province is named just before it ("天津市河西区", "阿坝州红原县"); alone
    it is usually a common word that happens to be a district name elsewhere
    ("针对全县平川区、半山区…")."""
    if province is None:
        return
    for i, m in enumerate(mentions):
        r = m.region
        if r is None or r.level != "county" or r.code[:2] == province[:2]:
            continue
        parents = {r.parent_code, r.code[:2] + "0" * 10}
        prev = mentions[i - 1] if i else None
        if (
            prev is None
            or prev.region is None
            or prev.region.code not in parents
            or (m.start - prev.end > 1)
        ):
            m.role = "foreign"
            m.note = f"{m.text}: county outside the document's province without its parent named"


def _village_spans(
    text: str, toks: Sequence[tuple[str, int, int]],
    within: Sequence[tuple[int, int]] | None = None,
) -> list[tuple[list[int], int]]:
    """Words that may name a village, as (possible starts, end): a token ending
    in 村 or 社区 (红星村), or 村 after two to four characters of whole tokens
    (香铺 + 村; 大 + 玉 + 村; 野 + 马村, since the segmenter cuts unknown names into
    characters), shortest first; only inside ``within`` when given. Which
    start is the name's is for the caller to settle (潭下镇 | 大玉村)."""
    words = region_words()
    span_starts = [a for a, _ in within] if within is not None else []
    out = []
    for ending in words["village_endings"]:
        hit = text.find(ending)
        while hit != -1:
            at, hit = hit + len(ending), text.find(ending, hit + 1)
            i = bisect.bisect_right(toks, at - 1, key=_start) - 1
            if i < 0:
                continue
            word, start, end = toks[i]
            if start == at - len(ending) and word in words["village_bodies"]:
                word, end = ending, at  # 王沟 + 村委会: the village is 王沟村
            elif end != at:
                continue  # 村 inside a word (村民) or in text never segmented
            if within is not None:
                k = bisect.bisect_right(span_starts, start) - 1
                if k < 0 or end > within[k][1]:
                    continue
            starts = []
            if len(word) > len(ending) + 1:
                starts.append(start)
            elif len(word) == len(ending) + 1:
                # a name the segmenter split before its last character (野 + 马村)
                j = i - 1
                while (j >= 0 and toks[j][2] == toks[j + 1][1] and len(toks[j][0]) == 1
                       and CJK_RUN.fullmatch(toks[j][0]) and start - toks[j][1] < 3):
                    starts.append(toks[j][1])
                    j -= 1
            elif word == ending:
                j, size = i - 1, 0
                while j >= 0 and toks[j][2] == toks[j + 1][1]:
                    # one word (香铺) or single characters (大 + 玉), never a
                    # word before characters (发生 + 屠 + 村)
                    size += len(toks[j][0])
                    if size > 4 or not CJK_RUN.fullmatch(toks[j][0]) or (
                        j < i - 1 and len(toks[j][0]) > 1
                    ):
                        break
                    if size >= 2:
                        starts.append(toks[j][1])
                    j -= 1
            if starts:
                out.append((starts, end))
    return sorted(out, key=lambda s: s[1])


def _village_name(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] may be a village's name, not a kind of village
    (贫困村) or a name the gazetteer knows (全国农村)."""
    name = text[start:end]
    return (
        name not in region_words()["not_villages"]
        and name not in load_gazetteer()._lookup
        and not any(w in name for w in region_words()["not_village_parts"])
    )


def _opens_paragraph(text: str, start: int) -> bool:
    """Whether a name at ``start`` opens a paragraph (a tag such as "<正>" or
    "【】" before it aside): what a page's opening line names is its topic."""
    line = text[text.rfind("\n", 0, start) + 1 : start]
    return not LINE_TAGS.sub("", line).strip()


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


# a token's start, as a bisect key that runs in C (bisect calls it once per probe)
_start = itemgetter(1)


def _village(name: str, parent: Region | None, start: int, end: int) -> Mention:
    """A village under the nearest place the page gives it; a report that names only
    the province (云南某村) still names the village its figures are about."""
    if parent is None or parent.level == "national":
        return Mention(start, end, name, (), None, f"{name}: village, no place above it named")
    region = Region(
        code=f"{parent.code}/{name}", name=name, level="village", parent_code=parent.code,
        province=parent.province, prefecture=parent.prefecture, short_name="",
        match_short=False,
    )
    return Mention(start, end, name, (region,), region)


def _villages(
    text: str, toks: Sequence[tuple[str, int, int]], mentions: list[Mention],
    subject: Region | None, *, title: bool = False,
    within: Sequence[tuple[int, int]] | None = None, lead: int = 0,
) -> list[Mention]:
    """Villages the page ties to a place: named right after their township or
    county (牧护关镇香铺村), else (in the title, opening a paragraph of the
    lead, or opening a clause right before a figure about them: 红星村贫困户…,
    红星村38户…) under the page's place. Once tied to a place, the same name
    anywhere later (省里将红星村评为贫困村时…) is that village."""
    followers = region_words()["village_followers"]
    by_end = {m.end: m for m in mentions if m.region is not None}
    out = []
    known: dict[str, Region] = {}
    for starts, end in _village_spans(text, toks, within):
        starts = [a for a in starts if _village_name(text, a, end)]
        # a county or township right before may take any start (潭下镇 | 大玉村);
        # a province or prefecture only the shortest name, since a verb often
        # stands between it and the village (平凉市把石桥村列为…)
        chained = [a for i, a in enumerate(starts) if a in by_end and (
            by_end[a].region.level in ("county", "township")  # type: ignore[union-attr]
            or (i == 0 and by_end[a].region.level != "national"))]  # type: ignore[union-attr]
        if chained:
            up = by_end[chained[0]].region
            out.append(_village(text[chained[0] : end], up, chained[0], end))
            if out[-1].region is not None:
                known.setdefault(out[-1].text, out[-1].region)
            continue
        again = [a for a in starts if text[a:end] in known]
        if again:
            region = known[text[again[0] : end]]
            out.append(Mention(again[0], end, region.name, (region,), region))
            continue
        opening = [a for a in starts if a == 0 or CLAUSE_END.match(text, a - 1)
                   or _opens_paragraph(text, a)]
        if title and starts:
            at = (opening or starts)[0]
        elif opening and (
            (opening[0] < lead and _opens_paragraph(text, opening[0]))
            or text.startswith(followers, end) or text[end : end + 1].isdigit()
        ):
            at = opening[0]
        elif starts and _village_anaphor().search(text, end, _paragraph_end(text, end)):
            # "任红星村第一书记,……全村贫困户79户": the village its paragraph calls 全村
            at = starts[0]
        else:
            continue
        out.append(_village(text[at:end], subject, at, end))
        if out[-1].region is not None:
            known.setdefault(out[-1].text, out[-1].region)
    return out


def resolve_document(
    body: str,
    tokens: Iterable[tuple[str, int, int]],
    title_tokens: Iterable[tuple[str, int, int]] = (),
    *,
    lead_chars: int = 150,
    figure_spans: Sequence[tuple[int, int]] | None = None,
    site_tokens: Iterable[tuple[str, int, int]] = (),
) -> DocRegions:
    """Resolve every mention and pick the document's subject region.

    The source site's place (河曲县人民政府网) is the subject only when neither
    title nor body names one, and the place 我县/本县 may stand for.

    Villages and groups of places (东部地区) are looked for only inside
    ``figure_spans`` (the sentences that hold a number, when given): they
    matter only to the figures next to them, and only those sentences are
    always segmented.
    """
    gaz = load_gazetteer()
    lex = taxonomy.load().lexicon
    tokens = list(tokens)
    title_tokens = list(title_tokens)
    title = "".join(w for w, _, _ in title_tokens)
    mentions = _with_townships(body, tokens, find_mentions(tokens, gaz), gaz)
    titled = _with_townships(title, title_tokens, find_mentions(title_tokens, gaz), gaz)
    for m in titled:
        m.in_title = True
    votes: Counter[str] = Counter()
    for m in (*titled, *titled, *titled, *mentions):
        # only provinces, prefectures and counties vote: not the country, and
        # not townships, whose names are too often shared or stray
        if not all(0 <= LEVEL_RANK[c.level] <= 2 for c in m.candidates):
            continue
        provs = {c.code[:2] for c in m.candidates}
        if len(provs) == 1:
            votes[next(iter(provs))] += 1
    province = votes.most_common(1)[0][0] + "0" * 10 if votes else None
    towns = []
    for m in (*titled, *mentions):
        if all(c.level == "township" for c in m.candidates):
            towns.append(m)
        else:
            m.region, m.note = _pick(m.candidates, province)
    _roles(body, mentions, lex["partner_markers"], lex["joiners"])
    _not_places(body, mentions)
    _foreign(mentions, province)
    # townships are placed by the places the page is about, not by partners or strays
    context = {
        a.code
        for m in (*titled, *mentions)
        if m.region and m.role in ("subject", "member")
        for a in gaz.ancestors(m.region)
    }
    kinds = () if province else _province_kinds(body, mentions)
    for m in towns:
        cands = [c for c in m.candidates if gaz.province_row(c).name.endswith(kinds)]
        m.region, m.note = _pick_township(cands or m.candidates, context, province)
    subject = _subject(gaz, titled, mentions, lead_chars)
    if subject is not None and subject.level != "national":
        province = subject.code[:2] + "0" * 10
    within = None if figure_spans is None else _union([*figure_spans, (0, lead_chars)])
    villages = _villages(body, tokens, mentions, subject, within=within, lead=lead_chars)
    if villages:
        mentions = sorted((*mentions, *villages), key=lambda m: m.start)
    _addresses(body, mentions)
    subject = _local_subject(body, mentions, subject, gaz, lead_chars) or subject
    for v in _villages(title, title_tokens, titled, subject, title=True):
        # the body may name the village under its township, the title under its county
        deeper = [m.region for m in villages if m.region is not None and m.text == v.text]
        subject = deeper[0] if deeper else v.region or subject
    several = region_words()["multi_region"]
    groups = [(g.start(), g.end(), g.group())
              for a, b in (figure_spans if figure_spans is not None else [(0, len(body))])
              for g in several.finditer(body, a, b)]
    site = None
    for m in find_mentions(site_tokens, gaz):
        region, _ = _pick(m.candidates, province)
        if region is not None and (
            site is None or LEVEL_RANK[region.level] > LEVEL_RANK[site.level]
        ):
            site = region
    if subject is None and site is not None:
        subject, province = site, site.code[:2] + "0" * 10
    _locators(body, mentions, subject, gaz)
    return DocRegions(mentions, subject, province, gaz, groups, site, _written(titled, mentions))


def _written(*groups: Sequence[Mention]) -> dict[str, str]:
    """The former name each place goes by on a page that never writes its
    present name: what its figures are filed under, as the page wrote it."""
    names: dict[str, set[str]] = {}
    for m in (m for g in groups for m in g):
        if m.region is not None:
            names.setdefault(m.region.code, set()).add(m.text)
    out = {}
    for m in (m for g in groups for m in g):
        r = m.region
        if r is not None and m.text in r.aliases and r.name not in names[r.code]:
            out.setdefault(r.code, m.text)
    return out


def _locators(
    body: str, mentions: list[Mention], subject: Region | None, gaz: Gazetteer
) -> None:
    """Mark the places that only locate another: a parent of the place named
    before it in the sentence (or, with none, of the page's subject), right
    after a word such as 位于 or 地处, with any place chained to it (位于某县某镇)."""
    words = region_words()["locators"]
    located = None
    for i, m in enumerate(mentions):
        prev = mentions[i - 1] if i else None
        if prev is not None and prev.locates and prev.end == m.start:
            m.locates = m.region is not None and m.region in gaz.ancestors(located)[1:]
            continue
        if prev is not None and prev.region is not None and not SENTENCE_END.search(
            body, prev.end, m.start
        ):
            located = prev.region
        else:
            located = subject
        if (m.region is not None and located is not None and body.endswith(words, 0, m.start)
                and m.region in gaz.ancestors(located)[1:]):
            m.locates = True


def _subject(
    gaz: Gazetteer, titled: list[Mention], mentions: list[Mention], lead_chars: int
) -> Region | None:
    """The most specific place in the title; else the most-mentioned place,
    mentions in the lead counting triple; the country only when no other place
    is named."""
    in_title = [m.region for m in titled if m.region]
    if in_title:
        return max(in_title, key=lambda r: LEVEL_RANK[r.level])
    score: Counter[str] = Counter()
    first: dict[str, int] = {}
    national = None
    for m in mentions:
        if m.region is None or m.role not in ("subject", "member"):
            continue
        if m.region.level == "national":
            national = m.region
            continue
        score[m.region.code] += 1 + (2 if m.start < lead_chars else 0)
        first.setdefault(m.region.code, m.start)
    if score:
        code = max(score, key=lambda c: (score[c], -first[c]))
        return gaz.by_code[code]
    return national


@lru_cache(maxsize=1)
def _village_anaphor() -> re.Pattern[str]:
    """An anaphor of a village (全村, 该村, 本社区)."""
    words = [w for w, suffix in anaphors().items() if suffix in ("村", "社区")]
    return re.compile("|".join(map(re.escape, words)) or "(?!)")


def _paragraph_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end == -1 else end


@lru_cache(maxsize=1)
def _local_anaphor() -> re.Pattern[str]:
    """Any anaphor of a township or village (全镇, 本村, 该社区)."""
    local = region_words()["local_suffixes"]
    return wordlists.words(w for w, suffix in anaphors().items() if suffix in local).pattern


def _local_subject(
    body: str, mentions: list[Mention], subject: Region | None, gaz: Gazetteer, lead_chars: int
) -> Region | None:
    """A township or village page: the township or village the lead names
    under its county or township (方城县某镇, 某镇某村) or opens a paragraph
    with (某乡是…), when the page speaks of its own level (全镇, 我镇, 全村)
    at least as often as of a larger one (全县, 全区). A county page that
    merely visits a village in its lead keeps its county."""
    if not _local_anaphor().search(body):
        return None  # most pages: no 全镇/全村 to count, nor anything wider then
    own: Counter[str] = Counter()
    local = region_words()["local_suffixes"]
    for word, suffix in anaphors().items():
        n = body.count(word)
        if n:
            own["local" if suffix in local else "wider"] += n
    if not own["local"] or own["local"] < own["wider"]:
        return None
    best = None
    for i, m in enumerate(mentions):
        r = m.region
        if m.start >= lead_chars:
            break
        if r is None or m.role != "subject" or r.level not in ("township", "village"):
            continue
        if subject is not None and subject not in gaz.ancestors(r):
            continue
        prev = mentions[i - 1] if i else None
        chained = (
            prev is not None and prev.region is not None and prev.end == m.start
            and prev.region in gaz.ancestors(r)
        )
        if (chained or _opens_paragraph(body, m.start)) and (
            best is None or LEVEL_RANK[r.level] > LEVEL_RANK[best.level]
        ):
            best = r
    return best


@lru_cache(maxsize=1)
def _counties_under() -> tuple[dict[str, int], Region | None]:
    """How many counties the gazetteer lists under each place, and the country."""
    gaz = load_gazetteer()
    counts: Counter[str] = Counter()
    for r in gaz.rows:
        if r.level == "county":
            counts.update(a.code for a in gaz.ancestors(r)[1:])
    return dict(counts), next((r for r in gaz.rows if r.level == "national"), None)


def counting_region(
    region: Region, unit: str | None, doc: DocRegions, count: float | None = None
) -> Region:
    """The place a count of counties or villages is about. A county cannot
    hold seven counties: when the figure's place is at (or below) the level
    counted (A县和B县两个贫困县, 某县是…辖内七个贫困县之一), the count belongs
    to the page's place if that contains it, else to the place right above.
    Nor can a province hold more counties than it has: 832个贫困县 on a
    province's page, with no place named, is the country's figure."""
    rank = LEVEL_RANK.get(unit or "")
    if rank is None:
        return region
    if LEVEL_RANK[region.level] < rank:
        if unit != "county" or count is None or region.level == "national":
            return region
        held, country = _counties_under()
        if count <= held.get(region.code, 0):
            return region
        for up in doc.gazetteer.ancestors(region)[1:]:
            if count <= held.get(up.code, 0):
                return up
        return country or region
    above = [r for r in doc.gazetteer.ancestors(region)[1:] if LEVEL_RANK[r.level] < rank]
    if doc.subject is not None and doc.subject in above:
        return doc.subject
    return above[0] if above else region


def resolve_anaphor(
    word: str, doc: DocRegions, paragraph_start: int, position: int, sentence_end: int = 0
) -> tuple[Region | None, str | None]:
    """全市/全县/全镇/全村/该县/全省 … -> the region it stands for, with a note when unsure.

    The subject place or one of its parents when its name fits (全区 on a
    township's page is that township's district), then the source site's place
    and its parents (我县 on a county's website); else the latest place of that
    kind named in the paragraph, else the first one named later in the
    sentence (全村252户…,某镇某村是…). A township or village word never falls
    back to a larger place: its figure is not the county's.
    """
    suffix = anaphors()[word]
    subject = doc.subject
    if subject is None:
        return None, f"{word}: document has no subject region"
    if subject.level == "national":
        return None, f"{word}: the document is about the whole country"
    if suffix == "省":
        return doc.gazetteer.province_row(subject), None
    chain = doc.gazetteer.ancestors(subject)
    if doc.site is not None:
        chain += doc.gazetteer.ancestors(doc.site)
    for r in chain:
        if r.name.endswith(suffix):
            return r, None
    i = bisect.bisect_left(doc.mentions, position, key=attrgetter("start")) - 1
    while i >= 0 and doc.mentions[i].start >= paragraph_start:
        m = doc.mentions[i]
        if m.region is not None and m.region.name.endswith(suffix):
            return m.region, None
        i -= 1
    for m in doc.mentions[bisect.bisect_left(doc.mentions, position, key=attrgetter("start")) :]:
        if m.start >= sentence_end:
            break
        if m.region is not None and m.region.name.endswith(suffix):
            return m.region, None
    if suffix in region_words()["local_suffixes"]:
        return None, f"{word}: the page names no {suffix}"
    return subject, f"{word} taken as the document subject {subject.name}"
