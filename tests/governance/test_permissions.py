"""Who may do what to a model (issue 21), with real users: a jupyter_server identity provider
that gives each person a token of their own and groups (``helpers.identities``), on real
servers. What one may not do is refused with a 403 naming the permission missing and who can
grant it, over REST, the magics (a real kernel) and the CLI (a real subprocess); listings and the
events feed show only what the user may read; two servers on one PostgreSQL obey the same grants.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from helpers.identities import PROVIDER, team
from helpers.kernels import TRAIN, Kernel
from helpers.postgres import fresh_postgres_database
from helpers.servers import ServerProcess
from helpers.uploads import tar_bytes

API = "modelhub/api/"


class Person:
    """One user's requests to one server, with their own token."""

    def __init__(self, server: ServerProcess, token: str):
        self.base = server.url + API
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=60, **kwargs)

    def register(self, name: str, content: bytes = b"weights") -> requests.Response:
        upload = self.call("POST", "uploads", data=tar_bytes({"model.bin": content}))
        assert upload.status_code == 201, upload.text
        return self.call("POST", f"models/{name}/versions", json={"upload_id": upload.json()["upload_id"]})


def refused(response: requests.Response, *words: str) -> str:
    assert response.status_code == 403, (response.status_code, response.text)
    body = response.json()
    assert body["reason"] == "forbidden", body
    for word in words:
        assert word in body["message"], (word, body["message"])
    return body["message"]


@pytest.fixture
def people(tmp_path):
    """One server, SQLite, four people: alice, bob (group risk), carol (admin), dave."""
    tokens, env = team(alice=[], bob=["risk"], carol=[], dave=[])
    server = ServerProcess(tmp_path, extra_env=env, args=[PROVIDER, "--ModelHubApp.admins=carol"])
    yield {name: Person(server, token) for name, token in tokens.items()}
    server.stop()


def test_what_one_user_may_not_do_is_refused_naming_the_permission_and_who_grants_it(people):
    alice, bob, carol, dave = people["alice"], people["bob"], people["carol"], people["dave"]
    assert alice.register("churn").status_code == 201
    assert alice.register("churn", b"v2").status_code == 201
    assert bob.register("fraud").status_code == 201

    # The default permission (write) keeps a shared server usable: bob reads and aliases churn...
    assert bob.call("GET", "models/churn").status_code == 200
    assert bob.call("PUT", "models/churn/aliases/production", json={"version": 1}).status_code == 200
    # ...but deleting or re-granting is the manager's (its creator) or an admin's.
    message = refused(
        bob.call("DELETE", "models/churn"), "bob may not delete it", "'manage'", "alice", "%grant churn user:bob manage"
    )
    assert "has 'write'" in message
    refused(bob.call("DELETE", "models/churn/versions/2"), "'manage'")
    refused(bob.call("PUT", "models/churn/permissions", json={"principal": "bob", "permission": "manage"}), "'manage'")
    assert alice.call("GET", "models/churn/versions/2").status_code == 200  # nothing was deleted

    # alice closes churn to everyone but the risk group, who may read it.
    closed = alice.call("PUT", "models/churn/permissions", json={"principal": "everyone", "permission": "none"})
    assert closed.status_code == 200, closed.text
    opened = alice.call("PUT", "models/churn/permissions", json={"principal": "group:risk", "permission": "read"})
    shown = opened.json()
    assert shown["creator"] == "alice" and shown["yours"] == "manage" and shown["default_permission"] == "none"
    assert {(g["principal"], g["permission"], g["granted_by"]) for g in shown["grants"]} == {
        ("everyone", "none", "alice"),
        ("group:risk", "read", "alice"),
    }

    # dave (no group) no longer sees churn anywhere; bob (risk) reads it but may not change it.
    assert [m["name"] for m in dave.call("GET", "models").json()["models"]] == ["fraud"]
    assert {v["name"] for v in dave.call("GET", "versions").json()["versions"]} == {"fraud"}
    refused(dave.call("GET", "models/churn"), "dave may not see it", "'read'", "has 'none'")
    refused(dave.call("GET", "models/churn/versions/1/files/model.bin"), "'read'")
    assert sorted(m["name"] for m in bob.call("GET", "models").json()["models"]) == ["churn", "fraud"]
    assert bob.call("GET", "models/churn/permissions").json()["yours"] == "read"
    refused(bob.call("PUT", "models/churn/aliases/production", json={"version": 2}), "'write'", "has 'read'")
    refused(bob.register("churn", b"v3"), "register a version", "'write'")
    assert alice.call("GET", "models/churn/versions").json()["total"] == 2  # bob's refused upload registered nothing

    # The events feed leaves out what the reader may not see.
    start = dave.call("GET", "events").json()["last_id"]
    alice.call("PATCH", "models/churn/versions/1", json={"tags": {"stage": "prod"}})
    bob.call("PATCH", "models/fraud/versions/1", json={"tags": {"stage": "prod"}})
    assert {e["model"] for e in dave.call("GET", "events", params={"after": start}).json()["events"]} == {"fraud"}
    assert {e["model"] for e in alice.call("GET", "events", params={"after": start}).json()["events"]} == {
        "churn",
        "fraud",
    }

    # A grant to one user; the admin manages every model; a revoke is taken back at once.
    alice.call("PUT", "models/churn/permissions", json={"principal": "user:dave", "permission": "write"})
    assert dave.call("PUT", "models/churn/aliases/staging", json={"version": 2}).status_code == 200
    alice.call("PUT", "models/churn/permissions", json={"principal": "dave", "permission": "default"})
    refused(dave.call("GET", "models/churn/versions/2"), "'read'")
    assert carol.call("GET", "models/churn/permissions").json()["yours"] == "manage"
    assert carol.call("DELETE", "models/fraud").status_code == 200

    # Bad grants are 400s that change nothing.
    bad = alice.call("PUT", "models/churn/permissions", json={"principal": "user:a b", "permission": "read"})
    assert bad.status_code == 400 and "user:NAME, group:NAME or everyone" in bad.json()["message"]
    bad = alice.call("PUT", "models/churn/permissions", json={"principal": "bob", "permission": "owner"})
    assert bad.status_code == 400
    assert len(alice.call("GET", "models/churn/permissions").json()["grants"]) == 2


