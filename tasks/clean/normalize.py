"""Character-level clean-up of body text: NFKC, whitespace, masked characters and
the marks a bad conversion chain leaves (readings in brackets, "?" for a character).

NFKC folds full-width digits, letters and most punctuation to ASCII so that later
regexes see one form of "，" and "１２". A few characters are exempt because folding
them changes what the text says: "…" would become "...", "m²" would become "m2", a
Chinese "？" would look like the ASCII "?" that stands for a lost character, and a
list marker "②" would become a digit of the number after it.
"""

from __future__ import annotations

import re
import unicodedata

from fupin.tasks.clean.cues import mask_patterns, question_words

# Characters NFKC would rewrite in a way that changes meaning or evidence strings.
_PROTECTED = "…‥²³¹⁰⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉㎡㎢㎥㎞㎏㎎㎝㎜㎖㎗℃℉‰？"
# List markers (①, ⑵, ⒊, ⓫): folded to digits they would join the number after them
# ("②832个贫困县" would read 2832, "③2013年" 32013).
_LIST_MARKERS = "\u2460-\u249b\u24ea-\u24ff"
_PROTECTED_RE = re.compile(f"([{_PROTECTED}{_LIST_MARKERS}]+)")
# Characters whose compatibility decomposition is one ASCII character: full-width forms
# (，：；％１２), the ideographic space and the no-break space. Chinese text is full of
# them, and one of them sends a whole line down the slow path of ``unicodedata.normalize``
# (its quick check fails); replaced first, most lines pass the quick check. Replacing a
# character by its own decomposition leaves the NFKC result unchanged.
_WIDE = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F) if chr(c) not in _PROTECTED}
_WIDE |= {"\u3000": " ", "\u00a0": " "}
_WIDE_RE = re.compile(f"([{''.join(_WIDE)}])")
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_SPACE_RUN_RE = re.compile(r"[ \t\f\v\u00a0\u3000\u2000-\u200a\u202f\u205f]+")
_HAN = r"\u3400-\u9fff\uf900-\ufaff"
HAN_CHAR_RE = re.compile(f"[{_HAN}]")

# A run of one to three "*" touching a Han character or CJK punctuation stands for
# censored characters; longer runs are separators, "* " at line start is a bullet.
_MASK_RUN_RE = re.compile(
    rf"(?:(?<=[{_HAN}\u3000-\u303f\uff00-\uffef、])\*{{1,3}}(?!\*))"
    rf"|(?:(?<!\*)\*{{1,3}}(?=[{_HAN}]))"
)


# A pinyin reading in brackets after a character, left by converters that annotate
# characters with several readings: 發(fā)展, 標(biāo)準(zhǔn), some with a space left
# inside the brackets (會(huì )). At least one tone mark, so that a bracketed English
# word is never taken for one.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_TONED_RE = re.compile(f"[{_TONED}\u0304\u0301\u030c\u0300]")
_READING_RE = re.compile(
    rf"[(（](?<=[{_HAN}][(（]) ?"
    rf"(?=[a-zü{_TONED}\u0300-\u036f]*[{_TONED}\u0304\u0301\u030c\u0300])"
    rf"[a-zü{_TONED}\u0300-\u036f]{{1,8}} ?[)）]"
)
# An ASCII "?" where a conversion lost a character: inside a word (Han or digit on
# both sides), opening a word (after a line start or punctuation), or a run of them
# touching Han text. A question mark never follows a comma.
_LOST_CHAR_RE = re.compile(
    rf"(?<=[{_HAN}\d])\?+(?=[{_HAN}\d%])|(?:^|(?<=[\s,，。;；:：、“\"(（]))\?+(?=[{_HAN}\d])"
    rf"|(?<=[{_HAN}])\?{{2,}}|\?{{2,}}(?=[{_HAN}])",
    re.MULTILINE,
)
_CLAUSE_START_RE = re.compile(r"[。!?！？;；,，:：\n][^。!?！？;；,，:：\n]*$")
# A character lost as "??" plus the ASCII letter or sign its second byte happened to
# be (富??h境內 for a two-byte county name character): one lost character, "?".
_SPLIT_LOST_RE = re.compile(rf"(?<=[{_HAN}])\?\?[A-Za-z@\[\]^_`{{|}}~](?=[{_HAN}])")
# A lost character between two Chinese digits can only be 〇 (二?一五年 -> 二〇一五年):
# the one digit the narrow Traditional character sets lack.
_LOST_ZERO_RE = re.compile(r"(?<=[〇零一二三四五六七八九])\?(?=[〇零一二三四五六七八九])")


