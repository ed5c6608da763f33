"""The delivery worker: reads the history as an outbox and sends each webhook what it asked for.

One thread per server, started with the server and stopped with it, does two things each round
(every ``poll_interval`` seconds, or at once when this process commits a history entry):

1. **Read**: for each webhook (whose secret this server's key opens), the history entries after
   its ``cursor`` become deliveries (rows of ``webhook_deliveries``) when the action is one it
   asked for, the model is its model (if it has one), and its owner may read the model now. The
   cursor moves in the same transaction as the rows are added, so a restart neither loses nor
   repeats an entry; (webhook, entry) is unique, so two servers sharing a key make one delivery.
   On PostgreSQL an id can commit after a greater one: ids skipped over are kept as ``holes``
   and looked for again for ``HOLE_SECONDS``.
2. **Send**: due deliveries are claimed (a conditional UPDATE with a lease, so one server sends
   each) and POSTed by a pool of ``concurrency`` threads, at most one at a time per webhook.
   Each attempt has a ``timeout``; a failure is retried after ``backoff`` seconds, doubling up
   to ``backoff_max``, for ``max_attempts`` attempts, then the delivery is ``failed``. A lease
   that ends unanswered (the server stopped mid-send) makes the delivery due again: delivery is
   at least once, and ``X-Modelhub-Delivery`` (the same on every attempt) lets receivers dedupe.

Nothing here runs on a request's path: a slow or dead receiver holds one of these threads, never
the API. The payload is stored with the delivery when it is made, so every attempt sends the
same bytes with the same signature.

Not here: the webhooks themselves (``service``), sealing and signing (``secrets``).
"""

from __future__ import annotations

import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import orjson
import requests
from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.orm import Session
from traitlets import Float, Integer
from traitlets.config import LoggingConfigurable

from .. import __version__
from ..errors import Unavailable
from ..registry.permissions import RANK, Actor, ModelPermissions
from ..store.database import Database
from ..store.orm import Deployment, Endpoint, HistoryEntry, Model, ModelVersion, Webhook, WebhookDelivery, utcnow
from ..timestamps import iso
from .secrets import SecretBox, sign

HOLE_SECONDS = 600  # how long an id skipped over is looked for again (a transaction that long is stuck)
MAX_HOLES = 1000
LEASE_MARGIN = 30.0  # seconds beyond the timeout before another server may take a delivery over
ERROR_BYTES = 512  # of a refusing receiver's answer, kept in the delivery log


