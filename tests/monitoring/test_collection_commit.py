"""Requests just answered are readable at once (issue 22): with the default roll time (a file is
committed after a minute), reading the collected requests asks the endpoint's host to commit what
it has first, so ``hub.collected`` and ``%monitor`` see the traffic a user just sent. Real server,
real endpoint, real HTTP traffic; no waiting in the test.
"""

from __future__ import annotations

import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.servers import ServerProcess

X, y = make_classification(100, 4, random_state=2)


def test_requests_just_answered_are_read_back_without_waiting_for_a_roll(tmp_path):
    server = ServerProcess(tmp_path)  # the default collect_roll_seconds: 60
    hub = server.client()
    try:
        hub.register("fresh", LogisticRegression().fit(X, y), sample=X[:3])
        endpoint = hub.deploy("fresh-ep", "fresh:1", collect=["requests", "responses"])
        sent = []
        for i in range(3):
            answer = requests.post(
                endpoint["url"] + "/score",
                json={"data": X[i : i + 1].tolist()},
                headers={"Authorization": f"Bearer {endpoint.key}"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            sent.append(answer.headers["x-request-id"])
        frame = hub.collected("fresh-ep", since="10m")
        assert sorted(frame["request_id"]) == sorted(sent)
        assert hub.endpoint("fresh-ep")["collect"]["committed"] == 3
    finally:
        for info in hub.endpoints():
            hub.undeploy(info["name"])
        server.stop()
