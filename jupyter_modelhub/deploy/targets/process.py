"""The process target: the scoring runtime as a local child process of the endpoint host, in the
server's Python or a deployment's own environment (``%deploy --env``), on a private port it
picks itself and announces in its ready line. A deploy to it answers at once unless its
environment must be locked or built first (then it is an operation)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys

from ...errors import InvalidInput
from .base import STOP_GRACE, Instance, Target

READY = "MODELHUB_READY"


class ProcessTarget(Target):
    name = "process"

    def check(self, endpoint: str, fields: dict, options: dict) -> dict:
        given = [key for key, value in options.items() if value]
        if given:
            raise InvalidInput(f"{', '.join(given)} only apply with target docker or kubernetes.")
        self.deployments.check_request(endpoint, **fields)
        return {"endpoint": endpoint, **fields}

    def needs_operation(self, inputs: dict) -> bool:
        return self.deployments.needs_build(**inputs)


def _die_with_parent() -> None:
    """Children get SIGTERM if the host dies, even by kill -9: no orphaned scoring process."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setpgrp()


class ProcessInstance(Instance):
    """One running generation of a deployment: a scoring process on a private port."""

    kind = "process"
    process: asyncio.subprocess.Process | None = None

    @property
    def ident(self) -> int | None:
        return self.process.pid if self.process else None

    async def start(self) -> None:
        spec = self.spec
        command = [
            spec.get("python") or sys.executable,
            "-m",
            "jupyter_modelhub.serving",
            "--model-dir",
            spec["model_dir"],
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--workers",
            str(spec.get("instances", 1)),
            "--name",
            spec["model"],
            "--version",
            str(spec["version"]),
            *spec.get("args", []),
        ]
        if spec.get("entry_script"):
            command += ["--entry-script", spec["entry_script"]]
        if spec.get("signature_file"):
            command += ["--signature-file", spec["signature_file"]]
        env = {**os.environ, **spec.get("env", {}), "MODELHUB_AUTH_KEY": self.key, "PYTHONUNBUFFERED": "1"}
        env["MODELHUB_GRPC_PORT"] = "0"  # gRPC too, on a port it picks (an older runtime ignores it)
        self.logfile.write(f"--- starting generation {self.generation}\n".encode())
        self.process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=spec.get("cwd") or spec["model_dir"],
            preexec_fn=_die_with_parent,
        )
        asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        """Copy the process's output to the log, watching for its ready line."""
        assert self.process and self.process.stdout
        async for line in self.process.stdout:
            self.logfile.write(line)
            if not self.ready.done() and line.startswith(READY.encode()):
                fields = dict(part.split("=", 1) for part in line.decode().split()[1:] if "=" in part)
                self.open_session(int(fields["port"]))  # the scoring process picked a free port itself
                self.grpc_port = int(fields.get("grpc_port", 0))
                self.ready.set_result(True)
        code = await self.process.wait()
        self.logfile.write(f"--- generation {self.generation} exited with code {code}\n".encode())
        if not self.ready.done():
            self.ready.set_result(False)

    async def wait(self) -> int:
        return await self.process.wait()

    async def terminate(self) -> None:
        if self.process and self.process.returncode is None:
            self._signal_group(signal.SIGTERM)  # the process and the workers it forked
            try:
                await asyncio.wait_for(self.process.wait(), STOP_GRACE)
            except asyncio.TimeoutError:
                self._signal_group(signal.SIGKILL)
                await self.process.wait()

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass
