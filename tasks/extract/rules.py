"""Rule families that bind a number to an indicator.

A number becomes a fact only when something in its own clause says what it
counts, in this order of strength:

``event``     counted noun + a change verb after it ("748个贫困村全部退出")
``purpose``   a number followed by what it is for ("30.5亿元用于产业发展",
              "1.2万名干部到贫困村担任第一书记")
``cue_right`` a cue noun right after the number ("7.34万户贫困户")
``cue_left``  a cue right before it ("贫困发生率为20.87%")
``list``      a number following another with no words between ("10.11万户40.6万人")
``subset``    a "其中…" part of the previous fact
``from_to``   the second value of "从A增加到B"

The unit of the number must be one the indicator accepts, which is what keeps
"5个方面" or money near 贫困户 from becoming facts.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter, itemgetter
from pathlib import Path

from fupin.tasks.extract import taxonomy
from fupin.tasks.extract.numbers import CN_ALL, Quantity
from fupin.tasks.extract.sentences import Span
from fupin.tasks.extract.taxonomy import Indicator
from fupin.tasks.extract.units import compatible, tables
from fupin.tasks.wordlists import Words, alternation, first_chars, led, words

PUNCT_GAP = re.compile(r"[\d，,。；;：:！？!?、]")
QUOTES = re.compile(r"[“”\"'‘’「」『』（）()《》]")
OPEN_QUOTES = ("“", "「", "『")
BOUNDARY = frozenset("，,。；;：:！？!?、）)”\n ")
MAX_MODIFIER = 3
ASIDE = re.compile(r"[（(][^（()）]{0,40}[）)]")  # a bracketed aside between two list items
LIST_PUNCT = ("、", "，", ",")
CLOSES_ASIDE = re.compile(r"[^（()）]{0,40}[）)]")  # the rest of an aside a cue stands in
COUNTED_BRACKET = re.compile(r"[（(][^（()）\d，,。；;]{1,6}[）)]")

RULE_CONFIDENCE = {
    "event": 0.85,
    "purpose": 0.7,
    "cue_right": 0.85,
    "cue_left": 0.9,
    "list": 0.85,
    "subset": 0.8,
    "from_to": 0.8,
}


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    word: str
    codes: tuple[str, ...]


@dataclass
class Lexicon:
    """The taxonomy turned into lookups the rules use on every page."""

    indicators: dict[str, Indicator]
    left: dict[str, tuple[str, ...]]  # cue word -> codes
    nouns: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]  # noun -> (cue codes, event codes)
    noun_words: Words
    patterns: list[tuple[re.Pattern[str], tuple[str, ...]]]
    events: re.Pattern[str]
    event_codes: dict[str, tuple[str, ...]]
    purposes: list[tuple[re.Pattern[str], str]]
    excludes: Words
    counted: dict[str, str]
    noun_endings: dict[str, tuple[str, ...]]  # unit -> endings of the nouns it counts
    joiners: frozenset[str]  # what may stand between two items of a list (nothing too)
    modifier_openers: frozenset[str]
    counted_words: Words = field(init=False)
    _purposes: dict[str | None, list[tuple[re.Pattern[str], str]]] = field(
        init=False, default_factory=dict)
    from_to: re.Pattern[str]
    left_gap: re.Pattern[str]
    subset_markers: tuple[str, ...]
    negative: Words
    distributive: Words
    beneficiary: Words
    part_before: re.Pattern[str]
    part_after: re.Pattern[str]
    anaphors: dict[str, str]
    plan: re.Pattern[str]
    from_opener: re.Pattern[str]
    from_markers: str
    change_verb: re.Pattern[str]
    bare_units: tuple[str, ...]
    negated: re.Pattern[str]
    negated_word: re.Pattern[str]
    negated_modifier: re.Pattern[str]
    negated_codes: dict[str, str]
    flows: dict[str, str]  # stock -> the flow an event verb turns it into
    verb_led: re.Pattern[str]
    threshold: re.Pattern[str]
    threshold_after: re.Pattern[str]
    threshold_qualifiers: dict[str, tuple[str, ...]]  # measure -> qualifiers of a standard
    elliptic: re.Pattern[str]
    fraction: Words
    scrub: dict[str, list[str]]
    scrub_right: re.Pattern[str] = field(init=False)
    scrub_left: re.Pattern[str] = field(init=False)
    # one scan that any of the screened patterns would match in a span, and the
    # patterns it cannot screen (see :func:`find_cues`)
    any_pattern: re.Pattern[str] = field(init=False)
    unscreened: list[tuple[re.Pattern[str], tuple[str, ...]]] = field(init=False)

    def purposes_for(self, unit: str | None) -> list[tuple[re.Pattern[str], str]]:
        """The purpose patterns of the indicators a quantity in ``unit`` may feed."""
        if unit not in self._purposes:
            self._purposes[unit] = [(rx, code) for rx, code in self.purposes
                                    if compatible(self.indicators[code].unit, unit)]
        return self._purposes[unit]

    def __post_init__(self) -> None:
        self.counted_words = words(self.counted)
        nouns = alternation(self.nouns)
        cues = alternation(self.left)
        # a measure word after a numeral or a count word ("余户", "每户") has its number
        not_num = r"\d" + CN_ALL + "".join(map(re.escape, self.scrub["count_words"]))
        before_noun = alternation(self.scrub["units_before_noun"])
        # the leading lookahead lets the scan skip positions where no match can
        # start instead of testing the lookbehind at every character
        self.scrub_left = re.compile(
            rf"(?=[{first_chars(before_noun)}])(?<=[^{not_num}\W])(?P<u>{before_noun})(?:{nouns})"
        )
        self.scrub_right = re.compile(
            rf"(?:{cues})[^\d\W]{{0,4}}?(?<=[^{not_num}])"
            rf"(?P<u>{alternation(self.scrub['units_after_cue'])})(?=[，,。；;、）)]|$)",
            re.MULTILINE,
        )
        # a pattern with groups could clash with another's numbers or names, and one
        # with no known first characters would slow the scan for all
        screened = [rx.pattern for rx, _ in self.patterns
                    if not rx.groups and not rx.flags & ~re.UNICODE and first_chars(rx.pattern)]
        self.any_pattern = re.compile(led("|".join(f"(?:{p})" for p in screened)) or "(?!)")
        self.unscreened = [(rx, c) for rx, c in self.patterns if rx.pattern not in screened]


def _excluded(body: str, pos: int, lx: Lexicon) -> bool:
    """Whether a word that contains a cue but means something else starts at ``pos``."""
    return any(body.startswith(x, pos) for x in lx.excludes.starting_at(body, pos))


@lru_cache(maxsize=2)
def lexicon(taxonomy_path: Path | None = None) -> Lexicon:
    """The rules' lookups, from ``schemas/indicators.yaml`` or another indicators file."""
    tax = taxonomy.load(taxonomy_path)
    lex = tax.lexicon
    left: dict[str, list[str]] = {}
    nouns: dict[str, tuple[list[str], list[str]]] = {}
    event_codes: dict[str, list[str]] = {}
    patterns: dict[str, list[str]] = {}  # one pattern shared by indicators is one cue
    purposes = []
    excludes: list[str] = []
    for ind in tax.indicators:
        for w in ind.cues:
            left.setdefault(w, []).append(ind.code)
            nouns.setdefault(w, ([], []))[0].append(ind.code)
        for w in ind.event_nouns:
            nouns.setdefault(w, ([], []))[1].append(ind.code)
        for e in ind.events:
            event_codes.setdefault(e, []).append(ind.code)
        for p in ind.patterns:
            patterns.setdefault(p, []).append(ind.code)
        if ind.purpose:
            purposes.append((re.compile(ind.purpose.lstrip("^")), ind.code))
        excludes.extend(ind.exclude)
    events = alternation(event_codes)
    return Lexicon(
        indicators={i.code: i for i in tax.indicators},
        left={k: tuple(v) for k, v in left.items()},
        nouns={k: (tuple(a), tuple(b)) for k, (a, b) in nouns.items()},
        noun_words=words(nouns),
        patterns=[(re.compile(p), tuple(codes)) for p, codes in patterns.items()],
        events=re.compile(
            rf"(?:[（(][^）)]{{0,24}}[）)])?[^\d，,。；;：:！？!?、\"《》和及与]{{0,6}}?“?"
            rf"(?P<ev>{events})(?!(?!{alternation(lex['event_unblocked'])})"
            rf"(?:{alternation(lex['event_blockers'])}))"
        ),
        event_codes={k: tuple(v) for k, v in event_codes.items()},
        purposes=purposes,
        excludes=words(excludes),
        counted=tables().counted_nouns,
        noun_endings={u: tuple(e) for u, e in lex["noun_endings"].items()},
        joiners=frozenset(("", *lex["joiners"])),
        modifier_openers=frozenset(lex["modifier_openers"]),
        from_to=re.compile(lex["from_to"]),
        left_gap=re.compile(lex["left_gap"]),
        subset_markers=tuple(lex["subset_markers"]),
        negative=words(lex["negative_context"]),
        distributive=words(lex["distributive"]),
        beneficiary=words(lex["beneficiary_context"]),
        part_before=re.compile(f"(?:{lex['part_before']})"),
        part_after=re.compile(f"(?:{lex['part_after']})"),
        anaphors=dict(lex["anaphors"]),
        plan=re.compile(lex["plan"]),
        from_opener=re.compile(lex["from_opener"]),
        from_markers=lex["from_markers"],
        change_verb=re.compile(lex["change_verb"]),
        bare_units=tuple(lex["bare_multiplier_units"]),
        negated=re.compile(f"(?:{lex['negated_event']})$"),
        negated_word=re.compile(lex["negated_event"]),
        negated_modifier=re.compile(lex["negated_modifier"]),
        negated_codes={i.code: i.negated for i in tax.indicators if i.negated},
        flows={i.negated: i.code for i in tax.indicators if i.negated},
        verb_led=re.compile(
            f"(?:{alternation(lex['verb_led_adverbs'])})?(?:{events}|{lex['verb_led']})"),
        threshold=re.compile(lex["threshold"]),
        threshold_after=re.compile(lex["threshold_after"]),
        threshold_qualifiers={m: tuple(v) for m, v in lex["threshold_qualifiers"].items()},
        elliptic=re.compile(f"(?:{lex['elliptic_gap']})(?:{events})"),
        fraction=words(lex["fraction"]),
        scrub=lex["scrub"],
    )


