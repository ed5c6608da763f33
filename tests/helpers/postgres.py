"""A throwaway PostgreSQL server that a test can stop and start again (initdb + pg_ctl).

The session-wide server of the ``postgres_server`` fixture (tests/conftest.py) is one of these; a
test that takes the database away under a running Jupyter server (an outage) starts its own, so
no other test sees it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path


def pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def postgres_available() -> bool:
    return bool(pg_bin("initdb") and pg_bin("pg_ctl")) and (os.geteuid() != 0 or shutil.which("runuser") is not None)


class PostgresServer:
    """initdb in a temporary folder, then ``start()`` / ``stop()`` on a fixed port (as user
    'postgres' when running as root, since PostgreSQL refuses to run as root)."""

    def __init__(self, port: int):
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="modelhub-pg-"))  # not under pytest's root-only tmp
        self.data = self.folder / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*self.as_user, pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run(
            [
                *self.as_user,
                pg_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "log"),
                "-w",
                "-o",
                f"-p {self.port} -k {self.folder} -h 127.0.0.1 -F",
                "start",
            ],
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [*self.as_user, pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"], capture_output=True
        )

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def fresh_postgres_database(server_url: str) -> str:
    """A new, empty database on the PostgreSQL server at ``server_url``: its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = "modelhub_" + secrets.token_hex(6)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database, autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)
