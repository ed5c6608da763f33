"""Schedules as a resource: a cron expression in a time zone that starts an operation at its times.

A schedule is a row (``store.orm.Schedule``): a name, the cron expression and its zone, what it
starts (an operation kind and the inputs saved with it: a batch endpoint's job now, a saved
monitor later), when it fires next, what its last run started or why it could not, and how
many times it was missed. The kinds a schedule may start are declared by the service packages
(``contributions.ScheduleTarget``) and handed in bound by the composition root, so this module
imports no service.

Every change is one transaction with its history entry (``schedule.created``, ``.changed``,
``.deleted``, and the scheduler's ``.missed`` and ``.failed``) and an event for the feed. A
due time is claimed with one conditional UPDATE (``claim``): of the servers that share the
database, the one whose UPDATE changed the row runs it, the others see no row changed.

Not here: the loop that fires due schedules (``scheduler``), the cron arithmetic (``cron``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..errors import Conflict, InvalidInput, NotFound
from ..refs import NAME_RE
from ..store.database import Database
from ..store.orm import Event, utcnow
from ..store.orm import Schedule as Row
from ..timestamps import iso
from ..views import Deleted
from . import cron, views

MISSED_POLICIES = ("skip", "run_once")
CHANGEABLE = ("cron", "timezone", "enabled", "missed_policy", "target")
# (session, action, subject, model=..., old=..., new=..., user=...): the registry's history.record
Record = Callable[..., None]


@dataclass(frozen=True)
class Target:
    """A ``contributions.ScheduleTarget`` with the services bound (the composition root binds it)."""

    check: Callable[[dict], dict]
    start: Callable[[dict, str], dict]
    guard: Callable[[dict], "tuple[str, str] | None"]
    shown: Callable[[dict], dict]


class ScheduleStore:
    """The ``schedules`` table: saving, changing, describing, and claiming due times."""

    def __init__(self, database: Database, targets: dict[str, Target], record: Record | None = None):
        self.db = database
        self.targets = dict(targets)
        self._record = record
        self.host = socket.gethostname()[:255]  # local files are seen by the servers of this machine

    # -- saving and changing ---------------------------------------------------------------

    def create(self, request: dict, user: str = "") -> views.Schedule:
        """A new schedule, checked whole (name, cron, zone, what it starts) before it is saved."""
        name = check_name(request.get("name"))
        expression = cron.check_cron(request.get("cron"))
        zone = cron.check_zone(request.get("timezone") or "UTC")
        policy = check_policy(request.get("missed_policy") or "skip")
        kind, checked = self._checked_target(request.get("target"))
        model = self._model_of(kind, checked["inputs"])
        enabled = bool(request.get("enabled", True))

        def write(session: Session) -> int:
            if session.scalar(select(Row.id).where(Row.name == name)) is not None:
                raise Conflict(
                    f"Schedule {name} exists; change it (PATCH schedules/{name}, %schedule {name} ...) "
                    "or choose another name."
                )
            row = Row(
                name=name,
                cron=expression,
                timezone=zone,
                kind=kind,
                inputs=checked["inputs"],
                subject=str(checked["subject"])[:256],
                model=model,
                host=self.host if checked.get("local") else None,
                enabled=enabled,
                missed_policy=policy,
                next_run_at=cron.next_time(expression, zone, utcnow()) if enabled else None,
                created_by=user,
            )
            session.add(row)
            session.flush()
            self._changed(session, row, "schedule.created", None, self._summary(row), user)
            return row.id

        return self.get(str(self.db.write(write)))

    def update(self, key: str, changes: dict, user: str = "") -> views.Schedule:
        """Change the cron, zone, target, missed policy, or pause (enabled false) and resume.

        The next time is computed again from now when the times change or it resumes: a paused
        schedule's times while paused are neither run nor counted as missed."""
        unknown = sorted(set(changes) - set(CHANGEABLE))
        if unknown:
            raise InvalidInput(f"A schedule's {unknown[0]!r} cannot be changed; these can: {', '.join(CHANGEABLE)}.")
        values: dict = {}
        if changes.get("cron") is not None:
            values["cron"] = cron.check_cron(changes["cron"])
        if changes.get("timezone") is not None:
            values["timezone"] = cron.check_zone(changes["timezone"])
        if changes.get("missed_policy") is not None:
            values["missed_policy"] = check_policy(changes["missed_policy"])
        if changes.get("enabled") is not None:
            values["enabled"] = bool(changes["enabled"])
        if changes.get("target") is not None:
            kind, checked = self._checked_target(changes["target"])
            values.update(
                kind=kind,
                inputs=checked["inputs"],
                subject=str(checked["subject"])[:256],
                model=self._model_of(kind, checked["inputs"]),
                host=self.host if checked.get("local") else None,
            )

        def write(session: Session) -> int:
            row = self._row(session, key, lock=True)
            old = self._summary(row)
            retimed = any(k in values for k in ("cron", "timezone")) or (values.get("enabled") and not row.enabled)
            for name, value in values.items():
                setattr(row, name, value)
            if not row.enabled:
                row.next_run_at = None
            elif retimed or row.next_run_at is None:
                row.next_run_at = cron.next_time(row.cron, row.timezone, utcnow())
            row.updated_time = utcnow()
            new = self._summary(row)
            if new != old:
                self._changed(session, row, "schedule.changed", old, new, user)
            return row.id

        return self.get(str(self.db.write(write)))

    def delete(self, key: str, user: str = "") -> Deleted:
        """Remove the schedule; the operations it started stay (they are resources of their own)."""

        def write(session: Session) -> str:
            row = self._row(session, key, lock=True)
            self._changed(session, row, "schedule.deleted", self._summary(row), None, user)
            session.delete(row)
            return row.name

        return Deleted(deleted=[f"schedule {self.db.write(write)}"])

    def _checked_target(self, target) -> tuple[str, dict]:
        if not isinstance(target, dict) or not isinstance(target.get("inputs", {}), dict):
            raise InvalidInput('A schedule\'s target is {"kind": ..., "inputs": {...}}: what it starts, and with what.')
        kind = target.get("kind")
        if kind not in self.targets:
            raise InvalidInput(
                f"Schedules cannot start operations of kind {str(kind)[:32]!r}; they can start: "
                f"{', '.join(sorted(self.targets)) or 'nothing on this server'}."
            )
        return kind, self.targets[kind].check(dict(target.get("inputs") or {}))

    def _model_of(self, kind: str, inputs: dict) -> str | None:
        guard = self.targets[kind].guard(inputs)
        return guard[1][:256] if guard and guard[0] == "model" else None

    # -- reading ---------------------------------------------------------------------------

    def get(self, key: str) -> views.Schedule:
        with self.db.read() as session:
            return self._describe(self._row(session, key))

    def list(self) -> views.ScheduleList:
        with self.db.read() as session:
            rows = session.scalars(select(Row).order_by(Row.name))
            return views.ScheduleList(schedules=[self._describe(row) for row in rows])

    def guard(self, key: str | None = None, target: dict | None = None) -> tuple[str, str] | None:
        """Whose permission changing a schedule needs (``ScheduleTarget.guard``): of the saved
        schedule ``key``, or of a ``target`` about to be saved. An unknown kind needs none here:
        saving it is refused with the kinds there are."""
        saved = None
        if key is not None:
            with self.db.read() as session:
                row = self._row(session, key)
                kind, inputs, saved = row.kind, row.inputs, row.model
        else:
            kind, inputs = (target or {}).get("kind"), (target or {}).get("inputs")
        if kind not in self.targets or not isinstance(inputs, dict):
            return ("model", saved) if saved else None
        try:
            return self.targets[kind].guard(inputs)
        except NotFound:  # e.g. its batch endpoint was deleted: the model it had when saved
            if saved is None:
                raise
            return "model", saved

    # -- firing (the scheduler's) ----------------------------------------------------------

    def due(self, now: datetime) -> list[Row]:
        """Enabled schedules whose next time has come, that a server on this machine may fire."""
        with self.db.read() as session:
            return list(
                session.scalars(
                    select(Row)
                    .where(
                        Row.enabled.is_(True),
                        Row.next_run_at <= now,
                        or_(Row.host.is_(None), Row.host == self.host),
                    )
                    .order_by(Row.next_run_at)
                )
            )

    def claim(self, row: Row, values: dict, missed: dict | None = None) -> bool:
        """Move ``row`` past its due time, if no one did since it was read: True if this call did.

        One UPDATE ... WHERE next_run_at = the time read: of servers racing for one due time, the
        database lets exactly one change the row (the others' rowcount is 0), on SQLite and on
        PostgreSQL alike. A missed run's record commits with the claim, so it is written once."""

        def write(session: Session) -> bool:
            changed = session.execute(
                update(Row)
                .where(Row.id == row.id, Row.enabled.is_(True), Row.next_run_at == row.next_run_at)
                .values(**values)
            ).rowcount
            if changed and missed:
                self._history(session, "schedule.missed", row, None, missed, "")
            return bool(changed)

        return self.db.write(write)

    def ran(self, row: Row, due: datetime, operation: dict | None, error: dict | None) -> None:
        """What the run of ``due`` started (the operation), or why it could not (recorded too)."""

        def write(session: Session) -> None:
            values = {"last_operation": operation["id"], "last_error": None} if operation else {"last_error": error}
            session.execute(update(Row).where(Row.id == row.id).values(**values))
            if error:
                self._history(session, "schedule.failed", row, None, {**error, "due": iso(due)}, row.created_by)
            session.add(Event(kind="schedule", model=row.name, version=None, user=row.created_by))

        self.db.write(write)

    def start(self, row: Row) -> dict:
        """Start what schedule ``row`` starts now (as saved now: it may have changed since it was
        read), as its creator; the operation's JSON."""
        with self.db.read() as session:
            current = session.get(Row, row.id)
            if current is None:
                raise NotFound(f"Schedule {row.name} was deleted before its run started.")
            kind, inputs, user = current.kind, dict(current.inputs), current.created_by
        target = self.targets.get(kind)
        if target is None:
            raise InvalidInput(f"This server cannot start operations of kind {kind!r}; a newer one may.")
        return target.start(inputs, user)

    # -- describing ------------------------------------------------------------------------

    def _row(self, session: Session, key: str, lock: bool = False) -> Row:
        """The schedule named ``key``, or numbered ``key`` when no schedule has that name."""
        stmt = select(Row).where(Row.name == key)
        if lock:
            stmt = stmt.with_for_update()
        row = session.scalars(stmt).first()
        if row is None and key.isascii() and key.isdigit() and len(key) <= 10:
            row = session.get(Row, int(key), with_for_update=lock)
        if row is None:
            raise NotFound(f"No schedule {key}; %schedules lists them.")
        return row

    def _describe(self, row: Row) -> views.Schedule:
        target = self.targets.get(row.kind)
        shown = target.shown(dict(row.inputs)) if target else dict(row.inputs)
        return views.Schedule(
            id=row.id,
            name=row.name,
            cron=row.cron,
            timezone=row.timezone,
            description=cron.explain(row.cron),
            target=views.ScheduleTarget(kind=row.kind, inputs=shown, subject=row.subject),
            model=row.model,
            enabled=row.enabled,
            missed_policy=row.missed_policy,
            next_run_at=iso(row.next_run_at),
            last_run_at=iso(row.last_run_at),
            last_operation=row.last_operation,
            last_error=row.last_error,
            runs=row.runs,
            missed=row.missed,
            last_missed_at=iso(row.last_missed_at),
            host=row.host,
            created_time=iso(row.created_time),
            created_by=row.created_by,
            updated_time=iso(row.updated_time),
        )

    def _summary(self, row: Row) -> dict:
        """What the history keeps of a schedule (its inputs as a listing shows them)."""
        target = self.targets.get(row.kind)
        return {
            "cron": row.cron,
            "timezone": row.timezone,
            "enabled": row.enabled,
            "missed_policy": row.missed_policy,
            "target": {"kind": row.kind, "inputs": target.shown(dict(row.inputs)) if target else {}},
        }

    def _changed(self, session: Session, row: Row, action: str, old, new, user: str) -> None:
        self._history(session, action, row, old, new, user)
        session.add(Event(kind="schedule", model=row.name, version=None, user=user))

    def _history(self, session: Session, action: str, row: Row, old, new, user: str) -> None:
        if self._record is not None:
            model = (row.model or "").split("@")[0].split(":")[0] or None
            self._record(session, action, f"schedule {row.name}", model=model, old=old, new=new, user=user)


def check_name(name) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"Invalid schedule name {str(name)[:130]!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_policy(policy) -> str:
    if policy not in MISSED_POLICIES:
        raise InvalidInput(
            f"Invalid missed_policy {str(policy)[:32]!r}: skip (times no server ran are recorded as missed) or "
            "run_once (recorded, and run once when a server is back)."
        )
    return policy
