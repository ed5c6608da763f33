"""Model files as a client uploads them: an in-memory tar archive."""

from __future__ import annotations

import io
import tarfile


def tar_bytes(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """An in-memory tar of ``files`` (and symlinks), as a client would upload it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()
