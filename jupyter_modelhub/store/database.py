"""The database engine: URL handling, SQLite settings, migrations at start-up, retried writes.

SQLite (the default) runs in WAL mode so readers never wait for a writer; PostgreSQL works
through the same code. The schema is created and upgraded by alembic, never by ``create_all``,
so a registry made by an older release upgrades in place when the server starts. Migrations run
under a database-wide lock (an advisory lock on PostgreSQL, an exclusive transaction on SQLite),
so servers started at the same moment on one new database take turns instead of colliding.

A database that cannot be reached (PostgreSQL down, the network gone) is reported as
``Unavailable`` (a 503 with the reason), never as a crash; the pool reconnects by itself once
it is back. The SQLite file is created readable by its owner only: it holds endpoint keys.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import InvalidInput, Unavailable
from ..extras import EXTRAS, missing_extra
from . import generation

if TYPE_CHECKING:  # alembic is imported where the schema changes: operation workers never load it
    from alembic.config import Config

log = logging.getLogger(__name__)
T = TypeVar("T")
MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant shared by every server of one registry; "modelhub" as a number.
MIGRATION_LOCK = 0x6D6F64656C687562


# How long a SQLite connection waits for another that holds the file (its busy timeout).
SQLITE_BUSY_SECONDS = 30


def make_engine(db_url: str) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            make_private_file(Path(url.database))
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    # a database that does not answer fails a request in seconds instead of holding a thread
    connect_args = {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}
    try:
        engine = create_engine(url, pool_size=10, max_overflow=20, connect_args=connect_args)
    except ModuleNotFoundError as exc:
        raise InvalidInput(
            _missing_driver(
                url.render_as_string(hide_password=True), url.get_backend_name(), exc.name or url.get_driver_name()
            )
        ) from None
    event.listen(engine, "checkout", _ping_if_idle)
    event.listen(engine, "checkin", _note_use)
    return engine


# A pooled connection idle longer than this is pinged before it is handed out (the database may
# have restarted meanwhile); one used more recently is not: a ping is a round trip, and a read of
# the registry is two or three of them.
PING_AFTER_IDLE_SECONDS = 2.0


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    """Pessimistic disconnect handling for idle connections only: a dead one is replaced before
    use (``DisconnectionError`` makes the pool connect again), so a database that came back after
    an outage is a success, not an error, for the first request after it."""
    if time.monotonic() - record.info.get("used", 0.0) <= PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()  # handed out as the pool gives them: no transaction open
    except Exception as exc:  # any failure of a ping means the connection is gone
        raise DisconnectionError(str(exc)) from exc


def _note_use(_dbapi_connection, record) -> None:
    record.info["used"] = time.monotonic()


def _missing_driver(where: str, backend: str, module: str) -> str:
    """What to install (or write) when the database URL's driver is not there."""
    if backend == "postgresql" and module != EXTRAS["postgres"]:
        return (
            f"The database URL {where} uses the driver {module}, which is not installed here. Write it "
            f"postgresql+psycopg://... and install that driver: pip install 'jupyter_modelhub[postgres]'."
        )
    if backend == "postgresql":
        return missing_extra("postgres", f"The database URL {where}")
    return f"The database URL {where} needs the driver {module}, which is not installed here: pip install {module}."


