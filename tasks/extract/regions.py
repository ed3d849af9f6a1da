"""The gazetteer (``schemas/regions.csv``) and region resolution for one document.

A number is about the most specific region the sentence names for it; 全市/全县
and friends stand for the document's subject region, which is read from the
title and lead and, failing that, from the most-mentioned place. Short names
that several places share are settled by the document's province, or left
unresolved with a note saying why, because a wrong region is worse than none.
"""

from __future__ import annotations

import bisect
import csv
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from operator import attrgetter
from pathlib import Path

from tasks.extract import taxonomy

DEFAULT_PATH = taxonomy.SCHEMAS / "regions.csv"
LEVEL_RANK = {"province": 0, "prefecture": 1, "county": 2}
JOINERS = ("、", "和", "及", "与", "以及", "")
SUFFIX_CHARS = frozenset("省市县区州旗盟")
NUMERAL_START = re.compile(r"[\d零〇一二两三四五六七八九十]")


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


@dataclass
class Gazetteer:
    """China's administrative divisions (province, prefecture, county) with lookups."""

    rows: list[Region]
    by_code: dict[str, Region] = field(init=False)
    _names: dict[str, list[Region]] = field(init=False)
    _shorts: dict[str, list[Region]] = field(init=False)
    _lookup: dict[str, list[Region]] = field(init=False)
    _by_prefix: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _singles: frozenset[str] = field(init=False, repr=False)
    _prefilter: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_code = {r.code: r for r in self.rows}
        self._names = {}
        self._shorts = {}
        for r in self.rows:
            self._names.setdefault(r.name, []).append(r)
            if r.short_name and r.match_short:
                self._shorts.setdefault(r.short_name, []).append(r)
                # everyday forms of autonomous units: 阿坝州, 北川县
                if r.name.endswith("自治州"):
                    self._names.setdefault(r.short_name + "州", []).append(r)
                elif r.name.endswith("自治县"):
                    self._names.setdefault(r.short_name + "县", []).append(r)
        self._lookup = {**self._shorts, **self._names}
        self._index_names()

    def _index_names(self) -> None:
        """Names by their first two characters, and a regex capturing the pair
        (or single character) at every position where a name may start."""
        by_prefix: dict[str, list[str]] = {}
        for name in self._lookup:
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
        return list(self._names)

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
        return out

    def exact(self, word: str) -> list[Region]:
        """Candidates by official name (or 阿坝州-style alias) only."""
        return self._names.get(word) or []

    def province_row(self, region: Region) -> Region:
        return self.by_code[region.code[:2] + "0" * 10]


