"""The runtime's access log and its probes (issue 23, defect 2), on a real runtime process.

Readiness answers 503 while the model loads, and neither that nor a probe's 200 writes an access
line (they are counted in /metrics instead); a probe that finds something wrong (a wrong key, an
unknown model) is written, since an operator needs to see it.
"""

from __future__ import annotations

import re

import pytest
import requests

from helpers.serving import ServingProcess

SCRIPT = (
    "import json, os, time\n\n"
    "def init():\n"
    "    go = os.environ['TEST_INIT_WAITS_FOR']\n"
    "    while not os.path.exists(go):\n"
    "        time.sleep(0.02)\n\n"
    "def run(raw_data):\n"
    "    return {'echo': json.loads(raw_data)}\n"
)
KEY = "probe-test-key"


@pytest.fixture
def loading_runtime(tmp_path):
    """A runtime whose model is loading until the test creates the file ``go``."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "score.py").write_text(SCRIPT)
    go = tmp_path / "go"
    runtime = ServingProcess(
        folder,
        "--entry-script",
        str(folder / "score.py"),
        "--name",
        "echo",
        env={"TEST_INIT_WAITS_FOR": str(go), "MODELHUB_AUTH_KEY": KEY},
        ready_timeout=0,
    )
    yield runtime, go
    runtime.stop()


def count(metrics: str, route: str, code: int) -> int:
    found = re.search(rf'modelhub_requests_total{{route="{re.escape(route)}",code="{code}"}} (\d+)', metrics)
    return int(found.group(1)) if found else 0


def test_probes_leave_no_access_line_but_are_counted(loading_runtime):
    runtime, go = loading_runtime
    port = re.search(r"port (\d+)", runtime.wait_for_line("stderr", "listening on")).group(1)
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {KEY}"}

    starting = requests.get(url + "/v2/health/ready", timeout=5)
    assert starting.status_code == 503 and starting.json() == {"ready": False}, "starting is a 503, never a 400"
    assert requests.get(url + "/ping", timeout=5).status_code == 503
    assert requests.get(url + "/v2/health/live", timeout=5).status_code == 200
    assert requests.get(url + "/v2/models/not-echo/ready", timeout=5).status_code == 404
    assert requests.get(url + "/metrics", headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401

    go.write_text("go")
    runtime.wait_ready(30)
    for _ in range(5):
        assert runtime.get("/v2/health/ready").status_code == 200
        assert runtime.get("/metrics", headers=auth).status_code == 200
    assert runtime.post("/score?marker", json={"x": 1}, headers=auth).status_code == 200
    runtime.wait_for_line("stdout", r'"POST /score\?marker" 200')  # the log is written in order

    access = [line for line in runtime.stdout if '"GET ' in line or '"POST ' in line]
    assert [re.search(r'"(\w+ \S+)" (\d+)', line).groups() for line in access] == [
        ("GET /v2/models/not-echo/ready", "404"),
        ("GET /metrics", "401"),
        ("POST /score?marker", "200"),
    ], access

    metrics = runtime.get("/metrics", headers=auth).text
    assert count(metrics, "/v2/health/ready", 503) == 1 and count(metrics, "/v2/health/ready", 200) == 5
    assert count(metrics, "/ping", 503) == 1 and count(metrics, "/v2/health/live", 200) == 1
    assert count(metrics, "/metrics", 200) >= 5 and count(metrics, "/metrics", 401) == 1
