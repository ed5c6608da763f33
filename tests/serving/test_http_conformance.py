"""HTTP/1.1 as the scoring runtime speaks it, over real sockets to a real runtime process.

What a client library, a proxy or a load balancer relies on: pipelined requests answered in
order, bodies split across packets or sent chunked, ``Expect: 100-continue``, size limits and
timeouts answered with a status (not a reset), HTTP/1.0 without keep-alive, bad request lines
answered 400, and a client that disconnects mid-request not disturbing anyone else. Requests
are written byte for byte with ``socket``; answers are read with a small parser of our own.
"""

from __future__ import annotations

import json
import socket
import time

import numpy as np
import pytest

from helpers.serving import ServingProcess

pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")

FEATURES = 4
TIMEOUT = 2.0  # --request-timeout


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, FEATURES))
    clf = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    folder = tmp_path_factory.mktemp("conformance") / "model"
    folder.mkdir()
    onnx = to_onnx(
        clf,
        initial_types=[("input", FloatTensorType([None, FEATURES]))],
        options={id(clf): {"zipmap": False}},
        target_opset=17,
    )
    (folder / "model.onnx").write_bytes(onnx.SerializeToString())
    return folder, clf, X


@pytest.fixture(scope="module")
def server(model):
    process = ServingProcess(model[0], "--max-request-bytes", "4000", "--request-timeout", str(TIMEOUT))
    yield process
    process.stop()


def body_of(model, row: int) -> bytes:
    return json.dumps({"data": model[2][row : row + 1].round(4).tolist()}).encode()


def label_of(model, row: int) -> int:
    X = model[2][row : row + 1].round(4).astype(np.float32)
    return int(model[1].predict(X)[0])


