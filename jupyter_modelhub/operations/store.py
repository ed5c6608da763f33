"""Operation rows and files: what the server and the worker processes both read and write.

The server creates rows, claims queued ones and finishes the ones whose process died; a worker
writes its own progress and outcome. Every change of state is a conditional UPDATE (``WHERE
status = ...``), so a cancel and a worker finishing at the same moment cannot both win, and
every change adds an ``operation`` event to the feed the panel and clients poll.

Not here: scheduling and processes (``runner``), the work itself (``kinds``), the answers' shapes
(``views``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..errors import InvalidInput, NotFound
from ..store.database import Database, other_server, server_name
from ..store.orm import Event, Operation, utcnow
from ..timestamps import iso
from . import views

# Earlier names of kinds, still accepted where clients filter by kind (rows were renamed by
# migration 0007): an image build was "build".
RENAMED_KINDS = {"build": "image_build"}
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE = ("queued", "running")
FINAL = ("succeeded", "failed", "cancelled")


class OperationStore:
    """The ``operations`` table and the ``operations/<id>/`` folders under the root."""

    def __init__(self, database: Database, root: Path, kinds: tuple[str, ...] = ()):
        self.db = database
        self.kinds = tuple(kinds)  # the kinds clients may filter by (every kind the root collected)
        self.folder = Path(root).resolve() / "operations"
        self.folder.mkdir(parents=True, exist_ok=True)
        # servers sharing the database each run the operations they created: the inputs are here
        self.server = server_name(root)

    # -- files -----------------------------------------------------------------------------

    def work_dir(self, operation_id: int) -> Path:
        return self.folder / str(operation_id)

    def log_path(self, operation_id: int) -> Path:
        return self.log_path_in(self.folder.parent, operation_id)

    @staticmethod
    def log_path_in(root: Path, operation_id: int) -> Path:
        """An operation's log, for a worker that has not opened the store yet."""
        return Path(root) / "operations" / str(operation_id) / "log"

    def inputs(self, operation_id: int) -> dict:
        return json.loads((self.work_dir(operation_id) / "inputs.json").read_text())

    # -- creating and reading --------------------------------------------------------------

    def create(self, kind: str, subject: str, inputs: dict, user: str = "") -> dict:
        """A queued operation with its inputs saved beside it (so it survives a restart)."""

        def write(session: Session) -> int:
            row = Operation(
                kind=kind,
                subject=subject[:256],
                status="queued",
                progress={"done": 0, "total": None, "unit": "", "message": "queued"},
                created_by=user or "",
                server=self.server,
            )
            session.add(row)
            session.flush()
            folder = self.work_dir(row.id)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "inputs.json"
            path.write_text(json.dumps(inputs))
            os.chmod(path, 0o600)
            _event(session, row)
            return row.id

        return self.get(self.db.write(write))

    def operation(self, operation_id: int) -> views.Operation:
        with self.db.read() as session:
            return self._describe(session, self._row(session, operation_id))

    def get(self, operation_id: int) -> dict:
        """The operation as its JSON (what the services read: ``operation["status"]``)."""
        return self.operation(operation_id).as_dict()

    def status(self, operation_id: int) -> str:
        with self.db.read() as session:
            return self._row(session, operation_id).status

    def list(self, **filters) -> dict:
        return self.page(**filters).as_dict()

    def page(
        self,
        kind: str | None = None,
        status: str | None = None,
        subject: str | None = None,
        page: int = 1,
        per_page: int = 50,
    ) -> views.OperationPage:
        """Operations matching the filters (``status``: several separated by commas), newest first."""
        statuses = [s.strip() for s in (status or "").split(",") if s.strip()]
        unknown = [s for s in statuses if s not in STATUSES]
        if unknown:
            raise InvalidInput(
                f"Unknown operation status {unknown[0]!r}: expected one of {', '.join(STATUSES)} "
                "(several separated by commas)."
            )
        kind = RENAMED_KINDS.get(kind, kind)
        if kind and self.kinds and kind not in self.kinds:
            raise InvalidInput(f"Unknown operation kind {kind!r}: expected one of {', '.join(self.kinds)}.")
        if page < 1 or not 1 <= per_page <= 500:
            raise InvalidInput("Paging: page starts at 1 and per_page is 1 to 500.")
        stmt = select(Operation)
        if kind:
            stmt = stmt.where(Operation.kind == kind)
        if statuses:
            stmt = stmt.where(Operation.status.in_(statuses))
        if subject:
            stmt = stmt.where(Operation.subject == subject)
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(stmt.subquery()))
            rows = session.scalars(stmt.order_by(Operation.id.desc()).offset((page - 1) * per_page).limit(per_page))
            return views.OperationPage(
                operations=[self._describe(session, row) for row in rows], total=total, page=page, per_page=per_page
            )

    def active(self) -> list[tuple[int, str, str, int | None]]:
        """(id, kind, status, pid) of every queued or running operation of this server, oldest first
        (those of another server sharing the database are its to run)."""
        with self.db.read() as session:
            return [
                tuple(r)
                for r in session.execute(
                    select(Operation.id, Operation.kind, Operation.status, Operation.pid)
                    .where(Operation.status.in_(ACTIVE), self._here())
                    .order_by(Operation.id)
                )
            ]

    def _here(self):
        return or_(Operation.server == self.server, Operation.server.is_(None))

    def runs_elsewhere(self, operation_id: int) -> str | None:
        """The server that runs this operation, when it is another one."""
        with self.db.read() as session:
            server = session.scalar(select(Operation.server).where(Operation.id == operation_id))
        return other_server(server, self.server)

    def references(self, session: Session) -> dict[str, list[str]]:
        """The registry's deletion guard: the operations still working on each version (their
        subject is its NAME:VERSION)."""
        rows = session.execute(
            select(Operation.id, Operation.kind, Operation.status, Operation.subject)
            .where(Operation.status.in_(ACTIVE))
            .order_by(Operation.id)
        )
        used: dict[str, list[str]] = {}
        for operation, kind, status, subject in rows:
            # a batch job is an operation, but its users know it as a job (%jobs)
            what = "job" if kind == "batch" else "operation"
            used.setdefault(subject, []).append(f"{what} {operation} ({kind}, {status})")
        return used

    # -- changing state --------------------------------------------------------------------

    def claim(self, operation_id: int) -> bool:
        """queued -> running; False if it is no longer queued (cancelled meanwhile)."""
        return self._transition(
            operation_id,
            ("queued",),
            status="running",
            started_time=utcnow(),
            progress={"done": 0, "total": None, "unit": "", "message": "starting"},
        )

    def set_pid(self, operation_id: int, pid: int) -> None:
        self._transition(operation_id, ("running",), pid=pid, event=False)

    def set_progress(self, operation_id: int, progress: dict, event: bool) -> None:
        self._transition(operation_id, ("running",), progress=progress, event=event)

    def finish(
        self,
        operation_id: int,
        status: str,
        *,
        result: dict | None = None,
        link: dict | None = None,
        error: dict | None = None,
        expected: tuple[str, ...] = ACTIVE,
    ) -> bool:
        """Record the outcome, unless the operation already left ``expected`` (True if it did now)."""
        values = {"status": status, "ended_time": utcnow(), "result": result, "link": link, "error": error}
        if status == "succeeded":
            values["progress"] = {**self._progress(operation_id), "message": "done"}
        return self._transition(operation_id, expected, **values)

    def _progress(self, operation_id: int) -> dict:
        with self.db.read() as session:
            progress = dict(self._row(session, operation_id).progress or {})
        if progress.get("total"):
            progress["done"] = progress["total"]
        return progress

    def _transition(self, operation_id: int, expected: tuple[str, ...], event: bool = True, **values) -> bool:
        def write(session: Session) -> bool:
            changed = session.execute(
                update(Operation).where(Operation.id == operation_id, Operation.status.in_(expected)).values(**values)
            ).rowcount
            if changed and event:
                _event(session, session.get(Operation, operation_id))
            return bool(changed)

        return self.db.write(write)

    # -- describing ------------------------------------------------------------------------

    def _row(self, session: Session, operation_id: int) -> Operation:
        row = session.get(Operation, operation_id)
        if row is None:
            raise NotFound(f"No operation {operation_id}; %operations lists the recent ones.")
        return row

    def _describe(self, session: Session, row: Operation) -> views.Operation:
        """The operation of ``row``, with its place in its kind's queue while it waits. Its progress
        and error are the dicts as stored: the keys the worker wrote, and only those, are answered."""
        position = None
        if row.status == "queued":
            position = 1 + session.scalar(
                select(func.count()).where(
                    Operation.kind == row.kind, Operation.status == "queued", Operation.id < row.id
                )
            )
        return views.Operation(
            id=row.id,
            kind=row.kind,
            subject=row.subject,
            status=row.status,
            active=row.status in ACTIVE,
            progress=row.progress or {},
            queue_position=position,
            created_time=iso(row.created_time),
            started_time=iso(row.started_time),
            ended_time=iso(row.ended_time),
            created_by=row.created_by,
            result=row.result,
            link=row.link,
            error=row.error,
        )


def _event(session: Session, row: Operation) -> None:
    session.add(
        Event(kind="operation", model=row.subject[:128], version=None, user=row.created_by, operation_id=row.id)
    )
