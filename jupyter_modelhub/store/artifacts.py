"""Artifact files: uploads, staging, the immutable per-version folders and their manifests.

Layout under the root::

    uploads/<id>.tar                 an upload being received or waiting to be registered
    staging/<uuid>/files/...         a version being assembled (extracted, hashed)
    artifacts/<model>/<uuid>/files/  a registered version, read-only
    artifacts/<model>/<uuid>/manifest.json

A version's folder is named by a random id, not its number, so the folder can be moved into place
before the database allocates the number; a registration that fails at any point leaves only
a staging folder, which is removed at once (or at the next start if the process died).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import InvalidInput, NotFound

CHUNK = 1 << 20


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


def check_relative_path(path: str) -> str:
    """Normalise a path inside a version; refuse anything that could leave the folder."""
    if not path or "\\" in path or "\0" in path:
        raise InvalidInput(f"Invalid file path {path!r}: use a relative path with '/' separators.")
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("..", "") for part in pure.parts):
        raise InvalidInput(
            f"Invalid file path {path!r}: paths must stay inside the model's folder "
            "(no absolute paths, no '..')."
        )
    parts = [p for p in pure.parts if p != "."]
    if not parts:
        raise InvalidInput(f"Invalid file path {path!r}: it names the folder itself, not a file.")
    return "/".join(parts)


class ArtifactStore:
    """Owns the folders under ``root``; every path it hands out is resolved and checked."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.uploads = self.root / "uploads"
        self.staging = self.root / "staging"
        self.artifacts = self.root / "artifacts"
        for folder in (self.uploads, self.staging, self.artifacts):
            folder.mkdir(parents=True, exist_ok=True)

    # -- uploads ---------------------------------------------------------------------------

    def new_upload(self) -> tuple[str, Path]:
        upload_id = uuid.uuid4().hex
        return upload_id, self.uploads / f"{upload_id}.tar"

    def upload_path(self, upload_id: str) -> Path:
        if not isinstance(upload_id, str) or len(upload_id) != 32 or not upload_id.isalnum():
            raise InvalidInput(f"Invalid upload id {upload_id!r}: use the id returned by POST uploads.")
        path = self.uploads / f"{upload_id}.tar"
        if not path.is_file():
            raise NotFound(f"Upload {upload_id} does not exist (it was used already, or it expired).")
        return path

    def discard_upload(self, upload_id: str) -> None:
        (self.uploads / f"{upload_id}.tar").unlink(missing_ok=True)

    def inspect_upload(self, path: Path) -> tuple[list[dict], int]:
        """List an uploaded tar's files (path, size) and refuse a bad archive before it is kept."""
        files, size = [], 0
        try:
            with self._open_tar(path) as tar:
                for member in tar:
                    name = self._check_member(member)
                    if member.isfile():
                        files.append({"path": name, "size": member.size})
                        size += member.size
        except (tarfile.TarError, EOFError) as exc:
            raise InvalidInput(f"The upload is an incomplete or damaged tar archive ({exc}).") from None
        if not files:
            raise InvalidInput("Empty registration: the upload contains no files.")
        return files, size

    # -- staging -> artifacts --------------------------------------------------------------

    def stage(self, upload: Path) -> StagedFiles:
        """Extract an uploaded tar into a staging folder, hashing each file as it is written."""
        folder = self.staging / uuid.uuid4().hex
        files_dir = folder / "files"
        files_dir.mkdir(parents=True)
        try:
            files, total = [], 0
            seen: set[str] = set()
            with self._open_tar(upload) as tar:
                for member in tar:
                    if member.isdir():
                        self._check_member(member)
                        continue
                    name = self._check_member(member)
                    if name in seen:
                        raise InvalidInput(f"File {name!r} appears twice in the upload.")
                    seen.add(name)
                    target = files_dir / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    digest, size = hashlib.sha256(), 0
                    with open(target, "wb") as out:
                        while chunk := source.read(CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                            size += len(chunk)
                    files.append({"path": name, "size": size, "sha256": digest.hexdigest()})
                    total += size
            if not files:
                raise InvalidInput("Empty registration: the upload contains no files.")
            files.sort(key=lambda f: f["path"])
            return StagedFiles(folder, files, total, content_hash(files))
        except (tarfile.TarError, EOFError) as exc:
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

    def clean_leftovers(self) -> None:
        """Remove staging folders of registrations that died mid-way (called at start-up)."""
        for entry in self.staging.iterdir():
            shutil.rmtree(entry, ignore_errors=True)

    # -- reading ---------------------------------------------------------------------------

    def files_dir(self, artifact_dir: str) -> Path:
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

    def _version_folder(self, artifact_dir: str) -> Path:
        folder = (self.artifacts / artifact_dir).resolve()
        if not folder.is_relative_to(self.artifacts):
            raise InvalidInput(f"Artifact folder {artifact_dir!r} is outside the artifact root.")
        return folder

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _open_tar(path: Path) -> tarfile.TarFile:
        try:
            return tarfile.open(path, mode="r:*")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise InvalidInput(
                f"The upload is not a readable tar archive ({exc}); send the files as one tar stream."
            ) from None

    @staticmethod
    def _check_member(member: tarfile.TarInfo) -> str:
        if member.issym() or member.islnk():
            raise InvalidInput(
                f"Link {member.name!r} in the upload: links are refused because they can point "
                "outside the model's folder; register the file it points at instead."
            )
        if not (member.isfile() or member.isdir()):
            raise InvalidInput(f"{member.name!r} in the upload is not a regular file or folder.")
        return check_relative_path(member.name)


def _make_read_only(folder: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(folder, topdown=False):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(dirpath, 0o555)
