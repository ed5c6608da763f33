"""The demo notebooks in notebooks/, executed with papermill against a real server as a user runs
them: each in its own folder under the server's root, as a notebook opened in JupyterLab is."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import papermill
import pytest

from helpers.paths import NOTEBOOKS as NOTEBOOK_DIR
from helpers.servers import ServerProcess

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
QUICKSTART = NOTEBOOK_DIR / "01-quickstart.ipynb"


def requires(notebook: Path) -> list[str]:
    return nbformat.read(notebook, as_version=4).metadata.get("modelhub", {}).get("requires", [])


def execute(notebook: Path, server: ServerProcess) -> tuple[nbformat.NotebookNode, Path, float]:
    """Run ``notebook`` in its own folder under the server's root; (executed notebook, folder, seconds)."""
    folder = server.folder / "notebooks" / notebook.stem
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELHUB_URL", server.url)  # what the server exports to its kernels
        patch.setenv("MODELHUB_TOKEN", server.token)
        executed = papermill.execute_notebook(
            str(notebook), str(folder / notebook.name), cwd=str(folder), progress_bar=False, kernel_name="python3"
        )
    return executed, folder, time.perf_counter() - started


def errors_in(executed) -> list:
    return [
        o
        for c in executed.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "error" or (o.get("name") == "stderr" and "Error" in o.get("text", ""))
    ]


def text_of(executed) -> str:
    return "\n".join(
        str(o.get("text") or o.get("data", {}).get("text/plain", ""))
        for c in executed.cells
        for o in c.get("outputs", [])
    )
