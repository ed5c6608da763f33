"""Shared fixtures: real Jupyter servers (in-process and as subprocesses), a real PostgreSQL
server, and registries on SQLite and PostgreSQL.

A component that is missing on a developer's machine skips its tests with the reason; in CI
(``CI`` set, where .ci/run provides everything) the same absence fails them.
"""

from __future__ import annotations

import io
import os
import secrets
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import requests
from postgres_helpers import PostgresServer, postgres_available

pytest_plugins = ["pytest_jupyter.jupyter_server"]

IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip when a real component is missing; fail instead in CI."""
    if not condition:
        if IN_CI:
            pytest.fail(f"missing in CI: {reason}")
        pytest.skip(reason)


def free_port() -> int:
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


def tar_bytes(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """An in-memory tar of ``files`` (and symlinks), as a client would upload it."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


# -- PostgreSQL --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on 127.0.0.1 for this test session (as user 'postgres' if root)."""
    url = os.environ.get("MODELHUB_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    require(postgres_available(), "PostgreSQL binaries (initdb, pg_ctl) not found; apt-get install postgresql")
    server = PostgresServer(free_port())
    server.start()
    try:
        yield server.url
    finally:
        server.remove()


def fresh_postgres_database(server_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = "modelhub_" + secrets.token_hex(6)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                         dbname=url.database, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The registry's database: each test runs on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/registry.db"
    return fresh_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def registry(db_url, tmp_path):
    from jupyter_modelhub.registry import ModelRegistry
    from jupyter_modelhub.store.artifacts import ArtifactStore
    from jupyter_modelhub.store.database import Database

    database = Database(db_url)
    yield ModelRegistry(database, ArtifactStore(tmp_path / "hub"))
    database.dispose()


# -- in-process Jupyter server (pytest-jupyter) -----------------------------------------------

@pytest.fixture
def hub_root(tmp_path):
    return tmp_path / "hub"


@pytest.fixture
def jp_server_config(hub_root):
    return {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_modelhub": True},
            "allow_unauthenticated_access": False,
        },
        "ModelHubApp": {"root_dir": str(hub_root)},
    }


# -- Jupyter server as a real subprocess ------------------------------------------------------

class ServerProcess:
    """A ``jupyter server`` (or ``jupyter lab``) subprocess with the extension, on a free port."""

    def __init__(self, folder: Path, app: str = "server", extra_env: dict | None = None, args=(), password: str = "",
                 port: int | None = None):
        self.folder = folder
        self.port = port or free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.root = folder / "hub"
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
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"jupyter_{app}" if app == "server" else "jupyterlab",
             "--no-browser", f"--port={self.port}", "--port-retries=0", "--ip=127.0.0.1",
             *self._auth_args(password), f"--ServerApp.root_dir={folder / 'notebooks'}",
             f"--ModelHubApp.root_dir={self.root}", "--ServerApp.allow_root=True", *args],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
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
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("server"))
    yield server
    server.stop()
