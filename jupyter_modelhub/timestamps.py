"""The one format of every time the REST API answers: ISO 8601 in UTC, to the millisecond, with
a ``Z`` (``2026-12-07T02:33:10.123Z``).

Milliseconds because an operation's progress is reported several times a second and a metrics
read is compared with the next for rates; one fixed width so that the strings sort as the times
do. Clients parse it with ``Date.parse`` (the panel) or ``datetime.fromisoformat`` (Python 3.11+).

Not here: what the database stores (naive UTC ``datetime``, ``store.orm.utcnow``).
"""

from __future__ import annotations

from datetime import datetime, timezone


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
