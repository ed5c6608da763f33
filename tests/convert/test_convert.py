"""The ONNX conversion service on SQLite and on a real PostgreSQL server (``registry`` fixture).

Models are registered as the client registers them (``model.joblib`` in a tar upload, with the
signature and input example ``describe_sample`` makes); the suite is bench/onnx.py's, trained on
small data, with a short timing budget so the file stays fast.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from helpers.paths import BENCH
from helpers.uploads import tar_bytes
from jupyter_modelhub.convert import ModelConverter, NotEquivalent, UnsupportedModel
from jupyter_modelhub.convert import onnx as onnx_conversion
from jupyter_modelhub.errors import InvalidInput

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")


def _load_bench():
    path = BENCH / "onnx.py"
    spec = importlib.util.spec_from_file_location("modelhub_bench_onnx", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


class Doubler(BaseEstimator, TransformerMixin):
    """A custom step skl2onnx has no converter for."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X) * 2.0


@pytest.fixture(scope="module")
def suite():
    return {entry.name: entry for entry in bench.suite(rows=300)}


@pytest.fixture
def converter(registry):
    # In process: these tests are about conversion and proof; running it in a worker process (as the
    # server does, so the pickle is never loaded in the server) is tested in test_operations.py.
    return ModelConverter(registry, timing_budget=0.05, batch_rows=500)


def register_model(registry, name, model, sample) -> dict:
    entry = bench.SuiteModel(name, model, sample)
    return bench.register_original(registry, name, entry)


def register_files(registry, name, files: dict[str, bytes], **kwargs) -> dict:
    upload_id, path = registry.artifacts.new_upload()
    path.write_bytes(tar_bytes(files))
    return registry.register(name, upload_id, **kwargs)


def versions(registry, name) -> list[int]:
    return [v["version"] for v in registry.list_versions(name)["versions"]]


def nothing_left_over(registry) -> bool:
    return not list(registry.artifacts.uploads.iterdir()) and not list(registry.artifacts.staging.iterdir())


def test_every_suite_model_converts_equivalent_with_lineage_and_reports(registry, converter, suite):
    for name, entry in suite.items():
        original = bench.register_original(registry, name, entry)
        result = converter.convert(
            original["ref"],
            sample=bench.sample_rows(entry)[:40] if isinstance(entry.sample, np.ndarray) else bench.sample_rows(entry),
            user="ana",
        )
        version, report, speed = result["version"], result["equivalence"], result["speed"]

        assert version["ref"] == f"{name}:2" and version["flavor"] == "onnx", name
        assert version["derived_from"] == f"{name}:1" and version["created_by"] == "ana"
        assert version["signature"] == original["signature"] and version["input_example"] == original["input_example"]
        assert [f["path"] for f in version["files"]] == ["model.onnx"]
        assert version["tags"] == {"equivalence": "passed"}
        assert version["properties"]["equivalence"] == report and version["properties"]["speed"] == speed
        assert registry.get_version(version["ref"])["properties"]["conversion"]["from"] == f"{name}:1"

        assert report["passed"], (name, report)
        assert [d["name"] for d in report["datasets"]] == ["input_example", "sample"]
        kinds = [o["kind"] for o in report["outputs"]]
        if is_classifier(entry.model):
            scores = "probabilities" if hasattr(entry.model, "predict_proba") else "scores"  # SVC
            assert kinds == ["label", scores], name
            assert report["outputs"][0]["agreement"] == 1.0
            assert report["outputs"][1]["max_abs_diff"] < 1e-5
        else:
            assert kinds == ["values"], name
        assert speed["speedup"]["latency"] > 0 and speed["speedup"]["throughput"] > 0
        assert speed["onnx"]["latency"]["calls"] >= 1 and speed["original"]["batch"]["rows"] == 500
        json.dumps(result, allow_nan=False)  # what the REST handler will send
    assert nothing_left_over(registry)


