"""A crashed deployment's restart backoff grows while it keeps crashing and starts over once it
has served for a healthy while (c.DeploymentManager.backoff_reset, 2 s here); restarts keep
counting and the last crash time is shown."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.servers import ServerProcess, wait_until

X, y = make_classification(100, 4, random_state=0)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("backoff"), args=["--DeploymentManager.backoff_reset=2"])
    s.client().register("m", LogisticRegression().fit(X, y), sample=X[:2])
    s.client().deploy("crashy-ep", "m:1", auth="none")
    yield s
    s.client().undeploy("crashy-ep")
    s.stop()


def blue(server) -> dict:
    return json.loads((server.root / "endpoints" / "crashy-ep" / "status.json").read_text())["deployments"]["blue"]


def crash(server) -> str:
    """Kill the healthy deployment; the restart delay its status announces."""
    pid = blue(server)["pid"]
    os.kill(pid, signal.SIGKILL)
    restarting = wait_until(
        lambda: blue(server) if blue(server)["state"] == "restarting" else None, 20, "the restarting state"
    )
    wait_until(lambda: blue(server)["state"] == "healthy" and blue(server)["pid"] != pid, 30, "the restart")
    return restarting["reason"].rsplit(" in ", 1)[1]


def test_the_backoff_grows_then_starts_over_after_a_healthy_while(server):
    assert crash(server) == "0.5 s"
    assert crash(server) == "1.0 s", "crashing again at once waits longer"
    started = time.monotonic()
    wait_until(lambda: time.monotonic() - started > 2.5, 5, "a healthy while")
    assert crash(server) == "0.5 s", "after serving for a while the backoff starts over"
    deployment = server.client().endpoint("crashy-ep")["deployments"][0]
    assert deployment["restarts"] == 3 and deployment["last_crash"].endswith("Z")
