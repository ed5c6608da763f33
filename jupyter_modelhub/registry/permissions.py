"""Who may do what to a model: ``read``, ``write`` (register, tag, alias, deploy, package, batch)
and ``manage`` (delete, permissions), granted per model to users and groups.

A user's permission on a model is the highest of: ``manage`` for admins and for the model's
creator; the grants to the user and to any of the user's groups; and the ``everyone`` grant of the
model when there is one, else the server's ``default_permission`` (``write`` by default, which
keeps a single user's server as it always was). An ``everyone`` grant of ``none`` closes a model
to everybody it does not name, without an explicit deny per user.

The REST handlers check here before they call a service, so the magics, the CLI and the panel,
which are all clients of REST, obey the same rules; a refusal is a ``Forbidden`` (403) naming
the permission missing and who can grant it. Listings filter with ``readable``, in SQL.

Not here: who the user is (``api.base`` asks jupyter_server), the grants' REST route and magics.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, bindparam, exists, or_, select, true
from sqlalchemy.orm import Session, aliased

from ..errors import Forbidden, InvalidInput, NotFound
from ..refs import check_name
from ..store.database import Database
from ..store.orm import Deployment, Endpoint, Grant, Model, ModelVersion, utcnow
from ..timestamps import iso
from . import events, history
from .views import PermissionGrant, Permissions

LEVELS = ("none", "read", "write", "manage")
RANK = {level: rank for rank, level in enumerate(LEVELS)}
EVERYONE = "everyone"
# user:NAME, group:NAME, everyone, or a bare NAME (a user); names as JupyterHub and the OS allow
# them (no spaces, no colon)
PRINCIPAL_PATTERN = r"^(everyone|(user:|group:)?[A-Za-z0-9_.@+\-]{1,128})$"
WHAT_NEEDS = {"read": "see it", "write": "change it", "manage": "delete it or change who may use it"}


@dataclass(frozen=True)
class Actor:
    """Who makes a request: the jupyter_server user's name, its groups, and the client it used
    (``kernel``, ``panel``, ``cli``, ``api``), which the history records."""

    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    client: str = "api"

    @property
    def principals(self) -> list[str]:
        return [f"user:{self.name}", *(f"group:{g}" for g in sorted(self.groups)), EVERYONE]


def check_principal(principal: str) -> str:
    """``user:NAME``, ``group:NAME`` or ``everyone``; a bare name is a user."""
    text = principal.strip()
    if not re.fullmatch(PRINCIPAL_PATTERN, text):
        raise InvalidInput(
            f"Invalid principal {principal[:80]!r}: give user:NAME, group:NAME or everyone "
            "(names of letters, digits and . _ - @ +, at most 128 characters)."
        )
    return text if text == EVERYONE or ":" in text else f"user:{text}"


def check_permission(permission: str) -> str:
    """A level, or ``default``: no grant of its own (for everyone: the server's default again)."""
    if permission not in (*LEVELS, "default"):
        raise InvalidInput(f"Invalid permission {permission[:40]!r}: give one of {', '.join(LEVELS)} or default.")
    return permission


_MODELS, _GRANTS = Model.__table__, Grant.__table__
# A model's creator and the grants to an actor's principals on it (a row with no grant when none),
# built once: every read of the registry asks it.
_MODEL_AND_GRANTS = (
    select(_MODELS.c.created_by, _GRANTS.c.principal, _GRANTS.c.permission)
    .outerjoin(
        _GRANTS,
        (_GRANTS.c.model_id == _MODELS.c.id) & _GRANTS.c.principal.in_(bindparam("principals", expanding=True)),
    )
    .where(_MODELS.c.name == bindparam("name"))
)


class ModelPermissions:
    """The permission checks and grants of one registry database."""

    def __init__(self, database: Database, admins: Iterable[str] = (), default_permission: str = "write"):
        if default_permission not in LEVELS:
            raise ValueError(f"default_permission must be one of {', '.join(LEVELS)}, not {default_permission!r}")
        self.db = database
        self.admins = frozenset(admins)
        self.default_permission = default_permission
        # (generation, {(actor, groups, model): level}): what ``require`` found at that generation
        self._allowed: tuple[int, dict] = (0, {})

    # -- what a user may do ----------------------------------------------------------------

    def level(self, session: Session, actor: Actor, model: Model | None) -> str:
        """The actor's permission on ``model``; on a model that does not exist yet, what the
        server's default gives (creating a model needs ``write`` there)."""
        if model is None:
            return "manage" if actor.name in self.admins else self.default_permission
        if self._manages(actor, model.created_by):
            return "manage"
        rows = session.execute(
            select(Grant.principal, Grant.permission).where(
                Grant.model_id == model.id, Grant.principal.in_(actor.principals)
            )
        ).all()
        return self._granted(dict(rows))

    def _manages(self, actor: Actor, created_by: str | None) -> bool:
        """Admins manage every model, and a model's creator manages it, whatever the grants say."""
        return actor.name in self.admins or bool(created_by) and created_by == actor.name

    def _granted(self, granted: dict[str, str]) -> str:
        """The level the actor's grants on a model give (``granted``: principal -> level)."""
        base = granted.pop(EVERYONE, self.default_permission)
        return max([base, *granted.values()], key=RANK.__getitem__)

    def require(
        self,
        actor: Actor,
        name: str,
        needed: str,
        action: str = "",
        creating: bool = False,
        generation: int | None = None,
    ) -> str:
        """Refuse (403) unless ``actor`` has ``needed`` on model ``name``; returns what it has.
        A model that does not exist is the service's to report (404), unless this request would
        create it (``creating``: a registration), which the server's default permission decides.

        Every read of the registry passes here first, so the model and the actor's grants on it
        come in one query; with the registry's ``generation`` just read (``store.generation``),
        what was allowed is remembered until it moves (a grant or a model changed)."""
        key = (actor.name, actor.groups, name)
        memo_generation, allowed = self._allowed
        if generation and memo_generation == generation and RANK[allowed.get(key, "none")] >= RANK[needed]:
            return allowed[key]
        has = self._require_now(actor, name, needed, action, creating)
        if generation:
            if memo_generation != generation or len(allowed) > 10_000:
                allowed = {}
                self._allowed = (generation, allowed)
            allowed[key] = has
        return has

    def _require_now(self, actor: Actor, name: str, needed: str, action: str, creating: bool) -> str:
        with self.db.read() as session:
            rows = session.execute(_MODEL_AND_GRANTS, {"name": name, "principals": actor.principals}).all()
            if not rows and not creating:
                return "none"
            if rows:
                if self._manages(actor, rows[0].created_by):
                    return "manage"
                has = self._granted({r.principal: r.permission for r in rows if r.principal is not None})
                if RANK[has] >= RANK[needed]:
                    return has
            model = session.scalar(select(Model).where(Model.name == name))  # a refusal, or a new model
            return self._require(session, actor, model, name, needed, action)

    def _require(self, session: Session, actor: Actor, model: Model | None, name: str, needed: str, action: str) -> str:
        has = self.level(session, actor, model)
        if RANK[has] >= RANK[needed]:
            return has
        if model is None:
            raise Forbidden(
                f"{actor.name} may not create model {name!r}: creating a model needs '{needed}', and this "
                f"server's default permission is '{self.default_permission}'. {self._ask_admins()}"
            )
        managers = self._managers(session, model)
        how = (
            f"ask {_names(managers)} (or an admin) to run: %grant {name} user:{actor.name} {needed}"
            if managers
            else self._ask_admins()
        )
        raise Forbidden(
            f"{actor.name} may not {action or WHAT_NEEDS[needed]} (model {name!r}): that needs '{needed}' on "
            f"{name!r}, and {actor.name} has '{has}'. To get it, {how}"
        )

    def require_endpoint(self, actor: Actor, endpoint: str, needed: str, action: str = "") -> None:
        """``needed`` on every model the endpoint serves: changing an endpoint changes what
        answers for each of them. An endpoint serving nothing asks for nothing."""
        with self.db.read() as session:
            models = session.scalars(
                select(Model)
                .join(ModelVersion, ModelVersion.model_id == Model.id)
                .join(Deployment, Deployment.version_id == ModelVersion.id)
                .join(Endpoint, Endpoint.id == Deployment.endpoint_id)
                .where(Endpoint.name == endpoint)
                .distinct()
            ).all()
            for model in models:
                self._require(
                    session, actor, model, model.name, needed, action or f"{WHAT_NEEDS[needed]} (endpoint {endpoint!r})"
                )

    def readable(self, actor: Actor, model_id: ColumnElement) -> ColumnElement:
        """A SQL condition on a model id column: true for the models ``actor`` may read."""
        if actor.name in self.admins:
            return true()
        readers = ("read", "write", "manage")
        grant = aliased(Grant)
        granted = exists().where(
            grant.model_id == model_id, grant.principal.in_(actor.principals), grant.permission.in_(readers)
        )
        creator = aliased(Model)  # never correlated with a listing's own models table
        created = exists().where(creator.id == model_id, creator.created_by == actor.name)
        if RANK[self.default_permission] < RANK["read"]:
            return or_(created, granted)
        by_default = ~exists().where(grant.model_id == model_id, grant.principal == EVERYONE)
        return or_(created, granted, by_default)

    def readable_names(self, actor: Actor, names: Iterable[str]) -> set[str]:
        """Which of these model names ``actor`` may read (names that are not models are kept:
        they are endpoints' or images' names in the events feed)."""
        wanted = set(names)
        if not wanted or actor.name in self.admins:
            return wanted
        with self.db.read() as session:
            models = session.execute(select(Model.id, Model.name).where(Model.name.in_(wanted))).all()
            if not models:
                return wanted
            readable = set(
                session.scalars(select(Model.name).where(Model.name.in_(wanted), self.readable(actor, Model.id))).all()
            )
        return (wanted - {name for _, name in models}) | readable

    # -- grants ----------------------------------------------------------------------------

    def permissions(self, actor: Actor, name: str) -> Permissions:
        """Who may do what to ``name``: its creator, the grants, the admins, the default, and
        the asking user's own permission. Needs ``read``."""
        with self.db.read() as session:
            model = self._model(session, name)
            self._require(session, actor, model, name, "read", "")
            return self._view(session, actor, model)

    def grant(self, actor: Actor, name: str, principal: str, permission: str) -> Permissions:
        """Give ``principal`` ``permission`` on ``name``. ``none`` or ``default`` take a user's or
        group's grant away; for ``everyone``, ``none`` closes the model to all it does not name and
        ``default`` gives it the server's default again. Needs ``manage``."""
        principal = check_principal(principal)
        permission = check_permission(permission)
        check_name(name)

        def change(session: Session) -> tuple[str, str]:
            model = self._model(session, name)
            self._require(session, actor, model, name, "manage", "change who may use it")
            row = session.get(Grant, (model.id, principal))
            old = row.permission if row is not None else ""
            if permission == "default" or (permission == "none" and principal != EVERYONE):
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(Grant(model_id=model.id, principal=principal, permission=permission, granted_by=actor.name))
            else:
                row.permission, row.granted_by, row.granted_time = permission, actor.name, utcnow()
            events.record_event(session, "permission_changed", name, None, actor.name)
            new = None if permission == "default" or (permission == "none" and principal != EVERYONE) else permission
            if (old or None) == new:
                return old, permission
            history.record(
                session,
                "permission.changed",
                f"{name} {principal}",
                model=name,
                old=old or None,
                new=new,
                user=actor.name,
            )
            return old, permission

        self.db.write(change)
        return self.permissions(actor, name)

    def _view(self, session: Session, actor: Actor, model: Model) -> Permissions:
        rows = session.scalars(select(Grant).where(Grant.model_id == model.id).order_by(Grant.principal)).all()
        return Permissions(
            model=model.name,
            creator=model.created_by,
            grants=[
                PermissionGrant(
                    principal=g.principal,
                    permission=g.permission,
                    granted_by=g.granted_by,
                    granted_time=iso(g.granted_time),
                )
                for g in rows
            ],
            admins=sorted(self.admins),
            default_permission=next((g.permission for g in rows if g.principal == EVERYONE), self.default_permission),
            managers=self._managers(session, model),
            yours=self.level(session, actor, model),
        )

    def _managers(self, session: Session, model: Model) -> list[str]:
        """Who can grant on ``model``: its creator and the users granted ``manage`` (admins are
        named separately)."""
        granted = session.scalars(
            select(Grant.principal).where(Grant.model_id == model.id, Grant.permission == "manage")
        ).all()
        names = [model.created_by] if model.created_by else []
        return names + [p for p in granted if p not in names]

    def _ask_admins(self) -> str:
        if not self.admins:
            return "Ask the server's operator to add you to c.ModelHubApp.admins or to raise its default_permission."
        return f"Ask an admin ({_names(sorted(self.admins))}) to grant it."

    @staticmethod
    def _model(session: Session, name: str) -> Model:
        model = session.scalar(select(Model).where(Model.name == name))
        if model is None:
            raise NotFound(f"Model {name!r} not found.")
        return model


def _names(names: list[str]) -> str:
    shown = [n.removeprefix("user:") for n in names[:5]]
    return ", ".join(shown) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
