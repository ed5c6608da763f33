"""Webhooks as a resource: create, list, show, delete, test, and the delivery log.

Checks everything a user sends before anything is stored: an http(s) URL with a host, known
event names, a secret long enough to sign with (one is made when none is given), a model the
user may read. The secret is sealed (``secrets``) before it is stored and answered once, to
the request that created the webhook. Owners see and change their own webhooks, admins all.

Not here: sending (``dispatcher``), the REST handlers (``api.webhooks``).
"""

from __future__ import annotations

import secrets as tokens
from urllib.parse import urlsplit

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..errors import InvalidInput, NotFound
from ..refs import check_name
from ..registry.permissions import Actor, ModelPermissions
from ..store.database import Database
from ..store.orm import HistoryEntry, Model, Webhook, WebhookDelivery, utcnow
from ..timestamps import iso
from . import EVENTS, views
from .secrets import SecretBox

MAX_URL = 2048
MIN_SECRET, MAX_SECRET = 16, 256
MAX_DESCRIPTION = 512
TEST_EVENT = "webhook.test"


def check_url(url: str) -> str:
    """An http or https URL with a host; anything else (file:, ftp:, javascript:, a bare host) is
    refused, naming what was wrong."""
    text = (url or "").strip()
    if not text or len(text) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in text):
        raise InvalidInput(
            f"Invalid webhook URL {text[:80]!r}: give an http:// or https:// URL of at most {MAX_URL} characters, "
            "without spaces."
        )
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError as exc:
        raise InvalidInput(f"Invalid webhook URL {text[:80]!r}: {exc}.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput(
            f"Invalid webhook URL {text[:80]!r}: only http:// and https:// URLs receive webhooks "
            f"(not {parts.scheme or 'a URL without a scheme'})."
        )
    if not parts.hostname:
        raise InvalidInput(f"Invalid webhook URL {text[:80]!r}: it names no host.")
    return text


def check_events(events: list[str] | None) -> list[str]:
    """The events asked for, in the order of ``EVENTS``; none means all of them."""
    if not events:
        return list(EVENTS)
    asked = [e.strip() for e in events if e.strip()]
    unknown = [e for e in asked if e not in EVENTS]
    if unknown:
        raise InvalidInput(
            f"Unknown webhook event {unknown[0][:64]!r}: choose among {', '.join(EVENTS)} (comma-separated), "
            "or none for all."
        )
    return [e for e in EVENTS if e in asked]


def check_secret(secret: str | None) -> str:
    if secret is None or secret == "":
        return tokens.token_urlsafe(32)
    if not (MIN_SECRET <= len(secret) <= MAX_SECRET) or any(ord(c) < 32 for c in secret):
        raise InvalidInput(
            f"The webhook secret must be {MIN_SECRET} to {MAX_SECRET} printable characters (it signs every "
            "payload; a short one can be guessed). Leave it out and the server makes one."
        )
    return secret


