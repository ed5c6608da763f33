"""Start test Jupyter servers by forking a warm process (``zygote``) instead of a new interpreter.

A ``python -m jupyter_server`` start costs about 4 CPU-seconds, 3.4 of them importing Jupyter
Server, its extensions and ours; a test run starts dozens of servers on two cores. Forked from a
process that imported all that once, a server is ready in a fraction of the time and is still a
real, separate server process (its own pid, environment, arguments, log and ports), which tests
signal and wait for through ``ForkedProcess``, the part of ``subprocess.Popen`` they use.

Not for a server whose environment changes how Python starts or imports (``PYTHONPATH`` and the
like): ``ServerProcess`` starts those as a new interpreter. ``MODELHUB_TEST_FORK=0`` turns
forking off altogether.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

# environment variables read when an interpreter starts or imports: a fork would not see them
STARTUP_VARIABLES = ("PYTHON", "LD_", "VIRTUAL_ENV")


def can_fork(extra_env: dict) -> bool:
    if os.environ.get("MODELHUB_TEST_FORK", "1") == "0":
        return False
    return not any(key.startswith(STARTUP_VARIABLES) for key in extra_env)


class ForkedProcess:
    """A server forked by the zygote, with ``Popen``'s ``pid``, ``returncode``, ``poll``,
    ``wait``, ``send_signal``, ``terminate`` and ``kill``."""

    def __init__(self, pid: int, args: list[str]):
        self.pid = pid
        self.args = args
        self.returncode: int | None = None
        self._exited = threading.Event()

    def _ended(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """The warm process of this test process (one per pytest worker), started on first use."""

    def __init__(self):
        self._process = subprocess.Popen(
            # -P: not this folder first on sys.path, where helpers named like libraries (docker.py)
            # would shadow them; each server puts its cwd there, as ``python -m`` does
            [sys.executable, "-P", str(Path(__file__).with_name("zygote.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._started: queue.Queue[int] = queue.Queue()
        self._children: dict[int, ForkedProcess] = {}
        self._exits: dict[int, int] = {}  # exits read before their ForkedProcess was made
        self._lock = threading.Lock()  # one fork request at a time
        self._state = threading.Lock()
        first = json.loads(self._process.stdout.readline() or "{}")
        if "ready" not in first:
            raise RuntimeError(f"the test servers' zygote did not start (exit {self._process.wait()})")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._process.stdout:
            message = json.loads(line)
            if "started" in message:
                self._started.put(message["started"])
            elif "exited" in message:
                with self._state:
                    child = self._children.pop(message["exited"], None)
                    if child is None:
                        self._exits[message["exited"]] = message["code"]
                if child is not None:
                    child._ended(message["code"])

    def fork(self, app: str, argv: list[str], env: dict, cwd: Path, log: Path) -> ForkedProcess:
        request = {"app": app, "argv": argv, "env": env, "cwd": str(cwd), "log": str(log)}
        with self._lock:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            pid = self._started.get(timeout=60)
        child = ForkedProcess(pid, argv)
        with self._state:
            if pid in self._exits:
                child._ended(self._exits.pop(pid))
            else:
                self._children[pid] = child
        return child

    def close(self) -> None:
        try:
            self._process.stdin.close()
            self._process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()


_zygote: Zygote | None = None
_zygote_lock = threading.Lock()


def zygote() -> Zygote:
    global _zygote
    with _zygote_lock:
        if _zygote is None:
            _zygote = Zygote()
            atexit.register(_zygote.close)
        return _zygote
