"""Content-Encoding decoded in small steps, so a compressed bomb never inflates all at once.

httpx's own decoders hand each raw chunk (up to 64 KiB) to zlib whole: 64 KiB of gzip of
zeros is 64 MB of output from a single call, before any size cap can look at it. Here zlib
gives at most STEP bytes per call (`max_length`) and keeps the rest of its input aside.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

STEP = 64 * 1024
# What we announce in Accept-Encoding, and so all we decode (no brotli, no zstd).
ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class EncodingError(Exception):
    """The body's encoding is unknown or its compressed data is corrupt."""


class Inflater:
    """One layer of Content-Encoding (gzip or deflate), at most STEP bytes out per step."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.zlib = zlib.decompressobj(wbits=_WBITS[encoding])
        self.started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self.zlib.decompress(data, STEP)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self.started:
                    # Some servers send raw deflate without the zlib header (as httpx allows).
                    self.zlib = zlib.decompressobj(wbits=-zlib.MAX_WBITS)
                    self.started = True
                    continue
                raise EncodingError(f"corrupt {self.encoding} data: {exc}") from None
            self.started = self.started or bool(data)
            if out:
                yield out
            data = self.zlib.unconsumed_tail
            if not data and len(out) < STEP:
                return

    def finish(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        rest = self.zlib.flush()
        if rest:
            yield rest
        if self.started and not self.zlib.eof:
            raise EncodingError(f"the {self.encoding} data ends early")


def layers(content_encoding: str) -> list[Inflater]:
    """The decoders of a Content-Encoding header, in the order they must be applied."""
    names = [name.strip().lower() for name in content_encoding.split(",")]
    names = [name for name in names if name and name != "identity"]
    unknown = [name for name in names if name not in _WBITS]
    if unknown:
        raise EncodingError(f"unsupported Content-Encoding {content_encoding!r}")
    return [Inflater(name) for name in reversed(names)]


def decode(decoders: list[Inflater], raw: bytes, *, last: bool = False) -> Iterator[bytes]:
    """`raw` through every layer, lazily: no piece bigger than STEP exists at any time."""
    pieces: Iterable[bytes] = [raw] if raw else []
    for decoder in decoders:
        pieces = _through(decoder, pieces, last=last)
    return iter(pieces)


def _through(decoder: Inflater, pieces: Iterable[bytes], *, last: bool) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.feed(piece)
    if last:
        yield from decoder.finish()
