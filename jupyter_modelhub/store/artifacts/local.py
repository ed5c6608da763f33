"""Artifact files on the server's disk: uploads, staging, the immutable per-version folders and
their manifests. The default store (``c.ModelHubApp.artifact_uri`` unset); the bucket store
(``s3``) keeps its uploads and staging here too and only publishes elsewhere.

Layout under the root (created readable by its owner only)::

    uploads/<id>.tar                 an upload being received or waiting to be registered
    uploads/<id>.owner               who made it (only they may register it)
    staging/<id>.tar                 an upload taken by one registration (see ``claim_upload``)
    staging/<uuid>/files/...         a version being assembled (extracted, hashed)
    artifacts/<model>/<uuid>/files/  a registered version, read-only
    artifacts/<model>/<uuid>/manifest.json
    removals-pending                 deleted versions whose files the store could not remove yet

A version's folder is named by a random id, not its number, so the folder can be moved into place
before the database allocates the number; a registration that fails at any point leaves only
a staging folder, which is removed at once (or, if the process died, once it is older than the
upload time-to-live: other servers sharing the root may be using the younger ones).

Every archive is checked before anything is kept, at upload and again while it is extracted
(``archives``): at most ``max_size`` bytes in ``max_files`` entries once unpacked.

Files served or deployed are checked against their manifest's sha256 once per process and
state on disk (``verified_path``), so a file changed after registration is refused, not used.

Not here: versions in a bucket (``s3``) and the local cache of their files (``cache``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ...errors import Damaged, InvalidInput, NotFound
from ..archives import DAMAGED_ARCHIVE, check_relative_path, checked_members, clip, open_tar, too_large

CHUNK = 1 << 20
DEFAULT_MAX_SIZE = 20 * 1024**3
DEFAULT_MAX_FILES = 10_000
DEFERRED_REMOVALS = "removals-pending"  # deleted versions' folders to remove once the store answers


@dataclass
class StagedFiles:
    """Files extracted and hashed, waiting to become a version."""

    folder: Path
    files: list[dict]
    size: int
    content_hash: str


def content_hash(files: list[dict]) -> str:
    """One hash for a set of files: equal when every path and every file's bytes are equal."""
    digest = hashlib.sha256()
    for entry in sorted(files, key=lambda f: f["path"]):
        digest.update(f"{entry['path']}\0{entry['sha256']}\n".encode())
    return digest.hexdigest()


