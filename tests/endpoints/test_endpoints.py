"""Online endpoints end to end: a real Jupyter server, real endpoint hosts and scoring processes,
real HTTP from outside, as a user's curl or client would call them."""

from __future__ import annotations

import os
import signal
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers.servers import ServerProcess, wait_until
from jupyter_modelhub.errors import Conflict, InvalidInput

X, y = make_classification(300, 20, random_state=0)
CLF = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
CLF2 = make_pipeline(StandardScaler(), LogisticRegression(C=0.01)).fit(X, y)

SCORE_PY = textwrap.dedent("""
    import json, os, joblib
    model = None
    def init():
        global model
        model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.joblib"))
    def run(raw_data):
        data = json.loads(raw_data)["data"]
        if data == "boom":
            raise ValueError("boom was asked for")
        return {"labels": model.predict(data).tolist(), "script": "azure"}
""")


@pytest.fixture(scope="module")
def hub(hub_server):
    client = hub_server.client()
    client.register("churn", CLF, sample=X[:5])
    client.register("churn", CLF2, sample=X[:5])
    return client


def running(pid: int) -> bool:
    """Alive and not a zombie (an exited orphan may wait a while for init to reap it)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def status(server: ServerProcess, name: str) -> dict:
    import json

    return json.loads((server.root / "endpoints" / name / "status.json").read_text())


def post(endpoint, path, payload, key=True, **headers):
    if key and endpoint.key:
        headers["Authorization"] = f"Bearer {endpoint.key}"
    return requests.post(endpoint["url"] + path, json=payload, headers=headers, timeout=30)


def test_deploy_and_call_every_protocol_from_outside(hub):
    started = time.perf_counter()
    ep = hub.deploy("churn-ep", "churn:1")
    assert time.perf_counter() - started < 10
    assert ep["state"] == "healthy" and ep["traffic"] == {"blue": 100} and ep["url"].startswith("http://127.0.0.1:")
    expected = CLF.predict(X[:3]).tolist()
    assert post(ep, "/score", {"data": X[:3].tolist()}).json()["predictions"] == expected
    mlflow = post(ep, "/invocations", {"dataframe_split": {"data": X[:3].tolist()}}).json()
    assert mlflow["predictions"]["predictions"] == expected
    v2 = post(
        ep,
        "/v2/models/churn/infer",
        {"inputs": [{"name": "input", "shape": [3, 20], "datatype": "FP64", "data": X[:3].ravel().tolist()}]},
    ).json()
    assert next(o for o in v2["outputs"] if o["name"] == "predictions")["data"] == expected
    assert ep.predict(X[:3])["predictions"] == expected, "the handle's predict() goes through the endpoint"
    assert requests.get(ep["url"] + "/v2/health/ready", timeout=5).status_code == 200, "readiness needs no key"


def test_keys_are_required_and_can_be_regenerated(hub):
    ep = hub.endpoint("churn-ep")
    assert post(ep, "/score", {"data": X[:1].tolist()}, key=False).status_code == 401
    old = ep.key
    keys = hub.regenerate_key("churn-ep", "primary")
    assert keys["primary"] != old
    wait_until(
        lambda: post(ep, "/score", {"data": X[:1].tolist()}).status_code == 401, 10, "the old key to stop working"
    )
    assert post(hub.endpoint("churn-ep"), "/score", {"data": X[:1].tolist()}).status_code == 200


def test_bad_payloads_get_a_400_naming_what_was_expected(hub):
    ep = hub.endpoint("churn-ep")
    response = post(ep, "/score", {"data": [[1.0, 2.0]]})
    assert response.status_code == 400 and "20" in response.text
    response = requests.post(
        ep["url"] + "/score", data=b"{not json", timeout=10, headers={"Authorization": f"Bearer {ep.key}"}
    )
    assert response.status_code == 400 and "JSON" in response.text


def test_logs_can_be_followed_as_requests_arrive(hub):
    ep = hub.endpoint("churn-ep")
    lines = hub.follow_logs("churn-ep", "blue", tail=0, timeout=20)
    marker = "/score?follow-marker"
    threading.Timer(0.5, lambda: post(ep, marker, {"data": X[:1].tolist()})).start()
    assert any(marker in line for line in lines), "the new request's access line is streamed"
    lines.close()


def test_a_version_in_use_cannot_be_deleted(hub):
    with pytest.raises(Conflict, match="endpoint churn-ep \\(deployment blue\\)"):
        hub.delete("churn:1")


def test_traffic_split_is_within_tolerance_over_1000_requests(hub):
    hub.deploy("churn-ep", "churn:2", deployment="green")
    ep = hub.set_traffic("churn-ep", {"blue": 70, "green": 30})
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ep.key}"
    served = Counter(
        session.post(ep["url"] + "/score", json={"data": X[:1].tolist()}, timeout=10).headers["x-modelhub-deployment"]
        for _ in range(1000)
    )
    assert 640 <= served["blue"] <= 760 and served["blue"] + served["green"] == 1000, served
    forced = session.post(
        ep["url"] + "/score", json={"data": X[:1].tolist()}, headers={"azureml-model-deployment": "green"}
    )
    assert forced.headers["x-modelhub-deployment"] == "green"


def test_mirror_copies_requests_and_discards_the_answers(hub, hub_server):
    hub.set_traffic("churn-ep", {"blue": 100, "green": 0})
    ep = hub.set_traffic("churn-ep", mirror={"deployment": "green", "percent": 50})
    assert ep["mirror"] == {"deployment": "green", "percent": 50}
    for _ in range(100):
        assert post(ep, "/score", {"data": X[:1].tolist()}).headers["x-modelhub-deployment"] == "blue"
    log = hub_server.root / "endpoints" / "churn-ep" / "logs" / "green.log"
    wait_until(lambda: log.read_text().count("mirror POST /score -> 200") >= 25, 10, "mirrored requests in green's log")
    assert log.read_text().count("mirror POST /score -> 200") <= 75
    with pytest.raises(InvalidInput, match="receives live traffic"):
        hub.set_traffic("churn-ep", {"blue": 50, "green": 50}, mirror={"deployment": "green", "percent": 10})
    hub.set_traffic("churn-ep", mirror={})


def test_deleting_a_deployment_with_traffic_is_refused(hub):
    with pytest.raises(Conflict, match="move it first"):
        hub.undeploy("churn-ep", "blue")
    ep = hub.undeploy("churn-ep", "green")
    assert [d["name"] for d in ep["deployments"]] == ["blue"]


def test_the_last_deployment_is_removed_only_when_the_caller_says_so(hub, hub_server):
    ep = hub.deploy("last-ep", "churn:1")
    url = hub_server.url + "modelhub/api/endpoints/last-ep/deployments/blue"
    refused = hub_server.session.delete(url, timeout=30)
    assert refused.status_code == 409, refused.text
    message = refused.json()["message"]
    assert "last deployment" in message and "100%" in message
    assert "%undeploy last-ep" in message and "force=true" in message, "says how to remove it or the endpoint"
    assert [d["name"] for d in hub.endpoint("last-ep")["deployments"]] == ["blue"], "nothing changed"
    assert post(ep, "/score", {"data": X[:1].tolist()}).status_code == 200, "it still serves"
    removed = hub_server.session.delete(url, params={"force": "true"}, timeout=30)
    assert removed.status_code == 200, removed.text
    assert removed.json()["deployments"] == [] and removed.json()["name"] == "last-ep"
    hub.undeploy("last-ep")


def test_update_under_load_fails_no_request(hub):
    ep = hub.endpoint("churn-ep")
    failures, done, count = [], threading.Event(), [0]

    def load():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {ep.key}"
        while not done.is_set():
            try:
                response = session.post(ep["url"] + "/score", json={"data": X[:1].tolist()}, timeout=10)
                if response.status_code != 200:
                    failures.append(response.status_code)
            except requests.RequestException as exc:
                failures.append(repr(exc))
            count[0] += 1

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: count[0] > 50, 20, "load to start")
        updated = hub.deploy("churn-ep", "churn:2")  # blue moves from churn:1 to churn:2
        wait_until(lambda: count[0] > 200, 30, "load after the update")
    finally:
        done.set()
        for t in threads:
            t.join()
    assert failures == [] and count[0] > 200
    assert [d["ref"] for d in updated["deployments"]] == ["churn:2"]
    timeline = hub.timeline(endpoint="churn-ep")["records"]
    blue = [r for r in timeline if r["deployment"] == "blue"]
    assert (
        [r["ref"] for r in blue[:2]] == ["churn:2", "churn:1"] and blue[1]["ended_time"] and not blue[0]["ended_time"]
    )


def test_a_killed_deployment_is_restarted_and_counted(hub, hub_server):
    before = status(hub_server, "churn-ep")["deployments"]["blue"]
    os.kill(before["pid"], signal.SIGKILL)
    wait_until(
        lambda: (
            status(hub_server, "churn-ep")["deployments"]["blue"].get("pid") not in (None, before["pid"])
            and status(hub_server, "churn-ep")["deployments"]["blue"]["state"] == "healthy"
        ),
        30,
        "the restart",
    )
    ep = hub.endpoint("churn-ep")
    assert ep["deployments"][0]["restarts"] == before["restarts"] + 1
    assert post(ep, "/score", {"data": X[:1].tolist()}).status_code == 200


def test_a_killed_worker_is_replaced(hub, hub_server):
    hub.deploy("workers-ep", "churn:2", instances=2, auth="none")
    runtime = status(hub_server, "workers-ep")["deployments"]["blue"]["pid"]
    children = Path(f"/proc/{runtime}/task/{runtime}/children").read_text().split()
    assert len(children) == 2
    os.kill(int(children[0]), signal.SIGKILL)
    wait_until(
        lambda: (
            len(Path(f"/proc/{runtime}/task/{runtime}/children").read_text().split()) == 2
            and children[0] not in Path(f"/proc/{runtime}/task/{runtime}/children").read_text().split()
        ),
        30,
        "the worker to be replaced",
    )
    ep = hub.endpoint("workers-ep")
    answers = [requests.post(ep["url"] + "/score", json={"data": X[:1].tolist()}, timeout=10) for _ in range(20)]
    assert all(a.ok for a in answers), [(a.status_code, a.text) for a in answers if not a.ok][:3]
    hub.undeploy("workers-ep")


def test_entry_script_follows_the_azure_contract_and_survives_a_failing_run(hub, tmp_path):
    script = tmp_path / "score.py"
    script.write_text(SCORE_PY)
    ep = hub.deploy("script-ep", "churn:1", entry_script=script, auth="none")
    answer = requests.post(ep["url"] + "/score", json={"data": X[:2].tolist()}, timeout=10).json()
    assert answer == {"labels": CLF.predict(X[:2]).tolist(), "script": "azure"}
    failing = requests.post(ep["url"] + "/score", json={"data": "boom"}, timeout=10)
    assert failing.status_code == 500 and "ValueError" in failing.text and "boom was asked for" in failing.text
    assert requests.post(ep["url"] + "/score", json={"data": X[:1].tolist()}, timeout=10).ok, "still serving"
    assert "ValueError: boom was asked for" in hub.logs("script-ep", "blue")


def test_a_deployment_that_cannot_start_fails_with_its_reason(hub, tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("def init():\n    raise RuntimeError('no model here')\n\ndef run(raw):\n    return raw\n")
    with pytest.raises(InvalidInput, match="failed to start") as error:
        hub.deploy("broken-ep", "churn:1", entry_script=script)
    assert "no model here" in str(error.value)
    assert hub.endpoint("broken-ep")["deployments"][0]["state"] == "failed"
    hub.undeploy("broken-ep")


def test_port_conflicts_and_bad_requests_are_clear(hub, hub_server):
    with pytest.raises(Conflict, match=f"Port {hub_server.port} is already in use"):
        hub.deploy("clash-ep", "churn:1", port=hub_server.port)
    with pytest.raises(InvalidInput, match="Invalid endpoint name"):
        hub.deploy("bad name", "churn:1")
    with pytest.raises(InvalidInput, match="must add up to 100"):
        hub.set_traffic("churn-ep", {"blue": 50})
    with pytest.raises(Exception, match="no version 9"):
        hub.deploy("clash-ep", "churn:9")
    assert [e["name"] for e in hub.endpoints()] == [e["name"] for e in hub.endpoints() if e["name"] != "clash-ep"]


def test_undeploy_stops_the_processes_and_frees_the_port(hub, hub_server):
    ep = hub.endpoint("script-ep")
    pid = status(hub_server, "script-ep")["pid"]
    hub.undeploy("script-ep")
    assert not running(pid)
    with pytest.raises(requests.ConnectionError):
        requests.get(ep["url"] + "/", timeout=5)


@pytest.mark.slow  # a server crashed and started again: make test, not make test-fast
def test_endpoints_survive_a_server_crash_and_restart_with_a_clean_restart(tmp_path):
    server = ServerProcess(tmp_path)
    client = server.client()
    client.register("m", CLF, sample=X[:2])
    ep = client.deploy("keep-ep", "m", auth="none")
    host_pid = status(server, "keep-ep")["pid"]
    server.process.kill()  # a crash: the endpoint keeps serving without its server
    server.process.wait()
    assert requests.post(ep["url"] + "/score", json={"data": X[:1].tolist()}, timeout=10).ok
    again = ServerProcess(tmp_path, port=server.port)
    try:
        adopted = again.client().endpoint("keep-ep")
        assert adopted["state"] == "healthy" and status(again, "keep-ep")["pid"] == host_pid, "adopted, not restarted"
        again.stop()  # a clean shutdown stops the endpoint ...
        assert not running(host_pid)
        with pytest.raises(requests.ConnectionError):
            requests.get(ep["url"] + "/", timeout=5)
        again = ServerProcess(tmp_path, port=server.port)  # ... and the next start brings it back
        wait_until(lambda: again.client().endpoint("keep-ep")["state"] == "healthy", 30, "the endpoint to restart")
        assert requests.post(ep["url"] + "/score", json={"data": X[:1].tolist()}, timeout=10).ok
    finally:
        if again.process.poll() is None:
            again.client().undeploy("keep-ep")
            again.stop()


ENV_SCRIPT = textwrap.dedent("""
    import sys
    def init():
        pass
    def run(raw_data):
        import six
        return {"prefix": sys.prefix, "six": six.__version__}
