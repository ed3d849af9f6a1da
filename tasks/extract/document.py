"""One document through the rule families: quantities -> indicator, region, time.

Numbers, times and sentences come from precompiled regexes over the body; jieba
segments only the sentences holding a quantity, the blocks naming a place and
the lead (:class:`~tasks.extract.segment.Segmentation`), which gives the rules
the same tokens as a whole-body pass at a fraction of the cost. Per-sentence
work only looks at the quantities and cues inside that sentence, so the cost
stays linear in the page.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from fupin.tasks.extract import keywords as kw
from fupin.tasks.extract import regions as rg
from fupin.tasks.extract import rules as ru
from fupin.tasks.extract import script, taxonomy
from fupin.tasks.extract.budget import check_budget
from fupin.tasks.extract.numbers import Quantity, find_quantities
from fupin.tasks.extract.segment import Segmentation, tokens
from fupin.tasks.extract.sentences import Span, clauses, sentences
from fupin.tasks.extract.timeexpr import (
    TimeExpr,
    dateline_year,
    estimate_year,
    find_times,
    report_year,
)
from fupin.tasks.models import CandidateFact, Extraction, Skip

LEADING_WINDOW = 12  # a time phrase this close to a sentence start frames the paragraph
_CLAUSE_BREAK = re.compile(r"[,，;；)）]")
_CLAUSE_END = re.compile(r"[,，;；:：]")
# a verb phrase and 的 right after a year ("2017年宣布摘帽的"); not a place (2018年全县的)
_DIGIT = re.compile(r"\d")
_ATTRIBUTIVE = re.compile(r"(?![全我本该各])[^，,。；;：:\d的()（）]{1,8}的")
MAX_LEFT_GAP = 8  # "由建档立卡时的" is seven characters
PART_REACH = 6  # "惠及全县建档立卡" puts the verb this far before the cue
# a count that follows a place as the next item of a list ("某县、14个村")
_SIBLING_COUNT = re.compile(r"、[\d零〇一二两三四五六七八九十]")
# characters at the start of the body always segmented: a news lead sums up the
# page, so its words are the likeliest keywords (top-10 overlap with whole-body
# keywords 0.85 without it, 0.93 with 300 chars, on 1,000 synthetic pages)
KEYWORD_LEAD = 300


@dataclass
class _Item:
    q: Quantity
    clause: Span
    noun: ru.Noun | None
    unit: str | None
    counted_end: int | None = None  # end of a bare counted noun ("个县(区)")

    @property
    def after(self) -> int:
        if self.noun:
            return self.noun.end
        return self.counted_end or self.q.end


def _households_then_persons(prev: _Item, it: _Item, gap: str | None) -> bool:
    """"225户,625人", "26户 117 人": persons after households across a bare
    comma or space are one count's two halves, not a new clause's figure."""
    return (gap is not None and gap.strip(" \u3000") in ("", ",", "，")
            and prev.unit == "household" and prev.noun is None and it.unit == "person")


@dataclass(frozen=True)
class _When:
    """A fact's time: year, first year of a period, as-of date, kind, and where
    the year came from (explicit, relative, period, publication; none)."""

    year: int | None = None
    period_start: int | None = None
    as_of: date | None = None
    kind: str | None = None
    source: str = "none"


@dataclass(frozen=True)
class _TimeCues:
    """The time words a page's sentences are read with, beyond the time scan's."""

    attribution: re.Pattern[str]  # who speaks before a frame ("某某介绍,")
    cumulative: re.Pattern[str]  # a running total (累计, 全部脱贫)
    former: re.Pattern[str]  # a state once had (原有)
    baseline_open: re.Pattern[str]  # "与" before a year a change is compared with
    baseline_close: re.Pattern[str]  # "…相比" after it


@lru_cache(maxsize=2)
def _time_cues(taxonomy_path: Path | None = None) -> _TimeCues:
    t = taxonomy.load(taxonomy_path).lexicon["time"]
    return _TimeCues(
        attribution=re.compile(t["attribution"]),
        cumulative=re.compile(t["cumulative"]),
        former=re.compile(t["former"]),
        baseline_open=re.compile(rf"(?:{t['baseline_open']})$"),
        baseline_close=re.compile(rf"[^，,。；;！？\n]{{0,12}}?(?:{t['baseline_close']})"),
    )


class _Doc:
    """Per-document state shared by the rule steps."""

    def __init__(
        self, body: str, title: str | None, published: date | None,
        source_site: str | None = None, published_year: int | None = None,
        taxonomy_path: Path | None = None,
    ) -> None:
        self.body = body
        self.lx = ru.lexicon(taxonomy_path)
        self.tc = _time_cues(taxonomy_path)
        # the publication year, from the date or, without one, from the page's address
        # or a dateline that gives only a month (a text dump's first line may be read as
        # its title)
        self.pub_year = published.year if published else (
            published_year or dateline_year(body) or (dateline_year(title) if title else None))
        told = report_year(title, taxonomy_path) if title else None
        if told is not None and (self.pub_year is None or told < self.pub_year):
            # "乡镇2020年脱贫攻坚工作汇报" reposted in 2024 speaks from 2020: its 今年 and
            # present-tense figures are of the year it reports on
            published, self.pub_year = None, told
        self.published = published
        self.times = find_times(body, published, self.pub_year, taxonomy_path=taxonomy_path)
        # a page with neither is read from the year it speaks from
        self.estimated = (None if self.pub_year else
                          estimate_year(body, self.times, self.lx.plan, taxonomy_path))
        if self.estimated is not None and any(
            t.year is None and t.kind in ("point", "cumulative") for t in self.times
        ):  # only 今年, 去年 and running totals count from the estimate
            self.times = find_times(body, None, self.estimated, estimated=True,
                                    taxonomy_path=taxonomy_path)
        self.time_starts = [t.start for t in self.times]
        self.time_spans = [(t.start, t.end) for t in self.times]
        qs = [q for q in find_quantities(body) if not self._in_time(q.start)]
        check_budget()
        self.quantities = qs
        self.q_starts = [q.start for q in qs]
        self.sentences = sentences(body)
        self.sentence_starts = [s.start for s in self.sentences]
        self.paragraph_starts: dict[int, int] = {}
        for s in self.sentences:
            self.paragraph_starts.setdefault(s.paragraph, s.start)
        # token boundaries, cut lazily wherever a rule asks (right_noun, scrubbed numbers)
        self.seg = Segmentation(body)
        self.ends = self.seg
        # the sentences holding a quantity: the only ones a fact can come from
        self.figure_spans = [(s.start, s.end) for s in self._sentences_at(self.q_starts)]
        self.tokens = self._segment()
        self.words = [w for w, _, _ in self.tokens]
        self.title_tokens = tokens(title) if title else []
        self.regions = rg.resolve_document(
            body, self.tokens, self.title_tokens,
            figure_spans=self.figure_spans,
            site_tokens=tokens(source_site) if source_site else (),
        )
        region_anaphors = rg.anaphors()
        # 全省 in "在全省推广", "全市第一" ranks or spreads something: no place of a figure
        self.anaphors = [(a, w) for w, a, e in self.tokens
                         if w in region_anaphors and not rg.is_attribute(body, e)]
        self.anaphor_starts = [a for a, _ in self.anaphors]
        self.cues = ru.find_cues(body, self.tokens, self.lx, self.figure_spans)
        self.cue_ends = [c.end for c in self.cues]
        self.facts: list[CandidateFact] = []
        self.skips: list[Skip] = []
        self.fact_keys: dict[tuple, list[int]] = {}
        self.frames: dict[int, TimeExpr] = {}  # paragraph -> latest leading time phrase
        self.plan_frame: TimeExpr | None = None  # "“十三五”时期," framing the paragraphs after
        self.pairs: dict[int, tuple[int, int]] = {}  # sentence -> years of its first dated from-to
        self.plan_clauses: list[int] = []  # clauses of the current sentence skipped as plans
        self.plan_years: list[int] = []  # ... and the years they were dated
        self.pair_clauses: dict[int, Span] = {}  # from-to end fact -> clause of its start

    def _segment(self) -> list[tuple[str, int, int]]:
        """Tokens of the text the rules read: whole sentences holding a quantity
        (cues, anaphors and nouns around it) and the blocks holding a place
        name (mentions anywhere vote for the subject region), plus the lead,
        which gives the keywords a vocabulary on pages with neither. The rest
        of the prose (most of a page) is never segmented."""
        spans = [*self.figure_spans, (0, KEYWORD_LEAD)]
        self.seg.cut(spans, rg.load_gazetteer().name_starts(self.body))
        return self.seg.tokens()

    def _sentences_at(self, positions: list[int]) -> list[Span]:
        """The sentences containing any of ``positions``, in text order."""
        hit = set()
        for p in positions:
            i = bisect.bisect_right(self.sentence_starts, p) - 1
            if i >= 0 and p < self.sentences[i].end:
                hit.add(i)
        return [self.sentences[i] for i in sorted(hit)]

    def _national_before(self, sent: Span) -> rg.Mention | None:
        """The country, when the sentence before ``sent`` in its paragraph
        ended on it: a sentence naming no place goes on about the country
        ("全国原有832个贫困县…。贫困发生率由10.2%降至0.6%" on a city's page),
        as a page's background on the nation runs over several sentences. A
        smaller place named in passing does not carry: the page's own place
        comes back."""
        i = bisect.bisect_right(self.sentence_starts, sent.start) - 2
        if i < 0 or self.sentences[i].paragraph != sent.paragraph:
            return None
        m = self.regions.before(self.sentences[i].start, sent.start)
        if m is None or m.region is None or m.region.level != "national":
            return None
        # an anaphor after it (…,当地政府决定将该村搬迁。) ends the sentence on
        # another place; the string test also sees the text left unsegmented
        rest = self.body[m.end : sent.start]
        return None if any(w in rest for w in rg.anaphors()) else m

    def _bracketed(self, q: Quantity) -> bool:
        """A quantity alone in brackets (749人 in "259户(749人)"): the second
        member of a list, whose noun comes after the closing bracket."""
        body = self.body
        return (q.qual_start > 0 and q.end < len(body) and body[q.qual_start - 1] in "(（"
                and body[q.end] in ")）")

    def _in_time(self, pos: int) -> bool:
        i = bisect.bisect_right(self.time_starts, pos) - 1
        return i >= 0 and self.times[i].start <= pos < self.times[i].end

    # ------------------------------------------------------------ helpers
    def left_cue(self, clause: Span, floor: int, q: Quantity) -> ru.Cue | None:
        i = bisect.bisect_right(self.cue_ends, q.qual_start) - 1
        while i >= 0:
            cue = self.cues[i]
            if cue.start < max(clause.start, floor):
                return None
            if ru.CLOSES_ASIDE.match(self.body, cue.end, q.qual_start):
                i -= 1  # a word inside a bracketed aside before the number is no cue of it
                continue
            start = cue.end
            bracket = ru.ASIDE.match(self.body, start, q.qual_start)
            if bracket:  # "贫困县(市、区)25个", "贫困发生率(按农业人口计)超过30%"
                start = bracket.end()
            gap = ru.strip_times(self.body[start : q.qual_start], start, self.time_spans)
            if len(gap) <= MAX_LEFT_GAP and self.lx.left_gap.match(gap):
                return cue
            return None
        return None

    def time_for(self, sent: Span, pos: int) -> TimeExpr | None:
        """The latest time phrase before ``pos`` in the sentence, else the paragraph's
        frame. The years of a from-to pair ("从2012年末的9899万人减少到2019年底的551万
        人") date its two values: later numbers look past them to the sentence's own
        time, and take the year the pair ends in only when there is none."""
        i = bisect.bisect_left(self.time_starts, pos) - 1
        pair_end = None
        while i >= 0 and self.times[i].start >= sent.start:
            t = self.times[i]
            if t.end <= pos:
                skip = (self._pair_year_elsewhere(t, pos) or self._annual_elsewhere(t, pos)
                        or self._bracketed_elsewhere(t, pos) or self._baseline_elsewhere(t, pos)
                        or self._attributive_elsewhere(t, pos))
                if not skip:
                    # "目前,…已从2011年底的775万人减少到2017年底的183万人,592万人脱贫":
                    # the pair's end is the date its sentence's now stands for
                    return pair_end if pair_end is not None and t.source == "publication" else t
                if skip == "end" and pair_end is None:
                    pair_end = t
            i -= 1
        frame = self.frames.get(sent.paragraph)
        if pair_end is not None and (frame is None or frame.source == "publication"):
            return pair_end
        return frame or self.plan_frame

    def _year_in_brackets_after(self, q: Quantity) -> TimeExpr | None:
        """A time in brackets right after the figure dates it: "收入达15287.6元(2019年)"."""
        if self.body[q.end : q.end + 1] not in ("(", "（"):
            return None
        i = bisect.bisect_left(self.time_starts, q.end + 1)
        if i < len(self.times):
            t = self.times[i]
            if t.start == q.end + 1 and self.body[t.end : t.end + 1] in (")", "）"):
                return t
        return None

    def _bracketed_elsewhere(self, t: TimeExpr, pos: int) -> str | None:
        """"aside" when ``t`` stands in brackets that close before ``pos``: "(2010年价格
        水平)" dates the aside, not the figures after it."""
        between = self.body[t.end : pos]
        closed = between.count(")") + between.count("）")
        opened = between.count("(") + between.count("（")
        return "aside" if closed > opened else None

    def _baseline_elsewhere(self, t: TimeExpr, pos: int) -> str | None:
        """"baseline" when ``t`` is what a change is measured against ("和2014年建档立卡
        初期相比,脱贫1.1万户"): the figures after it are dated by the paragraph or the
        publication, not by the year they are compared with."""
        opener, closer = self.tc.baseline_open, self.tc.baseline_close
        if t.kind != "point" or not opener.search(self.body, max(0, t.start - 2), t.start):
            return None
        m = closer.match(self.body, t.end)
        return "baseline" if m is not None and m.end() <= pos else None

    def _attributive_elsewhere(self, t: TimeExpr, pos: int) -> str | None:
        """"attributive" when ``t`` dates what the things an earlier clause names did
        ("加上2017年宣布摘帽的武陵源区和洪江市,全省…已有9个摘帽"): it describes them, not
        the figures of the clauses after it."""
        if t.kind != "point":
            return None
        m = _ATTRIBUTIVE.match(self.body, t.end)
        edge = _CLAUSE_BREAK.search(self.body, m.end(), pos) if m else None
        # a figure in its clause ("2019年锁定的监测户8户,边缘户41户") heads a list that the
        # year dates on through the clauses after it
        if edge is None or _DIGIT.search(self.body, m.end(), edge.start()):
            return None
        return "attributive"

    def _annual_elsewhere(self, t: TimeExpr, pos: int) -> str | None:
        """"annual" when ``t`` is a rate word ("每年", "年均") of an earlier clause: it
        makes that clause's figure a yearly rate, not the figures after it a rate."""
        if t.kind == "annual" and _CLAUSE_BREAK.search(self.body, t.end, pos):
            return "annual"
        return None

    def _pair_year_elsewhere(self, t: TimeExpr, pos: int) -> str | None:
        """"start" or "end" when ``t`` is the year of one value of a from-to pair and
        ``pos`` is past that value: past the starting value (and its second half, "由
        2014年的14453户48660人") once the change verb comes; past the value it falls to
        at once. A span after 从 ("从1978年到2016年") is no pair's year."""
        if t.kind != "point":
            return None
        body, lx = self.body, self.lx
        if t.start and body[t.start - 1 : t.start] in lx.from_markers:
            return "start" if lx.change_verb.search(body, t.end, pos) else None
        # "增加到2019年的…": the time phrase may have taken the verb's 到 as its own
        year_at = t.start + 1 if body[t.start : t.start + 1] in ("到", "至") else t.start
        verb = lx.change_verb.search(body, max(0, t.start - 4), year_at)
        if verb is not None and verb.end() == year_at and body[t.end : pos].strip() not in (
            "", "的"
        ):
            return "end"
        return None

    def _place_before(
        self, sent: Span, anchor: int
    ) -> tuple[rg.Mention | None, tuple[int, str] | None]:
        """The latest place mention and region anaphor of the sentence before ``anchor``."""
        m = self.regions.before(sent.start, anchor)
        i = bisect.bisect_left(self.anaphor_starts, anchor) - 1
        ana = self.anaphors[i] if i >= 0 and self.anaphors[i][0] >= sent.start else None
        return m, ana

    def several_places(self, sent: Span, clause: Span, anchor: int, q: Quantity) -> bool:
        """Whether the number is about several places at once (东部地区, 8个省份):
        such a group stands in the number's sentence after the last place or anaphor
        before it. A group that is the number itself ("等9个县退出", "7个县区摘帽")
        counts places of the region it is about, which it does not hide."""
        m, ana = self._place_before(sent, anchor)
        after = max(sent.start, m.end if m else 0, ana[0] + len(ana[1]) if ana else 0)
        end = min(anchor, q.qual_start - 1)
        # a named group (东部地区, 甲、乙3个村) speaks for the rest of its sentence; a
        # bare count of places ("7个县区整体脱贫摘帽") only for its own clause
        named = self.regions.group_between(after, end, counted=False)
        counted = self.regions.group_between(max(after, clause.start), end, counted=True)
        return named is not None or counted is not None

    def _enumeration_start(self, m: rg.Mention, anchor: int) -> int | None:
        """Where a list of places ends right at the number ("盐池、隆德、彭阳四县",
        "紫云县、望谟县等9个县") begins: a count of the listed places is a figure of
        the region they belong to, not of the last one named."""
        if self.body[m.end : anchor] not in ("", "等"):
            return None
        first = m
        for other in reversed(self.regions.mentions):
            if other.end <= first.start and self.body[other.end : first.start] == "、":
                first = other
        return first.start if first is not m else None

    def region_for(
        self, sent: Span, anchor: int, unit: str | None = None, count: float | None = None
    ) -> tuple[str | None, str | None, str | None, str | None]:
        """(name, code, province, note) of the place a figure at ``anchor`` is
        about; a count of places (``unit`` county or village, ``count`` of them)
        is about a place above that level that can hold them."""
        m, ana = self._place_before(sent, anchor)
        listed = self._enumeration_start(m, anchor) if m is not None else None
        if listed is None and m is not None and _SIBLING_COUNT.match(self.body, m.end):
            # "未摘帽的某县、14个未脱贫村、…": the place is the list item before
            # the count, not where the counted things lie
            listed = m.start
        if listed is not None:
            m, ana = self._place_before(sent, listed)
        if m is None and ana is None:
            m = self._national_before(sent)
        region, note = None, None
        if ana is not None and (m is None or ana[0] > m.start):
            para_start = self.paragraph_starts.get(sent.paragraph, sent.start)
            region, note = rg.resolve_anaphor(ana[1], self.regions, para_start, anchor, sent.end)
        elif m is not None:
            region, note = m.region, m.note
            if region is None:
                return None, None, None, note
        else:
            region = self.regions.subject
            if region is None:
                note = "no region named in the document"
        if region is None:
            return None, None, None, note
        region = rg.counting_region(region, unit, self.regions, count)
        # a former name stays as the page wrote it (华亭县 in 2016); the code is today's
        written = m is not None and m.region is region and m.text in region.aliases
        name = m.text if m is not None and written else (
            self.regions.written.get(region.code, region.name))
        return name, region.code, region.province or None, note

    # ------------------------------------------------------------ main loop
    def run(self) -> None:
        # a sentence where neither a quantity nor a time phrase starts can yield
        # no fact and frame no paragraph, so only the others are visited
        for sent in self._sentences_at(self.q_starts + self.time_starts):
            check_budget()
            self._sentence(sent)
        self._skips()

    def _sentence(self, sent: Span) -> None:
        lo = bisect.bisect_left(self.q_starts, sent.start)
        hi = bisect.bisect_left(self.q_starts, sent.end)
        qs = self.quantities[lo:hi]
        self._update_frame(sent, qs)
        if not qs:
            return
        cls = clauses(self.body, sent)
        items: list[_Item] = []
        places: str | None = None  # what the sentence's latest count of places counts
        for q in qs:
            c = ru.clause_of(cls, q.start)
            noun = ru.right_noun(self.body, q.end, self.ends, self.lx, c.end)
            if noun is None and self._bracketed(q):  # "259户(749人)为贫困户"
                noun = ru.right_noun(self.body, q.end + 1, self.ends, self.lx, c.end)
            unit = ru.quantity_unit(self.body, q, noun, self.lx, self.ends)
            counted = None
            if q.unit == "count" and (noun is None or noun.word in self.lx.event_codes):
                # "这24个县全部脱贫摘帽": 脱贫 is the event, not what is counted
                counted = ru.counted_at(self.body, q.end, self.lx, self.ends)
                if counted is not None:
                    noun = None
                elif self.lx.elliptic.match(self.body, q.end, c.end) and places:
                    # "原有832个贫困县,已有780个实现脱贫摘帽": a count with no noun
                    # before an event counts what the sentence counted last
                    unit = places
                elif noun is not None:
                    unit = "other"
            if unit == "other":
                continue
            places = ru.place_unit(unit, noun, self.lx) or places
            items.append(_Item(q, c, noun, unit, counted[1] if counted else None))
        chains: list[list[_Item]] = []
        for it in items:
            prev = chains[-1][-1] if chains else None
            gap = self.body[prev.after : it.q.qual_start] if prev is not None else None
            if prev is not None and (
                (prev.clause == it.clause
                 and (gap in self.lx.joiners or (self._bracketed(it.q) and gap in "(（")))
                or _households_then_persons(prev, it, gap)
            ):
                chains[-1].append(it)
            else:
                chains.append([it])
        sent_facts: list[tuple[int, _Item]] = []
        self.plan_clauses = []
        self.plan_years = []
        floor = sent.start
        for chain in chains:
            head = chain[0]
            if head.clause.start > floor:
                floor = head.clause.start
            cue = self.left_cue(head.clause, floor, head.q)
            last = chain[-1]
            if last.noun is not None and last.noun.word in self.lx.event_codes:
                # "彭阳四县脱贫摘帽", "这24个县全部脱贫摘帽": the event, not its noun
                last.noun = None
            end = last.after
            ev = self.lx.events.match(self.body, end, last.clause.end)
            if ev is not None and self.lx.fraction.search(self.body, ev.start(), ev.start("ev")):
                ev = None  # "832个贫困县有一半摘帽": the event is of a share, not of the count
            for k, it in enumerate(chain):
                noun = it.noun
                if noun is None and it.counted_end is None:
                    noun = next((x.noun for x in chain[k + 1 :] if x.noun), None)
                self._emit(sent, it, noun, cue, ev, k, sent_facts)
            floor = end

    def _update_frame(self, sent: Span, qs: list[Quantity]) -> None:
        """A time phrase that opens a clause near the start of a sentence ("今年以来,",
        "——资金保障,2017年…") frames the rest of the paragraph; one buried in
        the sentence ("平凉红牛在今年首届…") does not."""
        first_q = qs[0].start if qs else sent.end
        i = bisect.bisect_left(self.time_starts, sent.start)
        if i < len(self.times):
            t = self.times[i]
            if t.start >= first_q:
                return
            start = sent.start
            opens = (self.body[start : t.start] in ("", "在", "于")
                     or self.body[t.start - 1] in ",，;；:：—")
            if not opens or t.start >= start + LEADING_WINDOW + 1:
                # "某某介绍,在过去一年里,…": who speaks comes first, then the frame
                lead = self.tc.attribution.match(self.body, sent.start, t.start)
                if lead:
                    start = lead.end()
                    opens = opens or self.body[start : t.start] in ("在", "于")
            if t.start >= min(first_q, start + LEADING_WINDOW + 1):
                return
            if opens and not _CLAUSE_END.search(self.body, t.end, sent.end):
                return  # "2014年底农民人均纯收入2300元。": one clause, one figure's time
            if opens:
                self.frames[sent.paragraph] = t
                # a plan's span opening a paragraph ("他在报告中说:“十三五”时期,…")
                # heads a review that goes on in the paragraphs after it
                opens_paragraph = self.paragraph_starts.get(sent.paragraph) == sent.start
                self.plan_frame = t if t.plan and opens_paragraph else None

    def _choose(self, it: _Item, noun, cue, ev, k) -> tuple[str | None, str, int, int]:
        """(indicator, rule, evidence start, evidence end)."""
        lx, body, q = self.lx, self.body, it.q
        start, end = q.qual_start, q.end
        if ev is not None:
            for code in lx.event_codes[ev.group("ev")]:
                ind = lx.indicators[code]
                ok = (noun is not None and noun.word in ind.event_nouns) or (
                    noun is None and ind.bare
                )
                if ok and ru.compatible(ind.unit, it.unit):
                    s = min(start, cue.start) if (cue and k == 0 and noun is None) else start
                    if lx.negated.search(body, ev.start(), ev.start("ev")):
                        # "还有1.75万人未脱贫": what has not exited is the remaining stock
                        code = lx.negated_codes.get(code)
                        if code is None:
                            continue
                    return code, "event", s, ev.end("ev")
        for rx, code in lx.purposes_for(it.unit):
            m = rx.match(body, q.end, it.clause.end)
            if m:
                return code, "purpose", start, m.end()
        if noun is not None:
            cue_codes = lx.nouns[noun.word][0]
            code = ru.choose(cue_codes, it.unit, lx)
            if code and lx.negated.search(body, q.end, noun.start):
                code = lx.negated_codes.get(code)  # "1.75万人未脱贫"
            if code:
                return code, "cue_right", start, max(end, noun.end)
        if cue is not None:
            code = ru.choose(cue.codes, it.unit, lx)
            if code and lx.negated.search(body, max(0, cue.start - 2), cue.start):
                code = lx.negated_codes.get(code)  # "未脱贫人口1200人"
            if code:
                return code, ("cue_left" if k == 0 else "list"), cue.start, end
        return None, "", start, end

    def _shares_verb(self, cue: ru.Cue, it: _Item, k: int,
                     sent_facts: list[tuple[int, _Item]]) -> bool:
        """Whether a bare "noun + number" listed right after a figure led by an
        event verb shares that verb: in "累计退出贫困村127个、贫困人口3.7万户"
        the households exited too, they are not the stock."""
        if not sent_facts:
            return False
        prev = self.facts[sent_facts[-1][0]]
        if k > 0:  # "贫困人口3.7万户16.6万人": the persons go with the households
            return prev.char_start == cue.start and prev.indicator in self.lx.flows.values()
        if (prev.rule != "cue_left" or self.lx.indicators[prev.indicator].measure != "flow"
                or self.body[cue.end : it.q.qual_start].strip()):
            return False
        gap = ru.ASIDE.sub("", self.body[prev.char_end : cue.start])
        return gap in ru.LIST_PUNCT and self.lx.verb_led.match(prev.evidence) is not None

    def _unread_plan(self, sent: Span, it: _Item, sent_facts: list[tuple[int, _Item]]) -> bool:
        """Whether the sentence holds, before this 其中 clause, a number in the
        same unit that no rule read, in a clause naming a plan: the whole this
        part belongs to."""
        read = {p.clause for _, p in sent_facts}
        lo = bisect.bisect_left(self.q_starts, sent.start)
        hi = bisect.bisect_left(self.q_starts, it.clause.start)
        for q in self.quantities[lo:hi]:
            if q.unit != it.q.unit or any(c.start <= q.start < c.end for c in read):
                continue
            head = self.body[sent.start : q.start]
            cut = max(head.rfind(c) for c in "，,；;")
            if self.lx.plan.search(head, cut + 1):
                return True
        return False

    def _change_gap(self, start: int, end: int) -> str:
        """The words between two values of a from-to pair, without their times
        and 的; a time's leading 到 ("减少到2019年的") is the pair's verb."""
        i = bisect.bisect_right(self.time_starts, start)
        times = []
        while i < len(self.times) and self.times[i].start < end:
            a, b = self.time_spans[i]
            times.append((a + 1, b) if self.body[a] in "到至" else (a, b))
            i += 1
        return ru.strip_times(self.body[start:end], start, times).replace("的", "")

    def _subset_clause(self, clause: Span, text: str) -> bool:
        """Whether the clause is a part of the figure before it: it opens with
        其中, or follows a "其中:" standing alone."""
        markers = tuple(self.lx.subset_markers)
        if text.startswith(markers):
            return True
        head = self.body[max(0, clause.start - 6) : clause.start].rstrip(" 　")
        return head.endswith(("：", ":")) and head[:-1].rstrip(" 　").endswith(markers)

    def _emit(self, sent, it: _Item, noun, cue, ev, k, sent_facts) -> None:
        lx, body, q = self.lx, self.body, it.q
        code, rule, ev_start, ev_end = self._choose(it, noun, cue, ev, k)
        if code in lx.flows and cue is not None and self._shares_verb(cue, it, k, sent_facts):
            code = lx.flows[code]
        subset_of = None
        from_fact: CandidateFact | None = None
        from_end = 0  # where the starting value of a from-to pair ends
        from_clause = it.clause  # ... and the clause it stands in
        clause_text = body[it.clause.start : it.clause.end].lstrip(" ,，;；、　")
        if self._subset_clause(it.clause, clause_text):
            parent = next(
                (
                    (i, p)
                    for i, p in reversed(sent_facts)
                    if p.clause.start < it.clause.start
                    and ru.compatible(self.facts[i].unit, it.unit)
                ),
                None,
            )
            plan = max((c for c in self.plan_clauses if c < it.clause.start), default=-1)
            if plan > (parent[1].clause.start if parent is not None else -1):
                # "计划搬迁5285户,其中建档立卡户5179户": a part of a plan is a plan
                self._skip("plan_or_target", it.q.qual_start, it.q.end)
                return
            if parent is None and self._unread_plan(sent, it, sent_facts):
                # "下达搬迁计划10万人,其中贫困人口8万人": a part of a planned whole
                # no rule read is a plan too
                self._skip("plan_or_target", it.q.qual_start, it.q.end)
                return
            if parent is not None:
                pf = self.facts[parent[0]]
                # a part of a flow ("投入4亿元,其中中央财政1.5亿元", "搬迁800户,其中
                # 建档立卡户650户") is that flow; a part of a stock with no word of its
                # own ("辖3200户,其中:外出务工560户") is a subgroup, no figure of the place
                if lx.indicators[pf.indicator].measure == "flow" and (
                        code is None or lx.indicators[code].measure == "stock"):
                    code, rule = pf.indicator, "subset"
                    ev_start = body.find(clause_text[:2], it.clause.start)
                subset_of = parent[0]
        if code is None and sent_facts:
            i, prev = sent_facts[-1]
            gap = self._change_gap(prev.q.end, q.qual_start)
            # "由1.2万户、4.1万人减少到3000户、9800人": each value the pair ends
            # with pairs with the starting value of its own unit
            listed = k > 0 and i in self.pair_clauses and not gap.strip(" ,，、")
            if lx.from_to.match(gap) or listed:
                where = self.pair_clauses[i] if listed else prev.clause
                start = next(((j, p) for j, p in reversed(sent_facts) if p.clause == where
                              and ru.compatible(self.facts[j].unit, it.unit)), None)
                if start is not None:
                    pf = self.facts[start[0]]
                    code, rule, ev_start = pf.indicator, "from_to", q.qual_start
                    from_fact, from_end, from_clause = pf, prev.q.end, start[1].clause
        if code is None:
            return
        ind = lx.indicators[code]
        before = body[it.clause.start : ev_start]
        near = body[max(it.clause.start, ev_start - 4) : ev_start] + body[ev_start : q.start]
        if lx.negative.search(before):
            self._skip("negative_context", ev_start, ev_end)
            return
        if lx.distributive.search(near):
            self._skip("distributive", ev_start, ev_end)
            return
        if ind.whole_stock and (
            lx.part_before.search(body, max(it.clause.start, ev_start - PART_REACH), q.start)
            or lx.part_after.match(body, ev_end, it.clause.end)
        ):
            # "带动贫困户7800人", "801万贫困户受益", "新识别贫困户20户": who one measure
            # reached or who was newly added, not the stock
            self._skip("not_the_stock", ev_start, ev_end)
            return
        if (lx.plan.search(before) or lx.plan.search(body, ev_start, q.start)
                or lx.plan.search(body, q.end, ev_end)) and not (
                # "贫困发生率将从2017年的42.3%下降到21%": where a planned change starts is a fact
                lx.from_opener.search(body, it.clause.start, q.qual_start)):
            self.plan_clauses.append(it.clause.start)
            planned = self._time(sent, q, ind, ev_end)
            if planned.source == "explicit" and planned.year is not None:
                self.plan_years.append(planned.year)
            self._skip("plan_or_target", ev_start, ev_end)
            return
        if it.unit == "yuan" and (
            lx.threshold.search(before)
            or lx.threshold.search(body, ev_start, q.start)
            or lx.threshold_after.match(body, q.end, it.clause.end)
        ):
            self._skip("threshold", ev_start, ev_end)
            return
        if q.qualifier in lx.threshold_qualifiers.get(ind.measure, ()):
            self._skip("threshold", ev_start, ev_end)
            return
        value = q.value
        # Implausible values (a count with a fraction, a rate over 100 %) are still
        # proposed: validation quarantines them with the expectation they fail.
        if ind.integer and abs(value - round(value)) <= 1e-6 * max(1.0, value):
            value = float(round(value))
        else:
            # Significant digits, not decimal places: 3.56万 loses its float noise,
            # and a rate of 0.0000000001 % stays one instead of becoming 0.
            value = float(f"{value:.12g}")
        # anecdotes ("挂钩3户") are no statistics; a zero or what is left ("未脱贫0户",
        # "未脱贫4户10人") is one (TAXONOMY)
        if (ind.min_plausible is not None and 0 < value < ind.min_plausible
                and not lx.negated_word.search(body, max(0, ev_start - 2), ev_end)):  # "未脱贫4户"
            self._skip("implausibly_small", ev_start, ev_end)
            return
        if self.several_places(sent, it.clause, ev_start, q):
            self._skip("multi_region", ev_start, ev_end)
            return
        confidence = ru.RULE_CONFIDENCE[rule]
        if lx.beneficiary.search(before):
            confidence -= 0.15
        region, region_code, province, note = self.region_for(sent, ev_start, ind.unit, value)
        if region is None:
            confidence -= 0.1
        when = self._time(sent, q, ind, ev_end)
        when = self._from_to_time(sent, it, from_fact, from_end, when)
        if when.year and (
            (self.pub_year and when.year > self.pub_year)  # "到2020年…降至3%以下"
            # "2019年计划脱贫70户,2020年兜底脱贫11户": a year after a plan's is planned too
            or (when.source == "explicit" and self.plan_years
                and when.year > max(self.plan_years))
        ):
            self._skip("plan_or_target", ev_start, ev_end)
            return
        fact = CandidateFact(
            indicator=code,
            value=value,
            unit=ind.unit,
            qualifier=q.qualifier,  # type: ignore[arg-type]
            evidence=body[ev_start:ev_end],
            sentence=body[sent.start : sent.end],
            char_start=ev_start,
            char_end=ev_end,
            rule=rule,
            confidence=round(max(0.05, min(1.0, confidence)), 2),
            region=region,
            region_code=region_code,
            province=province,
            year=when.year,
            period_start=when.period_start,
            as_of=when.as_of,
            time_kind=when.kind,
            year_source=when.source,
            subset_of=subset_of,
            region_note=note,
        )
        idx = self._add(fact)
        if idx is not None:
            sent_facts.append((idx, it))
            if from_fact is not None:
                self.pair_clauses[idx] = from_clause

    def _time(self, sent: Span, q: Quantity, ind, ev_end: int) -> _When:
        """The year per TAXONOMY.md: the sentence's (or paragraph frame's) time
        phrase; a running total ends in the publication year; a figure with no
        time phrase at all is as of the publication date; an annual rate
        ("年均", "每年") and a scrubbed year have none."""
        t = self._year_in_brackets_after(q) or self.time_for(sent, q.qual_start)
        cumulative = bool(self.tc.cumulative.search(self.body, sent.start, max(q.start, ev_end)))
        pub = self.pub_year
        if t is None:
            clause = max(self.body.rfind(c, sent.start, q.start) for c in "，,；;") + 1
            if pub is None or self.tc.former.search(self.body, max(sent.start, clause), q.start):
                return _When()  # "全国原有832个贫困县": once, not as of publication
            if ind.measure == "flow" and cumulative:
                return _When(pub, None, None, "cumulative", "period")
            return _When(pub, None, None, "point", "publication")
        if t.kind == "cumulative" and t.year is None:  # began in a year; ends when? unknown
            return _When(None, t.period_start, None, "cumulative")
        if t.kind in ("scrubbed", "annual") or t.year is None:
            return _When()
        kind = t.kind
        if kind == "point" and cumulative and ind.measure == "flow":
            kind = "cumulative"
        return _When(t.year, t.period_start, t.as_of, kind, t.source)

    def _from_to_time(
        self, sent: Span, it: _Item, from_fact: CandidateFact | None, from_end: int, when: _When
    ) -> _When:
        """Years of a from-to pair (TAXONOMY: each value its own year). A value
        with a year of its own keeps it; a bare "从644个" takes the starting year
        of an earlier dated pair in the sentence ("从2014年的34.36万人减少到2018年
        底的4.5万人,贫困村从644个减少到188个") or of a "2012年以来" frame, and the
        value it falls to takes that pair's end, else the frame's or the
        publication year."""
        q = it.q
        pair = self.pairs.get(sent.start)
        if from_fact is None:
            if not self.lx.from_opener.search(self.body, it.clause.start, q.qual_start):
                return when
            if self._time_between(it.clause.start, q.qual_start):
                return when  # "从2014年的34.36万人": its own year
            if pair is not None:
                return _When(pair[0], None, None, "point", "explicit")
            if when.kind == "cumulative" and when.period_start is not None:
                return _When(when.period_start, None, None, "point", "period")
            return _When()
        if self._time_between(from_end, q.qual_start) and when.year is not None:
            if from_fact.year is not None and from_fact.year_source == "explicit":
                self.pairs.setdefault(sent.start, (from_fact.year, when.year))
            return when
        if pair is not None:
            return _When(pair[1], None, None, "point", "explicit")
        # no year of its own: the sentence's time (its start's year is skipped by
        # time_for), else as of publication
        if from_fact.year is not None and from_fact.year_source == "explicit" and when.year:
            self.pairs.setdefault(sent.start, (from_fact.year, when.year))
        return when

    def _time_between(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.time_starts, start)
        return i < len(self.times) and self.times[i].start < end

    def _add(self, fact: CandidateFact) -> int | None:
        """Keep the first statement of a value; a restatement (same indicator,
        value and region, same or unknown year) only fills in missing time. A year
        that is only a guess (the publication's, or an estimate's) does not make two
        statements of a value two facts: "我国6年减贫8000多万人" in a headline and
        "…6年时间减少8000多万人" in the body are one."""
        key = (fact.indicator, fact.value, fact.region)
        guessed = ("publication", "estimated")
        for idx in self.fact_keys.get(key, ()):
            kept = self.facts[idx]
            if (kept.year is not None and fact.year is not None and kept.year != fact.year
                    and (kept.year_source in guessed) == (fact.year_source in guessed)):
                continue
            weak = ("none", *guessed)  # a restatement's stated time beats a guess
            wholesale = kept.year_source in weak and fact.year_source not in weak
            # a restatement with no year ("2020年以来…剩余52个"), or another one, adds no
            # start to a dated value
            fills = kept.year is None or fact.year == kept.year
            for attr in ("year", "period_start", "as_of", "time_kind", "year_source"):
                if wholesale or (fills and getattr(kept, attr) is None):
                    setattr(kept, attr, getattr(fact, attr))
            self._skip("duplicate", fact.char_start, fact.char_end)
            return idx
        self.fact_keys.setdefault(key, []).append(len(self.facts))
        self.facts.append(fact)
        return len(self.facts) - 1

    def _skip(self, reason: str, start: int, end: int) -> None:
        self.skips.append(Skip(reason, self.body[start:end], start, end))

    def _skips(self) -> None:
        for rx in (self.lx.scrub_left, self.lx.scrub_right):
            for m in rx.finditer(self.body):
                # the bare measure word must be a token of its own, not the end of 监测户
                if m.start("u") in self.ends and m.end("u") in self.ends:
                    self._skip("scrubbed_number", m.start(), m.end())
        for t in self.times:
            if t.kind == "scrubbed":
                a = max(0, t.start - 2)
                self._skip("scrubbed_year", a, t.end + 2)
        self.skips.sort(key=lambda s: s.char_start)


def extract_document(
    body: str, title: str | None, published: date | None, top_k: int,
    source_site: str | None = None, published_year: int | None = None,
    taxonomy_path: Path | None = None,
) -> Extraction:
    view = script.matching_view(body)  # Traditional pages are matched in Simplified
    title = script.to_simplified(title) if title else title
    site = script.to_simplified(source_site) if source_site else source_site
    doc = _Doc(view, title, published, site, published_year, taxonomy_path)
    doc.run()
    if view is not body:
        script.restore_spans(body, view, doc.facts, doc.skips)
    title_words = [w for w, _, _ in doc.title_tokens]
    keywords = kw.page_keywords(doc.words, doc.seg.uncut(), title_words, top_k)
    return Extraction(facts=doc.facts, skips=doc.skips, keywords=keywords)
