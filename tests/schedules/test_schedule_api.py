"""Schedules through REST, the magics and the command line, on one real server (no waiting for a
time): what cannot be a schedule is a 400 that says why; a name in use is a 409; pausing,
resuming, changing and deleting work from the magics and the shell and land in the history."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.servers import ServerProcess
from helpers.shell import Shell

X, y = make_classification(50, 4, random_state=0)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("schedules"))
    hub = s.client()
    hub.register("lr", LogisticRegression().fit(X, y), sample=X[:3])
    hub.save_batch_endpoint("nightly", "lr:1")
    data = s.folder / "notebooks" / "data"
    data.mkdir(parents=True)
    (data / "a.csv").write_text("f0,f1,f2,f3\n" + "\n".join(",".join(map(str, row)) for row in X))
    yield s
    s.stop()


def post(server, **body):
    return server.session.post(server.url + "modelhub/api/schedules", json=body, timeout=30)


def batch_target(server, **inputs) -> dict:
    return {
        "kind": "batch",
        "inputs": {"endpoint": "nightly", "inputs": [str(server.folder / "notebooks" / "data")], **inputs},
    }


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"cron": "0 25 * * *"}, "Invalid cron expression '0 25 * * *': bad hour"),
        ({"cron": "every day"}, "it has 2 fields, a cron expression has five"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone 'Mars/Olympus'"),
        ({"timezone": "x" * 65}, "timezone"),
        ({"target": {"kind": "retrain", "inputs": {}}}, "Schedules cannot start operations of kind 'retrain'"),
    ],
)
def test_what_cannot_be_a_schedule_is_a_400_that_says_why(server, fields, says):
    body = {"name": "bad", "cron": "0 2 * * *", "target": batch_target(server), **fields}
    response = post(server, **body)
    assert response.status_code == 400, response.text
    assert says in response.json()["message"] and response.json()["reason"] == "invalid"
    assert server.session.get(server.url + "modelhub/api/schedules/bad").status_code == 404


def test_a_batch_schedule_that_could_not_run_is_refused_when_saved(server):
    missing = post(server, name="bad", cron="0 2 * * *", target=batch_target(server, inputs=["/nowhere/*.csv"]))
    assert missing.status_code == 400 and "outside the server's folders" in missing.json()["message"]
    unknown = post(
        server, name="bad", cron="0 2 * * *", target={"kind": "batch", "inputs": {"endpoint": "nope", "inputs": ["x"]}}
    )
    assert unknown.status_code == 404 and "No batch endpoint nope" in unknown.json()["message"]


def test_a_name_in_use_is_a_409_and_a_schedule_is_found_by_name_or_id(server):
    created = post(server, name="twice", cron="@daily", timezone="Europe/Paris", target=batch_target(server))
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert schedule["cron"] == "0 0 * * *" and schedule["description"] == "At 00:00 every day"
    again = post(server, name="twice", cron="0 2 * * *", target=batch_target(server))
    assert again.status_code == 409 and "Schedule twice exists" in again.json()["message"]
    by_id = server.session.get(server.url + f"modelhub/api/schedules/{schedule['id']}").json()
    assert by_id["name"] == "twice"
    assert server.session.delete(server.url + "modelhub/api/schedules/twice").json() == {"deleted": ["schedule twice"]}


def test_the_magics_list_pause_resume_change_and_delete(server):
    shell = Shell(server)
    try:
        assert not shell.run("%load_ext jupyter_modelhub")["error"]
        data = server.folder / "notebooks" / "data"
        made = shell.run(
            f'%batch-endpoint nightly lr:1 --schedule "0 2 * * *" --timezone Europe/Paris --inputs {data}/*.csv'
        )
        assert not made["error"], made
        assert "schedule nightly: 0 2 * * * (Europe/Paris) -> batch nightly" in made["text"]
        listed = shell.run("%schedules")
        assert "nightly" in listed["text"] and "next " in listed["text"]
        paused = shell.run("%schedule nightly --pause")
        assert "paused" in paused["text"]
        resumed = shell.run("%schedule nightly --resume --cron '0 3 * * *'")
        assert "0 3 * * *" in resumed["text"] and "next " in resumed["text"]
        refused = shell.run("%schedule nightly --cron '0 3 * *'")
        assert "it has 4 fields" in refused["error"]
        needs_inputs = shell.run('%batch-endpoint nightly lr:1 --schedule "0 2 * * *"')
        assert "--schedule needs the files each run scores" in needs_inputs["error"]
        entries = server.client().history("lr", action="schedule.created,schedule.changed")["entries"]
        history = [e for e in entries if e["subject"] == "schedule nightly"]
        assert [e["action"] for e in history] == ["schedule.changed", "schedule.changed", "schedule.created"]
        assert history[0]["new"]["cron"] == "0 3 * * *" and history[0]["old"]["cron"] == "0 2 * * *"
        assert "--delete" not in shell.run("%schedule nightly --delete")["error"]
        assert "No schedule nightly" in shell.run("%schedule nightly")["error"]
    finally:
        shell.close()


def test_the_command_line_lists_and_pauses(server):
    env = {"MODELHUB_URL": server.url, "MODELHUB_TOKEN": server.token}
    data = server.folder / "notebooks" / "data"

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "jupyter_modelhub.cli", *args, "--url", server.url, "--token", server.token],
            capture_output=True,
            text=True,
            timeout=120,
            env={**__import__("os").environ, **env},
        )

    made = cli(
        "batch-endpoint", "cli-nightly", "lr:1", "--schedule", "15 4 * * 1-5", "--inputs", f"{data}/a.csv", "--json"
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["cron"] == "15 4 * * 1-5"
    paused = cli("schedule", "cli-nightly", "--pause", "--json")
    assert paused.returncode == 0 and json.loads(paused.stdout)["enabled"] is False
    bad = cli("schedule", "cli-nightly", "--timezone", "Nowhere/Land")
    assert bad.returncode == 1 and "Unknown time zone 'Nowhere/Land'" in bad.stderr
    listed = cli("schedules")
    assert listed.returncode == 0 and "cli-nightly" in listed.stdout and "paused" in listed.stdout
