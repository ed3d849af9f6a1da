"""Synthetic corpus: realistic poverty-alleviation news pages with exact gold facts.

Benchmarks need thousands of pages whose right answers are known; real pages with
hand-checked gold are few. ``generate_corpus`` writes HTML pages built from the
templates in ``bench/synth_templates.yaml`` (site layouts with chrome, filler
prose, indicator sentences) about real regions from ``schemas/regions.csv``, and a
``gold.jsonl`` in the format of the shared gold set, one line per stated fact.

Every page is a pure function of ``(seed, index)``: a page is drawn from its own
``random.Random``, so the corpus streams to disk (nothing is held in memory), the
same seed gives the same bytes, and a duplicate page is made by drawing its
original again instead of remembering it.
"""

from __future__ import annotations

import csv
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bench.density import numbered_chars

TEMPLATES_PATH = Path(__file__).resolve().with_name("synth_templates.yaml")
REGIONS_PATH = Path(__file__).resolve().parents[1] / "schemas" / "regions.csv"

_SLOT_RE = re.compile(r"\{(\w+)\}")
_LAYOUT_RE = re.compile(r"\{\{(\w+)\}\}")
_FILLER_NUMBER_RE = re.compile(r"\{(n_\w+|date)\}")
ANAPHORS = {"县": "全县", "市": "全市", "旗": "全旗", "州": "全州"}
WAN, YI = Decimal(10_000), Decimal(100_000_000)


# ---------------------------------------------------------------- data loading


@dataclass(frozen=True)
class Place:
    """A subject region: the gazetteer row plus the words a page needs for it."""

    name: str
    level: str  # county | prefecture
    province: str
    province_short: str
    prefecture: str  # the prefecture for a county; the region itself for a prefecture
    anaphor: str  # 全县/全市/全旗/全州

    @property
    def where(self) -> str:
        """The region as a lead writes it: with its prefecture, or its province."""
        parent = self.prefecture if self.level == "county" and self.prefecture else self.province
        return parent + self.name if parent != self.name else self.name


@dataclass(frozen=True)
class Templates:
    """The parsed template file; ``raw`` keeps every list the generator draws from."""

    raw: dict[str, Any]
    layouts: list[dict[str, Any]]
    sentences: list[dict[str, Any]]
    counties: list[Place]
    prefectures: list[Place]
    members: dict[str, list[str]]  # prefecture -> its counties that can be named
    towns: list[str]
    villages: list[str]
    numbered_actions: list[str]  # filler actions a clause with numbers may follow


def fill(template: str, values: dict[str, str]) -> str:
    """Substitute ``{name}`` placeholders; unknown names are a template bug."""
    return _SLOT_RE.sub(lambda m: values[m.group(1)], template)


def fill_layout(template: str, values: dict[str, str]) -> str:
    """Substitute ``{{name}}`` placeholders (layouts keep CSS braces untouched)."""
    return _LAYOUT_RE.sub(lambda m: values[m.group(1)], template)


def _places(provinces: dict[str, str], path: Path) -> tuple[list[Place], list[Place], set[str]]:
    """Counties and prefectures of the listed provinces whose names the gazetteer
    resolves without doubt (unique full name, a suffix with an anaphor)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = Counter(r["name"] for r in rows)
    shorts = {r["code"][:2]: r["short_name"] for r in rows if r["level"] == "province"}
    words = {r["name"] for r in rows} | {r["short_name"] for r in rows if r["match_short"] == "1"}
    counties, prefectures = [], []
    for r in rows:
        if r["province"] not in provinces or r["level"] not in ("county", "prefecture"):
            continue
        anaphor = ANAPHORS.get(r["name"][-1])
        if anaphor is None or names[r["name"]] != 1 or len(r["name"]) < 3:
            continue
        place = Place(r["name"], r["level"], r["province"], shorts[r["code"][:2]],
                      r["prefecture"] or "", anaphor)
        (counties if r["level"] == "county" else prefectures).append(place)
    return counties, prefectures, words


def _invented(first: list[str], suffixes: list[str], gazetteer_words: set[str]) -> list[str]:
    """Invented town/village names that contain no gazetteer name, so filler prose
    never names a real region the extractor could resolve."""
    out = []
    for f in first:
        for s in suffixes:
            name = f + s
            if not any(w and len(w) >= 2 and w in name for w in gazetteer_words):
                out.append(name)
    return out


@lru_cache(maxsize=4)
def load_templates(path: Path = TEMPLATES_PATH, regions: Path = REGIONS_PATH) -> Templates:
    """Parse the template file once per process."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    counties, prefectures, words = _places(raw["provinces"], regions)
    filler = raw["filler"]
    towns = _invented(filler["towns"]["first"], filler["towns"]["suffix"], words)
    villages = _invented(filler["villages"]["first"], [""], words)
    members: dict[str, list[str]] = {}
    for c in counties:
        members.setdefault(c.prefecture, []).append(c.name)
    avoid = raw["numbered_filler"]["cue_free_actions_avoid"]
    numbered_actions = [a for a in filler["actions"] if not any(w in a for w in avoid)]
    return Templates(raw, raw["layouts"], raw["indicator_sentences"], counties, prefectures,
                     members, towns, villages, numbered_actions)


