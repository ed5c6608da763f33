"""The events feed: an append-only log of changes that every service writes and clients poll
(the panel refreshes from it; it doubles as an audit trail).

One function writes an event, in the caller's transaction, so the event commits with the change
it describes or not at all. Every event has a kind and a subject: the model for registry and
deploy events, the operation's subject (a version, an endpoint, an image) for an operation's.

Not here: who may read it (the REST route), what each service's kinds mean (its own module).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..store.orm import Event
from ..timestamps import iso
from .views import Event as EventView
from .views import Events

# the subject column's width (``store.orm.Event.model``)
MAX_SUBJECT = 128


def record_event(
    session: Session, kind: str, subject: str, version: int | None = None, user: str = "", operation: int | None = None
) -> None:
    """Add one event to the feed, committed with the caller's transaction."""
    session.add(Event(kind=kind, model=subject[:MAX_SUBJECT], version=version, user=user or "", operation_id=operation))


def changes(session: Session, after: int | None = None, limit: int = 200) -> Events:
    """Events after ``after`` (at most ``limit``); without it, only the current position."""
    last = session.scalar(select(func.max(Event.id))) or 0
    if after is None:
        return Events(events=[], last_id=last)
    rows = session.scalars(select(Event).where(Event.id > after).order_by(Event.id).limit(limit)).all()
    return Events(
        events=[
            EventView(
                id=e.id, time=iso(e.time), kind=e.kind, model=e.model, version=e.version, operation=e.operation_id
            )
            for e in rows
        ],
        last_id=rows[-1].id if rows else last,
    )
