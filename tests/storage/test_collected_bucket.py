"""Collected requests in the artifact store's bucket (issue 22): the server that runs an endpoint
moves its committed files to ``PREFIX/.endpoints/<endpoint>/collected/``, so its disk keeps only
what is not moved yet, and a second server with its own root (one PostgreSQL, one bucket) reads
the same requests and monitors them. Deleting the endpoint deletes the collector's objects only.

Real parts: two Jupyter servers as subprocesses, PostgreSQL, an S3 API over HTTP, a collecting
endpoint host answering real HTTP requests.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.postgres import fresh_postgres_database
from helpers.s3 import Bucket
from helpers.servers import ServerProcess, wait_until

pytestmark = [pytest.mark.s3, pytest.mark.slow]

X, y = make_classification(300, 6, random_state=5)
CLF = LogisticRegression().fit(X, y)
FILE = re.compile(r"^collected-\d{8}T\d{6}Z-\d{8}T\d{6}Z-[0-9a-f]{8}\.parquet$")
PREFIX = "registry/.endpoints/collect-ep/collected/"


def server_on(folder, bucket: Bucket, db_url: str) -> ServerProcess:
    return ServerProcess(
        folder,
        extra_env=bucket.env,
        args=[
            f"--ModelHubApp.artifact_uri={bucket.uri()}",
            f"--ModelHubApp.db_url={db_url}",
            "--DeploymentManager.collect_roll_seconds=0.5",
            "--DeploymentManager.collect_move_seconds=1",
        ],
    )


@pytest.fixture
def team(postgres_server, bucket, tmp_path):
    db_url = fresh_postgres_database(postgres_server)
    servers = [server_on(tmp_path / name, bucket, db_url) for name in ("a", "b")]
    yield servers
    for server in servers:
        for endpoint in server.client().endpoints():
            if (server.root / "endpoints" / endpoint["name"]).is_dir():
                server.client().undeploy(endpoint["name"])
        server.stop()


def send(endpoint: dict, count: int) -> list[str]:
    ids = []
    for i in range(count):
        rid = f"req-{uuid.uuid4().hex[:12]}"
        answer = requests.post(
            endpoint["url"] + "/score",
            json={"data": X[i : i + 1].tolist()},
            headers={"x-request-id": rid, "Authorization": f"Bearer {endpoint.key}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        ids.append(rid)
    return ids


def test_collected_files_move_to_the_bucket_and_another_server_reads_them(team, bucket):
    a, b = team
    hub_a, hub_b = a.client(), b.client()
    hub_a.register("churn", CLF, sample=X[:100])
    endpoint = hub_a.deploy("collect-ep", "churn:1", collect=["requests", "responses"])
    sent = send(endpoint, 40)

    on_a = hub_a.collected("collect-ep", since="1h")
    assert set(on_a["request_id"]) == set(sent), "every answered request, read back where it was served"

    objects = [key for key in bucket.names_under(PREFIX)]
    assert objects and all(FILE.match(key[len(PREFIX) :]) for key in objects), objects
    local = a.root / "endpoints" / "collect-ep" / "collected"
    assert not [p.name for p in local.glob("collected-*.parquet")], "committed files left A's disk for the bucket"

    on_b = hub_b.collected("collect-ep", since="1h")
    assert set(on_b["request_id"]) == set(sent), "a server with no shared disk reads them from the bucket"
    assert list(on_b["response"]) == list(on_a["response"])
    report = hub_b.monitor("collect-ep", window="1h", against="churn:1")
    assert report["requests"] == 40, "B monitors the traffic A served, from the bucket"
    assert len(report["features"]) == 6

    described = hub_a.endpoint("collect-ep")["collect"]
    assert described["stored_in"] == f"s3://{bucket.name}/{PREFIX}"
    assert described["files"] == len(objects) and described["moved"] == len(objects)
    assert described["last_error"] == ""
    assert f"in s3://{bucket.name}/{PREFIX}, kept 7d" in hub_a.endpoint("collect-ep").text(), "%endpoint says where"

    # more traffic later is moved by the periodic round too, without a reader asking
    later = send(endpoint, 5)
    wait_until(lambda: len(bucket.names_under(PREFIX)) > len(objects), 30, "the periodic move to the bucket")
    assert set(later) <= set(hub_b.collected("collect-ep", since="1h")["request_id"])

    # deleting the endpoint deletes the collector's objects, and nothing else under its prefix
    bucket.put(PREFIX + "notes.txt", b"a user's file")
    bucket.put("registry/.endpoints/other-ep/collected/" + objects[0][len(PREFIX) :], b"another endpoint's")
    hub_a.undeploy("collect-ep")
    assert bucket.names_under(PREFIX) == [PREFIX + "notes.txt"]
    assert bucket.names_under("registry/.endpoints/other-ep/")
    assert any(key.endswith("/manifest.json") for key in bucket.names_under("registry/churn/")), "versions untouched"


def test_retention_in_the_bucket_deletes_only_old_collector_files(bucket, tmp_path):
    from jupyter_modelhub.monitoring.bucket import CollectedBucket
    from jupyter_modelhub.store.artifacts.s3 import S3ArtifactStore

    store = S3ArtifactStore(tmp_path / "root", bucket.uri(), storage_options=bucket.storage_options)
    moved = CollectedBucket(store)
    old = "collected-20200101T000000Z-20200101T000100Z-0a0b0c0d.parquet"
    recent = time.strftime("collected-%Y%m%dT%H%M%SZ-%Y%m%dT%H%M%SZ-1a2b3c4d.parquet", time.gmtime())
    for name in (old, "notes.parquet"):
        bucket.put(PREFIX + name, b"x" * 10)
    folder = tmp_path / "endpoints" / "collect-ep"
    (folder / "collected").mkdir(parents=True)
    (folder / "collected" / recent).write_bytes(b"y" * 20)
    (folder / "collected" / ".collected-0a0b0c0d.parquet.part").write_bytes(b"under way")

    status = moved.move("collect-ep", folder, retention_s=3600, max_bytes=10**6)
    assert bucket.names_under(PREFIX) == [PREFIX + name for name in sorted(["notes.parquet", recent])]
    assert sorted(p.name for p in (folder / "collected").iterdir()) == [".collected-0a0b0c0d.parquet.part"]
    assert (status["files"], status["bytes"], status["moved"], status["last_error"]) == (1, 20, 1, "")

    # beyond max_bytes the oldest go first, however recent
    newer = time.strftime("collected-%Y%m%dT%H%M%SZ-%Y%m%dT%H%M%SZ-2a2b3c4d.parquet", time.gmtime(time.time() + 5))
    (folder / "collected" / newer).write_bytes(b"z" * 20)
    status = moved.move("collect-ep", folder, retention_s=3600, max_bytes=30)
    assert bucket.names_under(PREFIX) == [PREFIX + name for name in sorted(["notes.parquet", newer])]
    assert (status["files"], status["moved"]) == (1, 2)