# ---------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Written:
    """A number as the page writes it and the value gold records for it."""

    text: str
    value: Decimal
    qualifier: str


def _strip(d: Decimal) -> str:
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def _round_sig(x: float, digits: int, qualifier: str = "at_least") -> Decimal:
    """Round to ``digits`` significant digits, as 约/近 (nearest) and 余/多 (down)
    numbers are written."""
    d = Decimal(str(int(x))) if x >= 1 else Decimal("1")
    exp = len(str(int(d))) - digits
    if exp <= 0:
        return d
    q = Decimal(10) ** exp
    if qualifier == "approx":
        return max(q, ((d + q / 2) // q) * q)
    return (d // q) * q


def _pick_qualifier(rng: random.Random, allowed: list[str]) -> str:
    if len(allowed) > 1 and rng.random() < 0.35:
        return rng.choice([q for q in allowed if q != "exact"] or ["exact"])
    return "exact"


def write_count(rng: random.Random, x: float, qualifier: str, wan_only: bool = False) -> Written:
    """Households/persons: plain digits or 万 with up to two decimals; 约/近 and 余/多
    forms round to two significant digits."""
    x = max(x, 1.0)
    if qualifier != "exact":
        n = _round_sig(x, 2, qualifier)
        if n >= WAN and (wan_only or rng.random() < 0.7):
            body = _strip(n / WAN)
            if qualifier == "approx":
                return Written(rng.choice("近约") + body + "万", n, qualifier)
            return Written(body + "万" + rng.choice(["余", "多"]), n, qualifier)
        if qualifier == "approx":
            return Written(rng.choice("近约") + _strip(n), n, qualifier)
        return Written(_strip(n) + rng.choice(["余", "多"]), n, qualifier)
    if x >= 10_000 and (wan_only or rng.random() < 0.5):
        d = (Decimal(int(x)) / WAN).quantize(Decimal("0.01"))
        return Written(_strip(d) + "万", d * WAN, qualifier)
    n = Decimal(int(x))
    return Written(_strip(n), n, qualifier)


def write_money(rng: random.Random, x: float, qualifier: str) -> Written:
    """Yuan: 亿 with one or two decimals, or 万 with none or one; 约/余/多 round."""
    if qualifier != "exact":
        if x >= 1e8:
            if qualifier == "approx":
                n = Decimal(repr(x / 1e8)).quantize(Decimal("0.1"))
                return Written(rng.choice("近约") + _strip(n) + "亿", n * YI, qualifier)
            n = _round_sig(x / 1e8, 2)
            return Written(_strip(n) + "亿多", n * YI, qualifier)
        n = _round_sig(x / 1e4, 2, qualifier)
        if qualifier == "approx":
            return Written(rng.choice("近约") + _strip(n) + "万", n * WAN, qualifier)
        return Written(_strip(n) + rng.choice(["余", "多"]) + "万", n * WAN, qualifier)
    if x >= 1e8 and rng.random() < 0.8:
        places = Decimal("0.01") if rng.random() < 0.5 else Decimal("0.1")
        d = (Decimal(int(x)) / YI).quantize(places)
        return Written(_strip(d) + "亿", d * YI, qualifier)
    d = (Decimal(int(x)) / WAN).quantize(Decimal("1") if rng.random() < 0.6 else Decimal("0.1"))
    return Written(_strip(d) + "万", d * WAN, qualifier)


def write_decimal(rng: random.Random, x: float, places: tuple[int, ...] = (1, 2)) -> Written:
    """Rates and incomes: digits with a random number of decimals."""
    q = Decimal(1).scaleb(-rng.choice(places))
    d = Decimal(repr(x)).quantize(q)
    return Written(_strip(d), d, "exact")


def write_int(x: float) -> Written:
    n = Decimal(max(round(x), 1))
    return Written(_strip(n), n, "exact")


# Slot name -> (kind, raw value from the page profile). Kinds: count (households,
# persons), wan (a count written with 万 and no measure word), small (villages,
# counties, names), money, rate, income.
SLOT_KINDS: dict[str, str] = {
    "hh0": "count", "pop0": "count", "total": "count", "agri": "count", "lp": "count",
    "lp_y": "count", "lp_ly": "count", "lh_ly": "count", "ben": "count", "rh": "count",
    "rp": "count", "rh2": "count", "rp2": "count", "house": "count", "house2": "count",
    "house_y": "count", "emp": "count", "emp_ly": "count", "emp2": "count", "mh": "count",
    "mp": "count", "eh": "count", "ep": "count",
    "total_wan": "wan", "pop0_wan": "wan",
    "vil0": "small", "ve": "small", "ve_y": "small", "pc": "small_cn", "ce": "small_cn",
    "lp_c": "count",
    "sec": "small", "towns": "small", "admin_villages": "small", "projects": "small",
    "sites": "small", "roads": "small",
    "fund": "money", "fund_sub": "money", "fund_y": "money", "agri_fund": "money",
    "loan": "money", "ind_fund": "money", "assist": "money", "assist_y": "money",
    "rate0": "rate", "rate1": "rate", "rate2": "rate", "growth": "rate1", "wage": "rate1",
    "mu": "rate1", "inc0": "income", "inc1": "income",
}  # fmt: skip


def _lu(rng: random.Random, lo: float, hi: float) -> float:
    """Log-uniform: populations and budgets span orders of magnitude."""
    return lo * (hi / lo) ** rng.random()


def region_profile(rng: random.Random, level: str, y0: int, y1: int | None) -> dict[str, float]:
    """Mutually consistent raw figures for one region (poor ≤ agricultural ≤ total, …)."""
    county = level == "county"
    u = rng.uniform
    p: dict[str, float] = {}
    p["total"] = _lu(rng, 120_000, 1_100_000) if county else _lu(rng, 900_000, 6_000_000)
    p["total_wan"] = p["total"]
    p["agri"] = p["total"] * u(0.72, 0.9)
    p["rate0"] = u(8, 32) if county else u(6, 22)
    p["pop0"] = p["agri"] * p["rate0"] / 100
    p["pop0_wan"] = max(p["pop0"], 12_000)
    p["hh0"] = p["pop0"] / u(3.4, 4.3)
    p["rate1"] = p["rate0"] * u(0.1, 0.6)
    p["rate2"] = p["rate1"] * u(0.1, 0.8)
    p["vil0"] = u(25, 260) if county else u(250, 1400)
    p["towns"] = u(8, 25) if county else u(60, 200)
    p["admin_villages"] = p["vil0"] * u(1.5, 3.5)
    p["pc"] = rng.randint(3, 11)
    p["ce"] = p["pc"]
    p["lp"] = p["pop0"] * u(0.5, 0.97)
    p["ve"] = p["vil0"] * u(0.4, 1.0)
    p["lp_y"] = p["pop0"] * u(0.08, 0.3)
    p["ve_y"] = p["vil0"] * u(0.1, 0.35)
    p["lp_c"] = p["lp_y"] * u(0.08, 0.3)
    p["lp_ly"] = p["pop0"] * u(0.08, 0.3)
    p["lh_ly"] = p["lp_ly"] / u(3.4, 4.3)
    scale = 1.0 if county else u(5, 9)
    p["fund"] = _lu(rng, 3e8, 3e9) * scale
    p["fund_sub"] = p["fund"] * u(0.5, 0.8)
    p["fund_y"] = p["fund"] * u(0.12, 0.3)
    p["agri_fund"] = _lu(rng, 1e8, 1.5e9) * scale
    p["loan"] = _lu(rng, 1e8, 1.2e9) * scale
    p["ben"] = p["hh0"] * u(0.2, 0.6)
    p["ind_fund"] = _lu(rng, 3e7, 5e8) * scale
    p["assist"] = _lu(rng, 1e7, 5e8) * scale
    p["assist_y"] = p["assist"] * u(0.15, 0.4)
    p["projects"] = u(10, 120)
    p["rh"] = p["hh0"] * u(0.05, 0.3)
    p["rp"] = p["rh"] * u(3.6, 4.4)
    p["rh2"] = p["rh"] * u(0.7, 0.95)
    p["rp2"] = p["rh2"] * u(3.6, 4.4)
    p["house"] = p["hh0"] * u(0.1, 0.5)
    p["house2"] = p["house"] * u(0.4, 0.8)
    p["house_y"] = p["house"] * u(0.1, 0.3)
    p["inc0"] = u(3200, 6500) * 1.09 ** (y0 - 2013)
    p["inc1"] = p["inc0"] * 1.09 ** ((y1 or y0 + 1) - y0) * u(0.97, 1.05)
    p["emp"] = _lu(rng, 1e4, 1.5e5) * scale
    p["emp_ly"] = p["emp"] * u(0.8, 1.2)
    p["emp2"] = p["emp_ly"] * u(0.25, 0.5)
    p["mh"] = p["hh0"] * u(0.005, 0.03) + 20
    p["mp"] = p["mh"] * u(3.0, 4.5)
    p["eh"] = p["hh0"] * u(0.005, 0.03) + 20
    p["ep"] = p["eh"] * u(3.0, 4.5)
    p["sec"] = p["vil0"] * u(1.0, 1.3)
    p["sites"] = u(5, 150)
    p["roads"] = u(20, 600)
    p["growth"] = u(6.5, 12.5)
    p["wage"] = u(1, 30)
    p["mu"] = u(1, 30)
    return p


def write_slot(rng: random.Random, name: str, raw: float, qualifier: str) -> Written:
    """Render one slot as text, with the exact value a reader would normalise it to."""
    kind = SLOT_KINDS[name]
    if kind == "count":
        return write_count(rng, raw, qualifier)
    if kind == "wan":
        return write_count(rng, raw, qualifier, wan_only=True)
    if kind == "money":
        return write_money(rng, raw, qualifier)
    if kind == "rate":
        return write_decimal(rng, raw)
    if kind == "rate1":
        return write_decimal(rng, raw, (1,))
    if kind == "income":
        return write_decimal(rng, raw, (0, 0, 1))
    if kind == "small_cn" and raw < 10.5 and rng.random() < 0.4:
        n = round(raw)
        return Written(CN_NUMERALS[n], Decimal(n), "exact")
    return write_int(raw)


CN_NUMERALS = ["零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十"]


def gold_number(d: Decimal) -> int | float:
    """Gold values: integers stay integers, everything else a float."""
    return int(d) if d == d.to_integral_value() else float(d)


# ---------------------------------------------------------------- stories


@dataclass
class Story:
    """What a page says, independent of the site that prints it."""

    place: Place
    published: date
    paragraphs: list[tuple[str, str]]  # (kind, text): kind is "p" or "h" (heading)
    facts: list[dict[str, Any]]
    headline_index: int
    flags: dict[str, int] = field(default_factory=dict)

    @property
    def body_text(self) -> str:
        return "\n".join(t for _, t in self.paragraphs)


def _year(expr: Any, years: dict[str, int]) -> int | None:
    if expr is None:
        return None
    if isinstance(expr, int):
        return expr
    if expr == "P-1":
        return years["P"] - 1
    return years[str(expr)]


def _eligible(sent: dict[str, Any], place: Place, pub: int, y1: int | None,
              has_members: bool) -> bool:
    needs = sent.get("needs") or {}
    if needs.get("member") and not has_members:
        return False
    if needs.get("level") and needs["level"] != place.level:
        return False
    if needs.get("min_pub") and pub < needs["min_pub"]:
        return False
    return not (needs.get("y1") and y1 is None)


def _person(rng: random.Random, raw: dict[str, Any]) -> str:
    return rng.choice(raw["surnames"]) + rng.choice(raw["given_names"])


def _words(rng: random.Random, tpl: Templates, place: Place) -> dict[str, str]:
    """Fresh values for the non-numeric placeholders of one sentence."""
    return {"R": place.name, "A": place.anaphor, "where": place.where,
            "town": rng.choice(tpl.towns), "village": rng.choice(tpl.villages),
            "name": _person(rng, tpl.raw), "prov": place.province_short,
            "pref": place.prefecture or place.province}


def _distractor_numbers(rng: random.Random, text: str, slots: dict[str, list[float]],
                        published: date) -> str:
    """Fill ``{n_*}`` and ``{date}`` slots, each occurrence with a fresh draw: numbers
    no indicator counts, so filler is as number-dense as real prose and stays out of gold.

    A date is a day of the publication year up to the publication day: a reader (and
    the extractor) takes a month and day with no year as the latest such day not after
    publication, and a date read as last year would date the figures after it."""

    def draw(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "date":
            back = rng.randint(0, min(60, published.timetuple().tm_yday - 1))
            day = published - timedelta(days=back)
            return f"{day.month}月{day.day}日"
        lo, hi, places = slots[name]
        x = rng.uniform(lo, hi)
        if places:
            return _strip(Decimal(repr(x)).quantize(Decimal(1).scaleb(-int(places))))
        n = round(x)
        if name == "n_few" and n <= 10 and rng.random() < 0.4:
            return CN_NUMERALS[n]
        return str(n)

    return _FILLER_NUMBER_RE.sub(draw, text)


def _filler_sentence(rng: random.Random, tpl: Templates, place: Place, published: date,
                     ) -> str:
    """One sentence of prose: a numbered one (``numbered_filler_share`` of them: a sentence
    or a clause with distractor numbers), else a standalone line, a quote, or a
    subject with an action and perhaps a tail."""
    f, numbered = tpl.raw["filler"], tpl.raw["numbered_filler"]
    if rng.random() < tpl.raw["mix"]["numbered_filler_share"]:
        if rng.random() < 0.6:
            text = rng.choice(numbered["sentences"])
        else:
            text = (rng.choice(f["subjects"]) + rng.choice(tpl.numbered_actions) + "，"
                    + rng.choice(numbered["tails"]) + "。")
        text = _distractor_numbers(rng, text, numbered["number_slots"], published)
    else:
        roll = rng.random()
        if roll < 0.2:
            text = rng.choice(f["standalone"])
        elif roll < 0.28:
            text = rng.choice(f["quotes"])
        else:
            text = rng.choice(f["subjects"]) + rng.choice(f["actions"])
            if rng.random() < 0.75:
                text += "，" + rng.choice(f["tails"])
            text += "。"
    return fill(text, _words(rng, tpl, place))


def _indicator_sentence(
    rng: random.Random, tpl: Templates, sent: dict[str, Any], place: Place,
    profile: dict[str, float], years: dict[str, int], member: str | None,
) -> tuple[str, list[dict[str, Any]]]:
    """Render one indicator sentence and the gold facts it states."""
    allowed: dict[str, list[str]] = {}
    for fct in sent["facts"]:
        allowed.setdefault(fct["slot"], fct.get("qualify") or ["exact"])
    text = sent["text"]
    if rng.random() < 0.2 and not any(SLOT_KINDS.get(s) == "rate" for s in allowed):
        text = text[:-1] + rng.choice(tpl.raw["distractors"]) + "。"
    values = _words(rng, tpl, place)
    values.update({k: str(v) for k, v in years.items() if v is not None})
    if member:
        values["C"] = member
    written: dict[str, Written] = {}
    for slot in _SLOT_RE.findall(text):
        if slot in values or slot in written:
            continue
        q = _pick_qualifier(rng, allowed.get(slot, ["exact"]))
        written[slot] = write_slot(rng, slot, profile[slot], q)
    values.update({k: w.text for k, w in written.items()})
    rendered = fill(text, values)
    facts = []
    for fct in sent["facts"]:
        w = written[fct["slot"]]
        evidence = fill(fct["evidence"], values)
        if evidence not in rendered:  # a template bug, not a page property
            raise ValueError(f"{sent['id']}: evidence {evidence!r} not in {rendered!r}")
        note = fct.get("note") or ""
        facts.append({
            "indicator": fct["indicator"], "region": values[fct.get("region", "R")],
            "province": place.province,
            "year": _year(fct.get("year"), years),
            "period_start": _year(fct.get("period_start"), years),
            "value": gold_number(w.value), "unit": _UNITS[fct["indicator"]],
            "qualifier": w.qualifier, "evidence": evidence,
            "note": f"{note}; template {sent['id']}" if note else f"template {sent['id']}",
        })
    return rendered, facts


_UNITS = {
    "poor_households": "household", "poor_population": "person",
    "poverty_incidence": "percent", "poor_villages": "village", "poor_counties": "county",
    "lifted_households": "household", "lifted_population": "person",
    "villages_exited": "village", "counties_exited": "county",
    "relocated_households": "household", "relocated_population": "person",
    "housing_renovated": "household", "fiscal_poverty_fund": "yuan",
    "integrated_agri_fund": "yuan", "poverty_loans": "yuan", "assistance_fund": "yuan",
    "industry_fund": "yuan", "employment": "person", "per_capita_income": "yuan_per_person",
    "first_secretaries": "person", "total_population": "person",
    "agricultural_population": "person", "monitored_households": "household",
    "monitored_population": "person",
}  # fmt: skip


def _random_date(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _body_target(rng: random.Random, spec: dict[str, float]) -> int:
    lo, hi = spec["min"], spec["max"]
    return int(lo + (hi - lo) * rng.betavariate(spec["alpha"], spec["beta"]))


def make_story(rng: random.Random, tpl: Templates) -> Story:
    """Draw a subject region, a date and a body of filler and indicator paragraphs."""
    raw, mix = tpl.raw, tpl.raw["mix"]
    pool = tpl.prefectures if rng.random() < mix["prefecture_share"] else tpl.counties
    place = rng.choice(pool)
    pub = _random_date(rng, mix["published"]["first"], mix["published"]["last"])
    y0 = min(rng.choice([2013, 2014, 2014, 2015]), pub.year - 1)
    y1 = rng.randint(y0 + 1, pub.year - 1) if y0 + 1 <= pub.year - 1 else None
    years = {"Y0": y0, "Y1": y1, "P": pub.year}
    profile = region_profile(rng, place.level, y0, y1)
    target = _body_target(rng, mix["body_chars"])
    lead_day = pub - timedelta(days=1)
    words = _words(rng, tpl, place)
    words.update(md=f"{lead_day.month}月{lead_day.day}日", event=rng.choice(raw["events"]),
                 office=rng.choice(raw["offices"]))
    lead = fill(rng.choice(raw["leads"]), words)
    closing = fill(rng.choice(raw["closings"]), words)
    budget = target - len(lead) - len(closing)

    members = tpl.members.get(place.name, []) if place.level == "prefecture" else []
    member = rng.choice(members) if members else None
    eligible = [s for s in tpl.sentences if _eligible(s, place, pub.year, y1, bool(members))]
    k = max(3, round(target / mix["chars_per_indicator_sentence"]))
    rng.shuffle(eligible)
    chosen, groups = [], set()
    for sent in eligible:
        if len(chosen) == k:
            break
        if sent.get("group") in groups:
            continue
        groups.add(sent.get("group") or sent["id"])
        chosen.append(sent)
    blocks: list[tuple[str, list[dict[str, Any]]]] = []
    stated: set[tuple[Any, ...]] = set()
    for sent in chosen:
        text, facts = _indicator_sentence(rng, tpl, sent, place, profile, years, member)
        # A figure the page states twice (same year) is one gold fact, as in the shared set.
        kept = []
        for f in facts:
            key = (f["indicator"], f["region"], f["value"], f["year"])
            if key not in stated:
                stated.add(key)
                kept.append(f)
        blocks.append((text, kept))

    # Paragraphs: each indicator sentence with 1-3 filler sentences around it (one
    # number-bearing sentence per paragraph), then filler-only paragraphs until the
    # body reaches its target length.
    paras: list[tuple[str, list[dict[str, Any]]]] = []
    used = 0
    for text, facts in blocks:
        parts = [_filler_sentence(rng, tpl, place, pub) for _ in range(rng.randint(1, 3))]
        parts.insert(rng.randint(0, len(parts)), text)
        para = "".join(parts)
        paras.append((para, facts))
        used += len(para)
    while used < budget:
        para = "".join(_filler_sentence(rng, tpl, place, pub) for _ in range(rng.randint(2, 6)))
        if used + len(para) > budget + 200 and used > budget - 400:
            break
        paras.append((para, []))
        used += len(para)
    rng.shuffle(paras)

    flags = {"masked": 0, "scrubbed": 0, "repeated": 0}
    texts = [p for p, _ in paras]
    if rng.random() < mix["mask_share"]:
        flags["masked"] = _mask_one(rng, texts, raw["masks"], raw["filler"]["standalone"],
                                    [i for i, (_, f) in enumerate(paras) if not f])
    if rng.random() < mix["scrubbed_share"]:
        texts.insert(rng.randint(0, len(texts)), fill(rng.choice(raw["scrubbed"]), words))
        flags["scrubbed"] = 1
    if rng.random() < mix["repeat_share"] and texts:
        i = rng.randrange(len(texts))
        texts.insert(min(len(texts), i + rng.randint(1, 3)), texts[i])
        flags["repeated"] = 1

    paragraphs: list[tuple[str, str]] = [("p", lead)]
    headings = list(raw["headings"])
    rng.shuffle(headings)
    use_headings = target > 5000 and rng.random() < 0.5
    step = max(2, len(texts) // 4)
    for i, t in enumerate(texts):
        if use_headings and i % step == 0 and i // step < len(raw["heading_ordinals"]):
            paragraphs.append(("h", raw["heading_ordinals"][i // step] + headings.pop()))
        paragraphs.append(("p", t))
    paragraphs.append(("p", closing))
    facts = [f for _, fs in paras for f in fs]
    return Story(place, pub, paragraphs, facts, rng.randrange(len(raw["headlines"])), flags)


def _mask_one(rng: random.Random, texts: list[str], masks: list[str],
              standalone: list[str], filler_only: list[int]) -> int:
    """Replace the first character of one sensitive word in a filler paragraph by "*"."""
    if not filler_only:
        return 0
    i = rng.choice(filler_only)
    for word in masks:
        pos = texts[i].find(word)
        if pos >= 0:
            texts[i] = texts[i][:pos] + "*" + texts[i][pos + 1:]
            return 1
    sentence = next(s for s in standalone if "政策" in s)
    texts[i] += sentence.replace("政策", "*策", 1)
    return 1


# ---------------------------------------------------------------- pages


def _site(rng: random.Random, tpl: Templates, kind: str, place: Place) -> str:
    return fill(rng.choice(tpl.raw["sites"][kind]),
                {"prov": place.province_short, "pref": place.prefecture or place.province,
                 "R": place.name})


def _format_date(fmt: str, d: date, rng: random.Random) -> str:
    return fmt.format(Y=d.year, m=d.month, d=d.day, H=rng.randint(7, 21),
                      M=rng.randint(0, 59), S=rng.randint(0, 59))


def render_page(
    rng: random.Random, tpl: Templates, story: Story, layout: dict[str, Any],
    headline_index: int, published: date, charset: str | None,
) -> str:
    """Wrap a story in a site layout with its chrome; ``charset`` None declares nothing."""
    raw, place = tpl.raw, story.place
    site = _site(rng, tpl, layout["site_kind"], place)
    words = _words(rng, tpl, place)
    headline = fill(raw["headlines"][headline_index], words)
    author = fill(rng.choice(raw["author_forms"]),
                  {"name": _person(rng, raw), "name2": _person(rng, raw)})
    source = fill(rng.choice(raw["sources"]),
                  {"site": site, "R": place.name, "pref": place.prefecture or place.province})
    date_text = _format_date(layout["date_format"], published, rng)
    abbr = raw["provinces"][place.province]
    values: dict[str, str] = {
        "site": site, "headline": headline, "R": place.name, "prov": place.province_short,
        "author": author, "source": source, "date": date_text, "year": str(published.year),
        "editor": rng.choice(raw["editors"]), "hits": str(rng.randint(30, 9000)),
        "up": str(rng.randint(0, 40)), "down": str(rng.randint(0, 5)),
        "icp": f"{abbr}ICP备{rng.randint(10**7, 10**8 - 1)}号",
        "phone": f"0{rng.randint(100, 999)}-{rng.randint(10**6, 10**7 - 1)}",
        "site_code": str(rng.randint(10**9, 10**10 - 1)),
        "postcode": str(rng.randint(700000, 859999)), "page_no": f"{rng.randint(1, 8):02}",
        "section": rng.choice(raw["section_names"]),
        "section_slug": rng.choice(["fupin", "jzfp", "xw", "tpgj", "dt", "xczx"]),
        "kicker": rng.choice(raw["kickers"]),
        "subtitle": fill(rng.choice(raw["subtitles"]), words),
        "prev": str(rng.randint(1000, 99999)), "next": str(rng.randint(1000, 99999)),
    }
    values["dateline"] = fill_layout(layout["dateline"], values)
    values["title"] = fill_layout(layout["title"], values)
    related = []
    titles = rng.sample(raw["related_titles"], rng.randint(3, 6))
    for t in titles:
        day = published - timedelta(days=rng.randint(1, 40))
        related.append(fill_layout(layout["related_item"], {
            "n": str(rng.randint(1000, 99999)), "text": fill(t, words),
            "date": day.isoformat()}))
    values["related"] = "\n".join(related)
    values["prev_title"], values["next_title"] = (fill(t, words) for t in rng.sample(
        raw["related_titles"], 2))
    values["ranking"] = "".join(
        fill_layout(layout["rank_item"], {"n": str(rng.randint(10, 999)), "text": t})
        for t in rng.sample(raw["rank_titles"], 3)
    ) if layout["rank_item"] else ""
    nav = rng.sample(raw["nav_items"], rng.randint(6, 9))
    values["nav"] = "".join(f'<li><a href="/c{i}/">{n}</a></li>' for i, n in enumerate(nav))
    menu = raw["gov_menu"][: rng.randint(5, len(raw["gov_menu"]))]
    values["menu"] = " ".join(f'<a href="/m{i}/">{n}</a>' for i, n in enumerate(menu))
    body = []
    for kind, text in story.paragraphs:
        body.append(fill_layout(layout["heading" if kind == "h" else "paragraph"],
                                {"text": text}))
    values["body"] = "\n".join(body)
    values["charset"] = charset or ""
    values["charset_meta"] = (
        fill_layout(raw["charset_meta"][layout["charset_meta"]], values) if charset else ""
    )
    return fill_layout(layout["page"], values)


def _gb2312_safe(text: str) -> bool:
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _choose(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


@dataclass(frozen=True)
class PagePlan:
    """Whether page ``index`` is an original, an exact copy or a near copy, and of what."""

    kind: str  # original | duplicate | near_duplicate
    root: int  # index of the original story


def plan_page(seed: int, index: int, mix: dict[str, Any]) -> PagePlan:
    """Decided from the page's own generator, so any page's plan is cheap to recompute."""
    rng = random.Random(f"fupin-synth:{seed}:plan:{index}")
    roll = rng.random()
    if index > 0 and roll < mix["duplicate_share"]:
        target = rng.randrange(index)
        return PagePlan("duplicate", plan_page(seed, target, mix).root)
    if index > 0 and roll < mix["duplicate_share"] + mix["near_duplicate_share"]:
        target = rng.randrange(index)
        return PagePlan("near_duplicate", plan_page(seed, target, mix).root)
    return PagePlan("original", index)


def page_stem(seed: int, index: int) -> str:
    """File stem = gold seed: the index and a hash-like tag, like the shared seed names."""
    rng = random.Random(f"fupin-synth:{seed}:name:{index}")
    return f"{index:06d}_{rng.getrandbits(64):016x}"


def build_page(seed: int, index: int, tpl: Templates) -> tuple[bytes, dict[str, Any], Story]:
    """The bytes of one original page (or an exact copy's), its manifest row and story."""
    mix = tpl.raw["mix"]
    rng = random.Random(f"fupin-synth:{seed}:page:{index}")
    story = make_story(rng, tpl)
    layouts = tpl.layouts
    layout = rng.choices(layouts, [lay["weight"] for lay in layouts])[0]
    return _encode(rng, tpl, story, layout, story.headline_index, story.published, mix)


def _encode(rng: random.Random, tpl: Templates, story: Story, layout: dict[str, Any],
            headline_index: int, published: date, mix: dict[str, Any],
            ) -> tuple[bytes, dict[str, Any], Story]:
    gbk = rng.random() < mix["gbk_share"]
    declared = not (gbk and rng.random() < mix["gbk_undeclared_share"])
    if gbk:
        codec = "gb2312" if _gb2312_safe(story.body_text + story.place.where) else "gbk"
        charset = codec if declared else None
    else:
        codec, charset = "utf-8", rng.choice(["utf-8", "UTF-8"])
    html = render_page(rng, tpl, story, layout, headline_index, published, charset)
    data = html.encode(codec, errors="xmlcharrefreplace")
    numbered, _ = numbered_chars(story.body_text)
    row = {"layout": layout["name"], "encoding": codec, "charset": charset,
           "published": published.isoformat(), "region": story.place.name,
           "province": story.place.province, "level": story.place.level,
           "body_chars": len(story.body_text) - story.body_text.count("\n"),
           "numbered_chars": numbered, "facts": len(story.facts), **story.flags}
    return data, row, story


def build_near_duplicate(seed: int, index: int, root: int, tpl: Templates,
                         ) -> tuple[bytes, dict[str, Any], Story]:
    """The root's story on another site: new layout, headline, dateline (same year)."""
    mix = tpl.raw["mix"]
    story = make_story(random.Random(f"fupin-synth:{seed}:page:{root}"), tpl)
    rng = random.Random(f"fupin-synth:{seed}:near:{index}")
    layout = rng.choice(tpl.layouts)
    n = len(tpl.raw["headlines"])
    headline = (story.headline_index + rng.randint(1, n - 1)) % n
    shifted = story.published + timedelta(days=rng.randint(0, 5))
    published = shifted if shifted.year == story.published.year else story.published
    return _encode(rng, tpl, story, layout, headline, published, mix)


def generate_corpus(out: Path, pages: int, seed: int = 0) -> dict[str, Any]:
    """Write ``pages`` HTML pages to ``out/pages/``, their gold facts to ``out/gold.jsonl``
    and one manifest row per page to ``out/manifest.jsonl``; return the counts.

    Pages are written one at a time (memory stays flat at any size). Exact copies
    repeat their original's bytes under another name; near copies reprint its story.
    """
    started = time.perf_counter()
    tpl = load_templates()
    mix = tpl.raw["mix"]
    out = Path(out)
    page_dir = out / "pages"
    page_dir.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    layouts: Counter[str] = Counter()
    encodings: Counter[str] = Counter()
    ext_rng = random.Random(f"fupin-synth:{seed}:ext")
    with (out / "gold.jsonl").open("w", encoding="utf-8") as gold, \
            (out / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for index in range(pages):
            plan = plan_page(seed, index, mix)
            if plan.kind == "near_duplicate":
                data, row, story = build_near_duplicate(seed, index, plan.root, tpl)
            else:
                data, row, story = build_page(seed, plan.root, tpl)
            stem = page_stem(seed, index)
            ext = _choose(ext_rng, mix["extensions"])
            (page_dir / f"{stem}.{ext}").write_bytes(data)
            for fact in story.facts:
                gold.write(json.dumps({"seed": stem, **fact}, ensure_ascii=False) + "\n")
            original = page_stem(seed, plan.root) if plan.kind != "original" else None
            manifest.write(json.dumps({"seed": stem, "file": f"{stem}.{ext}", "kind": plan.kind,
                                       "original": original, "bytes": len(data), **row},
                                      ensure_ascii=False) + "\n")
            counts[plan.kind] += 1
            counts["facts"] += len(story.facts)
            counts["borderline"] += sum(f["note"].startswith("borderline:") for f in story.facts)
            counts["bytes"] += len(data)
            counts["body_chars"] += row["body_chars"]
            counts["numbered_chars"] += row["numbered_chars"]
            counts["undeclared_charset"] += row["charset"] is None
            for flag in ("masked", "scrubbed", "repeated"):
                counts[flag] += row[flag]
            layouts[row["layout"]] += 1
            encodings[row["encoding"]] += 1
    return {
        "pages": pages,
        "originals": counts["original"],
        "duplicates": counts["duplicate"],
        "near_duplicates": counts["near_duplicate"],
        "facts": counts["facts"],
        "borderline_facts": counts["borderline"],
        "bytes": counts["bytes"],
        "body_chars": counts["body_chars"],
        # Share of the body in sentences that state a number (bench/density.py): the
        # extractor's load per page, to compare with real pages.
        "number_share": round(counts["numbered_chars"] / max(counts["body_chars"], 1), 4),
        "undeclared_charset": counts["undeclared_charset"],
        "masked": counts["masked"],
        "scrubbed": counts["scrubbed"],
        "repeated": counts["repeated"],
        "layouts": dict(sorted(layouts.items())),
        "encodings": dict(sorted(encodings.items())),
        "seconds": round(time.perf_counter() - started, 3),
        "out": str(out),
    }
