"""Webhooks (issue 21): the history's entries sent as signed JSON to a real receiver on 127.0.0.1
(an HTTP server in the test that checks every signature), with retries after failures, a
delivery log, a test call, and deliveries that survive a restart of the server. A receiver that
never answers does not slow the API. Real server, real users (``helpers.identities``).
"""

from __future__ import annotations

import time

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.identities import PROVIDER, team
from helpers.servers import ServerProcess, wait_until
from helpers.webhooks import FAST, SECRET, Receiver
from jupyter_modelhub.client import ModelHubClient

X, y = make_classification(80, 4, random_state=2)


@pytest.fixture
def people(tmp_path):
    tokens, env = team(alice=[], bob=[])
    servers = []

    def start():
        server = ServerProcess(tmp_path, extra_env=env, args=[PROVIDER, *FAST])
        servers.append(server)
        return server, {name: ModelHubClient(server.url, token, client="api") for name, token in tokens.items()}

    yield start
    for server in servers:
        server.stop()


def test_signed_deliveries_for_registration_alias_and_deploy_and_only_what_the_owner_may_read(people):
    server, hub = people()
    alice, bob = hub["alice"], hub["bob"]
    receiver, bobs = Receiver(), Receiver(secret="bob-secret-0123456789abcdef")
    created = alice.create_webhook(
        receiver.url, "version.registered,alias.moved,deployment.changed", secret=SECRET, description="team feed"
    )
    assert created["secret"] == SECRET and created["owner"] == "alice"
    assert "secret" not in alice.webhook(created["id"]) and "secret" not in alice.webhooks()["webhooks"][0]
    bobs_hook = bob.create_webhook(bobs.url, secret="bob-secret-0123456789abcdef")
    assert len(bob.webhook(bobs_hook["id"])["events"]) > 10  # none named: all of them

    alice.register("churn", LogisticRegression().fit(X, y), sample=X[:3])
    alice.register("secret-model", LogisticRegression(C=2).fit(X, y))
    alice.grant("secret-model", "everyone", "none")  # bob may not read it from now on
    alice.register("secret-model", LogisticRegression(C=3).fit(X, y))
    alice.set_alias("churn", "production", 1)
    try:
        alice.deploy("churn-ep", "churn@production")
        wanted = [
            ("version.registered", "churn:1"),
            ("version.registered", "secret-model:1"),
            ("version.registered", "secret-model:2"),
            ("alias.moved", "churn@production"),
            ("deployment.changed", "churn-ep/blue"),
        ]
        wait_until(lambda: len(receiver.received) >= len(wanted), 60, "alice's five deliveries")
        assert sorted(receiver.events()) == sorted(wanted)
        assert all(r["signed"] for r in receiver.received)
        moved = next(r["body"] for r in receiver.received if r["event"] == "alias.moved")
        assert {k: moved[k] for k in ("event", "user", "model", "version", "old", "new")} == {
            "event": "alias.moved",
            "user": "alice",
            "model": "churn",
            "version": 1,
            "old": None,
            "new": 1,
        }
        assert moved["at"].endswith("Z") and isinstance(moved["id"], int)

        # bob's webhook gets what bob may read: not secret-model:2 (nor the permission change on it)
        wait_until(lambda: ("deployment.changed", "churn-ep/blue") in bobs.events(), 60, "bob's deliveries")
        subjects = [s for _, s in bobs.events()]
        assert "secret-model:2" not in subjects and "churn:1" in subjects
        assert all(r["signed"] for r in bobs.received)

        log = alice.deliveries(created["id"])["deliveries"]
        assert len(log) == 5 and {d["status"] for d in log} == {"delivered"} and {d["attempts"] for d in log} == {1}
        assert alice.webhook(created["id"])["last_delivery"] is not None

        # each sees only their own webhooks; another's is not found, not revealed
        assert [w["id"] for w in bob.webhooks()] == [bobs_hook["id"]]
        response = requests.get(
            server.url + f"modelhub/api/webhooks/{created['id']}",
            headers={"Authorization": bob.session.headers["Authorization"]},
            timeout=30,
        )
        assert response.status_code == 404 and "You have no webhook" in response.json()["message"]

        # the test call: sent at once, answered with how it went, in the log too
        tested = alice.test_webhook(created["id"])["deliveries"][0]
        assert (tested["event"], tested["status"], tested["last_status"]) == ("webhook.test", "delivered", 204)
        assert receiver.received[-1]["event"] == "webhook.test" and receiver.received[-1]["signed"]

        assert alice.delete_webhook(created["id"])["id"] == created["id"]
        assert alice.webhooks()["webhooks"] == []
    finally:
        alice.undeploy("churn-ep")
        receiver.stop()
        bobs.stop()


