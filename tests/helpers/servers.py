"""A ``jupyter server`` (or ``jupyter lab``) with the extension as a real subprocess, isolated from
the user's Jupyter config and data, on a free port; and polling with a deadline (never sleep as
synchronisation)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from .forked import can_fork, zygote


def free_port() -> int:
    """A port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str):
    """Poll ``check`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop_process(process, grace: float = 10) -> None:
    """Ask a helper process to end (SIGTERM), and kill it if it has not after ``grace`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ServerProcess:
    """A ``jupyter server`` (or ``jupyter lab``) subprocess with the extension, on a free port."""

    def __init__(
        self,
        folder: Path,
        app: str = "server",
        extra_env: dict | None = None,
        args=(),
        password: str = "",
        port: int | None = None,
        root: Path | None = None,
    ):
        self.folder = folder
        self.port = port or free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.root = root or folder / "hub"  # the registry's folder (ModelHubApp.root_dir)
        self.env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(folder / "config"),
            "JUPYTER_DATA_DIR": str(folder / "data"),
            "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
            "IPYTHONDIR": str(folder / "ipython"),
            **(extra_env or {}),
        }
        for key in ("MODELHUB_URL", "MODELHUB_TOKEN"):
            self.env.pop(key, None)
        (folder / "notebooks").mkdir(parents=True, exist_ok=True)
        self.log = open(folder / f"{app}.log", "wb")
        arguments = [
            "--no-browser",
            f"--port={self.port}",
            "--port-retries=0",
            "--ip=127.0.0.1",
            *self._auth_args(password),
            f"--ServerApp.root_dir={folder / 'notebooks'}",
            f"--ModelHubApp.root_dir={self.root}",
            "--ServerApp.allow_root=True",
            *args,
        ]
        if can_fork(extra_env or {}):
            self.process = zygote().fork(app, [f"jupyter-{app}", *arguments], self.env, Path.cwd(), Path(self.log.name))
        else:
            module = "jupyter_server" if app == "server" else "jupyterlab"
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, *arguments], env=self.env, stdout=self.log, stderr=subprocess.STDOUT
            )
        self.session = requests.Session()
        if password:
            wait_until(self._login_page, 90, f"jupyter {app} on port {self.port} (log: {self.log.name})")
            self._log_in(password)
        else:
            self.session.headers["Authorization"] = f"token {self.token}"
        wait_until(self._ready, 90, f"jupyter {app} on port {self.port} (log: {self.log.name})")

    def _auth_args(self, password: str) -> list[str]:
        if not password:
            return [f"--IdentityProvider.token={self.token}"]
        from jupyter_server.auth import passwd

        return ["--IdentityProvider.token=", f"--PasswordIdentityProvider.hashed_password={passwd(password)}"]

    def _login_page(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited: {Path(self.log.name).read_text()[-3000:]}")
        try:
            return self.session.get(self.url + "login", timeout=2).ok
        except requests.RequestException:
            return False

    def _log_in(self, password: str) -> None:
        """Log in as a browser does: the login form, then the XSRF cookie echoed in a header."""
        xsrf = self.session.cookies.get("_xsrf")
        response = self.session.post(self.url + "login", data={"password": password, "_xsrf": xsrf})
        response.raise_for_status()
        self.session.headers["X-XSRFToken"] = self.session.cookies.get("_xsrf")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited: {Path(self.log.name).read_text()[-3000:]}")
        try:
            return self.session.get(self.url + "modelhub/api/info", timeout=2).ok
        except requests.RequestException:
            return False

    def client(self):
        from jupyter_modelhub.client import ModelHubClient

        return ModelHubClient(self.url, self.token)

    def stop(self) -> None:
        stop_process(self.process, grace=20)
        self.log.close()


class UnreadyServer(ServerProcess):
    """A server whose Model Hub is expected to answer 503: ready once it does."""

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited: {Path(self.log.name).read_text()[-3000:]}")
        try:
            return self.session.get(self.url + "modelhub/api/info", timeout=2).status_code == 503
        except requests.RequestException:
            return False
