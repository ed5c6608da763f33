"""One endpoint, one contract: a scikit-learn version and its ONNX conversion behind one endpoint,
50/50, answer every protocol in one shape; v2 calls that name a version reach it whatever the
weights; metadata and metrics are the endpoint's; a deploy that would change what clients get is
refused with the difference. Real server, real conversion, real endpoint host and runtimes."""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from jupyter_modelhub.errors import Conflict

X, y = make_classification(300, 20, random_state=0)
CLF = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
REQUESTS = 200


@pytest.fixture(scope="module")
def canary(hub_server):
    """churn:1 (scikit-learn) as blue and its ONNX conversion churn:2 as green, 50/50."""
    hub = hub_server.client()
    original = hub.register("contract-churn", CLF, sample=X[:5])
    converted = hub.convert(original["ref"])["version"]
    assert converted["flavor"] == "onnx" and converted["derived_from"] == original["ref"]
    hub.deploy("canary-ep", original["ref"])
    hub.deploy("canary-ep", converted["ref"], deployment="green")
    ep = hub.set_traffic("canary-ep", {"blue": 50, "green": 50})
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ep.key}"
    yield hub, ep, session, original, converted
    hub.undeploy("canary-ep")


def shape(value, key: str | None = None):
    """The JSON's structure with its leaf types, and the v2 tensors' names and datatypes: what a
    client's parsing depends on."""
    if isinstance(value, dict):
        return {k: shape(item, k) for k, item in sorted(value.items()) if k != "model_version"}
    if isinstance(value, list):
        if value and isinstance(value[0], dict):  # v2 outputs: every tensor
            return ["list", len(value), [shape(item) for item in value]]
        return ["list", len(value), shape(value[0]) if value else None]
    if key in ("name", "datatype"):
        return value
    return type(value).__name__


def v2_body(rows: np.ndarray) -> dict:
    return {"inputs": [{"name": "input", "shape": list(rows.shape), "datatype": "FP64", "data": rows.ravel().tolist()}]}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/score", {"data": X[:3].tolist()}),
        ("/invocations", {"dataframe_split": {"data": X[:3].tolist()}}),
        ("/v2/models/contract-churn/infer", v2_body(X[:3])),
    ],
)
def test_every_protocol_answers_in_one_shape_whichever_deployment_answers(canary, path, body):
    _, ep, session, _, _ = canary
    shapes, answered = Counter(), Counter()
    for _ in range(REQUESTS):
        response = session.post(ep["url"] + path, json=body, timeout=10)
        assert response.status_code == 200, response.text
        answered[response.headers["x-modelhub-deployment"]] += 1
        shapes[repr(shape(response.json()))] += 1
    assert set(answered) == {"blue", "green"}, f"both deployments answered: {answered}"
    assert len(shapes) == 1, f"{len(shapes)} response shapes: {shapes}"
    answer = session.post(ep["url"] + path, json=body, timeout=10).json()
    expected = CLF.predict(X[:3]).tolist()
    if path == "/score":
        assert answer["predictions"] == expected and len(answer["probabilities"][0]) == 2
    elif path == "/invocations":
        assert answer["predictions"]["predictions"] == expected
    else:
        outputs = {o["name"]: o for o in answer["outputs"]}
        assert outputs["predictions"]["datatype"] == "INT64" and outputs["probabilities"]["datatype"] == "FP64"
        assert outputs["predictions"]["data"] == expected


def test_versioned_v2_calls_always_reach_their_version(canary):
    _, ep, session, original, converted = canary
    for version, deployment in ((original["version"], "blue"), (converted["version"], "green")):
        url = f"{ep['url']}/v2/models/contract-churn/versions/{version}"
        for _ in range(50):
            response = session.post(url + "/infer", json=v2_body(X[:2]), timeout=10)
            assert response.status_code == 200, response.text
            assert response.headers["x-modelhub-deployment"] == deployment
            assert response.json()["model_version"] == str(version)
        metadata = session.get(url, timeout=10)
        assert metadata.status_code == 200 and metadata.json()["versions"] == [str(version)]
    missing = session.post(f"{ep['url']}/v2/models/contract-churn/versions/7/infer", json=v2_body(X[:1]), timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "Model 'contract-churn' has no version '7' on endpoint 'canary-ep': it serves version 1, 2."
    }


def test_model_metadata_is_the_endpoints_contract(canary):
    _, ep, session, original, converted = canary
    answers = {session.get(f"{ep['url']}/v2/models/contract-churn", timeout=10).text for _ in range(20)}
    assert len(answers) == 1, "metadata does not change with the deployment a request reaches"
    metadata = json.loads(answers.pop())
    assert metadata["versions"] == [str(original["version"]), str(converted["version"])]
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, 20]}]
    assert [(o["name"], o["datatype"]) for o in metadata["outputs"]] == [
        ("predictions", "INT64"),
        ("probabilities", "FP64"),
    ]


def test_metrics_aggregate_every_deployment_with_a_deployment_label(canary):
    _, ep, session, _, _ = canary
    text = session.get(ep["url"] + "/metrics", timeout=10).text
    for deployment in ("blue", "green"):
        assert f'modelhub_deployment_up{{deployment="{deployment}"}} 1' in text
        served = re.search(
            rf'modelhub_requests_total{{deployment="{deployment}",route="/score",code="200"}} (\d+)', text
        )
        assert served and int(served.group(1)) > 0, text
    assert text.count("# TYPE modelhub_requests_total counter") == 1, "each family declared once"


def test_a_deployment_with_another_contract_is_refused_unless_allowed(canary, hub_server):
    hub, ep, session, original, _ = canary
    rx, ry = X[:, :20], X[:, 0] * 3.0
    ridge = Ridge().fit(rx, ry)
    regressor = hub.register("contract-regressor", ridge, sample=rx[:5])
    with pytest.raises(Conflict) as refused:
        hub.deploy("canary-ep", regressor["ref"], deployment="red")
    message = str(refused.value)
    assert "would change what canary-ep answers" in message and "deployment blue" in message
    assert "output 'probabilities' (FP64 [-1, 2]) is gone" in message
    assert "output 'predictions' changes from INT64 [-1] to FP64 [-1]" in message
    assert "--allow-contract-change" in message
    assert [d["name"] for d in hub.endpoint("canary-ep")["deployments"]] == ["blue", "green"], "nothing was deployed"
    refused_rest = hub_server.session.post(
        f"{hub_server.url}modelhub/api/endpoints/canary-ep/deployments",
        json={"model": regressor["ref"], "deployment": "red"},
    )
    assert refused_rest.status_code == 409 and refused_rest.json()["reason"] == "conflict"

    allowed = hub.deploy("canary-ep", regressor["ref"], deployment="red", allow_contract_change=True)
    assert {d["name"]: d["state"] for d in allowed["deployments"]}["red"] == "healthy"
    forced = session.post(
        ep["url"] + "/score", json={"data": rx[:2].tolist()}, headers={"azureml-model-deployment": "red"}, timeout=10
    )
    assert forced.json() == pytest.approx(ridge.predict(rx[:2]).tolist())
    hub.undeploy("canary-ep", "red")
