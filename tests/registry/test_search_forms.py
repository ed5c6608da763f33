"""A listing answers the same whichever form of SQL finds its page (``search.Matching``): found
from the tags' index, or walked newest first and checked row by row, which a page of many
matches uses (``search.WALK_FROM``). Both forms run on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from helpers.uploads import tar_bytes
from jupyter_modelhub.registry import search

FILTERS = ["", "stage=prod", "stage!=prod", "team", "team=a stage=prod", "stage=prod team!=b", "nothing=here"]


@pytest.fixture
def tagged(registry):
    for i in range(12):
        upload_id, path = registry.artifacts.new_upload()
        path.write_bytes(tar_bytes({"model.onnx": f"model {i}".encode()}))
        tags = {"stage": ["dev", "prod", "staging"][i % 3], "run": str(i)}
        if i % 4:
            tags["team"] = "ab"[i % 2]
        registry.register(["churn", "fraud", "sales"][i % 3], upload_id, tags=tags)
    registry.update_version("churn:2", archived=True)
    return registry


@pytest.mark.parametrize("filter", FILTERS)
def test_every_listing_is_the_same_walked_or_found(tagged, monkeypatch, filter):
    def listings():
        return [
            tagged.list_versions(filter=filter, per_page=3, page=page, archived=archived)
            for page in (1, 2, 5)
            for archived in (False, True)
        ] + [tagged.list_versions(name="churn", filter=filter), tagged.list_models(filter=filter)]

    monkeypatch.setattr(search, "WALK_FROM", 10**9)
    found = listings()
    monkeypatch.setattr(search, "WALK_FROM", 0)
    walked = listings()
    assert walked == found
    assert found[0]["total"] == tagged.list_versions(filter=filter, per_page=500)["total"]
    assert any(page["versions"] for page in found[:2]) == (filter != "nothing=here")


def test_a_users_listings_leave_out_the_models_closed_to_them_in_every_form(tagged, monkeypatch):
    from functools import partial

    from jupyter_modelhub.registry.permissions import Actor, ModelPermissions

    permissions = ModelPermissions(tagged.db, admins=["admin"])
    owner, reader = Actor("admin"), Actor("ana", frozenset({"analysts"}))
    permissions.grant(owner, "fraud", "everyone", "none")  # closed to all but those it names
    permissions.grant(owner, "sales", "everyone", "none")
    permissions.grant(owner, "sales", "group:analysts", "read")
    readable = partial(permissions.readable, reader)
    for walk_from in (0, 10**9):
        monkeypatch.setattr(search, "WALK_FROM", walk_from)
        for filter in ("", "team"):
            versions = tagged.list_versions(filter=filter, per_page=500, readable=readable)["versions"]
            models = tagged.list_models(filter=filter, readable=readable)["models"]
            assert {v["name"] for v in versions} == {"churn", "sales"}
            assert {m["name"] for m in models} == {"churn", "sales"}
