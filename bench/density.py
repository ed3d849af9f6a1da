"""How much of a page's body lies in sentences that state a number.

The extractor segments and reads only the sentences that hold a quantity (plus the
lead and the blocks naming a place), so its cost per page follows this share. A
synthetic corpus whose filler prose holds no numbers is cheaper to extract than real
news and flatters the benchmark; this measure, taken on the real seed pages and on
the corpus, says whether the two agree.

A sentence ends at 。！？；, their ASCII forms or a line break. It "states a number"
when it holds a digit (ASCII or full-width) or a run of Chinese numerals followed by
a measure word (三座, 十二条, 两万亩); a lone 一 before a measure word (一个个, 一批)
is an article, not a count, and does not count. Characters are counted without
whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

TEMPLATES_PATH = Path(__file__).resolve().with_name("synth_templates.yaml")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n")
_DIGIT = re.compile(r"[0-9０-９]")
_NUMERALS = "零〇一二两三四五六七八九十百千万亿"
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=2)
def _numeral_re(path: Path = TEMPLATES_PATH) -> re.Pattern[str]:
    words = yaml.safe_load(path.read_text(encoding="utf-8"))["measure_words"]
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?:[{_NUMERALS}]{{2,}}|[{_NUMERALS.replace('一', '')}])"
                      rf"(?:{alternatives})")


def states_number(sentence: str) -> bool:
    """A digit anywhere, or Chinese numerals with a measure word."""
    return bool(_DIGIT.search(sentence) or _numeral_re().search(sentence))


def numbered_chars(text: str) -> tuple[int, int]:
    """(characters in sentences that state a number, all characters), no whitespace."""
    numbered = total = 0
    for sentence in _SENTENCE_END.split(text):
        n = len(_SPACE.sub("", sentence))
        total += n
        if n and states_number(sentence):
            numbered += n
    return numbered, total


def number_share(texts: Iterable[str]) -> float:
    """Share of all characters of ``texts`` that lie in number-stating sentences."""
    numbered = total = 0
    for text in texts:
        a, b = numbered_chars(text)
        numbered += a
        total += b
    return numbered / total if total else 0.0


def seed_bodies() -> dict[str, str]:
    """The real seed pages' bodies, cut as the extraction tests cut them (empty when
    the shared folder is absent)."""
    from tests.shared_data_extract import SEEDS, all_seeds, load_seed

    if not SEEDS.is_dir():
        return {}
    return {seed: load_seed(seed).body for seed in all_seeds()}
