"""Monitors on a real endpoint with real traffic (issue 22): a real Jupyter server deploys a
scikit-learn model with payload collection; requests go to the endpoint over HTTP as any client's
would; the report comes from ``GET endpoints/{name}/monitor`` (through ``hub.monitor`` and the
``%monitor`` magic).

- a drifted stream (two of six features shifted) flags exactly those two, in the signature's order;
- labels sent for the requests (``%labels``) join on request id: the accuracy reported is the
  model's accuracy on exactly the labelled rows;
- a replay to a changed model (``%replay --to``) finds exactly the rows whose answer changed, and
  removes the deployment it made;
- a mirror's answers are recorded with the request id of the answer the client got, and their
  agreement is counted on exactly the mirrored rows.

The server commits collected files every half second; tests wait for the host's own counts
(``committed == sampled``), never for time.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.monitoring import CANDIDATE, CLF, FEATURES, TRAIN, draw, score, settled, truth  # noqa: F401
from helpers.servers import ServerProcess, wait_until
from helpers.shell import Shell
from jupyter_modelhub.errors import InvalidInput, NotFound
from jupyter_modelhub.monitoring.collected import features_and_predictions, read_collected
from jupyter_modelhub.monitoring.features import feature_names


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory):
    """This module's server (the monitoring fixtures' ``shell`` uses it too): collected files
    are committed every half second."""
    server = ServerProcess(
        tmp_path_factory.mktemp("server"),
        args=["--DeploymentManager.collect_roll_seconds=0.5"],
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hub(hub_server):
    client = hub_server.client()
    client.register("drifty", CLF, sample=TRAIN)
    client.register("drifty", CANDIDATE, sample=TRAIN)
    return client


@pytest.fixture(scope="module")
def endpoint(hub):
    return hub.deploy("mon-ep", "drifty:1", collect=["requests", "responses"])


@pytest.fixture(scope="module")
def traffic(hub, endpoint):
    """40 requests of 50 drifted rows each: {request id: rows}."""
    sent = {}
    for _ in range(40):
        rows = draw(50, shift=True)
        sent[score(endpoint, rows).headers["x-request-id"]] = rows
    settled(hub, "mon-ep", 40)
    return sent


def test_collected_features_are_named_as_the_signature_names_them(hub_server, hub, traffic):
    frame = read_collected(hub_server.root / "endpoints" / "mon-ep", since="1h")
    signature = hub.version("drifty:1")["signature"]
    features, predictions = features_and_predictions(frame, signature)
    assert list(features.columns) == ["request_id", *feature_names(signature)] == ["request_id", *FEATURES]
    assert len(features) == 40 * 50
    assert "predictions" in predictions.columns


def test_a_drifted_stream_flags_exactly_the_drifted_features_over_rest(hub, traffic):
    report = hub.monitor("mon-ep", window="1h")
    assert [f["name"] for f in report["features"]] == FEATURES, "features in the signature's order"
    assert report["drifted"] == ["f2", "f4"]
    assert [f["name"] for f in report["features"] if f["drifted"]] == ["f2", "f4"]
    for feature in report["features"]:
        assert set(feature) >= {"name", "statistic", "value", "threshold", "drifted"}
    assert set(report) >= {"features", "predictions", "quality"}
    assert (report["endpoint"], report["deployment"], report["version"], report["against"]) == (
        "mon-ep",
        "blue",
        "drifty:1",
        "drifty:1",
    )
    assert report["rows"] == 2000 and report["requests"] == 40
    assert report["predictions"]["columns"], "the answers are compared with the reference's predictions"
    assert "40 requests" in report.text() and "2 of 6 features drifted (f2, f4)" in report.text()


def test_the_magic_shows_the_same_report_and_an_earlier_window_can_be_the_baseline(hub_server, hub, traffic):
    shell = Shell(hub_server)
    try:
        assert not shell.run("%load_ext jupyter_modelhub")["error"]
        out = shell.run("m = %monitor mon-ep --window 1h\nm")
        assert not out["error"], out
        assert out["html"].count(">drifted<") == 2 and "Endpoint mon-ep (blue, drifty:1)" in out["html"]
        assert "f2" in shell.run("print(m['drifted'])")["text"]
        # no traffic a day ago: said in one line, nothing raised further
        empty = shell.run("%monitor mon-ep --window 1h --against window:2d-1d")
        assert "collected no requests answered by 'blue'" in empty["error"]
        bad = shell.run("%monitor mon-ep --against window:soon")
        assert "window:DURATION" in bad["error"]
    finally:
        shell.close()


def test_errors_are_clear_and_change_nothing(hub, endpoint, traffic):
    with pytest.raises(NotFound, match="no deployment 'green'"):
        hub.monitor("mon-ep", deployment="green")
    with pytest.raises(InvalidInput, match="Invalid window"):
        hub.monitor("mon-ep", window="yesterday")
    with pytest.raises(NotFound):
        hub.monitor("no-such-ep")
    with pytest.raises(InvalidInput, match="request ids for"):
        hub._call("POST", "endpoints/mon-ep/labels", json={"request_ids": ["a", "b"], "labels": [1]})
    with pytest.raises(InvalidInput, match="a label is a class"):
        hub._call("POST", "endpoints/mon-ep/labels", json={"request_ids": ["a"], "labels": [[1, 2]]})


def test_labels_join_on_request_ids_and_give_accuracy(hub_server, hub, traffic, tmp_path):
    labelled = list(traffic)[:20]
    rows = pd.concat([traffic[rid].assign(request_id=rid, row=range(50)) for rid in labelled])
    file = tmp_path / "labels.csv"
    rows.assign(y=truth(rows))[["request_id", "row", "y"]].to_csv(file, index=False)
    shell = Shell(hub_server)
    try:
        assert not shell.run("%load_ext jupyter_modelhub")["error"]
        out = shell.run(f"s = %labels mon-ep {file} --id-column request_id --label-column y --row-column row\ns")
        assert not out["error"], out
        assert "1,000 labels stored for endpoint mon-ep (1,000 match collected requests" in out["text"]
    finally:
        shell.close()
    performance = hub.monitor("mon-ep", window="1h")["performance"]
    expected = float((CLF.predict(rows[FEATURES]) == truth(rows)).mean())
    assert performance["task"] == "classification" and performance["metric"] == "accuracy"
    assert performance["labelled"] == 1000 and performance["rows"] == 2000
    assert performance["value"] == pytest.approx(expected, abs=1e-6)
    assert sum(b["rows"] for b in performance["buckets"]) == 1000
    # sent again, a label replaces the earlier one rather than counting twice
    again = hub.labels("mon-ep", rows.assign(y=1 - truth(rows))[["request_id", "row", "y"]], row_column="row")
    assert (again["stored"], again["replaced"], again["total"]) == (1000, 1000, 1000)
    flipped = hub.monitor("mon-ep", window="1h")["performance"]
    assert flipped["value"] == pytest.approx(1 - expected, abs=1e-6)


def test_replay_to_a_changed_model_finds_exactly_the_changed_rows(hub, endpoint, traffic):
    report = hub.replay("mon-ep", "drifty:2", window="1h")
    sent = pd.concat([traffic[rid].assign(request_id=rid, row=range(50)) for rid in traffic])
    before, after = CLF.predict(sent[FEATURES]), CANDIDATE.predict(sent[FEATURES])
    changed = sent[before != after]
    assert report["requests"] == 40 and report["rows"] == 2000
    assert report["changed"] == len(changed) > 0
    assert report["agreement"] == pytest.approx(1 - len(changed) / 2000, abs=1e-6)
    shown = {(r["request_id"], r["row"]) for r in report["changed_rows"]}
    assert shown <= set(zip(changed.request_id, changed.row)) and len(shown) == min(50, len(changed))
    first = report["changed_rows"][0]
    expected = changed[(changed.request_id == first["request_id"]) & (changed.row == first["row"])].iloc[0]
    assert first["inputs"]["f3"] == pytest.approx(expected.f3)
    assert first["original"] == str(CLF.predict(expected[FEATURES].to_frame().T)[0])
    assert report["max_probability_difference"] is None or report["max_probability_difference"] > 0
    assert report["latency"]["candidate"]["requests"] == 40 and report["latency"]["original"]["p50_ms"] > 0
    assert report["throwaway"] and report["candidate"].startswith("replay-")
    assert [d["name"] for d in hub.endpoint("mon-ep")["deployments"]] == ["blue"], "the throwaway is removed"
    # the replay's own requests are recorded, and left out of the endpoint's monitor
    assert hub.monitor("mon-ep", window="1h")["requests"] == 40


def test_a_mirror_is_recorded_and_its_agreement_counted_on_the_same_requests(hub):
    ep = hub.deploy("mirror-ep", "drifty:1", collect=["requests", "responses"])
    hub.deploy("mirror-ep", "drifty:2", deployment="green", traffic={"blue": 100})
    hub.set_traffic("mirror-ep", mirror={"deployment": "green", "percent": 50})
    sent = {}
    for _ in range(60):
        rows = draw(20)
        sent[score(ep, rows).headers["x-request-id"]] = rows

    def mirrored():
        frame = hub.collected("mirror-ep", since="1h", limit=10_000)
        served = frame[~frame.mirror]
        copies = frame[frame.mirror]
        counts = hub.endpoint("mirror-ep")["collect"]
        return (served, copies) if len(served) == 60 and counts["committed"] == counts["sampled"] else None

    served, copies = wait_until(mirrored, 60, "every answer and mirror copy to be committed")
    assert 0 < len(copies) < 60 and set(copies.request_id) <= set(sent)
    assert set(copies.deployment) == {"green"} and copies.request.isna().all()
    rows = pd.concat([sent[rid] for rid in copies.request_id])
    expected = float((CLF.predict(rows) == CANDIDATE.predict(rows)).mean())
    labels = pd.concat([sent[rid].assign(request_id=rid, row=range(20)) for rid in sent])
    hub.labels("mirror-ep", labels.assign(y=truth(labels))[["request_id", "row", "y"]], row_column="row")
    comparison = hub.monitor("mirror-ep", window="1h")["comparison"]
    counts = {d["deployment"]: (d["requests"], d["mirrored"]) for d in comparison["deployments"]}
    assert counts == {"blue": (60, 0), "green": (0, len(copies))}
    mirror = comparison["mirror"]
    assert (mirror["deployment"], mirror["against"], mirror["pairs"]) == ("green", "blue", len(rows))
    assert mirror["agreement"] == pytest.approx(expected, abs=1e-6)
    difference = comparison["difference"]
    assert difference["paired"] and (difference["a"], difference["b"]) == ("blue", "green")
    assert difference["a_rows"] == difference["b_rows"] == len(rows)
    assert difference["low"] <= difference["difference"] <= difference["high"]
    assert difference["b_value"] < difference["a_value"], "the candidate's answers are the wrong ones more often"
