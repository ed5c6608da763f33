"""One team registry with nothing shared on disk (issue 20): two Jupyter servers with their own
root_dir, one PostgreSQL, one bucket. Registered on A; downloaded, deployed, converted, scored in
a batch job (and packaged, with a Docker engine) on B. And a store that goes away under a running server: 503s
that name it, no half-registered version, endpoints and cached files still served.

Real parts: Jupyter servers as subprocesses (credentials and endpoint the standard AWS way, from
the environment), PostgreSQL, an S3 API over HTTP, endpoint processes, operation workers.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.docker import BASE_IMAGE
from helpers.postgres import fresh_postgres_database
from helpers.s3 import TEST_KEYS, Bucket
from helpers.servers import ServerProcess, wait_until
from helpers.uploads import tar_bytes
from jupyter_modelhub.errors import Conflict, ModelHubError

pytestmark = [pytest.mark.s3, pytest.mark.slow]  # several servers: make test, not make test-fast

X, y = make_classification(200, 6, random_state=3)
CLF = LogisticRegression().fit(X, y)


def server_on(folder, bucket: Bucket, *args: str) -> ServerProcess:
    return ServerProcess(
        folder,
        extra_env=bucket.env,
        args=[f"--ModelHubApp.artifact_uri={bucket.uri()}", "--ModelConverter.timing_budget=0.1", *args],
    )


def score(endpoint, rows) -> list:
    headers = {"Authorization": f"Bearer {endpoint.key}"} if endpoint.key else {}
    response = requests.post(endpoint["url"] + "/score", json={"data": rows}, headers=headers, timeout=30)
    response.raise_for_status()
    return response.json()["predictions"]


@pytest.fixture
def team(postgres_server, bucket, tmp_path):
    """Servers A and B: one database, one bucket, two roots that share nothing."""
    db_url = fresh_postgres_database(postgres_server)
    servers = [server_on(tmp_path / name, bucket, f"--ModelHubApp.db_url={db_url}") for name in ("a", "b")]
    yield servers
    for server in reversed(servers):  # B deploys
        stop_endpoints(server)
        server.stop()


def stop_endpoints(server: ServerProcess) -> None:
    for endpoint in server.client().endpoints():
        try:
            server.client().undeploy(endpoint["name"])
        except ModelHubError:  # another server's, gone already
            pass


def test_registered_on_one_server_downloaded_deployed_and_converted_on_another(team, bucket, tmp_path):
    a, b = team
    hub_a, hub_b = a.client(), b.client()
    for server in (a, b):
        info = server.session.get(server.url + "modelhub/api/info").json()
        assert info["artifact_uri"] == bucket.uri()
        assert TEST_KEYS["AWS_SECRET_ACCESS_KEY"] not in json.dumps(info)

    registered = hub_a.register("churn", CLF, sample=X[:5])
    assert registered["ref"] == "churn:1"
    assert any(key.endswith("/manifest.json") for key in bucket.names_under("registry/churn/"))
    assert not list((a.root / "artifacts").glob("*/*")), "nothing published on A's disk"

    downloaded = hub_b.download("churn:1", to=tmp_path / "out")
    assert len(downloaded["files"]) == len(registered["files"])
    endpoint = hub_b.deploy("churn-ep", "churn:1")
    assert score(endpoint, X[:4].tolist()) == CLF.predict(X[:4]).tolist()
    spec = json.loads((b.root / "endpoints" / "churn-ep" / "spec.json").read_text())
    assert spec["deployments"]["blue"]["model_dir"].startswith(str(b.root / "cache" / "versions")), spec
    # A sees B's endpoint but cannot stop processes it does not run: it refuses to change it
    assert [e["name"] for e in hub_a.endpoints()] == ["churn-ep"]
    for change in (
        lambda: hub_a.undeploy("churn-ep"),
        lambda: hub_a.set_traffic("churn-ep", {"blue": 100}),
        lambda: hub_a.deploy("churn-ep", "churn:1", deployment="green"),
    ):
        with pytest.raises(Conflict, match="runs on another Model Hub server"):
            change()
    assert score(endpoint, X[:4].tolist()) == CLF.predict(X[:4]).tolist(), "B's endpoint still serves"

    converted = hub_b.convert("churn:1")  # in an operation worker of B, which opens the same store
    onnx = converted["version"]
    assert onnx["ref"] == "churn:2" and onnx["flavor"] == "onnx"
    assert len(hub_a.download("churn:2", to=tmp_path / "onnx-on-a")["files"]) == len(onnx["files"])
    assert not list((b.root / "artifacts").glob("*/*")), "nothing published on B's disk either"

    hub_a.delete("churn:2")
    assert hub_b.versions("churn") and [v["ref"] for v in hub_b.versions("churn")] == ["churn:1"]


@pytest.mark.kernel  # the job is a papermill run of the scoring notebook
def test_a_batch_job_on_another_server_scores_with_the_version_from_the_bucket(team):
    a, b = team
    a.client().register("batched", CLF, sample=X[:5])
    data = b.folder / "notebooks" / "rows.csv"
    pd.DataFrame(X[:50], columns=[f"f{i}" for i in range(X.shape[1])]).to_csv(data, index=False)
    response = b.session.post(b.url + "modelhub/api/jobs", json={"model": "batched:1", "inputs": [str(data)]})
    assert response.status_code == 202, response.text

    def ended():
        job = b.session.get(b.url + f"modelhub/api/jobs/{response.json()['id']}", timeout=30).json()
        return job if not job["active"] else None

    job = wait_until(ended, 240, "the batch job to end")
    assert job["status"] == "succeeded", job["error"]
    assert pd.read_csv(job["output"])["predictions"].tolist() == CLF.predict(X[:50]).tolist()


@pytest.mark.docker
def test_an_image_is_built_on_a_server_that_never_had_the_files(team, docker_client):
    a, b = team
    a.client().register("packaged", CLF, sample=X[:5])
    image = b.client().package("packaged:1", tag="modelhub-test/packaged-from-bucket:1", base_image=BASE_IMAGE)
    try:
        assert image["tag"] == "modelhub-test/packaged-from-bucket:1"
    finally:
        b.client().delete_image(image["id"])


def test_an_unreachable_store_is_a_503_that_names_it_and_what_is_cached_keeps_serving(own_moto, tmp_path):
    bucket = Bucket(own_moto.url, TEST_KEYS)
    server = server_on(tmp_path / "s", bucket)
    hub = server.client()
    try:
        hub.register("churn", CLF, sample=X[:5])
        other = hub.register("other", LogisticRegression(C=0.5).fit(X, y), sample=X[:5])
        endpoint = hub.deploy("churn-ep", "churn:1")
        for entry in other["files"]:  # as if another server had registered it: not in this cache
            (server.root / "cache" / "blobs" / entry["sha256"][:2] / entry["sha256"]).unlink()
        shutil.rmtree(next((server.root / "cache" / "versions" / "other").iterdir()))

        own_moto.stop()
        upload = hub._call("POST", "uploads", data=tar_bytes({"model.bin": b"during the outage"}))
        response = server.session.post(
            server.url + "modelhub/api/models/churn/versions", json={"upload_id": upload["upload_id"]}, timeout=60
        )
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["reason"] == "unavailable" and bucket.uri() in body["message"], body
        assert "Traceback" not in response.text
        assert [v["ref"] for v in hub.versions("churn")] == ["churn:1"], "no half-registered version"
        assert list((server.root / "staging").iterdir()) == []

        response = server.session.get(
            server.url + "modelhub/api/models/other/versions/1/files/" + other["files"][0]["path"], timeout=60
        )
        assert response.status_code == 503 and bucket.uri() in response.json()["message"], response.text
        assert score(endpoint, X[:3].tolist()) == CLF.predict(X[:3]).tolist(), "the endpoint serves from its cache"
        assert hub.download("churn:1", to=tmp_path / "cached")["files"], "cached files download"

        own_moto.start()  # back, empty (moto keeps objects in memory)
        Bucket(own_moto.url, TEST_KEYS, name=bucket.name)
        upload = hub._call("POST", "uploads", data=tar_bytes({"model.bin": b"after"}))
        assert hub._call("POST", "models/churn/versions", json={"upload_id": upload["upload_id"]})["ref"] == "churn:2"
    finally:
        stop_endpoints(server)
        server.stop()
