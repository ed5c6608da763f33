"""Registry reads answered again from memory (``api.read_cache``) are never stale: the
registry's generation (``store.generation``) moves with every committed change, whichever
process made it, and only then.

Real parts: databases on SQLite and PostgreSQL through the product's own ``Database``, and two
Jupyter servers sharing one database, read and changed over HTTP.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from helpers.servers import ServerProcess
from helpers.uploads import tar_bytes
from jupyter_modelhub.api.read_cache import ReadCache
from jupyter_modelhub.client import ModelHubClient
from jupyter_modelhub.registry import history
from jupyter_modelhub.store.orm import ModelVersion


def _register(registry, name="churn", tags=None) -> dict:
    upload_id, path = registry.artifacts.new_upload()
    path.write_bytes(tar_bytes({"model.onnx": b"weights of " + name.encode()}))
    return registry.register(name, upload_id, tags=tags or {})


def test_the_generation_moves_with_each_committed_change_and_only_then(registry):
    db = registry.db
    start = db.generation()
    _register(registry, tags={"stage": "dev"})
    after_register = db.generation()
    assert after_register > start

    registry.get_version("churn:1")
    registry.list_models()
    assert db.generation() == after_register, "reading moves nothing"

    def fails(session):
        session.execute(update(ModelVersion).values(description="half done"))
        raise RuntimeError("the transaction rolls back")

    with pytest.raises(RuntimeError):
        db.write(fails)
    assert db.generation() == after_register, "a rolled-back change moves nothing"
    assert registry.get_version("churn:1")["description"] == ""

    db.write(lambda session: history.record(session, "version.updated", "churn:1", model="churn", version=1))
    assert db.generation() == after_register, "the history alone is not something reads show"

    db.write(lambda session: session.execute(update(ModelVersion).values(description="bulk")))
    assert db.generation() == after_register + 1, "a bulk statement moves it"
    registry.update_version("churn:1", tags={"stage": "prod"})
    assert db.generation() == after_register + 2


def test_the_cache_keeps_what_it_may_and_drops_everything_when_the_registry_changes():
    cache = ReadCache(max_bytes=800)
    cache.put("a", 5, b"x" * 100)
    cache.put("b", 5, b"y" * 100)
    assert cache.get("a", 5) == b"x" * 100
    assert cache.get("a", 6) is None, "a newer generation: what was kept is stale"
    assert cache.get("b", 6) is None
    cache.put("late", 5, b"z")  # computed before the change, finished after it
    assert cache.get("late", 6) is None and cache.get("late", 5) is None
    for i in range(8):  # 8 x 100 bytes fill it; the least recently used goes first
        cache.put(i, 6, b"v" * 100)
    cache.get(0, 6)
    cache.put("new", 6, b"w" * 100)
    assert cache.get(0, 6) is not None and cache.get(1, 6) is None and cache.get("new", 6) is not None
    cache.put("huge", 6, b"h" * 500)  # over an eighth of the budget: never kept
    assert cache.get("huge", 6) is None


@pytest.fixture
def two_servers(db_url, tmp_path):
    servers = [ServerProcess(tmp_path / name, args=[f"--ModelHubApp.db_url={db_url}"]) for name in ("a", "b")]
    try:
        yield [ModelHubClient(server.url, server.token) for server in servers]
    finally:
        for server in servers:
            server.stop()


def _get(client, path: str, **params):
    return client._call("GET", path, params=params)


def _register_over_http(client, content: bytes, tags=None) -> int:
    upload = client._call("POST", "uploads", data=tar_bytes({"model.onnx": content}))
    body = {"upload_id": upload["upload_id"], "tags": tags or {}}
    return client._call("POST", "models/churn/versions", json=body)["version"]


def test_a_change_on_one_server_is_read_at_once_on_the_other(two_servers):
    a, b = two_servers
    _register_over_http(a, b"first", {"stage": "dev"})
    for _ in range(2):  # the second read is answered from memory
        assert _get(b, "models/churn/versions/1")["tags"] == {"stage": "dev"}
        assert _get(b, "models", filter="stage=prod")["models"] == []
    a._call("PATCH", "models/churn/versions/1", json={"tags": {"stage": "prod"}})
    assert _get(b, "models/churn/versions/1")["tags"] == {"stage": "prod"}
    assert [m["name"] for m in _get(b, "models", filter="stage=prod")["models"]] == ["churn"]

    _register_over_http(a, b"second")
    a._call("PUT", "models/churn/aliases/production", json={"version": 1})
    assert _get(b, "models/churn/versions/@production")["version"] == 1
    a._call("PUT", "models/churn/aliases/production", json={"version": 2})
    assert _get(b, "models/churn/versions/@production")["version"] == 2
    assert _get(b, "models/churn/versions/1")["used_by"] == []
    assert _get(b, "models/churn/versions/2")["used_by"] == ["alias churn@production"]
