"""The registry's reads stay keyed as it grows: each query a version's page makes is answered
from an index, never by reading every version or every tag (the cost of a GET must not grow with
the registry)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from jupyter_modelhub.registry import permissions, views
from jupyter_modelhub.store.database import Database


@pytest.fixture
def session(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'registry.db'}")
    with database.read() as session:
        yield session
    database.dispose()


def plan_of(session, statement, **params) -> str:
    compiled = statement.params(**params).compile(
        session.bind, compile_kwargs={"literal_binds": True, "render_postcompile": True}
    )
    return " | ".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


@pytest.mark.parametrize(
    "statement, params",
    [
        (views._BY_NAME, {"name": "churn", "version": 3}),
        (views._LABELS, {"ids": [1, 2], "refs": ["churn:1", "churn:2"]}),
        (permissions._MODEL_AND_GRANTS, {"name": "churn", "principals": ["user:ana", "everyone"]}),
    ],
    ids=["version", "tags-aliases-derived", "model-and-grants"],
)
def test_a_versions_reads_are_keyed(session, statement, params):
    plan = plan_of(session, statement, **params)
    assert "SCAN" not in plan, plan  # every table (aliased ones too) is searched by a key
    if statement is views._LABELS:
        assert "ix_model_versions_derived_from" in plan, plan
