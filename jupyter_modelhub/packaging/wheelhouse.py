"""Wheelhouses: the wheels of an environment's lock, downloaded on the host once per lock.

Image builds install only from here (``pip install --no-index``), so a build needs no network
inside the container: it works with the build's network off, behind a corporate proxy and
behind TLS interception (which the host trusts and a container does not). Downloaded into a
temporary folder and renamed into place when complete, under a lock, so concurrent builds of
the same environment download once and a cancelled download leaves nothing that looks usable.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import InvalidInput
from ..progress import Progress
from .environments import index_environment
from .partials import remove_partials

PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


class Wheelhouse:
    """``<root>/wheelhouses/<environment hash>/``: one folder of wheels per environment lock."""

    def __init__(self, root: Path):
        self.folder = Path(root) / "wheelhouses"
        self.folder.mkdir(parents=True, exist_ok=True)

    def ensure(self, digest: str, lock: str, python: str, progress: Progress | None = None) -> tuple[Path, bool]:
        """The wheelhouse of ``lock``, downloading it first if needed; (folder, reused)."""
        progress = progress or Progress()
        target = self.folder / digest
        if (target / ".complete").exists():
            return target, True
        with open(self.folder / f"{digest}.lock", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            if (target / ".complete").exists():
                return target, True
            partial = self.folder / f"{digest}.partial-{os.getpid()}"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            try:
                (partial / "requirements.lock").write_text(lock)
                self._download(partial, python, progress)
                (partial / ".complete").write_text("")
                shutil.rmtree(target, ignore_errors=True)
                os.rename(partial, target)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
        return target, False

    def remove_partials(self, *_ignored) -> None:
        """Remove downloads whose build was killed midway (their lock is free again)."""
        remove_partials(self.folder)

    @staticmethod
    def _download(folder: Path, python: str, progress: Progress) -> None:
        count = sum(1 for line in (folder / "requirements.lock").read_text().splitlines() if line.strip())
        progress.step(f"downloading {count} wheels for Python {python} on the host")
        platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            python,
            "--implementation",
            "cp",
            *platforms,
            "--dest",
            str(folder),
            "--requirement",
            str(folder / "requirements.lock"),
        ]
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800, env=index_environment()
        )
        if progress.log is not None:
            progress.log.write((result.stdout + result.stderr).encode())
            progress.log.flush()
        if result.returncode != 0:
            missing = re.search(r"No matching distribution found for (\S+)", result.stderr)
            if missing:
                raise InvalidInput(
                    f"{missing.group(1)} has no wheel for Python {python} on Linux x86_64, so it "
                    "cannot be installed in the image without building it: pin a version that has one, "
                    "or leave it out."
                )
            tail = "\n".join(result.stderr.strip().splitlines()[-6:])
            raise InvalidInput(f"Downloading the environment's wheels failed:\n{tail}")
