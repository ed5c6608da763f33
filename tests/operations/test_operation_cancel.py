"""Cancel is idempotent and never holds a request: a real server, a real worker process (an
environment build waiting on a package index that never answers, so it runs until cancelled).

Twenty cancels at once all answer 200 with the operation, the REST API keeps answering while
they run, the operation ends cancelled with no process left, a cancel of a cancelled operation
is still a 200, and one of an operation that succeeded is a 409 naming its status.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.operations import StallingIndex, processes_in_group, worker_pid
from helpers.servers import ServerProcess, wait_until

X, y = make_classification(100, 4, random_state=0)
CLF = LogisticRegression().fit(X, y)


def api(server: ServerProcess, method: str, path: str, **kwargs) -> requests.Response:
    """One request on its own connection (a Session is not shared across threads)."""
    return requests.request(
        method, server.url + "modelhub/api/" + path, headers=server.session.headers, timeout=60, **kwargs
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("cancel"))
    s.client().register("m", CLF, sample=X[:2])
    yield s
    s.stop()


def test_twenty_cancels_at_once_all_answer_the_operation_and_the_api_stays_up(server):
    with StallingIndex() as index:
        response = api(
            server,
            "POST",
            "endpoints/storm-ep/deployments",
            json={"model": "m:1", "requirements": index.requirements(), "auth": "none"},
        )
        assert response.status_code == 202, response.text
        operation_id = response.json()["id"]
        assert index.asked.wait(60), "uv asked the index: the build is running"
        pid = worker_pid(server, operation_id)
        assert pid is not None

        with ThreadPoolExecutor(24) as pool:
            cancels = [pool.submit(api, server, "POST", f"operations/{operation_id}/cancel") for _ in range(20)]
            models = pool.submit(api, server, "GET", "models")
            answers = [c.result() for c in cancels]
            assert models.result().status_code == 200, "the API answers during the storm"
        assert [a.status_code for a in answers] == [200] * 20, [(a.status_code, a.text) for a in answers]
        assert {a.json()["id"] for a in answers} == {operation_id}
        assert {a.json()["status"] for a in answers} <= {"running", "cancelled"}

        final = wait_until(
            lambda: (lambda o: o if not o["active"] else None)(api(server, "GET", f"operations/{operation_id}").json()),
            60,
            "the operation to end",
        )
        assert final["status"] == "cancelled", final
        wait_until(lambda: not processes_in_group(pid), 30, "the worker's processes to end")
        again = api(server, "POST", f"operations/{operation_id}/cancel")
        assert again.status_code == 200 and again.json()["status"] == "cancelled", again.text


def test_a_cancel_of_an_operation_that_succeeded_is_a_409_naming_its_status(server):
    response = api(server, "POST", "models/m/versions/1/convert", json={})
    assert response.status_code == 202, response.text
    operation_id = response.json()["id"]
    final = server.client().wait_for(operation_id, timeout=300)
    assert final["status"] == "succeeded", final
    refused = api(server, "POST", f"operations/{operation_id}/cancel")
    assert refused.status_code == 409 and "already succeeded" in refused.json()["message"], refused.text
