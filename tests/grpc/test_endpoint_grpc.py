"""An endpoint's gRPC port, deployed through the real server, called with tritonclient.grpc and
KServe's InferenceGRPCClient with their defaults.

Two versions of a scikit-learn model behind one endpoint (blue serves version 1, green version
2): the key as metadata, the traffic split, a version or a deployment asked for by name, bad
input and unknown models answered with the status and message of HTTP, and the address shown
in ``GET endpoints/{name}`` and by ``%endpoint``.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.kserve_client import call_kserve
from helpers.servers import wait_until

grpcclient = pytest.importorskip("tritonclient.grpc")
from tritonclient.utils import InferenceServerException  # noqa: E402

X, y = make_classification(300, 8, random_state=4)
FIRST = LogisticRegression().fit(X, y)
SECOND = LogisticRegression(C=0.01).fit(X, 1 - y)  # answers differently: who answered shows
CALLS = 200


@pytest.fixture(scope="module")
def endpoint(hub_server):
    hub = hub_server.client()
    hub.register("grpc-churn", FIRST, sample=X[:5])
    hub.register("grpc-churn", SECOND, sample=X[:5])
    hub.deploy("grpc-ep", "grpc-churn:1")
    hub.deploy("grpc-ep", "grpc-churn:2", deployment="green")
    ep = hub.set_traffic("grpc-ep", {"blue": 50, "green": 50})
    client = grpcclient.InferenceServerClient(ep["grpc_url"])
    yield hub, ep, client
    client.close()
    hub.undeploy("grpc-ep")


def rows(x: np.ndarray) -> grpcclient.InferInput:
    given = grpcclient.InferInput("input", list(x.shape), "FP64")
    given.set_data_from_numpy(x)
    return given


def key(ep) -> dict:
    return {"authorization": f"Bearer {ep.key}"}


def test_the_grpc_address_is_in_the_endpoint_and_its_display(endpoint):
    hub, ep, _ = endpoint
    described = hub.endpoint("grpc-ep")
    assert re.fullmatch(r"127\.0\.0\.1:\d+", described["grpc_url"])
    assert described["grpc_url"] != described["url"].removeprefix("http://")
    assert f"gRPC (Open Inference Protocol): {described['grpc_url']}" in described.text()
    assert described["grpc_url"] in described._repr_html_()


def test_tritonclient_with_its_defaults(endpoint):
    _, ep, client = endpoint
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("grpc-churn", headers=key(ep))
    metadata = client.get_model_metadata("grpc-churn", headers=key(ep), as_json=True)
    assert metadata["versions"] == ["1", "2"]  # every version the endpoint serves, as over HTTP
    assert metadata["inputs"][0]["name"] == "input"

    x = X[:6]
    result = client.infer("grpc-churn", [rows(x)], model_version="1", request_id="r-1", headers=key(ep))
    label = result.get_response().outputs[0].name
    assert result.get_response().id == "r-1" and result.get_response().model_version == "1"
    assert result.as_numpy(label).tolist() == FIRST.predict(x).tolist()


def test_a_wrong_or_missing_key_is_unauthenticated(endpoint):
    _, ep, client = endpoint
    for headers in (None, {"authorization": "Bearer not-the-key"}, {"authorization": ep.key}):
        with pytest.raises(InferenceServerException) as caught:
            client.infer("grpc-churn", [rows(X[:2])], headers=headers)
        assert caught.value.status() == "StatusCode.UNAUTHENTICATED"
        assert "authorization: Bearer KEY" in caught.value.message()
    with pytest.raises(InferenceServerException) as caught:
        client.get_model_metadata("grpc-churn")
    assert caught.value.status() == "StatusCode.UNAUTHENTICATED"


def test_the_traffic_split_is_honoured(endpoint):
    hub, ep, client = endpoint
    hub.set_traffic("grpc-ep", {"blue": 50, "green": 50})
    served = Counter(
        client.infer("grpc-churn", [rows(X[:1])], headers=key(ep)).get_response().model_version for _ in range(CALLS)
    )
    assert set(served) == {"1", "2"}
    assert 0.3 * CALLS < served["1"] < 0.7 * CALLS, served  # 50/50 (outside these bounds: p < 1e-8)

    hub.set_traffic("grpc-ep", {"blue": 100, "green": 0})
    try:
        assert {
            client.infer("grpc-churn", [rows(X[:1])], headers=key(ep)).get_response().model_version for _ in range(20)
        } == {"1"}
        # a version, or a deployment, asked for by name is served whatever the weights
        pinned = client.infer("grpc-churn", [rows(X[:4])], model_version="2", headers=key(ep))
        assert pinned.get_response().model_version == "2"
        assert pinned.as_numpy(pinned.get_response().outputs[0].name).tolist() == SECOND.predict(X[:4]).tolist()
        chosen = client.infer(
            "grpc-churn", [rows(X[:1])], headers={**key(ep), "azureml-model-deployment": "green"}
        ).get_response()
        assert chosen.model_version == "2"
    finally:
        hub.set_traffic("grpc-ep", {"blue": 50, "green": 50})


def test_bad_input_and_unknown_models_say_what_is_wrong(endpoint):
    _, ep, client = endpoint
    with pytest.raises(InferenceServerException) as caught:
        client.infer("grpc-churn", [rows(X[:3, :5].copy())], headers=key(ep))
    assert caught.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "expects shape [-1, 8]" in caught.value.message() and "got shape [3, 5]" in caught.value.message()

    with pytest.raises(InferenceServerException) as caught:
        client.infer("grpc-churn", [rows(X[:3])], model_version="7", headers=key(ep))
    assert caught.value.status() == "StatusCode.NOT_FOUND"
    assert "no version '7'" in caught.value.message() and "1, 2" in caught.value.message()

    with pytest.raises(InferenceServerException) as caught:
        client.infer("fraud", [rows(X[:3])], headers=key(ep))
    assert caught.value.status() == "StatusCode.NOT_FOUND" and "'grpc-churn'" in caught.value.message()


def test_kserve_grpc_client_with_its_defaults(endpoint):
    _, ep, _ = endpoint
    found = call_kserve(ep["grpc_url"], ep.key, "grpc-churn", X[:5].tolist(), version="1")
    assert found["live"] and found["ready"] and found["model_ready"]
    assert found["id"] == "k-1" and found["model_version"] == "1"
    assert next(iter(found["outputs"].values())) == FIRST.predict(X[:5]).tolist()
    code, message = found["wrong_key"]
    assert code == "UNAUTHENTICATED" and "authorization: Bearer KEY" in message


def test_the_answer_names_the_deployment_that_served_it(endpoint):
    """As the HTTP answer's x-modelhub-deployment header: here, trailing metadata."""
    import grpc
    from tritonclient.grpc import service_pb2, service_pb2_grpc

    _, ep, _ = endpoint
    request = service_pb2.ModelInferRequest(model_name="grpc-churn", model_version="2")
    request.inputs.add(name="input", datatype="FP64", shape=[1, X.shape[1]])
    request.raw_input_contents.append(X[:1].astype(np.float64).tobytes())
    with grpc.insecure_channel(ep["grpc_url"]) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        response, call = stub.ModelInfer.with_call(request, metadata=tuple(key(ep).items()), timeout=30)
    assert response.model_version == "2"
    assert ("x-modelhub-deployment", "green") in tuple(call.trailing_metadata())


def test_mirrored_calls_reach_the_mirror_and_its_answers_are_discarded(endpoint, hub_server):
    hub, ep, client = endpoint
    hub.set_traffic("grpc-ep", {"blue": 100, "green": 0}, mirror={"deployment": "green", "percent": 50})
    try:
        for _ in range(60):
            answer = client.infer("grpc-churn", [rows(X[:1])], headers=key(ep)).get_response()
            assert answer.model_version == "1"  # the caller gets blue's answer only
        log = hub_server.root / "endpoints" / "grpc-ep" / "logs" / "green.log"
        wait_until(
            lambda: log.read_text().count("mirror gRPC ModelInfer -> OK") >= 10, 10, "mirrored calls in green's log"
        )
        assert log.read_text().count("mirror gRPC ModelInfer -> OK") <= 50  # about half of 60
    finally:
        hub.set_traffic("grpc-ep", {"blue": 50, "green": 50}, mirror={})
