"""Operations: what starting one costs, and how soon a polling client sees its progress.

Starts real Jupyter servers with the extension and measures in the same run:

- starting an operation: ``POST models/m/versions/1/convert`` (answered 202) against a plain
  ``GET models`` on the same server, interleaved, medians. The server is configured to run no
  conversion (``max_parallel = {"convert": 0}``), so the POSTs measure starting, not converting;
  the queued operations are cancelled at the end. Target: at most 2x the GET.
- progress reaching a client: real conversions on a second server, followed by the client's own
  ``wait_for`` (it polls every 0.25 s); for every progress update seen, the time from the worker
  writing it (``progress.updated_time``) to the client seeing it. Target: at most 1 s.

    python bench/operations.py [--rounds 200] [--conversions 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from hub_server import HubServer


def model():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(500, 20, random_state=0)
    return LogisticRegression().fit(X, y), X


def starting_cost(rounds: int) -> tuple[float, float]:
    work = Path(tempfile.mkdtemp(prefix="modelhub-bench-ops-"))
    server = HubServer(work, config={"OperationRunner": {"max_parallel": {"convert": 0}}})
    try:
        hub = server.client()
        clf, X = model()
        hub.register("m", clf, sample=X[:5])
        session = hub.session
        get_times, post_times, ids = [], [], []
        for _ in range(10):  # warm up both routes
            session.get(hub.api + "models")
        for _ in range(rounds):
            started = time.perf_counter()
            assert session.get(hub.api + "models").ok
            get_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            response = session.post(hub.api + "models/m/versions/1/convert", json={})
            post_times.append(time.perf_counter() - started)
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        for operation_id in ids:
            hub.cancel_operation(operation_id)
        return statistics.median(get_times) * 1000, statistics.median(post_times) * 1000
    finally:
        server.stop()


def progress_delay(conversions: int) -> list[float]:
    work = Path(tempfile.mkdtemp(prefix="modelhub-bench-ops-"))
    server = HubServer(work)
    delays: list[float] = []
    try:
        hub = server.client()
        clf, X = model()
        hub.register("m", clf, sample=X[:5])
        for _ in range(conversions):
            seen: set[str] = set()

            def observe(operation):
                stamp = (operation.get("progress") or {}).get("updated_time")
                if stamp and stamp not in seen and operation["active"]:
                    seen.add(stamp)
                    written = datetime.fromisoformat(stamp.rstrip("Z"))
                    delays.append((datetime.utcnow() - written).total_seconds())

            operation = hub.convert("m:1", sample=X[:200], wait=False)
            hub.wait_for(operation["id"], progress=observe)
        return delays
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--conversions", type=int, default=5)
    args = parser.parse_args()
    get_ms, post_ms = starting_cost(args.rounds)
    ratio = post_ms / get_ms
    print(
        f"\nstarting an operation ({args.rounds} rounds, medians): POST convert -> 202 {post_ms:.2f} ms, "
        f"GET models {get_ms:.2f} ms: {ratio:.2f}x  target <= 2x: {'OK' if ratio <= 2 else 'OVER'}"
    )
    delays = progress_delay(args.conversions)
    worst = max(delays)
    print(
        f"progress reaching a polling client ({len(delays)} updates over {args.conversions} conversions): "
        f"median {statistics.median(delays) * 1000:.0f} ms, worst {worst * 1000:.0f} ms  "
        f"target <= 1 s: {'OK' if worst <= 1 else 'OVER'}"
    )


if __name__ == "__main__":
    main()
