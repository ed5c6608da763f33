"""Probes and the panel's own polling stay out of a deployment's log (issue 23, defect 2).

A real Jupyter server deploys a real endpoint; the test polls what the panel polls (the
endpoint's metrics every few seconds) and calls the probes Kubernetes, Docker and load balancers
call, then reads the deployment's log as the panel shows it: only the user's requests are there,
and the probes are still counted in the runtime's metrics.
"""

from __future__ import annotations

import re

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.servers import wait_until

X, y = make_classification(200, 20, random_state=3)
PROBES = ("/", "/ping", "/v2/health/live", "/v2/health/ready", "/v2/models/churn/ready")


@pytest.fixture(scope="module")
def endpoint(hub_server):
    client = hub_server.client()
    client.register("churn", LogisticRegression().fit(X, y), sample=X[:5])
    return client, client.deploy("probe-ep", "churn:1")


def test_probes_and_metrics_polling_leave_the_log_to_the_users_requests(endpoint, hub_server):
    client, ep = endpoint
    for _ in range(3):
        panel_poll = hub_server.session.get(hub_server.url + "modelhub/api/endpoints/probe-ep/metrics", timeout=30)
        assert panel_poll.status_code == 200, panel_poll.text
        for probe in PROBES:
            answer = requests.get(ep["url"] + probe, headers={"Authorization": f"Bearer {ep.key}"}, timeout=10)
            assert answer.status_code == 200, (probe, answer.text)
    scored = requests.post(
        ep["url"] + "/score?after-the-probes",
        json={"data": X[:2].tolist()},
        headers={"Authorization": f"Bearer {ep.key}"},
        timeout=30,
    )
    assert scored.status_code == 200

    # The access log is written in order: once the score's line is there, the probes' would be too.
    def log_with_the_score() -> str | None:
        text = client.logs("probe-ep", "blue", tail=1000)
        return text if "after-the-probes" in text else None

    log = wait_until(log_with_the_score, 30, "the score's access line")
    access = [line for line in log.splitlines() if re.search(r'"(GET|POST) ', line)]
    assert access and all("/score" in line for line in access), access

    metrics = requests.get(ep["url"] + "/metrics", headers={"Authorization": f"Bearer {ep.key}"}, timeout=10).text
    for route in ("/v2/health/ready", "/ping", "/metrics"):
        counted = re.search(
            rf'modelhub_requests_total{{[^}}]*route="{re.escape(route)}"[^}}]*code="200"[^}}]*}} (\d+)', metrics
        )
        assert counted and int(counted.group(1)) >= 3, f"{route} is counted in /metrics\n{metrics}"
