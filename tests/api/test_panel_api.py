"""What the REST API tells the panel about a version: its actions (allowed, or why not), what uses it
and what derives from it. On a real Jupyter server (pytest-jupyter), through REST as the panel calls it.

The panel shows an action disabled with the server's reason; these tests hold the server to the
same words as the route that would refuse.
"""

from __future__ import annotations

from helpers.uploads import tar_bytes


async def register(api, name: str, files: dict[str, bytes], **fields) -> dict:
    status, upload = await api("POST", "uploads", raw=tar_bytes(files), headers={"Content-Type": "application/x-tar"})
    assert status == 201, upload
    status, version = await api("POST", f"models/{name}/versions", {"upload_id": upload["upload_id"], **fields})
    assert status == 201, version
    return version


async def test_convert_is_refused_once_converted_with_the_converted_version_named(api):
    await register(api, "churn", {"model.joblib": b"not really a pickle"}, flavor="sklearn")
    status, fresh = await api("GET", "models/churn/versions/1")
    assert status == 200
    assert fresh["actions"]["convert"] == {"allowed": True, "reason": ""}
    assert fresh["derived_to"] == [] and fresh["used_by"] == []

    await register(api, "churn", {"model.onnx": b"onnx bytes"}, flavor="onnx", derived_from="churn:1")
    status, converted = await api("GET", "models/churn/versions/1")
    assert converted["actions"]["convert"] == {"allowed": False, "reason": "already converted: churn:2"}
    assert converted["derived_to"] == ["churn:2"]
    status, onnx = await api("GET", "models/churn/versions/2")
    assert onnx["actions"]["convert"] == {"allowed": False, "reason": "already an ONNX model (converted from churn:1)"}
    assert onnx["actions"]["deploy"]["allowed"] is True

    # One model's version list carries the same actions, so a list row can disable its buttons.
    status, page = await api("GET", "models/churn/versions")
    by_ref = {v["ref"]: v for v in page["versions"]}
    assert by_ref["churn:1"]["actions"] == converted["actions"]
    assert by_ref["churn:2"]["actions"] == onnx["actions"]


async def test_delete_and_archive_are_refused_with_who_uses_the_version(api):
    await register(api, "fraud", {"model.onnx": b"1"}, flavor="onnx")
    status, _ = await api("PUT", "models/fraud/aliases/production", {"version": 1})
    assert status == 200
    status, version = await api("GET", "models/fraud/versions/1")
    assert version["used_by"] == ["alias fraud@production"]
    for action in ("delete", "archive"):
        assert version["actions"][action]["allowed"] is False
        assert "alias fraud@production" in version["actions"][action]["reason"]
    # the route refuses for the reason the action gave
    status, error = await api("DELETE", "models/fraud/versions/1")
    assert status == 409 and "alias fraud@production" in error["message"]

    status, _ = await api("DELETE", "models/fraud/aliases/production")
    status, free = await api("GET", "models/fraud/versions/1")
    assert free["actions"]["delete"] == {"allowed": True, "reason": ""}
    assert free["actions"]["restore"]["allowed"] is False
    status, archived = await api("PATCH", "models/fraud/versions/1", {"archived": True})
    assert archived["actions"]["archive"] == {"allowed": False, "reason": "already archived"}
    assert archived["actions"]["restore"]["allowed"] is True


async def test_a_custom_model_cannot_be_deployed_from_a_click_and_says_what_to_run(api):
    await register(api, "scorer", {"model.txt": b"weights"}, flavor="custom")
    status, version = await api("GET", "models/scorer/versions/1")
    deploy = version["actions"]["deploy"]
    assert deploy["allowed"] is False and "--entry-script" in deploy["reason"]
    assert version["actions"]["convert"] == {
        "allowed": False,
        "reason": "only scikit-learn models convert to ONNX; scorer:1 is 'custom'",
    }
    assert version["actions"]["alias"]["allowed"] and version["actions"]["download"]["allowed"]


def test_invoke_and_metrics_of_a_real_endpoint_through_the_server(hub_server):
    """The panel's "try it" and monitoring strip: the server calls the endpoint with its key."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(100, 4, random_state=0)
    client = hub_server.client()
    client.register("tryit", LogisticRegression().fit(X, y), sample=X[:3])
    client.deploy("tryit-ep", "tryit:1")  # auth by key: the browser never sees it for this
    api = hub_server.url + "modelhub/api/"
    try:
        example = hub_server.session.get(api + "models/tryit/versions/1").json()["input_example"]
        answer = hub_server.session.post(api + "endpoints/tryit-ep/invoke", json={"body": {"data": example}})
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["status"] == 200 and result["deployment"] == "blue"
        assert len(result["answer"]["predictions"]) == 3
        assert result["latency_ms"] > 0

        bad = hub_server.session.post(api + "endpoints/tryit-ep/invoke", json={"body": {"data": "not rows"}}).json()
        assert bad["status"] == 400 and bad["answer"]  # the endpoint's own refusal, passed on as data

        metrics = hub_server.session.get(api + "endpoints/tryit-ep/metrics")
        assert metrics.status_code == 200, metrics.text
        blue = metrics.json()["deployments"]["blue"]
        assert blue["up"] is True and blue["requests"] == 2 and blue["errors"] == 1
        assert blue["latency_count"] == 2 and blue["latency_buckets"][-1][1] <= 2
        assert [b[0] for b in blue["latency_buckets"]] == sorted(b[0] for b in blue["latency_buckets"])

        wrong = hub_server.session.post(api + "endpoints/tryit-ep/invoke", json={"body": {}, "path": "/etc"})
        assert wrong.status_code == 400 and "path" in wrong.json()["message"]
        missing = hub_server.session.get(api + "endpoints/nope/metrics")
        assert missing.status_code == 404
    finally:
        client.undeploy("tryit-ep")
