"""Work that is built beside its final place and renamed into it: ``<hash>.partial-<pid>`` next
to ``<hash>``, under the lock file ``<hash>.lock`` (environments, wheelhouses).

A build that fails or is cancelled removes its partial folder itself; one that is killed cannot,
so ``remove_partials`` removes those whose lock nobody holds any more (at start, and after a
cancelled operation's process group is killed)."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path


def remove_partials(folder: Path) -> None:
    for partial in folder.glob("*.partial-*"):
        with open(folder / (partial.name.split(".partial-")[0] + ".lock"), "w") as held:
            try:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # still being built
            shutil.rmtree(partial, ignore_errors=True)
