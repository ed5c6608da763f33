"""Schedules on real Jupyter servers, at real times: a batch endpoint scheduled every minute runs
a real batch job at its time, and again after the server restarts; a time the server was
stopped across is skipped and recorded (or run once, with run_once); two servers on one
PostgreSQL database run each time once.

The schedules use ``* * * * *`` and the servers look for due schedules every 0.5 s
(``c.Scheduler.check_interval``), so each test waits for at most a minute boundary or two: the
times are computed from the clock, never slept to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.postgres import fresh_postgres_database
from helpers.servers import ServerProcess, wait_until
from jupyter_modelhub.store.orm import utcnow

# each waits for one or two minute boundaries of the real clock: make test, not make test-fast
pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]

X, y = make_classification(100, 4, random_state=0)
CLF = LogisticRegression().fit(X, y)
FAST = ["--Scheduler.check_interval=0.5"]
EVERY_MINUTE = "* * * * *"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.rstrip("Z"))


def seconds_until(moment: datetime) -> float:
    return max(0.0, (moment - utcnow()).total_seconds())


def prepare(server: ServerProcess, data_folder=None) -> str:
    """Model lr:1, batch endpoint ``nightly`` scoring it, and a CSV of 100 rows; the CSV's folder."""
    hub = server.client()
    hub.register("lr", CLF, sample=X[:3])
    hub.save_batch_endpoint("nightly", "lr:1")
    folder = data_folder or server.folder / "notebooks" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(X, columns=[f"f{i}" for i in range(4)]).to_csv(folder / "a.csv", index=False)
    return str(folder)


def wait_for_run(server: ServerProcess, name: str, after: datetime, what: str) -> dict:
    """The schedule once a run due after ``after`` has started its job (or could not)."""
    hub = server.client()

    def ran():
        schedule = hub.schedule(name)
        started = schedule["last_operation"] or schedule["last_error"]
        return schedule if started and schedule["last_run_at"] and at(schedule["last_run_at"]) > after else None

    return wait_until(ran, seconds_until(after) + 60 + 30, what)


def test_a_schedule_fires_at_its_time_and_again_after_a_restart(tmp_path):
    server = ServerProcess(tmp_path, args=FAST)
    try:
        data = prepare(server)
        hub = server.client()
        before = utcnow()
        saved = hub.schedule_batch("nightly", "nightly", [data], EVERY_MINUTE)
        due = at(saved["next_run_at"])
        assert due.second == 0 and before < due <= before + timedelta(seconds=61)
        assert saved["target"]["kind"] == "batch" and saved["target"]["subject"] == "nightly"
        assert saved["model"] == "lr:1" and saved["runs"] == 0 and saved["enabled"]

        fired = wait_for_run(server, "nightly", before, "the first run")
        assert at(fired["last_run_at"]) == due and fired["runs"] == 1 and fired["missed"] == 0
        job = hub.job(fired["last_operation"])
        assert at(job["created_time"]) >= due, "it started at its time, not before"
        assert job["endpoint"] == "nightly" and job["created_by"] == saved["created_by"]
        job.wait(timeout=240)
        assert job["status"] == "succeeded", job.get("error")
        scored = pd.read_csv(job["output"])
        assert (scored["predictions"].to_numpy() == CLF.predict(X)).all()
        first = fired["last_operation"]
    finally:
        server.stop()
    stopped = utcnow()

    restarted = ServerProcess(tmp_path, args=FAST)  # the same folder: the same registry
    try:
        again = wait_for_run(restarted, "nightly", stopped, "a run after the restart")
        assert again["last_operation"] != first and again["runs"] >= 2 and again["missed"] == 0
        assert at(again["last_run_at"]).second == 0
        assert restarted.client().job(again["last_operation"])["endpoint"] == "nightly"
    finally:
        restarted.stop()


def test_a_time_the_server_was_stopped_across_is_skipped_and_recorded(tmp_path):
    server = ServerProcess(tmp_path, args=FAST)
    try:
        data = prepare(server)
        hub = server.client()
        due = at(hub.schedule_batch("skipping", "nightly", [data], EVERY_MINUTE)["next_run_at"])
        hub.schedule_batch("catching-up", "nightly", [data], EVERY_MINUTE, missed_policy="run_once")
    finally:
        server.stop()
    wait_until(lambda: utcnow() > due + timedelta(seconds=2), seconds_until(due) + 10, "the time to pass")

    # a time older than 1 s when a server first sees it is missed (60 s by default)
    restarted = ServerProcess(tmp_path, args=[*FAST, "--Scheduler.missed_after=1"])
    try:
        hub = restarted.client()
        skipped = wait_until(lambda: (s := hub.schedule("skipping"))["missed"] and s, 30, "the missed time")
        assert skipped["missed"] == 1 and at(skipped["last_missed_at"]) == due
        assert skipped["runs"] == 0 and skipped["last_operation"] is None
        assert at(skipped["next_run_at"]) > utcnow(), "the next time is computed from now"
        caught_up = wait_until(lambda: (s := hub.schedule("catching-up"))["last_operation"] and s, 30, "run_once")
        assert caught_up["missed"] == 1 and caught_up["runs"] == 1
        assert [j["id"] for j in hub.jobs()["jobs"]] == [caught_up["last_operation"]]

        entries = hub.history("lr", action="schedule.missed")["entries"]
        assert sorted(e["subject"] for e in entries) == ["schedule catching-up", "schedule skipping"]
        assert all(e["new"]["missed"] == 1 and at(e["new"]["first"]) == due for e in entries)
        shown = hub.schedules().text()
        assert "missed 1 (last" in shown and "no server was running" in shown
    finally:
        restarted.stop()


def test_two_servers_on_one_postgresql_database_run_each_time_once(tmp_path, postgres_server):
    shared = tmp_path / "shared"  # the registry's root and the users' folder, on storage both servers see
    (shared / "notebooks").mkdir(parents=True)
    (shared / "hub").mkdir()
    args = [*FAST, f"--ModelHubApp.db_url={fresh_postgres_database(postgres_server)}"]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "hub").symlink_to(shared / "hub")
        (tmp_path / name / "notebooks").symlink_to(shared / "notebooks")
    a = ServerProcess(tmp_path / "a", args=args)
    try:
        b = ServerProcess(tmp_path / "b", args=args)
        try:
            data = prepare(a, shared / "notebooks" / "data")
            before = utcnow()
            b.client().schedule_batch("nightly", "nightly", [data], EVERY_MINUTE)
            first = wait_for_run(a, "nightly", before, "the first time")
            second = wait_for_run(b, "nightly", at(first["last_run_at"]), "the second time")
            assert second["runs"] == 2 and second["missed"] == 0 and second["last_error"] is None
            jobs = a.client().jobs()["jobs"]
            assert sorted(j["id"] for j in jobs) == sorted({first["last_operation"], second["last_operation"]})
        finally:
            b.stop()
    finally:
        a.stop()
