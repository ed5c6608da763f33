"""The model registry: models, versions, tags, properties, aliases, search, and deletion guards.

A model is a name; a version is an immutable set of files with a number allocated by the
database. Everything here is plain Python on top of ``store``: the REST handlers call it from an
executor thread, tests call it directly. Results are JSON-ready dicts, the shapes the REST API
returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from traitlets import Integer
from traitlets.config import LoggingConfigurable

from .. import flavors
from . import version_actions
from ..errors import Conflict, Damaged, InvalidInput, NotFound
from ..refs import MAX_VERSION, ModelRef, RefError, check_alias, check_name, check_tag_key, parse_ref
from ..store.artifacts import ArtifactStore
from ..store.database import Database
from ..store.orm import Alias, Event, Model, ModelVersion, Tag, utcnow
from .tagfilter import FilterError, TagTerm, parse_filter

# A reference check names what uses a version ("endpoint churn-ep"); an empty list means free.
ReferenceCheck = Callable[[Session, ModelVersion], list[str]]

MAX_TAG_VALUE = 1024
MAX_PAGE = MAX_VERSION  # offsets stay far inside 64 bits


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


class ModelRegistry(LoggingConfigurable):
    """Registers, finds, labels and removes model versions."""

    max_per_page = Integer(500, config=True, help="Largest page size a listing may ask for.")
    max_example_bytes = Integer(
        256 * 1024, config=True, help="Largest input example (as JSON) stored with a version."
    )

    def __init__(self, database: Database, artifacts: ArtifactStore, **kwargs):
        super().__init__(**kwargs)
        self.db = database
        self.artifacts = artifacts
        # Later services (deployments, batch jobs) append their own checks here.
        self.reference_checks: list[ReferenceCheck] = [self._alias_references]

    # -- registering -----------------------------------------------------------------------

    def register(
        self,
        name: str,
        upload_id: str,
        *,
        flavor: str | None = None,
        description: str = "",
        tags: dict | None = None,
        properties: dict | None = None,
        signature: dict | None = None,
        input_example: object = None,
        created_by: str = "",
        source_notebook: str | None = None,
        derived_from: str | None = None,
        new_version: bool = False,
    ) -> dict:
        """Turn an upload into a version; returns it with ``existing`` true if it was a duplicate.

        The upload is used up by this call whatever its outcome: after the metadata checks it is
        taken (so that of several registrations of one upload exactly one proceeds; only
        ``created_by``, the user who uploaded it, may take it) and it is removed at the end. Every check runs before anything
        is written; files are staged and published before the version row commits, and removed
        again if it does not, so a failure leaves nothing.
        """
        try:
            _checked(check_name, name)
            flavors.check_flavor(flavor)
            tags = _check_tags(tags or {})
            properties = _check_properties(properties or {})
            _check_signature(signature)
            self._check_example(input_example)
            if not isinstance(description, str):
                raise InvalidInput("'description' must be a string.")
        except InvalidInput:
            self.use_up(upload_id, created_by)
            raise
        upload = self.artifacts.claim_upload(upload_id, created_by)
        try:
            return self._register(name, upload, flavor=flavor, description=description, tags=tags,
                                  properties=properties, signature=signature, input_example=input_example,
                                  created_by=created_by, source_notebook=source_notebook,
                                  derived_from=derived_from, new_version=new_version)
        finally:
            upload.unlink(missing_ok=True)

    def use_up(self, upload_id: object, user: str) -> None:
        """Remove the upload of a refused registration, if it is the user's: a registration uses
        its upload up whatever the outcome, so none is left waiting for its expiry."""
        try:
            self.artifacts.claim_upload(upload_id, user).unlink(missing_ok=True)
        except (InvalidInput, NotFound):
            pass

    def _register(self, name: str, upload, *, flavor, description, tags, properties, signature, input_example,
                  created_by, source_notebook, derived_from, new_version) -> dict:
        lineage = self.get_version(derived_from)["ref"] if derived_from else None

        staged = self.artifacts.stage(upload)
        try:
            if not new_version:
                existing = self._find_identical(name, staged.content_hash)
                if existing is not None:
                    self.artifacts.discard_staged(staged)
                    return {**existing, "existing": True}
            detected, detected_signature = flavors.detect(staged.folder / "files", [f["path"] for f in staged.files])
            artifact_dir = self.artifacts.publish(staged, name)
        except BaseException:
            self.artifacts.discard_staged(staged)
            raise

        def insert(session: Session) -> int:
            model = session.scalar(select(Model).where(Model.name == name))
            if model is None:
                model = Model(name=name)
                session.add(model)
                session.flush()  # a concurrent first registration makes this fail; write() retries
            latest = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.model_id == model.id))
            row = ModelVersion(
                model_id=model.id,
                version=(latest or 0) + 1,
                flavor=flavor or detected,
                description=description,
                content_hash=staged.content_hash,
                artifact_dir=artifact_dir,
                size=staged.size,
                files=staged.files,
                signature=signature or detected_signature,
                input_example=input_example,
                properties=properties,
                created_by=created_by,
                source_notebook=source_notebook,
                derived_from=lineage,
                tags=[Tag(key=k, value=v) for k, v in tags.items()],
            )
            session.add(row)
            model.updated_time = utcnow()
            session.flush()
            self.record_event(session, "version_registered", name, row.version, created_by)
            return row.version

        try:
            number = self.db.write(insert)
        except BaseException:
            self.artifacts.remove(artifact_dir)
            raise
        self.log.info("registered %s:%s (%s, %d files)", name, number, flavor or detected, len(staged.files))
        return {**self.get_version(f"{name}:{number}"), "existing": False}

    def _find_identical(self, name: str, digest: str) -> dict | None:
        with self.db.read() as session:
            row = session.scalar(
                select(ModelVersion)
                .join(Model)
                .where(Model.name == name, ModelVersion.content_hash == digest)
                .order_by(ModelVersion.version.desc())
                .limit(1)
            )
            return self._version_dict(session, row) if row else None

    # -- reading ---------------------------------------------------------------------------

    def get_version(self, ref: str | ModelRef) -> dict:
        with self.db.read() as session:
            return self._version_dicts(session, [self.resolve(session, ref)], with_actions=True)[0]

    def get_model(self, name: str, archived: bool = False) -> dict:
        """One model with all its versions (newest first) and aliases."""
        with self.db.read() as session:
            model = self._model(session, name)
            stmt = select(ModelVersion).where(ModelVersion.model_id == model.id)
            if not archived:
                stmt = stmt.where(ModelVersion.archived.is_(False))
            rows = session.scalars(stmt.order_by(ModelVersion.version.desc())).all()
            summary = self._summaries(session, [model])[0]
            return {**summary, "versions": self._version_dicts(session, rows)}

    def list_models(
        self, q: str = "", filter: str = "", flavor: str | None = None, archived: bool = False,
        page: int = 1, per_page: int = 50,
    ) -> dict:
        """Models with at least one version matching every condition, most recently changed first."""
        page, per_page = self._check_page(page, per_page)
        matching = self._matching_versions(filter, flavor, archived).with_only_columns(ModelVersion.model_id)
        stmt = select(Model).where(Model.id.in_(matching))
        if q:
            stmt = stmt.where(Model.name.contains(q, autoescape=True))
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(stmt.subquery()))
            models = session.scalars(
                stmt.order_by(Model.updated_time.desc(), Model.id.desc()).offset((page - 1) * per_page).limit(per_page)
            ).all()
            return {"models": self._summaries(session, models), "total": total, "page": page, "per_page": per_page}

    def list_versions(
        self, name: str | None = None, q: str = "", filter: str = "", flavor: str | None = None,
        archived: bool = False, page: int = 1, per_page: int = 50,
    ) -> dict:
        """Versions matching every condition (of one model, or of all), newest first; those of one
        model with what each is used by and its actions (what a panel shows beside them)."""
        page, per_page = self._check_page(page, per_page)
        stmt = self._matching_versions(filter, flavor, archived).join(Model)
        with self.db.read() as session:
            if name is not None:
                stmt = stmt.where(ModelVersion.model_id == self._model(session, name).id)
            if q:
                stmt = stmt.where(Model.name.contains(q, autoescape=True))
            total = session.scalar(select(func.count()).select_from(stmt.subquery()))
            rows = session.scalars(
                stmt.order_by(ModelVersion.created_time.desc(), ModelVersion.id.desc())
                .offset((page - 1) * per_page).limit(per_page)
            ).all()
            versions = self._version_dicts(session, rows, with_actions=name is not None)
            return {"versions": versions, "total": total, "page": page, "per_page": per_page}

    def file_path(self, ref: str | ModelRef, path: str):
        """The on-disk path of one file of a version and its manifest entry, after checking that
        it is in the manifest and that its bytes still match it (``Damaged`` if not)."""
        with self.db.read() as session:
            row = self.resolve(session, ref)
            entry = next((f for f in row.files if f["path"] == path), None)
            if entry is None:
                raise NotFound(
                    f"{row.model.name}:{row.version} has no file {path!r}; its files are: "
                    + ", ".join(f["path"] for f in row.files[:20])
                )
            label, artifact_dir = f"{row.model.name}:{row.version}", row.artifact_dir
        return self.artifacts.verified_path(artifact_dir, entry, label), entry

    def verify_files(self, ref: str | ModelRef) -> dict:
        """Check every file of a version against its manifest, as serving a file does (each file
        hashed once per process and state on disk). Deployments, image builds and batch jobs
        call this before using a version; ``Damaged`` names every file that does not match.

        Returns ``{"ref", "files_dir", "files"}``: the version, its files' folder, how many files.
        """
        with self.db.read() as session:
            row = self.resolve(session, ref)
            label, artifact_dir, files = f"{row.model.name}:{row.version}", row.artifact_dir, list(row.files)
        problems = []
        for entry in files:
            try:
                self.artifacts.verified_path(artifact_dir, entry, label)
            except (Damaged, NotFound) as exc:
                problems.append(exc.message)
        if problems:
            raise Damaged(" ".join(problems) if len(problems) <= 3 else
                          " ".join(problems[:3]) + f" ({len(problems) - 3} more files do not match either.)")
        return {"ref": label, "files_dir": str(self.artifacts.files_dir(artifact_dir)), "files": len(files)}

    def events(self, after: int | None = None, limit: int = 200) -> dict:
        """Changes since event ``after``; without it, only the current position."""
        with self.db.read() as session:
            last = session.scalar(select(func.max(Event.id))) or 0
            if after is None:
                return {"events": [], "last_id": last}
            rows = session.scalars(select(Event).where(Event.id > after).order_by(Event.id).limit(limit)).all()
            return {
                "events": [
                    {"id": e.id, "time": iso(e.time), "kind": e.kind, "model": e.model, "version": e.version,
                     "operation": e.operation_id}
                    for e in rows
                ],
                "last_id": rows[-1].id if rows else last,
            }

    # -- changing --------------------------------------------------------------------------

    def update_version(
        self, ref: str | ModelRef, *, description: str | None = None, tags: dict | None = None,
        properties: dict | None = None, archived: bool | None = None, user: str = "",
    ) -> dict:
        """Change a version's mutable metadata.

        ``tags`` sets each key to its value, or removes it when the value is None. ``properties``
        only adds: a key that exists with another value is a conflict. ``archived`` hides or shows.
        """
        tag_changes = _check_tags(tags or {}, allow_none=True)
        new_properties = _check_properties(properties or {})
        if description is not None and not isinstance(description, str):
            raise InvalidInput("'description' must be a string.")

        def change(session: Session) -> str:
            row = self.resolve(session, ref)
            kind = "version_updated"
            if description is not None:
                row.description = description
            for key, value in tag_changes.items():
                existing = next((t for t in row.tags if t.key == key), None)
                if value is None:
                    if existing is not None:
                        row.tags.remove(existing)
                elif existing is not None:
                    existing.value = value
                else:
                    row.tags.append(Tag(key=key, value=value))
            if new_properties:
                clashes = [k for k, v in new_properties.items() if k in row.properties and row.properties[k] != v]
                if clashes:
                    raise Conflict(
                        f"Properties are add-only: {', '.join(map(repr, clashes))} already set on "
                        f"{row.model.name}:{row.version} with another value; use a new key."
                    )
                row.properties = {**row.properties, **new_properties}
            if archived is not None and archived != row.archived:
                if archived:
                    self._refuse_if_referenced(session, row, "archive")
                row.archived = archived
                kind = "version_archived" if archived else "version_restored"
            row.model.updated_time = utcnow()
            self.record_event(session, kind, row.model.name, row.version, user)
            return f"{row.model.name}:{row.version}"

        return self.get_version(self.db.write(change))

    def set_alias(self, name: str, alias: str, version: int | str, user: str = "") -> dict:
        """Point ``name@alias`` at a version (creating or moving it in one transaction)."""
        _checked(check_alias, alias)
        target = _target_ref(name, version)

        def move(session: Session) -> None:
            row = self.resolve(session, target)
            existing = session.get(Alias, (row.model_id, alias))
            if existing is None:
                session.add(Alias(model_id=row.model_id, alias=alias, version_id=row.id))
            else:
                existing.version_id, existing.updated_time = row.id, utcnow()
            row.model.updated_time = utcnow()
            self.record_event(session, "alias_set", name, row.version, user)

        self.db.write(move)
        return self.get_version(ModelRef(name, alias=alias))

    def delete_alias(self, name: str, alias: str, user: str = "") -> None:
        _checked(check_alias, alias)

        def remove(session: Session) -> None:
            model = self._model(session, name)
            existing = session.get(Alias, (model.id, alias))
            if existing is None:
                raise NotFound(f"Model {name!r} has no alias {alias!r}{_known_aliases(model)}.")
            session.delete(existing)
            self.record_event(session, "alias_deleted", name, None, user)

        self.db.write(remove)

    def delete_version(self, ref: str | ModelRef, user: str = "") -> dict:
        """Delete a version and its files, unless something still refers to it (409)."""

        def remove(session: Session) -> tuple[str, str]:
            row = self.resolve(session, ref)
            self._refuse_if_referenced(session, row, "delete")
            label, artifact_dir = f"{row.model.name}:{row.version}", row.artifact_dir
            self.record_event(session, "version_deleted", row.model.name, row.version, user)
            session.delete(row)
            return label, artifact_dir

        label, artifact_dir = self.db.write(remove)
        self.artifacts.remove(artifact_dir)
        return {"deleted": [label]}

    def delete_model(self, name: str, user: str = "") -> dict:
        """Delete every version of a model and the model, if nothing refers to any of them."""

        def remove(session: Session) -> tuple[list[str], list[str]]:
            model = self._model(session, name)
            rows = list(model.versions)
            users = [f"{r.model.name}:{r.version} is used by {who}" for r in rows for who in self._referrers(session, r)]
            if users:
                raise Conflict(f"Cannot delete model {name!r}: " + "; ".join(users) + ". Remove those first.")
            labels = [f"{name}:{r.version}" for r in rows]
            dirs = [r.artifact_dir for r in rows]
            session.execute(delete(Tag).where(Tag.version_id.in_([r.id for r in rows])))
            session.execute(delete(ModelVersion).where(ModelVersion.model_id == model.id))
            session.delete(model)
            self.record_event(session, "model_deleted", name, None, user)
            return labels, dirs

        labels, dirs = self.db.write(remove)
        for artifact_dir in dirs:
            self.artifacts.remove(artifact_dir)
        return {"deleted": labels}

    # -- references ------------------------------------------------------------------------

    def _referrers(self, session: Session, row: ModelVersion) -> list[str]:
        return [who for check in self.reference_checks for who in check(session, row)]

    def _refuse_if_referenced(self, session: Session, row: ModelVersion, action: str) -> None:
        users = self._referrers(session, row)
        if users:
            raise Conflict(
                f"Cannot {action} {row.model.name}:{row.version}: it is used by {', '.join(users)}. "
                "Move or remove those references first."
            )

    @staticmethod
    def _alias_references(session: Session, row: ModelVersion) -> list[str]:
        aliases = session.scalars(select(Alias.alias).where(Alias.version_id == row.id)).all()
        return [f"alias {row.model.name}@{a}" for a in sorted(aliases)]

    # -- helpers ---------------------------------------------------------------------------

    def _model(self, session: Session, name: str) -> Model:
        _checked(check_name, name)
        model = session.scalar(select(Model).where(Model.name == name))
        if model is None:
            raise NotFound(f"No model named {name!r} is registered. `%models` lists the registered ones.")
        return model

    def resolve(self, session: Session, ref: str | ModelRef) -> ModelVersion:
        if isinstance(ref, str):
            ref = _checked(parse_ref, ref)
        model = self._model(session, ref.name)
        if ref.alias is not None:
            alias = session.get(Alias, (model.id, ref.alias))
            if alias is None:
                raise NotFound(f"Model {ref.name!r} has no alias {ref.alias!r}{_known_aliases(model)}.")
            return alias.version
        stmt = select(ModelVersion).where(ModelVersion.model_id == model.id)
        if ref.version is not None:
            row = session.scalar(stmt.where(ModelVersion.version == ref.version))
        else:
            row = session.scalar(
                stmt.where(ModelVersion.archived.is_(False)).order_by(ModelVersion.version.desc()).limit(1)
            )
        if row is None:
            latest = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.model_id == model.id))
            if ref.version is None:
                raise NotFound(f"Model {ref.name!r} has no unarchived version; name one, e.g. {ref.name}:{latest}.")
            raise NotFound(f"Model {ref.name!r} has no version {ref.version} (latest is {latest}).")
        return row

    @staticmethod
    def _matching_versions(filter: str, flavor: str | None, archived: bool):
        try:
            terms = parse_filter(filter)
        except FilterError as exc:
            raise InvalidInput(str(exc)) from None
        flavors.check_flavor(flavor or None)
        stmt = select(ModelVersion)
        for term in terms:
            stmt = stmt.where(_tag_condition(term))
        if flavor:
            stmt = stmt.where(ModelVersion.flavor == flavor)
        if not archived:
            stmt = stmt.where(ModelVersion.archived.is_(False))
        return stmt

    def _check_page(self, page: int, per_page: int) -> tuple[int, int]:
        if not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
            raise InvalidInput(f"Invalid page {page!r}: pages go from 1 to {MAX_PAGE}.")
        if not isinstance(per_page, int) or not 1 <= per_page <= self.max_per_page:
            raise InvalidInput(f"Invalid per_page {per_page!r}: expected 1 to {self.max_per_page}.")
        return page, per_page

    def _check_example(self, example: object) -> None:
        if example is None:
            return
        import orjson

        try:
            size = len(orjson.dumps(example))
        except TypeError as exc:
            raise InvalidInput(f"The input example is not JSON-serialisable: {exc}.") from None
        if size > self.max_example_bytes:
            raise InvalidInput(
                f"The input example is {size} bytes as JSON; the limit is {self.max_example_bytes}. "
                "Pass a few rows (e.g. --sample X[:5])."
            )

    @staticmethod
    def record_event(session: Session, kind: str, model: str, version: int | None, user: str) -> None:
        session.add(Event(kind=kind, model=model, version=version, user=user or ""))

    def _summaries(self, session: Session, models: list[Model]) -> list[dict]:
        if not models:
            return []
        ids = [m.id for m in models]
        latest_numbers = (
            select(ModelVersion.model_id, func.max(ModelVersion.version).label("v"), func.count().label("n"))
            .where(ModelVersion.model_id.in_(ids), ModelVersion.archived.is_(False))
            .group_by(ModelVersion.model_id)
            .subquery()
        )
        latest = {
            row.model_id: (row, count)
            for row, count in session.execute(
                select(ModelVersion, latest_numbers.c.n).join(
                    latest_numbers,
                    (ModelVersion.model_id == latest_numbers.c.model_id) & (ModelVersion.version == latest_numbers.c.v),
                )
            )
        }
        tags = _tags_by_version(session, [row.id for row, _ in latest.values()])
        aliases: dict[int, dict[str, int]] = {}
        for model_id, alias, number in session.execute(
            select(Alias.model_id, Alias.alias, ModelVersion.version)
            .join(ModelVersion, Alias.version_id == ModelVersion.id)
            .where(Alias.model_id.in_(ids))
            .order_by(Alias.alias)
        ):
            aliases.setdefault(model_id, {})[alias] = number
        out = []
        for model in models:
            row, count = latest.get(model.id, (None, 0))
            out.append({
                "name": model.name,
                "description": row.description if row else "",
                "latest_version": row.version if row else None,
                "version_count": count,
                "flavor": row.flavor if row else None,
                "tags": tags.get(row.id, {}) if row else {},
                "aliases": aliases.get(model.id, {}),
                "created_time": iso(model.created_time),
                "updated_time": iso(model.updated_time),
            })
        return out

    def _version_dict(self, session: Session, row: ModelVersion) -> dict:
        return self._version_dicts(session, [row])[0]

    def _version_dicts(self, session: Session, rows: list[ModelVersion], with_actions: bool = False) -> list[dict]:
        out = self._plain_version_dicts(session, rows)
        if with_actions:
            derived = version_actions.derived_versions(session, [v["ref"] for v in out])
            for row, version in zip(rows, out):
                used_by = self._referrers(session, row)
                children = derived.get(version["ref"], [])
                version.update(used_by=used_by, derived_to=[child for child, _ in children],
                               actions=version_actions.version_actions(version, used_by, children))
        return out

    def _plain_version_dicts(self, session: Session, rows: list[ModelVersion]) -> list[dict]:
        ids = [r.id for r in rows]
        tags = _tags_by_version(session, ids)
        aliases: dict[int, list[str]] = {}
        if ids:
            for version_id, alias in session.execute(
                select(Alias.version_id, Alias.alias).where(Alias.version_id.in_(ids)).order_by(Alias.alias)
            ):
                aliases.setdefault(version_id, []).append(alias)
        names = dict(session.execute(select(Model.id, Model.name).where(Model.id.in_({r.model_id for r in rows}))).all())
        return [
            {
                "name": names[r.model_id],
                "version": r.version,
                "ref": f"{names[r.model_id]}:{r.version}",
                "flavor": r.flavor,
                "description": r.description,
                "tags": tags.get(r.id, {}),
                "properties": r.properties,
                "signature": r.signature,
                "input_example": r.input_example,
                "files": r.files,
                "size": r.size,
                "created_time": iso(r.created_time),
                "created_by": r.created_by,
                "source_notebook": r.source_notebook,
                "derived_from": r.derived_from,
                "archived": r.archived,
                "aliases": aliases.get(r.id, []),
            }
            for r in rows
        ]


def _tags_by_version(session: Session, ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    if ids:
        for version_id, key, value in session.execute(
            select(Tag.version_id, Tag.key, Tag.value).where(Tag.version_id.in_(ids)).order_by(Tag.key)
        ):
            out.setdefault(version_id, {})[key] = value
    return out


def _tag_condition(term: TagTerm):
    # IN (uncorrelated subquery) lets the database start from the (key, value) index of tags
    # instead of probing every version, which is what keeps tag search fast at 10,000 versions.
    tagged = select(Tag.version_id).where(Tag.key == term.key)
    if term.op == "has":
        return ModelVersion.id.in_(tagged)
    with_value = tagged.where(Tag.value == term.value)
    return ModelVersion.id.in_(with_value) if term.op == "=" else ModelVersion.id.not_in(with_value)


def _checked(check, value):
    """Run a ``refs`` check, turning its RefError into the REST layer's InvalidInput."""
    try:
        return check(value)
    except RefError as exc:
        raise InvalidInput(str(exc)) from None


