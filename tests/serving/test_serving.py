"""The scoring runtime (jupyter_modelhub.serving) as real processes answering real HTTP.

Models are fitted here (small scikit-learn models, converted with skl2onnx) into a temporary
folder. Each runtime is a subprocess started with ``--port 0``; tests wait for its ready line,
its log lines or its exit, and every process is terminated (and killed if it must be) in a
finalizer.
"""

from __future__ import annotations

import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests

from helpers.serving import ServingProcess

pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
joblib = pytest.importorskip("joblib")
pd = pytest.importorskip("pandas")

FEATURES = 20


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """Model folders: an ONNX pipeline, the same pipeline pickled, a DataFrame model, scripts."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    root = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, FEATURES))
    y = (X[:, 0] - X[:, 3] > 0).astype(int)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    folders = {name: root / name for name in ("onnx", "sklearn", "frame", "script", "slow")}
    for folder in folders.values():
        folder.mkdir()
    onnx = to_onnx(
        pipeline,
        initial_types=[("input", FloatTensorType([None, FEATURES]))],
        options={id(pipeline): {"zipmap": False}},
        target_opset=17,
    )
    (folders["onnx"] / "model.onnx").write_bytes(onnx.SerializeToString())
    (root / "signature.json").write_text(
        json.dumps({"inputs": [{"name": "input", "dtype": "float32", "shape": [-1, FEATURES]}], "outputs": []})
    )
    joblib.dump(pipeline, folders["sklearn"] / "model.joblib")

    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, 200).astype(float),
            "income": rng.normal(50, 10, 200),
            "visits": rng.poisson(3, 200).astype(float),
        }
    )
    churn = (frame["visits"] < 3).astype(int)
    joblib.dump(
        make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, churn), folders["frame"] / "model.joblib"
    )
    (root / "frame-signature.json").write_text(
        json.dumps({"inputs": [{"name": c, "dtype": "float64", "shape": [-1]} for c in frame.columns], "outputs": []})
    )

    # An Azure ML scoring script, as it would run there: the model from AZUREML_MODEL_DIR.
    joblib.dump(pipeline, folders["script"] / "model.joblib")
    (folders["script"] / "score.py").write_text(
        "import json, os\n"
        "import joblib\n"
        "import numpy as np\n\n"
        "def init():\n"
        "    global model\n"
        "    model = joblib.load(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'model.joblib'))\n\n"
        "def run(raw_data):\n"
        "    data = json.loads(raw_data)['data']\n"
        "    if data == 'boom':\n"
        "        raise ValueError('the data went boom')\n"
        "    return {'result': model.predict(np.array(data)).tolist(),\n"
        "            'model_dir': os.environ['MODELHUB_MODEL_DIR']}\n"
    )
    # A script that takes its time, says when it is running, and tells which process ran it.
    (folders["slow"] / "score.py").write_text(
        "import json, os, sys, time\n\n"
        "def init():\n"
        "    go = os.environ.get('TEST_INIT_WAITS_FOR')\n"
        "    while go and not os.path.exists(go):\n"
        "        time.sleep(0.02)\n\n"
        "def run(raw_data):\n"
        "    seconds = json.loads(raw_data).get('sleep', 0)\n"
        "    print('RUNNING', flush=True)\n"
        "    time.sleep(seconds)\n"
        "    return {'pid': os.getpid()}\n"
    )
    return {
        **folders,
        "signature": root / "signature.json",
        "frame-signature": root / "frame-signature.json",
        "pipeline": pipeline,
        "frame_model": joblib.load(folders["frame"] / "model.joblib"),
        "X": X,
    }


@pytest.fixture
def serve(request):
    """Start runtimes; each one is stopped at the end of the test."""

    def start(*args, **kwargs) -> ServingProcess:
        process = ServingProcess(*args, **kwargs)
        request.addfinalizer(process.stop)
        return process

    return start


@pytest.fixture(scope="module")
def onnx_server(models):
    process = ServingProcess(
        models["onnx"],
        "--signature-file",
        str(models["signature"]),
        "--name",
        "churn",
        "--version",
        "2",
        "--max-request-bytes",
        "4000",
    )
    yield process
    process.stop()


def rows(models, start: int, count: int) -> list[list[float]]:
    return models["X"][start : start + count].tolist()


def expected(models, data) -> tuple[list, np.ndarray]:
    pipeline = models["pipeline"]
    X = np.asarray(data, dtype=np.float32).astype(np.float64)
    return pipeline.predict(X).tolist(), pipeline.predict_proba(X)


def metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)$"
    for line in text.splitlines():
        match = re.match(pattern, line)
        if match:
            return float(match.group(1))
    return 0.0


# -- the protocols -----------------------------------------------------------------------------


def test_azure_score_and_liveness(onnx_server, models):
    assert onnx_server.get("/").status_code == 200
    data = rows(models, 0, 3)
    response = onnx_server.post("/score", json={"data": data})
    assert response.status_code == 200, response.text
    labels, probabilities = expected(models, data)
    assert response.json()["label"] == labels
    np.testing.assert_allclose(response.json()["probabilities"], probabilities, atol=1e-5)


def test_sklearn_flavor_answers_like_its_onnx_conversion(serve, models):
    server = serve(models["sklearn"])  # no signature: taken from the estimator (20 features)
    data = rows(models, 0, 3)
    answer = server.post("/score", json={"data": data}).json()
    assert answer["label"] == models["pipeline"].predict(np.array(data)).tolist()
    np.testing.assert_allclose(answer["probabilities"], models["pipeline"].predict_proba(np.array(data)))
    metadata = server.get("/v2/models/model").json()
    assert metadata["platform"] == "sklearn_joblib"
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, FEATURES]}]
    assert [o["name"] for o in metadata["outputs"]] == ["label", "probabilities"]
    short = server.post("/score", json={"data": [[1.0, 2.0]]})
    assert short.status_code == 400 and f"[-1, {FEATURES}]" in short.json()["message"]


def test_mlflow_formats_on_a_tensor_model(onnx_server, models):
    data = rows(models, 3, 2)
    labels, _ = expected(models, data)
    assert onnx_server.get("/ping").status_code == 200
    for body in (
        {"inputs": data},
        {"instances": data},
        {"dataframe_split": {"columns": [f"f{i}" for i in range(FEATURES)], "data": data}},
        {"dataframe_records": [{f"f{i}": v for i, v in enumerate(row)} for row in data]},
    ):
        response = onnx_server.post("/invocations", json=body)
        assert response.status_code == 200, (body, response.text)
        assert response.json()["predictions"]["label"] == labels


def test_mlflow_formats_on_a_dataframe_model(serve, models):
    server = serve(models["frame"], "--signature-file", str(models["frame-signature"]))
    frame = pd.DataFrame({"age": [30.0, 62.0, 45.0], "income": [40.0, 55.5, 61.0], "visits": [1.0, 6.0, 2.0]})
    labels = models["frame_model"].predict(frame).tolist()
    records = frame.to_dict(orient="records")
    for body in (
        {"dataframe_split": frame.to_dict(orient="split", index=False)},
        {"dataframe_records": records},
        {"instances": records},
        {"inputs": frame.to_dict(orient="list")},
    ):
        response = server.post("/invocations", json=body)
        assert response.status_code == 200, (body, response.text)
        assert response.json()["predictions"]["label"] == labels
    # Azure's /score takes the same shapes of data; columns in another order are matched by name.
    response = server.post("/score", json={"data": [{"visits": 6.0, "income": 55.5, "age": 62.0}]})
    assert response.json()["label"] == labels[1:2]
    missing = server.post("/invocations", json={"dataframe_records": [{"age": 30.0, "income": 40.0}]})
    assert missing.status_code == 400
    assert missing.json()["error_code"] == "BAD_REQUEST" and "visits" in missing.json()["message"]


def test_open_inference_protocol(onnx_server, models):
    assert onnx_server.get("/v2/health/live").status_code == 200
    assert onnx_server.get("/v2/health/ready").status_code == 200
    server_metadata = onnx_server.get("/v2").json()
    assert (
        server_metadata["name"]
        and "version" in server_metadata
        and server_metadata["extensions"] == ["binary_tensor_data"]
    )
    for path in ("/v2/models/churn", "/v2/models/churn/versions/2"):
        metadata = onnx_server.get(path).json()
        assert metadata == {
            "name": "churn",
            "versions": ["2"],
            "platform": "onnx_onnxv1",
            "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, FEATURES]}],
            "outputs": [
                {"name": "label", "datatype": "INT64", "shape": [-1]},
                {"name": "probabilities", "datatype": "FP32", "shape": [-1, 2]},
            ],
        }
        assert onnx_server.get(path + "/ready").json() == {"name": "churn", "ready": True}

    data = rows(models, 5, 2)
    labels, probabilities = expected(models, data)
    flat = [value for row in data for value in row]  # row-major, flattened: as the protocol allows
    response = onnx_server.post(
        "/v2/models/churn/versions/2/infer",
        json={"id": "42", "inputs": [{"name": "input", "shape": [2, FEATURES], "datatype": "FP32", "data": flat}]},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model_name"] == "churn" and answer["model_version"] == "2" and answer["id"] == "42"
    outputs = {output["name"]: output for output in answer["outputs"]}
    assert outputs["label"] == {"name": "label", "datatype": "INT64", "shape": [2], "data": labels}
    assert outputs["probabilities"]["shape"] == [2, 2] and outputs["probabilities"]["datatype"] == "FP32"
    np.testing.assert_allclose(outputs["probabilities"]["data"], probabilities.ravel(), atol=1e-5)

    only = onnx_server.post(
        "/v2/models/churn/infer",
        json={
            "inputs": [{"name": "input", "shape": [1, FEATURES], "datatype": "FP32", "data": [data[0]]}],
            "outputs": [{"name": "probabilities"}],
        },
    ).json()
    assert [o["name"] for o in only["outputs"]] == ["probabilities"] and "id" not in only

    unknown = onnx_server.post("/v2/models/other/infer", json={"inputs": []})
    assert unknown.status_code == 404 and "churn" in unknown.json()["error"]
    assert onnx_server.get("/v2/models/churn/versions/9").status_code == 404


def test_openapi_document(onnx_server):
    document = onnx_server.get("/openapi.json").json()
    for path in (
        "/score",
        "/invocations",
        "/v2/health/ready",
        "/v2/models/churn/infer",
        "/v2/models/churn/versions/2/infer",
        "/metrics",
    ):
        assert path in document["paths"]
    try:
        from openapi_spec_validator import validate
    except ImportError:
        return
    validate(document)


# -- bad requests ------------------------------------------------------------------------------


def test_bad_payloads_say_what_was_expected(onnx_server, models):
    malformed = onnx_server.post("/score", data=b'{"data": [[1, 2', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and "not valid JSON" in malformed.json()["message"]

    short = onnx_server.post("/score", json={"data": [[1.0] * (FEATURES - 1)]})
    assert short.status_code == 400
    assert f"[-1, {FEATURES}]" in short.json()["message"] and f"[1, {FEATURES - 1}]" in short.json()["message"]

    words = onnx_server.post("/score", json={"data": [["a"] * FEATURES]})
    assert words.status_code == 400 and "float32" in words.json()["message"]
    # Numbers sent as strings are refused too, not converted (numpy would parse "1.5").
    for path, key in (("/score", "data"), ("/invocations", "inputs")):
        numeric_text = onnx_server.post(path, json={key: [["1.5"] * FEATURES]})
        assert numeric_text.status_code == 400 and "float32" in numeric_text.text, (path, numeric_text.text)

    ragged = onnx_server.post("/score", json={"data": [[1.0] * FEATURES, [1.0]]})
    assert ragged.status_code == 400 and f"[-1, {FEATURES}]" in ragged.json()["message"]

    no_data = onnx_server.post("/score", json={"rows": []})
    assert no_data.status_code == 400 and '"data"' in no_data.json()["message"]

    no_format = onnx_server.post("/invocations", json={"rows": []})
    assert no_format.status_code == 400 and "dataframe_split" in no_format.json()["message"]

    v2 = onnx_server.post(
        "/v2/models/churn/infer",
        json={"inputs": [{"name": "input", "shape": [1, FEATURES], "datatype": "FP64", "data": [0.0] * FEATURES}]},
    )
    assert v2.status_code == 400 and "FP32" in v2.json()["error"] and set(v2.json()) == {"error"}
    count = onnx_server.post(
        "/v2/models/churn/infer",
        json={"inputs": [{"name": "input", "shape": [2, FEATURES], "datatype": "FP32", "data": [0.0] * FEATURES}]},
    )
    assert count.status_code == 400 and "40 elements" in count.json()["error"]
    # The worker still answers.
    assert onnx_server.post("/score", json={"data": rows(models, 0, 1)}).status_code == 200


def test_request_size_limit(onnx_server, models):
    too_big = json.dumps({"data": rows(models, 0, 12)}).encode()
    assert 4000 < len(too_big) < 8000
    response = onnx_server.post("/score", data=too_big)
    assert response.status_code == 413 and "4000 bytes" in response.json()["message"]
    assert onnx_server.post("/score", json={"data": rows(models, 0, 1)}).status_code == 200  # same connection

    chunked = onnx_server.post("/score", data=iter([too_big[:3000], too_big[3000:]]))  # no Content-Length
    assert chunked.status_code == 413
    way_too_big = onnx_server.session.post(onnx_server.url + "/score", data=b"x" * 20000, timeout=10)
    assert way_too_big.status_code == 413


# -- entry scripts -----------------------------------------------------------------------------


def test_azure_entry_script_and_a_failing_run(serve, models):
    server = serve(models["script"], "--entry-script", str(models["script"] / "score.py"))
    data = rows(models, 0, 4)
    response = server.post("/score", json={"data": data})
    assert response.status_code == 200, server.output()
    assert response.json() == {
        "result": models["pipeline"].predict(np.array(data)).tolist(),
        "model_dir": str(models["script"].resolve()),
    }

    failed = server.post("/score", json={"data": "boom"})
    assert failed.status_code == 500
    assert failed.json()["type"] == "ValueError" and "the data went boom" in failed.json()["message"]
    server.wait_for_line("stderr", r"Traceback")
    server.wait_for_line("stderr", r"ValueError: the data went boom")
    assert server.post("/score", json={"data": data}).status_code == 200  # the worker keeps serving


def test_run_timeout(serve, models):
    server = serve(models["slow"], "--entry-script", str(models["slow"] / "score.py"), "--request-timeout", "0.3")
    response = server.post("/score", json={"sleep": 1})
    assert response.status_code == 504 and "0.3 s" in response.json()["message"]


def test_readiness_waits_for_the_model(serve, models, tmp_path):
    go = tmp_path / "go"
    server = serve(
        models["slow"],
        "--entry-script",
        str(models["slow"] / "score.py"),
        env={"TEST_INIT_WAITS_FOR": str(go)},
        ready_timeout=0,
    )
    # The port listens before the model is in: alive, not ready, and scoring says so.
    port = re.search(r"listening on \S+ port (\d+)", server.wait_for_line("stderr", "listening on")).group(1)
    url = f"http://127.0.0.1:{port}"
    assert requests.get(url + "/", timeout=5).status_code == 200
    assert requests.get(url + "/v2/health/live", timeout=5).status_code == 200
    not_ready = requests.get(url + "/v2/health/ready", timeout=5)
    assert not_ready.status_code == 503 and not_ready.json() == {"ready": False}, "not ready is a 503, as KServe's"
    model_not_ready = requests.get(url + "/v2/models/model/ready", timeout=5)
    assert model_not_ready.status_code == 503 and model_not_ready.json()["ready"] is False
    assert requests.get(url + "/ping", timeout=5).status_code == 503
    loading = requests.post(url + "/score", json={}, timeout=5)
    assert loading.status_code == 503 and "loading" in loading.json()["message"]
    assert not any(line.startswith("MODELHUB_READY") for line in server.stdout)
    go.write_text("go")
    server.wait_ready(30)
    assert server.port == int(port)
    assert server.get("/v2/health/ready").json() == {"ready": True}


# -- auth, metrics, batching, workers, shutdown -------------------------------------------------


def test_auth_key(serve, models):
    server = serve(models["onnx"], env={"MODELHUB_AUTH_KEY": "s3cret-key"})
    assert "s3cret-key" not in " ".join(server.command)  # from the environment: not visible in ps
    body = {"data": rows(models, 0, 1)}
    refused = server.post("/score", json=body)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert server.post("/score", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert server.post("/score", json=body, headers={"Authorization": "Bearer s3cret-key"}).status_code == 200
    assert server.get("/metrics").status_code == 401
    assert server.get("/v2/models/model", headers={"Authorization": "Bearer s3cret-key"}).status_code == 200
    for public in ("/", "/ping", "/v2/health/live", "/v2/health/ready", "/v2/models/model/ready"):
        assert server.get(public).status_code == 200, public


def test_metrics_count_requests(onnx_server, models):
    before = onnx_server.get("/metrics").text
    for _ in range(5):
        assert onnx_server.post("/score", json={"data": rows(models, 0, 2)}).status_code == 200
    onnx_server.post("/score", json={"data": [[1.0]]})
    after = onnx_server.get("/metrics")
    assert after.headers["Content-Type"].startswith("text/plain")
    text = after.text

    def grew(name, **labels):
        return metric(text, name, **labels) - metric(before, name, **labels)

    assert grew("modelhub_requests_total", route="/score", code="200") == 5
    assert grew("modelhub_requests_total", route="/score", code="400") == 1
    assert grew("modelhub_request_errors_total", route="/score") == 1
    assert grew("modelhub_request_duration_seconds_count", route="/score") == 6
    assert grew("modelhub_request_duration_seconds_bucket", route="/score", le="+Inf") == 6
    assert grew("modelhub_model_calls_total") == 5 and grew("modelhub_rows_total") == 10
    assert "# TYPE modelhub_request_duration_seconds histogram" in text
    assert 'modelhub_model_info{name="churn",version="2",platform="onnx_onnxv1"} 1' in text


def test_adaptive_batching(serve, models):
    server = serve(models["onnx"], "--max-batch-size", "64", "--max-batch-wait-ms", "200")
    data = rows(models, 0, 12)
    barrier = threading.Barrier(12)

    def score(row):
        with requests.Session() as session:
            barrier.wait(10)
            return session.post(server.url + "/score", json={"data": [row]}, timeout=10)

    with ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(score, data))
    labels, probabilities = expected(models, data)
    for i, response in enumerate(responses):  # each answered with its own row's prediction
        assert response.status_code == 200, response.text
        assert response.json()["label"] == [labels[i]]
        np.testing.assert_allclose(response.json()["probabilities"], probabilities[i : i + 1], atol=1e-5)
    text = server.get("/metrics").text
    calls, answered = metric(text, "modelhub_model_calls_total"), metric(text, "modelhub_batch_requests_sum")
    assert answered == 12 and calls < 12, text
    assert metric(text, "modelhub_batch_requests_bucket", le="1") < calls  # some calls answered several
    server.wait_for_line("stdout", r'"POST /score" 200 .* batch=\d+')


def test_two_workers_share_the_port_and_stop_cleanly(serve, models):
    server = serve(models["slow"], "--entry-script", str(models["slow"] / "score.py"), "--workers", "2")
    assert server.stdout[0].startswith("MODELHUB_READY") and "workers=2" in server.stdout[0]

    def score(_):
        with requests.Session() as session:  # a connection each: the kernel spreads them
            return session.post(server.url + "/score", json={"sleep": 0.05}, timeout=10).json()["pid"]

    with ThreadPoolExecutor(8) as pool:
        pids = set(pool.map(score, range(24)))
    assert len(pids) == 2 and server.process.pid not in pids

    def counted():
        text = server.get("/metrics").text  # summed over both workers (each flushes within 0.25 s)
        return metric(text, "modelhub_requests_total", route="/score", code="200") == 24 and text

    text = server.wait_for(counted, 10, "both workers' requests in /metrics")
    assert metric(text, "modelhub_workers") == 2
    assert server.terminate() == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_sigterm_finishes_requests_in_flight(serve, models):
    server = serve(models["slow"], "--entry-script", str(models["slow"] / "score.py"))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(server.post, "/score", json={"sleep": 0.5})
        server.wait_for_line("stdout", "RUNNING")
        assert server.terminate() == 0
        assert pending.result().status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/", timeout=5)