class WebhookDispatcher(LoggingConfigurable):
    """Reads new history entries into deliveries and sends them (configure as ``c.WebhookDispatcher``)."""

    poll_interval = Float(1.0, config=True, help="Seconds between looks at the history for new entries.")
    timeout = Float(10.0, config=True, help="Seconds one attempt may take (connect and answer) before it fails.")
    max_attempts = Integer(8, config=True, help="Attempts per delivery before it is marked failed.")
    backoff = Float(5.0, config=True, help="Seconds before the first retry; each further retry waits twice as long.")
    backoff_max = Float(3600.0, config=True, help="The longest wait between two attempts, in seconds.")
    concurrency = Integer(4, config=True, help="Deliveries sent at the same time (one per webhook at most).")
    batch_size = Integer(200, config=True, help="History entries read per webhook and round.")
    keep_deliveries = Integer(1000, config=True, help="Finished deliveries kept in each webhook's log.")

    def __init__(self, database: Database, permissions: ModelPermissions, box: SecretBox, **kwargs):
        super().__init__(**kwargs)
        self.db, self.permissions, self.box = database, permissions, box
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._busy: set[int] = set()  # webhooks with a delivery being sent from here
        self._lock = threading.Lock()
        self._http = requests.Session()
        self._http.headers["User-Agent"] = f"jupyter_modelhub/{__version__} webhooks"

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="modelhub-webhook")
        _listen()
        _RUNNING.add(self)
        self._thread = threading.Thread(target=self._loop, name="modelhub-webhooks", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 5.0) -> None:
        """Stop reading and claiming; a send under way is abandoned (its lease makes it due again
        after a restart)."""
        if self._thread is None:
            return
        self._stopping.set()
        self._wake.set()
        self._thread.join(wait)
        self._thread = None
        _RUNNING.discard(self)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception as exc:  # the database away, say: the next round tries again
                self.log.warning(
                    "Model Hub webhooks: a round failed: %s", exc, exc_info=not isinstance(exc, Unavailable)
                )
            self._wake.wait(self.poll_interval)

    def run_once(self) -> None:
        """One round: new entries into deliveries, then the due deliveries sent."""
        self.read_history()
        self.send_due()

    # -- reading the history ---------------------------------------------------------------

    def read_history(self) -> int:
        """Make the deliveries of the entries recorded since the last round; returns how many."""
        with self.db.read() as session:
            ids = session.scalars(select(Webhook.id).where(Webhook.key_id == self.box.key_id)).all()
        return sum(self.db.write(lambda session, i=i: self._read_for(session, i)) for i in ids)

    def _read_for(self, session: Session, webhook_id: int) -> int:
        webhook = session.get(Webhook, webhook_id, with_for_update=True)  # servers sharing a key take turns
        if webhook is None:
            return 0
        now = time.time()
        holes = {int(i): float(t) for i, t in webhook.holes if now - float(t) < HOLE_SECONDS}
        after = HistoryEntry.id > webhook.cursor
        stmt = select(HistoryEntry).where(or_(after, HistoryEntry.id.in_(list(holes))) if holes else after)
        entries = session.scalars(stmt.order_by(HistoryEntry.id).limit(self.batch_size)).all()
        made = 0
        expected = webhook.cursor + 1
        for entry in entries:
            holes.pop(entry.id, None)
            if entry.id > webhook.cursor:
                for missing in range(expected, min(entry.id, expected + MAX_HOLES)):
                    holes[missing] = now
                expected = entry.id + 1
                webhook.cursor = entry.id
            if self._wanted(session, webhook, entry):
                delivery = WebhookDelivery(webhook_id=webhook.id, entry_id=entry.id, event=entry.action)
                session.add(delivery)
                delivery.payload = payload(entry)
                made += 1
        webhook.holes = [[i, t] for i, t in sorted(holes.items())[-MAX_HOLES:]]
        self._trim_log(session, webhook.id)
        return made

    def _wanted(self, session: Session, webhook: Webhook, entry: HistoryEntry) -> bool:
        """The webhook asked for this action, about its model, and its owner may read it."""
        if entry.action not in webhook.events:
            return False
        if webhook.model is not None and entry.model != webhook.model:
            return False
        owner = Actor(webhook.owner, frozenset(webhook.owner_groups or ()))
        models: list[Model | None]
        if entry.model is not None:
            models = [session.scalar(select(Model).where(Model.name == entry.model))]
        elif entry.endpoint is not None:  # traffic, keys: the models the endpoint serves now
            models = list(
                session.scalars(
                    select(Model)
                    .join(ModelVersion, ModelVersion.model_id == Model.id)
                    .join(Deployment, Deployment.version_id == ModelVersion.id)
                    .join(Endpoint, Endpoint.id == Deployment.endpoint_id)
                    .where(Endpoint.name == entry.endpoint)
                    .distinct()
                )
            ) or [None]
        else:
            models = [None]
        # a model that is gone (or an endpoint serving none) is as the server's default permission says
        return all(RANK[self.permissions.level(session, owner, m)] >= RANK["read"] for m in models)

    def _trim_log(self, session: Session, webhook_id: int) -> None:
        """Keep the newest ``keep_deliveries`` finished deliveries of a webhook."""
        finished = WebhookDelivery.status.in_(("delivered", "failed"))
        oldest_kept = session.scalar(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.webhook_id == webhook_id, finished)
            .order_by(WebhookDelivery.id.desc())
            .offset(self.keep_deliveries)
            .limit(1)
        )
        if oldest_kept is not None:
            session.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.webhook_id == webhook_id, finished, WebhookDelivery.id <= oldest_kept
                )
            )

    # -- sending ---------------------------------------------------------------------------

    def send_due(self) -> list[Future]:
        """Claim the deliveries that are due (one per webhook not already sending from here) and
        send them on the pool."""
        with self._lock:
            free = self.concurrency - len(self._busy)
            busy = set(self._busy)
        if free <= 0 or self._pool is None:
            return []
        now = utcnow()
        with self.db.read() as session:
            due = session.execute(
                select(WebhookDelivery.id, WebhookDelivery.webhook_id)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(
                    Webhook.key_id == self.box.key_id,
                    WebhookDelivery.status.in_(("pending", "sending")),
                    WebhookDelivery.next_time <= now,
                    or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
                )
                .order_by(WebhookDelivery.id)
                .limit(free * 8 + len(busy))
            ).all()
        chosen: dict[int, int] = {}
        for delivery_id, webhook_id in due:
            if webhook_id not in busy and webhook_id not in chosen and len(chosen) < free:
                chosen[webhook_id] = delivery_id
        return [f for f in (self.send(delivery_id) for delivery_id in chosen.values()) if f is not None]

    def send(self, delivery_id: int) -> Future | None:
        """Claim one delivery and send it on the pool; None if another sender has it, or this
        dispatcher is not running."""
        if self._pool is None or self._stopping.is_set():
            return None
        claimed = self.db.write(lambda session: self._claim(session, delivery_id))
        if claimed is None:
            return None
        with self._lock:
            self._busy.add(claimed["webhook_id"])
        try:
            return self._pool.submit(self._attempt, claimed)
        except RuntimeError:  # stopping: the lease makes it due again later
            with self._lock:
                self._busy.discard(claimed["webhook_id"])
            return None

    def _claim(self, session: Session, delivery_id: int) -> dict | None:
        now = utcnow()
        claimed = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status.in_(("pending", "sending")),
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            )
            .values(
                status="sending",
                attempts=WebhookDelivery.attempts + 1,
                lease_until=now + timedelta(seconds=self.timeout + LEASE_MARGIN),
                last_time=now,
            )
        ).rowcount
        if not claimed:
            return None
        row = session.get(WebhookDelivery, delivery_id)
        webhook = session.get(Webhook, row.webhook_id)
        return {
            "id": row.id,
            "webhook_id": row.webhook_id,
            "event": row.event,
            "payload": row.payload,
            "attempts": row.attempts,
            "test": row.entry_id is None,
            "url": webhook.url,
            "secret": webhook.secret,
        }

    def _attempt(self, delivery: dict) -> str:
        """POST the payload once and record the outcome; returns the delivery's new status."""
        try:
            status_code, error = self._post(delivery)
            return self.db.write(lambda session: self._record(session, delivery, status_code, error))
        except Exception as exc:
            self.log.warning("Model Hub webhooks: delivery %s could not be recorded: %s", delivery["id"], exc)
            return "sending"
        finally:
            with self._lock:
                self._busy.discard(delivery["webhook_id"])
            self._wake.set()  # the webhook's next delivery may go now

    def _post(self, delivery: dict) -> tuple[int | None, str]:
        secret = self.box.open(delivery["secret"])
        if secret is None:
            return None, "this server's webhook key cannot open the webhook's secret (was the key changed?)"
        body = orjson.dumps(delivery["payload"])
        headers = {
            "Content-Type": "application/json",
            "X-Modelhub-Event": delivery["event"],
            "X-Modelhub-Delivery": str(delivery["id"]),
            "X-Modelhub-Signature": sign(secret, body),
        }
        try:
            with self._http.post(
                delivery["url"],
                data=body,
                headers=headers,
                timeout=(min(5.0, self.timeout), self.timeout),
                allow_redirects=False,  # the signature is for this URL; a redirect could point anywhere
                stream=True,
            ) as response:
                if 200 <= response.status_code < 300:
                    return response.status_code, ""
                text = response.raw.read(ERROR_BYTES, decode_content=True).decode("utf-8", "replace").strip()
                where = f" (to {response.headers.get('Location', '?')[:200]}; webhooks do not follow redirects)"
                return response.status_code, (
                    f"answered {response.status_code} {response.reason or ''}".strip()
                    + (where if 300 <= response.status_code < 400 else "")
                    + (f": {text}" if text else "")
                )
        except requests.Timeout:
            return None, f"no answer within {self.timeout:g} s"
        except requests.ConnectionError as exc:
            return None, f"could not connect: {_reason(exc)}"
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {_reason(exc)}"

    def _record(self, session: Session, delivery: dict, status_code: int | None, error: str) -> str:
        row = session.get(WebhookDelivery, delivery["id"])
        if row is None:  # its webhook was deleted meanwhile
            return "deleted"
        now = utcnow()
        row.last_status, row.last_error, row.lease_until, row.last_time = status_code, error[:2000], None, now
        if not error:
            row.status, row.delivered_time = "delivered", now
        elif delivery["test"] or row.attempts >= self.max_attempts:
            row.status = "failed"
        else:
            row.status = "pending"
            row.next_time = now + timedelta(seconds=min(self.backoff * 2 ** (row.attempts - 1), self.backoff_max))
        if error:
            self.log.info("Model Hub webhooks: delivery %s to %s: %s", row.id, delivery["url"][:200], error[:200])
        return row.status