def _target_ref(name: str, version: int | str) -> ModelRef:
    if isinstance(version, bool) or not isinstance(version, (int, str)):
        raise InvalidInput("'version' must be a version number such as 3.")
    return _checked(parse_ref, f"{name}:{version}")


def _known_aliases(model: Model) -> str:
    names = sorted(a.alias for a in model.aliases)
    return f" (its aliases: {', '.join(names)})" if names else " (it has no aliases)"


def _check_tags(tags: dict, allow_none: bool = False) -> dict:
    if not isinstance(tags, dict):
        raise InvalidInput("'tags' must be an object of tag names to string values.")
    for key, value in tags.items():
        _checked(check_tag_key, key)
        if value is None and allow_none:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"Tag {key!r} must have a string value, not {type(value).__name__}.")
        if len(value) > MAX_TAG_VALUE:
            raise InvalidInput(f"Tag {key!r} is longer than {MAX_TAG_VALUE} characters.")
    return tags


def _check_properties(properties: dict) -> dict:
    if not isinstance(properties, dict):
        raise InvalidInput("'properties' must be an object of names to JSON values.")
    for key, value in properties.items():
        _checked(check_tag_key, key)
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"Property {key!r} is {value}; only finite numbers can be stored.")
    return properties


def _check_signature(signature: dict | None) -> None:
    if signature is None:
        return
    if not isinstance(signature, dict) or not isinstance(signature.get("inputs"), list):
        raise InvalidInput(
            "'signature' must be an object with an 'inputs' list of {name, dtype, shape} entries."
        )
    for entry in signature["inputs"] + list(signature.get("outputs") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not isinstance(entry.get("dtype"), str):
            raise InvalidInput(f"Invalid signature entry {entry!r}: expected {{name, dtype, shape}}.")
