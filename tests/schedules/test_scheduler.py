"""The scheduler on a real database (SQLite and PostgreSQL), driven by the time it is given: a
round at a schedule's time starts one operation; servers racing for one time start it once;
times no server saw are skipped and recorded (or run once, if the schedule says so); a paused
schedule neither runs nor counts misses; the times follow the zone across daylight saving.

The schedules here start ``convert`` operations through a target declared in the test, as a
service package declares its own (``contributions.ScheduleTarget``): the rows, the claim, the
history and the operation store are the product's. What a batch schedule starts is tested on a
real server in ``test_schedules``.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from jupyter_modelhub.errors import InvalidInput
from jupyter_modelhub.operations import cron
from jupyter_modelhub.operations.scheduler import Scheduler
from jupyter_modelhub.operations.schedules import ScheduleStore, Target
from jupyter_modelhub.operations.store import OperationStore
from jupyter_modelhub.registry import history
from jupyter_modelhub.store.database import Database
from jupyter_modelhub.store.orm import HistoryEntry, utcnow


def convert_target(operations: OperationStore) -> Target:
    def check(inputs: dict) -> dict:
        if not inputs.get("ref"):
            raise InvalidInput("A convert schedule names the version to convert: ref.")
        return {"inputs": inputs, "subject": inputs["ref"], "local": False}

    return Target(
        check=check,
        start=lambda inputs, user: operations.create("convert", inputs["ref"], inputs, user=user),
        guard=lambda inputs: ("model", inputs["ref"]),
        shown=lambda inputs: inputs,
    )


class Server:
    """What one Model Hub server holds of schedules: its database connection, store and scheduler."""

    def __init__(self, db_url: str, root, **traits):
        self.db = Database(db_url)
        self.operations = OperationStore(self.db, root)
        self.store = ScheduleStore(self.db, {"convert": convert_target(self.operations)}, record=history.record)
        self.scheduler = Scheduler(self.store, **traits)

    def converts(self) -> list[dict]:
        return self.operations.list(kind="convert")["operations"]


@pytest.fixture
def server(db_url, tmp_path):
    s = Server(db_url, tmp_path / "a")
    yield s
    s.db.dispose()


@pytest.fixture
def strict(db_url, tmp_path):
    """A server on which a time more than 10 s old is missed (every minute has a time less than
    60 s old, the default)."""
    s = Server(db_url, tmp_path / "a", missed_after=10)
    yield s
    s.db.dispose()


def save(server: Server, name="nightly", cron="* * * * *", **fields) -> dict:
    request = {"name": name, "cron": cron, "target": {"kind": "convert", "inputs": {"ref": "churn:1"}}, **fields}
    return server.store.create(request, user="ada").as_dict()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.rstrip("Z"))


def test_a_round_at_the_time_starts_one_operation_and_moves_to_the_next_time(server):
    before = utcnow()
    schedule = save(server)
    due = at(schedule["next_run_at"])
    assert due == (before + timedelta(minutes=1)).replace(second=0, microsecond=0)  # the next minute
    assert server.scheduler.fire_due(due - timedelta(seconds=1)) == []  # not yet
    fired = server.scheduler.fire_due(due + timedelta(seconds=2))
    assert [f["ran"] for f in fired] == [True]
    after = server.store.get("nightly").as_dict()
    (operation,) = server.converts()
    assert after["last_operation"] == operation["id"] and operation["created_by"] == "ada"
    assert at(after["last_run_at"]) == due and at(after["next_run_at"]) == due + timedelta(minutes=1)
    assert after["runs"] == 1 and after["missed"] == 0 and after["last_error"] is None
    assert server.scheduler.fire_due(due + timedelta(seconds=3)) == []  # that time is done


def test_two_servers_racing_for_one_time_start_it_once(db_url, tmp_path):
    a, b = Server(db_url, tmp_path / "a"), Server(db_url, tmp_path / "b")
    try:
        due = at(save(a)["next_run_at"])
        go = threading.Barrier(8)
        outcomes: list = []

        def race(server: Server) -> None:
            go.wait()
            outcomes.extend(server.scheduler.fire_due(due + timedelta(seconds=1)))

        threads = [threading.Thread(target=race, args=(s,)) for s in (a, b, a, b, a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(outcomes) == 1 and outcomes[0]["ran"]
        assert len(a.converts()) == 1 and a.store.get("nightly").runs == 1
    finally:
        a.db.dispose()
        b.db.dispose()


def test_times_no_server_saw_are_skipped_and_recorded_once(strict):
    server = strict
    due = at(save(server)["next_run_at"])
    now = due + timedelta(minutes=5, seconds=30)  # the server was down from before `due` until now
    fired = server.scheduler.fire_due(now)
    assert fired == [{"schedule": "nightly", "ran": False, "missed": 6, "operation": None}]
    after = server.store.get("nightly").as_dict()
    assert after["missed"] == 6 and at(after["last_missed_at"]) == due + timedelta(minutes=5)
    assert after["runs"] == 0 and after["last_operation"] is None and server.converts() == []
    assert at(after["next_run_at"]) == due + timedelta(minutes=6)  # from now on, not catching up
    with server.db.read() as session:
        (entry,) = session.query(HistoryEntry).filter_by(action="schedule.missed").all()
    assert entry.subject == "schedule nightly" and entry.model == "churn" and entry.client == "server"
    assert entry.new["missed"] == 6 and at(entry.new["first"]) == due and not entry.new["run_once"]
    assert server.scheduler.fire_due(now + timedelta(seconds=1)) == []  # recorded once


def test_a_late_time_still_within_missed_after_runs(server):
    due = at(save(server)["next_run_at"])
    fired = server.scheduler.fire_due(due + timedelta(seconds=59))
    assert fired[0]["ran"] and fired[0]["missed"] == 0


def test_the_newest_time_runs_when_only_older_ones_were_missed(server):
    due = at(save(server)["next_run_at"])
    fired = server.scheduler.fire_due(due + timedelta(minutes=2, seconds=10))  # due and due+1 missed
    assert fired[0] == {"schedule": "nightly", "ran": True, "missed": 2, "operation": server.converts()[0]["id"]}
    assert at(server.store.get("nightly").last_run_at) == due + timedelta(minutes=2)


def test_run_once_runs_one_of_the_missed_times(strict):
    server = strict
    due = at(save(server, missed_policy="run_once")["next_run_at"])
    fired = server.scheduler.fire_due(due + timedelta(hours=1, seconds=30))
    assert fired[0]["ran"] and fired[0]["missed"] == 61 and len(server.converts()) == 1


def test_a_paused_schedule_neither_runs_nor_misses_and_resumes_from_now(server):
    due = at(save(server)["next_run_at"])
    paused = server.store.update("nightly", {"enabled": False}, user="ada").as_dict()
    assert paused["next_run_at"] is None and not paused["enabled"]
    assert server.scheduler.fire_due(due + timedelta(hours=1)) == []
    resumed = server.store.update("nightly", {"enabled": True}, user="ada").as_dict()
    assert resumed["missed"] == 0 and at(resumed["next_run_at"]) > utcnow()


def test_a_start_that_fails_is_recorded_and_the_schedule_goes_on(server):
    due = at(save(server)["next_run_at"])

    def refuse(inputs, user):
        raise InvalidInput("Model 'churn' has no version 1.")

    server.store.targets["convert"] = Target(**{**server.store.targets["convert"].__dict__, "start": refuse})
    fired = server.scheduler.fire_due(due + timedelta(seconds=1))
    assert fired[0]["ran"] and fired[0]["operation"] is None
    after = server.store.get("nightly").as_dict()
    assert after["last_error"]["message"] == "Model 'churn' has no version 1." and at(after["last_error"]["at"]) == due
    assert at(after["next_run_at"]) == due + timedelta(minutes=1)
    with server.db.read() as session:
        assert session.query(HistoryEntry).filter_by(action="schedule.failed").count() == 1


def test_times_are_read_in_the_zone_across_daylight_saving(server):
    schedule = save(server, name="paris", cron="30 2 * * *", timezone="Europe/Paris")
    assert schedule["timezone"] == "Europe/Paris" and schedule["description"] == "At 02:30 every day"
    # 2027-03-28: Paris skips 02:00-03:00; the 02:30 run is at 03:00 local (01:00 UTC), once
    assert cron.next_time("30 2 * * *", "Europe/Paris", datetime(2027, 3, 27, 12, 0)) == datetime(2027, 3, 28, 1, 0)
    assert cron.next_time("30 2 * * *", "Europe/Paris", datetime(2027, 3, 28, 1, 0)) == datetime(2027, 3, 29, 0, 30)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cron": "61 * * * *"}, "Invalid cron expression '61 * * * *': bad minute"),
        ({"cron": "0 2 * *"}, "it has 4 fields, a cron expression has five"),
        ({"cron": "0 0 30 2 *"}, "Invalid cron expression '0 0 30 2 *': bad day-of-month"),
        ({"timezone": "Europe/Pariss"}, "Unknown time zone 'Europe/Pariss'"),
        ({"missed_policy": "catch_up"}, "Invalid missed_policy 'catch_up'"),
        ({"name": "../x"}, "Invalid schedule name '../x'"),
    ],
)
def test_what_cannot_be_a_schedule_is_refused_saying_why(server, fields, message):
    with pytest.raises(InvalidInput, match=message.replace("*", r"\*").replace("(", r"\(")):
        save(server, **fields)
    assert server.store.list().schedules == []
