"""The history (issue 21): every change with who, when, from which client, and the old and new
values, over REST and the magics; rollback of an alias and of an endpoint's traffic, recorded
like any change; "what served churn-ep at T" answered from it. Real server, real users
(``helpers.identities``), a real endpoint serving a real scikit-learn model, a real kernel.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.identities import PROVIDER, team
from helpers.kernels import Kernel
from helpers.servers import ServerProcess
from jupyter_modelhub.client import ModelHubClient

X, y = make_classification(120, 4, random_state=1)


class Person:
    def __init__(self, server: ServerProcess, token: str, client: str):
        self.base = server.url + "modelhub/api/"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"token {token}", "X-Modelhub-Client": client})
        self.hub = ModelHubClient(server.url, token, client=client)

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=120, **kwargs)

    def ok(self, method: str, path: str, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else {}


@pytest.fixture
def people(tmp_path):
    tokens, env = team(alice=[], bob=[])
    server = ServerProcess(tmp_path, extra_env=env, args=[PROVIDER])
    people = {"alice": Person(server, tokens["alice"], "panel"), "bob": Person(server, tokens["bob"], "cli")}
    yield server, people
    for endpoint in people["alice"].hub.endpoints():
        people["alice"].hub.undeploy(endpoint["name"])
    server.stop()


def test_history_records_who_when_where_and_old_and_new_and_rolls_back(people):
    server, people = people
    alice, bob = people["alice"], people["bob"]
    for seed in (1, 2):
        alice.hub.register("churn", LogisticRegression(C=seed).fit(X, y), sample=X[:3])
    alice.ok("PUT", "models/churn/aliases/production", json={"version": 1})
    bob.ok("PUT", "models/churn/aliases/production", json={"version": 2})
    bob.ok("PATCH", "models/churn/versions/2", json={"tags": {"stage": "prod"}, "description": "candidate"})
    alice.ok("PUT", "models/churn/permissions", json={"principal": "group:risk", "permission": "read"})

    entries = alice.ok("GET", "models/churn/history")["entries"]
    assert [e["action"] for e in entries] == [
        "permission.changed",
        "version.updated",
        "alias.moved",
        "alias.moved",
        "version.registered",
        "version.registered",
    ]
    moved = entries[2]
    assert (moved["user"], moved["client"], moved["subject"], moved["old"], moved["new"]) == (
        "bob",
        "cli",
        "churn@production",
        1,
        2,
    )
    assert (entries[3]["user"], entries[3]["client"], entries[3]["old"], entries[3]["new"]) == (
        "alice",
        "panel",
        None,
        1,
    )
    assert entries[1]["old"] == {"description": "", "tags": {"stage": None}}
    assert entries[1]["new"] == {"description": "candidate", "tags": {"stage": "prod"}}
    assert (entries[0]["old"], entries[0]["new"], entries[0]["subject"]) == (None, "read", "churn group:risk")
    assert entries[0]["at"].endswith("Z") and entries[0]["id"] > entries[1]["id"]

    # Filters: by action, by user, by time.
    only = alice.ok("GET", "models/churn/history", params={"action": "alias.moved", "user": "bob"})["entries"]
    assert [(e["action"], e["user"]) for e in only] == [("alias.moved", "bob")]
    assert alice.ok("GET", "models/churn/history", params={"since": "2099-01-01T00:00"})["entries"] == []
    assert len(alice.ok("GET", "models/churn/history", params={"since": "1h", "limit": 2})["entries"]) == 2
    bad = alice.call("GET", "models/churn/history", params={"since": "last tuesday"})
    assert bad.status_code == 400 and "2026-12-01T14:00" in bad.json()["message"]
    empty = alice.call("GET", "models/churn/history", params={"until": ""})
    assert empty.status_code == 400 and empty.json()["message"].startswith("Empty until")

    # Rollback returns the alias to 1, recorded as a move by the one who rolled back.
    rolled = alice.ok("POST", "models/churn/aliases/production/rollback")
    assert rolled["version"] == 1 and "production" in rolled["aliases"]
    newest = alice.ok("GET", "models/churn/history", params={"limit": 1})["entries"][0]
    assert (newest["action"], newest["user"], newest["old"], newest["new"]) == ("alias.moved", "alice", 2, 1)
    alice.ok("PUT", "models/churn/aliases/staging", json={"version": 2})
    refused = alice.call("POST", "models/churn/aliases/staging/rollback")
    assert refused.status_code == 409 and "no earlier version" in refused.json()["message"]

    # An endpoint: two deployments, a canary split, then a change of mind; what served at T.
    alice.hub.deploy("churn-ep", "churn:1")
    alice.hub.deploy("churn-ep", "churn:2", deployment="green", traffic={"blue": 90, "green": 10})
    between = datetime.now(timezone.utc).isoformat()  # after both deploys answered, before the next change
    bob.ok("PUT", "endpoints/churn-ep/traffic", json={"traffic": {"blue": 50, "green": 50}})
    changes = alice.ok("GET", "endpoints/churn-ep/history")["entries"]
    assert [e["action"] for e in changes] == ["traffic.changed", "deployment.changed", "deployment.changed"]
    assert changes[0]["old"]["traffic"] == {"blue": 90, "green": 10}
    assert changes[0]["new"]["traffic"] == {"blue": 50, "green": 50}
    assert changes[1]["new"]["version"] == 2 and changes[1]["subject"] == "churn-ep/green"

    then = alice.ok("GET", "endpoints/churn-ep/history", params={"at": between})
    served = {(d["deployment"], d["model"], d["version"]) for d in then["state"]["deployments"]}
    assert served == {("blue", "churn", 1), ("green", "churn", 2)}
    assert then["state"]["traffic"] == {"blue": 90, "green": 10}
    assert [e["action"] for e in then["entries"]] == ["deployment.changed", "deployment.changed"]

    back = alice.ok("POST", "endpoints/churn-ep/traffic/rollback")
    assert back["traffic"] == {"blue": 90, "green": 10}
    newest = alice.ok("GET", "endpoints/churn-ep/history", params={"limit": 1})["entries"][0]
    assert (newest["action"], newest["user"], newest["new"]["traffic"]) == ("traffic.changed", "alice", back["traffic"])
    # the model's history includes its deployments
    assert "deployment.changed" in {e["action"] for e in alice.ok("GET", "models/churn/history")["entries"]}

    # Nothing edits or deletes the history; deleting a model keeps its history.
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert alice.call(method, "models/churn/history").status_code == 405
    alice.hub.register("scratch", LogisticRegression().fit(X, y))
    alice.ok("DELETE", "models/scratch")
    kept = alice.ok("GET", "models/scratch/history")["entries"]
    assert [e["action"] for e in kept] == ["model.deleted", "version.registered"]
    assert kept[0]["old"] == {"versions": ["scratch:1"]}

    # The magics, in a real kernel: the history as a table, and both rollbacks.
    kernel = Kernel(server)
    try:
        assert not kernel.run("%load_ext jupyter_modelhub")["error"]
        shown = kernel.run("%history churn --action alias.moved")
        assert "alias.moved" in shown["html"] and "churn@production" in shown["text"] and "bob (cli)" in shown["text"]
        shown = kernel.run("%history churn-ep --at " + between)
        assert "blue=churn:1 (90%)" in shown["text"] and "green=churn:2 (10%)" in shown["text"]
        assert not kernel.run("%alias churn@production --rollback")["error"]
        assert alice.hub.version("churn@production")["version"] == 2
        assert "%alias churn@staging --delete" in kernel.run("%alias churn@staging --rollback")["error"]
        assert not kernel.run("%traffic churn-ep --rollback")["error"]
        assert alice.hub.endpoint("churn-ep")["traffic"] == {"blue": 50, "green": 50}
        newest = alice.ok("GET", "endpoints/churn-ep/history", params={"limit": 1})["entries"][0]
        assert newest["client"] == "kernel"
    finally:
        kernel.stop()


def test_history_of_a_name_that_never_was_is_a_404_and_the_magic_finds_the_endpoint(people):
    server, people = people
    alice = people["alice"]
    missing = alice.call("GET", "models/never/history")
    assert missing.status_code == 404 and "no model 'never'" in missing.json()["message"]
    assert alice.call("GET", "endpoints/never-ep/history").status_code == 404
    alice.hub.register("seen", LogisticRegression().fit(X, y), sample=X[:3])
    alice.hub.deploy("seen-ep", "seen:1")
    shown = alice.hub.history("seen-ep")  # no model of that name: the endpoint's history
    assert [e["action"] for e in shown["entries"]] == ["deployment.changed"]
    assert (
        alice.ok("GET", "models/seen/history", params={"action": "alias.moved"})["entries"] == []
    )  # a model: filtered
