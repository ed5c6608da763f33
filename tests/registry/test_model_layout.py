"""A registered folder keeps its name, as in Azure ML: an Azure scoring script written for the
folder ``model/`` runs unchanged, a single file stays at the top, and the built-in scorers, the
conversion and downloads find the model inside its folder. Real server, real endpoints."""

from __future__ import annotations

import io
import tarfile
import textwrap

import joblib
import numpy as np
import pytest
import requests
from sklearn.datasets import make_regression
from sklearn.linear_model import LogisticRegression, Ridge

X, y = make_regression(120, 10, random_state=3)
REGRESSOR = Ridge().fit(X, y)
CLASSIFIER = LogisticRegression().fit(X, y > 0)

# An Azure ML scoring script as Azure's own examples write it for a registered folder "model/".
AZURE_FOLDER_SCRIPT = textwrap.dedent("""
    import json
    import os

    import joblib
    import numpy


    def init():
        global model
        model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/sklearn_regression_model.pkl")
        model = joblib.load(model_path)


    def run(raw_data):
        data = numpy.array(json.loads(raw_data)["data"])
        return model.predict(data).tolist()
""")


@pytest.fixture(scope="module")
def hub(hub_server):
    return hub_server.client()


@pytest.fixture
def folder(tmp_path):
    """A folder named model/ holding a pickled regressor, as an Azure tutorial trains it."""
    model = tmp_path / "model"
    model.mkdir()
    joblib.dump(REGRESSOR, model / "sklearn_regression_model.pkl")
    return model


def score(endpoint, rows) -> requests.Response:
    return requests.post(endpoint["url"] + "/score", json={"data": rows}, timeout=30)


def test_an_azure_scoring_script_for_a_folder_model_runs_unchanged(hub, folder, tmp_path):
    version = hub.register("azure-folder", folder)
    assert [f["path"] for f in version["files"]] == ["model/sklearn_regression_model.pkl"]
    assert version["flavor"] == "sklearn", "a pickle inside the registered folder is still a scikit-learn model"
    script = tmp_path / "score.py"
    script.write_text(AZURE_FOLDER_SCRIPT)
    ep = hub.deploy("azure-folder-ep", version["ref"], entry_script=script, auth="none")
    try:
        answer = score(ep, X[:4].tolist())
        assert answer.status_code == 200, answer.text
        assert answer.json() == pytest.approx(REGRESSOR.predict(X[:4]).tolist())
    finally:
        hub.undeploy("azure-folder-ep")


def test_the_built_in_scorer_finds_the_model_inside_its_folder(hub, folder):
    version = hub.register("azure-folder", folder)  # the same content: the same version
    ep = hub.deploy("builtin-folder-ep", version["ref"], auth="none")
    try:
        assert score(ep, X[:3].tolist()).json() == pytest.approx(REGRESSOR.predict(X[:3]).tolist())
    finally:
        hub.undeploy("builtin-folder-ep")


def test_a_single_file_stays_at_the_top(hub, folder, tmp_path):
    version = hub.register("azure-file", folder / "sklearn_regression_model.pkl")
    assert [f["path"] for f in version["files"]] == ["sklearn_regression_model.pkl"]
    script = tmp_path / "score.py"
    script.write_text(AZURE_FOLDER_SCRIPT.replace("model/sklearn_regression_model.pkl", "sklearn_regression_model.pkl"))
    ep = hub.deploy("azure-file-ep", version["ref"], entry_script=script, auth="none")
    try:
        assert score(ep, X[:2].tolist()).json() == pytest.approx(REGRESSOR.predict(X[:2]).tolist())
    finally:
        hub.undeploy("azure-file-ep")


def test_download_writes_the_folder_under_its_name(hub, folder, tmp_path):
    version = hub.register("azure-folder", folder)
    downloaded = hub.download(version["ref"], to=tmp_path / "out")
    target = tmp_path / "out" / "model" / "sklearn_regression_model.pkl"
    assert downloaded["files"] == [str(target)]
    assert joblib.load(target).predict(X[:2]).tolist() == pytest.approx(REGRESSOR.predict(X[:2]).tolist())


def test_a_folder_with_model_joblib_is_detected_and_converts(hub, tmp_path):
    folder = tmp_path / "classifier"
    folder.mkdir()
    joblib.dump(CLASSIFIER, folder / "model.joblib")
    version = hub.register("folder-classifier", folder, sample=None)
    assert [f["path"] for f in version["files"]] == ["classifier/model.joblib"] and version["flavor"] == "sklearn"
    converted = hub.convert(version["ref"], sample=X[:50])
    assert converted["version"]["flavor"] == "onnx" and converted["equivalence"]["passed"]
    assert converted["version"]["signature"]["outputs"] == [
        {"name": "label", "dtype": "bool", "shape": [-1]},
        {"name": "probabilities", "dtype": "float64", "shape": [-1, 2]},
    ], "the conversion records the outputs the original answers with, though its signature named none"


def test_an_mlflow_folder_is_detected_inside_its_folder(hub, tmp_path):
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    (folder / "MLmodel").write_text(
        textwrap.dedent("""
        flavors:
          python_function:
            loader_module: mlflow.sklearn
            model_path: model.pkl
        signature:
          inputs: '[{"type": "double", "name": "x"}, {"type": "long", "name": "n"}]'
          outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
    """)
    )
    joblib.dump(CLASSIFIER, folder / "model.pkl")
    version = hub.register("mlflow-folder", folder)
    assert sorted(f["path"] for f in version["files"]) == ["mlflow-model/MLmodel", "mlflow-model/model.pkl"]
    assert version["flavor"] == "mlflow"
    assert version["signature"]["inputs"] == [
        {"name": "x", "dtype": "float64", "shape": [-1]},
        {"name": "n", "dtype": "int64", "shape": [-1]},
    ]


def test_versions_registered_flat_keep_working(hub, hub_server, tmp_path):
    """Before folders kept their names, a folder's files were stored at the top of the version;
    such versions still deploy with the scripts written for them, and download as they were."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in {"sklearn_regression_model.pkl": _pickled(REGRESSOR), "README.md": b"old layout\n"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    upload = hub._call("POST", "uploads", data=buffer.getvalue(), headers={"Content-Type": "application/x-tar"})
    version = hub._call("POST", "models/flat-layout/versions", json={"upload_id": upload["upload_id"]})
    assert sorted(f["path"] for f in version["files"]) == ["README.md", "sklearn_regression_model.pkl"]
    script = tmp_path / "score.py"
    script.write_text(AZURE_FOLDER_SCRIPT.replace("model/sklearn_regression_model.pkl", "sklearn_regression_model.pkl"))
    ep = hub.deploy("flat-layout-ep", version["ref"], entry_script=script, auth="none")
    try:
        assert score(ep, X[:2].tolist()).json() == pytest.approx(REGRESSOR.predict(X[:2]).tolist())
    finally:
        hub.undeploy("flat-layout-ep")
    hub.download(version["ref"], to=tmp_path / "flat")
    assert (tmp_path / "flat" / "sklearn_regression_model.pkl").is_file()


def _pickled(model) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def test_two_folders_keep_their_names_side_by_side(hub, tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "weights.bin").write_bytes(np.arange(4, dtype=np.int8).tobytes() + name.encode())
    version = hub.register("two-folders", [tmp_path / "a", tmp_path / "b"])
    assert [f["path"] for f in version["files"]] == ["a/weights.bin", "b/weights.bin"]
