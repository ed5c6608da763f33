"""What the registry answers: its REST response shapes as pydantic models, and how they are built
from database rows.

One shape per resource, in one place: the service builds these, the handlers serialise them
(``as_dict`` of ``jupyter_modelhub.views.View``: fields that were never set, such as ``used_by``
on a search result, stay absent), and the OpenAPI document is generated from them
(``api.schemas`` re-exports them).

Not here: request bodies (``api.schemas``; but the signature, a request's field the endpoints also
answer, is here), the queries that choose the rows (``search``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Optional

from pydantic import ConfigDict, Field, WithJsonSchema
from sqlalchemy import Integer, Row, String, bindparam, cast, func, literal, null, select, tuple_, union_all
from sqlalchemy.orm import Session

from ..fields import MAX_NAME, Int, Strict, text
from ..store.orm import Alias, Model, ModelVersion, Tag
from ..timestamps import iso
from ..views import Deleted, View  # noqa: F401  (Deleted: re-exported, the registry answers it)
from . import version_actions


class TensorSpec(Strict):
    name: text(MAX_NAME)
    dtype: text(64)
    shape: list[Annotated[Int, Field(ge=-1, le=2**53)]] = Field(default_factory=lambda: [-1])


# A version's inputs and outputs: a request's field (``RegisterRequest``), and what the endpoints
# answer for the version they serve (``deploy.views``). (No docstring: it would be the document's.)
class Signature(Strict):
    inputs: list[TensorSpec]
    outputs: list[TensorSpec] = Field(default_factory=list)


# Stored as sent (a request's Signature, or one detected from the files) and answered unchanged;
# documented as the request's Signature (``api.openapi`` turns the marker into its $ref).
StoredSignature = Annotated[
    Optional[dict[str, Any]],
    WithJsonSchema({"anyOf": [{"x-modelhub": "Signature"}, {"type": "null"}]}),
]


class FileEntry(View):
    path: str
    size: int
    sha256: Optional[str] = None


class Action(View):
    allowed: bool
    reason: str = Field(description="why not, in the words the refusing route would use; '' when allowed")


class VersionActions(View):
    """what can be done with the version now (computed by the server, so clients need no rules of their own)"""

    deploy: Action
    convert: Action = Field(description="to ONNX: scikit-learn versions not yet converted")
    package: Action
    alias: Action
    tag: Action
    archive: Action
    restore: Action
    download: Action
    delete: Action


class Version(View):
    # the document's signature is the request's, with no title of its own (as when it was typed so)
    model_config = ConfigDict(json_schema_extra=lambda schema: schema["properties"]["signature"].pop("title", None))

    name: str
    version: int
    ref: str
    flavor: str
    description: str
    tags: dict[str, str]
    properties: dict[str, Any]
    signature: StoredSignature
    input_example: Any
    files: list[FileEntry]
    size: int
    created_time: str
    created_by: str
    source_notebook: Optional[str]
    derived_from: Optional[str]
    archived: bool
    aliases: list[str]
    existing: Optional[bool] = Field(None, description="on registration: true if an identical version was returned")
    used_by: Optional[list[str]] = Field(
        None,
        description="what refers to it (endpoints, images, aliases, active "
        "operations); on one version and one model's versions",
    )
    derived_to: Optional[list[str]] = Field(None, description="versions derived from it (e.g. its ONNX conversion)")
    actions: Optional[VersionActions] = None


class ModelSummary(View):
    name: str
    description: str
    latest_version: Optional[int]
    version_count: int
    flavor: Optional[str]
    tags: dict[str, str]
    aliases: dict[str, int]
    created_time: str
    updated_time: str


class ModelDetail(ModelSummary):
    versions: list[Version]


class ModelPage(View):
    models: list[ModelSummary]
    total: int
    page: int
    per_page: int


class VersionPage(View):
    versions: list[Version]
    total: int
    page: int
    per_page: int


class Upload(View):
    upload_id: str
    files: list[FileEntry]
    size: int


class Event(View):
    id: int
    time: str
    kind: str = Field(description="what changed, e.g. version_registered, deployed, operation")
    model: str = Field(description="the model, or for an operation its subject")
    version: Optional[int]
    operation: Optional[int] = Field(None, description="the operation that changed (kind 'operation')")


class Events(View):
    events: list[Event]
    last_id: int


class PermissionGrant(View):
    principal: str = Field(description="user:NAME, group:NAME or everyone")
    permission: str = Field(description="read, write or manage (none: for everyone, closes the model)")
    granted_by: str
    granted_time: str


class Permissions(View):
    """who may do what to a model"""

    model: str
    creator: str = Field(description="who registered its first version: manages it")
    grants: list[PermissionGrant]
    admins: list[str] = Field(description="c.ModelHubApp.admins: manage every model")
    default_permission: str = Field(
        description="what everyone not named has: the model's 'everyone' grant, else the server's default"
    )
    managers: list[str] = Field(description="who can grant on this model besides the admins")
    yours: str = Field(description="the asking user's own permission on it")


class HistoryEntry(View):
    id: int
    at: str = Field(description="when (UTC)")
    user: str
    client: str = Field(description="where from: kernel, panel, cli, api, or server (the server's own work)")
    action: str = Field(description="what changed, e.g. alias.moved, traffic.changed, permission.changed")
    subject: str = Field(description="what it changed, e.g. churn@production, churn-ep/blue")
    model: Optional[str]
    version: Optional[int]
    endpoint: Optional[str]
    old: Any = Field(description="the value before (null when created)")
    new: Any = Field(description="the value after (null when deleted)")


class ServedVersion(View):
    deployment: str
    model: str
    version: int
    since: str


class EndpointState(View):
    """what served an endpoint at a moment, from its history"""

    endpoint: str
    at: str
    deployments: list[ServedVersion]
    traffic: dict[str, int]


class History(View):
    entries: list[HistoryEntry] = Field(description="newest first")
    more: bool = Field(description="older entries match too: ask with until= the oldest one's time, or a larger limit")
    state: Optional[EndpointState] = Field(
        None, description="an endpoint's history asked with at=: what served it then"
    )


class PromotionCheck(View):
    name: str = Field(description="equivalence, parity, evaluation or approval")
    status: str = Field(description="passed, failed, missing or not needed")
    detail: str = Field(description="what was found, or what to do")


class AliasChecks(View):
    alias: str
    current: Optional[str] = Field(description="NAME:VERSION the alias points at now")
    allowed: bool = Field(description="the alias may move to this version now")
    checks: list[PromotionCheck]


class EvidenceEntry(View):
    id: int
    kind: str = Field(description="evaluation, parity or approval")
    alias: Optional[str]
    passed: bool
    payload: dict[str, Any]
    user: str
    at: str


class Promotion(View):
    """a version's promotion checks, per alias under promotion rules, and its evidence (newest first)"""

    ref: str
    aliases: list[AliasChecks]
    evidence: list[EvidenceEntry]


