"""Find articles that copy an earlier one: MinHash over character 5-shingles.

News about poverty alleviation is reposted widely, often with a new headline, a
changed dateline or a trimmed ending. Character shingles work without word
segmentation, and a MinHash signature is small enough to store with each document,
so new pages can be compared with everything already in the warehouse.

Everything is plain numpy so that signing a page costs well under a millisecond and
importing this module does not pull in scipy. Each shingle gets one 64-bit hash; the
``NUM_PERM`` permutations are affine maps ``a*h + b`` (mod 2**64, ``a`` odd), applied
to all shingles at once.

Signatures are stored in the warehouse (``dim_document.minhash``), so their bytes are
a format: an 8-byte header naming the scheme, then ``NUM_PERM`` little-endian uint64
minima. The header and the length (1032 bytes) keep them from being confused with
the unheaded 1024-byte signatures of the earlier datasketch scheme, which hashed
shingles differently and so cannot be compared with these: such signatures are read
as "no signature" (they never match and never raise) until the document is signed
again. Any change to the shingling, hashing or parameters must change the header.
The permutation parameters come from a pure-Python splitmix64 sequence rather than
``numpy.random``, whose streams are only promised stable within one numpy build.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["SIGNATURE_BYTES", "body_signature", "find_near_duplicates", "similarity"]

SHINGLE_CHARS = 5
NUM_PERM = 128
_HEADER = b"MinHsh\x05\x02"  # scheme name, shingle length, format version
_DTYPE = np.dtype("<u8")
SIGNATURE_BYTES = len(_HEADER) + NUM_PERM * _DTYPE.itemsize
_LEGACY_BYTES = 128 * 8  # datasketch signatures written before format version 2
_MASK64 = (1 << 64) - 1


def _splitmix64(seed: int, count: int) -> list[int]:
    """A fixed pseudo-random sequence that no library upgrade can change."""
    out = []
    for _ in range(count):
        seed = (seed + 0x9E3779B97F4A7C15) & _MASK64
        z = ((seed ^ (seed >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        out.append(z ^ (z >> 31))
    return out


_PARAMS = _splitmix64(0x66757069_6E4D4831, 2 * NUM_PERM + 1)
_MUL = np.uint64(_PARAMS[0] | 1)  # base of the polynomial shingle hash
_A = (np.array(_PARAMS[1:NUM_PERM + 1], dtype=np.uint64) | np.uint64(1))[:, None]
_B = np.array(_PARAMS[NUM_PERM + 1:], dtype=np.uint64)[:, None]
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)


def _shingle_hashes(body: str) -> np.ndarray | None:
    """Distinct 64-bit hashes of the body's 5-character windows, whitespace ignored."""
    text = "".join(body.split())
    if len(text) < SHINGLE_CHARS:
        return None
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    codes = codes.astype(np.uint64)
    n = codes.size - SHINGLE_CHARS + 1
    h = codes[:n].copy()
    for j in range(1, SHINGLE_CHARS):  # polynomial hash; uint64 arrays wrap silently
        h *= _MUL
        h += codes[j:j + n]
    # The polynomial leaves low bits depending on few characters; mix all bits in.
    h ^= h >> _S30
    h *= _MIX1
    h ^= h >> _S27
    h *= _MIX2
    h ^= h >> _S31
    # Repeated shingles cannot change a minimum; drop them (templated text repeats a lot).
    h.sort()
    return h[np.concatenate(([True], h[1:] != h[:-1]))]


# Permutations applied per step: a quarter of them (32 rows of a page's hashes, about
# 1 MB) stay in cache, where all 128 at once (4 MB) did not; the minima are the same
# (a fifth less time).
_ROWS = NUM_PERM // 4


