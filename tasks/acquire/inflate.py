"""Bounded, streaming decompression of gzip and deflate bytes.

A page a few kilobytes long can inflate to gigabytes. Inflating it in one call
fills memory before any size check can run, so compressed pages are inflated
chunk by chunk, each step asked for no more than what is left under the cap: a
bomb is refused just past the cap. Local ``*.gz`` files and HTTP bodies sent
with ``Content-Encoding: gzip`` or ``deflate`` go through the same code.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CODINGS", "DEFAULT_MAX_BYTES", "InflateError", "Inflater", "read_capped"]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024

# zlib window bits per content coding, tried in order: gzip also accepts a zlib
# header (32 + 15 detects either); "deflate" means zlib-wrapped data, but servers
# also send raw deflate, which the second value reads.
_WBITS: dict[str, tuple[int, ...]] = {
    "gzip": (32 + zlib.MAX_WBITS,),
    "x-gzip": (32 + zlib.MAX_WBITS,),
    "deflate": (zlib.MAX_WBITS, -zlib.MAX_WBITS),
}
CODINGS = frozenset(_WBITS)


class InflateError(ValueError):
    """``reason`` is ``too_large`` (past the cap) or ``bad_compression`` (damaged data)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class _Layer:
    """One coding's stream, which may hold several gzip members one after another."""

    def __init__(self, coding: str, limit: int) -> None:
        self.coding = coding
        self._wbits = _WBITS[coding]
        self._limit = limit
        self._size = 0
        self._fed = False
        self._z = zlib.decompressobj(self._wbits[0])

    def feed(self, data: bytes) -> bytes:
        if not self._fed and data:
            self._fed = True
            for wbits in self._wbits[1:]:  # a header the first reading rejects: try the next
                try:
                    return self._inflate(data)
                except InflateError as exc:
                    if exc.reason != "bad_compression":
                        raise
                    self._z, self._size = zlib.decompressobj(wbits), 0
        return self._inflate(data)

    def _inflate(self, data: bytes) -> bytes:
        out: list[bytes] = []
        while data:
            try:
                piece = self._z.decompress(data, self._limit - self._size + 1)
            except zlib.error as exc:
                detail = f"not valid {self.coding} data ({exc})"
                raise InflateError("bad_compression", detail) from exc
            self._size += len(piece)
            if self._size > self._limit:
                raise InflateError("too_large", f"over {self._limit} bytes once inflated")
            out.append(piece)
            if self._z.eof:  # end of a member; anything but zero padding starts another
                data = self._z.unused_data
                if data.strip(b"\0"):
                    self._z = zlib.decompressobj(self._wbits[0])
                else:
                    data = b""
            else:
                data = self._z.unconsumed_tail
        return b"".join(out)

    def finish(self) -> None:
        if self._fed and not self._z.eof:
            raise InflateError("bad_compression", f"{self.coding} data ends early")


class Inflater:
    """Undoes ``codings`` (in the order given) chunk by chunk and counts what comes out.

    With no codings it only counts, so a plain body and a compressed one meet the
    same cap. Raises :class:`InflateError` as soon as the output passes ``limit``.
    """

    def __init__(self, codings: Sequence[str], limit: int) -> None:
        self._layers = [_Layer(c, limit) for c in codings]
        self._limit = limit
        self._size = 0

    def feed(self, data: bytes) -> bytes:
        for layer in self._layers:
            data = layer.feed(data)
        return self._count(data)

    def finish(self) -> bytes:
        """What the last chunk left behind; raises if a stream was cut short."""
        data = b""
        for layer in self._layers:
            data = layer.feed(data)
            layer.finish()
        return self._count(data)

    def _count(self, data: bytes) -> bytes:
        self._size += len(data)
        if self._size > self._limit:
            raise InflateError("too_large", f"over {self._limit} bytes")
        return data


def read_capped(path: Path, limit: int = DEFAULT_MAX_BYTES) -> bytes:
    """A stored page's bytes, gunzipped when the name ends in ``.gz``, at most ``limit`` bytes.

    Raises :class:`InflateError` or ``OSError``.
    """
    size = path.stat().st_size
    if size > limit:
        raise InflateError("too_large", f"{size} bytes > cap {limit}")
    codings = ["gzip"] if path.name.lower().endswith(".gz") else []
    inflater = Inflater(codings, limit)
    with path.open("rb") as f:
        chunks = [inflater.feed(chunk) for chunk in iter(lambda: f.read(CHUNK), b"")]
    chunks.append(inflater.finish())
    return b"".join(chunks)
