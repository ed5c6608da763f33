"""Moving a local registry's files to a bucket (``jupyter modelhub storage migrate s3://...``).

Every version folder under ``ROOT/artifacts`` (``<model>/<id>/files/...`` + ``manifest.json``)
is copied to the same relative place under the bucket's prefix, so the version rows in the
database stay valid as they are: only ``c.ModelHubApp.artifact_uri`` changes. Per version, each
local file is first checked against its manifest (a damaged one is reported and its version left
out), then uploaded and read back to check its sha256; the manifest goes last, so a version is
complete in the bucket exactly when its manifest is there.

Idempotent and resumable: a version whose manifest is already in the bucket, with every file of
the right size, is skipped; a file already there (a run that was killed) is read back and kept if
its sha256 matches, uploaded again if not. Nothing local is deleted or changed, and nothing in
the bucket that the manifest does not name is touched.

Not here: the command line (``cli/storage``); reading through a cache (``s3``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...errors import Damaged
from .local import CHUNK, hash_file, is_version_folder_name
from .s3 import S3ArtifactStore


@dataclass
class Migration:
    """What a run did, for its summary."""

    target: str
    versions: int = 0  # complete in the bucket after this run
    skipped_versions: int = 0  # complete before it
    uploaded_files: int = 0
    uploaded_bytes: int = 0
    present_files: int = 0  # already there and verified
    damaged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**asdict(self), "config": f'c.ModelHubApp.artifact_uri = "{self.target}"'}


def local_versions(artifacts: Path) -> list[tuple[str, Path]]:
    """Every published version folder (``model/id``, its path), in a stable order."""
    found = []
    if not artifacts.is_dir():
        return found
    for model in sorted(artifacts.iterdir()):
        if not model.is_dir() or model.is_symlink():
            continue
        for folder in sorted(model.iterdir()):
            if is_version_folder_name(folder.name) and (folder / "manifest.json").is_file():
                found.append((f"{model.name}/{folder.name}", folder))
    return found


def migrate(artifacts: Path, store: S3ArtifactStore, say: Callable[[str], None]) -> Migration:
    """Copy every version under ``artifacts`` (a local root's ``artifacts/``) into ``store``."""
    outcome = Migration(store.uri)
    versions = local_versions(artifacts)
    say(f"{len(versions)} versions under {artifacts} to copy to {store.uri}")
    for number, (artifact_dir, folder) in enumerate(versions, 1):
        manifest_bytes = (folder / "manifest.json").read_bytes()
        files = json.loads(manifest_bytes)["files"]
        head = f"[{number}/{len(versions)}] {artifact_dir}"
        if _complete(store, artifact_dir, manifest_bytes, files):
            outcome.skipped_versions += 1
            outcome.versions += 1
            say(f"{head}: already in the bucket")
            continue
        problems = _damaged_files(folder, files)
        if problems:
            outcome.damaged.append(artifact_dir)
            say(f"{head}: NOT copied, its local files do not match their manifest: {', '.join(problems)}")
            continue
        uploaded = present = 0
        for entry in files:
            key = store.key_of(artifact_dir, "files", entry["path"])
            if _verified(store, key, entry):
                present += 1
                continue
            store.call(
                "write a file",
                store.fs.put_file,
                str(folder / "files" / entry["path"]),
                key,
                chunksize=store.part_size_for(entry["size"]),
            )
            if not _verified(store, key, entry):
                raise Damaged(f"{artifact_dir}/files/{entry['path']} differs from the local file after its upload.")
            uploaded += 1
            outcome.uploaded_bytes += entry["size"]
        store.call("write a manifest", store.fs.pipe_file, store.key_of(artifact_dir, "manifest.json"), manifest_bytes)
        outcome.uploaded_files += uploaded
        outcome.present_files += present
        outcome.versions += 1
        say(f"{head}: {uploaded} files uploaded and verified" + (f", {present} already there" if present else ""))
    return outcome


def _complete(store: S3ArtifactStore, artifact_dir: str, manifest_bytes: bytes, files: list[dict]) -> bool:
    """The same manifest is in the bucket (written only after every file was verified) and every
    file is there with its size."""
    try:
        if (
            store.call("read a manifest", store.fs.cat_file, store.key_of(artifact_dir, "manifest.json"))
            != manifest_bytes
        ):
            return False
        listed = store.call("list a version", store.fs.find, store.key_of(artifact_dir, "files"), detail=True)
    except FileNotFoundError:
        return False
    sizes = {key: info.get("size") for key, info in listed.items()}
    return all(sizes.get(store.key_of(artifact_dir, "files", f["path"])) == f["size"] for f in files)


def _damaged_files(folder: Path, files: list[dict]) -> list[str]:
    problems = []
    for entry in files:
        path = folder / "files" / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']} (missing)")
        elif path.stat().st_size != entry["size"] or hash_file(path) != entry["sha256"]:
            problems.append(entry["path"])
    return problems


def _verified(store: S3ArtifactStore, key: str, entry: dict) -> bool:
    """The object is there and its bytes, read back, have the entry's size and sha256."""
    try:
        info = store.call("read a file", store.fs.info, key)
    except FileNotFoundError:
        return False
    if info.get("size") != entry["size"]:
        return False
    digest = hashlib.sha256()
    with store.call("read a file", store.fs.open, key, "rb", block_size=CHUNK * 8) as remote:
        while chunk := store.call("read a file", remote.read, CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == entry["sha256"]
