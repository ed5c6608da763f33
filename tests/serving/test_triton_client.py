"""``tritonclient.http`` with its defaults against the scoring runtime and through an endpoint.

tritonclient sends input tensors as binary data after the JSON (the Open Inference Protocol's
binary tensor data extension) and, when no outputs are named, asks for every output as binary
data too. These tests use the client itself, as a user would, on small scikit-learn models that
take FP32 (ONNX), FP64, INT64, BOOL and BYTES inputs, each run as a real runtime process; an
identity entry script shows what run() receives; a real Jupyter server deploys a real endpoint
for the tests through its host. Malformed framings are built by hand and must get a 400 that
names what did not add up.
"""

from __future__ import annotations

import gzip
import http.client
import json
import struct
import textwrap

import numpy as np
import pytest
import requests

from helpers.serving import ServingProcess

pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
joblib = pytest.importorskip("joblib")
httpclient = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

FEATURES = 6
HEADER = "Inference-Header-Content-Length"
COLOURS = np.array(["red", "grün", "blue", "amarillo"], dtype=object)


def signature(name: str, dtype: str, width: int) -> str:
    return json.dumps({"inputs": [{"name": name, "dtype": dtype, "shape": [-1, width]}], "outputs": []})


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    """One model folder per input datatype, the models themselves, and an identity entry script."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    root = tmp_path_factory.mktemp("triton-models")
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, FEATURES))
    y = (X[:, 0] + X[:, 2] > 0).astype(int)
    counts = rng.integers(0, 20, size=(300, 3))
    flags = rng.integers(0, 2, size=(300, 3)).astype(bool)
    colours = rng.choice(COLOURS, size=(300, 1))
    fitted = {
        "fp32": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
        "fp64": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
        "int64": LogisticRegression().fit(counts, counts[:, 0] > 9),
        "bool": LogisticRegression().fit(flags, flags[:, 1] ^ flags[:, 2]),
        "bytes": make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression()).fit(
            colours, np.where(np.isin(colours[:, 0], ["red", "grün"]), "warm", "cool")
        ),
    }
    folders = {name: root / name for name in (*fitted, "echo")}
    for folder in folders.values():
        folder.mkdir()
    onnx = to_onnx(
        fitted["fp32"],
        initial_types=[("input", FloatTensorType([None, FEATURES]))],
        options={id(fitted["fp32"]): {"zipmap": False}},
        target_opset=17,
    )
    (folders["fp32"] / "model.onnx").write_bytes(onnx.SerializeToString())
    for name in ("fp64", "int64", "bool", "bytes"):
        joblib.dump(fitted[name], folders[name] / "model.joblib")
    signatures = {
        "int64": signature("counts", "int64", 3),
        "bool": signature("flags", "bool", 3),
        "bytes": signature("colour", "object", 1),
    }
    for name, text in signatures.items():
        (root / f"{name}.json").write_text(text)
    # Azure's contract: run() gets the request as JSON text; this one answers with its inputs.
    (folders["echo"] / "score.py").write_text(
        textwrap.dedent("""
        import json

        def run(raw_data):
            request = json.loads(raw_data)
            return {"model_name": "echo", "outputs": [
                {"name": item["name"], "datatype": item["datatype"], "shape": item["shape"], "data": item["data"]}
                for item in request["inputs"]]}
    """)
    )
    return {
        "folders": folders,
        "signatures": {name: root / f"{name}.json" for name in signatures},
        "fitted": fitted,
        "X": X,
        "counts": counts,
        "flags": flags,
        "colours": colours,
    }


@pytest.fixture(scope="module")
def servers(models):
    """Runtimes started on first use, one per model, all stopped at the end of the module."""
    started: dict[str, ServingProcess] = {}

    def server(kind: str) -> ServingProcess:
        if kind not in started:
            folder = models["folders"][kind]
            args = ["--name", "churn" if kind == "fp32" else kind]
            if kind == "fp32":
                args += ["--version", "2"]
            if kind in models["signatures"]:
                args += ["--signature-file", str(models["signatures"][kind])]
            if kind == "echo":
                args += ["--entry-script", str(folder / "score.py")]
            started[kind] = ServingProcess(folder, *args)
        return started[kind]

    yield server
    for process in started.values():
        process.stop()


def client_for(url: str) -> httpclient.InferenceServerClient:
    return httpclient.InferenceServerClient(url.removeprefix("http://"), connection_timeout=10, network_timeout=30)


@pytest.fixture(scope="module")
def clients(servers):
    made: dict[str, httpclient.InferenceServerClient] = {}

    def client(kind: str) -> httpclient.InferenceServerClient:
        if kind not in made:
            made[kind] = client_for(servers(kind).url)
        return made[kind]

    yield client
    for client in made.values():
        client.close()


def tensor(name: str, array: np.ndarray, datatype: str, binary: bool = True) -> httpclient.InferInput:
    given = httpclient.InferInput(name, list(array.shape), datatype)
    return given.set_data_from_numpy(array) if binary else given.set_data_from_numpy(array, binary_data=False)


def is_binary(result, name: str) -> bool:
    output = result.get_output(name)
    return "binary_data_size" in (output.get("parameters") or {}) and "data" not in output


# -- tritonclient against the runtime ----------------------------------------------------------


def test_default_binary_inputs_and_outputs(clients, models):
    """set_data_from_numpy(x) and infer() with their defaults: binary both ways, on both v2 routes."""
    x = models["X"][:5].astype(np.float32)
    pipeline = models["fitted"]["fp32"]
    client = clients("fp32")
    for version in ("", "2"):
        result = client.infer("churn", [tensor("input", x, "FP32")], model_version=version, request_id="7")
        assert result.get_response()["id"] == "7" and result.get_response()["model_version"] == "2"
        assert is_binary(result, "label") and is_binary(result, "probabilities")
        assert result.as_numpy("label").tolist() == pipeline.predict(x.astype(np.float64)).tolist()
        np.testing.assert_allclose(result.as_numpy("probabilities"), pipeline.predict_proba(x), atol=1e-5)
        assert result.as_numpy("probabilities").dtype == np.float32


def test_outputs_asked_for_as_binary_or_json(clients, models, servers):
    x = models["X"][5:8].astype(np.float32)
    pipeline = models["fitted"]["fp32"]
    client = clients("fp32")
    mixed = client.infer(
        "churn",
        [tensor("input", x, "FP32")],
        outputs=[
            httpclient.InferRequestedOutput("label", binary_data=False),
            httpclient.InferRequestedOutput("probabilities"),
        ],
    )
    assert mixed.get_output("label")["data"] == pipeline.predict(x.astype(np.float64)).tolist()
    assert is_binary(mixed, "probabilities")
    np.testing.assert_allclose(mixed.as_numpy("probabilities"), pipeline.predict_proba(x), atol=1e-5)

    only_json = client.infer(
        "churn",
        [tensor("input", x, "FP32")],
        outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=False)],
    )
    assert [o["name"] for o in only_json.get_response()["outputs"]] == ["probabilities"]
    assert not is_binary(only_json, "probabilities")

    # The framing itself: the JSON's length in the header, then each binary output's bytes in order.
    body, json_size = httpclient.InferenceServerClient.generate_request_body(
        [tensor("input", x, "FP32")],
        outputs=[
            httpclient.InferRequestedOutput("label", binary_data=False),
            httpclient.InferRequestedOutput("probabilities"),
        ],
    )
    response = servers("fp32").post("/v2/models/churn/infer", data=body, headers={HEADER: str(json_size)})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/octet-stream"
    length = int(response.headers[HEADER])
    header = json.loads(response.content[:length])
    label, probabilities = header["outputs"]
    assert label["data"] == pipeline.predict(x.astype(np.float64)).tolist() and "parameters" not in label
    assert probabilities == {
        "name": "probabilities",
        "datatype": "FP32",
        "shape": [3, 2],
        "parameters": {"binary_data_size": 24},
    }
    assert len(response.content) == length + 24
    np.testing.assert_allclose(
        np.frombuffer(response.content[length:], "<f4").reshape(3, 2), pipeline.predict_proba(x), atol=1e-5
    )

    # Asked for nothing binary, a request in JSON alone gets JSON alone, as before.
    plain = servers("fp32").post(
        "/v2/models/churn/infer",
        json={"inputs": [{"name": "input", "shape": [3, FEATURES], "datatype": "FP32", "data": x.ravel().tolist()}]},
    )
    assert plain.headers["Content-Type"] == "application/json" and HEADER not in plain.headers
    assert all("data" in output for output in plain.json()["outputs"])


def samples(models, kind: str) -> tuple[str, np.ndarray, str, np.ndarray]:
    """The input name, a batch, its datatype, and what the model predicts for it."""
    model = models["fitted"][kind]
    if kind == "fp64":
        x = models["X"][10:14]
        return "input", x, "FP64", model.predict(x)
    if kind == "int64":
        x = models["counts"][:4].astype(np.int64)
        return "counts", x, "INT64", model.predict(x)
    if kind == "bool":
        x = np.array([[True, False, True], [False, True, True], [True, True, False], [False, False, False]])
        return "flags", x, "BOOL", model.predict(x)
    x = COLOURS.reshape(-1, 1)  # BYTES: text, one of them not ASCII
    return "colour", x, "BYTES", model.predict(x)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("kind", ["fp64", "int64", "bool", "bytes"])
def test_datatypes_as_binary_and_as_json(clients, models, kind, binary):
    name, x, datatype, expected = samples(models, kind)
    result = clients(kind).infer(kind, [tensor(name, x, datatype, binary)])
    label = result.get_output("label")
    assert is_binary(result, "label"), "binary_data_output was asked for (the client's default)"
    if kind == "bytes":
        assert label["datatype"] == "BYTES"
        assert [v.decode() for v in result.as_numpy("label")] == expected.tolist()
    else:
        assert result.as_numpy("label").tolist() == expected.tolist()
    np.testing.assert_allclose(result.as_numpy("probabilities"), models["fitted"][kind].predict_proba(x), atol=1e-9)


def test_an_input_of_another_datatype_is_a_400_naming_the_expected_one(clients, models):
    client = clients("fp32")
    for datatype, x in (("FP64", models["X"][:2]), ("INT64", np.ones((2, FEATURES), np.int64))):
        with pytest.raises(InferenceServerException) as caught:
            client.infer("churn", [tensor("input", x, datatype)])
        assert caught.value.status() == "400"
        message = caught.value.message()
        assert "'input'" in message and "FP32" in message and datatype in message and "float32" in message


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_requests_and_responses(clients, models, servers, coding):
    x = np.repeat(models["X"][:4], 100, axis=0).astype(np.float32)
    pipeline = models["fitted"]["fp32"]
    result = clients("fp32").infer(
        "churn",
        [tensor("input", x, "FP32")],
        request_compression_algorithm=coding,
        response_compression_algorithm=coding,
    )
    assert result.as_numpy("label").tolist() == pipeline.predict(x.astype(np.float64)).tolist()

    body, json_size = httpclient.InferenceServerClient.generate_request_body([tensor("input", x, "FP32")])
    response = servers("fp32").post(
        "/v2/models/churn/infer",
        data=gzip.compress(body),
        headers={HEADER: str(json_size), "Content-Encoding": "gzip", "Accept-Encoding": coding},
    )
    assert response.status_code == 200 and response.headers["Content-Encoding"] == coding
    assert int(response.headers[HEADER]) < len(response.content)  # requests inflated it


def test_an_entry_script_receives_binary_inputs_as_json(clients):
    """BYTES (UTF-8), BOOL and FP32 sent as binary reach run() as the JSON request they stand for."""
    text = np.array([["héllo", ""], ["wörld", "x" * 300]], dtype=object)
    flags = np.array([True, False, True])
    values = np.array([[0.5, -1.25], [3.0, 1e-3]], dtype=np.float32)
    inputs = [
        tensor("text", text, "BYTES"),
        tensor("flags", flags, "BOOL", binary=False),
        tensor("values", values, "FP32"),
    ]
    result = clients("echo").infer("echo", inputs)
    assert result.as_numpy("text").tolist() == text.tolist()
    assert result.as_numpy("flags").tolist() == flags.tolist()
    np.testing.assert_array_equal(result.as_numpy("values"), values)

    raw = httpclient.InferInput("raw", [1], "BYTES").set_data_from_numpy(np.array([b"\xff\xfe"], dtype=object))
    with pytest.raises(InferenceServerException, match="not UTF-8 text") as caught:
        clients("echo").infer("echo", [raw])
    assert caught.value.status() == "400"


# -- malformed binary requests -----------------------------------------------------------------


def framed(inputs: list[dict], *chunks: bytes, **extra) -> tuple[bytes, dict]:
    header = json.dumps({"inputs": inputs, **extra}).encode()
    return header + b"".join(chunks), {HEADER: str(len(header))}


def fp32_input(shape, size, **fields) -> dict:
    return {"name": "input", "shape": shape, "datatype": "FP32", "parameters": {"binary_data_size": size}, **fields}


def test_malformed_binary_requests_get_a_400_saying_what_does_not_add_up(servers, models):
    row = models["X"][:1].astype("<f4").tobytes()  # 24 bytes
    cases = [
        (framed([fp32_input([2, FEATURES], 48)], row), "add up to 48"),
        (framed([fp32_input([1, FEATURES], 24)], row, row), "48 bytes of binary data"),
        (framed([fp32_input([2, FEATURES], 24)], row), "takes 48 bytes"),
        ((framed([fp32_input([1, FEATURES], 24)], row)[0], {HEADER: "99999"}), HEADER),
        ((framed([fp32_input([1, FEATURES], 24)], row)[0], {HEADER: "twelve"}), HEADER),
        ((framed([fp32_input([1, FEATURES], 24)], row)[0], {}), HEADER),
        (framed([fp32_input([1, FEATURES], -24)], row), "binary_data_size"),
        (framed([fp32_input([1, FEATURES], 24, data=[0.0] * FEATURES)], row), "both"),
        (framed([fp32_input([1, FEATURES], 24)], row, parameters={"binary_data_output": "yes"}), "binary_data_output"),
        (framed([{"name": "input", "shape": [1, FEATURES], "datatype": "FP32"}]), "binary_data_size"),
    ]
    server = servers("fp32")
    for (body, headers), expected in cases:
        response = server.post("/v2/models/churn/infer", data=body, headers=headers)
        assert response.status_code == 400, (expected, response.status_code, response.text)
        assert set(response.json()) == {"error"} and expected in response.json()["error"], (expected, response.text)

    garbled = server.post("/v2/models/churn/infer", data=b"\x1f\x8b not gzip", headers={"Content-Encoding": "gzip"})
    assert garbled.status_code == 400 and "gzip" in garbled.json()["error"]

    bytes_input = {"name": "colour", "shape": [2, 1], "datatype": "BYTES"}
    element = struct.pack("<I", 3) + b"red"
    for chunk, expected in (
        (element, "end after 1"),
        (element + struct.pack("<I", 50) + b"red", "50 bytes long"),
        (element + element + b"??", "does not belong"),
    ):
        body, headers = framed([{**bytes_input, "parameters": {"binary_data_size": len(chunk)}}], chunk)
        response = servers("bytes").post("/v2/models/bytes/infer", data=body, headers=headers)
        assert response.status_code == 400 and expected in response.json()["error"], response.text

    body, headers = framed(
        [{"name": "flags", "shape": [1, 3], "datatype": "BOOL", "parameters": {"binary_data_size": 3}}], b"\x01\x02\x00"
    )
    response = servers("bool").post("/v2/models/bool/infer", data=body, headers=headers)
    assert response.status_code == 400 and "0 or 1" in response.json()["error"]

    # The workers still answer.
    body, headers = framed([fp32_input([1, FEATURES], 24)], row)
    assert server.post("/v2/models/churn/infer", data=body, headers=headers).status_code == 200


# -- through an endpoint -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint(hub_server, models):
    hub = hub_server.client()
    model = models["fitted"]["fp64"]
    hub.register("triton-churn", model, sample=models["X"][:5])
    ep = hub.deploy("triton-ep", "triton-churn:1")
    yield ep, model
    hub.undeploy("triton-ep")


def test_tritonclient_through_the_endpoint_host(endpoint, models):
    ep, model = endpoint

    def key() -> dict:  # a new dict each call: infer() adds its Inference-Header-Content-Length to the one given
        return {"Authorization": f"Bearer {ep.key}"}

    client = client_for(ep["url"])
    try:
        metadata = client.get_model_metadata("triton-churn", headers=key())
        label = metadata["outputs"][0]["name"]
        x = models["X"][20:26]
        for version, binary in (("", True), ("1", True), ("1", False)):
            result = client.infer(
                "triton-churn", [tensor("input", x, "FP64", binary)], model_version=version, headers=key()
            )
            assert is_binary(result, label) and result.as_numpy(label).tolist() == model.predict(x).tolist()

        big = np.repeat(x, 100, axis=0)
        result = client.infer(
            "triton-churn",
            [tensor("input", big, "FP64")],
            headers=key(),
            request_compression_algorithm="gzip",
            response_compression_algorithm="gzip",
        )
        assert result.as_numpy(label).tolist() == model.predict(big).tolist()

        with pytest.raises(InferenceServerException, match="Authorization: Bearer") as caught:
            client.infer("triton-churn", [tensor("input", x, "FP64")])
        assert caught.value.status() == "401"
    finally:
        client.close()


def test_the_host_passes_binary_framing_and_codings_through(endpoint, models):
    ep, model = endpoint
    x = np.repeat(models["X"][:3], 100, axis=0)
    body, json_size = httpclient.InferenceServerClient.generate_request_body([tensor("input", x, "FP64")])
    url = ep["url"] + "/v2/models/triton-churn/versions/1/infer"
    key = {"Authorization": f"Bearer {ep.key}"}
    response = requests.post(
        url,
        data=gzip.compress(body),
        timeout=30,
        headers={**key, HEADER: str(json_size), "Content-Encoding": "gzip", "Accept-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Type"] == "application/octet-stream"
    result = httpclient.InferResult.from_response_body(response.content, header_length=int(response.headers[HEADER]))
    label = result.get_response()["outputs"][0]["name"]
    assert result.as_numpy(label).tolist() == model.predict(x).tolist()

    # A client that sends no Accept-Encoding gets no compression, whatever the host's own client accepts.
    connection = http.client.HTTPConnection(ep["url"].removeprefix("http://"), timeout=30)
    try:
        connection.putrequest("POST", "/v2/models/triton-churn/infer", skip_accept_encoding=True)
        for name, value in {**key, HEADER: str(json_size), "Content-Length": str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        plain = connection.getresponse()
        content = plain.read()
    finally:
        connection.close()
    assert plain.status == 200 and plain.getheader("Content-Encoding") is None
    result = httpclient.InferResult.from_response_body(content, header_length=int(plain.getheader(HEADER)))
    assert result.as_numpy(label).tolist() == model.predict(x).tolist()

    broken = requests.post(url, data=body[:-8], timeout=30, headers={**key, HEADER: str(json_size)})
    assert broken.status_code == 400 and "binary_data_size" in broken.json()["error"]