def test_converting_again_the_same_way_returns_the_existing_version(registry, converter, suite):
    bench.register_original(registry, "forest", suite["random_forest"])
    first = converter.convert("forest:1")
    with pytest.raises(UnsupportedModel, match=r"forest:2 is already an ONNX model \(.*converted from forest:1\)"):
        converter.convert("forest")  # the latest version is now the ONNX one
    again = converter.convert("forest:1")
    assert (first["version"]["ref"], again["version"]["ref"]) == ("forest:2", "forest:2")
    assert (first["version"]["existing"], again["version"]["existing"]) == (False, True)
    assert converter.convert("forest:1", opset=15)["version"]["ref"] == "forest:3", "other options, other bytes"


def test_a_dataframe_pipeline_keeps_one_onnx_input_per_column(registry, converter, suite):
    entry = suite["churn_pipeline"]
    original = bench.register_original(registry, "churn", entry)
    assert original["input_example"]["columns"][:2] == ["age", "tenure_months"]
    result = converter.convert("churn:1")
    inputs = {i["name"]: i for i in result["conversion"]["onnx_inputs"]}
    assert inputs["age"]["type"] == "tensor(int64)" and inputs["plan"]["type"] == "tensor(string)"
    assert inputs["monthly_spend"] == {"name": "monthly_spend", "type": "tensor(float)", "shape": [-1, 1]}
    assert [o["name"] for o in result["conversion"]["onnx_outputs"]] == ["label", "probabilities"]


def test_float32_differences_over_a_zero_tolerance_register_nothing(registry, converter, suite):
    entry = suite["logistic_regression"]
    bench.register_original(registry, "churn", entry)
    with pytest.raises(NotEquivalent) as refused:
        converter.convert("churn:1", tolerance=0)
    error = refused.value
    assert error.reason == "not_equivalent" and error.status == 400
    assert "does not match the original within tolerance 0 (float32)" in error.message
    assert "probabilities differs by up to" in error.message and "Nothing was registered" in error.message
    report = error.report
    assert report["passed"] is False and report["tolerance"] == 0.0
    probabilities = next(o for o in report["outputs"] if o["name"] == "probabilities")
    assert probabilities["failing_rows"] > 0 and probabilities["failing"][0].startswith("input_example[")
    assert 0 < probabilities["max_abs_diff"] < 1e-5, "float32 rounding, not a wrong conversion"
    assert report["differences"][0]["output"] == "probabilities"
    assert versions(registry, "churn") == [1] and nothing_left_over(registry)


def test_a_wrong_conversion_is_caught_row_by_row(registry, converter, suite, monkeypatch):
    entry = suite["logistic_regression"]
    bench.register_original(registry, "churn", entry)
    real_convert = onnx_conversion.convert

    def convert_a_different_model(model, spec, **kwargs):
        changed = copy.deepcopy(model)
        changed.coef_ = -changed.coef_  # flips nearly every decision
        return real_convert(changed, spec, **kwargs)

    monkeypatch.setattr(onnx_conversion, "convert", convert_a_different_model)
    with pytest.raises(NotEquivalent, match=r"label differs on \d+ of 45 rows") as refused:
        converter.convert("churn:1", sample=bench.sample_rows(entry)[:40])
    label = refused.value.report["outputs"][0]
    assert label["agreement"] < 0.5 and "sample[" in " ".join(label["failing"])
    assert versions(registry, "churn") == [1]


def test_force_registers_a_failing_conversion_and_marks_it(registry, converter, suite):
    bench.register_original(registry, "churn", suite["logistic_regression"])
    result = converter.convert("churn:1", tolerance=0, force=True)
    version = registry.get_version("churn:2")
    assert result["equivalence"]["passed"] is False
    assert version["tags"] == {"equivalence": "failed"}
    assert version["properties"]["equivalence"]["passed"] is False
    assert "NOT equivalent within 0" in version["description"] and "registered by force" in version["description"]
    assert registry.list_versions(filter="equivalence=failed")["total"] == 1