def payload(entry: HistoryEntry) -> dict:
    """What a receiver gets for one history entry."""
    return {
        "id": entry.id,
        "event": entry.action,
        "at": iso(entry.time),
        "user": entry.user,
        "client": entry.client,
        "subject": entry.subject,
        "model": entry.model,
        "version": entry.version,
        "endpoint": entry.endpoint,
        "old": entry.old,
        "new": entry.new,
    }


# The dispatchers running in this process: a commit that wrote a history entry wakes them.
_RUNNING: weakref.WeakSet[WebhookDispatcher] = weakref.WeakSet()


def _listen() -> None:
    if not event.contains(Session, "after_flush", _note_history):
        event.listen(Session, "after_flush", _note_history)
        event.listen(Session, "after_commit", _wake_all)


def _note_history(session: Session, _context) -> None:
    """Mark a session that wrote a history entry, so its commit wakes the dispatchers."""
    if _RUNNING and any(isinstance(obj, HistoryEntry) for obj in session.new):
        session.info["modelhub_history"] = True


def _wake_all(session: Session) -> None:
    if session.info.pop("modelhub_history", False):
        for dispatcher in list(_RUNNING):
            dispatcher.wake()


def _reason(exc: Exception) -> str:
    """The innermost reason of a requests error (Connection refused, Name or service not known)."""
    text = str(exc)
    for marker in ("] ", "): "):
        if marker in text:
            text = text.rsplit(marker, 1)[-1]
    return text.strip(" ')\"")[:300] or type(exc).__name__
