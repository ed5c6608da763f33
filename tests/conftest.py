"""Fixtures shared by every test folder: real Jupyter servers (in-process with pytest-jupyter, and
as subprocesses), a real PostgreSQL server, registries on SQLite and PostgreSQL, the Docker engine.

What is not a fixture is in the ``helpers`` package (tests/helpers/). A component that is missing
on a developer's machine skips its tests with the reason; in CI the same absence fails them.
"""

from __future__ import annotations

import os

import pytest
from helpers.components import require
from helpers.docker import docker_engine
from helpers.postgres import PostgresServer, fresh_postgres_database, postgres_available
from helpers.servers import ServerProcess, free_port

pytest_plugins = ["pytest_jupyter.jupyter_server"]


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

@pytest.fixture(scope="module")
def hub_server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


# -- Docker engine ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def docker_client():
    """The Docker engine, with the local base image the packaging tests build on."""
    return docker_engine()
