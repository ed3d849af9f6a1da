"""Score extracted facts against hand-checked gold facts.

Implements the scoring rule of the gold set's README (``../shared/gold``):

* a prediction matches a gold fact when seed and indicator are equal, the
  region names are equal (a missing administrative suffix such as 市/县/区 is
  tolerated) and the values agree within 0.5 %;
* each gold fact matches at most one prediction (and each prediction at most
  one gold fact) — the pairing is a maximum bipartite matching, so a greedy
  first pick can never cost a match another pairing would have made;
* recall counts non-borderline gold facts; precision counts every prediction,
  and one that matches a borderline gold fact is correct;
* year accuracy is reported separately over matched pairs.

Non-borderline gold facts are matched first, so a borderline fact can never
take the prediction a required one needed; within that, candidates are tried
closest value first and correct year first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

VALUE_TOLERANCE = 0.005
REGION_SUFFIXES = (
    "特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "新区", "林区",
    "省", "市", "县", "区", "州", "盟", "旗",
)  # fmt: skip
BORDERLINE_PREFIX = "borderline:"


@dataclass(frozen=True)
class GoldFact:
    seed: str
    indicator: str
    region: str | None
    province: str | None
    year: int | None
    period_start: int | None
    value: float
    unit: str
    qualifier: str
    evidence: str
    note: str = ""

    @property
    def borderline(self) -> bool:
        return self.note.strip().lower().startswith(BORDERLINE_PREFIX)


def load_gold(path: Path | str) -> list[GoldFact]:
    """Gold facts from a JSON-lines file (blank lines ignored)."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            out.append(
                GoldFact(
                    seed=r["seed"],
                    indicator=r["indicator"],
                    region=r.get("region"),
                    province=r.get("province"),
                    year=r.get("year"),
                    period_start=r.get("period_start"),
                    value=float(r["value"]),
                    unit=r.get("unit", ""),
                    qualifier=r.get("qualifier", "exact"),
                    evidence=r.get("evidence", ""),
                    note=r.get("note") or "",
                )
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: bad gold fact ({exc})") from exc
    return out


def _strip_suffix(name: str) -> str:
    for suf in REGION_SUFFIXES:
        if name.endswith(suf) and len(name) > len(suf):
            return name[: -len(suf)]
    return name


def same_region(a: str | None, b: str | None) -> bool:
    """Equal names, or equal once one of them drops its administrative suffix."""
    a, b = (a or "").strip(), (b or "").strip()
    return a == b or _strip_suffix(a) == b or a == _strip_suffix(b)


def same_value(pred: float, gold: float) -> bool:
    if not (math.isfinite(pred) and math.isfinite(gold)):
        return False
    if gold == 0:
        return pred == 0
    return abs(pred - gold) <= VALUE_TOLERANCE * abs(gold)


def _year(v: Any) -> int | None:
    if v is None or v == "":
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _prf(
    matched_pred: int, predicted: int, matched_gold: int, gold: int
) -> tuple[float, float, float]:
    p = matched_pred / predicted if predicted else 0.0
    r = matched_gold / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


@dataclass
class IndicatorRow:
    indicator: str
    gold: int  # non-borderline gold facts
    borderline: int
    predicted: int
    matched: int  # predictions matched (to required or borderline gold)
    matched_gold: int  # non-borderline gold facts matched
    precision: float
    recall: float
    f1: float


@dataclass
class EvalReport:
    precision: float
    recall: float
    f1: float
    year_accuracy: float | None
    counts: dict[str, int]
    per_indicator: list[IndicatorRow]
    misses: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    year_errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["per_indicator"] = [asdict(r) for r in self.per_indicator]
        return d

    def format_text(self) -> str:
        ya = "n/a" if self.year_accuracy is None else f"{self.year_accuracy:.3f}"
        c = self.counts
        lines = [
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
            f"year accuracy {ya}",
            f"predicted {c['predicted']}  gold {c['gold']} (+{c['borderline']} borderline)  "
            f"matched {c['matched']} ({c['matched_borderline']} borderline)  "
            f"year correct {c['year_correct']}/{c['matched']}",
            "",
            f"{'indicator':<24}{'gold':>5}{'bl':>4}{'pred':>6}{'match':>6}{'P':>7}{'R':>7}{'F1':>7}",
        ]
        for r in self.per_indicator:
            lines.append(
                f"{r.indicator:<24}{r.gold:>5}{r.borderline:>4}{r.predicted:>6}{r.matched:>6}"
                f"{r.precision:>7.2f}{r.recall:>7.2f}{r.f1:>7.2f}"
            )
        if self.misses:
            lines += ["", "misses (gold not matched):"]
            lines += [
                f"  {m['seed'][:3]} {m['indicator']:<22} {m['value']:>14g} "
                f"{m['region']}  {m['evidence']}"
                for m in self.misses
            ]
        if self.false_positives:
            lines += ["", "false positives (predictions not matched):"]
            lines += [
                f"  {str(p.get('seed'))[:3]} {p.get('indicator')!s:<22} "
                f"{_float(p.get('value')):>14g} {p.get('region')}  {p.get('evidence', '')}"
                for p in self.false_positives
            ]
        if self.year_errors:
            lines += ["", "year errors (matched, wrong year):"]
            lines += [
                f"  {e['indicator']:<22} {e['value']:>14g} gold {e['gold_year']} "
                f"predicted {e['predicted_year']}  {e['evidence']}"
                for e in self.year_errors
            ]
        return "\n".join(lines)