# -- building them from rows ---------------------------------------------------------------


# A version's columns and its model's name as plain rows, what ``versions`` builds views from:
# loading ORM objects (with their JSON) costs several times as much, and a page holds fifty.
_VERSIONS, _MODELS = ModelVersion.__table__, Model.__table__
VERSION_COLUMNS = (*_VERSIONS.c, _MODELS.c.name.label("model_name"))
VERSION_ROWS = select(*VERSION_COLUMNS).join(_MODELS, _MODELS.c.id == _VERSIONS.c.model_id)
_TAGS, _ALIASES = Tag.__table__, Alias.__table__
_BY_NAME = VERSION_ROWS.where(_MODELS.c.name == bindparam("name"), _VERSIONS.c.version == bindparam("version"))
_BY_ALIAS = VERSION_ROWS.join(_ALIASES, _ALIASES.c.version_id == _VERSIONS.c.id).where(
    _MODELS.c.name == bindparam("name"), _ALIASES.c.alias == bindparam("alias")
)
_BY_ID = VERSION_ROWS.where(_VERSIONS.c.id.in_(bindparam("ids", expanding=True)))


def version_row(session: Session, name: str, number: int | None = None, alias: str | None = None) -> Row | None:
    """The row of NAME:VERSION or NAME@ALIAS for ``versions`` (None if there is none), in one keyed query."""
    if alias is not None:
        return session.execute(_BY_ALIAS, {"name": name, "alias": alias}).first()
    return session.execute(_BY_NAME, {"name": name, "version": number}).first()


def version_rows(session: Session, ids: list[int]) -> list[Row]:
    """The rows of these versions for ``versions``, in the order of ``ids``."""
    found = {row.id: row for row in session.execute(_BY_ID, {"ids": ids})} if ids else {}
    return [found[i] for i in ids if i in found]


def versions(session: Session, rows: Sequence[Row], used_by: dict[str, list[str]] | None = None) -> list[Version]:
    """The versions of ``rows`` (``VERSION_ROWS``, in order); with ``used_by`` (what uses each
    version, by NAME:VERSION: ``ModelRegistry.used_by``), also what derives from each and its
    actions (what a panel shows beside one model's versions). One more query for all of them."""
    refs = [f"{r.model_name}:{r.version}" for r in rows]
    tags, aliases, derived = _labels(session, [r.id for r in rows], refs if used_by is not None else [])
    out = [
        Version(
            name=r.model_name,
            version=r.version,
            ref=ref,
            flavor=r.flavor,
            description=r.description,
            tags=tags.get(r.id, {}),
            properties=r.properties,
            signature=r.signature,
            input_example=r.input_example,
            files=r.files,
            size=r.size,
            created_time=iso(r.created_time),
            created_by=r.created_by,
            source_notebook=r.source_notebook,
            derived_from=r.derived_from,
            archived=r.archived,
            aliases=sorted(aliases.get(r.id, [])),
        )
        for r, ref in zip(rows, refs)
    ]
    if used_by is not None:
        for version in out:
            users = used_by.get(version.ref, [])
            children = [(child, flavor) for _, child, flavor in sorted(derived.get(version.ref, []))]
            version.used_by = users
            version.derived_to = [child for child, _ in children]
            version.actions = VersionActions(**version_actions.version_actions(version, users, children))
    return out


