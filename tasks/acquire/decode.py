"""Turn the bytes of a pulled page into text, choosing the right character set.

Chinese news sites are a minefield of encodings: GB2312/GBK/GB18030, Big5 and UTF-8
side by side, declarations that are missing or wrong, and files served gzipped.
Decoding wrongly silently turns a page into mojibake that no later stage can
repair, so this module checks every declaration against the bytes themselves.
"""

from __future__ import annotations

import codecs
import re
from functools import cache
from pathlib import Path

import numpy as np

from fupin.tasks.acquire.inflate import DEFAULT_MAX_BYTES, InflateError, read_capped

__all__ = ["DecodeError", "decode_bytes", "read_page_bytes"]

# How much of the page is searched for an in-document declaration.
_SNIFF_BYTES = 8192
# Share of U+FFFD replacements a decoding may contain and still be trusted.
_MAX_REPLACEMENT_SHARE = 0.002
# Share of replacements above which no candidate is considered usable.
_UNDECODABLE_SHARE = 0.05
# Share of Han characters that must be common ones for a CJK decoding to be believed.
_PLAUSIBLE_HAN_SHARE = 0.8

_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"BM", "bmp"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\xd0\xcf\x11\xe0", "ole2 (doc/xls)"),
    (b"RIFF", "riff (webp/wav/avi)"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
    (b"\x00\x00\x00\x18ftyp", "mp4"),
    (b"\x00\x00\x00\x20ftyp", "mp4"),
    (b"wOFF", "woff font"),
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# <meta charset=...>, <meta http-equiv content="...; charset=...">, <?xml encoding=...?>
# and the CleanEval <text ... encoding="..."> header all name the charset this way.
_DECLARATION_RE = re.compile(
    rb"""(?:charset|encoding)\s*=\s*["']?\s*([a-z0-9][a-z0-9_.:-]{1,30})""", re.IGNORECASE
)

# Labels that mean "some GB encoding": GB18030 is a superset of all of them, and pages
# labelled gb2312 routinely use GBK-only characters.
_GB_LABELS = frozenset(
    {"gb2312", "gbk", "gb18030", "cp936", "ms936", "x-gbk", "euc-cn", "euccn", "x-euc-cn",
     "gb_2312-80", "gb_2312", "chinese", "csgb2312", "iso-ir-58", "hz-gb-2312", "windows-936"}
)
_BIG5_LABELS = frozenset({"big5", "big-5", "cn-big5", "csbig5", "x-x-big5", "cp950", "big5-hkscs"})
_UTF8_LABELS = frozenset({"utf-8", "utf8", "unicode-1-1-utf-8", "x-utf-8", "utf-8-sig"})
# Python codec names of single-byte charsets, which "decode" any byte sequence.
_SINGLE_BYTE_CODECS = ("iso8859", "cp125", "ascii", "mac-", "koi8", "cp437", "cp850")


class DecodeError(ValueError):
    """A page that cannot become text; ``reason`` is a short machine code for rejected_pages."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def read_page_bytes(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a stored page; files named ``*.gz`` are gunzipped, under the same cap as fetch."""
    p = Path(path)
    try:
        return read_capped(p, max_bytes)
    except InflateError as exc:
        raise DecodeError(exc.reason, f"{p.name}: {exc.detail}") from exc


def normalize_label(label: str | None) -> str | None:
    """Map a charset label to the Python codec we decode with, or None if unknown.

    GB2312/GBK labels become GB18030 (a strict superset), Big5 becomes Big5-HKSCS.
    """
    if not label:
        return None
    name = label.strip().strip("\"'").lower().replace("_", "-")
    if name in _GB_LABELS or name.replace("-", "") in {"gb2312", "gbk", "gb18030"}:
        return "gb18030"
    if name in _BIG5_LABELS:
        return "big5hkscs"
    if name in _UTF8_LABELS:
        return "utf-8"
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a label holding a NUL character
        return None


def _binary_kind(data: bytes) -> str | None:
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:4096]
    if head.count(0) > max(4, len(head) // 100):
        return "nul-heavy data"
    return None


def _bom_codec(data: bytes) -> str | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    return None


def _declared_in_document(data: bytes) -> list[str]:
    """Charset labels the page declares about itself, in document order."""
    return [m.group(1).decode("ascii", "replace") for m in _DECLARATION_RE.finditer(
        data[:_SNIFF_BYTES])]


@cache
def _common_han() -> frozenset[str]:
    """Han characters in everyday use: GB2312 level 1 and 2 plus Big5 level 1.

    Derived from the codecs themselves, so no list has to be shipped. A mis-decoded
    CJK page scatters over rare characters, kana and symbols and falls outside this set.
    """
    chars: set[str] = set()
    for lead in range(0xB0, 0xF8):  # GB2312 rows 16-87: level 1 and level 2 Hanzi
        chars.update(bytes([lead, t]).decode("gb2312", "ignore") for t in range(0xA1, 0xFF))
    for lead in range(0xA4, 0xC6):  # Big5 frequently used characters (A440-C67E)
        for t in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            chars.add(bytes([lead, t]).decode("big5", "ignore"))
    chars.discard("")
    return frozenset(chars)


_HAN_RANGES = ((0x3400, 0x9FFF), (0xF900, 0xFAFF))
# Kana, Cyrillic, box drawing, private use: what GB bytes become when read as Big5
_ODD_RANGES = ((0x3040, 0x30FF), (0x0400, 0x04FF), (0x2500, 0x257F), (0xE000, 0xF8FF))
_OTHER, _HAN, _COMMON_HAN, _ODD = range(4)


@cache
def _char_classes() -> np.ndarray:
    """The class of every code point of the basic plane, for ``_plausibility``."""
    classes = np.full(0x10000, _OTHER, dtype=np.uint8)  # U+FFFF stands for every code above
    for lo, hi in _ODD_RANGES:
        classes[lo:hi + 1] = _ODD
    for lo, hi in _HAN_RANGES:
        classes[lo:hi + 1] = _HAN
    common = np.array([ord(ch) for ch in _common_han()])
    classes[common[classes[common] == _HAN]] = _COMMON_HAN
    return classes


def _plausibility(text: str) -> float:
    """Share of Han characters that are common ones (1.0 when there is no Han text).

    Kana, Cyrillic, box drawing and private-use characters count against a decoding:
    they are what GB bytes become when read as Big5 and vice versa. Counted on the
    text's code points as one array (a list of every Han character was 40 % of
    decoding a GB page).
    """
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    counts = np.bincount(_char_classes()[np.minimum(codes, 0xFFFF)], minlength=4)
    han, odd = int(counts[_HAN] + counts[_COMMON_HAN]), int(counts[_ODD])
    if not han and not odd:
        return 1.0
    return int(counts[_COMMON_HAN]) / (han + odd)


def _try(data: bytes, codec: str) -> tuple[str, float] | None:
    """Decode leniently and return (text, replacement share), or None if the codec is
    unknown or cannot decode leniently (idna, punycode and "undefined" raise even so)."""
    try:
        text = data.decode(codec, errors="replace")
    except (LookupError, UnicodeError):
        return None
    if not text:
        return text, 0.0
    return text, text.count("\ufffd") / len(text)


def _as_utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _display_name(codec: str) -> str:
    return {"utf-8-sig": "utf-8", "big5hkscs": "big5"}.get(codec, codec)


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode page bytes and return ``(text, encoding_name)``.

    Order of trust: the ``declared`` charset (HTTP header), a BOM, the page's own
    meta/XML declaration, then detection (strict UTF-8, GB18030, Big5, charset-normalizer).
    Every declaration is verified: valid multi-byte UTF-8 wins over a GB/Big5 label,
    because GB18030 would "decode" UTF-8 bytes into plausible-looking mojibake.
    """
    if not data or not data.strip():
        raise DecodeError("empty", "no bytes" if not data else "only whitespace")
    bom = _bom_codec(data)
    if bom is not None:
        text, share = _try(data, bom) or ("", 1.0)
        if share <= _UNDECODABLE_SHARE:
            return text.lstrip("\ufeff"), _display_name(bom)
    kind = _binary_kind(data)
    if kind is not None:
        raise DecodeError("binary_content", f"looks like {kind}, not text")

    if data.isascii():
        return data.decode("ascii"), "ascii"
    utf8 = _as_utf8(data)
    if utf8 is not None:
        # Valid multi-byte UTF-8 is UTF-8 whatever the labels say: a GB/Big5/Latin label
        # on such bytes is a lie, and a UTF-8 label decodes them to this same text.
        return utf8, "utf-8"

    labels = [declared, *_declared_in_document(data)]
    candidates: list[str] = []
    for label in labels:
        codec = normalize_label(label)
        if codec and codec not in candidates:
            candidates.append(codec)

    for codec in candidates:
        result = _try(data, codec)
        if result is None:
            continue
        text, share = result
        if share > _MAX_REPLACEMENT_SHARE:
            continue
        if codec in ("gb18030", "big5hkscs") and _plausibility(text) < _PLAUSIBLE_HAN_SHARE:
            continue
        if codec.startswith(_SINGLE_BYTE_CODECS):
            # Old Chinese pages often claim Latin-1 while holding GBK bytes.
            gb = _detect_cjk(data)
            if gb is not None:
                return gb
        return text, _display_name(codec)

    detected = _detect_cjk(data)
    if detected is not None:
        return detected
    return _detect_fallback(data)


def _detect_cjk(data: bytes) -> tuple[str, str] | None:
    """Pick GB18030 or Big5 by how common the resulting Han characters are."""
    best: tuple[float, str, str] | None = None
    for codec in ("gb18030", "big5hkscs"):
        result = _try(data, codec)
        if result is None:
            continue
        text, share = result
        if share > _MAX_REPLACEMENT_SHARE * 5:
            continue
        score = _plausibility(text) - share * 10
        if best is None or score > best[0]:
            best = (score, text, codec)
    if best is not None and best[0] >= _PLAUSIBLE_HAN_SHARE:
        return best[1], _display_name(best[2])
    return None


def _detect_fallback(data: bytes) -> tuple[str, str]:
    """Last resort: ask charset-normalizer, then refuse rather than emit mojibake."""
    from charset_normalizer import from_bytes

    match = from_bytes(data[:200_000]).best()
    if match is not None and match.encoding:
        codec = normalize_label(match.encoding) or match.encoding
        result = _try(data, codec)
        if result is not None and result[1] <= _UNDECODABLE_SHARE:
            return result[0], _display_name(codec)
    raise DecodeError("undecodable", "no candidate charset decodes the bytes cleanly")