def test_a_read_only_default_lets_only_admins_create_models(tmp_path):
    tokens, env = team(erin=[], frank=[])
    server = ServerProcess(
        tmp_path, extra_env=env, args=[PROVIDER, "--ModelHubApp.admins=erin", "--ModelHubApp.default_permission=read"]
    )
    try:
        erin, frank = Person(server, tokens["erin"]), Person(server, tokens["frank"])
        refused(frank.register("churn"), "frank may not create model 'churn'", "default permission is 'read'", "erin")
        assert erin.register("churn").status_code == 201
        assert frank.call("GET", "models/churn").status_code == 200
        refused(frank.call("PATCH", "models/churn/versions/1", json={"description": "x"}), "'write'", "has 'read'")
    finally:
        server.stop()


@pytest.mark.slow
def test_two_servers_on_one_postgresql_obey_the_same_grants_in_magics_and_cli(postgres_server, tmp_path):
    """alice's server and bob's server share one registry (PostgreSQL): each kernel acts for its
    server's user (c.ModelHubApp.server_user), the CLI for the token it is given."""
    tokens, env = team(alice=[], bob=["risk"])
    db = f"--ModelHubApp.db_url={fresh_postgres_database(postgres_server)}"
    servers = {
        name: ServerProcess(
            tmp_path / name,
            extra_env=env,
            args=[PROVIDER, db, f"--ModelHubApp.server_user={name}", f"--ModelHubApp.server_user_groups={groups}"],
        )
        for name, groups in (("alice", "staff"), ("bob", "risk"))
    }
    kernels = {}
    try:
        kernels = {name: Kernel(server) for name, server in servers.items()}
        alice, bob = kernels["alice"], kernels["bob"]
        for kernel in kernels.values():
            assert not kernel.run("%load_ext jupyter_modelhub")["error"]
        assert not alice.run(TRAIN)["error"]
        assert not alice.run("%register churn clf --sample X[:5]")["error"]

        # bob's notebook: reads churn, may not delete it; the refusal is one line naming who can grant.
        assert "churn" in bob.run("%models")["text"]
        error = bob.run("%delete churn --all")["error"]
        assert "bob may not delete it" in error and "alice" in error and "Traceback" not in error
        assert "check the token" not in error  # a permission, not mistaken for bad credentials

        # alice closes churn and opens it to risk for reading; bob's server sees it at once.
        assert not alice.run("%grant churn everyone none")["error"]
        shown = alice.run("%grant churn group:risk read")
        assert "group:risk" in shown["text"] and "read" in shown["html"]
        shown = bob.run("%permissions churn")
        assert "you have read" in shown["text"], shown
        error = bob.run("%alias churn:1 production")["error"]
        assert "'write'" in error and "has 'read'" in error
        assert "'manage'" in bob.run("%grant churn user:bob manage")["error"]

        # The CLI, as bob (his token), against alice's server: the same refusal, exit code 1.
        cli = [sys.executable, "-m", "jupyter_modelhub.cli", "--url", servers["alice"].url, "--token", tokens["bob"]]
        done = subprocess.run([*cli, "delete", "churn", "--all"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "bob may not delete it" in done.stderr, (done.returncode, done.stderr)
        done = subprocess.run([*cli, "permissions", "churn", "--json"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert '"yours": "read"' in done.stdout.replace('":"', '": "')
        assert "churn" in alice.run("%models")["text"]
    finally:
        for kernel in kernels.values():
            kernel.stop()
        for server in servers.values():
            server.stop()


def test_operations_of_a_closed_model_are_neither_listed_nor_shown_to_others(people, tmp_path):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from jupyter_modelhub.client import ModelHubClient

    alice, dave = people["alice"], people["dave"]
    X, y = make_classification(80, 4, random_state=0)
    hub = ModelHubClient(alice.base.removesuffix("modelhub/api/"), alice.session.headers["Authorization"].split()[1])
    hub.register("secret", LogisticRegression().fit(X, y), sample=X[:3])
    started = alice.call("POST", "models/secret/versions/1/convert", json={})
    assert started.status_code == 202, started.text
    operation = started.json()["id"]
    assert operation in [o["id"] for o in dave.call("GET", "operations").json()["operations"]]  # open: seen

    alice.call("PUT", "models/secret/permissions", json={"principal": "everyone", "permission": "none"})
    assert operation not in [o["id"] for o in dave.call("GET", "operations").json()["operations"]]
    refused(dave.call("GET", f"operations/{operation}"), "'read'", "'secret'")
    refused(dave.call("GET", f"operations/{operation}/log"), "'read'")
    refused(dave.call("POST", f"operations/{operation}/cancel"), "'write'")
    hub.deploy("secret-ep", "secret:1")
    assert [r["ref"] for r in alice.call("GET", "serving-timeline").json()["records"]] == ["secret:1"]
    assert dave.call("GET", "serving-timeline").json()["records"] == []
    assert "secret-ep" not in [e["name"] for e in dave.call("GET", "endpoints").json()["endpoints"]]
    refused(dave.call("GET", "endpoints/secret-ep"), "'read'")
    hub.undeploy("secret-ep")
    assert operation in [o["id"] for o in alice.call("GET", "operations").json()["operations"]]
