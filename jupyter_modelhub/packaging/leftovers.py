"""What image builds leave in the Docker engine, and removing it.

A multi-stage build leaves its first stage's image untagged (the environment's dependencies
stage: hundreds of MB), and a build that is cancelled or fails leaves the images of the steps
it finished. Every stage our Dockerfiles write starts with a label, ``org.modelhub.build=KEY``
(``context.BUILD_LABEL``), so each image a step makes carries it. The key is the same for
every build of the same thing on this server (one environment, or one model's name), so the
label never costs a layer from the engine's cache, and it starts with a hash of the server's
root so that two servers sharing one engine never touch each other's images.

While a build runs it holds a shared lock on ``<root>/build-locks/KEY.lock``; an untagged image
whose key nobody holds a lock on is a leftover. Leftovers are removed before and after every
build (so what a cancelled build's engine made after the cancel goes with the next build), never
with force: an image a container uses stays. Only untagged images with our label and our root's
key are ever removed, and never one an image record refers to.

Not here: the Dockerfiles (``context``), running builds (``builder``).
"""

from __future__ import annotations

import fcntl
import hashlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .context import BUILD_LABEL


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class BuildLeftovers:
    """The build keys of one server's root, their locks, and the removal of their leftovers."""

    def __init__(self, root: Path):
        self.locks = Path(root) / "build-locks"
        self.scope = _digest(str(Path(root).resolve()), 12)
        self._ours = re.compile(rf"^{self.scope}-[0-9a-f]{{16}}$")

    def key(self, what: str) -> str:
        """The build key of ``what`` ("environment HASH", "model NAME") on this server."""
        return f"{self.scope}-{_digest(what, 16)}"

    @contextmanager
    def building(self, keys: Iterable[str]) -> Iterator[None]:
        """Mark builds with these keys as running (shared locks: builds of one key may overlap)."""
        self.locks.mkdir(parents=True, exist_ok=True)
        held = []
        try:
            for key in keys:
                lock = open(self.locks / f"{key}.lock", "a")
                held.append(lock)
                fcntl.flock(lock, fcntl.LOCK_SH)
            yield
        finally:
            for lock in held:  # closing releases the lock, as a killed worker's exit does
                lock.close()

    def remove(self, client, keep: Iterable[str] = ()) -> list[str]:
        """Remove this server's untagged build images that no running build holds; returns their ids.

        ``keep``: image ids that records refer to (a model image whose tag a newer build took)."""
        kept = set(keep)
        try:
            images = client.api.images(filters={"dangling": True, "label": BUILD_LABEL})
        except Exception:  # no engine to clean: the next build tries again
            return []
        by_key: dict[str, list[str]] = {}
        for image in images:
            key = (image.get("Labels") or {}).get(BUILD_LABEL, "")
            if self._ours.match(key) and image["Id"] not in kept:
                by_key.setdefault(key, []).append(image["Id"])
        removed = []
        for key, ids in by_key.items():
            with self._idle(key) as idle:
                if not idle:
                    continue  # a build of this key runs: it cleans up when it ends
                for image_id in ids:
                    try:
                        client.api.remove_image(image_id)  # no force; its untagged parents go with it
                    except Exception:  # a container uses it, or another clean-up was first
                        continue
                    removed.append(image_id)
        return removed

    @contextmanager
    def _idle(self, key: str) -> Iterator[bool]:
        """Whether no build of ``key`` runs; while the answer is used, none can start (a build
        waits for the exclusive lock held here, so it never starts from an image being removed)."""
        self.locks.mkdir(parents=True, exist_ok=True)
        with open(self.locks / f"{key}.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
