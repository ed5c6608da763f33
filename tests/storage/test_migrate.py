"""``jupyter modelhub storage migrate s3://...`` (issue 20): a local registry's files moved to a
bucket with one command, verified, idempotent, resumable after a kill, local files untouched;
then a server with another root, the same database and the bucket serves every version.

Real parts: the command as a subprocess (endpoint and keys from the AWS environment variables),
an S3 API over HTTP, a Jupyter server.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys

import pytest

from helpers.s3 import Bucket
from helpers.servers import ServerProcess
from helpers.uploads import tar_bytes
from jupyter_modelhub.registry import ModelRegistry
from jupyter_modelhub.store.artifacts import ArtifactStore
from jupyter_modelhub.store.database import Database

pytestmark = pytest.mark.s3

BIG = 12 * 2**20


def local_registry(root) -> dict[str, dict]:
    """Three versions on the local disk (one with a file large enough to go multipart)."""
    database = Database(f"sqlite:///{root}/registry.db")
    registry = ModelRegistry(database, ArtifactStore(root))
    versions = {}
    for name, files in (
        ("aaa", {"model/weights.bin": os.urandom(BIG), "conda.yaml": b"deps"}),
        ("bbb", {"m.bin": b"small"}),
        ("ccc", {"m.bin": b"other", "notes/readme.txt": b"hello"}),
    ):
        upload_id, path = registry.artifacts.new_upload()
        path.write_bytes(tar_bytes(files))
        versions[name] = registry.register(name, upload_id)
    database.dispose()
    return versions


def tree(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def command(bucket: Bucket, root, *extra: str) -> list[str]:
    options = json.dumps({"default_block_size": 5 * 2**20})
    return [
        sys.executable,
        "-m",
        "jupyter_modelhub.cli",
        "storage",
        "migrate",
        bucket.uri(),
        *([f"--root={root}"] if root is not None else []),
        f"--storage-options={options}",
        *extra,
    ]


def run(bucket: Bucket, root, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(bucket, root, *extra),
        env={**os.environ, **bucket.env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow  # a migration killed and resumed, then a server on the bucket: make test, not make test-fast
def test_migrate_copies_verifies_resumes_after_a_kill_and_a_server_then_reads_the_bucket(bucket, tmp_path):
    root = tmp_path / "hub"
    versions = local_registry(root)
    before = tree(root / "artifacts")

    # a run killed once the first version is in: a second run finishes the rest
    process = subprocess.Popen(
        command(bucket, root), env={**os.environ, **bucket.env}, stdout=subprocess.PIPE, text=True
    )
    for line in process.stdout:
        if line.startswith("[1/3]"):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(30)
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL

    second = run(bucket, root)
    assert second.returncode == 0, second.stderr
    assert "[1/3] aaa/" in second.stdout and "already in the bucket" in second.stdout.splitlines()[1]
    assert f'c.ModelHubApp.artifact_uri = "{bucket.uri()}"' in second.stdout
    keys = bucket.names_under("registry/")
    assert len([k for k in keys if k.endswith("/manifest.json")]) == 3 and len(keys) == 3 + 5
    etags = {
        k: bucket.client().head_object(Bucket=bucket.name, Key=k)["ETag"] for k in keys if k.endswith("weights.bin")
    }
    assert all(e.strip('"').endswith("-3") for e in etags.values()), "the 12 MB file went multipart"

    third = run(bucket, root, "--json")
    assert third.returncode == 0, third.stderr
    summary = json.loads(third.stdout)
    assert summary["versions"] == 3 and summary["skipped_versions"] == 3 and summary["uploaded_files"] == 0
    assert tree(root / "artifacts") == before, "local files are never changed"

    # a version half there (a file missing, another changed in the bucket) is completed and corrected
    ccc = next(k for k in keys if k.startswith("registry/ccc/") and k.endswith("/manifest.json"))
    folder = ccc.removesuffix("manifest.json")
    client = bucket.client()
    client.delete_object(Bucket=bucket.name, Key=ccc)
    client.delete_object(Bucket=bucket.name, Key=folder + "files/m.bin")
    bucket.put(folder + "files/notes/readme.txt", b"HELLO")  # same size, other bytes
    fourth = run(bucket, root, "--json")
    assert json.loads(fourth.stdout)["uploaded_files"] == 2, fourth.stderr
    assert bucket.keys_under(folder + "files/notes/readme.txt")[folder + "files/notes/readme.txt"] == b"hello"

    # another root, the same database, the bucket: every version is served from the bucket
    server = ServerProcess(
        tmp_path / "server",
        extra_env=bucket.env,
        args=[f"--ModelHubApp.db_url=sqlite:///{root}/registry.db", f"--ModelHubApp.artifact_uri={bucket.uri()}"],
    )
    try:
        hub = server.client()
        for name, version in versions.items():
            downloaded = hub.download(version["ref"], to=tmp_path / "out" / name)
            assert len(downloaded["files"]) == len(version["files"])
        assert (tmp_path / "out" / "ccc" / "notes" / "readme.txt").read_bytes() == b"hello"
    finally:
        server.stop()


def test_a_damaged_local_version_is_not_copied_and_named(bucket, tmp_path):
    root = tmp_path / "hub"
    versions = local_registry(root)
    damaged = next((root / "artifacts" / "bbb").glob("*/files/m.bin"))
    damaged.chmod(0o644)
    damaged.write_bytes(b"SMALL")
    server = ServerProcess(tmp_path / "server", root=root)  # its root is found through it
    try:
        result = run(bucket, None, f"--url={server.url}", f"--token={server.token}")
    finally:
        server.stop()
    assert result.returncode == 1
    assert "bbb/" in result.stderr and "do not match their manifest" in result.stderr
    assert "Traceback" not in result.stderr
    assert not bucket.names_under("registry/bbb/")
    assert len([k for k in bucket.names_under("registry/") if k.endswith("manifest.json")]) == 2
    assert versions["bbb"]["ref"] == "bbb:1"


def test_a_target_that_is_not_a_bucket_is_refused_in_one_line(tmp_path):
    local_registry(tmp_path / "hub")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_modelhub.cli",
            "storage",
            "migrate",
            "/elsewhere",
            f"--root={tmp_path / 'hub'}",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "s3://BUCKET/PREFIX" in result.stderr