def test_bad_webhooks_are_refused_with_the_reason_and_nothing_is_stored(people):
    server, hub = people()
    alice = hub["alice"]
    call = requests.Session()
    call.headers["Authorization"] = alice.session.headers["Authorization"]
    api = server.url + "modelhub/api/webhooks"
    for body, words in [
        ({"url": "file:///etc/passwd"}, "only http:// and https://"),
        ({"url": "ftp://example.org/x"}, "only http:// and https://"),
        ({"url": "http://"}, "names no host"),
        ({"url": "http://example.org", "events": ["version.exploded"]}, "Unknown webhook event"),
        ({"url": "http://example.org", "secret": "short"}, "16 to 256"),
        ({"url": "http://example.org", "model": "nope"}, "No model named 'nope'"),
        ({"url": "http://example.org", "colour": "red"}, "colour"),
    ]:
        response = call.post(api, json=body, timeout=30)
        assert response.status_code in (400, 404), (body, response.text)
        assert words in response.json()["message"], (body, response.json())
    assert call.get(api + "/abc", timeout=30).status_code == 400
    assert call.get(api, timeout=30).json() == {"webhooks": []}


def test_retries_after_the_receiver_fails_twice_and_a_stuck_receiver_does_not_slow_the_api(people):
    server, hub = people()
    alice = hub["alice"]
    flaky = Receiver(fail=2)
    stuck = Receiver(hold=True)
    try:
        flaky_hook = alice.create_webhook(flaky.url, "version.registered", secret=SECRET)
        alice.create_webhook(stuck.url, "alias.moved", secret=SECRET)
        alice.register("churn", LogisticRegression().fit(X, y))
        wait_until(lambda: flaky.received, 60, "the delivery after two failures")
        delivery = alice.deliveries(flaky_hook["id"])["deliveries"][0]
        assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("delivered", 3, 204)
        assert [r["event"] for r in flaky.received] == ["version.registered"] and flaky.received[0]["signed"]

        # the stuck receiver holds its delivery; alias moves still answer, and are all recorded
        alice.set_alias("churn", "production", 1)
        assert stuck.arrived.wait(30), "the first delivery reached the stuck receiver"
        for alias in ("staging", "canary", "shadow"):
            started = time.monotonic()
            alice.set_alias("churn", alias, 1)
            assert time.monotonic() - started < 10  # the receiver holds its request for up to 60 s
        assert stuck.received == []  # nothing answered yet: the API did not wait for it
        stuck.release.set()
        wait_until(lambda: len(stuck.received) == 4, 60, "the four alias moves once the receiver answers")
        assert sorted(s for _, s in stuck.events()) == sorted(
            f"churn@{a}" for a in ("production", "staging", "canary", "shadow")
        )
    finally:
        flaky.stop()
        stuck.stop()


def test_a_restart_loses_no_pending_delivery_and_repeats_none(people, tmp_path):
    server, hub = people()
    alice = hub["alice"]
    down = Receiver()
    url, port = down.url, down.server.server_port
    down.stop()  # nothing listens there now: every attempt fails to connect
    hook = alice.create_webhook(url, "version.registered,alias.moved", secret=SECRET)
    alice.register("churn", LogisticRegression().fit(X, y))
    alice.set_alias("churn", "production", 1)
    wait_until(
        lambda: (
            all(d["attempts"] >= 1 for d in alice.deliveries(hook["id"])["deliveries"])
            and len(alice.deliveries(hook["id"])["deliveries"]) == 2
        ),
        60,
        "failed first attempts",
    )
    failed = alice.deliveries(hook["id"])["deliveries"][0]
    assert failed["status"] == "pending" and "could not connect" in failed["last_error"]
    server.stop()

    receiver = Receiver(port=port)
    try:
        server, hub = people()
        alice = hub["alice"]
        wait_until(lambda: len(receiver.received) >= 2, 60, "the pending deliveries after the restart")
        alice.register("churn", LogisticRegression(C=5).fit(X, y))  # and new entries go on from there
        wait_until(lambda: len(receiver.received) >= 3, 60, "the entry recorded after the restart")
        assert sorted(receiver.events()) == [
            ("alias.moved", "churn@production"),
            ("version.registered", "churn:1"),
            ("version.registered", "churn:2"),
        ]
        assert len({r["delivery"] for r in receiver.received}) == 3 and all(r["signed"] for r in receiver.received)
    finally:
        receiver.stop()
