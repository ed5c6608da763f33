"""A multi-model endpoint (``--multi``) over gRPC, called with tritonclient.grpc with its defaults.

Registered on a real Jupyter server and deployed with ``multi``: 'gm-small' (two logistic
regressions that answer differently) and 'gm-big' (four trees of about 650 kB each, under a
2 MiB budget, so they cannot all stay loaded). Each version answers as itself, loads on its
first call and is unloaded when least recently used, as over REST; unknown versions are
NOT_FOUND naming what is served; the key is required; the repository extension's calls work
through the endpoint; a second deployment takes its share of the traffic. Which versions stay
loaded is checked against the order they were used, never against timing.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
import requests

from helpers.servers import wait_until
from helpers.serving import fitted

grpcclient = pytest.importorskip("tritonclient.grpc")
pytest.importorskip("sklearn")
from tritonclient.utils import InferenceServerException  # noqa: E402

FEATURES = 4
ROWS = np.random.default_rng(7).normal(size=(5, FEATURES))
BIG_ROWS = 14000  # a tree of about 650 kB as skops: four of them are well over the 2 MiB budget
CALLS = 60


@pytest.fixture(scope="module")
def endpoint(hub_server):
    hub = hub_server.client()
    sample = np.random.default_rng(1).normal(size=(5, FEATURES))
    models = {}
    for version in (1, 2):
        models[("gm-small", str(version))] = model = fitted(version, FEATURES)
        hub.register("gm-small", model, sample=sample)
    for version in (1, 2, 3, 4):
        models[("gm-big", str(version))] = model = fitted(100 + version, FEATURES, rows=BIG_ROWS, tree=True)
        hub.register("gm-big", model, sample=sample, format="skops")  # the other format a version can have
    ep = hub.deploy("gm-ep", multi=True, models=["gm-small", "gm-big"], memory_budget="2M")
    client = grpcclient.InferenceServerClient(ep["grpc_url"])
    yield hub, ep, client, models
    client.close()
    hub.undeploy("gm-ep")


def given(x: np.ndarray = ROWS) -> list:
    tensor = grpcclient.InferInput("input", list(x.shape), "FP64")
    tensor.set_data_from_numpy(x)
    return [tensor]


def key(ep) -> dict:
    return {"authorization": f"Bearer {ep.key}"}


def labels(result) -> list:
    return result.as_numpy(result.get_response().outputs[0].name).tolist()


def states(client, ep) -> dict:
    index = client.get_model_repository_index(headers=key(ep), as_json=True)["models"]
    return {(row["name"], row["version"]): row for row in index}


def test_a_multi_endpoint_shows_its_grpc_address(endpoint):
    hub, _, _, _ = endpoint
    described = hub.endpoint("gm-ep")
    assert re.fullmatch(r"127\.0\.0\.1:\d+", described["grpc_url"])
    assert f"gRPC (Open Inference Protocol): {described['grpc_url']}" in described.text()


def test_each_version_answers_as_itself_and_is_counted(endpoint, hub_server):
    _, ep, client, models = endpoint
    for version in ("1", "2"):
        for _ in range(3):
            result = client.infer("gm-small", given(), model_version=version, request_id="m-1", headers=key(ep))
            answer = result.get_response()
            assert (answer.model_name, answer.model_version, answer.id) == ("gm-small", version, "m-1")
            assert labels(result) == models[("gm-small", version)].predict(ROWS).tolist()
    assert models[("gm-small", "1")].predict(ROWS).tolist() != models[("gm-small", "2")].predict(ROWS).tolist()
    latest = client.infer("gm-small", given(), headers=key(ep))  # no version: the latest
    assert latest.get_response().model_version == "2"
    assert client.is_model_ready("gm-small", "1", headers=key(ep))
    metadata = client.get_model_metadata("gm-small", headers=key(ep), as_json=True)
    assert metadata["versions"] == ["1", "2"]
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP64", "shape": ["-1", str(FEATURES)]}]
    assert client.get_model_metadata("gm-big", "3", headers=key(ep), as_json=True)["versions"] == [
        "1",
        "2",
        "3",
        "4",
    ]
    # per-version metrics count gRPC calls as they count REST ones
    text = requests.get(f"{ep['url']}/metrics", headers={"Authorization": f"Bearer {ep.key}"}, timeout=10).text
    assert re.search(r'modelhub_model_requests_total\{[^}]*model="gm-small"[^}]*version="1"[^}]*\} 3\b', text), text


def test_unknown_versions_and_models_are_not_found(endpoint):
    _, ep, client, _ = endpoint
    with pytest.raises(InferenceServerException) as caught:
        client.infer("gm-small", given(), model_version="7", headers=key(ep))
    assert caught.value.status() == "StatusCode.NOT_FOUND"
    assert "no version '7'" in caught.value.message() and "1, 2" in caught.value.message()
    with pytest.raises(InferenceServerException) as caught:
        client.is_model_ready("gm-big", "9", headers=key(ep))
    assert caught.value.status() == "StatusCode.NOT_FOUND" and "no version '9'" in caught.value.message()
    with pytest.raises(InferenceServerException) as caught:
        client.infer("churn", given(), headers=key(ep))
    assert caught.value.status() == "StatusCode.NOT_FOUND"
    assert "'gm-big'" in caught.value.message() and "'gm-small'" in caught.value.message()


def test_the_key_is_required(endpoint):
    _, ep, client, _ = endpoint
    for call in (
        lambda headers: client.infer("gm-small", given(), model_version="1", headers=headers),
        lambda headers: client.get_model_metadata("gm-small", headers=headers),
        lambda headers: client.get_model_repository_index(headers=headers),
        lambda headers: client.unload_model("gm-small", headers=headers),
    ):
        for headers in (None, {"authorization": "Bearer not-the-key"}):
            with pytest.raises(InferenceServerException) as caught:
                call(headers)
            assert caught.value.status() == "StatusCode.UNAUTHENTICATED"
            assert "authorization: Bearer KEY" in caught.value.message()
    assert client.is_server_live() and client.is_server_ready()  # health needs none


def test_least_recently_used_versions_unload_under_the_budget(endpoint):
    _, ep, client, models = endpoint
    assert not client.is_model_ready("gm-big", "4", headers=key(ep))  # nothing asked for it yet
    for version in ("1", "2", "3", "4"):
        result = client.infer("gm-big", given(), model_version=version, headers=key(ep))
        assert labels(result) == models[("gm-big", version)].predict(ROWS).tolist()
    assert client.is_model_ready("gm-big", "4", headers=key(ep))
    assert not client.is_model_ready("gm-big", "1", headers=key(ep))  # used first: unloaded first
    first = states(client, ep)[("gm-big", "1")]
    assert first["state"] == "UNAVAILABLE"
    assert "least recently used" in first["reason"] and "memory budget of 2.0 MiB" in first["reason"]
    # an unloaded version loads again when asked, and answers as itself
    again = client.infer("gm-big", given(), model_version="1", headers=key(ep))
    assert labels(again) == models[("gm-big", "1")].predict(ROWS).tolist()
    assert client.is_model_ready("gm-big", "1", headers=key(ep))


def test_the_repository_extension_through_the_endpoint(endpoint):
    _, ep, client, _ = endpoint
    assert "model_repository" in client.get_server_metadata(headers=key(ep), as_json=True)["extensions"]
    client.infer("gm-small", given(), model_version="1", headers=key(ep))
    client.unload_model("gm-small", headers=key(ep))
    unloaded = states(client, ep)
    assert unloaded[("gm-small", "1")]["state"] == "UNAVAILABLE"
    assert "by request" in unloaded[("gm-small", "1")]["reason"]
    client.load_model("gm-small", headers=key(ep))  # the latest version
    assert client.is_model_ready("gm-small", "2", headers=key(ep))
    assert not client.is_model_ready("gm-small", "1", headers=key(ep))
    ready = client.get_model_repository_index(headers=key(ep), as_json=True)["models"]
    assert ("gm-small", "2") in {(row["name"], row["version"]) for row in ready if row.get("state") == "READY"}
    # the same index as REST's
    rest = requests.post(
        f"{ep['url']}/v2/repository/index", json={}, headers={"Authorization": f"Bearer {ep.key}"}, timeout=10
    ).json()
    assert [(r["name"], r["version"], r["state"]) for r in rest] == [
        (r["name"], r["version"], r["state"]) for r in states(client, ep).values()
    ]
    with pytest.raises(InferenceServerException) as caught:
        client.load_model("churn", headers=key(ep))
    assert caught.value.status() == "StatusCode.NOT_FOUND" and "'gm-small'" in caught.value.message()


def test_the_traffic_split_and_versions_only_one_deployment_serves(endpoint):
    """A second multi-model deployment serving gm-small:2 alone takes its share of calls that name
    no version; version 1, which only blue serves, always goes to blue."""
    import grpc
    from tritonclient.grpc import service_pb2, service_pb2_grpc

    hub, ep, client, models = endpoint
    hub.deploy("gm-ep", multi=True, models=["gm-small:2"], memory_budget="2M", deployment="green")
    hub.set_traffic("gm-ep", {"blue": 50, "green": 50})
    try:
        request = service_pb2.ModelInferRequest(model_name="gm-small")
        request.inputs.add(name="input", datatype="FP64", shape=list(ROWS.shape))
        request.raw_input_contents.append(ROWS.astype(np.float64).tobytes())
        served = Counter()
        with grpc.insecure_channel(ep["grpc_url"]) as channel:
            infer = service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer
            for _ in range(CALLS):
                response, call = infer.with_call(request, metadata=tuple(key(ep).items()), timeout=30)
                assert response.model_version == "2"
                served[dict(call.trailing_metadata())["x-modelhub-deployment"]] += 1
            assert 0.2 * CALLS < served["green"] < 0.8 * CALLS, served  # 50/50 (outside: p < 1e-5)
            request.model_version = "1"
            for _ in range(10):
                response, call = infer.with_call(request, metadata=tuple(key(ep).items()), timeout=30)
                assert response.model_version == "1"
                assert dict(call.trailing_metadata())["x-modelhub-deployment"] == "blue"
    finally:
        hub.set_traffic("gm-ep", {"blue": 100, "green": 0})
        hub.undeploy("gm-ep", deployment="green")


def test_collected_calls_name_the_version_that_answered(endpoint):
    """Payload collection on a multi-model endpoint records, for each call, the version that answered
    it (the one named, or the latest when none is), over gRPC and over HTTP alike."""
    hub, ep, client, _ = endpoint
    hub.collect("gm-ep", collect=["requests"])
    try:
        calls = {}
        for model, version in (("gm-small", "1"), ("gm-big", "3"), ("gm-small", "")):
            rid = f"grpc-{model}-{version or 'latest'}"
            client.infer(model, given(), model_version=version, headers={**key(ep), "x-request-id": rid})
            calls[rid] = (model, int(version or 2))
        body = {
            "inputs": [{"name": "input", "shape": list(ROWS.shape), "datatype": "FP64", "data": ROWS.ravel().tolist()}]
        }
        for path, served in (("/v2/models/gm-small/versions/1/infer", 1), ("/v2/models/gm-small/infer", 2)):
            rid = f"http-{served}"
            answer = requests.post(
                ep["url"] + path,
                json=body,
                headers={"Authorization": f"Bearer {ep.key}", "x-request-id": rid},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            calls[rid] = ("gm-small", served)

        def recorded():
            rows = {row.request_id: row for row in hub.collected("gm-ep", since="1h").itertuples()}
            return rows if set(calls) <= set(rows) else None

        rows = wait_until(recorded, 30, "the endpoint host to commit the collected calls")
        assert {rid: (rows[rid].model, rows[rid].version) for rid in calls} == calls
        assert {rows[rid].protocol for rid in calls if rid.startswith("grpc")} == {"grpc"}
    finally:
        hub.collect("gm-ep", collect=[])