def find_cues(
    body: str, tokens: list[tuple[str, int, int]], lx: Lexicon, spans: list[tuple[int, int]]
) -> list[Cue]:
    """Cue words from the segmentation pass plus regex-pattern cues, in order;
    a pattern wins over the word cues it overlaps. Patterns are only looked for
    in ``spans``, the sentences holding a number: a cue elsewhere has none to name."""
    found = [Cue(a, b, w, lx.left[w]) for w, a, b in tokens if w in lx.left]
    pats = [
        Cue(m.start(), m.end(), m.group(0), codes)
        for a, b in _union(spans, touching=True)
        # most sentences match no pattern: one scan of all tells, instead of one each
        for rx, codes in (lx.patterns if lx.any_pattern.search(body, a, b) else lx.unscreened)
        for m in rx.finditer(body, a, b)
    ]
    if pats:
        covered = _union((p.start, p.end) for p in pats)
        starts = [a for a, _ in covered]
        found = [c for c in found if not _overlaps(covered, starts, c.start, c.end)]
        found.extend(pats)
    found.sort(key=lambda c: (c.end, c.start))
    return found


def _union(spans: Iterable[tuple[int, int]], touching: bool = False) -> list[tuple[int, int]]:
    """Sorted, disjoint spans covering the same characters as ``spans`` (with
    ``touching``, spans that only meet are joined too)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and (a < out[-1][1] or (touching and a == out[-1][1])):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _overlaps(covered: list[tuple[int, int]], starts: list[int], a: int, b: int) -> bool:
    """Whether [a, b) meets one of the disjoint ``covered`` spans: only the last one
    starting before ``b`` can, since it ends after every earlier one."""
    i = bisect.bisect_left(starts, b) - 1
    return i >= 0 and covered[i][1] > a


@dataclass
class Noun:
    start: int
    end: int
    word: str


def right_noun(body: str, pos: int, ends: Container[int], lx: Lexicon, limit: int) -> Noun | None:
    """A cue noun starting at ``pos``, after an optional 的 or opening quote and at
    most a short modifier made of whole tokens ("2个国家级贫困县"), ending on a
    token boundary.

    A modifier may not start with a conjunction or contain a change verb: in
    "1.08亿元和统筹整合…" or "9个县退出贫困县序列" the noun belongs elsewhere.
    """
    p = pos + 1 if body.startswith("的", pos) else pos
    if body.startswith(OPEN_QUOTES, p):
        p += 1  # a noun in quotes: 2249名“第一书记”
    if p < limit and _excluded(body, p, lx):
        return None
    for offset in range(0, MAX_MODIFIER + 1):
        at = p + offset
        if at >= limit:
            break
        candidates = lx.noun_words.starting_at(body, at)
        if offset:
            mod = body[p:at]
            if PUNCT_GAP.search(mod) or QUOTES.search(mod) or mod[0] in lx.modifier_openers:
                break
            excluded = at in ends and _excluded(body, at, lx)
            if at not in ends or not (candidates or excluded):
                continue  # no noun can start here: the modifier needs no reading
            if lx.events.search(mod) and not lx.negated_modifier.match(mod):
                continue  # "9个县退出贫困县" counts the 县; "3个未摘帽贫困县" the 贫困县
            if excluded:
                return None
        for w in candidates:
            if body.startswith(w, at) and at + len(w) <= limit and at + len(w) in ends:
                return Noun(at, at + len(w), w)
    return None


def counted_at(body: str, pos: int, lx: Lexicon, ends: Container[int]) -> tuple[str, int] | None:
    """The unit and end of a bare counted noun written at ``pos`` ("个县", "个村"),
    with the short bracket that often qualifies it ("8个县(区)"), so that a list
    of such counts reads as one ("8个县(区)、570个贫困村全部脱贫")."""
    for w in lx.counted_words.starting_at(body, pos):
        end = pos + len(w)
        if body.startswith(w, pos) and end in ends:
            m = COUNTED_BRACKET.match(body, end)
            return lx.counted[w], m.end() if m else end
    return None


def quantity_unit(
    body: str, q: Quantity, noun: Noun | None, lx: Lexicon, ends: Container[int]
) -> str | None:
    """Refine the unit: 个 takes it from the counted noun, a bare 万 from the noun
    it qualifies, and anything followed by an unknown measure word is 'other'."""
    nxt = body[q.end : q.end + 1]
    if q.unit == "count":
        if noun is not None and noun.word in lx.counted:
            return lx.counted[noun.word]
        counted = counted_at(body, q.end, lx, ends)
        if counted is not None:
            return counted[0]
        if (noun is not None or not nxt or nxt in BOUNDARY or nxt in "（("
                or lx.change_verb.match(body, q.end)):
            return "count"  # "贫困村从644个减少到188个": a change verb, not a measure word
        return "other"
    if q.unit is None:
        if noun is not None:
            return next((unit for unit, ends in lx.noun_endings.items()
                         if noun.word.endswith(ends)), None)
        if not nxt or nxt in BOUNDARY or nxt in "的（(" or lx.change_verb.match(body, q.end):
            return None
        return "other"
    return q.unit


PLACE_UNITS = ("village", "county")


def place_unit(unit: str | None, noun: Noun | None, lx: Lexicon) -> str | None:
    """Whether a count counts villages or counties, from its unit or its noun
    ("51个脱贫工作重点县" counts counties though 个 says nothing)."""
    if unit in PLACE_UNITS:
        return unit
    if noun is not None:
        cue_codes, event_codes = lx.nouns.get(noun.word, ((), ()))
        for code in (*cue_codes, *event_codes):
            if lx.indicators[code].unit in PLACE_UNITS:
                return lx.indicators[code].unit
    return None


def choose(codes: tuple[str, ...], unit: str | None, lx: Lexicon) -> str | None:
    """The first of ``codes`` whose unit fits; a bare multiplied number ("减贫120万")
    takes the unit listed first in ``bare_multiplier_units`` (people, not households)."""
    if unit is None:
        for bare in lx.bare_units:
            for code in codes:
                if lx.indicators[code].unit == bare:
                    return code
        return None
    for code in codes:
        if compatible(lx.indicators[code].unit, unit):
            return code
    return None


def clause_of(clauses: list[Span], pos: int) -> Span:
    i = bisect.bisect_right(clauses, pos, key=attrgetter("start")) - 1
    if i >= 0 and pos < clauses[i].end:
        return clauses[i]
    return clauses[-1]


def strip_times(text: str, offset: int, times: list[tuple[int, int]]) -> str:
    """Text with time-expression spans and quotes removed (for gap tests).

    ``times`` come from one regex scan, so they are sorted and never overlap: only
    the spans reaching into ``text`` are visited, and a page with thousands of
    time phrases pays per gap, not per phrase on the page.
    """
    end = offset + len(text)
    i = max(0, bisect.bisect_right(times, offset, key=itemgetter(0)) - 1)
    pieces: list[str] = []
    pos = offset
    while i < len(times) and times[i][0] < end:
        a, b = times[i]
        if a > pos:
            pieces.append(text[pos - offset : a - offset])
        pos = max(pos, b)
        i += 1
    if pos < end:
        pieces.append(text[pos - offset :])
    return QUOTES.sub("", "".join(pieces))
