"""The scoring runtime's gRPC port, called with ``tritonclient.grpc`` as a user would.

Real runtime processes (``python -m jupyter_modelhub.serving --grpc-port 0``) serving an ONNX
model, a scikit-learn model and an entry script; the client with its defaults (raw tensors),
and a request with typed contents as other clients send them. Bad input gets the status code
and the message ``/v2`` gives over HTTP; the key is checked; HTTP answers beside gRPC.
"""

from __future__ import annotations

import json
import re
import textwrap

import numpy as np
import pytest

from helpers.serving import ServingProcess

grpcclient = pytest.importorskip("tritonclient.grpc")
grpc = pytest.importorskip("grpc")
pytest.importorskip("skl2onnx")
joblib = pytest.importorskip("joblib")
from tritonclient.grpc import service_pb2, service_pb2_grpc  # noqa: E402
from tritonclient.utils import InferenceServerException  # noqa: E402

FEATURES = 6
KEY = "grpc-test-key"
AUTH = {"authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    root = tmp_path_factory.mktemp("grpc-models")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, FEATURES))
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, X[:, 0] + X[:, 1] > 0)
    for name in ("onnx", "sklearn", "echo"):
        (root / name).mkdir()
    onnx = to_onnx(
        pipeline,
        initial_types=[("input", FloatTensorType([None, FEATURES]))],
        options={id(pipeline): {"zipmap": False}},
        target_opset=17,
    )
    (root / "onnx" / "model.onnx").write_bytes(onnx.SerializeToString())
    joblib.dump(pipeline, root / "sklearn" / "model.joblib")
    (root / "sklearn.json").write_text(
        json.dumps({"inputs": [{"name": "input", "dtype": "float64", "shape": [-1, FEATURES]}], "outputs": []})
    )
    (root / "echo" / "score.py").write_text(
        textwrap.dedent("""
        import json

        def run(raw_data):
            request = json.loads(raw_data)
            return {"outputs": [
                {"name": "doubled", "datatype": item["datatype"], "shape": item["shape"],
                 "data": [2 * v for v in item["data"]]}
                for item in request["inputs"]]}
        """)
    )
    return {"root": root, "pipeline": pipeline, "X": X}


@pytest.fixture(scope="module")
def runtimes(models):
    root = models["root"]
    common = ["--grpc-port", "0", "--name", "churn"]
    env = {"MODELHUB_AUTH_KEY": KEY}
    started = {
        "onnx": ServingProcess(root / "onnx", *common, "--version", "2", env=env),
        "sklearn": ServingProcess(
            root / "sklearn", *common, "--flavor", "sklearn", "--signature-file", str(root / "sklearn.json"), env=env
        ),
        "echo": ServingProcess(root / "echo", *common, "--entry-script", str(root / "echo" / "score.py"), env=env),
    }
    yield started
    for process in started.values():
        process.stop()


@pytest.fixture(scope="module")
def clients(runtimes):
    made = {kind: grpcclient.InferenceServerClient(f"127.0.0.1:{p.grpc_port}") for kind, p in runtimes.items()}
    yield made
    for client in made.values():
        client.close()


def infer_input(array: np.ndarray, datatype: str, name: str = "input") -> grpcclient.InferInput:
    given = grpcclient.InferInput(name, list(array.shape), datatype)
    given.set_data_from_numpy(array)
    return given


def test_the_ready_line_names_the_grpc_port(runtimes):
    line = next(line for line in runtimes["onnx"].stdout if line.startswith("MODELHUB_READY"))
    assert re.fullmatch(r"MODELHUB_READY port=\d+ grpc_port=\d+", line)


def test_tritonclient_defaults_health_metadata_and_infer(clients, models):
    client = clients["onnx"]
    assert client.is_server_live() and client.is_server_ready()  # no key needed, as over HTTP
    assert client.is_model_ready("churn") and client.is_model_ready("churn", "2")
    server = client.get_server_metadata(headers=AUTH)
    assert server.name == "jupyter_modelhub.serving"

    metadata = client.get_model_metadata("churn", headers=AUTH, as_json=True)
    assert metadata["name"] == "churn" and metadata["versions"] == ["2"]
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": ["-1", str(FEATURES)]}]
    assert [o["name"] for o in metadata["outputs"]] == ["label", "probabilities"]

    x = models["X"][:7].astype(np.float32)
    result = client.infer("churn", [infer_input(x, "FP32")], request_id="42", headers=AUTH)
    response = result.get_response()
    assert response.id == "42" and response.model_name == "churn" and response.model_version == "2"
    pipeline = models["pipeline"]
    assert result.as_numpy("label").tolist() == pipeline.predict(x.astype(np.float64)).tolist()
    np.testing.assert_allclose(result.as_numpy("probabilities"), pipeline.predict_proba(x), atol=1e-5)

    only = client.infer(
        "churn", [infer_input(x, "FP32")], outputs=[grpcclient.InferRequestedOutput("probabilities")], headers=AUTH
    )
    assert [o.name for o in only.get_response().outputs] == ["probabilities"]


