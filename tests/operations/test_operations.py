"""Operations end to end: a real Jupyter server, real worker processes, real uv builds.

A conversion and a deploy that builds an environment run as operations (202, progress, log,
result); cancel stops the whole process group and leaves nothing half-made; conversions queue
without starving the REST API; a server killed while operations run adopts the live ones on
restart and fails the dead ones with the reason.
"""

from __future__ import annotations

import io
import os
import signal
import time
from datetime import datetime

import joblib
import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.convert import DiesWhenLoaded, RecordsWhereItLoads
from helpers.operations import (
    StallingIndex,
    environments,
    processes_in_group,
    worker_pid,
)
from helpers.paths import TESTS
from helpers.servers import ServerProcess, wait_until
from helpers.uploads import tar_bytes

X, y = make_classification(200, 8, random_state=0)
CLF = LogisticRegression().fit(X, y)


# -- helpers -----------------------------------------------------------------------------------


def api(server: ServerProcess, method: str, path: str, **kwargs) -> requests.Response:
    return server.session.request(method, server.url + "modelhub/api/" + path, timeout=30, **kwargs)


def wait_for_end(server: ServerProcess, operation_id: int, timeout: float = 120) -> dict:
    def ended():
        operation = api(server, "GET", f"operations/{operation_id}").json()
        return operation if not operation["active"] else None

    return wait_until(ended, timeout, f"operation {operation_id} to end")


@pytest.fixture
def stalling_index():
    index = StallingIndex()
    yield index
    index.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # the workers import helpers.convert's classes when they unpickle them, as a user's would be importable
    s = ServerProcess(
        tmp_path_factory.mktemp("ops"),
        extra_env={"PYTHONPATH": str(TESTS)},
        args=["--ModelConverter.timing_budget=0.1", "--ModelConverter.batch_rows=500"],
    )
    client = s.client()
    client.register("churn", CLF, sample=X[:5])
    yield s
    s.stop()


def _joblib_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def register_pickle(server: ServerProcess, name: str, obj) -> None:
    upload = api(server, "POST", "uploads", data=tar_bytes({"model.joblib": _joblib_bytes(obj)})).json()
    response = api(
        server,
        "POST",
        f"models/{name}/versions",
        json={
            "upload_id": upload["upload_id"],
            "flavor": "sklearn",
            "input_example": [[1.0, 2.0]],
            "signature": {"inputs": [{"name": "input", "dtype": "float64", "shape": [-1, 2]}]},
        },
    )
    assert response.status_code == 201, response.text


# -- conversions -------------------------------------------------------------------------------


def test_a_conversion_is_an_operation_with_progress_log_and_result(server):
    first_event = api(server, "GET", "events").json()["last_id"]
    response = api(server, "POST", "models/churn/versions/1/convert", json={"sample": X[:50].tolist()})
    assert response.status_code == 202, response.text
    operation = response.json()
    assert response.headers["Location"].endswith(f"/modelhub/api/operations/{operation['id']}")
    assert operation["kind"] == "convert" and operation["subject"] == "churn:1" and operation["active"]
    seen_status, seen_done = [operation["status"]], []

    def ended():
        current = api(server, "GET", f"operations/{operation['id']}").json()
        if current["status"] != seen_status[-1]:
            seen_status.append(current["status"])
        if current["progress"].get("done") is not None and current["progress"]["done"] not in seen_done:
            seen_done.append(current["progress"]["done"])
        return current if not current["active"] else None

    final = wait_until(ended, 120, "the conversion")
    assert seen_status == ["queued", "running", "succeeded"] or seen_status == ["running", "succeeded"], seen_status
    assert final["status"] == "succeeded", final["error"]
    assert len(seen_done) >= 2 and seen_done == sorted(seen_done), f"progress advances: {seen_done}"
    assert final["progress"]["done"] == final["progress"]["total"] == 5
    assert final["link"] == {"type": "version", "model": "churn", "version": 2, "ref": "churn:2"}
    assert final["result"]["version"]["ref"] == "churn:2" and final["result"]["equivalence"]["passed"]
    assert final["started_time"] and final["ended_time"] and final["error"] is None
    log = api(server, "GET", f"operations/{operation['id']}/log").text
    assert "checking equivalence" in log and "succeeded" in log
    events = api(server, "GET", f"events?after={first_event}").json()["events"]
    assert any(e["kind"] == "operation" and e["operation"] == operation["id"] for e in events)
    listed = api(server, "GET", "operations?kind=convert&status=succeeded,failed").json()
    assert operation["id"] in [o["id"] for o in listed["operations"]]
    again = api(server, "POST", f"operations/{operation['id']}/cancel")
    assert again.status_code == 409 and "already succeeded" in again.json()["message"]


