"""The scoring runtime as a real subprocess, for the serving tests (tests/serving/).

:class:`ServingProcess` starts ``python -m jupyter_modelhub.serving`` on a port the runtime picks
(``--port 0``), reads its stdout and stderr in background threads, and waits for the
``MODELHUB_READY port=P`` line with a deadline (or for the process to die, whichever is first).
Tests wait on lines and exits, never on time.

:func:`fitted` makes the small scikit-learn models the multi-model tests serve by the dozen.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import requests

READY = re.compile(r"^MODELHUB_READY port=(\d+)")


class ServingProcess:
    def __init__(self, model_dir, *args: str, env: dict | None = None, port: int = 0, ready_timeout: float = 30):
        environment = {key: value for key, value in os.environ.items() if key != "MODELHUB_AUTH_KEY"}
        environment.update(env or {})
        self.command = [
            sys.executable,
            "-m",
            "jupyter_modelhub.serving",
            "--model-dir",
            str(model_dir),
            "--port",
            str(port),
            *args,
        ]
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        if ready_timeout:
            self.wait_ready(ready_timeout)

    def _read(self, stream, lines: list[str]) -> None:
        for raw in stream:
            with self._changed:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float, what: str):
        """Wait until ``predicate()`` is truthy, re-checking whenever output arrives or the process ends."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{self.output()}")
                self._changed.wait(min(remaining, 0.5))  # 0.5: also notice an exit without output

    def wait_ready(self, timeout: float) -> None:
        def ready():
            for line in self.stdout:
                match = READY.match(line)
                if match:
                    return int(match.group(1))
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the runtime exited with {self.process.returncode} before it was ready\n{self.output()}"
                )
            return None

        self.port = self.wait_for(ready, timeout, "the ready line")
        self.url = f"http://127.0.0.1:{self.port}"

    @property
    def grpc_port(self) -> int:
        """The gRPC port its ready line names (``--grpc-port``); 0 when it serves HTTP only."""
        line = next(line for line in self.stdout if READY.match(line))
        found = re.search(r"grpc_port=(\d+)", line)
        return int(found.group(1)) if found else 0

    def wait_for_line(self, stream: str, pattern: str, timeout: float = 10) -> str:
        lines = self.stdout if stream == "stdout" else self.stderr
        compiled = re.compile(pattern)
        return self.wait_for(
            lambda: next((line for line in lines if compiled.search(line)), None), timeout, f"{pattern!r} on {stream}"
        )

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.session.post(self.url + path, timeout=10, **kwargs)

    def output(self) -> str:
        return "--- stdout\n" + "\n".join(self.stdout[-40:]) + "\n--- stderr\n" + "\n".join(self.stderr[-40:])

    def terminate(self, timeout: float = 15) -> int:
        """SIGTERM, then wait; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def stop(self) -> None:
        """Terminate, wait, kill if it will not go: nothing is left running."""
        self.session.close()
        try:
            self.terminate(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        for reader in self._readers:
            reader.join(5)


def fitted(seed: int, features: int, rows: int = 60, tree: bool = False):
    """A small classifier of ``features`` inputs that answers differently for each ``seed``: a
    logistic regression, or with ``tree`` a decision tree with a leaf per point (random labels),
    so a file of a size we choose (about 50 bytes a row)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features))
    if tree:
        return DecisionTreeClassifier(random_state=0).fit(X, rng.integers(0, 2, rows))
    return LogisticRegression().fit(X, (X[:, seed % features] > 0).astype(int))
