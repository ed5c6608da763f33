"""A Dask cluster that shares no disk with the server: ``dask scheduler`` and ``dask worker`` as
separate processes, each in a mount namespace of its own where the server's folder is an empty,
read-only tmpfs, started in a folder of their own and without the AWS environment (what they
need of the store reaches them through Dask).

Another user would do as well, but this machine's interpreter lives under /root (0700), which no
other user can run; a mount namespace hides the server's files from processes that still run
this interpreter and this checkout.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from helpers.servers import free_port, wait_until


def namespaces_available() -> tuple[bool, str]:
    if shutil.which("unshare") is None:
        return False, "unshare (util-linux) is not installed"
    probe = subprocess.run(
        ["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o ro,size=4k none /mnt"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return False, f"cannot make a mount namespace here (needs root): {probe.stderr.strip()}"
    return True, ""


class IsolatedDask:
    """A scheduler and ``workers`` worker processes that cannot read ``hidden`` (the server's folder)."""

    def __init__(self, hidden: list[Path], workers: int = 2):
        self.hidden = [Path(p) for p in hidden]
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.folder = Path(tempfile.mkdtemp(prefix="modelhub-dask-"))
        self.n_workers = workers
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
        return env

    def _start(self, name: str, module: str, *args: str) -> subprocess.Popen:
        mounts = " && ".join(f"mount -t tmpfs -o ro,size=4k none {shlex.quote(str(p))}" for p in self.hidden)
        command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", module, *args])
        cwd = self.folder / name
        cwd.mkdir()
        log = open(self.folder / f"{name}.log", "wb")
        process = subprocess.Popen(
            ["unshare", "--mount", "sh", "-c", f"{mounts} && cd {shlex.quote(str(cwd))} && exec {command}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self._env(),
            start_new_session=True,
        )
        log.close()
        return process

    def start(self) -> IsolatedDask:
        self.scheduler = self._start(
            "scheduler",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-dashboard",
        )
        for i in range(self.n_workers):
            self.workers.append(
                self._start(
                    f"worker-{i}",
                    "distributed.cli.dask_worker",
                    self.address,
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--no-nanny",
                    "--local-directory",
                    str(self.folder / f"worker-{i}"),
                )
            )
        from distributed import Client

        def joined() -> bool:
            if self.scheduler.poll() is not None:
                raise AssertionError(f"the scheduler exited: {self.log('scheduler')}")
            try:
                with Client(self.address, timeout="2s") as client:
                    return len(client.scheduler_info()["workers"]) == self.n_workers
            except OSError:
                return False

        wait_until(joined, 60, f"the Dask scheduler at {self.address} and {self.n_workers} workers")
        return self

    def log(self, name: str) -> str:
        try:
            return (self.folder / f"{name}.log").read_text()[-3000:]
        except OSError:
            return ""

    def kill_scheduler(self) -> None:
        os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(10)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process is not None and process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)
