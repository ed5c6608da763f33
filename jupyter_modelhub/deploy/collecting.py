"""An endpoint's payload collection settings: checked, merged with what the endpoint has, and
turned into the host's ``spec.json`` and the endpoint's description.

The same names everywhere: ``collect`` (what: requests, responses), ``sample_rate`` (0 < r <= 1),
``collect_retention`` (a duration such as ``7d``, ``12h``, ``90m``) and ``collect_max_bytes`` (a
size such as ``1GB``, ``500MiB`` or a number of bytes), in ``%deploy``, ``%collect``, the CLI and
the REST bodies. They are kept on the endpoint (the ``collect`` column), since its host
collects for every deployment.

Not here: the collecting itself (``monitoring.collector``, in the host).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..errors import InvalidInput
from ..monitoring.bucket import status_of
from ..monitoring.collector import FILE_NAME, FOLDER, STATUS_FILE
from ..timestamps import duration
from . import views

WHAT = ("requests", "responses")
DEFAULTS = {"sample_rate": 1.0, "retention": "7d", "max_bytes": 10**9}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|K|M|G|T)?\s*$", re.IGNORECASE)
_BYTES = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    **{
        unit: 1024**power
        for power, units in enumerate((("k", "kib"), ("m", "mib"), ("g", "gib"), ("t", "tib")), 1)
        for unit in units
    },
}
MIN_RETENTION = 60.0
MIN_BYTES = 1024**2


def size(value: str | int) -> int:
    """``1GB`` -> bytes (KB, MB, GB: powers of 1000; KiB, K, MiB, M...: of 1024); a clear 400 otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = _SIZE.match(value) if isinstance(value, str) and len(value) < 40 else None
        if match is None:
            raise InvalidInput(
                f"Invalid collect_max_bytes {str(value)[:40]!r}: expected a size such as 1GB, 500MiB or 1000000."
            )
        number = int(float(match.group(1)) * _BYTES[(match.group(2) or "b").lower()])
    if number < MIN_BYTES:
        raise InvalidInput(f"collect_max_bytes must be at least 1MiB ({MIN_BYTES} bytes); got {number}.")
    return number


def merge(
    current: dict | None,
    collect: list[str] | None = None,
    sample_rate: float | None = None,
    collect_retention: str | None = None,
    collect_max_bytes: str | int | None = None,
) -> dict | None:
    """The endpoint's settings after a request: ``collect`` (what to record; [] switches collection
    off, keeping the other settings for the next time it is on) and the other fields change what
    they name; None when the request changes nothing. Settings other than ``collect`` need
    collection on, or being switched on."""
    current = dict(current or {})
    if collect is None and sample_rate is None and collect_retention is None and collect_max_bytes is None:
        return None
    if collect is not None:
        unknown = [w for w in collect if w not in WHAT]
        if unknown:
            raise InvalidInput(f"Invalid collect {unknown[0]!r}: collect requests, responses or both.")
        current["enabled"] = bool(collect)
        if collect:
            current.update(requests="requests" in collect, responses="responses" in collect)
    elif not current.get("enabled"):
        raise InvalidInput(
            "Payload collection is off for this endpoint: switch it on with --collect (REST: "
            '"collect": ["requests", "responses"]) to set sample_rate, collect_retention or collect_max_bytes.'
        )
    if sample_rate is not None:
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float)) or not 0 < sample_rate <= 1:
            raise InvalidInput(
                f"Invalid sample_rate {sample_rate!r}: expected a number above 0 and at most 1, e.g. 0.1."
            )
        current["sample_rate"] = float(sample_rate)
    if collect_retention is not None:
        seconds = duration(collect_retention, "collect_retention")
        if seconds < MIN_RETENTION:
            raise InvalidInput(f"collect_retention must be at least a minute; got {collect_retention!r}.")
        current["retention"] = collect_retention.strip()
    if collect_max_bytes is not None:
        current["max_bytes"] = size(collect_max_bytes)
    for key, value in DEFAULTS.items():
        current.setdefault(key, value)
    current.setdefault("requests", True)
    current.setdefault("responses", True)
    return current


def spec(settings: dict | None, folder: Path, roll_seconds: float, roll_bytes: int) -> dict | None:
    """What the endpoint's host is told (``spec.json``'s ``collect``); None: off."""
    if not settings or not settings.get("enabled"):
        return None
    return {
        "enabled": True,
        "requests": settings.get("requests", True),
        "responses": settings.get("responses", True),
        "sample_rate": settings.get("sample_rate", 1.0),
        "retention_s": duration(settings.get("retention", DEFAULTS["retention"])),
        "max_bytes": settings.get("max_bytes", DEFAULTS["max_bytes"]),
        "location": str(folder / FOLDER),
        "roll_seconds": roll_seconds,
        "roll_bytes": roll_bytes,
    }


def describe(settings: dict | None, folder: Path, stored_in: str | None = None) -> views.Collection:
    """The settings, where the files are, and what the host counted (``collect-status.json``);
    with ``stored_in`` (the bucket), the files and bytes there too (``monitoring.bucket``)."""
    settings = settings or {}
    try:
        counts = json.loads((folder / STATUS_FILE).read_text())
    except (OSError, ValueError):
        counts = {}
    if stored_in:  # the host's own count of files is stale once files have moved: they are counted here
        moved = status_of(folder)
        waiting = [entry.stat().st_size for entry in _committed(folder / FOLDER)]
        counts.update(files=moved.get("files", 0) + len(waiting), bytes=moved.get("bytes", 0) + sum(waiting))
    else:
        moved = {}
    enabled = bool(settings.get("enabled"))
    return views.Collection(
        enabled=enabled,
        collect=[w for w in WHAT if settings.get(w, True)] if enabled else [],
        sample_rate=settings.get("sample_rate", DEFAULTS["sample_rate"]),
        collect_retention=settings.get("retention", DEFAULTS["retention"]),
        collect_max_bytes=settings.get("max_bytes", DEFAULTS["max_bytes"]),
        location=str(folder / FOLDER),
        stored_in=stored_in,
        moved=moved.get("moved", 0),
        **{key: counts.get(key, 0) for key in ("sampled", "written", "committed", "dropped", "failed")},
        files=counts.get("files", 0),
        bytes=counts.get("bytes", 0),
        last_error=counts.get("last_error", "") or moved.get("last_error", ""),
    )


def _committed(folder: Path) -> list[os.DirEntry]:
    """The collector's committed files in ``folder`` (not moved to the bucket yet)."""
    try:
        return [entry for entry in os.scandir(folder) if FILE_NAME.match(entry.name)]
    except OSError:
        return []
