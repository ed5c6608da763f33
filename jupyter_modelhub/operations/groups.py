"""Process groups: a worker leads one (``start_new_session``), and what it starts is in it.

Signalling the group stops the worker and everything it started; what is left of a group once
its worker ended (a process an entry script forked, a build tool) is killed too, whatever the
outcome. A group's id is its leader's pid: it is only safe to signal while that pid cannot be
another process's, so ``kill_leftovers`` spares the pid itself.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the worker leads its own group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


def kill_leftovers(pgid: int) -> None:
    """SIGKILL the members of group ``pgid`` other than process ``pgid`` (its leader, or a new
    process that took the pid of a leader that ended)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and int(stat.parent.name) != pgid:
                os.kill(int(stat.parent.name), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            continue