def _match(preds: list[Mapping[str, Any]], gold: list[GoldFact]) -> dict[int, int]:
    """Maximum matching gold -> prediction (Kuhn's augmenting paths), required
    gold facts first. Returns {gold index: prediction index}."""
    by_key: dict[tuple[str, str], list[int]] = {}
    for j, p in enumerate(preds):
        by_key.setdefault((str(p.get("seed")), str(p.get("indicator"))), []).append(j)
    adj: list[list[int]] = []
    for g in gold:
        cands = [
            j
            for j in by_key.get((g.seed, g.indicator), [])
            if same_region(preds[j].get("region"), g.region)
            and same_value(_float(preds[j].get("value")), g.value)
        ]
        cands.sort(
            key=lambda j, g=g: (
                abs(_float(preds[j].get("value")) - g.value),
                _year(preds[j].get("year")) != g.year,
                j,
            )
        )
        adj.append(cands)
    owner: dict[int, int] = {}  # prediction -> gold

    def augment(gi: int, seen: set[int]) -> bool:
        for j in adj[gi]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = gi
                return True
        return False

    order = [i for i, g in enumerate(gold) if not g.borderline]
    order += [i for i, g in enumerate(gold) if g.borderline]
    for gi in order:
        augment(gi, set())
    return {gi: j for j, gi in owner.items()}


def score(
    predictions: Iterable[Mapping[str, Any]],
    gold: list[GoldFact],
    *,
    seeds: Iterable[str] | None = None,
) -> EvalReport:
    """Score predictions (dicts with seed, indicator, region, value, year, …).

    ``seeds`` restricts both sides to those pages (default: every gold page;
    predictions for pages without gold are then false positives).
    """
    preds = list(predictions)
    if seeds is not None:
        keep = set(seeds)
        preds = [p for p in preds if str(p.get("seed")) in keep]
        gold = [g for g in gold if g.seed in keep]
    pairs = _match(preds, gold)
    matched_preds = set(pairs.values())
    required = [g for g in gold if not g.borderline]
    matched_required = sum(1 for gi in pairs if not gold[gi].borderline)
    p, r, f = _prf(len(matched_preds), len(preds), matched_required, len(required))
    year_ok = 0
    year_errors = []
    for gi, j in sorted(pairs.items()):
        g, py = gold[gi], _year(preds[j].get("year"))
        if py == g.year:
            year_ok += 1
        else:
            year_errors.append(
                {"seed": g.seed, "indicator": g.indicator, "value": g.value,
                 "gold_year": g.year, "predicted_year": py, "evidence": g.evidence}
            )  # fmt: skip
    indicators = sorted({g.indicator for g in gold} | {str(x.get("indicator")) for x in preds})
    rows = []
    for ind in indicators:
        g_req = [i for i, g in enumerate(gold) if g.indicator == ind and not g.borderline]
        g_bl = [i for i, g in enumerate(gold) if g.indicator == ind and g.borderline]
        pr = [j for j, x in enumerate(preds) if str(x.get("indicator")) == ind]
        m_pred = sum(1 for j in pr if j in matched_preds)
        m_gold = sum(1 for i in g_req if i in pairs)
        ip, ir, i_f = _prf(m_pred, len(pr), m_gold, len(g_req))
        rows.append(IndicatorRow(ind, len(g_req), len(g_bl), len(pr), m_pred, m_gold, ip, ir, i_f))
    misses = [asdict(g) for i, g in enumerate(gold) if not g.borderline and i not in pairs]
    fps = [dict(x) for j, x in enumerate(preds) if j not in matched_preds]
    counts = {
        "predicted": len(preds),
        "gold": len(required),
        "borderline": len(gold) - len(required),
        "matched": len(pairs),
        "matched_required": matched_required,
        "matched_borderline": len(pairs) - matched_required,
        "year_correct": year_ok,
    }
    return EvalReport(
        precision=p,
        recall=r,
        f1=f,
        year_accuracy=(year_ok / len(pairs)) if pairs else None,
        counts=counts,
        per_indicator=rows,
        misses=misses,
        false_positives=fps,
        year_errors=year_errors,
    )
