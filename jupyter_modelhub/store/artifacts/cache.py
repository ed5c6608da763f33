"""The content-addressed local cache of a remote store's version files: one per server, bounded.

Layout under ``cache_dir`` (``c.ModelHubApp.cache_dir``, created readable by its owner only)::

    blobs/<sha[:2]>/<sha256>          a file's bytes, named by their sha256, read-only
    versions/<model>/<id>/files/...   a version's files, as hard links to its blobs
    versions/<model>/<id>/.used       touched at every use: the least recently used go first
    versions/<model>/<id>/.complete   every file of the version is linked, checked
    partial/                          downloads in progress (named at random, renamed when checked)

A blob is filled on first use, checked against the manifest entry (size and sha256) as it is
written, and renamed into place only then, so a blob's name always tells its bytes. A version's
folder is what deployments, image builds and conversions read (``files_dir``): its files are
links, so removing a blob never pulls a file from under a process that has it open, and the
same bytes are kept once for every version that holds them.

Eviction (checked after about every hundredth of ``max_bytes`` downloaded, when the blobs pass
``max_bytes``): blobs no version folder links go first, then whole
version folders, least recently used first, but never one used in the last ``keep_seconds``
(10 minutes by default: a build or a deploy that is reading it) nor one ``in_use`` names (the
versions deployed on endpoints, which an endpoint may restart from at any time). So the cache
can stay above its bound while that much is in use; it never takes a file from a running
endpoint.

Not here: where blobs come from (``s3``) and the manifest checks of files on disk (``local``).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from ..archives import check_relative_path
from .local import hash_file

KEEP_SECONDS = 600


class BlobCache:
    """Blobs by sha256 and per-version folders of links to them; see the module's docstring."""

    def __init__(self, folder: str | Path, max_bytes: int, keep_seconds: float = KEEP_SECONDS):
        self.folder = Path(folder)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder = self.folder.resolve()
        self.blobs, self.versions, self.partial = (self.folder / n for n in ("blobs", "versions", "partial"))
        for sub in (self.blobs, self.versions, self.partial):
            sub.mkdir(mode=0o700, exist_ok=True)
        self.max_bytes = max_bytes
        self.keep_seconds = keep_seconds
        self._remove_old_partials()
        # the artifact dirs that must stay (set by the composition root: what endpoints deploy)
        self.in_use: Callable[[], set[str]] | None = None
        self._lock = threading.Lock()

    def _remove_old_partials(self) -> None:
        """Downloads a killed process left (a live one's are younger than a day)."""
        limit = time.time() - 86400
        for entry in self.partial.iterdir():
            try:
                if entry.lstat().st_mtime < limit:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            except OSError:
                pass

    # -- paths -----------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.blobs / sha256[:2] / sha256

    def version_folder(self, artifact_dir: str) -> Path:
        folder = (self.versions / artifact_dir).resolve()
        if not folder.is_relative_to(self.versions) or folder == self.versions:
            raise ValueError(f"artifact folder {artifact_dir!r} is outside the cache")
        return folder

    def files_dir(self, artifact_dir: str) -> Path:
        return self.version_folder(artifact_dir) / "files"

    def file_path(self, artifact_dir: str, path: str) -> Path:
        return self.files_dir(artifact_dir) / check_relative_path(path)

    # -- using -----------------------------------------------------------------------------

    def touch(self, artifact_dir: str) -> None:
        """Record a use of a version (its place in the least-recently-used order)."""
        marker = self.version_folder(artifact_dir) / ".used"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()

    def is_complete(self, artifact_dir: str) -> bool:
        return (self.version_folder(artifact_dir) / ".complete").exists()

    def mark_complete(self, artifact_dir: str, files: list[dict]) -> None:
        marker = self.version_folder(artifact_dir) / ".complete"
        temporary = marker.with_name(f".complete-{uuid.uuid4().hex}")
        temporary.write_text(json.dumps({"files": files}))
        os.replace(temporary, marker)

    # -- filling ---------------------------------------------------------------------------

    def partial_file(self) -> Path:
        """A fresh path to download into (then ``add_checked``)."""
        return self.partial / uuid.uuid4().hex

    def add_checked(self, source: Path, entry: dict) -> Path | None:
        """Move ``source`` into the blobs if its bytes match ``entry`` (size, sha256); returns the
        blob, or None (and removes ``source``) if they do not."""
        try:
            if source.stat().st_size != entry["size"] or hash_file(source) != entry["sha256"]:
                return None
            return self._keep(source, entry["sha256"])
        finally:
            source.unlink(missing_ok=True)

    def adopt(self, source: Path, sha256: str) -> Path:
        """Keep a copy of a local file whose sha256 is known (a registration's staged file): a
        hard link when it is on the same file system, else a copy."""
        blob = self.blob_path(sha256)
        if blob.exists():
            return blob
        partial = self.partial_file()
        try:
            os.link(source, partial)
        except OSError:
            shutil.copyfile(source, partial)
        try:
            return self._keep(partial, sha256)
        finally:
            partial.unlink(missing_ok=True)

    def _keep(self, partial: Path, sha256: str) -> Path:
        blob = self.blob_path(sha256)
        blob.parent.mkdir(mode=0o700, exist_ok=True)
        os.chmod(partial, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(partial, blob)  # atomic: a reader sees no blob or the whole, checked blob
        return blob

    def link(self, artifact_dir: str, entry: dict) -> Path:
        """Put a version's file in its folder, as a link to its blob (which must exist)."""
        blob = self.blob_path(entry["sha256"])
        target = self.file_path(artifact_dir, entry["path"])
        try:
            if target.stat().st_ino == blob.stat().st_ino:
                return target
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
        os.link(blob, partial)
        os.replace(partial, target)
        return target

    def forget(self, artifact_dir: str, entry: dict) -> None:
        """Drop a file whose cached bytes no longer match (someone wrote into the cache)."""
        self.file_path(artifact_dir, entry["path"]).unlink(missing_ok=True)
        (self.version_folder(artifact_dir) / ".complete").unlink(missing_ok=True)
        self.blob_path(entry["sha256"]).unlink(missing_ok=True)

    # -- removing --------------------------------------------------------------------------

    def remove_version(self, artifact_dir: str) -> None:
        """Remove a version's folder (a deleted version), then the blobs nothing links any more."""
        with self._lock:
            self._remove_folder(self.version_folder(artifact_dir))
            self._remove_unlinked()

    def size(self) -> int:
        return sum(size for _, size, _, _ in self._blob_list())

    def shrink(self, log: Callable[[str], None] | None = None) -> list[str]:
        """Evict until the blobs fit in ``max_bytes`` (see the module's docstring for what stays);
        returns the versions removed."""
        with self._lock:
            total = self.size()
            if total <= self.max_bytes:
                return []
            total = self._remove_unlinked()
            if total <= self.max_bytes:
                return []
            try:
                keep = set(self.in_use()) if self.in_use is not None else set()
            except Exception as exc:  # which versions endpoints use is unknown: evict none of them
                if log is not None:
                    log(f"the cache keeps every version this round: what endpoints use is unknown ({exc})")
                return []
            removed = []
            recent = time.time() - self.keep_seconds
            for used, artifact_dir, folder in sorted(self._version_list()):
                if total <= self.max_bytes:
                    break
                if artifact_dir in keep or used >= recent:
                    continue
                self._remove_folder(folder)
                total = self._remove_unlinked()
                removed.append(artifact_dir)
            return removed

    def _version_list(self) -> list[tuple[float, str, Path]]:
        found = []
        for model in self.versions.iterdir():
            if not model.is_dir():
                continue
            for folder in model.iterdir():
                try:
                    used = (folder / ".used").stat().st_mtime
                except FileNotFoundError:
                    used = folder.stat().st_mtime
                found.append((used, f"{model.name}/{folder.name}", folder))
        return found

    def _blob_list(self) -> list[tuple[Path, int, int, float]]:
        found = []
        for shard in self.blobs.iterdir():
            for blob in shard.iterdir():
                try:
                    info = blob.stat()
                except FileNotFoundError:
                    continue
                found.append((blob, info.st_size, info.st_nlink, info.st_mtime))
        return found

    def _remove_unlinked(self) -> int:
        """Remove the blobs no version folder links (only the blob's own name left), but not one
        written in the last minute (another thread may be about to link it); returns the bytes
        of the blobs that remain."""
        total = 0
        fresh = time.time() - min(self.keep_seconds, 60)
        for blob, size, links, modified in self._blob_list():
            if links <= 1 and modified < fresh:
                blob.unlink(missing_ok=True)
            else:
                total += size
        return total

    def _remove_folder(self, folder: Path) -> None:
        """Rename first, so a reader never sees a half-removed version as complete."""
        if not folder.exists():
            return
        doomed = self.partial / f"removed-{uuid.uuid4().hex}"
        os.replace(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
        try:
            folder.parent.rmdir()
        except OSError:
            pass
