"""Cron expressions with a time zone: checking them, their next times, the times a server missed.

A schedule's times are those of a five-field cron expression (minute, hour, day of month, month,
day of week, as crontab(5) and Azure ML's schedules have them; ``@hourly``, ``@daily``,
``@weekly``, ``@monthly`` and ``@yearly`` too) read in an IANA time zone (``Europe/Paris``; UTC by
default). cronsim computes them (it follows cron across daylight-saving changes: a 02:30 run on
the night the clocks skip 02:00-03:00 runs at 03:00, once), zoneinfo gives the zones. Times leave
this module as naive UTC, as the database stores every time.

Not here: the schedules' rows (``schedules``), firing them (``scheduler``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError

from ..errors import InvalidInput

MAX_CRON = 128  # characters; an expression is parsed in time linear in its length
MAX_ZONE = 64
ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
EXAMPLE = "e.g. '0 2 * * *' (02:00 every day) or '*/15 * * * 1-5' (every 15 minutes on weekdays)"


def check_cron(expression: object) -> str:
    """The expression as stored (aliases spelled out, spaces normalised), or a 400 saying why."""
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidInput(
            f"A schedule needs a cron expression: five fields, minute hour day month weekday, {EXAMPLE}."
        )
    if len(expression) > MAX_CRON:
        raise InvalidInput(f"The cron expression is {len(expression)} characters long; the limit is {MAX_CRON}.")
    text = ALIASES.get(expression.strip().lower(), " ".join(expression.split()))
    fields = text.split(" ")
    if len(fields) != 5:
        raise InvalidInput(
            f"Invalid cron expression {expression!r}: it has {len(fields)} fields, a cron expression has five "
            f"(minute hour day-of-month month day-of-week), {EXAMPLE}."
        )
    try:
        next(CronSim(text, datetime.now(timezone.utc)))
    except CronSimError as exc:
        raise InvalidInput(f"Invalid cron expression {expression!r}: {_what(exc)}; {EXAMPLE}.") from None
    except StopIteration:  # cannot happen for a valid expression; said rather than crashed on
        raise InvalidInput(f"The cron expression {expression!r} names no time that comes.") from None
    return text


def check_zone(name: object) -> str:
    """An IANA time zone name (``Europe/Paris``, ``UTC``), or a 400 saying why."""
    if not isinstance(name, str) or not name or len(name) > MAX_ZONE:
        raise InvalidInput(
            f"Invalid time zone {str(name)[:MAX_ZONE]!r}: give an IANA name such as Europe/Paris or UTC."
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        near = sorted(z for z in available_timezones() if z.lower().endswith(name.lower().rsplit("/", 1)[-1]))[:3]
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise InvalidInput(
            f"Unknown time zone {name!r}{hint}: give an IANA name such as Europe/Paris, America/New_York or UTC."
        ) from None
    return name


def next_time(expression: str, zone: str, after: datetime) -> datetime:
    """The first time of the schedule strictly after ``after`` (naive UTC in, naive UTC out)."""
    return next(times(expression, zone, after))


def times(expression: str, zone: str, after: datetime) -> Iterator[datetime]:
    """The schedule's times after ``after``, in order (naive UTC)."""
    local = after.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))
    for moment in CronSim(expression, local):
        yield moment.astimezone(timezone.utc).replace(tzinfo=None)


def times_until(expression: str, zone: str, first: datetime, until: datetime, limit: int = 100_000):
    """How many of the schedule's times, from ``first`` (one of them) on, are at or before
    ``until``, and the last of those (None if none); at most ``limit`` are counted (a
    per-minute schedule whose servers were down for a year stops there)."""
    if first > until:
        return 0, None
    count, last = 1, first
    for moment in times(expression, zone, first):
        if moment > until or count >= limit:
            break
        count, last = count + 1, moment
    return count, last


def explain(expression: str) -> str:
    """The expression in words (``At 02:00``), for listings; empty if cronsim cannot say."""
    try:
        return CronSim(expression, datetime.now(timezone.utc)).explain()
    except Exception:  # a description is a nicety: never an error
        return ""


def _what(exc: CronSimError) -> str:
    """cronsim's reason (``Bad minute``) in the sentence's case."""
    text = str(exc).strip() or "it cannot be read"
    return text[0].lower() + text[1:]
