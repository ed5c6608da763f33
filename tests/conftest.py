"""Fixtures shared by every test folder: real Jupyter servers (in-process with pytest-jupyter, and
as subprocesses), a real PostgreSQL server, registries on SQLite and PostgreSQL, the Docker engine.

What is not a fixture is in the ``helpers`` package (tests/helpers/). A component that is missing
on a developer's machine skips its tests with the reason; in CI the same absence fails them.
"""

from __future__ import annotations

import json
import os
import signal
from collections import defaultdict
from pathlib import Path

import pytest

from helpers.components import require
from helpers.docker import docker_engine
from helpers.kernels import TRAIN
from helpers.postgres import PostgresServer, fresh_postgres_database, postgres_available
from helpers.s3 import TEST_KEYS, MotoServer, configured_endpoint, s3_available
from helpers.servers import ServerProcess, free_port
from helpers.shell import Shell

pytest_plugins = ["pytest_jupyter.jupyter_server"]


def pytest_configure(config):
    """A run started in the background (``cmd &`` in a script, nohup) inherits SIGINT ignored,
    and so would every process the tests start, in which Python then never raises
    KeyboardInterrupt: the tests that press Ctrl-C need it delivered as a terminal does."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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
    """A server for the tests of one module. Its conversions time speed for 0.2 s on 1,000 rows
    (not 1.5 s on 10,000): tests check the report, bench/ measures speed."""
    server = ServerProcess(
        tmp_path_factory.mktemp("server"),
        args=["--ModelConverter.timing_budget=0.2", "--ModelConverter.batch_rows=1000"],
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shell(hub_server):
    """An in-process IPython shell on the module's server, with the extension loaded and the
    training cell run, as a notebook starts."""
    s = Shell(hub_server)
    started = s.run("%load_ext jupyter_modelhub\n" + TRAIN)
    assert not started["error"], started
    yield s
    s.close()


@pytest.fixture
def api(jp_fetch):
    """Call the REST API of the in-process server; returns (status, JSON body) without raising on 4xx."""

    async def call(method: str, path: str, body=None, raw: bytes | None = None, headers=None, **params):
        kwargs = {"method": method, "raise_error": False, "headers": headers or {}}
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        elif method in ("POST", "PUT", "PATCH"):
            kwargs["body"] = b""
        response = await jp_fetch("modelhub", "api", *path.split("/"), params=params, **kwargs)
        text = response.body.decode() if response.body else ""
        return response.code, (json.loads(text) if text else None)

    return call


# -- S3 ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3 API over HTTP for this session: moto's server on 127.0.0.1, or the store
    ``MODELHUB_TEST_S3_URL`` names; (url, keys)."""
    available, reason = s3_available()
    require(available, reason)
    configured = configured_endpoint()
    if configured is not None:
        yield configured
        return
    server = MotoServer()
    server.start()
    try:
        yield server.url, dict(TEST_KEYS)
    finally:
        server.stop()


# -- Docker engine ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def docker_client():
    """The Docker engine, with the local base image the packaging tests build on."""
    return docker_engine()


# -- OCI image registry -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def oci_registry(tmp_path_factory):
    """Debian's docker-registry on 127.0.0.1 (no TLS, no auth), serving a temporary folder."""
    from helpers.oci_registry import OciRegistry

    registry = OciRegistry(tmp_path_factory.mktemp("oci-registry")).start()
    yield registry
    registry.stop()


# -- markers for the real components (pyproject.toml registers them) ---------------------------

# A test that uses one of these fixtures, itself or through another fixture, needs the component.
COMPONENT_OF_FIXTURE = {
    "docker_client": "docker",
    "oci_registry": "registry",
    "postgres_server": "postgres",
    "s3_endpoint": "s3",
    "own_moto": "s3",
    "own_postgres": "postgres",
    "lab": "browser",
    "lab_with_docker": "browser",
    "team_lab": "browser",
    "kernel": "kernel",
}
# Every test in these folders starts kernels: magics run in one, batch jobs run notebooks with papermill.
COMPONENT_OF_FOLDER = {"magics": "kernel", "batch": "kernel"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    """Mark each test with the real components it needs, so that `-m "not docker and not browser"`
    selects the fast loop. A test that reaches a component some other way (a fixture looked up at
    run time, a kernel started inline) carries the marker itself."""
    for item in items:
        components = {COMPONENT_OF_FIXTURE[name] for name in item.fixturenames if name in COMPONENT_OF_FIXTURE}
        callspec = getattr(item, "callspec", None)
        if callspec and any(isinstance(value, str) and value == "postgresql" for value in callspec.params.values()):
            components.add("postgres")  # db_url[postgresql], backend[postgresql]
        if item.path.parent.name in COMPONENT_OF_FOLDER:
            components.add(COMPONENT_OF_FOLDER[item.path.parent.name])
        for component in sorted(components):
            item.add_marker(component)
    longest_files_first(items)


# -- the order test files start in ------------------------------------------------------------------
# `make test` hands whole files to its workers (--dist loadfile) in collection order
# (--no-loadscope-reorder): the longest first, so that no long file starts last and runs alone
# while the other workers idle. The seconds each file took are kept in tests/durations.json,
# written by `make durations` (MODELHUB_RECORD_DURATIONS names the file to write).

DURATIONS = Path(__file__).with_name("durations.json")


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def longest_files_first(items) -> None:
    try:
        seconds = json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return
    unknown = sorted(seconds.values())[len(seconds) // 2] if seconds else 0.0  # a new file: the median
    position = {}
    for index, item in enumerate(items):
        position.setdefault(_file_of(item.nodeid), index)
    items.sort(key=lambda item: (-seconds.get(_file_of(item.nodeid), unknown), position[_file_of(item.nodeid)]))


_recorded: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    if os.environ.get("MODELHUB_RECORD_DURATIONS"):
        _recorded[_file_of(report.nodeid)] += report.duration


def pytest_sessionfinish(session):
    target = os.environ.get("MODELHUB_RECORD_DURATIONS")
    if target and _recorded and not hasattr(session.config, "workerinput"):  # the controller has them all
        ordered = dict(sorted(((f, round(s, 1)) for f, s in _recorded.items()), key=lambda kv: -kv[1]))
        Path(target).write_text(json.dumps(ordered, indent=1) + "\n")