class WebhookService:
    """The webhooks of one registry database, for the REST handlers."""

    def __init__(self, database: Database, permissions: ModelPermissions, box: SecretBox, dispatcher=None):
        self.db, self.permissions, self.box, self.dispatcher = database, permissions, box, dispatcher

    def create(
        self,
        actor: Actor,
        url: str,
        events: list[str] | None = None,
        secret: str | None = None,
        model: str | None = None,
        description: str = "",
    ) -> views.Webhook:
        """A new webhook of ``actor``'s, sent the entries from now on; the answer holds its secret."""
        url, events, secret = check_url(url), check_events(events), check_secret(secret)
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput(f"The description is {len(description)} characters; the limit is {MAX_DESCRIPTION}.")
        if model is not None:
            check_name(model)
            self._require_model(actor, model)

        def insert(session: Session) -> int:
            row = Webhook(
                url=url,
                events=events,
                model=model,
                owner=actor.name,
                owner_groups=sorted(actor.groups),
                secret=self.box.seal(secret),
                key_id=self.box.key_id,
                description=description,
                cursor=session.scalar(select(func.max(HistoryEntry.id))) or 0,
                holes=[],
            )
            session.add(row)
            session.flush()
            return row.id

        webhook_id = self.db.write(insert)
        created = self.get(actor, webhook_id)
        created.secret = secret
        return created

    def _require_model(self, actor: Actor, model: str) -> None:
        with self.db.read() as session:
            if session.scalar(select(Model.id).where(Model.name == model)) is None:
                raise NotFound(f"No model named {model!r} is registered; a webhook can only be limited to one that is.")
        self.permissions.require(actor, model, "read", "receive webhooks about it")

    def list(self, actor: Actor) -> views.WebhookList:
        """``actor``'s webhooks (an admin's: everyone's), oldest first."""
        with self.db.read() as session:
            stmt = select(Webhook).order_by(Webhook.id)
            if actor.name not in self.permissions.admins:
                stmt = stmt.where(Webhook.owner == actor.name)
            rows = session.scalars(stmt).all()
            return views.WebhookList(webhooks=[self._view(session, row) for row in rows])

    def get(self, actor: Actor, webhook_id: int) -> views.Webhook:
        with self.db.read() as session:
            return self._view(session, self._own(session, actor, webhook_id))

    def delete(self, actor: Actor, webhook_id: int) -> views.Webhook:
        """Remove the webhook and its delivery log; deliveries not made are dropped."""

        def remove(session: Session) -> views.Webhook:
            row = self._own(session, actor, webhook_id)
            view = self._view(session, row)
            session.delete(row)
            return view

        return self.db.write(remove)

    def add_test(self, actor: Actor, webhook_id: int) -> int:
        """Queue a test call (event ``webhook.test``, one attempt, no retry); returns its delivery id."""

        def insert(session: Session) -> int:
            row = self._own(session, actor, webhook_id)
            now = utcnow()
            payload = {
                "id": None,
                "event": TEST_EVENT,
                "at": iso(now),
                "user": actor.name,
                "subject": f"webhook {row.id}",
                "model": row.model,
                "version": None,
                "endpoint": None,
                "old": None,
                "new": None,
            }
            delivery = WebhookDelivery(webhook_id=row.id, event=TEST_EVENT, payload=payload, next_time=now)
            session.add(delivery)
            session.flush()
            return delivery.id

        return self.db.write(insert)

    def delivery(self, actor: Actor, webhook_id: int, delivery_id: int) -> views.Delivery:
        with self.db.read() as session:
            self._own(session, actor, webhook_id)
            row = session.get(WebhookDelivery, delivery_id)
            if row is None or row.webhook_id != webhook_id:
                raise NotFound(f"Webhook {webhook_id} has no delivery {delivery_id}.")
            return delivery_view(row)

    def deliveries(
        self, actor: Actor, webhook_id: int, status: str | None = None, limit: int = 50
    ) -> views.DeliveryList:
        """The webhook's deliveries, newest first; ``status`` keeps one state."""
        if status is not None and status not in ("pending", "sending", "delivered", "failed"):
            raise InvalidInput(f"Invalid status {status[:40]!r}: give pending, sending, delivered or failed.")
        with self.db.read() as session:
            self._own(session, actor, webhook_id)
            stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
            if status is not None:
                stmt = stmt.where(WebhookDelivery.status == status)
            rows = session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)).all()
            return views.DeliveryList(webhook=webhook_id, deliveries=[delivery_view(r) for r in rows])

    # -- helpers ---------------------------------------------------------------------------

    def _own(self, session: Session, actor: Actor, webhook_id: int) -> Webhook:
        """The webhook, if it is ``actor``'s (or ``actor`` is an admin); others' are not found."""
        row = session.get(Webhook, webhook_id)
        if row is None or (row.owner != actor.name and actor.name not in self.permissions.admins):
            raise NotFound(f"You have no webhook {webhook_id}; %webhook list shows yours.")
        return row

    @staticmethod
    def _view(session: Session, row: Webhook) -> views.Webhook:
        pending, failed, last = session.execute(
            select(
                func.sum(case((WebhookDelivery.status.in_(("pending", "sending")), 1), else_=0)),
                func.sum(case((WebhookDelivery.status == "failed", 1), else_=0)),
                func.max(WebhookDelivery.delivered_time),
            ).where(WebhookDelivery.webhook_id == row.id)
        ).one()
        return views.Webhook(
            id=row.id,
            url=row.url,
            events=list(row.events),
            model=row.model,
            owner=row.owner,
            description=row.description,
            created_time=iso(row.created_time),
            pending=pending or 0,
            failed=failed or 0,
            last_delivery=iso(last),
        )


def delivery_view(row: WebhookDelivery) -> views.Delivery:
    return views.Delivery(
        id=row.id,
        entry_id=row.entry_id,
        event=row.event,
        status=row.status,
        attempts=row.attempts,
        last_status=row.last_status,
        last_error=row.last_error,
        created_time=iso(row.created_time),
        last_time=iso(row.last_time),
        next_time=iso(row.next_time) if row.status == "pending" else None,
        delivered_time=iso(row.delivered_time),
        payload=row.payload,
    )