class ArtifactStore:
    """Owns the folders under ``root``; every path it hands out is resolved and checked.

    ``max_size`` and ``max_files`` bound what one version may unpack to (bytes of its files,
    and files plus folders).
    """

    def __init__(self, root: str | Path, max_size: int = DEFAULT_MAX_SIZE, max_files: int = DEFAULT_MAX_FILES):
        root = Path(root)
        self.is_remote = False
        if not root.exists():
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root = root.resolve()
        self.max_size = max_size
        self.max_files = max_files
        self.uploads = self.root / "uploads"
        self.staging = self.root / "staging"
        self.artifacts = self.root / "artifacts"
        for folder in (self.uploads, self.staging, self.artifacts):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._checked = CheckedFiles(lambda path: type(self).hash_file(path))
        self._deferred_lock = threading.Lock()

    @property
    def uri(self) -> str:
        """Where published versions are, as users configure it (``c.ModelHubApp.artifact_uri``)."""
        return str(self.artifacts)

    # -- uploads ---------------------------------------------------------------------------

    def new_upload(self, owner: str | None = None) -> tuple[str, Path]:
        """A new upload id and the path to write its tar to; ``owner`` (the user who sends it)
        is recorded, and only they may register it. The server's own uploads have none."""
        upload_id = uuid.uuid4().hex
        if owner is not None:
            (self.uploads / f"{upload_id}.owner").write_text(owner, encoding="utf-8")
        return upload_id, self.uploads / f"{upload_id}.tar"

    def claim_upload(self, upload_id: str, user: str) -> Path:
        """Take an upload for one registration and return where it now is (under staging/).

        The rename is atomic, so when the same id is registered several times at once exactly
        one call wins and the others are told it was used. The caller removes the returned file
        when the registration ends, whether it succeeded or not.
        """
        if not isinstance(upload_id, str) or len(upload_id) != 32 or not upload_id.isascii() or not upload_id.isalnum():
            raise InvalidInput(f"Invalid upload id {clip(str(upload_id))!r}: use the id returned by POST uploads.")
        gone = NotFound(
            f"Upload {upload_id} does not exist: it was used already, it expired, or another user made it. "
            "Upload the files again."
        )
        owner_file = self.uploads / f"{upload_id}.owner"
        try:
            owner = owner_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            owner = None
        if owner is not None and owner != user:
            raise gone
        claimed = self.staging / f"{upload_id}.tar"
        try:
            os.rename(self.uploads / f"{upload_id}.tar", claimed)
        except FileNotFoundError:
            raise gone from None
        owner_file.unlink(missing_ok=True)
        os.utime(claimed)  # its age now counts from the registration, not the upload (remove_expired)
        return claimed

    def discard_upload(self, upload_id: str) -> None:
        for suffix in (".tar", ".owner"):
            (self.uploads / f"{upload_id}{suffix}").unlink(missing_ok=True)
        (self.staging / f"{upload_id}.tar").unlink(missing_ok=True)

    def inspect_upload(self, path: Path) -> tuple[list[dict], int]:
        """List an uploaded tar's files (path, size) and refuse a bad archive before it is kept."""
        files, size = [], 0
        try:
            with open_tar(path) as tar:
                for member, name in checked_members(tar, self.max_size, self.max_files):
                    if member.isfile():
                        files.append({"path": name, "size": member.size})
                        size += member.size
        except DAMAGED_ARCHIVE as exc:
            raise InvalidInput(f"The upload is an incomplete or damaged tar archive ({exc}).") from None
        if not files:
            raise InvalidInput("Empty registration: the upload contains no files.")
        return files, size

    def remove_expired(self, ttl: float) -> list[str]:
        """Remove uploads never registered and staging leftovers older than ``ttl`` seconds (an
        upload still being received is younger: its file changes as data arrives). Returns the
        names removed."""
        limit = time.time() - ttl
        removed = []
        for folder in (self.uploads, self.staging):
            for entry in folder.iterdir():
                try:
                    if entry.lstat().st_mtime >= limit:
                        continue
                except FileNotFoundError:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed.append(f"{folder.name}/{entry.name}")
        return removed

    # -- staging -> artifacts --------------------------------------------------------------

    def stage(self, upload: Path) -> StagedFiles:
        """Extract an uploaded tar into a staging folder, hashing each file as it is written."""
        folder = self.staging / uuid.uuid4().hex
        files_dir = folder / "files"
        files_dir.mkdir(parents=True)
        try:
            files, total = [], 0
            with open_tar(upload) as tar:
                for member, name in checked_members(tar, self.max_size, self.max_files):
                    if member.isdir():
                        continue
                    target = files_dir / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    digest, size = hashlib.sha256(), 0
                    with open(target, "wb") as out:
                        while chunk := source.read(CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                            size += len(chunk)
                            if total + size > self.max_size:  # what is written, whatever headers say
                                raise too_large(self.max_size)
                    files.append({"path": name, "size": size, "sha256": digest.hexdigest()})
                    total += size
            if not files:
                raise InvalidInput("Empty registration: the upload contains no files.")
            files.sort(key=lambda f: f["path"])
            return StagedFiles(folder, files, total, content_hash(files))
        except DAMAGED_ARCHIVE as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise InvalidInput(f"The upload is an incomplete or damaged tar archive ({exc}).") from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def publish(self, staged: StagedFiles, model: str) -> str:
        """Move a staged folder into ``artifacts/<model>/``, read-only; returns its relative dir."""
        relative = f"{model}/{staged.folder.name}"
        final = self.artifacts / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        (staged.folder / "manifest.json").write_text(json.dumps({"files": staged.files}, indent=1))
        os.replace(staged.folder, final)
        _make_read_only(final)
        return relative

    def discard_staged(self, staged: StagedFiles) -> None:
        shutil.rmtree(staged.folder, ignore_errors=True)

    def remove(self, artifact_dir: str) -> None:
        folder = self._version_folder(artifact_dir)
        for dirpath, dirnames, _ in os.walk(folder):
            os.chmod(dirpath, 0o755)
            for d in dirnames:
                os.chmod(os.path.join(dirpath, d), 0o755)
        shutil.rmtree(folder, ignore_errors=True)
        try:
            folder.parent.rmdir()  # the model's folder, once its last version is gone
        except OSError:
            pass

    def version_dirs(self) -> list[tuple[str, bool, float]]:
        """Every published version folder as ``(artifact_dir, has_manifest, modified)``, for the
        sweep of folders no version row refers to (``ModelRegistry.remove_orphans``)."""
        found = []
        for model in self.artifacts.iterdir():
            if not model.is_dir() or model.is_symlink():
                continue
            for folder in model.iterdir():
                if is_version_folder_name(folder.name):
                    manifest = folder / "manifest.json"
                    found.append((f"{model.name}/{folder.name}", manifest.exists(), folder.lstat().st_mtime))
        return found

    def defer_removal(self, artifact_dir: str) -> None:
        """Remember a deleted version's folder that could not be removed now (the store is away)."""
        with self._deferred_lock, open(self.root / DEFERRED_REMOVALS, "a", encoding="utf-8") as f:
            f.write(artifact_dir + "\n")

    def deferred_removals(self) -> list[str]:
        try:
            lines = (self.root / DEFERRED_REMOVALS).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return sorted({line for line in lines if line})

    def forget_deferred(self, done: list[str]) -> None:
        """Drop removals that are done (those deferred meanwhile stay)."""
        if not done:
            return
        path = self.root / DEFERRED_REMOVALS
        with self._deferred_lock:
            left = [d for d in self.deferred_removals() if d not in set(done)]
            if left:
                temporary = path.with_suffix(".tmp")
                temporary.write_text("".join(d + "\n" for d in left), encoding="utf-8")
                os.replace(temporary, path)
            else:
                path.unlink(missing_ok=True)

    # -- reading ---------------------------------------------------------------------------

    def files_dir(self, artifact_dir: str, files: list[dict] | None = None) -> Path:
        """The folder of a version's files. ``files`` (the manifest, if the caller has it) lets
        a remote store fill its cache without reading the manifest again."""
        return self._version_folder(artifact_dir) / "files"

    def file_path(self, artifact_dir: str, path: str) -> Path:
        """Resolve a file of a version, refusing any path that escapes the version's folder."""
        base = self.files_dir(artifact_dir).resolve()
        target = (base / check_relative_path(path)).resolve()
        if not target.is_relative_to(base):
            raise InvalidInput(f"Invalid file path {path!r}: it points outside the model's folder.")
        if not target.is_file():
            raise NotFound(f"File {path!r} is missing from the artifact store.")
        return target

    def verified_path(self, artifact_dir: str, entry: dict, label: str) -> Path:
        """The path of a version's file after checking its bytes against the manifest ``entry``
        (``{"path", "size", "sha256"}``); ``label`` names the version in the error.

        A file is hashed once per process and state on disk: the result is kept under its
        size, modification and change times and inode, so serving it again costs one stat, and
        any write to it (even one that restores the modification time) is checked again.
        """
        return self._checked.check(self.file_path(artifact_dir, entry["path"]), entry, label)

    @staticmethod
    def hash_file(path: Path) -> str:
        return hash_file(path)

    def _version_folder(self, artifact_dir: str) -> Path:
        folder = (self.artifacts / artifact_dir).resolve()
        if not folder.is_relative_to(self.artifacts):
            raise InvalidInput(f"Artifact folder {artifact_dir!r} is outside the artifact root.")
        return folder


class CheckedFiles:
    """Files whose bytes matched their manifest entry, each under the state on disk at which it
    did (size, modification and change times, inode): checking one again costs one stat until
    anything writes to it."""

    def __init__(self, hasher=None):
        self._hash = hasher or hash_file
        self._states: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def check(self, path: Path, entry: dict, label: str) -> Path:
        info = path.stat()
        state = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        with self._lock:
            if self._states.get(str(path)) == state:
                return path
        if info.st_size != entry["size"]:
            raise damaged(entry, label, f"{info.st_size} bytes instead of {entry['size']}")
        if self._hash(path) != entry["sha256"]:
            raise damaged(entry, label, "its sha256 differs")
        with self._lock:
            self._states[str(path)] = state
        return path

    def trust(self, path: Path) -> None:
        """Record a file whose bytes were just checked (as it was written), as it is now."""
        info = path.stat()
        with self._lock:
            self._states[str(path)] = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def damaged(entry: dict, label: str, how: str, where: str = "the stored copy") -> Damaged:
    return Damaged(
        f"File {entry['path']!r} of {label} does not match its manifest ({how}): {where} changed "
        "after registration, so it is not used. Restore the file, or register the model again."
    )


def is_version_folder_name(name: str) -> bool:
    """A version's folder is a random id (``uuid4().hex``): 32 lowercase hex digits."""
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


def _make_read_only(folder: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(folder, topdown=False):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(dirpath, 0o555)
