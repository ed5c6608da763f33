"""The registry's reads stay keyed as it grows: each query a version's page makes is answered
from an index, never by reading every version (the cost of a GET must not grow with the registry)."""

from __future__ import annotations

from sqlalchemy import text

from jupyter_modelhub.registry.version_actions import derived_versions
from jupyter_modelhub.store.database import Database


def plan_of(session, statement) -> str:
    compiled = statement.compile(session.bind, compile_kwargs={"literal_binds": True})
    return " | ".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


def test_the_versions_derived_from_a_version_are_found_by_index(tmp_path, monkeypatch):
    database = Database(f"sqlite:///{tmp_path / 'registry.db'}")
    captured = []
    with database.read() as session:
        real_execute = session.execute

        def capture(statement, *args, **kwargs):
            captured.append(statement)
            return real_execute(statement, *args, **kwargs)

        monkeypatch.setattr(session, "execute", capture)
        assert derived_versions(session, ["churn:1"]) == {}
        monkeypatch.undo()
        plan = plan_of(session, captured[0])
    database.dispose()
    assert "ix_model_versions_derived_from" in plan, plan
    assert "SCAN model_versions" not in plan, plan
