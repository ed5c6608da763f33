"""What every benchmark that starts servers needs: a free loopback port, and a command pinned to
one core (the load generator on one, the servers on the other, so load elsewhere on the machine
falls on every server alike)."""

from __future__ import annotations

import os
import shutil
import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(command: list[str], cpu: int) -> list[str]:
    if shutil.which("taskset") and len(os.sched_getaffinity(0)) >= 2:
        return ["taskset", "-c", str(cpu), *command]
    return command
