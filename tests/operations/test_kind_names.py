"""The image build's operation kind is ``image_build``: rows written under its earlier name
(``build``) are renamed by the migration, and the earlier name still works where users name a
kind (a filter, a ``max_parallel`` limit in their config)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from jupyter_modelhub.operations.runner import OperationRunner
from jupyter_modelhub.operations.store import OperationStore
from jupyter_modelhub.services import KINDS
from jupyter_modelhub.store.database import Database, alembic_config


def test_the_image_build_kind_is_named_image_build():
    assert "image_build" in KINDS and "build" not in KINDS


def test_builds_recorded_before_the_rename_are_image_builds_after_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path}/registry.db"
    engine = create_engine(url)
    command.upgrade(alembic_config(engine), "0006")  # a registry as the previous release left it
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO operations (kind, subject, status, progress, created_time, created_by) "
                "VALUES ('build', 'churn:1', 'succeeded', '{}', '2026-12-01 10:00:00', 'alice')"
            )
        )
    engine.dispose()

    database = Database(url)  # opening it upgrades to the newest migration
    store = OperationStore(database, tmp_path, tuple(KINDS))
    listed = store.page(kind="image_build")
    assert listed.total == 1 and listed.operations[0].kind == "image_build"
    assert store.page(kind="build").total == 1, "the earlier name still filters"
    database.dispose()


def test_a_limit_set_under_the_earlier_name_still_applies(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/registry.db")
    runner = OperationRunner(database, tmp_path, max_parallel={"build": 3})
    assert runner._limit("image_build") == 3
    assert runner._limit("convert") == runner.default_parallel
    database.dispose()