def read_gazetteer(path: Path) -> Gazetteer:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [
            Region(
                code=r["code"],
                name=r["name"],
                level=r["level"],
                parent_code=r["parent_code"] or None,
                province=r["province"],
                prefecture=r["prefecture"] or None,
                short_name=r["short_name"],
                match_short=r["match_short"] == "1",
            )
            for r in csv.DictReader(fh)
        ]
    return Gazetteer(rows)


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The packaged gazetteer, read once per process."""
    return read_gazetteer(DEFAULT_PATH)


# ---------------------------------------------------------------- per document


@dataclass
class Mention:
    start: int
    end: int
    text: str
    candidates: tuple[Region, ...]
    region: Region | None = None
    note: str | None = None
    role: str = "subject"  # subject | partner | member | foreign
    in_title: bool = False


@dataclass
class DocRegions:
    mentions: list[Mention]  # body mentions in text order
    subject: Region | None
    province: str | None  # province code the document is about
    gazetteer: Gazetteer

    def before(self, start: int, end: int) -> Mention | None:
        """Nearest subject-role mention inside [start, end)."""
        i = bisect.bisect_left(self.mentions, end, key=attrgetter("start")) - 1
        while i >= 0 and self.mentions[i].start >= start:
            if self.mentions[i].role == "subject":
                return self.mentions[i]
            i -= 1
        return None


def find_mentions(tokens: Iterable[tuple[str, int, int]], gaz: Gazetteer) -> list[Mention]:
    """Tokens that name a place; a token that merely starts with an official
    name (jieba's "贵州省政府", "平凉市委") yields that name."""
    out = []
    lookup = gaz._lookup
    for word, start, end in tokens:
        cands = lookup.get(word)
        if cands:
            out.append(Mention(start, end, word, tuple(cands)))
            continue
        if len(word) < 4:
            continue
        for cut in range(len(word) - 1, 2, -1):
            if word[cut - 1] not in SUFFIX_CHARS:
                continue
            cands = gaz.exact(word[:cut])
            if cands:
                out.append(Mention(start, start + cut, word[:cut], tuple(cands)))
                break
    return out


def _pick(cands: Sequence[Region], province: str | None) -> tuple[Region | None, str | None]:
    if len(cands) == 1:
        return cands[0], None
    pool = [c for c in cands if province and c.code[:2] == province[:2]] or list(cands)
    if len({c.code[:2] for c in pool}) == 1:
        top = min(LEVEL_RANK[c.level] for c in pool)
        best = [c for c in pool if LEVEL_RANK[c.level] == top]
        if len(best) == 1:
            return best[0], None
    names = "/".join(sorted({f"{c.province}{c.name}" for c in pool}))
    return None, f"ambiguous: {len(pool)} places ({names})"


def _roles(body: str, mentions: list[Mention], partner_markers: Sequence[str]) -> None:
    """Mark partner groups (与天津市河西区、武清区…) and enumerated members
    (北川、平武2个贫困县): neither is the region the number is about."""
    i = 0
    while i < len(mentions):
        j = i
        while j + 1 < len(mentions) and body[mentions[j].end : mentions[j + 1].start] in JOINERS:
            j += 1
        group = mentions[i : j + 1]
        head = body[max(0, group[0].start - 4) : group[0].start]
        tail = body[group[-1].end : group[-1].end + 4]
        role = "subject"
        if any(head.endswith(w) for w in partner_markers):
            role = "partner"
        elif NUMERAL_START.match(tail) or (
            tail[:1] in ("、", "和") and NUMERAL_START.match(tail[3:4] or tail[2:3])
        ):
            role = "member"
        for m in group:
            m.role = role
        i = j + 1


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


def resolve_document(
    body: str,
    tokens: Iterable[tuple[str, int, int]],
    title_tokens: Iterable[tuple[str, int, int]] = (),
    *,
    lead_chars: int = 150,
) -> DocRegions:
    """Resolve every mention and pick the document's subject region."""
    gaz = load_gazetteer()
    lex = taxonomy.load().lexicon
    mentions = find_mentions(tokens, gaz)
    titled = find_mentions(title_tokens, gaz)
    for m in titled:
        m.in_title = True
    votes: Counter[str] = Counter()
    for m in (*titled, *titled, *titled, *mentions):
        provs = {c.code[:2] for c in m.candidates}
        if len(provs) == 1:
            votes[next(iter(provs))] += 1
    province = votes.most_common(1)[0][0] + "0" * 10 if votes else None
    for m in (*titled, *mentions):
        m.region, m.note = _pick(m.candidates, province)
    _roles(body, mentions, lex["partner_markers"])
    _foreign(mentions, province)
    subject = None
    in_title = [m.region for m in titled if m.region]
    if in_title:
        subject = max(in_title, key=lambda r: LEVEL_RANK[r.level])
    else:
        score: Counter[str] = Counter()
        first: dict[str, int] = {}
        for m in mentions:
            if m.region is None or m.role in ("partner", "foreign"):
                continue
            score[m.region.code] += 1 + (2 if m.start < lead_chars else 0)
            first.setdefault(m.region.code, m.start)
        if score:
            code = max(score, key=lambda c: (score[c], -first[c]))
            subject = gaz.by_code[code]
    if subject is not None:
        province = subject.code[:2] + "0" * 10
    return DocRegions(mentions, subject, province, gaz)


def resolve_anaphor(
    word: str, doc: DocRegions, paragraph_start: int, position: int
) -> tuple[Region | None, str | None]:
    """全市/全县/该县/全省 … -> the region it stands for, with a note when unsure."""
    suffix = taxonomy.load().lexicon["anaphors"][word]
    subject = doc.subject
    if subject is None:
        return None, f"{word}: document has no subject region"
    if suffix == "省":
        return doc.gazetteer.province_row(subject), None
    if subject.name.endswith(suffix):
        return subject, None
    i = bisect.bisect_left(doc.mentions, position, key=attrgetter("start")) - 1
    while i >= 0 and doc.mentions[i].start >= paragraph_start:
        m = doc.mentions[i]
        if m.region is not None and m.region.name.endswith(suffix):
            return m.region, None
        i -= 1
    return subject, f"{word} taken as the document subject {subject.name}"
