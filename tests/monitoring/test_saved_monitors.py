"""Saved monitors (issue 22): ``%monitor ENDPOINT --every 1h --alert "psi>0.2"`` saves a schedule
that runs the endpoint's monitor; a run whose report crosses a rule records ``monitor.alert`` in
the endpoint's history, which a webhook receiver on 127.0.0.1 gets, signed; a run that crosses
nothing records nothing; a bad rule is a one-line error and saves nothing.

Real parts: a Jupyter server deploys a scikit-learn model with payload collection and gets drifted
traffic over HTTP; the schedule's time is fired by a scheduler on the same database with a
computed time (as ``tests/schedules/test_scheduler.py`` does), and the server's own operation
runner runs the ``monitor`` operation it queues in a worker process.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from helpers.monitoring import CLF, TRAIN, draw, score, settled  # a model, and drifted traffic for it
from helpers.servers import ServerProcess, wait_until
from helpers.shell import Shell
from helpers.webhooks import FAST, SECRET, Receiver  # a signed-webhook receiver on 127.0.0.1
from jupyter_modelhub.services import build_services
from jupyter_modelhub.store.database import Database


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory):
    server = ServerProcess(
        tmp_path_factory.mktemp("server"), args=["--DeploymentManager.collect_roll_seconds=0.5", *FAST]
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hub(hub_server):
    client = hub_server.client()
    client.register("watched", CLF, sample=TRAIN)
    endpoint = client.deploy("watch-ep", "watched:1", collect=["requests", "responses"])
    for _ in range(30):
        score(endpoint, draw(50, shift=True))  # f2 and f4 shifted: their PSI is far above 0.2
    settled(client, "watch-ep", 30)
    return client


@pytest.fixture(scope="module")
def shell(hub_server, hub):
    s = Shell(hub_server)
    assert not s.run("%load_ext jupyter_modelhub")["error"]
    yield s
    s.close()


@pytest.fixture(scope="module")
def services(hub_server):
    """A second server's services on the same database and root: its scheduler fires the times."""
    database = Database("sqlite:///" + str(hub_server.root.resolve() / "registry.db"))
    yield build_services(database, hub_server.root)
    database.dispose()


@pytest.fixture(scope="module")
def receiver(hub):
    r = Receiver()
    hub.create_webhook(r.url, "monitor.alert", secret=SECRET)
    yield r
    r.stop()


def fire(hub, services, name: str) -> dict:
    """Fire schedule ``name`` at its next time; wait for the run it started to end."""
    due = datetime.fromisoformat(hub.schedule(name)["next_run_at"].rstrip("Z"))
    fired = services.scheduler.fire_due(due + timedelta(seconds=1))
    assert [(f["schedule"], f["ran"]) for f in fired] == [(name, True)], fired
    operation = fired[0]["operation"]

    def ended():
        current = hub.operation(operation)
        return None if current["active"] else current

    return wait_until(ended, 120, f"monitor operation {operation}")


def alerts(hub, endpoint: str) -> list[dict]:
    return [e for e in hub.history(endpoint, endpoint=True, action="monitor.alert")["entries"]]


def test_a_saved_monitor_whose_rule_is_crossed_alerts_in_the_history_and_the_webhook(shell, hub, services, receiver):
    out = shell.run(
        's = %monitor watch-ep --every 1h --alert "psi>0.2" --alert "drifted>5"\nprint(s["cron"], s["target"])'
    )
    assert not out["error"], out
    assert "0 * * * * {'kind': 'monitor', 'inputs': {'endpoint': 'watch-ep', 'window': '1h'" in out["text"]
    assert "'alerts': ['psi>0.2', 'drifted>5']" in out["text"]
    listed = shell.run("m = %monitors\nprint([(s['name'], s['target']['subject']) for s in m['schedules']])")
    assert "[('watch-ep-monitor', 'watch-ep')]" in listed["text"], listed

    operation = fire(hub, services, "watch-ep-monitor")
    assert operation["status"] == "succeeded", operation
    result = hub.operation(operation["id"]).outcome()
    assert result["drifted"] == ["f2", "f4"]
    assert [a["rule"] for a in result["alerts"]] == ["psi>0.2"], "two drifted features do not cross drifted>5"

    entries = alerts(hub, "watch-ep")
    assert len(entries) == 1
    new = entries[0]["new"]
    assert (new["rule"], new["window"], new["operation"]) == ("psi>0.2", "1h", operation["id"])
    assert new["feature"] in ("f2", "f4"), "the most drifted feature is named"
    assert new["value"] > 0.2
    for line in ("%history watch-ep --endpoint", "%history watched"):  # the endpoint's, and its model's
        history = shell.run(f"h = {line}\nprint(h.text())")
        assert "monitor.alert" in history["text"], (line, history)

    wait_until(lambda: receiver.received, 60, "the monitor.alert delivery")
    delivered = receiver.received[0]
    assert delivered["event"] == "monitor.alert" and delivered["signed"]
    assert delivered["body"]["subject"] == "watch-ep" and delivered["body"]["new"]["rule"] == "psi>0.2"


def test_a_rule_not_crossed_records_nothing(shell, hub, services, receiver):
    before, delivered = len(alerts(hub, "watch-ep")), len(receiver.received)
    out = shell.run('%monitor watch-ep --every 15m --alert "drifted>5" --alert "accuracy<0.5" --name quiet')
    assert not out["error"], out
    assert hub.schedule("quiet")["cron"] == "*/15 * * * *"
    operation = fire(hub, services, "quiet")
    assert operation["status"] == "succeeded", operation
    assert hub.operation(operation["id"]).outcome()["alerts"] == []
    assert len(alerts(hub, "watch-ep")) == before
    assert len(receiver.received) == delivered
    listed = shell.run("m = %monitors\nprint([s['name'] for s in m['schedules']])")
    assert "'quiet'" in listed["text"], listed
    gone = shell.run("%schedule quiet --delete\nm = %monitors\nprint([s['name'] for s in m['schedules']])")
    assert not gone["error"] and "'quiet'" not in gone["text"], gone


def test_saving_again_under_the_name_changes_the_monitor(shell, hub):
    out = shell.run('%monitor watch-ep --every 1d --alert "chi2<0.01" --window 30m')
    assert not out["error"], out
    saved = hub.schedule("watch-ep-monitor")
    assert saved["cron"] == "0 0 * * *"
    assert (saved["target"]["inputs"]["alerts"], saved["target"]["inputs"]["window"]) == (["chi2<0.01"], "30m")


@pytest.mark.parametrize(
    "line, message",
    [
        ('--every 1h --alert "psi>>0.2"', "Invalid alert 'psi>>0.2': a rule is STAT>VALUE or STAT<VALUE"),
        ('--every 1h --alert "speed>3"', "unknown statistic 'speed'"),
        ('--every 7m --alert "psi>0.2"', "Invalid --every '7m'"),
        ("--every 1h", "A saved monitor alerts on rules"),
        ('--alert "psi>0.2"', "Say when a saved monitor runs"),
    ],
)
def test_a_bad_saved_monitor_is_a_one_line_error_and_saves_nothing(shell, hub, line, message):
    out = shell.run(f"%monitor watch-ep {line} --name bad-one")
    assert message in out["error"], out
    assert "\n" not in out["error"].strip() and "Traceback" not in out["error"]
    assert "bad-one" not in [s["name"] for s in hub.schedules()["schedules"]]
