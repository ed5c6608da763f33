"""Several servers, one registry (issue 12): PostgreSQL shared by Jupyter servers started at the
same moment, migrations that take turns, a server that cannot start saying why (503, not 404),
and a database outage under a running server that neither hangs it nor needs a restart.

Everything here is real: PostgreSQL servers started with initdb/pg_ctl, Jupyter servers as
subprocesses, HTTP from outside.
"""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from helpers.components import require
from helpers.postgres import PostgresServer, fresh_postgres_database, postgres_available
from helpers.servers import ServerProcess, UnreadyServer, free_port, wait_until
from helpers.uploads import tar_bytes
from jupyter_modelhub.client import ModelHubClient

pytestmark = pytest.mark.slow  # several servers and database restarts: make test, not make test-fast


def _migrate(url: str, barrier) -> str:
    from jupyter_modelhub.store.database import Database

    barrier.wait()
    try:
        Database(url).dispose()
        return "ok"
    except Exception as exc:  # returned, not raised: the parent reports every process
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_servers_migrating_one_new_database_at_once_take_turns(backend, tmp_path, request):
    context = multiprocessing.get_context("spawn")
    for round_ in range(3):
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path}/round{round_}.db"
        else:
            url = fresh_postgres_database(request.getfixturevalue("postgres_server"))
        with context.Manager() as manager, context.Pool(4) as pool:
            barrier = manager.Barrier(4)
            results = pool.starmap(_migrate, [(url, barrier)] * 4)
        assert results == ["ok"] * 4, results
        engine = create_engine(url)
        with engine.connect() as connection:
            heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        engine.dispose()
        assert len(heads) == 1, heads


def _start_together(folders: list[Path], args: list[str]) -> list[ServerProcess]:
    """Start servers at the same moment (each constructor waits until its server answers)."""
    barrier = threading.Barrier(len(folders))

    def start(folder: Path) -> ServerProcess:
        barrier.wait()
        return ServerProcess(folder, args=args)

    with ThreadPoolExecutor(len(folders)) as pool:
        return list(pool.map(start, folders))


def test_two_servers_started_at_once_on_one_new_postgresql_share_the_registry(postgres_server, tmp_path):
    db_url = fresh_postgres_database(postgres_server)
    shared = tmp_path / "shared-root"
    shared.mkdir()
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        folder.mkdir()
        (folder / "hub").symlink_to(shared)  # the root on shared storage, as a team sets it up
    servers = _start_together(folders, [f"--ModelHubApp.db_url={db_url}"])
    try:
        clients = [ModelHubClient(s.url, s.token) for s in servers]

        def register(i: int) -> int:
            client = clients[i % 2]
            upload = client._call("POST", "uploads", data=tar_bytes({"model.bin": f"model {i}".encode()}))
            return client._call("POST", "models/shared/versions", json={"upload_id": upload["upload_id"]})["version"]

        with ThreadPoolExecutor(12) as pool:
            numbers = sorted(pool.map(register, range(90)))
        assert numbers == list(range(1, 91)), "no version lost, none twice"
        for client in clients:
            listed = client.versions("shared", per_page=500)
            assert sorted(v["version"] for v in listed) == list(range(1, 91))
        for number in (1, 45, 90):
            contents = {
                clients[0].session.get(f"{clients[0].api}models/shared/versions/{number}/files/model.bin").content,
                clients[1].session.get(f"{clients[1].api}models/shared/versions/{number}/files/model.bin").content,
            }
            assert len(contents) == 1 and contents.pop().startswith(b"model ")
    finally:
        for server in servers:
            server.stop()


