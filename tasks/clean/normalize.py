"""Character-level clean-up of body text: NFKC, whitespace, masked characters.

NFKC folds full-width digits, letters and most punctuation to ASCII so that later
regexes see one form of "，" and "１２". A few characters are exempt because folding
them changes what the text says: "…" would become "...", "m²" would become "m2".
"""

from __future__ import annotations

import re
import unicodedata

from tasks.clean.cues import mask_patterns

# Characters NFKC would rewrite in a way that changes meaning or evidence strings.
_PROTECTED = "…‥²³¹⁰⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉㎡㎢㎥㎞㎏㎎㎝㎜㎖㎗℃℉‰"
_PROTECTED_RE = re.compile(f"([{_PROTECTED}]+)")
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_SPACE_RUN_RE = re.compile(r"[ \t\f\v\u00a0\u3000\u2000-\u200a\u202f\u205f]+")
_HAN = r"\u3400-\u9fff\uf900-\ufaff"

# A run of one to three "*" touching a Han character or CJK punctuation stands for
# censored characters; longer runs are separators, "* " at line start is a bullet.
_MASK_RUN_RE = re.compile(
    rf"(?:(?<=[{_HAN}\u3000-\u303f\uff00-\uffef、])\*{{1,3}}(?!\*))"
    rf"|(?:(?<!\*)\*{{1,3}}(?=[{_HAN}]))"
)


def nfkc(text: str) -> str:
    """NFKC-normalise ``text`` except for the protected characters."""
    if text.isascii():
        return text
    parts = _PROTECTED_RE.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = unicodedata.normalize("NFKC", parts[i])
    return "".join(parts)


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
