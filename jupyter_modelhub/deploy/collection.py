"""Endpoints' collected requests as the server reads them: committed by the host on request,
moved to the artifact store's bucket when it is one, and read back from wherever they are.

Every reader (``GET endpoints/{name}/collected``, monitors, labels, replay) goes through
:meth:`CollectedRequests.read`, so each sees the requests answered a moment ago: it asks the
endpoint's host to commit its file under way (SIGUSR1, answered through the host's status file),
moves committed files to the bucket, and then reads the window from the bucket and the folder.

Not here: the settings (``collecting``), the host's writer (``monitoring.collector``), reading
files (``monitoring.collected``), the bucket's side (``monitoring.bucket``).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from sqlalchemy import select

from ..monitoring.collector import FOLDER, STATUS_FILE
from ..store.orm import Endpoint
from . import collecting
from .host import alive

COMMIT_WAIT = 5.0  # seconds a reader of collected requests waits for the host to commit them


class CollectedRequests:
    """The collected requests of one server's endpoints (``DeploymentManager.collection``)."""

    def __init__(self, deployments):
        self.deployments = deployments
        self.bucket = None  # a monitoring.bucket.CollectedBucket when the artifact store is a bucket

    def folder(self, name: str) -> Path:
        return self.deployments.folder / name

    def location(self, name: str) -> str | None:
        """Where committed files end up, when not in the endpoint's folder (the bucket)."""
        return self.bucket.location(name) if self.bucket is not None else None

    def commit(self, name: str, timeout: float = COMMIT_WAIT) -> None:
        """Ask the endpoint's host to commit what it has collected so far (SIGUSR1), and wait until
        it says it has (its status file), at most ``timeout``: files are readable once committed,
        and a reader wants the requests just answered. An endpoint whose host runs elsewhere, or
        that never collected, has nothing to commit here."""
        folder = self.folder(name)
        status = folder / STATUS_FILE
        with self.deployments.db.read() as session:
            pid = self.deployments._endpoint(session, name).host_pid
        if not alive(pid, folder) or not status.exists():
            return
        before = _commits(status)
        os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _commits(status) <= before:
            time.sleep(0.05)  # the host's writer commits within a second

    def move(self, name: str | None = None) -> None:
        """Move committed files of the endpoint (None: of every endpoint whose files are on this
        server's disk) to the bucket, with each endpoint's retention; nothing without a bucket."""
        if self.bucket is None:
            return
        with self.deployments.db.read() as session:
            query = select(Endpoint.name, Endpoint.collect)
            rows = session.execute(query if name is None else query.where(Endpoint.name == name)).all()
        for endpoint, settings in rows:
            folder = self.folder(endpoint)
            if not (folder / FOLDER).is_dir():
                continue  # collecting elsewhere, or never
            settings = {**collecting.DEFAULTS, **(settings or {})}
            self.bucket.move(endpoint, folder, collecting.duration(settings["retention"]), int(settings["max_bytes"]))

    def read(self, name: str, since="1h", until=None, *, limit: int | None = None, columns: list[str] | None = None):
        """The endpoint's requests from ``since`` to ``until`` as a DataFrame, the ones just answered
        included (``monitoring.collected.read_collected``)."""
        from ..monitoring.collected import read_collected

        with self.deployments.db.read() as session:
            self.deployments._endpoint(session, name)  # a 404 for an unknown endpoint
        self.commit(name)
        self.move(name)
        return read_collected(self.folder(name), since, until, limit=limit, columns=columns, bucket=self.bucket)

    def records(self, name: str, since="1h", until=None, limit: int = 1000) -> dict:
        """The endpoint's collected requests from ``since`` to ``until``, the newest ``limit``, as JSON records."""
        from ..monitoring.collected import records

        data, more = records(self.read(name, since, until, limit=limit + 1), limit)
        return {"endpoint": name, "records": data, "more": more}

    def remove(self, name: str) -> None:
        """The endpoint is deleted: its files in the bucket go too (its folder goes with it)."""
        if self.bucket is not None:
            self.bucket.remove(name)


def _commits(status: Path) -> int:
    """The commits a collecting host has done on request (its status file's ``commits``)."""
    try:
        return int(json.loads(status.read_text()).get("commits", 0))
    except (OSError, ValueError, TypeError):
        return 0