def test_a_refused_conversion_fails_with_its_report_and_registers_nothing(server):
    versions = server.client().model("churn")["version_count"]
    response = api(server, "POST", "models/churn/versions/1/convert", json={"tolerance": 0})
    final = wait_for_end(server, response.json()["id"])
    assert final["status"] == "failed" and final["error"]["reason"] == "not_equivalent"
    assert "does not match the original" in final["error"]["message"] and final["error"]["report"]["passed"] is False
    assert server.client().model("churn")["version_count"] == versions


def test_bad_conversion_requests_are_refused_at_once(server):
    for path, body, code, words in [
        ("models/churn/versions/9/convert", {}, 404, "no version 9"),
        ("models/churn/versions/1/convert", {"dtype": "int8"}, 400, "dtype"),
        ("models/churn/versions/1/convert", {"opset": 999}, 400, "opset"),
        ("models/nope/versions/1/convert", {}, 404, "nope"),
    ]:
        response = api(server, "POST", path, json=body)
        assert response.status_code == code and words in response.json()["message"], (path, response.text)
    assert api(server, "GET", "operations/999999").status_code == 404
    assert api(server, "GET", "operations?status=sleeping").status_code == 400
    assert api(server, "GET", "operations?kind=dance").status_code == 400


def test_the_model_is_unpickled_in_the_worker_and_a_crash_there_is_explained(server, tmp_path):
    marker = tmp_path / "pid"
    register_pickle(server, "spy", RecordsWhereItLoads(str(marker)))
    final = wait_for_end(server, api(server, "POST", "models/spy/versions/1/convert", json={}).json()["id"])
    assert final["status"] == "failed" and marker.exists()
    assert int(marker.read_text()) != server.process.pid, "never unpickled inside the Jupyter server"

    register_pickle(server, "crash", DiesWhenLoaded())
    final = wait_for_end(server, api(server, "POST", "models/crash/versions/1/convert", json={}).json()["id"])
    assert final["status"] == "failed" and "exited with code 3" in final["error"]["message"], final
    assert api(server, "GET", "models").ok, "the server is unharmed"
    assert server.client().model("crash")["version_count"] == 1


def test_four_conversions_queue_while_the_api_keeps_answering(server):
    ids = [api(server, "POST", "models/churn/versions/1/convert", json={}).json()["id"] for _ in range(4)]
    queued = api(server, "GET", f"operations/{ids[-1]}").json()
    assert queued["status"] == "queued" and queued["queue_position"] >= 2, queued
    slowest = 0.0
    while any(api(server, "GET", f"operations/{i}").json()["active"] for i in ids[:3]):
        started = time.perf_counter()
        assert api(server, "GET", "models").ok
        slowest = max(slowest, time.perf_counter() - started)
        if api(server, "GET", f"operations/{ids[-1]}").json()["status"] == "queued":
            cancelled = api(server, "POST", f"operations/{ids[-1]}/cancel")
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    finals = [wait_for_end(server, i) for i in ids]
    assert [f["status"] for f in finals[:3]] == ["succeeded"] * 3
    # A server that waited on a conversion would answer no sooner than the conversion ends; measured
    # against the conversions' own run time, the bound holds on a loaded machine as on a quiet one.
    shortest = min(seconds_between(f["started_time"], f["ended_time"]) for f in finals[:3])
    assert slowest < shortest / 2, f"GET models took {slowest:.2f} s while conversions of {shortest:.2f} s ran"
    assert finals[3]["status"] == "cancelled" and finals[3]["started_time"] is None
    starts = sorted(f["started_time"] for f in finals[:3])
    ends = sorted(f["ended_time"] for f in finals[:3])
    assert starts[1] >= ends[0], "one conversion at a time (max_parallel convert=1)"


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end.rstrip("Z")) - datetime.fromisoformat(start.rstrip("Z"))).total_seconds()