def body_signature(body: str) -> bytes:
    """Serialisable MinHash signature of ``body`` (empty bytes for a body under 5 chars)."""
    h = _shingle_hashes(body)
    if h is None:
        return b""
    minima = np.empty(NUM_PERM, dtype=_DTYPE)
    values = np.empty((_ROWS, h.size), dtype=np.uint64)
    for i in range(0, NUM_PERM, _ROWS):
        np.multiply(h, _A[i:i + _ROWS], out=values)
        values += _B[i:i + _ROWS]
        values.min(axis=1, out=minima[i:i + _ROWS])
    return _HEADER + minima.tobytes()


def _values(signature: bytes | None) -> np.ndarray | None:
    """Minima held by a signature; None when it cannot be compared (absent or legacy)."""
    if not signature or len(signature) == _LEGACY_BYTES:
        return None
    if len(signature) != SIGNATURE_BYTES or bytes(signature[:len(_HEADER)]) != _HEADER:
        raise ValueError(f"not a MinHash signature: {len(signature)} bytes, "
                         f"header {bytes(signature[:len(_HEADER)])!r}")
    return np.frombuffer(signature, dtype=_DTYPE, offset=len(_HEADER))


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    va, vb = _values(a), _values(b)
    if va is None or vb is None:
        return 0.0
    return np.count_nonzero(va == vb) / NUM_PERM


def _min_agreement(threshold: float) -> int:
    """Fewest equal minima whose share reaches ``threshold`` (as ``similarity`` computes it)."""
    return next(m for m in range(NUM_PERM + 1) if m / NUM_PERM >= threshold)


def _band_rows(need: int) -> int:
    """Rows per LSH band, chosen so that banding never misses a pair that would pass.

    A pair agreeing on ``need`` minima differs in at most ``NUM_PERM - need`` places,
    which can spoil at most that many bands; with more bands than that, some band is
    identical and the pair is compared. Within this bound, longer bands mean fewer
    chance candidates (r=4, 32 bands at threshold 0.8).
    """
    return max(1, NUM_PERM // (NUM_PERM - need + 1))


def find_near_duplicates(candidates: list[tuple[str, bytes]], known: list[tuple[str, bytes]],
                         threshold: float = 0.8) -> dict[str, str]:
    """Map each candidate doc_key that copies an earlier document to that original's key.

    Both lists hold ``body_signature`` values, so signatures computed once in the
    parallel clean stage are reused by the single-process load. ``known`` documents
    (already stored) and earlier candidates count as originals; a copy of a copy maps
    to the first original. A copy goes to its most similar original, the earliest on
    a tie. Bodies too short to shingle, and legacy signatures, never match.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    need = _min_agreement(threshold)
    rows = _band_rows(need)
    bands = [slice(start, start + rows) for start in range(0, NUM_PERM - rows + 1, rows)]
    buckets: list[dict[bytes, list[int]]] = [{} for _ in bands]
    table = np.empty((len(known) + len(candidates), NUM_PERM), dtype=_DTYPE)
    keys: list[str] = []
    index: set[str] = set()

    def add(key: str, values: np.ndarray) -> None:
        table[len(keys)] = values
        for band, bucket in zip(bands, buckets, strict=True):
            bucket.setdefault(values[band].tobytes(), []).append(len(keys))
        keys.append(key)
        index.add(key)

    def signed(pairs: Iterable[tuple[str, bytes]]) -> Iterable[tuple[str, np.ndarray]]:
        for key, signature in pairs:
            values = _values(signature)
            if values is not None and key not in index:
                yield key, values

    for key, values in signed(known):
        add(key, values)
    found: dict[str, str] = {}
    for key, values in signed(candidates):
        near = {i for band, bucket in zip(bands, buckets, strict=True)
                for i in bucket.get(values[band].tobytes(), ())}
        if near:
            order = np.array(sorted(near))  # earliest first, so argmax breaks ties by age
            scores = np.count_nonzero(table[order] == values, axis=1)
            best = int(np.argmax(scores))
            if scores[best] >= need:
                original = keys[order[best]]
                found[key] = found.get(original, original)
        add(key, values)
    return found
