"""HTTP content codings of scoring bodies: gzip and deflate.

A request body sent with ``Content-Encoding: gzip`` or ``deflate`` (as ``tritonclient`` does with
``request_compression_algorithm``) is inflated before it is decoded, under the same size limit
as any body, so a small compressed body cannot expand without bound. A v2 inference response is
compressed when the client asks for it in ``Accept-Encoding`` and it is large enough to gain.

Not here: which routes compress their responses (``scoring.py``).
"""

from __future__ import annotations

import gzip
import zlib

from .errors import ServingError, bad_request

CODINGS = ("gzip", "deflate")
MIN_COMPRESSED_BYTES = 1024  # below about a packet, compressing costs more time than it saves


def inflate(body: bytes, coding: str, limit: int) -> bytes:
    """The body a ``Content-Encoding`` header describes, decoded; 413 beyond ``limit`` bytes."""
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding not in CODINGS:
        raise ServingError(
            415,
            f"Content-Encoding {coding!r} is not supported: send the body as it is, "
            "or compressed with gzip or deflate.",
        )
    # gzip: a gzip header; deflate: a zlib stream, as RFC 9110 says (32 + 15 reads either), or,
    # from some clients, a raw deflate stream.
    for wbits in (zlib.MAX_WBITS | 16,) if coding == "gzip" else (zlib.MAX_WBITS | 32, -zlib.MAX_WBITS):
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error:
            continue
        if len(data) > limit:
            raise ServingError(
                413, f"The request body is larger than {limit} bytes once inflated (--max-request-bytes)."
            )
        if inflater.eof and not inflater.unused_data:
            return data
    raise bad_request(
        f"The request body is not valid {coding} data (Content-Encoding: {coding}): send it "
        "compressed whole, or without the header."
    )


def accepted(accept_encoding: str | None) -> str | None:
    """The coding to answer with, from an ``Accept-Encoding`` header: gzip or deflate, or None."""
    if not accept_encoding:
        return None
    offered = {}
    for part in accept_encoding.lower().split(","):
        name, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        offered[name.strip()] = quality
    usable = [coding for coding in CODINGS if offered.get(coding, offered.get("*", 0.0)) > 0]
    return max(usable, key=lambda coding: offered.get(coding, 0.0), default=None)


def compress(body: bytes, coding: str) -> bytes:
    # Level 1: most of the gain on tensors of numbers, at a fraction of the time of the default.
    if coding == "gzip":
        return gzip.compress(body, compresslevel=1, mtime=0)
    return zlib.compress(body, 1)