# -- deploys that build an environment ---------------------------------------------------------


@pytest.mark.slow  # builds a virtual environment: make test, not make test-fast
def test_a_deploy_with_an_environment_is_an_operation(server):
    response = api(
        server,
        "POST",
        "endpoints/opsenv-ep/deployments",
        json={"model": "churn:1", "requirements": "six==1.16.0\n", "auth": "none"},
    )
    assert response.status_code == 202, response.text
    final = wait_for_end(server, response.json()["id"], 300)
    assert final["status"] == "succeeded", final["error"]
    assert final["kind"] == "deploy" and final["subject"] == "opsenv-ep"
    assert final["link"] == {"type": "endpoint", "name": "opsenv-ep"} and final["result"]["state"] == "healthy"
    log = api(server, "GET", f"operations/{final['id']}/log").text
    assert "locking" in log and "installing" in log and "six" in log, log
    answer = requests.post(final["result"]["url"] + "/score", json={"data": X[:2].tolist()}, timeout=10)
    assert answer.ok
    made = api(server, "GET", "environments/churn-env").json()
    assert "six==1.16.0" in made["lock"] and any(line.startswith("scikit-learn==") for line in made["lock"]), (
        "the requirements, with what a scikit-learn model needs"
    )
    assert final["result"]["deployments"][0]["environment"] == made["ref"], "the deployment records its environment"
    assert (server.root / "envs" / made["hash"][:16] / ".ready").exists(), "the venv is keyed by the environment's hash"
    again = api(
        server,
        "POST",
        "endpoints/opsenv-ep/deployments",
        json={"model": "churn:1", "requirements": "six==1.16.0\n", "auth": "none"},
    )
    assert again.status_code == 200, "the same requirements reuse the environment and its venv, in the request"
    assert api(server, "GET", "environments/churn-env").json()["ref"] == made["ref"], "reused by content"
    by_name = api(
        server,
        "POST",
        "endpoints/opsenv-ep/deployments",
        json={"model": "churn:1", "deployment": "green", "environment": made["ref"], "auth": "none"},
    )
    assert by_name.status_code == 200, "an environment whose venv exists deploys in the request"
    green = next(d for d in by_name.json()["deployments"] if d["name"] == "green")
    assert green["environment"] == made["ref"] and green["state"] == "healthy"
    assert api(server, "GET", "endpoints/opsenv-ep").json()["deployments"][0]["environment"] == made["ref"]
    server.client().undeploy("opsenv-ep")


def test_bad_environment_requests_are_refused_and_start_nothing(server):
    before = api(server, "GET", "operations", params={"kind": "deploy"}).json()["total"]
    cases = [
        ({"environment": "nope"}, 404, "No environment 'nope'"),
        ({"environment": "churn-env:x"}, 400, "expected NAME or NAME:VERSION"),
        ({"requirements": "six\n--find-links /etc\n"}, 400, "Unsupported requirement"),
        ({"requirements": "six\n", "environment": "churn-env"}, 400, "not both"),
    ]
    for body, code, words in cases:
        response = api(server, "POST", "endpoints/bad-env-ep/deployments", json={"model": "churn:1", **body})
        assert response.status_code == code and words in response.json()["message"], (body, response.text)
    assert api(server, "GET", "operations", params={"kind": "deploy"}).json()["total"] == before
    assert api(server, "GET", "endpoints/bad-env-ep").status_code == 404


