"""Progress in a notebook updates in place and leaves one line in the saved notebook, with or
without ipywidgets in the kernel (issue 23): a real kernel run by papermill waits for a real
conversion on a real server, and the saved notebook is read back."""

from __future__ import annotations

import re

import nbformat
import papermill
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

X, y = make_classification(200, 6, random_state=2)
BAR = re.compile(r"^convert progm:1 \[[#.]{24}\] ")
WITHOUT_WIDGETS = "import sys\nsys.modules['ipywidgets'] = None  # as in a kernel without ipywidgets: import fails"


@pytest.fixture(scope="module")
def registered(hub_server):
    hub_server.client().register("progm", LogisticRegression().fit(X, y), sample=X[:5])


def run(hub_server, tmp_path, monkeypatch, first_cell: str, tolerance: str):
    monkeypatch.setenv("MODELHUB_URL", hub_server.url)
    monkeypatch.setenv("MODELHUB_TOKEN", hub_server.token)
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(first_cell + "\n%load_ext jupyter_modelhub"),
            nbformat.v4.new_code_cell(f"%convert progm:1 --tolerance {tolerance}"),
        ]
    )
    nbformat.write(notebook, tmp_path / "in.ipynb")
    executed = papermill.execute_notebook(
        str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), progress_bar=False, kernel_name="python3"
    )
    saved = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert saved.cells[1]["outputs"] == executed.cells[1]["outputs"]
    outputs = saved.cells[1]["outputs"]
    texts = [
        o.get("text", "") if o["output_type"] == "stream" else o.get("data", {}).get("text/plain", "") for o in outputs
    ]
    lines = [line for text in texts for line in text.splitlines() if BAR.match(line)]
    return outputs, lines


@pytest.mark.usefixtures("registered")
def test_without_ipywidgets_the_saved_notebook_keeps_one_progress_line(hub_server, tmp_path, monkeypatch):
    outputs, lines = run(hub_server, tmp_path, monkeypatch, WITHOUT_WIDGETS, "1e-2")
    assert len(lines) == 1, outputs
    assert " succeeded " in lines[0] and lines[0].endswith(" s"), lines
    assert not any(o["output_type"] == "stream" and BAR.match(o.get("text", "")) for o in outputs), outputs
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert "queued queued" not in str(outputs)


@pytest.mark.usefixtures("registered")
def test_with_ipywidgets_the_saved_notebook_keeps_one_progress_line(hub_server, tmp_path, monkeypatch):
    pytest.importorskip("ipywidgets")
    outputs, lines = run(hub_server, tmp_path, monkeypatch, "", "1e-3")
    assert len(lines) == 1 and " succeeded " in lines[0], outputs
    assert sum("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs) == 1
