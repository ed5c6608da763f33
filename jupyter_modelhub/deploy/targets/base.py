"""What the endpoint host runs a deployment's generation as: an ``Instance``.

A target (a local process, a container) starts the scoring runtime somewhere that answers on a
loopback port, says when it is ready, and ends; the host routes, supervises and replaces
instances the same way whatever the target, so keys, traffic, mirroring, zero-failure updates,
logs and restarts work alike on all of them.
"""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp

from ...errors import InvalidInput

STOP_GRACE = 10.0
MEMORY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$")


def check_resources(cpu: float | None, memory: str | None, max_instances: int | None, instances: int) -> None:
    if cpu is not None and not (isinstance(cpu, (int, float)) and 0 < cpu <= 256):
        raise InvalidInput(f"Invalid --cpu {cpu!r}: expected a number of cores such as 0.5 or 2.")
    if memory is not None and not (isinstance(memory, str) and MEMORY.match(memory)):
        raise InvalidInput(f"Invalid --memory {memory!r}: expected a size such as 512M, 512Mi or 2G.")
    if max_instances is not None and not (isinstance(max_instances, int) and instances <= max_instances <= 1000):
        raise InvalidInput(f"Invalid --max-instances {max_instances!r}: expected {instances} to 1000 "
                           "(at least the number of instances).")


class Instance:
    """One generation of a deployment; subclasses say how it starts, ends and is stopped."""

    kind = "instance"

    def __init__(self, name: str, spec: dict, key: str, logfile):
        self.name, self.spec, self.key, self.logfile = name, spec, key, logfile
        self.generation = spec["generation"]
        self.port = 0
        self.ready = asyncio.get_running_loop().create_future()
        self.session: aiohttp.ClientSession | None = None
        self.stopping = False
        self.in_flight = 0

    @property
    def ident(self) -> int | str | None:
        """What the status shows to find it by: a pid, a container id."""
        raise NotImplementedError

    async def start(self) -> None:
        raise NotImplementedError

    async def wait(self) -> int:
        """Until it ends on its own (or is stopped); its exit code."""
        raise NotImplementedError

    async def terminate(self) -> None:
        """End it now that no request is in flight."""
        raise NotImplementedError

    def open_session(self, port: int) -> None:
        self.port = port
        self.session = aiohttp.ClientSession(
            f"http://127.0.0.1:{port}",
            connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30),
            headers={"Authorization": f"Bearer {self.key}"}, auto_decompress=False,
            # Only the client's own Accept-Encoding goes upstream: a compressed answer
            # is passed on as it is, so it must be one the client asked for.
            skip_auto_headers=("Accept-Encoding",),
        )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.logfile.path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self) -> None:
        """Stop after in-flight requests finish (bounded), then end it."""
        self.stopping = True
        deadline = time.monotonic() + STOP_GRACE
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self.session is not None:
            await self.session.close()
        await self.terminate()