def test_cancelling_a_build_stops_its_processes_and_leaves_nothing(server, stalling_index):
    envs_before = environments(server)
    environments_before = api(server, "GET", "environments").json()
    response = api(
        server,
        "POST",
        "endpoints/cancel-ep/deployments",
        json={"model": "churn:1", "requirements": stalling_index.requirements(), "auth": "none"},
    )
    operation = response.json()
    assert response.status_code == 202
    assert stalling_index.asked.wait(60), "uv asked the index: the build is running"
    pid = worker_pid(server, operation["id"])
    assert pid is not None and len(processes_in_group(pid)) >= 2, "the worker and uv, in one group"
    current = api(server, "GET", f"operations/{operation['id']}").json()
    assert current["status"] == "running" and "locking" in current["progress"]["message"]
    cancelled = api(server, "POST", f"operations/{operation['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["id"] == operation["id"], cancelled.text
    assert wait_for_end(server, operation["id"])["status"] == "cancelled"
    wait_until(lambda: not processes_in_group(pid), 30, "no process of the operation is left")
    assert environments(server) == envs_before, "no venv was added"
    assert api(server, "GET", "environments").json() == environments_before, "no environment was recorded"
    assert not list((server.root / "envs").glob("*.partial-*")), "no half-built environment is left"
    assert api(server, "GET", "endpoints/cancel-ep").status_code == 404, "no endpoint was made"
    again = api(server, "POST", f"operations/{operation['id']}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled", "a cancel is idempotent"
    retry = api(
        server,
        "POST",
        "endpoints/cancel-ep/deployments",
        json={"model": "churn:1", "requirements": "six==1.16.0\n", "auth": "none"},
    )
    assert retry.status_code in (200, 201, 202)
    if retry.status_code == 202:
        assert wait_for_end(server, retry.json()["id"], 300)["status"] == "succeeded"
    assert server.client().endpoint("cancel-ep")["state"] == "healthy"
    server.client().undeploy("cancel-ep")


def test_following_an_operation_log_ends_with_the_operation(server):
    operation = api(server, "POST", "models/churn/versions/1/convert", json={}).json()
    lines = list(server.client().follow_operation_log(operation["id"], timeout=120))
    assert any("succeeded" in line for line in lines), lines
    assert api(server, "GET", f"operations/{operation['id']}").json()["status"] == "succeeded"


# -- a server that dies while operations run ---------------------------------------------------


@pytest.mark.slow  # a server killed and started again, workers adopted: make test, not make test-fast
def test_a_killed_server_adopts_live_operations_and_fails_dead_ones(tmp_path, stalling_index):
    server = ServerProcess(tmp_path)
    server.client().register("m", CLF, sample=X[:2])
    ids = []
    for name in ("live-ep", "dead-ep"):
        response = api(
            server,
            "POST",
            f"endpoints/{name}/deployments",
            json={"model": "m", "requirements": stalling_index.requirements()},
        )
        ids.append(response.json()["id"])
    wait_until(lambda: all(worker_pid(server, i) for i in ids), 60, "both workers")
    wait_until(
        lambda: all(api(server, "GET", f"operations/{i}").json()["status"] == "running" for i in ids),
        60,
        "both running",
    )
    live, dead = (worker_pid(server, i) for i in ids)
    server.process.kill()
    server.process.wait()
    os.killpg(dead, signal.SIGKILL)  # this one dies while no server watches it
    wait_until(lambda: not processes_in_group(dead), 10, "the killed worker to go")
    again = ServerProcess(tmp_path, port=server.port)
    try:
        adopted, failed = (api(again, "GET", f"operations/{i}").json() for i in ids)
        assert adopted["status"] == "running" and processes_in_group(live), "adopted: still running"
        assert failed["status"] == "failed" and failed["error"]["reason"] == "restarted"
        assert "the server restarted while it ran" in failed["error"]["message"]
        cancelled = api(again, "POST", f"operations/{ids[0]}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["id"] == ids[0]
        assert wait_for_end(again, ids[0])["status"] == "cancelled"
        wait_until(lambda: not processes_in_group(live), 30, "the adopted worker's processes to end")
    finally:
        again.stop()
