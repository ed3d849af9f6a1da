"""Domain cue words, loaded once from ``schemas/*.yaml`` and compiled into regexes.

The words live in data files so that editors can extend them without touching code;
this module is the only place that knows the file layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from fupin.tasks.wordlists import alternation, led

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
CHROME_CUES_FILE = SCHEMA_DIR / "chrome_cues.yaml"
MASK_REPAIRS_FILE = SCHEMA_DIR / "mask_repairs.yaml"
SCRIPT_VARIANTS_FILE = SCHEMA_DIR / "script_variants.yaml"


@dataclass(frozen=True)
class ChromeCues:
    """Compiled cue patterns; see chrome_cues.yaml for what each list means."""

    block_heading: re.Pattern[str]
    navigation: re.Pattern[str]
    footer: re.Pattern[str]
    meta_label: re.Pattern[str]
    widget: re.Pattern[str]
    editor: re.Pattern[str]
    breadcrumb_start: re.Pattern[str]
    breadcrumb_end: re.Pattern[str]
    author_label: re.Pattern[str]
    author_prefix: re.Pattern[str]
    author_suffix: re.Pattern[str]
    author_stop: re.Pattern[str]
    source_label: re.Pattern[str]
    credit: re.Pattern[str]
    source_non_answers: frozenset[str]
    banner: re.Pattern[str]
    date_label: re.Pattern[str]
    title_separators: tuple[str, ...]
    site_name_endings: tuple[str, ...]
    separator: re.Pattern[str]
    organisation_endings: tuple[str, ...]
    leading_byline: re.Pattern[str]
    bracket_credit: re.Pattern[str]


def _credit(raw: dict) -> re.Pattern[str]:
    """A bare byline or photo credit: "王某", "记者 王某 李某", "文/王某", "王某 摄"."""
    label = alternation(raw["author_prefixes"] + raw["author_labels"] + raw["credit_labels"])
    name = r"[\u3400-\u9fff]{2,4}(?:·[\u3400-\u9fff]{1,6})?"
    part = rf"(?:(?:{label})\s*[:/]?\s*)?{name}"
    return re.compile(
        rf"^{part}(?:\s*[、,/ ]\s*{part}){{0,3}}\s*(?:{alternation(raw['author_suffixes'])})?$"
    )


@cache
def chrome_cues() -> ChromeCues:
    """Load and compile ``schemas/chrome_cues.yaml`` (once per process)."""
    raw = yaml.safe_load(CHROME_CUES_FILE.read_text(encoding="utf-8"))
    deco = r"[\s>》»•·\-—_*#【\[(]*"
    tail = r"[\s:>》»\])】]*(?:\(\d+\))?"
    return ChromeCues(
        block_heading=re.compile(rf"^{deco}(?:{alternation(raw['block_headings'])}){tail}$"),
        navigation=re.compile(rf"^[\s<«《\[【]*(?:{alternation(raw['navigation_prefixes'])})"),
        footer=re.compile(led(alternation(raw["footer_cues"])), re.IGNORECASE),
        meta_label=re.compile(rf"(?:{alternation(raw['meta_labels'])})\s*[:：]"),
        widget=re.compile(rf"^{deco}(?:{alternation(raw['widget_lines'])}){tail}$"),
        editor=re.compile(
            rf"^(?:[(\[【]\s*[^()\[\]【】]{{0,10}}?)?(?:{alternation(raw['editor_labels'])})"
            rf"\s*[:： ]\s*\S{{1,30}}$"
        ),
        breadcrumb_start=re.compile(rf"^(?:{alternation(raw['breadcrumb_starts'])})"),
        breadcrumb_end=re.compile(rf"(?:{alternation(raw['breadcrumb_ends'])})\s*$"),
        author_label=re.compile(rf"(?:{alternation(raw['author_labels'])})\s*[:：/]\s*"),
        author_prefix=re.compile(rf"^(?:{alternation(raw['author_prefixes'])})"),
        author_suffix=re.compile(rf"(?:{alternation(raw['author_suffixes'])})$"),
        author_stop=re.compile(alternation(raw["author_stops"])),
        source_label=re.compile(rf"(?:{alternation(raw['source_labels'])})\s*[:：]\s*"),
        credit=_credit(raw),
        source_non_answers=frozenset(raw["source_non_answers"]),
        banner=re.compile(alternation(raw["banner_cues"])),
        date_label=re.compile(alternation(raw["date_labels"])),
        title_separators=tuple(raw["title_separators"]),
        site_name_endings=tuple(raw["site_name_endings"]),
        separator=re.compile(alternation(raw["separator_words"])),
        organisation_endings=tuple(raw["organisation_endings"]),
        leading_byline=re.compile(
            rf"^(?:{alternation(raw['author_labels'])})\s*[/:：|]\s*(\S{{2,12}})"),
        bracket_credit=re.compile(alternation(raw["bracket_credit_labels"])),
    )


@cache
def _mask_repairs() -> dict:
    return yaml.safe_load(MASK_REPAIRS_FILE.read_text(encoding="utf-8"))


@cache
def mask_patterns() -> tuple[tuple[str, str, int], ...]:
    """(pattern, character, offset of "*") triples from ``schemas/mask_repairs.yaml``."""
    out = []
    for pattern, char in _mask_repairs()["patterns"].items():
        if pattern.count("*") != 1 or len(char) != 1:
            raise ValueError(f"bad mask pattern {pattern!r} -> {char!r}")
        out.append((pattern, char, pattern.index("*")))
    return tuple(out)


@cache
def question_words() -> re.Pattern[str]:
    """Words that make a "?" after them a question mark (``schemas/mask_repairs.yaml``)."""
    return re.compile(alternation(_mask_repairs()["question_words"]))


@cache
def lost_before_number() -> str:
    """The character extraction reads for a lost one between a word and a number."""
    char = _mask_repairs()["lost_before_number"]
    if not isinstance(char, str) or len(char) != 1:
        raise ValueError(f"lost_before_number in mask_repairs.yaml must be one character, "
                         f"not {char!r}")
    return char


@cache
def script_variants() -> dict[int, str]:
    """A ``str.translate`` table from ``schemas/script_variants.yaml``: variant -> Simplified.

    Both of its lists, the variant characters and the quotation marks, go one for one.
    """
    loaded = yaml.safe_load(SCRIPT_VARIANTS_FILE.read_text(encoding="utf-8"))
    raw = {**loaded["variants"], **loaded["punctuation"]}
    bad = [(k, v) for k, v in raw.items() if len(str(k)) != 1 or len(str(v)) != 1]
    if bad:
        raise ValueError(f"script_variants.yaml maps one character to one, not {bad[0]!r}")
    return {ord(str(k)): str(v) for k, v in raw.items()}
