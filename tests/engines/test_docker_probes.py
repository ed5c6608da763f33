"""A container deployment's health check and readiness polling stay out of its log (issue 23,
defect 2), on a real Docker engine: the image's HEALTHCHECK asks the runtime's readiness route
(a 503 while the model loads, so Docker says "starting", then "healthy"), and neither it nor the
host's readiness polling at start writes a line in the log the panel shows."""

from __future__ import annotations

import re

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.docker import BASE_IMAGE
from helpers.servers import ServerProcess, wait_until

X, y = make_classification(200, 20, random_state=5)
LABEL = "org.modelhub.endpoint-folder"


@pytest.fixture(scope="module")
def server(tmp_path_factory, docker_client):
    s = ServerProcess(tmp_path_factory.mktemp("dockerprobes"), args=[f"--Packager.base_image={BASE_IMAGE}"])
    s.client().register("quiet", LogisticRegression().fit(X, y), sample=X[:5])
    yield s
    s.stop()


def test_the_health_check_asks_readiness_and_leaves_no_log_line(server, docker_client):
    hub = server.client()
    endpoint = hub.deploy("quiet-ep", "quiet:1", target="docker")
    try:
        folder = str(server.root / "endpoints" / "quiet-ep")
        (listed,) = docker_client.api.containers(filters={"label": f"{LABEL}={folder}"})
        container = docker_client.containers.get(listed["Id"])
        test = " ".join(container.attrs["Config"]["Healthcheck"]["Test"])
        assert "/v2/health/ready" in test, test

        def healthy() -> bool:
            container.reload()
            health = container.attrs["State"]["Health"]
            return health["Status"] == "healthy" and any(run["ExitCode"] == 0 for run in health["Log"])

        wait_until(healthy, 60, "Docker to run the image's health check and find the container healthy")
        answer = requests.post(
            endpoint["url"] + "/score?after-the-health-check",
            json={"data": X[:2].tolist()},
            headers={"Authorization": f"Bearer {endpoint.key}"},
            timeout=30,
        )
        assert answer.ok, answer.text

        def log_with_the_score() -> str | None:
            text = hub.logs("quiet-ep", "blue", tail=1000)
            return text if "after-the-health-check" in text else None

        log = wait_until(log_with_the_score, 30, "the score's access line")
        access = [line for line in log.splitlines() if re.search(r'"(GET|POST) ', line)]
        assert access and all("/score" in line for line in access), access
    finally:
        hub.undeploy("quiet-ep")
