"""The database engine: URL handling, SQLite settings, migrations at start-up, retried writes.

SQLite (the default) runs in WAL mode so readers never wait for a writer; PostgreSQL works
through the same code. The schema is created and upgraded by alembic, never by ``create_all``,
so a registry made by an older release upgrades in place when the server starts.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")
MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(db_url: str) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it on an empty database)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """Owns the engine and hands out sessions; writes go through ``write`` to retry conflicts."""

    def __init__(self, db_url: str, migrate: bool = True):
        self.url = db_url
        self.engine = make_engine(db_url)
        if migrate:
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

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
            except (IntegrityError, OperationalError) as exc:
                if attempt == attempts - 1 or not _is_retryable(exc):
                    raise
                log.debug("retrying write after %s", type(exc.orig).__name__)
                time.sleep(min(0.2, 0.002 * 2**attempt) * random.random())
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


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
        config = alembic_config(engine)
        number = len(list((MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))) + 1
        command.revision(config, message=message, autogenerate=True, rev_id=f"{number:04d}")
        engine.dispose()


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision" or not sys.argv[2].strip():
        sys.exit('usage: python -m jupyter_modelhub.store.database revision "what changed"')
    generate_migration(sys.argv[2])