def make_private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) for its owner only, and close an existing one to
    others: SQLite gives its -wal and -shm files the database file's permissions."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = file.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO) and file.stat().st_uid == os.geteuid():
                os.chmod(file, stat.S_IMODE(mode) & ~(stat.S_IRWXG | stat.S_IRWXO))
                log.warning("%s was readable by other users; it is now private (it holds endpoint keys)", file)
        except FileNotFoundError:
            pass


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor) -> None:
    """Put the file in WAL mode (it stays so). Switching needs the file to itself, and SQLite
    answers "database is locked" at once, without its busy timeout, while another connection holds
    it: servers started together on a new file would fail. So it is retried for the busy timeout;
    once one connection has switched, the others find WAL and change nothing."""
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    delay = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)  # another server holds the file (migrating it): wait for it
            delay = min(delay * 2, 0.2)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it on an empty database).

    The lock is taken in the migration's own transaction and released when it commits; a server
    that waited finds the schema at the newest migration and has nothing left to do.
    """
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        elif engine.dialect.name == "sqlite":
            # pysqlite opens no transaction before DDL by itself; this one also keeps other
            # servers out until the schema is complete (they wait up to the busy timeout)
            connection.exec_driver_sql("BEGIN EXCLUSIVE")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def server_name(root: Path) -> str:
    """Which Model Hub server this is, among servers that share a database but no disk
    (HOSTNAME:ROOT): endpoints and operations record it, and only that server runs, changes,
    adopts or cancels them, since their processes and files are on its machine."""
    return f"{socket.gethostname()}:{Path(root).resolve()}"[:512]


def other_server(recorded: str | None, here: str) -> str | None:
    """The server a row records, when it is not ``here``; rows written before servers were
    recorded (None) belong to the one server there was."""
    return recorded if recorded not in (None, here) else None


class Database:
    """Owns the engine and hands out sessions; writes go through ``write`` to retry conflicts."""

    def __init__(self, db_url: str, migrate: bool = True):
        self.url = db_url
        self.engine = make_engine(db_url)
        if migrate:
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        generation.track(self._sessions)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._outages_reported(), self._sessions() as session:
            yield session

    @contextmanager
    def _outages_reported(self) -> Iterator[None]:
        """A database that cannot be reached, said as ``Unavailable`` naming it; other errors as they are."""
        try:
            yield
        except DBAPIError as exc:
            unavailable = unavailable_error(exc, self.where)
            if unavailable is None:
                raise
            raise unavailable from exc

    def write(self, work: Callable[[Session], T], attempts: int = 30) -> T:
        """Run ``work`` in a transaction, retrying on unique-key races and lock timeouts.

        Two registrations of the same model compute the same next version number; the database's
        unique constraint rejects the second, which then retries with a fresh number. The user
        never sees the race.
        """
        for attempt in range(attempts):
            try:
                with self._sessions() as session, session.begin():
                    return work(session)
            except DBAPIError as exc:
                if unavailable_error(exc) is not None:
                    raise unavailable_error(exc, self.where) from exc
                if (
                    not isinstance(exc, (IntegrityError, OperationalError))
                    or attempt == attempts - 1
                    or not _is_retryable(exc)
                ):
                    raise
                log.debug("retrying write after %s", type(exc.orig).__name__)
                time.sleep(min(0.2, 0.002 * 2**attempt) * random.random())
        raise AssertionError("unreachable")

    def generation(self) -> int:
        """The registry's generation (``store.generation``): read it before computing a response
        that may be remembered."""
        with self._outages_reported(), self.engine.connect() as connection:
            return generation.read(connection)

    @property
    def where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


def unavailable_error(exc: BaseException, where: str = "") -> Unavailable | None:
    """The ``Unavailable`` that ``exc`` stands for if it means the database cannot be reached
    (refused or lost connection, server shutting down); None for any other error.

    A connection that fails never got a SQLSTATE from the server; an established one that is
    lost is flagged ``connection_invalidated`` by SQLAlchemy; class 08 is a connection
    exception and 57P a server going away.
    """
    if isinstance(exc, Unavailable):
        return exc
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "sqlstate", "")  # psycopg: None when no server answered
    lost = exc.connection_invalidated or (
        isinstance(exc, (OperationalError, InterfaceError))
        and hasattr(exc.orig, "sqlstate")
        and (sqlstate is None or sqlstate.startswith(("08", "57P")))
    )
    if not lost:
        return None
    cause = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    return Unavailable(
        f"The registry database{f' ({where})' if where else ''} cannot be reached: {cause}. "
        "The Model Hub goes on by itself once it is back; try again in a moment."
    )


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return "unique" in str(exc.orig).lower() or "duplicate" in str(exc.orig).lower()
    text = str(getattr(exc, "orig", exc)).lower()
    return "locked" in text or "busy" in text or "deadlock" in text or "serialize" in text


def generate_migration(message: str) -> None:
    """Autogenerate the next migration from the ORM, diffing against a scratch upgraded database."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/scratch.db")
        upgrade(engine)
        from alembic import command

        config = alembic_config(engine)
        number = len(list((MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))) + 1
        command.revision(config, message=message, autogenerate=True, rev_id=f"{number:04d}")
        engine.dispose()


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision" or not sys.argv[2].strip():
        sys.exit('usage: python -m jupyter_modelhub.store.database revision "what changed"')
    generate_migration(sys.argv[2])
