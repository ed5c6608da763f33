"""Charts over time (issue 23): the server reads its endpoints' counters every
``metrics_interval`` and keeps them, so ``GET endpoints/{name}/metrics/history`` shows each
deployment's requests, errors and latency over a range, whenever it is asked, and after the
server restarts.

A real Jupyter server reading every 0.5 s, a real endpoint with two deployments, real HTTP
traffic from outside (good requests and 400s), and a real restart of the server on the same root.
"""

from __future__ import annotations

import time

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.servers import ServerProcess, wait_until

pytestmark = pytest.mark.timeout(300)

X, y = make_classification(60, 4, random_state=0)
ARGS = ["--DeploymentManager.metrics_interval=0.5"]


def history(server: ServerProcess, name: str, range_: str = "1h") -> requests.Response:
    return server.session.get(
        server.url + f"modelhub/api/endpoints/{name}/metrics/history", params={"range": range_}, timeout=30
    )


def totals(server: ServerProcess, name: str, deployment: str) -> tuple[int, int]:
    """(requests, errors) summed over the deployment's points in the last hour."""
    points = history(server, name).json()["deployments"].get(deployment, [])
    return sum(p["requests"] for p in points), sum(p["errors"] for p in points)


def score(endpoint: dict, key: str, body: object, deployment: str) -> int:
    headers = {"Authorization": f"Bearer {key}", "azureml-model-deployment": deployment}
    return requests.post(endpoint["url"] + "/score", json=body, headers=headers, timeout=30).status_code


def test_history_counts_each_deployment_and_survives_a_restart(tmp_path):
    folder = tmp_path / "server"
    server = ServerProcess(folder, args=ARGS)
    try:
        client = server.client()
        client.register("charted", LogisticRegression().fit(X, y), sample=X[:3])
        endpoint = client.deploy("charts-ep", "charted:1")
        key = server.session.get(server.url + "modelhub/api/endpoints/charts-ep/keys").json()["primary"]
        # the server has read blue at least twice: it charts it from here on
        wait_until(lambda: history(server, "charts-ep").json()["deployments"].get("blue"), 30, "blue's first point")

        assert all(score(endpoint, key, {"data": X[:2].tolist()}, "blue") == 200 for _ in range(5))
        assert all(score(endpoint, key, {"not data": 1}, "blue") == 400 for _ in range(2))
        wait_until(lambda: totals(server, "charts-ep", "blue") == (7, 2), 30, "blue's 7 requests, 2 of them errors")

        # A deployment added while the server watches: the requests of its first moments count too.
        client.deploy("charts-ep", "charted:1", deployment="green", traffic={"blue": 100, "green": 0})
        assert all(score(endpoint, key, {"data": X[:1].tolist()}, "green") == 200 for _ in range(3))
        wait_until(lambda: totals(server, "charts-ep", "green") == (3, 0), 30, "green's 3 requests")
        assert totals(server, "charts-ep", "blue") == (7, 2)  # green's requests are not blue's

        body = history(server, "charts-ep").json()
        assert body["endpoint"] == "charts-ep" and body["range"] == "1h" and body["step_s"] == 30
        point = next(p for p in body["deployments"]["blue"] if p["requests"])
        assert point["time"].endswith("Z") and 0 < point["p50_ms"] <= point["p95_ms"] <= point["p99_ms"]
    finally:
        server.stop()

    # Restarted on the same root: the earlier points are still there, and the deployments, which
    # restarted with it and count from zero again, add to them (never a negative step).
    server = ServerProcess(folder, args=ARGS)
    try:
        assert totals(server, "charts-ep", "blue") == (7, 2)
        wait_until(
            lambda: server.session.get(server.url + "modelhub/api/endpoints/charts-ep").json()["state"] == "healthy",
            60,
            "the endpoint back",
        )
        endpoint = server.session.get(server.url + "modelhub/api/endpoints/charts-ep").json()
        wait_until(lambda: len(history(server, "charts-ep").json()["deployments"]["blue"]) >= 2, 30, "a point after")
        assert score(endpoint, key, {"data": X[:1].tolist()}, "blue") == 200
        wait_until(lambda: totals(server, "charts-ep", "blue") == (8, 2), 30, "blue's 8th request")
        for points in history(server, "charts-ep", "7d").json()["deployments"].values():
            assert all(p["requests"] >= 0 and p["errors"] >= 0 for p in points)
    finally:
        server.stop()


def test_history_refuses_an_unknown_range_or_endpoint(hub_server):
    answer = history(hub_server, "nowhere", "2h")
    assert answer.status_code == 400
    assert answer.json()["message"] == "Unknown range '2h': expected one of 1h, 6h, 24h, 7d."
    answer = history(hub_server, "nowhere", "6h")
    assert answer.status_code == 404 and "nowhere" in answer.json()["message"]


def test_a_week_of_samples_on_sqlite_and_postgresql(db_url, tmp_path):
    """The history sums its steps in SQL, the same on both databases: a deployment that restarted
    (its counters back to zero) adds what it answered since, never a negative step; a week has at
    most 120 points; percentiles come from the histograms' differences."""
    from datetime import timedelta

    from jupyter_modelhub.deploy.series import _row
    from jupyter_modelhub.services import build_services
    from jupyter_modelhub.store.database import Database
    from jupyter_modelhub.store.orm import Endpoint, utcnow

    database = Database(db_url)
    try:
        series = build_services(database, tmp_path).deployments.series
        database.write(lambda s: s.add(Endpoint(name="week", port=1, created_time=utcnow() - timedelta(days=8))))
        now = int(time.time() * 1000)
        # every hour for 6 days: 100 more requests (2 errors) each, all within 5 ms; a restart at 3 days
        reads, previous, total = [], None, 0
        for hour in range(6 * 24, 0, -1):
            total = 100 if hour == 3 * 24 else total + 100
            counts = {
                "requests": total,
                "errors": total // 50,
                "latency_count": total,
                "latency_sum": total * 0.003,
                "latency_buckets": [[0.001, 0], [0.005, total], [0.01, total]],
            }
            reads.append(_row(now - hour * 3600_000, "week", "blue", counts, previous))
            previous = counts
        database.write(lambda s: s.add_all(reads))

        week = series.history("week", "7d")
        points = week.deployments["blue"]
        assert week.step_s == 5040 and len(points) <= 120
        # the first read is where counting starts: every later one added 100 requests, 2 errors
        assert sum(p.requests for p in points) == 100 * (len(reads) - 1)
        assert sum(p.errors for p in points) == 2 * (len(reads) - 1)
        assert all(p.requests >= 0 and p.errors >= 0 for p in points)
        assert all(1 < p.p50_ms < 5 and p.p50_ms <= p.p95_ms <= p.p99_ms <= 5 for p in points if p.requests)
        assert series.history("week", "1h").deployments == {}  # nothing read in the last hour
    finally:
        database.dispose()
