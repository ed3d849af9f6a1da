"""Find articles that copy an earlier one: MinHash over character 5-shingles.

News about poverty alleviation is reposted widely, often with a new headline, a
changed dateline or a trimmed ending. Character shingles work without word
segmentation, and a MinHash signature is small enough to store with each document,
so new pages can be compared with everything already in the warehouse.
"""

from __future__ import annotations

import re

import numpy as np
from datasketch import MinHash, MinHashLSH

__all__ = ["body_signature", "find_near_duplicates", "similarity"]

SHINGLE_CHARS = 5
NUM_PERM = 128
# Part of the stored signature format: signatures compare only with equal seed and scheme.
_SEED = 1
_SCHEME = "affine32"
_DTYPE = np.dtype("<u8")
_WS_RE = re.compile(r"\s+")


def _minhash(body: str) -> MinHash | None:
    text = _WS_RE.sub("", body)
    if len(text) < SHINGLE_CHARS:
        return None
    m = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME)
    m.update_batch([text[i:i + SHINGLE_CHARS].encode("utf-8")
                    for i in range(len(text) - SHINGLE_CHARS + 1)])
    return m


def _from_bytes(signature: bytes) -> MinHash | None:
    if not signature:
        return None
    values = np.frombuffer(signature, dtype=_DTYPE)
    if values.size != NUM_PERM:
        raise ValueError(f"signature holds {values.size} values, expected {NUM_PERM}")
    return MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME,
                   hashvalues=values.astype(np.uint64))


def body_signature(body: str) -> bytes:
    """Serialisable MinHash signature of ``body`` (empty bytes for a body under 5 chars)."""
    m = _minhash(body)
    return b"" if m is None else m.hashvalues.astype(_DTYPE).tobytes()


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    ma, mb = _from_bytes(a), _from_bytes(b)
    if ma is None or mb is None:
        return 0.0
    return float(ma.jaccard(mb))


def find_near_duplicates(candidates: list[tuple[str, bytes]], known: list[tuple[str, bytes]],
                         threshold: float = 0.8) -> dict[str, str]:
    """Map each candidate doc_key that copies an earlier document to that original's key.

    Both lists hold ``body_signature`` values, so signatures computed once in the
    parallel clean stage are reused by the single-process load. ``known`` documents
    (already stored) and earlier candidates count as originals; a copy of a copy maps
    to the first original. Bodies too short to shingle never match.
    """
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    hashes: dict[str, MinHash] = {}
    order: dict[str, int] = {}
    for key, signature in known:
        m = _from_bytes(signature)
        if m is not None and key not in hashes:
            lsh.insert(key, m)
            hashes[key] = m
            order[key] = len(order)
    found: dict[str, str] = {}
    for key, signature in candidates:
        m = _from_bytes(signature)
        if m is None or key in hashes:
            continue
        scored = [(m.jaccard(hashes[other]), other) for other in lsh.query(m)]
        best = [(-score, order[other], other) for score, other in scored if score >= threshold]
        if best:
            original = min(best)[2]
            found[key] = found.get(original, original)
        lsh.insert(key, m)
        hashes[key] = m
        order[key] = len(order)
    return found
