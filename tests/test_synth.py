"""The synthetic corpus generator: deterministic, realistic mix, exact gold."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from fupin.evaluate import load_gold
from fupin.tasks.acquire.decode import decode_bytes

REPO = Path(__file__).resolve().parents[1]
# bench/ is a folder of the checkout, not an installed package.
sys.path.insert(0, str(REPO))

from bench.density import number_share, numbered_chars, seed_bodies  # noqa: E402
from bench.synth import generate_corpus, load_templates  # noqa: E402

MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
CN = {"一": 1, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
NUMBER_RE = re.compile(r"(\d+(?:\.\d+)?|[一两三四五六七八九十])(?:余|多)?([万亿])?")
# Measured on seed 7, 60 pages (number-dense filler): F1 0.999 (precision 1.000, recall
# 0.999), year 1.000. The floor leaves room for extractor changes; a drop below it
# means something broke.
F1_FLOOR = 0.9


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth") / "c400"
    return out, generate_corpus(out, 400, seed=3)


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "a", 25, seed=11)
    generate_corpus(tmp_path / "b", 25, seed=11)
    generate_corpus(tmp_path / "c", 25, seed=12)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_counts_and_mix(corpus: tuple[Path, dict]) -> None:
    out, counts = corpus
    rows = _manifest(out)
    files = sorted((out / "pages").iterdir())
    assert counts["pages"] == len(rows) == len(files) == 400
    assert len(load_templates().layouts) >= 4
    assert set(counts["layouts"]) == {lay["name"] for lay in load_templates().layouts}
    gbk = sum(n for enc, n in counts["encodings"].items() if enc != "utf-8")
    assert 0.14 <= gbk / 400 <= 0.26
    assert 1 <= counts["undeclared_charset"] < gbk
    assert 4 <= counts["duplicates"] <= 24 and 2 <= counts["near_duplicates"] <= 18
    assert counts["masked"] and counts["scrubbed"] and counts["repeated"]
    assert counts["facts"] > 5 * counts["pages"]
    kinds = Counter(r["kind"] for r in rows)
    assert kinds["duplicate"] == counts["duplicates"]
    assert all(2000 <= r["body_chars"] <= 10000 for r in rows)
    years = {r["published"][:4] for r in rows}
    assert min(years) >= "2014" and max(years) <= "2021"


def test_duplicates_are_byte_copies_and_near_copies_share_the_story(
    corpus: tuple[Path, dict],
) -> None:
    out, _ = corpus
    rows = _manifest(out)
    by_seed = {r["seed"]: r for r in rows}
    gold = Counter(g.seed for g in load_gold(out / "gold.jsonl"))
    for r in rows:
        if r["kind"] == "original":
            continue
        orig = by_seed[r["original"]]
        a = (out / "pages" / r["file"]).read_bytes()
        b = (out / "pages" / orig["file"]).read_bytes()
        if r["kind"] == "duplicate":
            assert a == b
        else:
            assert a != b and r["body_chars"] == orig["body_chars"]
        assert gold[r["seed"]] == gold[orig["seed"]]


def _visible_text(path: Path) -> tuple[str, str]:
    text, encoding = decode_bytes(path.read_bytes())
    soup = BeautifulSoup(text, "lxml")
    return soup.get_text(), encoding


def test_gold_evidence_is_in_the_decoded_page(corpus: tuple[Path, dict]) -> None:
    out, _ = corpus
    rows = {r["seed"]: r for r in _manifest(out)}
    gold = load_gold(out / "gold.jsonl")
    assert gold
    pages: dict[str, str] = {}
    for g in gold:
        if g.seed not in pages:
            text, encoding = _visible_text(out / "pages" / rows[g.seed]["file"])
            expected = "utf-8" if rows[g.seed]["encoding"] == "utf-8" else "gb"
            assert expected in encoding.lower().replace("_", "-").replace("gb18030", "gb")
            pages[g.seed] = text
        assert g.evidence in pages[g.seed], (g.seed, g.evidence)
        assert g.region and g.province and g.unit


def test_gold_values_parse_from_the_evidence(corpus: tuple[Path, dict]) -> None:
    out, _ = corpus
    taxonomy = {i["code"]: i["unit"] for i in _indicators()}
    checked = 0
    for g in load_gold(out / "gold.jsonl"):
        assert g.unit == taxonomy[g.indicator]
        assert g.qualifier in {"exact", "approx", "at_least", "at_most"}
        numbers = []
        for m in NUMBER_RE.finditer(g.evidence):
            digits, mult = m.groups()
            value = Decimal(CN[digits]) if digits in CN else Decimal(digits)
            numbers.append(value * MULTIPLIERS.get(mult or "", Decimal(1)))
        # Years in evidence ("2014年的5395.2元") are numbers too: the value is one of them.
        assert Decimal(str(g.value)) in numbers, (g.evidence, g.value)
        if g.qualifier == "approx":
            assert re.search(r"[近约]", g.evidence)
        if g.qualifier == "at_least":
            assert re.search(r"[余多]", g.evidence)
        checked += 1
    assert checked > 1000


def _indicators() -> list[dict]:
    import yaml

    return yaml.safe_load((REPO / "schemas" / "indicators.yaml").read_text())["indicators"]


def test_templates_encode_as_gb2312() -> None:
    """GBK pages declare gb2312: everything the templates write must fit it."""
    raw = load_templates().raw
    text = json.dumps(
        {k: raw[k] for k in ("filler", "headlines", "leads", "closings", "indicator_sentences",
                             "scrubbed", "distractors", "headings")},
        ensure_ascii=False,
    )
    text.encode("gb2312")


def test_a_sentence_states_a_number_with_digits_or_numerals_and_a_measure_word() -> None:
    text = ("全县新修产业路12.5公里。产业兴旺是解决农村一切问题的前提；"
            "村里建起了三座冷库\n一个个项目落地生根。")
    numbered, total = numbered_chars(text)
    assert total == len(text.replace("\n", ""))
    assert numbered == len("全县新修产业路12.5公里。") + len("村里建起了三座冷库")
    assert number_share(["没有数字的一句话。", "有12个。"]) == len("有12个。") / 14


def test_filler_is_as_number_dense_as_real_pages(corpus: tuple[Path, dict]) -> None:
    """The extractor reads the sentences that state numbers; a corpus with fewer of
    them than real news makes the run look cheaper than it is."""
    _, counts = corpus
    assert counts["number_share"] == pytest.approx(0.6, abs=0.06)
    bodies = seed_bodies()
    if not bodies:
        pytest.skip("shared seed pages (../shared/seeds) not found")
    assert counts["number_share"] == pytest.approx(number_share(bodies.values()), abs=0.05)


@pytest.mark.slow
def test_pipeline_accuracy_on_a_small_corpus(tmp_path: Path) -> None:
    out = tmp_path / "c30"
    generate_corpus(out, 30, seed=7)
    proc = subprocess.run(
        [str(REPO / ".venv" / "bin" / "fupin"), "eval", "--gold", str(out / "gold.jsonl"),
         str(out / "pages"), "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report["seeds"]) == 30
    assert report["f1"] >= F1_FLOOR, (report["precision"], report["recall"], report["f1"])
    assert report["year_accuracy"] >= 0.9
