"""The quick-start model: a LogisticRegression fitted on a pandas DataFrame of named numeric
columns converts to ONNX (one [n, k] tensor built from the columns), is proven equivalent, and
the ONNX version serves the same payloads with the same answers, beside the original on one
endpoint (one contract)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

pytest.importorskip("skl2onnx")

COLUMNS = ["age", "tenure_months", "monthly_spend", "support_calls"]
_X, _y = make_classification(300, 4, n_informative=3, n_redundant=0, random_state=0)
FRAME = pd.DataFrame(_X, columns=COLUMNS)
FRAME["support_calls"] = (FRAME["support_calls"].abs() * 3).round().astype("int64")  # numbers of two kinds
CLF = LogisticRegression().fit(FRAME, _y)


def test_a_logistic_regression_on_named_columns_converts_and_serves_the_same_payloads(hub_server):
    hub = hub_server.client()
    original = hub.register("quick", CLF, sample=FRAME[:5])
    assert [i["name"] for i in original["signature"]["inputs"]] == COLUMNS

    conversion = hub.convert(original["ref"], sample=FRAME[:100])
    version = conversion["version"]
    assert version["flavor"] == "onnx" and version["tags"] == {"equivalence": "passed"}
    assert conversion["equivalence"]["passed"]
    graph = conversion["conversion"]
    assert graph["onnx_inputs"] == [{"name": "input", "type": "tensor(float)", "shape": [-1, 4]}]
    assert graph["input_columns"] == COLUMNS, "which columns make the tensor, in order"
    assert version["signature"]["inputs"] == original["signature"]["inputs"], "clients send the same columns"

    ep = hub.deploy("quick-ep", original["ref"], auth="none")
    hub.deploy("quick-ep", version["ref"], deployment="green", traffic={"blue": 50, "green": 50})  # one contract
    rows = FRAME[:20]
    expected = CLF.predict(rows).tolist()
    payloads = {  # what each kind of client sends the original
        "/score": {"data": rows.to_dict(orient="records")},
        "/invocations": {"dataframe_split": {"columns": COLUMNS, "data": rows.values.tolist()}},
    }
    for deployment in ("blue", "green"):
        for path, payload in payloads.items():
            answer = requests.post(
                ep["url"] + path, json=payload, timeout=30, headers={"azureml-model-deployment": deployment}
            )
            assert answer.status_code == 200, (deployment, path, answer.text)
            body = answer.json()
            body = body["predictions"] if path == "/invocations" else body  # MLflow's wrapping
            assert body["predictions"] == expected, (deployment, path)
            assert np.allclose(body["probabilities"], CLF.predict_proba(rows), atol=1e-4)
        assert hub.invoke("quick-ep", rows, deployment=deployment)["predictions"] == expected
    hub.undeploy("quick-ep")
