"""How the product writes a count in words: ``1 file``, ``2 files``, ``1 mini-batch``, ``412.3 MB``.

A leaf module (it imports nothing of the package), so the displays of the magics, the batch
job's notebook and the services' messages all say counts the same way.
"""

from __future__ import annotations


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``count`` and ``noun``, in the plural unless it is one; thousands separated (``1,200 rows``)."""
    if count == 1:
        return f"1 {noun}"
    if plural_form is None:
        plural_form = noun + ("es" if noun.endswith(("ch", "sh", "s", "x")) else "s")
    return f"{count:,} {plural_form}"


def size_text(n: int | None) -> str:
    """Bytes as read: ``512 B``, ``1.5 KB``, ``412.3 MB``; empty for an unknown size."""
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""