_CHILDREN, _CHILD_MODELS = _VERSIONS.alias("child"), _MODELS.alias("child_model")
# Tags, aliases and derived versions of a page of versions in one round trip:
# (kind, version id or parent ref, key or alias or child model, value or child flavor, child id, child version)
_LABELS = union_all(
    select(
        literal("tag"), _TAGS.c.version_id, cast(null(), String), _TAGS.c.key, _TAGS.c.value, cast(null(), Integer)
    ).where(_TAGS.c.version_id.in_(bindparam("ids", expanding=True))),
    select(
        literal("alias"),
        _ALIASES.c.version_id,
        cast(null(), String),
        _ALIASES.c.alias,
        cast(null(), String),
        cast(null(), Integer),
    ).where(_ALIASES.c.version_id.in_(bindparam("ids", expanding=True))),
    select(
        literal("derived"),
        _CHILDREN.c.id,
        _CHILDREN.c.derived_from,
        _CHILD_MODELS.c.name,
        _CHILDREN.c.flavor,
        _CHILDREN.c.version,
    )
    .join(_CHILD_MODELS, _CHILD_MODELS.c.id == _CHILDREN.c.model_id)
    .where(_CHILDREN.c.derived_from.in_(bindparam("refs", expanding=True))),
)


def _labels(session: Session, ids: list[int], refs: list[str]) -> tuple[dict, dict, dict]:
    """{version id: {key: value}}, {version id: [alias]}, {parent ref: [(child id, child ref, flavor)]}."""
    tags: dict[int, dict[str, str]] = {}
    aliases: dict[int, list[str]] = {}
    derived: dict[str, list[tuple[int, str, str]]] = {}
    if not ids:
        return tags, aliases, derived
    # an empty IN list is valid SQL for SQLAlchemy (it renders a false condition)
    for kind, number, parent, key, value, child_version in session.execute(_LABELS, {"ids": ids, "refs": refs}):
        if kind == "tag":
            tags.setdefault(number, {})[key] = value
        elif kind == "alias":
            aliases.setdefault(number, []).append(key)
        else:
            derived.setdefault(parent, []).append((number, f"{key}:{child_version}", value))
    for version_tags in tags.values():  # in key order, as they are shown
        ordered = dict(sorted(version_tags.items()))
        version_tags.clear()
        version_tags.update(ordered)
    return tags, aliases, derived


def model_summaries(session: Session, models: list[Model]) -> list[ModelSummary]:
    """Each model with its latest unarchived version's description, flavor and tags, its count
    of unarchived versions and its aliases (a few queries for all of them)."""
    if not models:
        return []
    ids = [m.id for m in models]
    # the latest unarchived version of each model and their count, then those versions by their
    # (model, number) key: joining the two lets PostgreSQL scan every version instead
    numbers = session.execute(
        select(ModelVersion.model_id, func.max(ModelVersion.version), func.count())
        .where(ModelVersion.model_id.in_(ids), ModelVersion.archived.is_(False))
        .group_by(ModelVersion.model_id)
    ).all()
    counts = {model_id: count for model_id, _, count in numbers}
    # the columns a summary shows, not whole versions: their JSON (files, signature, input example)
    # would be decoded for nothing
    latest = (
        {
            row.model_id: (row, counts[row.model_id])
            for row in session.execute(
                select(
                    ModelVersion.id,
                    ModelVersion.model_id,
                    ModelVersion.version,
                    ModelVersion.description,
                    ModelVersion.flavor,
                ).where(
                    ModelVersion.model_id.in_(ids),
                    tuple_(ModelVersion.model_id, ModelVersion.version).in_([(m, v) for m, v, _ in numbers]),
                )
            )
        }
        if numbers
        else {}
    )
    tags = tags_by_version(session, [row.id for row, _ in latest.values()])
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
        out.append(
            ModelSummary(
                name=model.name,
                description=row.description if row else "",
                latest_version=row.version if row else None,
                version_count=count,
                flavor=row.flavor if row else None,
                tags=tags.get(row.id, {}) if row else {},
                aliases=aliases.get(model.id, {}),
                created_time=iso(model.created_time),
                updated_time=iso(model.updated_time),
            )
        )
    return out


def tags_by_version(session: Session, ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    if ids:
        for version_id, key, value in session.execute(
            select(Tag.version_id, Tag.key, Tag.value).where(Tag.version_id.in_(ids)).order_by(Tag.key)
        ):
            out.setdefault(version_id, {})[key] = value
    return out
