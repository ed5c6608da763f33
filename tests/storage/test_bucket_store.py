"""Versions in a bucket (issue 20): what registration writes and in which order, what a failure
leaves (nothing), a second registry with no shared disk reading through its cache, a file changed
in the bucket refused as damaged, deletion, the sweep of unfinished folders, and eviction.

Real parts: an S3 API over HTTP (moto's server, or MODELHUB_TEST_S3_URL), SQLite, the registry
service in process (the server tests are test_team_registry.py).
"""

from __future__ import annotations

import json
import os
import time

import pytest

from helpers.servers import free_port
from helpers.uploads import tar_bytes
from jupyter_modelhub.errors import Damaged, Unavailable
from jupyter_modelhub.registry import ModelRegistry
from jupyter_modelhub.store.artifacts import open_artifact_store
from jupyter_modelhub.store.database import Database

pytestmark = pytest.mark.s3

PART = 5 * 2**20  # S3's smallest multipart part


@pytest.fixture
def database(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/registry.db")
    yield database
    database.dispose()


def registry_on(bucket, database, root, **options):
    keep = options.pop("keep_seconds", None)
    cache_max_bytes = options.pop("cache_max_bytes", 10 * 1024**3)
    store = open_artifact_store(
        root,
        bucket.uri(),
        storage_options={**bucket.storage_options, **options},
        cache_max_bytes=cache_max_bytes,
    )
    if keep is not None:
        store.cache.keep_seconds = keep
    return ModelRegistry(database, store)


def register(registry, name: str, files: dict[str, bytes]) -> dict:
    upload_id, path = registry.artifacts.new_upload()
    path.write_bytes(tar_bytes(files))
    return registry.register(name, upload_id)


def version_keys(bucket, registry, ref: str) -> tuple[str, list[str]]:
    artifact_dir = registry_row_dir(registry, ref)
    prefix = f"registry/{artifact_dir}/"
    return prefix, bucket.names_under(prefix)


def registry_row_dir(registry, ref: str) -> str:
    with registry.db.read() as session:
        return registry.resolve(session, ref).artifact_dir


def test_registration_writes_every_file_then_the_manifest_and_a_large_file_goes_multipart(bucket, database, tmp_path):
    registry = registry_on(bucket, database, tmp_path / "a", default_block_size=PART)
    big = os.urandom(12 * 2**20)  # over twice the part size: three parts
    version = register(registry, "churn", {"model/model.pkl": b"weights", "big.bin": big})
    assert version["ref"] == "churn:1"

    prefix, keys = version_keys(bucket, registry, "churn:1")
    assert keys == [prefix + "files/big.bin", prefix + "files/model/model.pkl", prefix + "manifest.json"]
    objects = bucket.keys_under(prefix)
    assert objects[prefix + "files/big.bin"] == big
    etag = bucket.client().head_object(Bucket=bucket.name, Key=prefix + "files/big.bin")["ETag"]
    assert etag.strip('"').endswith("-3"), f"a multipart upload's ETag ends in -<parts>, got {etag}"
    manifest = json.loads(objects[prefix + "manifest.json"])
    assert {f["path"]: f["size"] for f in manifest["files"]} == {"big.bin": len(big), "model/model.pkl": 7}
    assert list((tmp_path / "a" / "staging").iterdir()) == [], "staging is emptied"
    assert not (tmp_path / "a" / "artifacts").exists() or list((tmp_path / "a" / "artifacts").iterdir()) == []


def test_a_registration_that_fails_half_way_leaves_no_version_and_no_object(bucket, database, tmp_path):
    # 1 MiB parts are refused by S3 when the upload completes: a real failure after the first
    # file is written
    registry = registry_on(bucket, database, tmp_path / "a", default_block_size=2**20)
    with pytest.raises(Unavailable, match=f"The artifact store {bucket.uri()} failed to write a file"):
        register(registry, "broken", {"a.txt": b"first", "z.bin": os.urandom(3 * 2**20)})
    assert bucket.names_under() == [], "what was written is removed"
    assert registry.models().as_dict()["models"] == []
    assert list((tmp_path / "a" / "staging").iterdir()) == []


def test_a_missing_bucket_is_named(s3_endpoint, database, tmp_path):
    url, keys = s3_endpoint
    store = open_artifact_store(
        tmp_path / "a",
        "s3://modelhub-no-such-bucket/x",
        storage_options={
            "endpoint_url": url,
            "key": keys["AWS_ACCESS_KEY_ID"],
            "secret": keys["AWS_SECRET_ACCESS_KEY"],
        },
    )
    with pytest.raises(Unavailable, match="has no bucket 'modelhub-no-such-bucket'"):
        register(ModelRegistry(database, store), "churn", {"m.bin": b"1"})
    assert list((tmp_path / "a" / "staging").iterdir()) == []


def test_a_server_with_no_shared_disk_reads_through_its_cache_and_refuses_a_changed_file(bucket, database, tmp_path):
    a = registry_on(bucket, database, tmp_path / "a")
    register(a, "churn", {"model/model.pkl": b"weights v1", "conda.yaml": b"deps"})
    b = registry_on(bucket, database, tmp_path / "b")

    checked = b.verify_files("churn:1")
    files_dir = tmp_path / "b" / "cache" / "versions" / registry_row_dir(b, "churn:1") / "files"
    assert checked["files_dir"] == str(files_dir)
    assert (files_dir / "model" / "model.pkl").read_bytes() == b"weights v1"
    path, entry = b.file_path("churn:1", "conda.yaml")
    assert path.read_bytes() == b"deps" and entry["size"] == 4
    blobs = sorted(p.name for p in (tmp_path / "b" / "cache" / "blobs").rglob("*") if p.is_file())
    assert blobs == sorted(f["sha256"] for f in a.get_version("churn:1")["files"]), "blobs are named by sha256"

    register(a, "other", {"m.bin": b"other weights"})
    prefix, _ = version_keys(bucket, a, "other:1")
    bucket.put(prefix + "files/m.bin", b"tampered!!!!!")  # same size, other bytes
    with pytest.raises(
        Damaged, match=r"'m.bin' of other:1 does not match its manifest \(its sha256 differs\): the copy in s3://"
    ):
        b.verify_files("other:1")
    assert not list((tmp_path / "b" / "cache" / "partial").iterdir()), "a refused download leaves nothing"
    assert a.verify_files("other:1")["files"] == 1, "the registering server's cache holds the registered bytes"

    cached = tmp_path / "b" / "cache" / "versions" / registry_row_dir(b, "churn:1") / "files" / "conda.yaml"
    cached.chmod(0o644)
    cached.write_bytes(b"DEPS")  # someone wrote into the cache: fetched again, not used
    assert b.file_path("churn:1", "conda.yaml")[0].read_bytes() == b"deps"


def test_deleting_a_version_removes_its_objects_and_cached_files(bucket, database, tmp_path):
    registry = registry_on(bucket, database, tmp_path / "a")
    register(registry, "gone", {"m.bin": b"1"})
    register(registry, "gone", {"m.bin": b"2"})
    prefix1, _ = version_keys(bucket, registry, "gone:1")
    registry.delete_version("gone:1")
    assert not bucket.names_under(prefix1)
    assert len(bucket.names_under("registry/gone/")) == 2, "version 2 stays"
    assert not (tmp_path / "a" / "cache" / "versions" / prefix1.removeprefix("registry/")).exists()
    registry.delete_model("gone")
    assert bucket.names_under("registry/") == []


def test_a_version_deleted_while_the_store_is_away_loses_its_objects_once_it_answers(bucket, database, tmp_path):
    registry = registry_on(bucket, database, tmp_path / "a")
    register(registry, "gone", {"m.bin": b"1"})
    prefix, keys = version_keys(bucket, registry, "gone:1")
    away = registry_on(bucket, database, tmp_path / "a", endpoint_url=f"http://127.0.0.1:{free_port()}")
    assert away.delete_version("gone:1") == {"deleted": ["gone:1"]}, "the version is gone at once"
    assert bucket.names_under(prefix) == keys, "its objects wait for the store"
    assert registry.remove_orphans(ttl=3600) == [prefix.removeprefix("registry/").rstrip("/")]
    assert bucket.names_under(prefix) == []
    assert registry.remove_orphans(ttl=3600) == [], "done once"


def test_the_sweep_removes_unfinished_folders_and_nothing_else(bucket, database, tmp_path):
    registry = registry_on(bucket, database, tmp_path / "a")
    register(registry, "kept", {"m.bin": b"kept"})
    unfinished = "registry/churn/" + "a" * 32 + "/files/m.bin"  # a registration killed before its manifest
    uncommitted = "registry/churn/" + "b" * 32  # manifest written, version row never committed
    bucket.put(unfinished, b"x")
    bucket.put(uncommitted + "/files/m.bin", b"y")
    bucket.put(uncommitted + "/manifest.json", b'{"files": []}')
    foreign = ["registry/notes.txt", "registry/churn/not-a-version/m.bin", "elsewhere/churn/" + "c" * 32 + "/x"]
    for key in foreign:
        bucket.put(key, b"not ours")

    assert registry.remove_orphans(ttl=3600) == [], "younger than the upload time-to-live: maybe in progress"
    assert registry.remove_orphans(ttl=-60, horizon=-120) == [], "older than the horizon: maybe another database's"
    removed = registry.remove_orphans(ttl=-60)  # as if an hour had passed: everything is old enough
    assert sorted(removed) == ["churn/" + "a" * 32, "churn/" + "b" * 32]
    remaining = bucket.names_under()
    assert all(key in remaining for key in foreign), "nothing the product did not write is deleted"
    prefix, keys = version_keys(bucket, registry, "kept:1")
    assert len(keys) == 2 and registry.verify_files("kept:1")["files"] == 1


def test_the_cache_evicts_the_least_recently_used_version_but_never_a_deployed_one(bucket, database, tmp_path):
    writer = registry_on(bucket, database, tmp_path / "writer")
    for name in ("one", "two", "three"):
        register(writer, name, {"m.bin": os.urandom(100_000)})
    reader = registry_on(bucket, database, tmp_path / "reader", cache_max_bytes=250_000, keep_seconds=0)
    deployed = {registry_row_dir(reader, "one:1")}
    reader.artifacts.cache.in_use = lambda: deployed

    reader.verify_files("one:1")
    reader.verify_files("two:1")
    cache = tmp_path / "reader" / "cache" / "versions"
    old = time.time() - 60
    for name in ("one", "two"):
        os.utime(cache / registry_row_dir(reader, f"{name}:1") / ".used", (old, old))
    reader.verify_files("three:1")  # 300 kB > 250 kB: one version goes

    present = {name for name in ("one", "two", "three") if (cache / registry_row_dir(reader, f"{name}:1")).exists()}
    assert present == {"one", "three"}, "'two' was used least recently; 'one' is deployed"
    assert reader.artifacts.cache.size() <= 250_000
    assert reader.verify_files("two:1")["files"] == 1, "an evicted version is fetched again on use"

    reader.artifacts.cache.keep_seconds = 3600  # everything was used just now: nothing may go
    for name in ("one", "two", "three"):
        reader.verify_files(f"{name}:1")
    assert reader.artifacts.cache.size() == 300_000