def post(body: bytes, *headers: str, path: str = "/score", version: str = "1.1") -> bytes:
    lines = [
        f"POST {path} HTTP/{version}",
        "Host: test",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get(path: str, *headers: str, version: str = "1.1") -> bytes:
    return ("\r\n".join([f"GET {path} HTTP/{version}", "Host: test", *headers]) + "\r\n\r\n").encode()


class Client:
    """One TCP connection; answers parsed as they arrive (status, headers by lower-case name, body)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        status_line = self.file.readline()
        assert status_line.startswith(b"HTTP/1.1 "), f"not an HTTP answer: {status_line!r}"
        status = int(status_line.split()[1])
        headers = {}
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.file.read(int(headers.get("content-length", 0))) if status >= 200 else b""
        return status, headers, body

    def closed_by_server(self) -> bool:
        """True once the server has closed the connection (EOF), False if it is still open after 1 s."""
        self.sock.settimeout(1)
        try:
            return self.file.read(1) == b""
        except (TimeoutError, socket.timeout):
            return False
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def connect(server, request):
    def open_client() -> Client:
        client = Client(server.port)
        request.addfinalizer(client.close)
        return client

    return open_client


def test_pipelined_requests_are_answered_in_order_on_one_connection(connect, model):
    client = connect()
    client.send(
        get("/")
        + post(body_of(model, 0))
        + get("/v2/health/live")
        + post(body_of(model, 1))
        + post(
            b'{"data": [[1, 2',
        )
        + get("/nowhere")
    )
    answers = [client.answer() for _ in range(6)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 200, 400, 404]
    assert answers[0][2] == b"Healthy\n" and json.loads(answers[2][2]) == {"live": True}
    assert json.loads(answers[1][2])["label"] == [label_of(model, 0)]
    assert json.loads(answers[3][2])["label"] == [label_of(model, 1)]
    assert "not valid JSON" in json.loads(answers[4][2])["message"]
    client.send(post(body_of(model, 2)))  # and the connection is still good
    assert client.answer()[0] == 200


def test_a_body_split_across_many_packets(connect, model):
    client = connect()
    request = post(body_of(model, 3))
    for start in range(0, len(request), 7):
        client.send(request[start : start + 7])
        time.sleep(0.002)  # separate packets: what a slow network delivers
    status, _, body = client.answer()
    assert status == 200 and json.loads(body)["label"] == [label_of(model, 3)]


def test_a_chunked_body(connect, model):
    client = connect()
    body = body_of(model, 4)
    pieces = [body[i : i + 10] for i in range(0, len(body), 10)]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
    client.send(b"POST /score HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    status, _, answer = client.answer()
    assert status == 200 and json.loads(answer)["label"] == [label_of(model, 4)]
    too_big = b"".join(b"%x\r\n%s\r\n" % (1000, b"x" * 1000) for _ in range(5)) + b"0\r\n\r\n"
    client.send(b"POST /score HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n" + too_big)
    status, _, answer = client.answer()
    assert status == 413 and "4000 bytes" in json.loads(answer)["message"]


def test_expect_100_continue(connect, model):
    client = connect()
    body = body_of(model, 5)
    head = post(body, "Expect: 100-continue")[: -len(body)]
    client.send(head)
    status, _, _ = client.answer()
    assert status == 100  # the client may send its body now
    client.send(body)
    status, _, answer = client.answer()
    assert status == 200 and json.loads(answer)["label"] == [label_of(model, 5)]

    # Too large by its Content-Length: refused before the body is sent, and the connection closes.
    refused = connect()
    refused.send(b"POST /score HTTP/1.1\r\nHost: test\r\nContent-Length: 9000\r\nExpect: 100-continue\r\n\r\n")
    status, headers, answer = refused.answer()
    assert status == 413 and headers["connection"] == "close" and "4000 bytes" in json.loads(answer)["message"]
    assert refused.closed_by_server()


def test_a_body_over_twice_the_limit_is_answered_413_not_reset(connect):
    client = connect()
    client.send(b"POST /score HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n" + b"x" * 20000)
    status, headers, answer = client.answer()
    assert status == 413 and headers["connection"] == "close"
    assert client.closed_by_server()


def test_http_1_0_closes_unless_asked_to_keep_alive(connect):
    client = connect()
    client.send(get("/", version="1.0"))
    status, headers, body = client.answer()
    assert status == 200 and body == b"Healthy\n" and headers.get("connection") == "close"
    assert client.closed_by_server()

    kept = connect()
    kept.send(get("/", "Connection: keep-alive", version="1.0"))
    status, headers, _ = kept.answer()
    assert status == 200 and headers["connection"] == "keep-alive"
    kept.send(get("/v2/health/live", "Connection: keep-alive", version="1.0"))
    assert kept.answer()[0] == 200


def test_connection_close_is_honoured(connect, model):
    client = connect()
    client.send(post(body_of(model, 6), "Connection: close") + get("/"))  # nothing after it is answered
    status, headers, _ = client.answer()
    assert status == 200 and headers["connection"] == "close"
    assert client.closed_by_server()


@pytest.mark.parametrize(
    "garbage",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        b"POST /score HTTP/1.1\r\nContent-Length: twelve\r\n\r\n",
    ],
)
def test_bad_request_lines_get_a_400_and_the_connection_closes(connect, garbage):
    client = connect()
    client.send(garbage)
    status, headers, body = client.answer()
    assert status == 400 and headers["connection"] == "close"
    assert "not valid HTTP" in json.loads(body)["message"]
    assert client.closed_by_server()


def test_an_upgrade_request_is_answered_over_http_1_1(connect):
    client = connect()  # as curl --http2 asks on plain HTTP
    client.send(get("/", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__"))
    status, _, body = client.answer()
    assert status == 200 and body == b"Healthy\n"
    with_body = connect()
    with_body.send(post(b'{"data": []}', "Connection: Upgrade", "Upgrade: h2c"))
    status, _, body = with_body.answer()
    assert status == 400 and "Upgrade" in json.loads(body)["message"]


def test_oversized_headers_get_431(connect):
    client = connect()
    client.send(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    status, _, body = client.answer()
    assert status == 431 and "headers" in json.loads(body)["message"]


def test_a_client_too_slow_to_send_its_request_gets_408(connect, model):
    client = connect()
    body = body_of(model, 7)
    client.send(post(body)[:-10])  # and never the rest
    started = time.monotonic()
    status, headers, answer = client.answer()
    waited = time.monotonic() - started
    assert status == 408 and headers["connection"] == "close" and f"{TIMEOUT:g} s" in json.loads(answer)["message"]
    assert TIMEOUT - 0.5 < waited < TIMEOUT + 3
    assert client.closed_by_server()


def test_a_slow_client_within_the_timeout_is_served(connect, model):
    client = connect()
    request = post(body_of(model, 8))
    half = len(request) // 2
    client.send(request[:half])
    time.sleep(TIMEOUT / 4)  # the client's pace, well within --request-timeout
    client.send(request[half:])
    status, _, body = client.answer()
    assert status == 200 and json.loads(body)["label"] == [label_of(model, 8)]


def answered(server, route: str) -> dict[str, float]:
    """The runtime's count of answered requests of a route, by status code."""
    prefix = f'modelhub_requests_total{{route="{route}",code="'
    return {
        line[len(prefix) :].split('"')[0]: float(line.split()[-1])
        for line in server.get("/metrics").text.splitlines()
        if line.startswith(prefix)
    }


def test_a_client_that_disconnects_mid_request_disturbs_nobody(server, connect, model):
    other, scored = answered(server, "other"), answered(server, "/score")
    for cut in (20, len(post(body_of(model, 9))) - 5):  # in the headers, in the body
        leaving = connect()
        leaving.send(post(body_of(model, 9))[:cut])
        leaving.close()
    staying = connect()
    staying.send(post(body_of(model, 9)))
    status, _, body = staying.answer()
    assert status == 200 and json.loads(body)["label"] == [label_of(model, 9)]
    # Half requests are not answered, so not counted; the whole one is.
    assert answered(server, "other") == other
    assert answered(server, "/score") == {**scored, "200": scored.get("200", 0) + 1}


def test_a_client_that_leaves_while_its_request_is_scored_is_logged_499(tmp_path):
    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "score.py").write_text(
        "import json, time\n\n"
        "def init():\n    pass\n\n"
        "def run(raw_data):\n"
        "    print('RUNNING', flush=True)\n"
        "    time.sleep(json.loads(raw_data)['sleep'])\n"
        "    return {'slept': True}\n"
    )
    server = ServingProcess(folder, "--entry-script", str(folder / "score.py"))
    try:
        client = Client(server.port)
        client.send(post(b'{"sleep": 0.5}'))
        server.wait_for_line("stdout", "RUNNING")
        client.close()
        server.wait_for_line("stdout", r'"POST /score" 499 ')
        assert server.get("/").status_code == 200
        assert server.terminate() == 0  # nothing is left counted in flight
    finally:
        server.stop()


def test_request_durations_are_measured_finer_than_the_loop_clock(server, connect, model):
    """uvloop's clock moves in milliseconds: the access log and the latency histogram use a finer one."""
    client = connect()
    for row in range(10):
        client.send(post(body_of(model, row), "X-Probe: durations"))
        assert client.answer()[0] == 200
    lines = server.wait_for(
        lambda: [line for line in server.stdout if '"POST /score" 200 ' in line][-10:] or None, 10, "access log lines"
    )
    durations = [line.rsplit(" ", 1)[-1] for line in lines]
    assert any(not duration.endswith(".00ms") for duration in durations), durations