def test_each_batch_size_is_answered_with_its_own_shapes(clients, models):
    """Responses reuse the outputs' descriptions per set of shapes: a call of another size, or
    asking for fewer outputs, must never get a description made for an earlier call."""
    client, pipeline = clients["onnx"], models["pipeline"]
    for rows in (1, 5, 1, 3, 5):
        x = models["X"][10 : 10 + rows].astype(np.float32)
        result = client.infer("churn", [infer_input(x, "FP32")], headers=AUTH)
        shapes = {o.name: list(o.shape) for o in result.get_response().outputs}
        assert shapes == {"label": [rows], "probabilities": [rows, 2]}
        assert result.as_numpy("label").tolist() == pipeline.predict(x.astype(np.float64)).tolist()
        np.testing.assert_allclose(result.as_numpy("probabilities"), pipeline.predict_proba(x), atol=1e-5)
        only = client.infer(
            "churn", [infer_input(x, "FP32")], outputs=[grpcclient.InferRequestedOutput("label")], headers=AUTH
        )
        assert [(o.name, list(o.shape)) for o in only.get_response().outputs] == [("label", [rows])]


def test_typed_contents_are_read_as_raw_ones_are(runtimes, models):
    """Clients that put values in InferTensorContents (fp64_contents...) instead of raw bytes."""
    x = models["X"][10:14]
    request = service_pb2.ModelInferRequest(model_name="churn")
    tensor = request.inputs.add(name="input", datatype="FP64", shape=list(x.shape))
    tensor.contents.fp64_contents.extend(x.ravel().tolist())
    with grpc.insecure_channel(f"127.0.0.1:{runtimes['sklearn'].grpc_port}") as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        response = stub.ModelInfer(request, metadata=tuple(AUTH.items()), timeout=30)
    result = grpcclient.InferResult(response)
    assert result.as_numpy(response.outputs[0].name).tolist() == models["pipeline"].predict(x).tolist()


def test_bad_input_is_invalid_argument_with_the_http_message(clients, runtimes, models):
    client = clients["sklearn"]
    x = models["X"][:3]

    with pytest.raises(InferenceServerException) as caught:
        client.infer("churn", [infer_input(x[:, :2].copy(), "FP64")], headers=AUTH)
    assert caught.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "expects shape [-1, 6]" in caught.value.message() and "got shape [3, 2]" in caught.value.message()

    with pytest.raises(InferenceServerException) as caught:
        client.infer("churn", [infer_input(x.astype(np.float32), "FP32")], headers=AUTH)
    assert caught.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "takes datatype FP64" in caught.value.message()

    with pytest.raises(InferenceServerException) as caught:
        client.infer("churn", [infer_input(x, "FP64", name="features")], headers=AUTH)
    assert "has no input 'features'" in caught.value.message()

    # the same words over HTTP, on the same runtime
    http = runtimes["sklearn"].post(
        "/v2/models/churn/infer",
        json={"inputs": [{"name": "input", "datatype": "FP64", "shape": [3, 2], "data": x[:, :2].ravel().tolist()}]},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert http.status_code == 400 and "got shape [3, 2]" in http.json()["error"]

    with pytest.raises(InferenceServerException) as caught:
        client.infer("fraud", [infer_input(x, "FP64")], headers=AUTH)
    assert caught.value.status() == "StatusCode.NOT_FOUND" and "serves 'churn'" in caught.value.message()


def test_the_key_is_checked_on_all_but_health(clients, models):
    client = clients["onnx"]
    x = models["X"][:2].astype(np.float32)
    for wrong in (None, {"authorization": "Bearer nope"}):
        with pytest.raises(InferenceServerException) as caught:
            client.infer("churn", [infer_input(x, "FP32")], headers=wrong)
        assert caught.value.status() == "StatusCode.UNAUTHENTICATED"
        assert "authorization: Bearer KEY" in caught.value.message()
    with pytest.raises(InferenceServerException) as caught:
        client.get_model_metadata("churn")
    assert caught.value.status() == "StatusCode.UNAUTHENTICATED"


def test_an_entry_script_answers_in_the_protocol_shape(clients):
    values = np.array([[1, 2, 3]], dtype=np.int64)
    result = clients["echo"].infer("churn", [infer_input(values, "INT64", "counts")], headers=AUTH)
    assert result.as_numpy("doubled").tolist() == [[2, 4, 6]]


def test_http_answers_beside_grpc(runtimes, models):
    x = models["X"][:2].astype(np.float32)
    answer = runtimes["onnx"].post("/score", json={"data": x.tolist()}, headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 200
    assert answer.json()["label"] == models["pipeline"].predict(x.astype(np.float64)).tolist()


def test_two_workers_share_the_grpc_port_and_stop_cleanly(models):
    process = ServingProcess(
        models["root"] / "onnx", "--grpc-port", "0", "--name", "churn", "--workers", "2", env={"MODELHUB_AUTH_KEY": KEY}
    )
    try:
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{process.grpc_port}")
        x = models["X"][:3].astype(np.float32)
        for _ in range(8):
            assert client.infer("churn", [infer_input(x, "FP32")], headers=AUTH).as_numpy("label").shape == (3,)
        client.close()
        assert process.terminate() == 0
    finally:
        process.stop()
