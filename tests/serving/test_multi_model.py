"""Many versions on one endpoint (``--multi``, issue 24): loaded on first request, the least
recently used unloaded under a memory budget, the Open Inference Protocol repository extension.

The runtime tests start ``python -m jupyter_modelhub.serving --repository FILE`` as a process over
real model folders and call it with requests and ``tritonclient.http``; the endpoint tests
register 100 small scikit-learn versions on a real Jupyter server, deploy them with ``multi`` and
call them through the endpoint's host with its key. Which versions stay loaded is checked against
the order they were used, never against timing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import requests

from helpers import serving
from helpers.serving import ServingProcess
from jupyter_modelhub.errors import Conflict, InvalidInput

joblib = pytest.importorskip("joblib")
pytest.importorskip("sklearn")

FEATURES = 4
SIGNATURE = {"inputs": [{"name": "input", "dtype": "float64", "shape": [-1, FEATURES]}], "outputs": []}


def fitted(seed: int, rows: int = 60, tree: bool = False):
    return serving.fitted(seed, FEATURES, rows, tree)


def infer_body(rows: np.ndarray) -> dict:
    return {"inputs": [{"name": "input", "shape": list(rows.shape), "datatype": "FP64", "data": rows.ravel().tolist()}]}


ROWS = np.random.default_rng(5).normal(size=(3, FEATURES))


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> dict:
    """Folders for: 'small' 1..20 (logistic regressions), 'big' 1..6 (trees of about 300 kB each),
    'huge' 1 (a tree of about 3 MB), and the repository file listing them."""
    root = tmp_path_factory.mktemp("repository")
    models, entries = {}, []

    def add(name: str, version: int, model) -> None:
        folder = root / f"{name}-{version}"
        folder.mkdir()
        joblib.dump(model, folder / "model.joblib")
        models[(name, str(version))] = model
        entries.append(
            {
                "name": name,
                "version": str(version),
                "model_dir": str(folder),
                "flavor": "sklearn",
                "signature": SIGNATURE,
            }
        )

    for version in range(1, 21):
        add("small", version, fitted(version))
    for version in range(1, 7):
        add("big", version, fitted(100 + version, rows=6000, tree=True))
    add("huge", 1, fitted(200, rows=60000, tree=True))
    path = root / "repository.json"
    path.write_text(json.dumps({"models": entries}))
    return {"path": path, "models": models, "first": entries[0]["model_dir"]}


@pytest.fixture(scope="module")
def runtime(repository):
    server = ServingProcess(
        repository["first"], "--repository", str(repository["path"]), "--memory-budget", "1M", "--grpc-port", "0"
    )
    yield server
    server.stop()


def index(server) -> dict[tuple[str, str], dict]:
    response = server.post("/v2/repository/index", json={})
    assert response.status_code == 200, response.text
    return {(row["name"], row["version"]): row for row in response.json()}


def infer(server, name: str, version: str | None = None) -> requests.Response:
    path = f"/v2/models/{name}" + (f"/versions/{version}" if version else "") + "/infer"
    return server.post(path, json=infer_body(ROWS))


def test_versions_load_on_first_request_and_answer_as_themselves(runtime, repository):
    before = index(runtime)
    assert len(before) == 27
    assert before[("small", "3")]["state"] == "UNAVAILABLE" and "first request" in before[("small", "3")]["reason"]
    for version in ("3", "7", "12"):
        response = infer(runtime, "small", version)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["model_name"] == "small" and answer["model_version"] == version
        expected = repository["models"][("small", version)].predict(ROWS).tolist()
        assert answer["outputs"][0]["data"] == expected
    latest = infer(runtime, "small").json()  # no version: the latest
    assert latest["model_version"] == "20"
    after = index(runtime)
    assert after[("small", "12")] == {"name": "small", "version": "12", "state": "READY", "reason": ""}
    ready = runtime.post("/v2/repository/index", json={"ready": True}).json()
    assert {(r["name"], r["version"]) for r in ready} >= {("small", "3"), ("small", "7"), ("small", "12")}
    assert all(r["state"] == "READY" for r in ready)
    assert runtime.get("/v2/models/small/versions/12/ready").json()["ready"] is True
    unloaded = runtime.get("/v2/models/small/versions/13/ready")
    assert unloaded.status_code == 503 and unloaded.json()["state"] == "UNAVAILABLE"
    metadata = runtime.get("/v2/models/small/versions/13").json()
    assert metadata["versions"] == [str(v) for v in range(1, 21)]
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, FEATURES]}]


def test_requests_arriving_together_for_an_unloaded_version_share_one_load(runtime, repository):
    from concurrent.futures import ThreadPoolExecutor

    def call(_):
        with requests.Session() as session:  # a connection each: the requests arrive together
            return session.post(f"{runtime.url}/v2/models/small/versions/9/infer", json=infer_body(ROWS))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(8)))
    expected = repository["models"][("small", "9")].predict(ROWS).tolist()
    assert all(a.status_code == 200 and a.json()["outputs"][0]["data"] == expected for a in answers)
    text = runtime.get("/metrics").text
    assert 'modelhub_model_loads_total{model="small",version="9"} 1' in text
    assert 'modelhub_model_requests_total{model="small",version="9"} 8' in text


def test_least_recently_used_versions_unload_to_stay_within_the_budget(runtime):
    used = ["1", "2", "3", "1", "4", "5", "1", "6"]
    for version in used:
        assert infer(runtime, "big", version).status_code == 200
    states = index(runtime)
    loaded = [v for v in ("1", "2", "3", "4", "5", "6") if states[("big", v)]["state"] == "READY"]
    # The loaded ones are the most recently used: those used last, in that order, as many as fit.
    recency = list(dict.fromkeys(reversed(used)))  # 6, 1, 5, 4, 3, 2
    assert loaded and sorted(loaded) == sorted(recency[: len(loaded)]), (loaded, states)
    assert "6" in loaded and len(loaded) < 6
    evicted = states[("big", recency[len(loaded)])]
    assert evicted["state"] == "UNAVAILABLE" and "least recently used" in evicted["reason"]
    assert "memory budget of 1.0 MiB" in evicted["reason"]
    # The metrics say the same: what is loaded, and that it fits the budget.
    text = runtime.get("/metrics").text
    resident = [float(v) for v in re.findall(r'modelhub_model_resident_bytes\{model="\w+",version="\w+"\} (\S+)', text)]
    assert 0 < sum(resident) <= 2**20
    assert f'modelhub_model_loaded{{model="big",version="{recency[0]}"}} 1' in text
    assert f'modelhub_model_loaded{{model="big",version="{recency[len(loaded)]}"}} 0' in text
    assert re.search(r'modelhub_model_unloads_total\{model="big",version="\d"\} [1-9]', text)
    # An evicted version loads again when asked.
    assert infer(runtime, "big", recency[len(loaded)]).status_code == 200


def test_a_version_larger_than_the_whole_budget_is_refused_with_the_budget(runtime):
    response = infer(runtime, "huge", "1")
    assert response.status_code == 507
    message = response.json()["error"]
    assert "memory budget of 1.0 MiB" in message and "--memory-budget" in message
    assert index(runtime)[("huge", "1")]["state"] == "UNAVAILABLE"
    assert "memory budget" in index(runtime)[("huge", "1")]["reason"]
    assert infer(runtime, "small", "1").status_code == 200  # the others still serve


def test_unknown_models_and_versions_are_404s_naming_what_is_served(runtime):
    unknown = infer(runtime, "churn")
    assert unknown.status_code == 404
    assert "'churn'" in unknown.json()["error"] and "'small'" in unknown.json()["error"]
    missing = infer(runtime, "big", "9")
    assert missing.status_code == 404
    assert "no version '9'" in missing.json()["error"] and "1, 2, 3, 4, 5, 6" in missing.json()["error"]
    assert runtime.post("/v2/repository/models/churn/load").status_code == 404
    score = runtime.post("/score", json={"data": ROWS.tolist()})
    assert score.status_code == 404 and "/v2/models/NAME" in score.json()["message"]


def test_per_version_metrics_count_requests_and_errors(runtime):
    for _ in range(3):
        assert infer(runtime, "small", "17").status_code == 200
    bad = runtime.post("/v2/models/small/versions/17/infer", json={"inputs": [{"name": "input"}]})
    assert bad.status_code == 400
    text = runtime.get("/metrics").text
    assert 'modelhub_model_requests_total{model="small",version="17"} 4' in text
    assert 'modelhub_model_errors_total{model="small",version="17"} 1' in text
    seconds = re.search(r'modelhub_model_request_seconds_total\{model="small",version="17"\} (\S+)', text)
    assert float(seconds.group(1)) > 0
    assert 'modelhub_model_requests_total{model="small",version="18"} 0' in text


def test_tritonclient_repository_calls(runtime, repository):
    httpclient = pytest.importorskip("tritonclient.http")
    from tritonclient.utils import InferenceServerException

    client = httpclient.InferenceServerClient(runtime.url.removeprefix("http://"), network_timeout=30)
    try:
        assert "model_repository" in client.get_server_metadata()["extensions"]
        given = httpclient.InferInput("input", list(ROWS.shape), "FP64")
        given.set_data_from_numpy(ROWS)
        client.infer("small", [given], model_version="19")
        assert client.is_model_ready("small", "19")
        client.unload_model("small")
        assert not client.is_model_ready("small", "20")
        client.load_model("small")  # the latest version
        assert client.is_model_ready("small", "20")
        rows = {(m["name"], m["version"]): m for m in client.get_model_repository_index()}
        assert rows[("small", "20")]["state"] == "READY"
        assert rows[("small", "19")]["state"] == "UNAVAILABLE" and "by request" in rows[("small", "19")]["reason"]
        for version in ("4", "19"):
            result = client.infer("small", [given], model_version=version)
            assert result.as_numpy("label").tolist() == repository["models"][("small", version)].predict(ROWS).tolist()
        with pytest.raises(InferenceServerException, match="no version '42'"):
            client.infer("small", [given], model_version="42")
    finally:
        client.close()


def test_grpc_answers_each_version_as_rest_does(runtime, repository):
    """The same versions over gRPC (tritonclient.grpc, its defaults): the same answers, the same
    error messages (507 is RESOURCE_EXHAUSTED), counted in the same per-version metrics."""
    grpcclient = pytest.importorskip("tritonclient.grpc")
    from tritonclient.utils import InferenceServerException

    client = grpcclient.InferenceServerClient(f"127.0.0.1:{runtime.grpc_port}")
    try:
        given = grpcclient.InferInput("input", list(ROWS.shape), "FP64")
        given.set_data_from_numpy(ROWS)
        for version in ("5", "6"):
            result = client.infer("small", [given], model_version=version)
            assert result.get_response().model_version == version
            assert result.as_numpy("label").tolist() == repository["models"][("small", version)].predict(ROWS).tolist()
        for (name, version), code in ((("huge", "1"), "RESOURCE_EXHAUSTED"), (("big", "9"), "NOT_FOUND")):
            rest = infer(runtime, name, version).json()["error"]
            with pytest.raises(InferenceServerException) as caught:
                client.infer(name, [given], model_version=version)
            assert caught.value.status() == f"StatusCode.{code}" and caught.value.message() == rest
        assert "model_repository" in client.get_server_metadata(as_json=True)["extensions"]
        text = runtime.get("/metrics").text
        assert 'modelhub_model_requests_total{model="small",version="5"} 1' in text
    finally:
        client.close()


def test_a_bad_budget_stops_the_runtime_with_what_to_give(repository):
    run = subprocess.run(
        [sys.executable, "-m", "jupyter_modelhub.serving", "--model-dir", repository["first"]]
        + ["--repository", str(repository["path"]), "--memory-budget", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "Invalid memory budget 'lots'" in run.stderr


# -- through an endpoint: 100 registered versions ------------------------------------------------


@pytest.fixture(scope="module")
def endpoint(hub_server):
    hub = hub_server.client()
    X = np.random.default_rng(1).normal(size=(5, FEATURES))
    models = {}
    for i in range(100):
        name, version = ("multi-a", i + 1) if i < 60 else ("multi-b", i - 59)
        models[(name, str(version))] = model = fitted(1000 + i)
        registered = hub.register(name, model, sample=X)
        assert registered["version"] == version
    ep = hub.deploy("multi-ep", multi=True, models=["multi-a", "multi-b"], memory_budget="64M")
    info = hub.endpoint("multi-ep")
    served = info["deployments"][0]["multi"]
    assert "serves 100 versions of multi-a, multi-b under 64.0 MB" in info.text(), info.text()
    assert served["memory_budget"] == 64 * 2**20 and len(served["versions"]) == 100
    assert served["versions"][:2] == ["multi-a:1", "multi-a:2"] and served["versions"][-1] == "multi-b:40"
    yield hub, ep, models
    hub.undeploy("multi-ep")


def test_an_endpoint_serves_100_registered_versions(endpoint):
    hub, ep, models = endpoint
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ep.key}"
    url = ep["url"]
    rows = session.post(f"{url}/v2/repository/index", json={}).json()
    assert len(rows) == 100 and {r["state"] for r in rows} == {"UNAVAILABLE"}
    asked = [("multi-a", str(v)) for v in range(1, 61, 3)] + [("multi-b", str(v)) for v in range(1, 41, 4)]
    for name, version in asked:
        response = session.post(f"{url}/v2/models/{name}/versions/{version}/infer", json=infer_body(ROWS))
        assert response.status_code == 200, response.text
        assert response.json()["outputs"][0]["data"] == models[(name, version)].predict(ROWS).tolist()
    latest = session.post(f"{url}/v2/models/multi-b/infer", json=infer_body(ROWS)).json()
    assert latest["model_version"] == "40"
    states = {(r["name"], r["version"]): r["state"] for r in session.post(f"{url}/v2/repository/index").json()}
    assert all(states[key] == "READY" for key in asked)
    assert states[("multi-a", "2")] == "UNAVAILABLE"
    # The host knows what the deployment serves: its 404s name it without asking the runtime.
    missing = session.post(f"{url}/v2/models/multi-b/versions/41/infer", json=infer_body(ROWS))
    assert missing.status_code == 404 and "no version '41'" in missing.text and "40" in missing.text
    unknown = session.post(f"{url}/v2/models/churn/infer", json=infer_body(ROWS))
    assert unknown.status_code == 404 and "'multi-a'" in unknown.text
    assert session.get(f"{url}/v2/models/multi-a/versions/7").json()["versions"][-1] == "60"
    text = session.get(f"{url}/metrics").text
    assert re.search(r'modelhub_model_requests_total\{[^}]*model="multi-a"[^}]*version="1"[^}]*\} 1', text), text[:2000]
    # Without the key, nothing.
    assert requests.post(f"{url}/v2/repository/index", json={}).status_code == 401


def test_a_version_the_deployment_serves_cannot_be_deleted_or_archived(endpoint):
    hub, _, _ = endpoint
    for ref in ("multi-a:1", "multi-a:37", "multi-b:40"):  # its first version, and two among the others
        with pytest.raises(Conflict, match=r"used by endpoint multi-ep \(deployment blue\)"):
            hub.delete(ref)
        with pytest.raises(Conflict, match="multi-ep"):
            hub.archive(ref)
        assert "endpoint multi-ep (deployment blue)" in hub.version(ref)["used_by"]


def test_deploy_refuses_a_bad_budget_and_multi_only_options(endpoint):
    hub, _, _ = endpoint
    with pytest.raises(InvalidInput, match="Invalid memory budget 'lots'"):
        hub.deploy("multi-bad", multi=True, models=["multi-a"], memory_budget="lots")
    with pytest.raises(InvalidInput, match="apply with --multi"):
        hub.deploy("multi-bad", "multi-a:1", memory_budget="1G")
    with pytest.raises(InvalidInput, match="needs the models"):
        hub.deploy("multi-bad", multi=True)
    with pytest.raises(InvalidInput, match="not with --target docker"):
        hub.deploy("multi-bad", multi=True, models=["multi-a"], target="docker")


def test_the_deploy_magic_serves_the_versions_it_names(endpoint, shell):
    out = shell.run("ep2 = %deploy multi-ep2 --multi --models multi-b:1,multi-b:3 --memory-budget 32M")
    assert not out["error"], out
    ep2 = shell.ipython.user_ns["ep2"]
    try:
        headers = {"Authorization": f"Bearer {ep2.key}"}
        rows = requests.post(f"{ep2['url']}/v2/repository/index", json={}, headers=headers).json()
        assert [(r["name"], r["version"]) for r in rows] == [("multi-b", "1"), ("multi-b", "3")]
        latest = requests.post(f"{ep2['url']}/v2/models/multi-b/infer", json=infer_body(ROWS), headers=headers)
        assert latest.json()["model_version"] == "3"
    finally:
        shell.run("%undeploy multi-ep2")
    assert "apply with --multi" in shell.run("%deploy multi-ep3 --memory-budget 1G")["error"]
    assert "needs the models" in shell.run("%deploy multi-ep3 --multi")["error"]
