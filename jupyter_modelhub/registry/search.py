"""Listings of models and versions: the conditions (name substring, tag filter, flavor, archived),
paging, and the order (most recently changed first).

The tag filter's grammar is ``tagfilter``; this module turns its terms into SQL. Every listing
is one counting query and one page query, whatever the number of terms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from .. import flavors
from ..errors import InvalidInput
from ..refs import MAX_VERSION
from ..store.orm import Model, ModelVersion, Tag
from . import views
from .tagfilter import FilterError, TagTerm, parse_filter

MAX_PAGE = MAX_VERSION  # offsets stay far inside 64 bits


# A page of versions is found by walking them newest first when at least this many match (the
# page's 50 turn up within a few hundred rows); fewer are sorted once found from the tags' index.
WALK_FROM = 2000


@dataclass(frozen=True)
class Matching:
    """The conditions of a listing (tag terms, flavor, archived, who may read), as the two forms
    of SQL the database answers fastest in turn: *found* from the tags' (key, value) index (what
    counting every match needs, and a page of few matches), or *checked* row by row (a page of
    many matches, walked newest first until it is full, or a model checked for any version)."""

    terms: tuple[TagTerm, ...]
    flavor: str | None
    archived: bool
    readable: Callable[[ColumnElement], ColumnElement] | None
    dialect: str = "sqlite"  # the database's (``Engine.dialect.name``): the fastest forms differ

    def found(self) -> Select:
        return self._select([_tag_found(term) for term in self.terms])

    def checked(self, version: type[ModelVersion] | AliasedClass = ModelVersion) -> Select:
        return self._select([_tag_checked(term, version) for term in self.terms], version)

    def _select(self, tag_conditions: list, version=ModelVersion) -> Select:
        stmt = select(version.id).where(*tag_conditions)
        if self.flavor:
            stmt = stmt.where(version.flavor == self.flavor)
        if not self.archived:
            stmt = stmt.where(version.archived.is_(False))
        if self.readable is not None and self.dialect == "postgresql":
            # a condition on models, found once for all of them: PostgreSQL joins it with the
            # matches; checked per version it probes grants three times for each match
            stmt = stmt.where(version.model_id.in_(select(Model.id).where(self.readable(Model.id))))
        elif self.readable is not None:
            # SQLite would start from that list of models and read all their versions instead of
            # starting from the tags' index; per version, it probes a few rows per match
            stmt = stmt.where(self.readable(version.model_id))
        return stmt


def matching_versions(filter: str, flavor: str | None, archived: bool, readable=None, dialect="sqlite") -> Matching:
    """The versions that pass the tag filter, the flavor, the archived condition and ``readable``
    (checked here, before any query runs)."""
    try:
        terms = parse_filter(filter)
    except FilterError as exc:
        raise InvalidInput(str(exc)) from None
    flavors.check_flavor(flavor or None)
    return Matching(tuple(terms), flavor or None, archived, readable, dialect)


def model_page(session: Session, matching: Matching, q: str, page: int, per_page: int) -> views.ModelPage:
    """Models with at least one of the ``matching`` versions, whose name contains ``q``, most
    recently changed first. Without tag terms each model is checked for such a version (one
    index probe each); with them, the models are found from the tags' index."""
    if matching.terms:
        has_version = Model.id.in_(matching.found().with_only_columns(ModelVersion.model_id))
    else:
        version = aliased(ModelVersion)
        has_version = exists(matching.checked(version).where(version.model_id == Model.id))
    stmt = select(Model).where(has_version)
    if q:
        stmt = stmt.where(Model.name.contains(q, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    models = session.scalars(
        stmt.order_by(Model.updated_time.desc(), Model.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return views.ModelPage(models=views.model_summaries(session, models), total=total, page=page, per_page=per_page)


def version_page(
    session: Session,
    matching: Matching,
    model_id: int | None,
    q: str,
    page: int,
    per_page: int,
    used_by: dict[str, list[str]] | None = None,
) -> views.VersionPage:
    """The ``matching`` versions (of one model, or of all models whose name contains ``q``),
    newest first: counted from the tags' index, then the page found the same way when few match,
    or walked newest first when many do (``WALK_FROM``)."""

    def narrowed(stmt: Select) -> Select:
        stmt = stmt.join(Model, Model.id == ModelVersion.model_id)
        if model_id is not None:
            stmt = stmt.where(ModelVersion.model_id == model_id)
        if q:
            stmt = stmt.where(Model.name.contains(q, autoescape=True))
        return stmt

    total = session.scalar(select(func.count()).select_from(narrowed(matching.found()).subquery()))
    chosen = matching.checked() if matching.terms and total >= WALK_FROM else matching.found()
    rows = session.execute(
        narrowed(chosen)
        .with_only_columns(*views.VERSION_COLUMNS)
        .order_by(ModelVersion.created_time.desc(), ModelVersion.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return views.VersionPage(versions=views.versions(session, rows, used_by), total=total, page=page, per_page=per_page)


def _tag_found(term: TagTerm):
    # IN (uncorrelated subquery) lets the database start from the (key, value) index of tags
    # instead of probing every version: what counting matches needs.
    tagged = select(Tag.version_id).where(Tag.key == term.key)
    if term.op == "has":
        return ModelVersion.id.in_(tagged)
    with_value = tagged.where(Tag.value == term.value)
    return ModelVersion.id.in_(with_value) if term.op == "=" else ModelVersion.id.not_in(with_value)


def _tag_checked(term: TagTerm, version=ModelVersion):
    # EXISTS (correlated) probes one version's tags by their primary key (version_id, key)
    tagged = exists().where(Tag.version_id == version.id, Tag.key == term.key)
    if term.op == "has":
        return tagged
    with_value = exists().where(Tag.version_id == version.id, Tag.key == term.key, Tag.value == term.value)
    return with_value if term.op == "=" else ~with_value


def check_page(page: int, per_page: int, max_per_page: int) -> tuple[int, int]:
    if not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"Invalid page {page!r}: pages go from 1 to {MAX_PAGE}.")
    if not isinstance(per_page, int) or not 1 <= per_page <= max_per_page:
        raise InvalidInput(f"Invalid per_page {per_page!r}: expected 1 to {max_per_page}.")
    return page, per_page
