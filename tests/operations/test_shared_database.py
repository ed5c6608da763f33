"""Servers that share a database but no disk each run their own operations: the inputs of an
operation are files under the server that created it. A server's runner neither claims another
server's queued operation (it failed with "No such file ... worker.json" and the operation stayed
running for ever), nor fails its running ones at start, and a cancel of one is refused."""

from __future__ import annotations

import pytest

from jupyter_modelhub.errors import Conflict
from jupyter_modelhub.operations.runner import OperationRunner
from jupyter_modelhub.operations.store import OperationStore
from jupyter_modelhub.store.database import Database


@pytest.fixture
def database(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/registry.db")
    yield database
    database.dispose()


def test_a_server_runs_only_the_operations_it_created(database, tmp_path):
    on_b = OperationStore(database, tmp_path / "b").create("convert", "churn:1", {"ref": "churn:1"})
    runner_a = OperationRunner(database, tmp_path / "a")
    assert runner_a.store.active() == []
    runner_a._launch()  # one round of the runner's thread
    assert runner_a.store.get(on_b["id"])["status"] == "queued", "A left B's operation for B"
    assert OperationStore(database, tmp_path / "b").active()[0][0] == on_b["id"]


def test_a_running_operation_of_another_server_is_neither_failed_at_start_nor_cancelled(database, tmp_path):
    store_b = OperationStore(database, tmp_path / "b")
    on_b = store_b.create("convert", "churn:1", {"ref": "churn:1"})
    assert store_b.claim(on_b["id"])
    runner_a = OperationRunner(database, tmp_path / "a")
    runner_a.start()  # would fail a running operation whose worker it cannot find
    try:
        assert store_b.get(on_b["id"])["status"] == "running"
        with pytest.raises(Conflict, match="runs on another Model Hub server"):
            runner_a.cancel(on_b["id"])
        assert store_b.get(on_b["id"])["status"] == "running"
    finally:
        runner_a.stop()
