"""The docker target on a real engine: a deployment as a container of the model's image, served
through the endpoint host beside a process deployment (keys, traffic split, logs), restarted when
its container dies, kept through a server crash, and removed by %undeploy."""

from __future__ import annotations

from collections import Counter

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers.docker import BASE_IMAGE
from helpers.servers import ServerProcess, wait_until

X, y = make_classification(300, 20, random_state=0)
CLF = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
LABEL = "org.modelhub.endpoint-folder"


def containers_of(client, server: ServerProcess, endpoint: str, running: bool = False) -> list[dict]:
    """The endpoint's containers as the engine lists them (plain data: one may go while we look)."""
    folder = str(server.root / "endpoints" / endpoint)
    found = client.api.containers(all=True, filters={"label": f"{LABEL}={folder}"})
    return [c for c in found if not running or c["State"] == "running"]


def score(endpoint, rows, deployment=None):
    headers = {"Authorization": f"Bearer {endpoint.key}"}
    if deployment:
        headers["azureml-model-deployment"] = deployment
    return requests.post(endpoint["url"] + "/score", json={"data": rows}, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory, docker_client):
    s = ServerProcess(tmp_path_factory.mktemp("dockertarget"), args=[f"--Packager.base_image={BASE_IMAGE}"])
    s.client().register("churn", CLF, sample=X[:5])
    yield s
    s.stop()


def test_a_container_deployment_serves_beside_a_process_one(server, docker_client):
    hub = server.client()
    hub.deploy("mix-ep", "churn:1")
    endpoint = hub.deploy(
        "mix-ep",
        "churn:1",
        deployment="green",
        target="docker",
        cpu=1,
        memory="512M",
        traffic={"blue": 50, "green": 50},
    )
    green = next(d for d in endpoint["deployments"] if d["name"] == "green")
    assert green["state"] == "healthy" and green["target"] == "docker" and green["image"] == "modelhub/churn:1"
    (listed,) = containers_of(docker_client, server, "mix-ep")
    container = docker_client.containers.get(listed["Id"])
    binding = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1", "published on loopback only"
    assert (
        container.attrs["HostConfig"]["NanoCpus"] == 10**9 and container.attrs["HostConfig"]["Memory"] == 512 * 1024**2
    )

    served = Counter()
    for _ in range(60):
        answer = score(endpoint, X[:2].tolist())
        assert answer.ok, answer.text
        assert answer.json()["predictions"] == CLF.predict(X[:2]).tolist()
        served[answer.headers["x-modelhub-deployment"]] += 1
    assert served["blue"] > 10 and served["green"] > 10, served
    unauthorised = requests.post(endpoint["url"] + "/score", json={"data": X[:1].tolist()}, timeout=10)
    assert unauthorised.status_code == 401, "the container is behind the endpoint's keys"
    wait_until(lambda: '"POST /score" 200' in hub.logs("mix-ep", "green"), 15, "the container's access lines")


def test_a_dead_container_is_replaced_and_counted(server, docker_client):
    hub = server.client()
    (before,) = containers_of(docker_client, server, "mix-ep")
    docker_client.api.kill(before["Id"])  # SIGKILL to the container's init: the runtime goes with it

    def replaced():
        green = next(d for d in hub.endpoint("mix-ep")["deployments"] if d["name"] == "green")
        return green if green["state"] == "healthy" and green["restarts"] == 1 else None

    wait_until(replaced, 90, "a new container")
    live = containers_of(docker_client, server, "mix-ep", running=True)
    assert len(live) == 1 and live[0]["Id"] != before["Id"]
    assert score(hub.endpoint("mix-ep"), X[:1].tolist(), deployment="green").ok


def test_bad_docker_deploys_are_refused_at_once(server):
    for body, words in [
        ({"model": "churn:1", "target": "docker", "memory": "lots"}, "Invalid --memory"),
        ({"model": "churn:1", "target": "docker", "kserve": True}, "cannot be used with --target docker"),
        ({"model": "churn:1", "target": "docker", "image": "Not An Image"}, "Invalid image"),
    ]:
        response = server.session.post(server.url + "modelhub/api/endpoints/bad-ep/deployments", json=body, timeout=30)
        assert response.status_code == 400 and words in response.json()["message"], response.text


def test_a_gpu_deploy_asks_the_engine_for_gpus_and_fails_clearly_without_one(server, docker_client):
    from jupyter_modelhub.errors import ModelHubError

    with pytest.raises(ModelHubError) as failure:
        server.client().deploy("gpu-ep", "churn:1", target="docker", gpu=True)
    assert "gpu" in failure.value.message.lower(), failure.value.message
    assert containers_of(docker_client, server, "gpu-ep") == [], "not even a created one is left"
    server.client().undeploy("gpu-ep")


def test_an_image_of_ones_own_gets_the_model_mounted_read_only(server, docker_client):
    hub = server.client()
    endpoint = hub.deploy("own-ep", "churn:1", target="docker", image="modelhub/churn:1", auth="none")
    try:
        answer = requests.post(endpoint["url"] + "/score", json={"data": X[:2].tolist()}, timeout=30)
        assert answer.ok and answer.json()["predictions"] == CLF.predict(X[:2]).tolist()
        (listed,) = containers_of(docker_client, server, "own-ep", running=True)
        (mount,) = docker_client.containers.get(listed["Id"]).attrs["Mounts"]
        assert mount["RW"] is False and mount["Destination"] == "/var/azureml-app/azureml-models/churn/1"
    finally:
        hub.undeploy("own-ep")


def test_a_server_crash_keeps_the_container_and_undeploy_removes_it(server, docker_client, tmp_path):
    (running,) = containers_of(docker_client, server, "mix-ep", running=True)
    server.process.kill()
    server.process.wait()
    again = ServerProcess(server.folder, port=server.port, args=[f"--Packager.base_image={BASE_IMAGE}"])
    try:
        endpoint = again.client().endpoint("mix-ep")
        assert endpoint["state"] == "healthy"
        (still,) = containers_of(docker_client, again, "mix-ep", running=True)
        assert still["Id"] == running["Id"], "adopted, not restarted"
        again.client().undeploy("mix-ep")
        assert containers_of(docker_client, again, "mix-ep") == [], "no container is left"
    finally:
        again.stop()
        server.process = again.process  # the module fixture stops whichever runs
