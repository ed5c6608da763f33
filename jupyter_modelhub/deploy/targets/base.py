"""The two halves of a deployment target: ``Target`` on the server, ``Instance`` in the endpoint host.

``Target`` is what the deploy service (``deploy.service``) does with a deploy request to the
target: check it (a 4xx in the request, never a failed operation), say whether it needs an
operation (an environment or an image to build first), prepare what must exist before the
deployment starts (in the operation's worker), and deploy.

``Instance`` is what the endpoint host runs a deployment's generation as.

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
        raise InvalidInput(
            f"Invalid --max-instances {max_instances!r}: expected {instances} to 1000 "
            "(at least the number of instances)."
        )


class Target:
    """A target's server-side half. ``inputs`` are a deploy's fields as ``check`` returned them,
    with ``model`` resolved to one version (``NAME:VERSION``) and ``requested`` what the user gave:
    they are also the operation's inputs when the deploy is one."""

    name = ""

    def __init__(self, deployments, packager=None):
        self.deployments, self.packager = deployments, packager

    def check(self, endpoint: str, fields: dict, options: dict) -> dict:
        """Check what can be checked without the database (names, options); the deploy's inputs."""
        raise NotImplementedError

    def needs_operation(self, inputs: dict) -> bool:
        """Check the rest (the contract, the environment) and say whether something long must
        happen first, making the deploy an operation (202) rather than an answer (201/200)."""
        raise NotImplementedError

    def prepare(self, inputs: dict, progress) -> dict:
        """What must exist before the deployment starts (an image); the inputs to deploy with."""
        return inputs

    def deploy(self, inputs: dict, user: str, progress) -> tuple[dict, bool]:
        """Deploy: the endpoint, and whether it was created (else updated)."""
        options = dict(inputs)
        return self.deployments.create_or_update(options.pop("endpoint"), user=user, progress=progress, **options)

    def link(self, result: dict) -> dict:
        """What an operation's result is, for clients to link to."""
        return {"type": "endpoint", "name": result["name"]}


class Instance:
    """One generation of a deployment; subclasses say how it starts, ends and is stopped."""

    kind = "instance"

    def __init__(self, name: str, spec: dict, key: str, logfile):
        self.name, self.spec, self.key, self.logfile = name, spec, key, logfile
        self.generation = spec["generation"]
        self.port = 0
        self.grpc_port = 0  # its runtime's gRPC port; 0: it serves HTTP only
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
            headers={"Authorization": f"Bearer {self.key}"},
            auto_decompress=False,
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
