"""The registry's generation: one number in the database that every committed change moves, so a
server may answer a read again from memory while the number has not moved (``api.read_cache``).

Why a number in the database and not in the process: a team's servers share one database, and
operation workers write to it from their own processes; a change made by any of them must make
every server's remembered responses stale at once. Reading the number is one keyed row.

How it moves: every session of ``Database`` notes when it writes to a table other than the
append-only logs (``UNTRACKED``: none of the registry's reads show them, and they are written
often), and adds one to the number as its last statement before the commit, in the same
transaction: the number moves exactly when the change becomes visible, and a transaction that
rolls back moves nothing. Taking the row's lock last means a writer that waits for it already
holds every other lock it needs, so two writers cannot deadlock over it (PostgreSQL).

Why a reader is safe: it reads the number *before* computing a response and files the response
under that number. Whatever it then read is at least as new as the number; if a change
committed meanwhile, the number has moved past, and the response is never served again.
"""

from __future__ import annotations

from sqlalchemy import event, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from .orm import RegistryGeneration

# Written often, read by none of the remembered responses: the history and the events feed
# (written with the change they describe, which moves the number itself), traffic samples and
# webhook deliveries (written by the server on its own every few seconds).
UNTRACKED = frozenset({"history", "events", "traffic_samples", "webhook_deliveries", RegistryGeneration.__tablename__})
_WROTE = "modelhub_changed_registry"
_READ = "SELECT value FROM registry_generation WHERE id = 1"


def track(sessions: sessionmaker) -> None:
    """Make every session of ``sessions`` move the number when it commits a tracked change."""
    event.listen(sessions, "after_flush", _note_flushed)
    event.listen(sessions, "do_orm_execute", _note_statement)
    event.listen(sessions, "before_commit", _move)
    event.listen(sessions, "after_commit", _forget)
    event.listen(sessions, "after_rollback", _forget)


def read(connection: Connection) -> int:
    """The current number (0 on a database made before it existed, which no server then caches)."""
    return connection.exec_driver_sql(_READ).scalar() or 0


def _tracked(table_name: str | None) -> bool:
    return table_name is not None and table_name not in UNTRACKED


def _note_flushed(session: Session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__table__", None)
        if _tracked(getattr(table, "name", None)):
            session.info[_WROTE] = True
            return


def _note_statement(state: ORMExecuteState) -> None:
    """Bulk statements (``session.execute(update(...))``) change rows without a flush."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if _tracked(getattr(table, "name", None)):
            state.session.info[_WROTE] = True


def _move(session: Session) -> None:
    if not (session.info.get(_WROTE) or _pending(session)):
        return
    session.flush()  # every other row lock first: the number's row is taken last
    if not session.info.get(_WROTE):  # only untracked tables after all
        return
    session.execute(
        update(RegistryGeneration).where(RegistryGeneration.id == 1).values(value=RegistryGeneration.value + 1)
    )


def _pending(session: Session) -> bool:
    return bool(session.new or session.deleted or session.dirty)


def _forget(session: Session) -> None:
    session.info.pop(_WROTE, None)