""")


@pytest.mark.slow  # builds a virtual environment: make test, not make test-fast
def test_a_requirements_file_gets_an_isolated_cached_environment(hub, hub_server, tmp_path):
    (tmp_path / "score.py").write_text(ENV_SCRIPT)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    ep = hub.deploy(
        "env-ep", "churn:1", entry_script=tmp_path / "score.py", requirements=tmp_path / "requirements.txt", auth="none"
    )
    answer = requests.post(ep["url"] + "/score", json={"data": []}, timeout=10).json()
    assert answer["six"] == "1.16.0" and answer["prefix"].startswith(str(hub_server.root / "envs"))
    started = time.perf_counter()
    again = hub.deploy(
        "env-ep",
        "churn:1",
        deployment="green",
        entry_script=tmp_path / "score.py",
        requirements=tmp_path / "requirements.txt",
        auth="none",
    )
    assert time.perf_counter() - started < 15, "the cached environment is reused, not rebuilt"
    assert len(list((hub_server.root / "envs").glob("*/.ready"))) == 1
    assert again["state"] == "healthy"
    hub.undeploy("env-ep")


def test_reload_restarts_the_deployment_when_its_script_changes(hub, hub_server):
    folder = hub_server.folder / "notebooks"  # --reload watches files under the server's root only
    script = folder / "reloading.py"
    script.write_text("def init():\n    pass\n\ndef run(raw):\n    return 'first'\n")
    ep = hub.deploy("reload-ep", "churn:1", entry_script=script, reload=True, auth="none")
    assert requests.post(ep["url"] + "/score", json={"data": []}, timeout=10).json() == "first"
    script.write_text("def init():\n    pass\n\ndef run(raw):\n    return 'second'\n")
    wait_until(
        lambda: requests.post(ep["url"] + "/score", json={"data": []}, timeout=10).json() == "second",
        30,
        "the edited script to be served",
    )
    outside = Path(os.environ.get("TMPDIR", "/tmp")) / "outside-root.py"
    outside.write_text("def init(): pass\ndef run(raw): return 1\n")
    with pytest.raises(InvalidInput, match="outside the server's folders"):
        hub.deploy("reload-ep", "churn:1", deployment="green", entry_script=outside, reload=True)
    hub.undeploy("reload-ep")
