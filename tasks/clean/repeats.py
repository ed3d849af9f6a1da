"""Drop paragraphs a page repeats: some sites print the whole article twice.

A repeat is anchored on a substantial paragraph seen before; the run is then grown
in both directions over paragraphs that match the first copy (short headings too),
so the body keeps exactly one copy and the count goes into the document flags.
"""

from __future__ import annotations

# Paragraphs at least this long are distinctive enough to anchor a repeat.
_ANCHOR_CHARS = 20


def drop_repeats(lines: list[str]) -> tuple[list[str], int]:
    """Return ``lines`` without repeated paragraphs, and how many were dropped."""
    first_seen: dict[str, int] = {}
    drop = [False] * len(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        j = first_seen.get(line)
        if j is None or len(line) < _ANCHOR_CHARS or drop[i]:
            if len(line) >= _ANCHOR_CHARS:
                first_seen.setdefault(line, i)
            i += 1
            continue
        # Grow the repeated run backwards over shorter paragraphs (headings).
        back = 0
        while (j - back - 1 >= 0 and i - back - 1 > j and not drop[i - back - 1]
               and lines[j - back - 1] == lines[i - back - 1]):
            back += 1
        for k in range(i - back, i):
            drop[k] = True
        # ... and forwards for as long as the copies agree.
        k = 0
        while i + k < len(lines) and j + k < i and lines[i + k] == lines[j + k]:
            drop[i + k] = True
            k += 1
        i += max(k, 1)
    kept = [line for line, d in zip(lines, drop, strict=True) if not d]
    return kept, sum(drop)
