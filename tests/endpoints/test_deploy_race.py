"""Concurrent deploys of one new endpoint (a notebook cell run twice, two users): exactly one
creates it (201); the others update it (200) or are refused (409), never a 500, never a second
endpoint host on the same name and port."""

from __future__ import annotations

import threading
from pathlib import Path

import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

X, y = make_classification(100, 4, random_state=0)


def hosts_of(root: Path, endpoint: str) -> list[int]:
    """Live endpoint host processes serving ``endpoint`` (from their command lines)."""
    folder = str(root.resolve() / "endpoints" / endpoint).encode()
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
            state = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if b"jupyter_modelhub.deploy.host" in words and folder in words and state != "Z":
            pids.append(int(cmdline.parent.name))
    return pids


def test_concurrent_deploys_of_a_new_endpoint_create_it_once(hub_server):
    hub_server.client().register("racer", LogisticRegression().fit(X, y), sample=X[:5])
    url = hub_server.url + "modelhub/api/endpoints/{}/deployments"
    for round_ in range(2):
        name = f"race-{round_}"
        start = threading.Barrier(3)
        answers: list[requests.Response] = []

        def deploy() -> None:
            start.wait()
            answers.append(hub_server.session.post(url.format(name), json={"model": "racer:1"}, timeout=180))

        threads = [threading.Thread(target=deploy) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(a.status_code for a in answers)
        assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}, [a.text for a in answers]
        # an automatic port is below the range outgoing connections take theirs from, so none of
        # them can take it between the choice and the host's bind (this test once lost that race)
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
        assert 20000 <= hub_server.session.get(hub_server.url + f"modelhub/api/endpoints/{name}").json()["port"] < low
        endpoint = hub_server.session.get(hub_server.url + f"modelhub/api/endpoints/{name}").json()
        assert [d["name"] for d in endpoint["deployments"]] == ["blue"]
        assert endpoint["state"] == "healthy", endpoint
        assert len(hosts_of(hub_server.root, name)) == 1, "one host per endpoint"
        assert hub_server.session.delete(hub_server.url + f"modelhub/api/endpoints/{name}").ok