def repair_readings(text: str) -> tuple[str, int]:
    """Remove bracketed pinyin readings after characters; return the text and how many."""
    if not _TONED_RE.search(text):
        return text, 0
    return _READING_RE.subn("", text)


def lost_spans(text: str) -> list[tuple[int, int]]:
    """Spans of "?" that stand for lost characters, not for question marks.

    A single "?" between Han characters after a clause that asks something
    ("…如何巩固脱贫成果?如何…") is a question mark typed in ASCII.
    """
    if "?" not in text:
        return []
    spans = []
    for m in _LOST_CHAR_RE.finditer(text):
        start, end = m.span()
        if end - start == 1 and start and HAN_CHAR_RE.match(text, start - 1):
            clause = _CLAUSE_START_RE.search(text, max(0, start - 60), start)
            since = start - 60 if clause is None else clause.start() + 1
            if question_words().search(text, max(0, since), start):
                continue
        spans.append((start, end))
    return spans


def lost_chars(body: str) -> tuple[str, int, int]:
    """Repair lost 〇 and count the other "?" that stand for lost characters.

    Returns ``(body, lost, repaired)``; the lost ones stay as "?" in the body (the
    extraction reads past them), since nothing tells which character they were.
    A "??" plus letter is one lost character: it becomes one "?" and counts as a
    repaired shape as well as a lost character.
    """
    if "?" not in body:
        return body, 0, 0
    body, split = _SPLIT_LOST_RE.subn("?", body)
    body, zeros = _LOST_ZERO_RE.subn("〇", body)
    lost = sum(end - start for start, end in lost_spans(body))
    return body, lost, split + zeros


def nfkc(text: str) -> str:
    """NFKC-normalise ``text`` except for the protected characters."""
    if text.isascii():
        return text
    parts = _PROTECTED_RE.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = unicodedata.normalize("NFKC", _fold_wide(parts[i]))
    return "".join(parts)


def _fold_wide(text: str) -> str:
    """``text`` with the characters of ``_WIDE`` replaced by their ASCII forms."""
    pieces = _WIDE_RE.split(text)
    if len(pieces) == 1:
        return text
    pieces[1::2] = [_WIDE[c] for c in pieces[1::2]]
    return "".join(pieces)


def clean_line(line: str) -> str:
    """Normalise one line: NFKC, invisible characters removed, spaces collapsed."""
    line = _INVISIBLE_RE.sub("", nfkc(line))
    line = _SPACE_RUN_RE.sub(" ", line).strip()
    return line


def repair_masks(body: str) -> tuple[str, int, int]:
    """Count censored ``*`` characters and repair those a dictionary word pins down.

    Returns ``(body, masked_chars, repaired)``. A mask is repaired only when every
    dictionary pattern that fits around it names the same character.
    """
    if "*" not in body:
        return body, 0, 0
    patterns = mask_patterns()
    chars = list(body)
    masked = repaired = 0
    for m in _MASK_RUN_RE.finditer(body):
        masked += m.end() - m.start()
        if m.end() - m.start() != 1:
            continue  # a run of masks leaves too little context to know the word
        pos = m.start()
        answers = set()
        for pattern, char, offset in patterns:
            start = pos - offset
            if start < 0:
                continue
            if body.startswith(pattern, start):
                answers.add(char)
        if len(answers) == 1:
            chars[pos] = answers.pop()
            repaired += 1
    return "".join(chars), masked, repaired
