"""Collected files in the artifact store's bucket, when it is one (``c.ModelHubApp.artifact_uri =
"s3://BUCKET/PREFIX"``): the host commits files to its endpoint's folder as always, and the
server that runs the host moves each committed file to ``PREFIX/.endpoints/<endpoint>/collected/``
(every half minute, and before anything reads them). So the disk of the machine that serves holds
only the last minute or so, and any server of the team (one database, one bucket, no shared disk)
reads every endpoint's requests.

Moving is copy, check, delete: a file is deleted from the folder only once the bucket holds all
its bytes under the same name, so a store that is away leaves files where they are (the host's
retention still bounds them) and the next round moves them. Retention applies in the bucket too,
with the endpoint's own ``collect_retention`` and ``collect_max_bytes``, and deletes only objects
named as the collector names its files, under that endpoint's prefix. The prefix starts with a
dot, which no model name does, so it never looks like a version's folder to the registry's sweep.

What was moved is counted in ``collect-bucket.json`` beside the host's ``collect-status.json``
(``deploy.collecting.describe`` shows both).

Not here: writing files (``collector``), reading them (``collected``, which lists both places).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from .collector import FILE_NAME, FOLDER, file_times

PREFIX = ".endpoints"  # PREFIX/.endpoints/<endpoint>/collected/<file>
STATUS_FILE = "collect-bucket.json"


class CollectedBucket:
    """One artifact store's bucket, as the place collected files end up."""

    def __init__(self, store):
        self.store = store  # an S3ArtifactStore: its file system, base key and error wording
        self.fs = store.fs
        self._moving = threading.Lock()  # one move at a time: a periodic round and a reader's

    def key(self, endpoint: str, name: str = "") -> str:
        return f"{self.store.base}/{PREFIX}/{endpoint}/{FOLDER}" + (f"/{name}" if name else "")

    def location(self, endpoint: str) -> str:
        return f"s3://{self.key(endpoint)}/"

    def files(self, endpoint: str) -> list[tuple[str, str, int]]:
        """The endpoint's collected files in the bucket: (name, key, size), oldest first."""
        try:
            found = self.store.call("list collected files", self.fs.ls, self.key(endpoint), detail=True)
        except FileNotFoundError:
            return []
        out = []
        for info in found:
            name = info["name"].rsplit("/", 1)[-1]
            if info.get("type") == "file" and FILE_NAME.match(name):
                out.append((name, info["name"], int(info.get("size") or 0)))
        return sorted(out, key=lambda item: file_times(item[0]))

    def open(self, key: str):
        return self.store.call("read a collected file", self.fs.open, key, "rb")

    def move(self, endpoint: str, folder: Path, retention_s: float, max_bytes: int) -> dict:
        """Move the endpoint's committed files from its ``folder`` to the bucket, then apply the
        retention there; what was done is written to ``collect-bucket.json`` and returned."""
        with self._moving:
            status = status_of(folder)
            local = folder / FOLDER
            moved = 0
            try:
                for entry in sorted(os.scandir(local), key=lambda e: e.name) if local.is_dir() else []:
                    if FILE_NAME.match(entry.name) and entry.is_file(follow_symlinks=False):
                        moved += self._move_one(Path(entry.path), self.key(endpoint, entry.name))
                kept = self._retain(endpoint, retention_s, max_bytes)
                status.update(files=len(kept), bytes=sum(size for _, _, size in kept), last_error="")
            except Exception as exc:  # the store away: the files wait in the folder for the next round
                status["last_error"] = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            status["moved"] = status.get("moved", 0) + moved
            status["updated"] = time.time()
            _write_status(folder, status)
            return status

    def _move_one(self, path: Path, key: str) -> int:
        try:
            size = path.stat().st_size
            self.store.call("store a collected file", self.fs.put_file, str(path), key)
        except FileNotFoundError:  # removed by the host's retention since it was listed
            return 0
        stored = self.store.call("check a collected file", self.fs.info, key)
        if int(stored.get("size") or -1) != size:
            raise OSError(f"the bucket holds {stored.get('size')} bytes of {path.name}, not {size}")
        path.unlink(missing_ok=True)
        return 1

    def _retain(self, endpoint: str, retention_s: float, max_bytes: int) -> list[tuple[str, str, int]]:
        """Delete the endpoint's files older than the retention, then the oldest beyond max_bytes."""
        files = self.files(endpoint)
        total = sum(size for _, _, size in files)
        cutoff = time.time() - retention_s
        kept = []
        for name, key, size in files:
            if file_times(name)[1] < cutoff or total > max_bytes:
                try:
                    self.store.call("delete an old collected file", self.fs.rm_file, key)
                except FileNotFoundError:
                    pass
                total -= size
            else:
                kept.append((name, key, size))
        return kept

    def remove(self, endpoint: str) -> None:
        """Delete the endpoint's collected files (the endpoint is deleted): only the collector's."""
        for _name, key, _size in self.files(endpoint):
            try:
                self.store.call("delete a collected file", self.fs.rm_file, key)
            except FileNotFoundError:
                pass


def status_of(folder: Path) -> dict:
    """What ``move`` last wrote for the endpoint's ``folder`` (empty: nothing moved from here)."""
    try:
        return json.loads((folder / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write_status(folder: Path, status: dict) -> None:
    if not folder.is_dir():  # the endpoint was deleted meanwhile
        return
    temporary = folder / f".{STATUS_FILE}.tmp"
    temporary.write_text(json.dumps(status))
    os.replace(temporary, folder / STATUS_FILE)
