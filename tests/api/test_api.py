"""The REST API on a real Jupyter server (in process, pytest-jupyter) with authentication required."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from tornado.httpclient import HTTPClientError

from helpers.uploads import tar_bytes
from jupyter_modelhub.api.openapi import openapi_document
from jupyter_modelhub.api.routes import ROUTES


async def register(api, name="churn", files=None, **fields):
    status, upload = await api(
        "POST",
        "uploads",
        raw=tar_bytes(files or {"model.onnx": b"bytes"}),
        headers={"Content-Type": "application/x-tar"},
    )
    assert status == 201, upload
    return await api("POST", f"models/{name}/versions", {"upload_id": upload["upload_id"], **fields})


async def test_register_get_search_and_download_through_rest(api, jp_fetch):
    status, version = await register(
        api, files={"model.onnx": b"weights", "conf/a.json": b"{}"}, tags={"team": "growth"}, description="first"
    )
    assert status == 201 and version["ref"] == "churn:1" and version["existing"] is False
    status, again = await register(api, files={"model.onnx": b"weights", "conf/a.json": b"{}"})
    assert status == 200 and again["existing"] is True and again["ref"] == "churn:1"

    status, page = await api("GET", "models", filter="team=growth")
    assert status == 200 and [m["name"] for m in page["models"]] == ["churn"]
    assert page["models"][0]["tags"] == {"team": "growth"}
    status, page = await api("GET", "models", filter="team=risk")
    assert page["models"] == [] and page["total"] == 0

    response = await jp_fetch("modelhub", "api", "models", "churn", "versions", "1", "files", "conf", "a.json")
    assert response.body == b"{}"
    entry = next(f for f in version["files"] if f["path"] == "conf/a.json")
    assert response.headers["X-Modelhub-Sha256"] == entry["sha256"]


async def test_tags_aliases_archive_and_delete_through_rest(api):
    await register(api, files={"m.onnx": b"1"})
    await register(api, files={"m.onnx": b"2"})
    status, v = await api("PATCH", "models/churn/versions/2", {"tags": {"stage": "prod"}, "properties": {"auc": 0.9}})
    assert status == 200 and v["tags"] == {"stage": "prod"} and v["properties"] == {"auc": 0.9}
    status, v = await api("PUT", "models/churn/aliases/production", {"version": 2})
    assert status == 200 and v["aliases"] == ["production"]
    status, v = await api("GET", "models/churn/versions/@production")
    assert v["version"] == 2
    status, error = await api("DELETE", "models/churn/versions/2")
    assert status == 409 and error["reason"] == "conflict" and "alias churn@production" in error["message"]
    status, _ = await api("DELETE", "models/churn/aliases/production")
    assert status == 204
    status, v = await api("PATCH", "models/churn/versions/2", {"archived": True})
    assert v["archived"] is True
    status, model = await api("GET", "models/churn", archived="false")
    assert [x["version"] for x in model["versions"]] == [1]
    status, deleted = await api("DELETE", "models/churn")
    assert status == 200 and deleted["deleted"] == ["churn:1", "churn:2"]
    status, error = await api("GET", "models/churn")
    assert status == 404 and "No model named 'churn'" in error["message"]


@pytest.mark.parametrize(
    "method, path, body, status, message",
    [
        ("GET", "models/churn/versions/9", None, 404, "no version 9"),
        ("GET", "models/nope", None, 404, "No model named 'nope'"),
        ("GET", "models/churn/versions/abc", None, 400, "Invalid version 'abc'"),
        ("GET", "models/churn/versions/@bad alias", None, 400, "Invalid alias"),
        ("POST", "models/has space/versions", {"upload_id": "0" * 32}, 400, "Invalid model name"),
        ("POST", "models/churn/versions", "{not json", 400, "not valid JSON"),
        ("POST", "models/churn/versions", {"flavor": "onnx"}, 400, "upload_id: Field required"),
        ("POST", "models/churn/versions", {"upload_id": "0" * 32, "colour": "red"}, 400, "colour: Extra inputs"),
        ("POST", "models/churn/versions", {"upload_id": "f" * 32}, 404, "does not exist"),
        ("POST", "models/churn/versions", {"upload_id": "../../etc"}, 400, "not an upload id"),
        ("PUT", "models/churn/aliases/production", {"version": "two"}, 400, "version"),
        ("PATCH", "models/churn/versions/1", ["not", "an", "object"], 400, "must be a JSON object"),
    ],
)
async def test_bad_requests_get_a_clear_json_error_and_change_nothing(api, method, path, body, status, message):
    await register(api, files={"m.onnx": b"1"})
    code, error = await api(method, path, body)
    assert code == status, error
    assert message in error["message"] and set(error) == {"message", "reason"}
    assert "Traceback" not in error["message"]
    _, model = await api("GET", "models/churn", archived="true")
    assert [v["version"] for v in model["versions"]] == [1]


async def test_malformed_filter_is_a_400_naming_the_position(api):
    code, error = await api("GET", "models", filter="team=growth stage=")
    assert code == 400 and "character 19" in error["message"] and error["reason"] == "invalid"


@pytest.mark.parametrize(
    "files, links, message",
    [
        ({"../../outside.txt": b"x"}, None, "stay inside"),
        ({"/abs/path": b"x"}, None, "stay inside"),
        ({"model.onnx": b"x"}, {"evil": "../../../etc/passwd"}, "links are refused"),
        ({}, None, "Empty registration"),
    ],
)
async def test_uploads_escaping_their_folder_are_refused(api, hub_root, files, links, message):
    code, error = await api("POST", "uploads", raw=tar_bytes(files, links))
    assert code == 400 and message in error["message"]
    assert list((hub_root / "uploads").iterdir()) == [], "a refused upload is deleted"


async def test_an_upload_that_is_not_a_tar_is_refused(api, hub_root):
    code, error = await api("POST", "uploads", raw=b"this is not a tar archive" * 100)
    assert code == 400 and "tar" in error["message"]
    assert list((hub_root / "uploads").iterdir()) == []


async def test_every_route_requires_authentication(jp_serverapp, http_server_client, jp_base_url):
    for method, url in [
        ("GET", "modelhub/api/models"),
        ("GET", "modelhub/api/openapi.json"),
        ("POST", "modelhub/api/uploads"),
        ("DELETE", "modelhub/api/models/x"),
        ("GET", "modelhub/api/models/x/versions/1/files/a"),
    ]:
        with pytest.raises(HTTPClientError) as error:
            await http_server_client.fetch(
                jp_base_url + url, method=method, body=b"x" if method == "POST" else None, follow_redirects=False
            )
        assert error.value.code == 401, (method, url)


async def test_kernel_token_is_accepted_and_a_wrong_token_is_not(jp_serverapp, http_server_client, jp_base_url):
    app = jp_serverapp.extension_manager.extension_apps["jupyter_modelhub"]
    kernel_token = next(iter(app)).kernel_token
    ok = await http_server_client.fetch(
        jp_base_url + "modelhub/api/models", headers={"Authorization": f"token {kernel_token}"}
    )
    assert ok.code == 200
    with pytest.raises(HTTPClientError) as error:
        await http_server_client.fetch(
            jp_base_url + "modelhub/api/models", headers={"Authorization": "token wrong"}, follow_redirects=False
        )
    assert error.value.code == 401


async def test_events_report_registrations_for_the_panel(api):
    _, start = await api("GET", "events")
    assert start["events"] == []
    await register(api, files={"m.onnx": b"1"})
    _, changes = await api("GET", "events", after=str(start["last_id"]))
    assert [(e["kind"], e["model"], e["version"]) for e in changes["events"]] == [("version_registered", "churn", 1)]


async def test_openapi_document_is_valid_and_matches_the_routes(api):
    code, document = await api("GET", "openapi.json")
    assert code == 200
    validate(document)
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    served = set()
    for pattern, handler in ROUTES:
        path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
        for method in ("get", "post", "put", "patch", "delete"):
            if method in handler.__dict__:
                served.add((path, method))
    assert documented == served
    assert openapi_document()["paths"] == document["paths"]