def test_a_server_whose_extension_cannot_start_answers_503_with_the_reason(tmp_path):
    nothing_there = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/modelhub"
    server = UnreadyServer(tmp_path / "server", args=[f"--ModelHubApp.db_url={nothing_there}"])
    try:
        for path in ("models", "models/churn/versions/1", "uploads"):
            method = "POST" if path == "uploads" else "GET"
            response = server.session.request(method, server.url + "modelhub/api/" + path, data=b"x" * 10)
            assert response.status_code == 503, (path, response.text)
            body = response.json()
            assert body["reason"] == "unavailable"
            assert "could not start" in body["message"] and "cannot be reached" in body["message"]
        assert requests.get(server.url + "modelhub/api/models").status_code == 401, "strangers are told nothing"
        with pytest.raises(Exception, match="could not start"):
            server.client().models()
        assert "could not start" in Path(server.log.name).read_text()
    finally:
        server.stop()


@pytest.mark.postgres  # its own server, started late
def test_a_server_started_before_its_database_comes_up_when_the_database_does(tmp_path):
    require(postgres_available(), "PostgreSQL binaries (initdb, pg_ctl) not found; apt-get install postgresql")
    database = PostgresServer(free_port())  # initialised, not started yet
    try:
        server = UnreadyServer(tmp_path / "server", args=[f"--ModelHubApp.db_url={database.url}"])
        try:
            response = server.session.get(server.url + "modelhub/api/models")
            assert response.status_code == 503 and "tries again" in response.json()["message"]
            database.start()
            wait_until(
                lambda: server.session.get(server.url + "modelhub/api/models").status_code == 200,
                60,
                "the extension to start once its database is there",
            )
            upload = server.client()._call("POST", "uploads", data=tar_bytes({"model.bin": b"late"}))
            version = server.client()._call("POST", "models/late/versions", json={"upload_id": upload["upload_id"]})
            assert version["ref"] == "late:1"
        finally:
            server.stop()
    finally:
        database.remove()


@pytest.fixture
def own_postgres():
    """A PostgreSQL server for one test, which it may stop and start."""
    require(postgres_available(), "PostgreSQL binaries (initdb, pg_ctl) not found; apt-get install postgresql")
    server = PostgresServer(free_port())
    server.start()
    yield server
    server.remove()


def test_a_database_outage_is_a_503_then_everything_resumes_and_shutdown_never_hangs(own_postgres, tmp_path):
    db_url = fresh_postgres_database(own_postgres.url)
    server = ServerProcess(tmp_path / "server", args=[f"--ModelHubApp.db_url={db_url}"])
    try:
        client = server.client()
        upload = client._call("POST", "uploads", data=tar_bytes({"model.bin": b"before"}))
        client._call("POST", "models/outage/versions", json={"upload_id": upload["upload_id"]})

        own_postgres.stop()
        for method, path in (("GET", "models"), ("GET", "models/outage/versions/1"), ("GET", "events?after=0")):
            response = server.session.request(method, server.url + "modelhub/api/" + path, timeout=30)
            assert response.status_code == 503, (path, response.status_code, response.text)
            assert "cannot be reached" in response.json()["message"] and response.json()["reason"] == "unavailable"
        upload = client._call("POST", "uploads", data=tar_bytes({"model.bin": b"during"}))  # files need no database
        response = server.session.post(
            server.url + "modelhub/api/models/outage/versions", json={"upload_id": upload["upload_id"]}, timeout=60
        )
        assert response.status_code == 503, response.text

        own_postgres.start()
        wait_until(
            lambda: server.session.get(server.url + "modelhub/api/models", timeout=30).status_code == 200,
            60,
            "the REST API to answer again once the database is back",
        )
        upload = client._call("POST", "uploads", data=tar_bytes({"model.bin": b"after"}))
        assert client._call("POST", "models/outage/versions", json={"upload_id": upload["upload_id"]})["version"] == 2

        own_postgres.stop()
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(60)
        except subprocess.TimeoutExpired:
            pytest.fail(
                "the server did not exit on SIGTERM while its database was gone: "
                + Path(server.log.name).read_text()[-3000:]
            )
    finally:
        if server.process.poll() is None:
            server.process.kill()
        server.log.close()
