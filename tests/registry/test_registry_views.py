"""What a client of the registry's REST routes receives, now that the registry builds its answers
as the response models of ``registry.views``: the same keys on each route as when they were
hand-built dicts (fields a route never set stay absent, nulls stay null), times in the one
format of ``timestamps``, and the one flavor list that ``serving`` keeps a copy of."""

from __future__ import annotations

import io
import json
import re
import tarfile
from datetime import datetime, timedelta, timezone

import pytest

from jupyter_modelhub import flavors, timestamps
from jupyter_modelhub.errors import InvalidInput
from jupyter_modelhub.refs import RefError, parse_ref

# the keys each answer had when registry.py built it as a dict (commit 0b24e8f)
VERSION = {
    "name",
    "version",
    "ref",
    "flavor",
    "description",
    "tags",
    "properties",
    "signature",
    "input_example",
    "files",
    "size",
    "created_time",
    "created_by",
    "source_notebook",
    "derived_from",
    "archived",
    "aliases",
}
WITH_USES = VERSION | {"used_by", "derived_to", "actions"}
SUMMARY = {
    "name",
    "description",
    "latest_version",
    "version_count",
    "flavor",
    "tags",
    "aliases",
    "created_time",
    "updated_time",
}
PAGE = {"total", "page", "per_page"}
EVENT = {"id", "time", "kind", "model", "version", "operation"}
ACTIONS = {"deploy", "convert", "package", "alias", "tag", "archive", "restore", "download", "delete"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def tar_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.fixture
def call(jp_fetch):
    async def call(method: str, path: str, body=None, raw: bytes | None = None, **params):
        kwargs = {"method": method, "raise_error": False}
        if raw is not None:
            kwargs.update(body=raw, headers={"Content-Type": "application/x-tar"})
        elif body is not None or method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = json.dumps(body) if body is not None else b""
        response = await jp_fetch("modelhub", "api", *path.split("/"), params=params, **kwargs)
        return response.code, json.loads(response.body) if response.body else None

    return call


async def test_each_route_answers_the_keys_it_answered_as_a_dict(call):
    status, upload = await call("POST", "uploads", raw=tar_of({"model.onnx": b"weights"}))
    assert status == 201 and set(upload) == {"upload_id", "files", "size"}
    assert upload["files"] == [{"path": "model.onnx", "size": 7}]  # no sha256 key until registered

    status, version = await call("POST", "models/churn/versions", {"upload_id": upload["upload_id"]})
    assert status == 201 and set(version) == WITH_USES | {"existing"} and version["existing"] is False
    assert set(version["actions"]) == ACTIONS and set(version["files"][0]) == {"path", "size", "sha256"}
    assert version["signature"] is None and version["source_notebook"] is None and version["derived_from"] is None

    status, upload = await call("POST", "uploads", raw=tar_of({"model.onnx": b"weights"}))
    status, same = await call("POST", "models/churn/versions", {"upload_id": upload["upload_id"]})
    assert status == 200 and set(same) == VERSION | {"existing"} and same["existing"] is True

    status, one = await call("GET", "models/churn/versions/1")
    assert status == 200 and set(one) == WITH_USES
    status, tagged = await call("PATCH", "models/churn/versions/1", {"tags": {"team": "growth"}})
    assert status == 200 and set(tagged) == WITH_USES and tagged["tags"] == {"team": "growth"}
    status, aliased = await call("PUT", "models/churn/aliases/production", {"version": 1})
    assert status == 200 and set(aliased) == WITH_USES and aliased["used_by"] == ["alias churn@production"]

    status, everywhere = await call("GET", "versions")
    assert status == 200 and set(everywhere) == PAGE | {"versions"} and set(everywhere["versions"][0]) == VERSION
    status, of_one = await call("GET", "models/churn/versions")
    assert set(of_one) == PAGE | {"versions"} and set(of_one["versions"][0]) == WITH_USES
    status, models = await call("GET", "models")
    assert set(models) == PAGE | {"models"} and set(models["models"][0]) == SUMMARY
    assert models["models"][0]["aliases"] == {"production": 1}
    status, detail = await call("GET", "models/churn")
    assert set(detail) == SUMMARY | {"versions"} and set(detail["versions"][0]) == VERSION

    status, position = await call("GET", "events")
    assert position == {"events": [], "last_id": position["last_id"]}
    status, feed = await call("GET", "events", after="0")
    assert [set(e) for e in feed["events"]] == [EVENT] * len(feed["events"])
    assert [e["kind"] for e in feed["events"]] == ["version_registered", "version_updated", "alias_set"]
    assert feed["events"][0]["operation"] is None and feed["events"][1]["version"] == 1

    await call("DELETE", "models/churn/aliases/production")
    assert await call("DELETE", "models/churn/versions/1") == (200, {"deleted": ["churn:1"]})


async def test_every_time_the_registry_answers_is_utc_to_the_millisecond(call):
    status, upload = await call("POST", "uploads", raw=tar_of({"model.onnx": b"weights"}))
    status, version = await call("POST", "models/churn/versions", {"upload_id": upload["upload_id"]})
    status, models = await call("GET", "models")
    status, feed = await call("GET", "events", after="0")
    times = [
        version["created_time"],
        models["models"][0]["created_time"],
        models["models"][0]["updated_time"],
        feed["events"][0]["time"],
    ]
    assert all(TIME.match(t) for t in times), times


def test_one_timestamp_format_for_datetimes_epochs_and_none():
    moment = datetime(2026, 12, 7, 2, 33, 10, 123456)
    assert timestamps.iso(moment) == "2026-12-07T02:33:10.123Z"  # naive: UTC, as the database holds it
    assert timestamps.iso(moment.replace(tzinfo=timezone(timedelta(hours=2)))) == "2026-12-07T00:33:10.123Z"
    assert timestamps.iso(moment.replace(tzinfo=timezone.utc).timestamp()) == "2026-12-07T02:33:10.123Z"
    assert timestamps.iso(datetime(2026, 12, 7)) == "2026-12-07T00:00:00.000Z"  # one width: strings sort as times
    assert timestamps.iso(None) is None
    assert TIME.match(timestamps.now())


def test_serving_keeps_the_registry_flavor_list():
    """serving ships alone (it imports nothing else from the package), so it keeps its own copies."""
    from jupyter_modelhub.serving import __main__ as serving_main
    from jupyter_modelhub.serving import scorers

    assert set(serving_main.FLAVORS) == set(flavors.FLAVORS)
    assert set(scorers.FLAVORS) == set(flavors.BUILTIN_FLAVORS) < set(flavors.FLAVORS)


def test_a_malformed_reference_is_invalid_input_without_translation():
    with pytest.raises(InvalidInput, match="Invalid model name 'a b'") as caught:
        parse_ref("a b")
    assert isinstance(caught.value, RefError) and caught.value.status == 400
