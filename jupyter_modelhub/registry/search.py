"""Listings of models and versions: the conditions (name substring, tag filter, flavor, archived),
paging, and the order (most recently changed first).

The tag filter's grammar is ``tagfilter``; this module turns its terms into SQL. Every listing
is one counting query and one page query, whatever the number of terms.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .. import flavors
from ..errors import InvalidInput
from ..refs import MAX_VERSION
from ..store.orm import Model, ModelVersion, Tag
from . import views
from .tagfilter import FilterError, TagTerm, parse_filter

MAX_PAGE = MAX_VERSION  # offsets stay far inside 64 bits


def model_page(session: Session, matching: Select, q: str, page: int, per_page: int) -> views.ModelPage:
    """Models with at least one of the ``matching`` versions, whose name contains ``q``, most
    recently changed first."""
    matching = matching.with_only_columns(ModelVersion.model_id)
    stmt = select(Model).where(Model.id.in_(matching))
    if q:
        stmt = stmt.where(Model.name.contains(q, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    models = session.scalars(
        stmt.order_by(Model.updated_time.desc(), Model.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return views.ModelPage(models=views.model_summaries(session, models), total=total, page=page, per_page=per_page)


def version_page(
    session: Session,
    matching: Select,
    model_id: int | None,
    q: str,
    page: int,
    per_page: int,
    used_by: dict[str, list[str]] | None = None,
) -> views.VersionPage:
    """The ``matching`` versions (of one model, or of all models whose name contains ``q``),
    newest first."""
    stmt = matching.join(Model)
    if model_id is not None:
        stmt = stmt.where(ModelVersion.model_id == model_id)
    if q:
        stmt = stmt.where(Model.name.contains(q, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(
        stmt.with_only_columns(*views.VERSION_COLUMNS)
        .order_by(ModelVersion.created_time.desc(), ModelVersion.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return views.VersionPage(versions=views.versions(session, rows, used_by), total=total, page=page, per_page=per_page)


def matching_versions(filter: str, flavor: str | None, archived: bool) -> Select:
    """The versions that pass the tag filter, the flavor and the archived condition (checked
    here, before any query runs)."""
    try:
        terms = parse_filter(filter)
    except FilterError as exc:
        raise InvalidInput(str(exc)) from None
    flavors.check_flavor(flavor or None)
    stmt = select(ModelVersion)
    for term in terms:
        stmt = stmt.where(tag_condition(term))
    if flavor:
        stmt = stmt.where(ModelVersion.flavor == flavor)
    if not archived:
        stmt = stmt.where(ModelVersion.archived.is_(False))
    return stmt


def tag_condition(term: TagTerm):
    # IN (uncorrelated subquery) lets the database start from the (key, value) index of tags
    # instead of probing every version, which is what keeps tag search fast at 10,000 versions.
    tagged = select(Tag.version_id).where(Tag.key == term.key)
    if term.op == "has":
        return ModelVersion.id.in_(tagged)
    with_value = tagged.where(Tag.value == term.value)
    return ModelVersion.id.in_(with_value) if term.op == "=" else ModelVersion.id.not_in(with_value)


def check_page(page: int, per_page: int, max_per_page: int) -> tuple[int, int]:
    if not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"Invalid page {page!r}: pages go from 1 to {MAX_PAGE}.")
    if not isinstance(per_page, int) or not 1 <= per_page <= max_per_page:
        raise InvalidInput(f"Invalid per_page {per_page!r}: expected 1 to {max_per_page}.")
    return page, per_page
