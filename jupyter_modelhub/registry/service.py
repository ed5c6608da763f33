"""The model registry service: register versions, read them, change their metadata, move
aliases, and delete what nothing refers to.

A model is a name; a version is an immutable set of files with a number allocated by the
database. Everything here is plain Python on top of ``store``: the REST handlers call it from an
executor thread, tests call it directly. Reads return the response models of ``views`` (the
nouns: ``version``, ``model``, ``models``, ``versions``, ``changes``); the ``get_``/``list_``
methods and the changes (``register``, ``update_version``, ``set_alias``, ``delete_*``) give the
same shapes as dicts, for the services and scripts that index them.

Not here: the listing queries (``search``), the checks of what is sent (``validation``), the
events feed (``events``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value
from traitlets import Integer
from traitlets.config import LoggingConfigurable

from .. import flavors
from ..errors import Conflict, Damaged, InvalidInput, NotFound, Unavailable
from ..refs import ModelRef, check_alias, check_name, parse_ref
from ..store.artifacts import ArtifactStore
from ..store.database import Database
from ..store.orm import Alias, Model, ModelVersion, Tag, utcnow
from ..timestamps import iso
from . import events, history, search, views
from .pickle_scan import Scanner
from .validation import check_description, check_example, check_properties, check_signature, check_tags, target_ref

# How long after the upload time-to-live a version folder without a row is still taken for a
# registration's leftovers (see ModelRegistry.remove_orphans).
ORPHAN_HORIZON = 86400.0

# A condition on a model id column that keeps the models a user may read (``permissions.readable``).
Readable = Callable[[ColumnElement], ColumnElement]

# An alias guard refuses a move of an alias to a version (raising), or lets it pass.
AliasGuard = Callable[[Session, ModelVersion, str, str], None]

# What uses versions, by NAME:VERSION ({"churn:3": ["endpoint churn-ep (deployment blue)"]});
# a version absent from every index is free.
References = Callable[[Session], dict[str, list[str]]]


class ModelRegistry(LoggingConfigurable):
    """Registers, finds, labels and removes model versions."""

    max_per_page = Integer(500, config=True, help="Largest page size a listing may ask for.")
    max_example_bytes = Integer(256 * 1024, config=True, help="Largest input example (as JSON) stored with a version.")

    def __init__(self, database: Database, artifacts: ArtifactStore, **kwargs):
        super().__init__(**kwargs)
        self.db = database
        self.artifacts = artifacts
        # Later services (deployments, batch jobs) append what uses versions here.
        self.references: list[References] = [self._alias_references]
        self._used_by_memo: tuple[int, dict[str, list[str]]] | None = None
        # What an alias move must pass (promotion rules, given by the composition root).
        self.alias_guards: list[AliasGuard] = []
        # what pickle-based files import, and the policy on it (the composition root sets the server's)
        self.pickle_scanner = Scanner()

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
            check_name(name)
            flavors.check_flavor(flavor)
            tags = check_tags(tags or {})
            properties = check_properties(properties or {})
            check_signature(signature)
            check_example(input_example, self.max_example_bytes)
            check_description(description)
        except InvalidInput:
            self.use_up(upload_id, created_by)
            raise
        upload = self.artifacts.claim_upload(upload_id, created_by)
        try:
            return self._register(
                name,
                upload,
                flavor=flavor,
                description=description,
                tags=tags,
                properties=properties,
                signature=signature,
                input_example=input_example,
                created_by=created_by,
                source_notebook=source_notebook,
                derived_from=derived_from,
                new_version=new_version,
            )
        finally:
            upload.unlink(missing_ok=True)

    def use_up(self, upload_id: object, user: str) -> None:
        """Remove the upload of a refused registration, if it is the user's: a registration uses
        its upload up whatever the outcome, so none is left waiting for its expiry."""
        try:
            self.artifacts.claim_upload(upload_id, user).unlink(missing_ok=True)
        except (InvalidInput, NotFound):
            pass

    def _register(
        self,
        name: str,
        upload,
        *,
        flavor,
        description,
        tags,
        properties,
        signature,
        input_example,
        created_by,
        source_notebook,
        derived_from,
        new_version,
    ) -> dict:
        lineage = self.get_version(derived_from)["ref"] if derived_from else None

        staged = self.artifacts.stage(upload)
        try:
            if not new_version:
                existing = self._find_identical(name, staged.content_hash)
                if existing is not None:
                    self.artifacts.discard_staged(staged)
                    existing.existing = True
                    return existing.as_dict()
            detected, detected_signature = flavors.detect(staged.folder / "files", [f["path"] for f in staged.files])
            scan = self.pickle_scanner.scan(staged.folder / "files", [f["path"] for f in staged.files])
            self.pickle_scanner.check(scan)  # under the refuse policy: a 400 naming the imports, nothing kept
            if scan is not None:
                properties = {**properties, "pickle_scan": scan}
            artifact_dir = self.artifacts.publish(staged, name)
        except BaseException:
            self.artifacts.discard_staged(staged)
            raise

        def insert(session: Session) -> int:
            model = session.scalar(select(Model).where(Model.name == name))
            if model is None:
                model = Model(name=name, created_by=created_by)
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
            events.record_event(session, "version_registered", name, row.version, created_by)
            history.record(
                session,
                "version.registered",
                f"{name}:{row.version}",
                model=name,
                version=row.version,
                new={"flavor": row.flavor, "content_hash": row.content_hash, "derived_from": lineage, "tags": tags},
                user=created_by,
            )
            return row.version

        try:
            number = self.db.write(insert)
        except BaseException:
            self.artifacts.remove(artifact_dir)
            raise
        self.log.info("registered %s:%s (%s, %d files)", name, number, flavor or detected, len(staged.files))
        with self.db.read() as session:
            # nothing can use or derive from a version that did not exist a moment ago
            registered = views.versions(session, [views.version_row(session, name, number)], used_by={})[0]
        registered.existing = False
        return registered.as_dict()

    def _find_identical(self, name: str, digest: str) -> views.Version | None:
        with self.db.read() as session:
            found = session.scalar(
                select(ModelVersion.id)
                .join(Model)
                .where(Model.name == name, ModelVersion.content_hash == digest)
                .order_by(ModelVersion.version.desc())
                .limit(1)
            )
            return views.versions(session, views.version_rows(session, [found]))[0] if found else None

    # -- reading ---------------------------------------------------------------------------

    def version(self, ref: str | ModelRef, generation: int | None = None, used: bool = True) -> views.Version:
        """One version, with what uses it, what derives from it and its actions (``used=False``:
        without them, and without asking any service). ``generation``: the registry's, when the
        caller has just read it (see ``used_by``)."""
        if isinstance(ref, str):
            ref = parse_ref(ref)
        if generation is None and used:
            generation = self.db.generation()  # before reading (see used_by)
        with self.db.read() as session:
            row = None
            if ref.version is not None or ref.alias is not None:  # NAME:VERSION or NAME@ALIAS: one query
                check_name(ref.name)
                row = views.version_row(session, ref.name, ref.version, ref.alias)
            if row is None:  # the latest, or a clear 404
                row = views.version_rows(session, [self.resolve(session, ref).id])[0]
            return views.versions(session, [row], self.used_by(session, generation) if used else None)[0]

    def get_version(self, ref: str | ModelRef) -> dict:
        return self.version(ref).as_dict()

    def model(self, name: str, archived: bool = False) -> views.ModelDetail:
        """One model with all its versions (newest first) and aliases."""
        with self.db.read() as session:
            model = self._model(session, name)
            stmt = views.VERSION_ROWS.where(ModelVersion.model_id == model.id)
            if not archived:
                stmt = stmt.where(ModelVersion.archived.is_(False))
            rows = session.execute(stmt.order_by(ModelVersion.version.desc())).all()
            summary = views.model_summaries(session, [model])[0]
            return views.ModelDetail(**summary.model_dump(), versions=views.versions(session, rows))

    def get_model(self, name: str, archived: bool = False) -> dict:
        return self.model(name, archived).as_dict()

    def models(
        self,
        q: str = "",
        filter: str = "",
        flavor: str | None = None,
        archived: bool = False,
        page: int = 1,
        per_page: int = 50,
        readable: Readable | None = None,
    ) -> views.ModelPage:
        """Models with at least one version matching every condition, most recently changed first;
        with ``readable``, only the models it allows (a user's, see ``permissions.readable``)."""
        page, per_page = search.check_page(page, per_page, self.max_per_page)
        matching = search.matching_versions(filter, flavor, archived, readable, self.db.engine.dialect.name)
        with self.db.read() as session:
            return search.model_page(session, matching, q, page, per_page)

    def list_models(self, *args, **kwargs) -> dict:
        return self.models(*args, **kwargs).as_dict()

    def versions(
        self,
        name: str | None = None,
        q: str = "",
        filter: str = "",
        flavor: str | None = None,
        archived: bool = False,
        page: int = 1,
        per_page: int = 50,
        readable: Readable | None = None,
        generation: int | None = None,
    ) -> views.VersionPage:
        """Versions matching every condition (of one model, or of all), newest first; those of one
        model with what each is used by and its actions (what a panel shows beside them); with
        ``readable``, only those of the models it allows. ``generation`` as for ``version``."""
        page, per_page = search.check_page(page, per_page, self.max_per_page)
        matching = search.matching_versions(filter, flavor, archived, readable, self.db.engine.dialect.name)
        if generation is None:
            generation = self.db.generation() if name is not None else 0  # before reading (see used_by)
        with self.db.read() as session:
            model_id = self._model(session, name).id if name is not None else None
            used_by = self.used_by(session, generation) if name is not None else None
            return search.version_page(session, matching, model_id, q, page, per_page, used_by)

    def list_versions(self, *args, **kwargs) -> dict:
        return self.versions(*args, **kwargs).as_dict()

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
            raise Damaged(
                " ".join(problems)
                if len(problems) <= 3
                else " ".join(problems[:3]) + f" ({len(problems) - 3} more files do not match either.)"
            )
        files_dir = self.artifacts.files_dir(artifact_dir, files)
        return {"ref": label, "files_dir": str(files_dir), "files": len(files)}

    def changes(self, after: int | None = None, limit: int = 200) -> views.Events:
        """The events feed after event ``after``; without it, only the current position."""
        with self.db.read() as session:
            return events.changes(session, after, limit)

    def events(self, after: int | None = None, limit: int = 200) -> dict:
        return self.changes(after, limit).as_dict()

    # -- changing --------------------------------------------------------------------------

    def update_version(
        self,
        ref: str | ModelRef,
        *,
        description: str | None = None,
        tags: dict | None = None,
        properties: dict | None = None,
        archived: bool | None = None,
        user: str = "",
    ) -> dict:
        """Change a version's mutable metadata.

        ``tags`` sets each key to its value, or removes it when the value is None. ``properties``
        only adds: a key that exists with another value is a conflict. ``archived`` hides or shows.
        """
        tag_changes = check_tags(tags or {}, allow_none=True)
        new_properties = check_properties(properties or {})
        if description is not None:
            check_description(description)

        def change(session: Session) -> str:
            row = self.resolve(session, ref)
            kind = "version_updated"
            old, new = {}, {}
            if description is not None and description != row.description:
                old["description"], new["description"] = row.description, description
            if tag_changes:
                before = {t.key: t.value for t in row.tags}
                changed = {k: v for k, v in tag_changes.items() if before.get(k) != v}
                if changed:
                    old["tags"], new["tags"] = {k: before.get(k) for k in changed}, changed
            if archived is not None and archived != row.archived:
                old["archived"], new["archived"] = row.archived, archived
            if new_properties:
                new["properties"] = new_properties
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
            events.record_event(session, kind, row.model.name, row.version, user)
            if new:
                label = f"{row.model.name}:{row.version}"
                history.record(
                    session,
                    "version.updated",
                    label,
                    model=row.model.name,
                    version=row.version,
                    old=old,
                    new=new,
                    user=user,
                )
            return f"{row.model.name}:{row.version}"

        return self.get_version(self.db.write(change))

    def set_alias(self, name: str, alias: str, version: int | str, user: str = "", rollback: bool = False) -> dict:
        """Point ``name@alias`` at a version (creating or moving it in one transaction), if it
        passes the alias guards (promotion rules); a ``rollback`` to the version the alias held
        before does not go through them."""
        check_alias(alias)
        target = target_ref(name, version)

        def move(session: Session) -> None:
            row = self.resolve(session, target)
            existing = session.get(Alias, (row.model_id, alias))
            before = existing.version.version if existing is not None else None
            if not rollback and before != row.version:
                for guard in self.alias_guards:
                    guard(session, row, alias, user)
            if existing is None:
                session.add(Alias(model_id=row.model_id, alias=alias, version_id=row.id))
            else:
                existing.version_id, existing.updated_time = row.id, utcnow()
            row.model.updated_time = utcnow()
            events.record_event(session, "alias_set", name, row.version, user)
            if before != row.version:
                history.record(
                    session,
                    "alias.moved",
                    f"{name}@{alias}",
                    model=name,
                    version=row.version,
                    old=before,
                    new=row.version,
                    user=user,
                )

        self.db.write(move)
        return self.get_version(ModelRef(name, alias=alias))

    def rollback_alias(self, name: str, alias: str, user: str = "") -> dict:
        """Point ``name@alias`` back at the version it pointed at before its last move (a change
        recorded like any other, so a second rollback undoes the first)."""
        check_alias(alias)
        with self.db.read() as session:
            self._model(session, name)
            last = history.last_change(session, "alias.moved", f"{name}@{alias}")
        if last is None:
            raise Conflict(f"{name}@{alias} has never been moved: there is no earlier version to return to.")
        if last.old is None:
            raise Conflict(
                f"{name}@{alias} was created by its last change ({last.user or 'unknown'}, {iso(last.time)}): there "
                f"is no earlier version to return to; %alias {name}@{alias} --delete removes it."
            )
        return self.set_alias(name, alias, last.old, user=user, rollback=True)

    def history(self, **filters) -> views.History:
        """History entries, newest first (``history.entries``: model, endpoint, action, user, since,
        until, limit). A name that is no model or endpoint, now or ever (no entry names it), is a 404."""
        with self.db.read() as session:
            result = history.entries(session, **filters)
            for kind in ("model", "endpoint"):
                name = filters.get(kind)
                if name and not result.entries and not history.known(session, kind, name):
                    raise NotFound(f"There is no {kind} {name!r}, and no history of one.")
            return result

    def endpoint_at(self, endpoint: str, at) -> views.EndpointState:
        """What served ``endpoint`` at ``at`` (``history.endpoint_at``)."""
        with self.db.read() as session:
            return history.endpoint_at(session, endpoint, at)

    def delete_alias(self, name: str, alias: str, user: str = "") -> None:
        check_alias(alias)

        def remove(session: Session) -> None:
            model = self._model(session, name)
            existing = session.get(Alias, (model.id, alias))
            if existing is None:
                raise NotFound(f"Model {name!r} has no alias {alias!r}{_known_aliases(model)}.")
            history.record(
                session, "alias.deleted", f"{name}@{alias}", model=name, old=existing.version.version, user=user
            )
            session.delete(existing)
            events.record_event(session, "alias_deleted", name, None, user)

        self.db.write(remove)

    def delete_version(self, ref: str | ModelRef, user: str = "") -> dict:
        """Delete a version and its files, unless something still refers to it (409)."""

        def remove(session: Session) -> tuple[str, str]:
            row = self.resolve(session, ref)
            self._refuse_if_referenced(session, row, "delete")
            label, artifact_dir = f"{row.model.name}:{row.version}", row.artifact_dir
            events.record_event(session, "version_deleted", row.model.name, row.version, user)
            history.record(
                session,
                "version.deleted",
                label,
                model=row.model.name,
                version=row.version,
                old={"content_hash": row.content_hash, "flavor": row.flavor},
                user=user,
            )
            session.delete(row)
            return label, artifact_dir

        label, artifact_dir = self.db.write(remove)
        self._remove_files(artifact_dir)
        return views.Deleted(deleted=[label]).as_dict()

    def delete_model(self, name: str, user: str = "") -> dict:
        """Delete every version of a model and the model, if nothing refers to any of them."""

        def remove(session: Session) -> tuple[list[str], list[str]]:
            model = self._model(session, name)
            rows = list(model.versions)
            used_by = self.referrers(session)
            users = [
                f"{name}:{r.version} is used by {who}" for r in rows for who in used_by.get(f"{name}:{r.version}", ())
            ]
            if users:
                raise Conflict(f"Cannot delete model {name!r}: " + "; ".join(users) + ". Remove those first.")
            labels = [f"{name}:{r.version}" for r in rows]
            dirs = [r.artifact_dir for r in rows]
            session.execute(delete(Tag).where(Tag.version_id.in_([r.id for r in rows])))
            session.execute(delete(ModelVersion).where(ModelVersion.model_id == model.id))
            session.delete(model)
            events.record_event(session, "model_deleted", name, None, user)
            history.record(session, "model.deleted", name, model=name, old={"versions": labels}, user=user)
            return labels, dirs

        labels, dirs = self.db.write(remove)
        for artifact_dir in dirs:
            self._remove_files(artifact_dir)
        return views.Deleted(deleted=labels).as_dict()

    def _remove_files(self, artifact_dir: str) -> None:
        """Remove a deleted version's files; a store that is away keeps them, and the sweep
        (``remove_orphans``) removes them once it answers."""
        try:
            self.artifacts.remove(artifact_dir)
        except Unavailable as exc:
            self.artifacts.defer_removal(artifact_dir)
            self.log.warning("Model Hub: %s; the files of %s are removed by a later sweep", exc.message, artifact_dir)

    def remove_orphans(self, ttl: float, horizon: float = ORPHAN_HORIZON) -> list[str]:
        """Remove the version folders no version refers to: those a registration wrote but did
        not commit (its process was killed, or the store or the database went away before it
        could clean up), once older than ``ttl`` seconds (younger ones may be a registration in
        progress, on any server), and those of versions deleted while the store was away.

        Only folders younger than ``ttl + horizon`` are taken for leftovers of a registration:
        the sweep runs every few minutes, so it finds those soon after ``ttl``, while an old
        folder without a row is more likely a registry pointed at another database, which must
        not cost its files. Returns the folders removed.
        """
        now = time.time()
        found = [
            d for d, _manifest, modified in self.artifacts.version_dirs() if now - horizon - ttl < modified < now - ttl
        ]
        deferred = self.artifacts.deferred_removals()
        candidates = sorted(set(found) | set(deferred))
        if not candidates:
            return []
        known: set[str] = set()
        with self.db.read() as session:
            for start in range(0, len(candidates), 500):
                chunk = candidates[start : start + 500]
                known.update(
                    session.scalars(select(ModelVersion.artifact_dir).where(ModelVersion.artifact_dir.in_(chunk)))
                )
        removed = []
        for artifact_dir in candidates:
            if artifact_dir not in known:
                self.artifacts.remove(artifact_dir)
                removed.append(artifact_dir)
        self.artifacts.forget_deferred(deferred)
        return removed

    # -- references ------------------------------------------------------------------------

    def referrers(self, session: Session) -> dict[str, list[str]]:
        """What uses each version (by NAME:VERSION), read now in ``session``: what the deletion
        guards check, in the transaction of the deletion."""
        used: dict[str, list[str]] = {}
        for index in self.references:
            for ref, users in index(session).items():
                used.setdefault(ref, []).extend(users)
        return used

    def used_by(self, session: Session, generation: int) -> dict[str, list[str]]:
        """``referrers`` for the pages that show it, remembered until the registry's generation
        moves (``store.generation``): reading every service's users of versions once per change,
        not once per page. ``generation`` must be read before ``session`` read anything."""
        memo = self._used_by_memo
        if memo is not None and memo[0] == generation:
            return memo[1]
        used = self.referrers(session)
        if generation:  # 0: a database without the generation, where nothing may be remembered
            self._used_by_memo = (generation, used)
        return used

    def _refuse_if_referenced(self, session: Session, row: ModelVersion, action: str) -> None:
        users = self.referrers(session).get(f"{row.model.name}:{row.version}", [])
        if users:
            raise Conflict(
                f"Cannot {action} {row.model.name}:{row.version}: it is used by {', '.join(users)}. "
                "Move or remove those references first."
            )

    @staticmethod
    def _alias_references(session: Session) -> dict[str, list[str]]:
        used: dict[str, list[str]] = {}
        for model, alias, version in session.execute(
            select(Model.name, Alias.alias, ModelVersion.version)
            .join(ModelVersion, ModelVersion.id == Alias.version_id)
            .join(Model, Model.id == ModelVersion.model_id)
            .order_by(Model.name, Alias.alias)
        ):
            used.setdefault(f"{model}:{version}", []).append(f"alias {model}@{alias}")
        return used

    # -- helpers ---------------------------------------------------------------------------

    def _model(self, session: Session, name: str) -> Model:
        check_name(name)
        model = session.scalar(select(Model).where(Model.name == name))
        if model is None:
            raise NotFound(f"No model named {name!r} is registered. `%models` lists the registered ones.")
        return model

    def resolve(self, session: Session, ref: str | ModelRef) -> ModelVersion:
        """The version ``ref`` names, with its model loaded (one query for NAME:VERSION, the most
        read reference); a clear 404 naming what exists otherwise."""
        if isinstance(ref, str):
            ref = parse_ref(ref)
        if ref.version is not None and ref.alias is None:
            check_name(ref.name)
            row = session.scalar(
                select(ModelVersion)
                .join(ModelVersion.model)
                .options(contains_eager(ModelVersion.model))
                .where(Model.name == ref.name, ModelVersion.version == ref.version)
            )
            if row is not None:
                return row
        model = self._model(session, ref.name)
        if ref.alias is not None:
            alias = session.get(Alias, (model.id, ref.alias))
            if alias is None:
                raise NotFound(f"Model {ref.name!r} has no alias {ref.alias!r}{_known_aliases(model)}.")
            set_committed_value(alias.version, "model", model)  # held: not loaded again when read
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
        set_committed_value(row, "model", model)
        return row


def _known_aliases(model: Model) -> str:
    names = sorted(a.alias for a in model.aliases)
    return f" (its aliases: {', '.join(names)})" if names else " (it has no aliases)"
