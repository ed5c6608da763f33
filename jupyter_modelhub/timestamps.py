"""The one format of every time the REST API answers: ISO 8601 in UTC, to the millisecond, with
a ``Z`` (``2026-12-07T02:33:10.123Z``).

Milliseconds because an operation's progress is reported several times a second and a metrics
read is compared with the next for rates; one fixed width so that the strings sort as the times
do. Clients parse it with ``Date.parse`` (the panel) or ``datetime.fromisoformat`` (Python 3.11+).

And the one way every parameter that is a time or a length of time is read: an age such as
``90m``, ``1h`` or ``7d`` (``duration``; ``moment``: that long before now) or an ISO 8601 time
(``moment``), for the history's filters, collected requests' windows, monitors and retention.

Not here: what the database stores (naive UTC ``datetime``, ``store.orm.utcnow``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .errors import InvalidInput

# an age: a number and a unit (seconds, minutes, hours, days, weeks)
AGE_PATTERN = r"\d{1,12}(?:\.\d{1,6})?\s*(?:s|sec|m|min|h|d|w)"
_AGE = re.compile(r"^\s*(\d{1,12}(?:\.\d{1,6})?)\s*(s|sec|m|min|h|d|w)\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_LONGEST = 64  # characters of a time or an age; longer text is refused unread
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)
_LATEST = datetime.max.replace(tzinfo=timezone.utc)


def iso(moment: datetime | float | None) -> str | None:
    """``moment`` as the API writes times; None stays None.

    A naive datetime is UTC (what the database holds); a number is seconds since the epoch.
    """
    if moment is None:
        return None
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    elif moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def now() -> str:
    """The current time as the API writes times."""
    return iso(datetime.now(timezone.utc))


def duration(text: str, what: str = "duration") -> float:
    """``7d`` -> seconds; a clear 400 otherwise."""
    match = _AGE.match(text) if isinstance(text, str) and len(text) <= _LONGEST else None
    if match is None:
        raise InvalidInput(
            f"Invalid {what} {str(text)[:40]!r}: expected a number and a unit (s, m, h, d or w), e.g. 7d or 12h."
        )
    return float(match.group(1)) * _SECONDS[match.group(2).lower()]


def moment(value, what: str = "since") -> datetime | None:
    """``1h`` (that long before now), an ISO 8601 time (UTC unless a zone is given), a datetime,
    or None/empty: an aware UTC datetime, or None. Ages and times beyond what a datetime holds are
    the earliest or latest there is, not an error."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = str(value).strip()
    if len(text) <= _LONGEST:
        match = _AGE.match(text)
        if match:
            try:
                return datetime.now(timezone.utc) - timedelta(seconds=duration(text, what))
            except OverflowError:
                return _EARLIEST
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            parsed = None
        if parsed is not None:
            try:
                return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
            except OverflowError:
                return _EARLIEST if parsed.year < 5000 else _LATEST
    raise InvalidInput(
        f"Invalid {what} {text[:40]!r}: give an age such as 30m, 1h or 7d (that long before now), or a time such as "
        "2026-12-01T14:00 (UTC unless a zone is given: 2026-12-01T14:00+01:00)."
    )


def naive(moment: datetime | None) -> datetime | None:
    """An aware time as the database holds times: naive UTC."""
    return None if moment is None else moment.astimezone(timezone.utc).replace(tzinfo=None)
