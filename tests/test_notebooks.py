"""Every demo notebook in notebooks/ runs top to bottom against a real server, as a user would."""

from __future__ import annotations

from pathlib import Path

import papermill
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebook_runs_without_errors(notebook, hub_server, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELHUB_URL", hub_server.url)  # what the server exports to its kernels
    monkeypatch.setenv("MODELHUB_TOKEN", hub_server.token)
    executed = papermill.execute_notebook(str(notebook), str(tmp_path / notebook.name), cwd=str(tmp_path),
                                          progress_bar=False, kernel_name="python3")
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
              or (o.get("name") == "stderr" and "Error" in o.get("text", ""))]
    assert errors == []


def test_quickstart_leaves_the_registry_as_it_describes(hub_server, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELHUB_URL", hub_server.url)
    monkeypatch.setenv("MODELHUB_TOKEN", hub_server.token)
    papermill.execute_notebook(str(NOTEBOOKS[0]), str(tmp_path / "out.ipynb"), cwd=str(tmp_path),
                               progress_bar=False, kernel_name="python3")
    production = hub_server.client().version("churn@production")
    assert production["ref"] == "churn:2" and production["derived_from"] == "churn:1"
    assert production["tags"] == {"stage": "prod", "team": "growth"}
    assert hub_server.client().version("churn:1")["properties"]["accuracy"] > 0.9
    assert (tmp_path / "downloaded" / "model.joblib").exists()
