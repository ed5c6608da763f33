"""Payload collection end to end (issue 22): a real Jupyter server deploys a real endpoint with
``--collect``; real HTTP traffic from outside; what the endpoint host wrote is read back through
the REST API (``hub.collected``) and from its Parquet files (``read_collected``).

Collected: every POST the endpoint answers, whatever its status (200, the runtime's 400, the
host's 401 for a wrong key, without the body); not collected: reads (health, metadata).

The server commits collected files every half second (``collect_roll_seconds``), so tests wait
for the host's own count (``committed == sampled``), never for time.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid

import numpy as np
import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers.components import require
from helpers.servers import ServerProcess, wait_until
from jupyter_modelhub.errors import InvalidInput
from jupyter_modelhub.monitoring.collected import features_and_predictions, read_collected

X, y = make_classification(300, 20, random_state=0)
CLF = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
FILE = re.compile(r"^collected-\d{8}T\d{6}Z-\d{8}T\d{6}Z-[0-9a-f]{8}\.parquet$")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = ServerProcess(
        tmp_path_factory.mktemp("server"),
        args=["--DeploymentManager.collect_roll_seconds=0.5", "--DeploymentManager.collect_roll_bytes=200000"],
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hub(server):
    client = server.client()
    client.register("churn", CLF, sample=X[:5])
    return client


@pytest.fixture(scope="module")
def endpoint(hub):
    return hub.deploy("collect-ep", "churn:1", collect=["requests", "responses"])


def post(endpoint, path, payload=None, key=None, data=None, **headers):
    headers["Authorization"] = f"Bearer {key or endpoint.key}"
    return requests.post(endpoint["url"] + path, json=payload, data=data, headers=headers, timeout=30)


def counts(hub) -> dict:
    return hub.endpoint("collect-ep")["collect"]


def settled(hub, sampled: int) -> dict:
    """The endpoint's collection counts once the host has sampled at least ``sampled`` requests
    (since it started) and committed every record it sampled to files."""

    def done():
        now = counts(hub)
        return now if now["sampled"] >= sampled and now["committed"] == now["sampled"] else None

    return wait_until(done, 30, f"the endpoint host to sample {sampled} requests and commit them")


def collected_ids(hub, since="1h") -> dict:
    return {row.request_id: row for row in hub.collected("collect-ep", since=since, limit=10_000).itertuples()}


def test_every_answered_post_is_collected_with_its_request_id_and_reads_are_not(hub, endpoint):
    assert endpoint["collect"]["enabled"] and endpoint["collect"]["collect"] == ["requests", "responses"]
    before, start = set(collected_ids(hub)), counts(hub)["sampled"]
    answers = []
    for i in range(30):
        answers.append(post(endpoint, "/score", {"data": X[i : i + 2].tolist()}))
    given = f"client-{uuid.uuid4().hex[:8]}"
    answers.append(post(endpoint, "/score", {"data": X[:1].tolist()}, **{"x-request-id": given}))
    bad = [post(endpoint, "/score", {"data": [[1.0, 2.0]]}) for _ in range(3)]
    wrong_key = [post(endpoint, "/score", {"data": X[:1].tolist()}, key="not-the-key") for _ in range(2)]
    health = requests.get(endpoint["url"] + "/v2/health/ready", timeout=5)

    assert {a.status_code for a in answers} == {200} and {a.status_code for a in bad} == {400}
    assert {a.status_code for a in wrong_key} == {401}
    assert answers[-1].headers["x-request-id"] == given, "a client's request id is answered back"
    generated = [a.headers["x-request-id"] for a in answers[:-1] + bad + wrong_key]
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in generated), "absent: a uuid4 is made, and answered"
    assert len(set(generated)) == len(generated)
    assert re.fullmatch(r"[0-9a-f]{32}", health.headers["x-request-id"]), "reads carry one too"

    settled(hub, start + 36)
    rows = {rid: row for rid, row in collected_ids(hub).items() if rid not in before}
    answered = {a.headers["x-request-id"]: a for a in answers + bad + wrong_key}
    assert set(rows) == set(answered), "requests answered == records written; the health read is not one"
    for rid, answer in answered.items():
        row = rows[rid]
        assert row.status == answer.status_code
        assert row.response == answer.content
        assert row.latency_ms > 0 and row.time.tzinfo is not None
    assert {rows[a.headers["x-request-id"]].deployment for a in answers + bad} == {"blue"}
    assert {rows[a.headers["x-request-id"]].version for a in answers} == {1}
    assert json.loads(rows[given].request) == {"data": X[:1].tolist()}
    for answer in wrong_key:
        assert rows[answer.headers["x-request-id"]].request is None, "an unauthenticated body is not kept"


def test_files_are_parquet_rolled_by_size_and_time_and_read_back_by_window(server, hub, endpoint):
    start = counts(hub)["sampled"]
    for i in range(20):
        post(endpoint, "/score", {"data": X[:50].tolist()})
    settled(hub, start + 20)
    folder = server.root / "endpoints" / "collect-ep" / "collected"
    files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert len(files) >= 2 and all(FILE.match(name) for name in files), files
    frame = read_collected(folder.parent, since="1h")
    assert list(frame.columns[:9]) == [
        "request_id",
        "time",
        "deployment",
        "model",
        "version",
        "status",
        "latency_ms",
        "request",
        "response",
    ]
    assert str(frame["time"].dt.tz) == "UTC" and frame["time"].is_monotonic_increasing
    assert len(read_collected(folder.parent, since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00Z")) == 0


def test_sampling_roughly_honoured_and_switched_live_without_a_restart(server, hub, endpoint):
    status = json.loads((server.root / "endpoints" / "collect-ep" / "status.json").read_text())
    host_pid, runtime_pid = status["pid"], status["deployments"]["blue"]["pid"]
    changed = hub.collect("collect-ep", sample_rate=0.2)
    assert changed["collect"]["sample_rate"] == 0.2
    before = counts(hub)["sampled"]
    answers = [post(endpoint, "/score", {"data": X[:1].tolist()}) for _ in range(400)]
    hub.collect("collect-ep", sample_rate=1.0)
    marker = post(endpoint, "/score", {"data": X[:1].tolist()})  # answered last, so recorded last
    wait_until(lambda: marker.headers["x-request-id"] in collected_ids(hub), 30, "the marker request's record")
    after = settled(hub, 0)["sampled"] - 1
    assert 40 <= after - before <= 130, f"{after - before} of 400 sampled at 0.2"  # mean 80, sd 8
    ids = collected_ids(hub)
    assert sum(a.headers["x-request-id"] in ids for a in answers) == after - before

    off = hub.collect("collect-ep", [])
    assert off["collect"]["enabled"] is False
    quiet = [post(endpoint, "/score", {"data": X[:1].tolist()}) for _ in range(20)]
    hub.collect("collect-ep", ["requests", "responses"], sample_rate=1.0)
    loud = [post(endpoint, "/score", {"data": X[:1].tolist()}) for _ in range(5)]
    settled(hub, after + 1 + 5)
    ids = collected_ids(hub)
    assert not any(a.headers["x-request-id"] in ids for a in quiet), "nothing is collected while off"
    assert all(a.headers["x-request-id"] in ids for a in loud), "on again, at once"
    status = json.loads((server.root / "endpoints" / "collect-ep" / "status.json").read_text())
    assert (status["pid"], status["deployments"]["blue"]["pid"]) == (host_pid, runtime_pid), "nothing restarted"


def test_bad_collection_settings_are_refused_with_the_reason(hub, endpoint):
    with pytest.raises(InvalidInput, match="sample_rate"):
        hub.collect("collect-ep", sample_rate=1.5)
    with pytest.raises(InvalidInput, match="collect_retention"):
        hub.collect("collect-ep", collect_retention="seven days")
    with pytest.raises(InvalidInput, match="collect_max_bytes"):
        hub.collect("collect-ep", collect_max_bytes="lots")
    with pytest.raises(InvalidInput, match="--collect"):
        hub.deploy("uncollected-ep", "churn:1", sample_rate=0.5)


def test_any_age_or_time_reads_a_window_and_a_wrong_one_says_what_is_expected(hub, endpoint):
    post(endpoint, "/score", {"data": X[:1].tolist()})
    everything = hub.collected("collect-ep", since="999999999999w")  # beyond a datetime: from the start
    assert len(everything) >= 1
    assert hub.collected("collect-ep", since="1.5h", until="9999-12-31T23:59:59-05:00").shape == everything.shape
    assert hub.collected("collect-ep", since="2026-01-01T00:00:00+14:00").shape == everything.shape
    with pytest.raises(InvalidInput, match=r"Invalid since 'yesterday': give an age such as 30m, 1h or 7d"):
        hub.collected("collect-ep", since="yesterday")


def test_features_and_predictions_decode_every_protocol_into_the_signatures_columns(server, hub, endpoint):
    from jupyter_modelhub.serving import binary_tensors

    rows, start = X[100:103], counts(hub)["sampled"]
    sent = [
        post(endpoint, "/score", {"data": rows.tolist()}),
        post(endpoint, "/invocations", {"dataframe_split": {"data": rows.tolist()}}),
        post(
            endpoint,
            "/v2/models/churn/infer",
            {"inputs": [{"name": "input", "shape": [3, 20], "datatype": "FP64", "data": rows.ravel().tolist()}]},
        ),
    ]
    chunk = binary_tensors.encode(rows.astype(np.float64), "FP64")
    header = json.dumps(
        {
            "inputs": [
                {"name": "input", "shape": [3, 20], "datatype": "FP64", "parameters": {"binary_data_size": len(chunk)}}
            ]
        }
    ).encode()
    sent.append(
        post(
            endpoint,
            "/v2/models/churn/infer",
            data=header + chunk,
            **{"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"},
        )
    )
    sent.append(post(endpoint, "/score", {"data": [[1.0]]}))  # a 400: not features
    assert [a.status_code for a in sent] == [200, 200, 200, 200, 400]
    settled(hub, start + 5)
    ids = [a.headers["x-request-id"] for a in sent]
    frame = read_collected(server.root / "endpoints" / "collect-ep", since="1h")
    frame = frame[frame.request_id.isin(ids)]
    signature = hub.version("churn:1")["signature"]
    features, predictions = features_and_predictions(frame, signature)
    assert list(features.columns) == ["request_id", *[f"input[{i}]" for i in range(20)]]
    assert len(features) == 12 and set(features.request_id) == set(ids[:4])
    for rid in ids[:4]:
        got = features[features.request_id == rid].drop(columns="request_id").to_numpy()
        np.testing.assert_allclose(got, rows)
        labels = predictions[predictions.request_id == rid]["predictions"].to_numpy()
        assert labels.tolist() == CLF.predict(rows).tolist()
    assert features.attrs["skipped"] == {ids[4]: "status 400"}


def test_a_few_seconds_of_load_lose_no_record(server, hub, endpoint, tmp_path):
    require(shutil.which("wrk") is not None, "wrk (Debian's package) is the load generator; apt-get install wrk")
    before = settled(hub, 0)
    script = tmp_path / "post.lua"
    body = json.dumps({"data": X[:1].tolist()})
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
        f'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer {endpoint.key}"\n'
    )
    run = subprocess.run(
        ["wrk", "-t1", "-c16", "-d3s", "-s", str(script), endpoint["url"] + "/score"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    sent = int(re.search(r"(\d+) requests in", run.stdout).group(1))
    assert "Non-2xx" not in run.stdout, run.stdout
    after = settled(hub, before["sampled"] + sent)
    assert after["dropped"] == before["dropped"] == 0 and after["failed"] == 0
    # wrk counts what it had answered when it stopped; the host also answered the requests under way then
    assert sent <= after["sampled"] - before["sampled"] <= sent + 16, (sent, before, after)
    frame = read_collected(server.root / "endpoints" / "collect-ep", since="1h")
    assert len(frame) == after["committed"], "every record counted is in the files"
    assert frame.request_id.is_unique


def test_retention_deletes_only_the_collectors_own_files(server, hub, endpoint):
    folder = server.root / "endpoints" / "collect-ep" / "collected"
    foreign = {
        folder / "notes.txt": b"mine",
        folder / "collected-by-me.parquet": b"not the collector's name",
        folder.parent / "collected-20200101T000000Z-20200101T000100Z-deadbeef.parquet": b"outside its folder",
    }
    start = counts(hub)["sampled"]  # a file of its own to age, whatever ran before
    for _ in range(3):
        post(endpoint, "/score", {"data": [[0.0] * 4]})
    settled(hub, start + 3)
    written = wait_until(
        lambda: next((p for p in folder.iterdir() if FILE.match(p.name)), None), 60, "a committed collection file"
    )
    for path, content in foreign.items():
        path.write_bytes(content)
    old = folder / "collected-20200101T000000Z-20200101T000100Z-deadbeef.parquet"
    shutil.copy(written, old)
    hub.collect("collect-ep", collect_max_bytes="1MiB")
    rng, start = np.random.default_rng(0), counts(hub)["sampled"]
    for _ in range(20):  # bodies of random text: about 2 MB that does not compress away
        post(endpoint, "/score", data=rng.bytes(96 * 1024).hex().encode()[: 200 * 1024])
    settled(hub, start + 20)
    wait_until(lambda: not old.exists(), 90, "retention to delete a file older than the retention")
    kept = [p for p in folder.iterdir() if FILE.match(p.name)]
    assert sum(p.stat().st_size for p in kept) <= 1024**2 + 512 * 1024, "the oldest files beyond max bytes go"
    assert all(path.read_bytes() == content for path, content in foreign.items()), "files it did not write stay"
    hub.collect("collect-ep", collect_max_bytes="1GB")
