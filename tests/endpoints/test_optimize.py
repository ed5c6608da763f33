"""``%deploy --optimize`` end to end: a real Jupyter server, real conversions in operation workers,
real endpoint hosts and scoring processes answering HTTP from outside.

A scikit-learn version deployed with ``optimize`` serves its ONNX form (an existing proven
conversion, reused; or one made by the deploy), answering what the scikit-learn model answers;
a conversion that fails its equivalence proof leaves the original serving, saying why; the
endpoint's record names what serves and the proof; flavors that have no ONNX form are refused.
"""

from __future__ import annotations

import numpy as np
import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from jupyter_modelhub.errors import InvalidInput

X, y = make_classification(300, 20, random_state=1)
CLF = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
FOREST = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
# Timestamps one second apart around a cutoff: float32 (the ONNX form's inputs) keeps 128-second
# steps at 1.7e9, so the conversion's equivalence proof fails on them.
TIMES = (1.7e9 + np.arange(100.0)).reshape(-1, 1)
AFTER = (TIMES[:, 0] >= 1.7e9 + 50).astype(int)
CUTOFF = make_pipeline(StandardScaler(), LogisticRegression(C=1e6)).fit(TIMES, AFTER)


@pytest.fixture(scope="module")
def hub(hub_server):
    return hub_server.client()


def score(endpoint, rows) -> list:
    """The labels the endpoint answers (the versions' signatures, from their samples, name only them)."""
    response = requests.post(
        endpoint["url"] + "/score",
        json={"data": np.asarray(rows).tolist()},
        headers={"Authorization": f"Bearer {endpoint.key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["predictions"]


def model_versions(hub, name: str) -> list[str]:
    return [v["ref"] for v in hub.model(name)["versions"]]


def test_optimize_converts_at_deploy_time_and_serves_the_onnx_form(hub):
    hub.register("opt-forest", FOREST, sample=X[:20])
    endpoint = hub.deploy("opt-forest-ep", "opt-forest:1", optimize=True)  # an operation: it converts first
    deployment = endpoint["deployments"][0]
    assert deployment["ref"] == deployment["serves"] == "opt-forest:2" and deployment["flavor"] == "onnx"
    assert deployment["optimized_from"] == "opt-forest:1" and deployment["requested"] == "opt-forest:1"
    record = deployment["optimization"]
    assert record["converted"] is True and record["reason"] == ""
    assert record["proof"] == "opt-forest:2" and record["proof_url"] == "models/opt-forest/versions/2"
    converted = hub.version("opt-forest:2")
    assert converted["derived_from"] == "opt-forest:1" and converted["properties"]["equivalence"]["passed"]
    assert score(endpoint, X) == FOREST.predict(X).tolist(), "the ONNX form answers what the forest answers"
    assert "the ONNX form of opt-forest:1 (converted by this deploy" in str(hub.endpoint("opt-forest-ep"))
    hub.undeploy("opt-forest-ep")


def test_an_existing_proven_conversion_is_reused_without_converting_again(hub):
    hub.register("opt-churn", CLF, sample=X[:20])
    hub.convert("opt-churn:1")
    plain = hub.deploy("opt-churn-ep", "opt-churn:1")
    hint = plain["deployments"][0]["onnx_form"]
    assert hint["version"] == "opt-churn:2" and hint["speedup"] > 1, "the plain deploy says what ONNX would gain"
    assert "--optimize" in str(plain) and f"{hint['speedup']:g}x faster" in str(plain)
    endpoint = hub.deploy("opt-churn-ep", "opt-churn:1", optimize=True)
    deployment = endpoint["deployments"][0]
    assert deployment["serves"] == "opt-churn:2" and deployment["optimization"]["converted"] is False
    assert "onnx_form" not in deployment, "no hint once the ONNX form serves"
    assert model_versions(hub, "opt-churn") == ["opt-churn:2", "opt-churn:1"], "no second conversion"
    assert score(endpoint, X[:30]) == CLF.predict(X[:30]).tolist()
    assert hub.endpoint("opt-churn-ep")["deployments"][0]["optimized_from"] == "opt-churn:1"
    hub.undeploy("opt-churn-ep")


def test_a_failing_proof_leaves_the_original_serving_and_says_why(hub):
    hub.register("opt-split", CUTOFF, sample=TIMES)
    endpoint = hub.deploy("opt-split-ep", "opt-split:1", optimize=True)
    deployment = endpoint["deployments"][0]
    assert deployment["serves"] == "opt-split:1" and deployment["flavor"] == "sklearn"
    assert deployment["optimized_from"] is None
    record = deployment["optimization"]
    assert record["proof"] is None and "does not match the original" in record["reason"]
    assert model_versions(hub, "opt-split") == ["opt-split:1"], "a conversion that is not equal is not registered"
    assert score(endpoint, TIMES) == AFTER.tolist(), "the original answers, telling the seconds apart"
    assert "serves as it is: The ONNX conversion of opt-split:1 does not match" in str(endpoint)
    hub.undeploy("opt-split-ep")


def test_optimize_refuses_what_has_no_onnx_form_and_changes_nothing(hub, tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\0" * 16)
    hub.register("opt-custom", tmp_path / "weights.bin", flavor="custom")
    with pytest.raises(InvalidInput, match="'custom' model. Deploy it without --optimize"):
        hub.deploy("opt-custom-ep", "opt-custom:1", optimize=True)
    assert "opt-custom-ep" not in [e["name"] for e in hub.endpoints()["endpoints"]]
    hub.register("opt-script", CLF, sample=X[:5])
    script = tmp_path / "score.py"
    script.write_text("def init():\n    pass\ndef run(raw):\n    return raw\n")
    with pytest.raises(InvalidInput, match="an entry script loads the model itself"):
        hub.deploy("opt-script-ep", "opt-script:1", optimize=True, entry_script=script)


def test_an_onnx_version_with_optimize_serves_as_it_is(hub):
    hub.register("opt-onnx", CLF, sample=X[:20])
    hub.convert("opt-onnx:1")
    endpoint = hub.deploy("opt-onnx-ep", "opt-onnx:2", optimize=True)
    record = endpoint["deployments"][0]["optimization"]
    assert record["serves"] == "opt-onnx:2" and record["optimized_from"] == "opt-onnx:1"
    assert record["reason"] == "already an ONNX model (converted from opt-onnx:1)"
    assert model_versions(hub, "opt-onnx") == ["opt-onnx:2", "opt-onnx:1"]
    hub.undeploy("opt-onnx-ep")
