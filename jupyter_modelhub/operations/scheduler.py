"""The scheduler: each round, fire the schedules whose time has come, once across servers.

The server calls ``fire_due`` every ``check_interval`` seconds on its pool (``app``), and once at
start. For each due schedule it works out, from the times between the due one and now:

- on time (due at most ``missed_after`` seconds ago): the run starts now;
- missed (due longer ago: no server was running, or none could reach the database): those times
  are skipped, counted in the schedule's ``missed`` and ``last_missed_at``, and recorded in the
  history as one ``schedule.missed`` entry (how many, the first and last, and the next time).
  With ``missed_policy`` ``run_once`` one run also starts now, however many were missed.

Either way the next time is the schedule's first time after now, and it is claimed with one
conditional UPDATE (``ScheduleStore.claim``): only the server whose UPDATE changed the row starts
the run or writes the record, so a time runs once with any number of servers on one database.
A server that stops between its claim and the start of the operation loses that run (at most
once, never twice); a run that cannot start (the files are gone, the model was deleted) is
recorded with the reason (``last_error``, ``schedule.failed``) and the schedule goes on.

All state is in the database, so schedules go on after a restart and on any server that shares
it. Not here: the rows (``schedules``), the cron arithmetic (``cron``).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from traitlets import Float
from traitlets.config import LoggingConfigurable

from ..errors import ModelHubError
from ..store.orm import utcnow
from ..timestamps import iso
from . import cron
from .schedules import ScheduleStore


class Scheduler(LoggingConfigurable):
    """Fires due schedules; ``c.Scheduler.check_interval`` and ``missed_after`` tune it."""

    check_interval = Float(
        5.0,
        config=True,
        help="Seconds between looks for due schedules: a run starts at most this long after its time.",
    )
    missed_after = Float(
        60.0,
        config=True,
        help="Seconds after its time a run still starts; a time older than this when a server first sees it "
        "(none was running, or the database was away) is missed: skipped and recorded.",
    )

    def __init__(self, store: ScheduleStore, **kwargs):
        super().__init__(**kwargs)
        self.store = store
        self._round = threading.Lock()  # one round at a time on this server

    def fire_due(self, now: datetime | None = None) -> list[dict]:
        """One round: what each due schedule did (``{"schedule", "ran", "missed", "operation"}``).
        A round still running when the next is called makes that one return at once."""
        if not self._round.acquire(blocking=False):
            return []
        try:
            now = now or utcnow()
            return [outcome for row in self.store.due(now) if (outcome := self._fire(row, now))]
        finally:
            self._round.release()

    def _fire(self, row, now: datetime) -> dict | None:
        due = row.next_run_at
        cutoff = now - timedelta(seconds=self.missed_after)
        missed, last_missed = cron.times_until(row.cron, row.timezone, due, cutoff)
        first_unmissed = cron.next_time(row.cron, row.timezone, last_missed) if missed else due
        run_at = first_unmissed if cutoff < first_unmissed <= now else None
        if run_at is None and missed and row.missed_policy == "run_once":
            run_at = last_missed
        next_at = cron.next_time(row.cron, row.timezone, now)
        values: dict = {"next_run_at": next_at}
        record = None
        if missed:
            values.update(missed=type(row).missed + missed, last_missed_at=last_missed)
            record = {
                "missed": missed,
                "first": iso(due),
                "last": iso(last_missed),
                "next_run_at": iso(next_at),
                "run_once": row.missed_policy == "run_once",
            }
        if run_at is not None:  # what it starts is recorded once started (``ran``)
            values.update(last_run_at=run_at, runs=type(row).runs + 1, last_operation=None, last_error=None)
        if not self.store.claim(row, values, record):
            return None  # another server took this time
        if missed:
            self.log.warning(
                "Model Hub: schedule %s missed %d run(s) from %s to %s (no server ran then); next at %s",
                row.name,
                missed,
                iso(due),
                iso(last_missed),
                iso(next_at),
            )
        operation = self._start(row, run_at) if run_at is not None else None
        return {"schedule": row.name, "ran": run_at is not None, "missed": missed, "operation": operation}

    def _start(self, row, due: datetime) -> int | None:
        """Start the run of ``due``; its operation's id, or None (the reason is recorded)."""
        try:
            operation = self.store.start(row)
        except ModelHubError as exc:
            error = {"message": exc.message, "reason": exc.reason, "at": iso(due)}
        except Exception:
            self.log.exception("Model Hub: schedule %s could not start its run of %s", row.name, iso(due))
            error = {"message": "Internal error; the server log has the details.", "reason": "internal", "at": iso(due)}
        else:
            self.log.info("Model Hub: schedule %s started operation %s (due %s)", row.name, operation["id"], iso(due))
            self.store.ran(row, due, operation, None)
            return operation["id"]
        self.log.warning(
            "Model Hub: schedule %s could not start its run of %s: %s", row.name, iso(due), error["message"]
        )
        self.store.ran(row, due, None, error)
        return None
