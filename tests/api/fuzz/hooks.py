"""Schemathesis hooks for tests/api/test_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

Upload bodies are ``application/x-tar``, which schemathesis cannot serialise by itself. Half of
the generated bodies go out as generated (almost never an archive: the server must answer 400),
the other half packed as one file in a tar, so the stateful phase gets upload ids to register.
"""

from __future__ import annotations

import io
import tarfile

import schemathesis


@schemathesis.serializer("application/x-tar")
def tar_body(ctx, value) -> bytes:
    data = value if isinstance(value, bytes) else str(value).encode()
    if data[:1] and data[0] % 2:
        return data
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("model.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