def test_float64_is_offered_where_skl2onnx_supports_it(registry, converter, suite):
    bench.register_original(registry, "reg", suite["linear_regression"])
    result = converter.convert("reg:1", dtype="float64")
    assert result["equivalence"]["dtype"] == "float64" and result["equivalence"]["tolerance"] == 1e-6
    assert result["equivalence"]["outputs"][0]["max_abs_diff"] < 1e-9
    assert result["conversion"]["onnx_inputs"][0]["type"] == "tensor(double)"
    bench.register_original(registry, "gb", suite["gradient_boosting"])
    with pytest.raises(UnsupportedModel, match="cannot build a consistent float64 graph.*use dtype float32"):
        converter.convert("gb:1", dtype="float64")
    assert versions(registry, "gb") == [1]


def test_a_step_without_converter_is_named_with_its_class(registry, converter, suite):
    entry = suite["churn_pipeline"]
    X, y = entry.sample, (entry.sample["support_calls"] > 1).astype(int)
    model = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        (
                            "numbers",
                            Pipeline([("scale", StandardScaler()), ("double", Doubler())]),
                            ["age", "tenure_months"],
                        ),
                        ("categories", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                    ]
                ),
            ),
            ("classify", LogisticRegression()),
        ]
    ).fit(X, y)
    register_model(registry, "custom", model, X)
    with pytest.raises(UnsupportedModel) as refused:
        converter.convert("custom:1")
    message = refused.value.message
    assert "Step 'prepare' > 'numbers' > 'double' is a test_convert.Doubler" in message
    assert "skl2onnx cannot convert" in message and "scikit-learn classes (e.g. LogisticRegression" in message
    assert refused.value.reason == "unsupported"
    assert versions(registry, "custom") == [1] and nothing_left_over(registry)


def test_other_flavors_are_refused_by_name(registry, converter):
    register_files(registry, "scorer", {"weights.bin": b"x", "score.py": b"def run(x): return x\n"})
    with pytest.raises(UnsupportedModel, match="Converting 'custom' models to ONNX is not supported yet"):
        converter.convert("scorer:1")
    register_files(registry, "already", {"model.onnx": b"not really onnx"})
    with pytest.raises(UnsupportedModel, match=r"already:1 is already an ONNX model"):
        converter.convert("already")
    register_files(registry, "notsk", {"model.joblib": _joblib_bytes({"not": "a model"})}, flavor="sklearn")
    with pytest.raises(UnsupportedModel, match="holds a dict, not a scikit-learn estimator"):
        converter.convert("notsk:1")
    with pytest.raises(InvalidInput, match="the only target is 'onnx'"):
        converter.convert("scorer:1", to="tensorflow")
    assert versions(registry, "scorer") == [1] and versions(registry, "already") == [1]


def test_a_version_without_signature_is_converted_from_the_callers_sample(registry, converter, suite):
    entry = suite["random_forest"]
    register_files(registry, "forest", {"model.joblib": _joblib_bytes(entry.model)})
    with pytest.raises(InvalidInput, match="pass a sample of inputs"):
        converter.convert("forest:1")
    result = converter.convert("forest:1", sample=entry.sample[:30].tolist())
    version = result["version"]
    assert version["signature"]["inputs"] == [{"name": "input", "dtype": "float64", "shape": [-1, 20]}]
    assert version["input_example"] == entry.sample[:5].tolist()
    assert result["equivalence"]["datasets"] == [{"name": "sample", "rows": 30}]


def test_samples_that_do_not_fit_the_signature_are_refused(registry, converter, suite):
    bench.register_original(registry, "churn", suite["churn_pipeline"])
    with pytest.raises(InvalidInput, match="lacks the column"):
        converter.convert("churn:1", sample={"columns": ["age"], "data": [[30]]})
    with pytest.raises(InvalidInput, match="must be a table"):
        converter.convert("churn:1", sample=[[1, 2, 3]])
    bench.register_original(registry, "reg", suite["linear_regression"])
    with pytest.raises(InvalidInput, match="has 3 values per row; the model's signature says 20"):
        converter.convert("reg:1", sample=[[1.0, 2.0, 3.0]])
    with pytest.raises(InvalidInput, match="Invalid opset"):
        converter.convert("reg:1", opset=99)
    assert versions(registry, "churn") == [1] and versions(registry, "reg") == [1]


def _joblib_bytes(obj) -> bytes:
    import io

    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()
