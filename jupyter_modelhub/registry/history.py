"""The history: an append-only record of every change, with who made it, from which client, when,
and the old and new values, so "who moved churn@production last Tuesday" and "what served
churn-ep on 2026-12-01 14:00" have answers, and a change can be rolled back.

Every service writes its changes here with ``record``, in the transaction of the change, so an
entry commits with what it describes or not at all. Who made it comes from the service's
``user`` argument; the client (``kernel``, ``panel``, ``cli``, ``api``) from the request that
runs the work (``acting_for``, set by the REST handlers), or ``server`` for the server's own
work. Nothing in the API edits or deletes an entry.

Actions are ``resource.verb`` words, the same as the webhooks' events: ``version.registered``,
``version.updated``, ``version.deleted``, ``model.deleted``, ``alias.moved``, ``alias.deleted``,
``permission.changed``, ``deployment.changed``, ``deployment.deleted``, ``traffic.changed``,
``keys.regenerated``, ``endpoint.deleted``.

Not here: who may read it (the REST handlers), what each service changes (its own module).
"""

from __future__ import annotations

import contextvars
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..store.orm import Endpoint, HistoryEntry, Model, ServingRecord
from ..timestamps import iso
from . import views

# The request a service call runs for: (user, client). Set by the REST handlers around the work
# they run on the pool; unset for the server's own work.
_ACTING_FOR: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "modelhub_acting_for", default=None
)

MAX_PAGE = 1000


def acting_for(user: str, client: str) -> contextvars.Token:
    """Record the changes made from here on (in this context) as ``user``'s, from ``client``."""
    return _ACTING_FOR.set((user, client))


def record(
    session: Session,
    action: str,
    subject: str,
    *,
    model: str | None = None,
    version: int | None = None,
    endpoint: str | None = None,
    old: object = None,
    new: object = None,
    user: str = "",
) -> None:
    """Add one entry, committed with the caller's transaction."""
    acting = _ACTING_FOR.get()
    client = acting[1] if acting else "server"
    who = user or (acting[0] if acting else "")
    session.add(
        HistoryEntry(
            user=who[:128],
            client=client,
            action=action,
            model=model,
            version=version,
            endpoint=endpoint,
            subject=subject[:256],
            old=old,
            new=new,
        )
    )


def entries(
    session: Session,
    *,
    model: str | None = None,
    endpoint: str | None = None,
    action: str | None = None,
    user: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> views.History:
    """A model's or an endpoint's entries, newest first, filtered. An endpoint's history holds its
    own changes; a model's, its own and those of the endpoints serving it (a deploy of it)."""
    stmt = select(HistoryEntry)
    if model is not None:
        stmt = stmt.where(HistoryEntry.model == model)
    if endpoint is not None:
        stmt = stmt.where(HistoryEntry.endpoint == endpoint)
    if action:
        actions = [a.strip() for a in action.split(",") if a.strip()]
        stmt = stmt.where(or_(*(HistoryEntry.action == a for a in actions)))
    if user:
        stmt = stmt.where(HistoryEntry.user == user)
    if since is not None:
        stmt = stmt.where(HistoryEntry.time >= since)
    if until is not None:
        stmt = stmt.where(HistoryEntry.time <= until)
    rows = session.scalars(stmt.order_by(HistoryEntry.id.desc()).limit(min(limit, MAX_PAGE) + 1)).all()
    return views.History(entries=[entry_view(r) for r in rows[:limit]], more=len(rows) > limit)


def known(session: Session, kind: str, name: str) -> bool:
    """Whether ``name`` is a model (``kind`` model) or an endpoint now, or ever had an entry."""
    table = Model if kind == "model" else Endpoint
    if session.scalar(select(table.id).where(table.name == name)) is not None:
        return True
    column = HistoryEntry.model if kind == "model" else HistoryEntry.endpoint
    return session.scalar(select(HistoryEntry.id).where(column == name).limit(1)) is not None


def entry_view(row: HistoryEntry) -> views.HistoryEntry:
    return views.HistoryEntry(
        id=row.id,
        at=iso(row.time),
        user=row.user,
        client=row.client,
        action=row.action,
        subject=row.subject,
        model=row.model,
        version=row.version,
        endpoint=row.endpoint,
        old=row.old,
        new=row.new,
    )


def last_change(session: Session, action: str, subject: str) -> HistoryEntry | None:
    """The newest entry of ``action`` on ``subject`` (what a rollback undoes)."""
    return session.scalar(
        select(HistoryEntry)
        .where(HistoryEntry.action == action, HistoryEntry.subject == subject)
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    )


def endpoint_at(session: Session, endpoint: str, at: datetime) -> views.EndpointState:
    """What served ``endpoint`` at ``at``: its deployments' versions (from the serving records) and
    its traffic (from the newest traffic or deployment change before then)."""
    serving = session.scalars(
        select(ServingRecord)
        .where(
            ServingRecord.endpoint == endpoint,
            ServingRecord.started_time <= at,
            or_(ServingRecord.ended_time.is_(None), ServingRecord.ended_time > at),
        )
        .order_by(ServingRecord.deployment)
    ).all()
    change = session.scalar(
        select(HistoryEntry)
        .where(
            HistoryEntry.endpoint == endpoint,
            HistoryEntry.time <= at,
            HistoryEntry.action.in_(("traffic.changed", "deployment.changed", "deployment.deleted")),
        )
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    )
    traffic = ((change.new or {}).get("traffic") if change is not None and isinstance(change.new, dict) else None) or {}
    return views.EndpointState(
        endpoint=endpoint,
        at=iso(at),
        deployments=[
            views.ServedVersion(deployment=r.deployment, model=r.model, version=r.version, since=iso(r.started_time))
            for r in serving
        ],
        traffic=traffic,
    )
