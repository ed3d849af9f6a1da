"""Every word of the word lists in schemas/ can change what the extractor or cleaner does.

Lists the rules and the time scanner read are checked by removing the word from a
copy of indicators.yaml (``rules.lexicon``, ``find_times`` and ``extract`` take the file): the
outcome for a sentence of that word must differ. The other lists are checked with a
sentence only that word can match, next to the same sentence with an ordinary
word in its place. The cases are read from the YAML, so a word added there is
tested too (and a test fails if no sentence shows what it does).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from fupin.tasks.clean.cues import CHROME_CUES_FILE
from fupin.tasks.clean.lines import Chrome, classify
from fupin.tasks.clean.metadata import clean_person, find_author
from fupin.tasks.extract import extract
from fupin.tasks.extract.keywords import top_keywords
from fupin.tasks.extract.numbers import find_quantities
from fupin.tasks.extract.regions import WORDS_PATH, find_mentions, load_gazetteer
from fupin.tasks.extract.rules import Noun, lexicon, quantity_unit, right_noun
from fupin.tasks.extract.taxonomy import DEFAULT_PATH
from fupin.tasks.extract.timeexpr import estimate_year, find_times, report_year
from fupin.tasks.wordlists import led

PUBLISHED = date(2019, 6, 1)


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


LEX = _yaml(DEFAULT_PATH)["lexicon"]
REGION_WORDS = _yaml(WORDS_PATH)
CHROME = _yaml(CHROME_CUES_FILE)


def _get(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        data = data[k]
    return data


# lists written as a string of single characters rather than an alternation
CHARACTER_LISTS = {("time", "now_not_after")}


def _split(keys: tuple[str, ...], value: Any) -> list[str]:
    if not isinstance(value, str):
        return list(value)
    return list(value) if keys in CHARACTER_LISTS else value.split("|")


def _words(keys: tuple[str, ...]) -> list[str]:
    """The words of one lexicon list (a list, or a regex that is an alternation of words)."""
    return _split(keys, _get(LEX, keys))


def _copy_without(tmp_path: Path, keys: tuple[str, ...], word: str | None,
                  add: str | None = None) -> Path:
    """indicators.yaml with ``word`` removed from (or ``add`` added to) one lexicon list."""
    data = _yaml(DEFAULT_PATH)
    parent = _get(data["lexicon"], keys[:-1])
    value = parent[keys[-1]]
    items = [w for w in _split(keys, value) if w != word] + ([add] if add else [])
    joiner = "" if keys in CHARACTER_LISTS else "|"
    parent[keys[-1]] = joiner.join(items) if isinstance(value, str) else items
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# -- lists read through rules.lexicon / find_times: remove the word, the outcome changes

def _times(path: Path | None, word: str) -> object:
    text = f"{word}，全县还有贫困户300户。"
    return [(t.start, t.end, t.kind) for t in find_times(text, PUBLISHED, taxonomy_path=path)]


def _event(path: Path | None, word: str) -> object:
    m = lexicon(path).events.match(f"退出{word}")
    return m and m.span("ev")


def _unblocked_event(path: Path | None, word: str) -> object:
    m = lexicon(path).events.match(f"迁至{word}安置点")
    return m and m.span("ev")


def _scrubbed_after_cue(path: Path | None, word: str) -> object:
    m = lexicon(path).scrub_right.search(f"全县贫困人口{word}，")
    return m and m.group("u")


def _scrubbed_before_noun(path: Path | None, word: str) -> object:
    m = lexicon(path).scrub_left.search(f"共有{word}贫困村")
    return m and m.group("u")


def _count_word(path: Path | None, word: str) -> object:
    m = lexicon(path).scrub_right.search(f"全县贫困人口{word}人，")
    return m and m.group("u")


def _noun_ending(path: Path | None, word: str) -> object:
    body = f"共120万贫困{word}"
    (q,) = find_quantities(body)
    return quantity_unit(body, q, Noun(q.end, len(body), body[q.end :]), lexicon(path), set())


def _modifier_opener(path: Path | None, word: str) -> object:
    body = f"5个的{word}贫困村"
    noun = right_noun(body, 2, range(len(body) + 1), lexicon(path), len(body))
    return noun and noun.word


def _verb_led(path: Path | None, word: str) -> object:
    return lexicon(path).verb_led.match(f"{word}减少贫困村30个") is not None


def _now_after(path: Path | None, char: str) -> object:
    return _times(path, f"全县{char}现有")


def _years(path: Path | None, sentence: str) -> object:
    ex = extract(sentence, title="清溪县脱贫攻坚", published=PUBLISHED, taxonomy_path=path)
    return [(f.indicator, f.value, f.year) for f in ex.facts]


def _former(path: Path | None, word: str) -> object:
    return _years(path, f"全国{word}832个贫困县。")


def _baseline_open(path: Path | None, word: str) -> object:
    return _years(path, f"全县{word}2015年相比，贫困人口减少1.1万人。")


def _baseline_close(path: Path | None, word: str) -> object:
    return _years(path, f"全县与2015年{word}，贫困人口减少1.1万人。")


def _estimate(path: Path | None, reached: str) -> object:
    text = f"2019年全县脱贫目标已{reached}。2017年全县贫困人口300人。"
    return estimate_year(text, find_times(text, None, taxonomy_path=path), lexicon(path).plan,
                         path)


def _goal_verb(path: Path | None, word: str) -> object:
    return _estimate(path, word)


def _goal_degree(path: Path | None, word: str) -> object:
    return _estimate(path, f"{word}完成")


def _report_title(path: Path | None, word: str) -> object:
    return report_year(f"清溪镇2020年脱贫攻坚工作{word}", path)


REMOVABLE: dict[tuple[str, ...], Callable[[Path | None, str], object]] = {
    ("time", "now"): _times,
    ("time", "now_not_after"): _now_after,
    ("time", "former"): _former,
    ("time", "baseline_open"): _baseline_open,
    ("time", "baseline_close"): _baseline_close,
    ("time", "goal_reached"): _goal_verb,
    ("time", "goal_reached_degree"): _goal_degree,
    ("time", "report_title"): _report_title,
    ("event_blockers",): _event,
    ("event_unblocked",): _unblocked_event,
    ("scrub", "units_after_cue"): _scrubbed_after_cue,
    ("scrub", "units_before_noun"): _scrubbed_before_noun,
    ("scrub", "count_words"): _count_word,
    ("noun_endings", "person"): _noun_ending,
    ("noun_endings", "household"): _noun_ending,
    ("modifier_openers",): _modifier_opener,
    ("verb_led_adverbs",): _verb_led,
}


@pytest.mark.parametrize(
    ("keys", "word"),
    [(keys, w) for keys in REMOVABLE for w in _words(keys)],
    ids=lambda v: ".".join(v) if isinstance(v, tuple) else v,
)
def test_removing_a_lexicon_word_changes_the_outcome(
    tmp_path: Path, keys: tuple[str, ...], word: str
) -> None:
    observe = REMOVABLE[keys]
    assert observe(None, word) != observe(_copy_without(tmp_path, keys, word), word)


def test_a_time_word_added_to_the_yaml_is_found(tmp_path: Path) -> None:
    """眼下 starts with a character no other time word starts with: the scan finds it
    only if its first characters come from the loaded words."""
    text = "眼下，全县还有贫困户300户。"
    assert find_times(text, PUBLISHED) == []
    (t,) = find_times(text, PUBLISHED, taxonomy_path=_copy_without(
        tmp_path, ("time", "now"), None, add="眼下"))
    assert (t.start, t.end, t.kind, t.year, t.source) == (0, 2, "point", 2019, "publication")


# -- lists read once per process: a sentence only the word can match

@pytest.mark.parametrize("word", LEX["time_units"])
def test_a_number_before_a_time_unit_is_no_quantity(word: str) -> None:
    assert find_quantities(f"共有3{word}") == []
    assert [q.value for q in find_quantities("共有3棵")] == [3]


@pytest.mark.parametrize("word", LEX["joiners"])
def test_a_joiner_makes_the_next_number_an_item_of_the_list(word: str) -> None:
    def facts(joiner: str) -> list[tuple[str, float]]:
        ex = extract(f"2018年，全县有建档立卡贫困户3.1万户{joiner}11.2万人。",
                     title="陇西县脱贫攻坚", published=PUBLISHED)
        return [(f.indicator, f.value) for f in ex.facts]

    assert facts(word) == [("poor_households", 31000), ("poor_population", 112000)]
    assert facts("再") == [("poor_households", 31000)]


@pytest.mark.parametrize("word", LEX["keyword_stop_words"])
def test_a_stop_word_is_never_a_keyword(word: str) -> None:
    assert [w for w, _ in top_keywords([word, word, word, "扶贫"])] == ["扶贫"]


@pytest.mark.parametrize("suffix", REGION_WORDS["local_suffixes"])
def test_a_township_or_village_anaphor_never_stands_for_the_county(suffix: str) -> None:
    def regions(anaphor: str) -> list[str | None]:
        ex = extract(f"2018年，{anaphor}有建档立卡贫困户300户。", title="陇西县脱贫攻坚",
                     published=PUBLISHED)
        return [f.region for f in ex.facts]

    assert regions(f"全{suffix}") == [None]
    assert regions("全县") == ["陇西县"]


NAMES_BY_SUFFIX = {"省": "贵州省", "市": "平凉市", "县": "陇西县", "区": "河西区", "州": "恩施州",
                   "旗": "土默特右旗", "盟": "阿拉善盟"}


@pytest.mark.parametrize("suffix", REGION_WORDS["name_suffixes"])
def test_a_token_starting_with_a_place_name_is_cut_after_its_suffix(suffix: str) -> None:
    name = NAMES_BY_SUFFIX[suffix]
    token = f"{name}政府"
    assert [m.text for m in find_mentions([(token, 0, len(token))], load_gazetteer())] == [name]


AUTONOMOUS = {"自治州": ("阿坝州", "阿坝藏族羌族自治州"), "自治县": ("北川县", "北川羌族自治县")}


@pytest.mark.parametrize("ending", REGION_WORDS["autonomous_forms"])
def test_the_everyday_form_of_an_autonomous_unit_names_it(ending: str) -> None:
    everyday, official = AUTONOMOUS[ending]
    (m,) = find_mentions([(everyday, 0, len(everyday))], load_gazetteer())
    assert [r.name for r in m.candidates] == [official]


@pytest.mark.parametrize("ending", CHROME["organisation_endings"])
def test_a_byline_ending_like_an_organisation_is_no_author(ending: str) -> None:
    assert clean_person(("王" if len(ending) > 1 else "王某") + ending) is None
    assert clean_person("王某华") == "王某华"


@pytest.mark.parametrize("label", CHROME["bracket_credit_labels"])
def test_a_bracketed_credit_label_needs_no_separator(label: str) -> None:
    def author(credit: str) -> str | None:
        return find_author([], ["全县脱贫攻坚取得成效。", f"贫困户全部脱贫。（{credit} 王小明）"])

    assert author(label) == "王小明"
    assert author("来自") != "王小明"


@pytest.mark.parametrize("label", CHROME["author_labels"])
def test_a_first_line_byline_takes_any_author_label(label: str) -> None:
    def author(first: str) -> str | None:
        return find_author([], [first, "全县脱贫攻坚取得成效。"])

    assert author(f"{label}/王小明") == "王小明"
    assert author("来自/王小明") is None


@pytest.mark.parametrize(("pattern", "flags"), [
    (r"(?P<a>截至|到)?(?:(?:19|20)\d\d年)|每年|(?<![\d今])年(?=输转)", 0),
    (r"(?:近|这)?(?:[一二三四五两]|\d{1,2})(?:个)?年(?:来|以来)", 0),
    (r"(?:^|(?<=[，,]))年(?=[底末])|“?(十[一二三]五)”?", 0),
    (r"[^，]{0,3}脱贫", 0),
    (r"(?i)fupin|扶贫", 0),
    (r"x*", 0),
    (r"Fupin Rights|扶贫", re.IGNORECASE),  # a case-blind pattern led by its letters' both cases
])
def test_a_scan_led_by_the_first_characters_finds_the_same_matches(pattern: str,
                                                                   flags: int) -> None:
    text = ("截至2018年底，每年输转劳务，年输转五千人，2019年，近五年来，“十三五”以来，"
            "全县年底脱贫，去年FUPIN扶贫，fupin rights")
    assert ([m.span() for m in re.finditer(led(pattern), text, flags)]
            == [m.span() for m in re.finditer(pattern, text, flags)])


@pytest.mark.parametrize("word", CHROME["separator_words"])
def test_a_line_naming_itself_a_divider_is_chrome(word: str) -> None:
    assert classify(f"——————{word}——————") is Chrome.NOISE
    assert classify("——————段落之间——————") is None
