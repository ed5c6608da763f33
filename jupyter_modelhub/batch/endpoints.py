"""Batch endpoints: a name for a model version and its batch settings, saved to run again.

Like Azure's batch endpoints, a user configures once (``%batch-endpoint churn-nightly
churn@production --mini-batch-size 5``) and then runs ``%batch churn-nightly data/``. Saving a
name again adds a version (the newest is the one that runs; older ones are its history). The
model version the newest one uses cannot be deleted while the batch endpoint exists: the
registry's deletion guard names it.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..errors import InvalidInput, NotFound
from ..refs import NAME_RE
from ..store.database import Database
from ..store.orm import BatchEndpoint, Model, ModelVersion
from ..timestamps import iso
from ..views import Deleted
from . import views


class BatchEndpointStore:
    def __init__(self, database: Database, registry):
        self.db, self.registry = database, registry

    def save(
        self,
        name: str,
        model: str,
        settings: dict,
        entry_script: str | None = None,
        description: str = "",
        user: str = "",
    ) -> dict:
        """A new version of batch endpoint ``name`` (the first one creates it)."""
        check_name(name)

        def write(session: Session) -> int:
            version_row = self.registry.resolve(session, model)
            number = 1 + (
                session.scalar(select(func.max(BatchEndpoint.version)).where(BatchEndpoint.name == name)) or 0
            )
            row = BatchEndpoint(
                name=name,
                version=number,
                version_id=version_row.id,
                description=description,
                settings={"settings": settings, "entry_script": entry_script},
                created_by=user,
            )
            session.add(row)
            session.flush()
            return row.id

        self.db.write(write)
        return self.get(name)

    def get(self, name: str, version: int | None = None) -> views.BatchEndpoint:
        """As shown to users: environment variables by name only (their values may be secrets)."""
        with self.db.read() as session:
            return self._describe(self._row(session, name, version), history=True, session=session)

    def settings(self, name: str) -> dict:
        """The newest version's settings and entry script as a job uses them (values included)."""
        with self.db.read() as session:
            row = self._row(session, name, None)
            return {
                "name": row.name,
                "version": row.version,
                "settings": row.settings.get("settings", {}),
                "entry_script": row.settings.get("entry_script"),
                "model": f"{row.model_version.model.name}:{row.model_version.version}",
            }

    def list(self) -> views.BatchEndpointList:
        with self.db.read() as session:
            newest = (
                select(BatchEndpoint.name, func.max(BatchEndpoint.version).label("version"))
                .group_by(BatchEndpoint.name)
                .subquery()
            )
            rows = session.scalars(
                select(BatchEndpoint)
                .join(newest, (BatchEndpoint.name == newest.c.name) & (BatchEndpoint.version == newest.c.version))
                .order_by(BatchEndpoint.name)
            )
            return views.BatchEndpointList(batch_endpoints=[self._describe(row) for row in rows])

    def delete(self, name: str) -> Deleted:
        def write(session: Session) -> int:
            self._row(session, name, None)
            return session.execute(delete(BatchEndpoint).where(BatchEndpoint.name == name)).rowcount

        count = self.db.write(write)
        return Deleted(deleted=[f"batch endpoint {name} ({count} version{'s' if count != 1 else ''})"])

    def references(self, session: Session) -> dict[str, list[str]]:
        """The registry's deletion guard: the batch endpoints whose newest version uses each
        model version (by NAME:VERSION)."""
        newest = (
            select(BatchEndpoint.name, func.max(BatchEndpoint.version).label("version"))
            .group_by(BatchEndpoint.name)
            .subquery()
        )
        rows = session.execute(
            select(BatchEndpoint.name, Model.name, ModelVersion.version)
            .join(newest, (BatchEndpoint.name == newest.c.name) & (BatchEndpoint.version == newest.c.version))
            .join(ModelVersion, ModelVersion.id == BatchEndpoint.version_id)
            .join(Model, Model.id == ModelVersion.model_id)
            .order_by(BatchEndpoint.name)
        )
        used: dict[str, list[str]] = {}
        for endpoint, model, version in rows:
            used.setdefault(f"{model}:{version}", []).append(f"batch endpoint {endpoint}")
        return used

    def _row(self, session: Session, name: str, version: int | None) -> BatchEndpoint:
        stmt = select(BatchEndpoint).where(BatchEndpoint.name == name)
        stmt = stmt.where(BatchEndpoint.version == version) if version else stmt.order_by(BatchEndpoint.version.desc())
        row = session.scalars(stmt.limit(1)).first()
        if row is None:
            raise NotFound(
                f"No batch endpoint {name}"
                + (f" version {version}" if version else "")
                + "; %batch-endpoints lists them, %batch-endpoint NAME MODEL creates one."
            )
        return row

    def _describe(
        self, row: BatchEndpoint, history: bool = False, session: Session | None = None
    ) -> views.BatchEndpoint:
        described = {
            "name": row.name,
            "version": row.version,
            "model": f"{row.model_version.model.name}:{row.model_version.version}",
            "settings": _shown(row.settings.get("settings", {})),
            "entry_script": row.settings.get("entry_script"),
            "description": row.description,
            "created_time": iso(row.created_time),
            "created_by": row.created_by,
        }
        if history and session is not None:
            described["versions"] = [
                {"version": v, "model": f"{m}", "created_time": iso(t)}
                for v, m, t in session.execute(
                    select(BatchEndpoint.version, BatchEndpoint.version_id, BatchEndpoint.created_time)
                    .where(BatchEndpoint.name == row.name)
                    .order_by(BatchEndpoint.version.desc())
                )
            ]
            for item in described["versions"]:
                model_version = session.get(ModelVersion, int(item["model"]))
                item["model"] = f"{model_version.model.name}:{model_version.version}" if model_version else "?"
        return views.BatchEndpoint(**described)


def check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"Invalid batch endpoint name {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )


def _shown(settings: dict) -> dict:
    return {**settings, "env_vars": sorted(settings.get("env_vars") or {})}
