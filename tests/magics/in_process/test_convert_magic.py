"""%convert in an in-process IPython shell on a real Jupyter server: the proof shown, lineage in
the registry, and the converted version deployed and scored by the runtime with the original's
answers. (The progress widget a notebook shows instead of the text bar:
tests/magics/test_progress_widgets.py.)"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def churn(shell):
    registered = shell.run("%register churn clf --sample X[:5]")
    assert not registered["error"], registered


def test_convert_shows_equivalence_and_speed_and_records_lineage(shell, hub_server):
    out = shell.run("c = %convert churn:1 --to onnx --sample X[:200]\nc")
    assert not out["error"], out
    assert "churn:2 (onnx) from churn:1: equivalent" in out["text"] and "single row:" in out["text"]
    assert out["widgets"] == 0 and "convert churn:1 [" in out["text"], "a text progress bar while it works"
    assert "convert churn:1 [########################] succeeded" in out["text"], "its end stays in the output"
    assert "<svg" in out["html"] and "within tolerance" in out["html"], "a table and a chart in the notebook"
    version = hub_server.client().version("churn:2")
    assert version["flavor"] == "onnx" and version["derived_from"] == "churn:1"
    assert version["signature"] == hub_server.client().version("churn:1")["signature"]
    assert (
        version["properties"]["equivalence"]["passed"] is True
        and version["properties"]["speed"]["speedup"]["latency"] > 1
    )
    assert version["tags"]["equivalence"] == "passed"
    assert "churn:1 → churn:2" in shell.run("%model churn")["html"]


def test_a_conversion_over_tolerance_registers_nothing(shell, hub_server):
    out = shell.run("%convert churn:1 --tolerance 0 --new-thing")
    assert out["error"].startswith("UsageError"), out
    out = shell.run("%convert churn:1 --tolerance 0")
    assert out["error"].startswith("UsageError") and "churn:1" in out["error"], out
    assert hub_server.client().model("churn")["version_count"] == 2


def test_non_sklearn_versions_are_refused_clearly(shell):
    out = shell.run("%convert churn:2")
    assert "already an ONNX model" in out["error"], out


def test_the_converted_version_serves_the_original_answers(shell):
    out = shell.run(
        "import numpy as np\n"
        "%deploy onnx-ep churn:2 --auth none\n"
        "answer = %invoke onnx-ep X[:50]\n"
        "assert answer['predictions'] == clf.predict(X[:50]).tolist(), answer  # the original's output names\n"
        "assert np.allclose(answer['probabilities'], clf.predict_proba(X[:50]), atol=1e-4)\n"
        "%undeploy onnx-ep"
    )
    assert not out["error"], out


def test_a_dataframe_pipeline_converts_and_serves(shell):
    out = shell.run(
        "import pandas as pd, numpy as np\n"
        "from sklearn.compose import make_column_transformer\n"
        "from sklearn.preprocessing import OneHotEncoder\n"
        "rng = np.random.default_rng(0)\n"
        "df = pd.DataFrame({'age': rng.integers(18, 80, 300).astype('float64'), 'plan': rng.choice(['basic', 'pro', 'team'], 300),\n"
        "                   'spend': rng.random(300) * 100})\n"
        "target = (df.spend > 50).astype(int)\n"
        "pipe = make_pipeline(make_column_transformer((OneHotEncoder(), ['plan']), (StandardScaler(), ['age', 'spend'])),\n"
        "                     LogisticRegression()).fit(df, target)\n"
        "%register plans pipe --sample df[:5]\n"
        "%convert plans:1 --sample df[:100]\n"
        "%deploy plans-ep plans:2 --auth none\n"
        "answer = %invoke plans-ep df[:20]\n"
        "assert answer['predictions'] == pipe.predict(df[:20]).tolist(), answer\n"
        "%undeploy plans-ep"
    )
    assert not out["error"], out
