"""The magics of long work in real kernels, what only a kernel gives: a live progress widget
(whose final text papermill keeps, from the update that re-sends it at the end), and an
interrupt through the server that stops waiting and not the work. (The text bar of plain
IPython, %operations and %operation: in_process/test_operation_magics.py.)"""

from __future__ import annotations

import threading

import nbformat
import papermill
import pytest

from helpers.kernels import TRAIN, Kernel
from helpers.operations import StallingIndex, processes_in_group, worker_pid
from helpers.servers import wait_until


@pytest.fixture(scope="module")
def kernel(hub_server):
    k = Kernel(hub_server, "operations.ipynb")
    k.run("%load_ext jupyter_modelhub\n" + TRAIN + "\n%register opsm clf --sample X[:5]")
    yield k
    k.stop()


def test_an_interrupt_stops_waiting_not_the_build(kernel, hub_server, tmp_path):
    stall = StallingIndex()
    try:
        requirements = tmp_path / "requirements.txt"
        requirements.write_text(stall.requirements())

        def interrupt_once_the_build_runs():
            stall.asked.wait(60)
            hub_server.session.post(hub_server.url + f"api/kernels/{kernel.kernel_id}/interrupt")

        threading.Thread(target=interrupt_once_the_build_runs, daemon=True).start()
        out = kernel.run(f"%deploy stall-ep opsm:1 --requirements {requirements}")
        assert out["widgets"] == 1, out
        assert "Stopped waiting; operation" in out["text"] and "--cancel stops it" in out["text"], out
        assert kernel.run("print(1 + 1)")["text"].strip() == "2", "the kernel is free again"
        operation = hub_server.client().operations(kind="deploy", subject="stall-ep")["operations"][0]
        assert operation["status"] == "running", "the build goes on"
        pid = worker_pid(hub_server, operation["id"])
        out = kernel.run(f"%operation {operation['id']} --cancel")
        assert "cancelled" in out["text"], out
        wait_until(lambda: not processes_in_group(pid), 30, "the worker's processes to end")  # the worker exits after
    finally:
        stall.close()


@pytest.mark.usefixtures("kernel")  # which registered opsm:1
def test_papermill_keeps_the_progress_widget_and_its_outcome(hub_server, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELHUB_URL", hub_server.url)
    monkeypatch.setenv("MODELHUB_TOKEN", hub_server.token)
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%load_ext jupyter_modelhub"),
            nbformat.v4.new_code_cell("%convert opsm:1 --tolerance 1e-2"),
        ]
    )
    nbformat.write(notebook, tmp_path / "in.ipynb")
    executed = papermill.execute_notebook(
        str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), progress_bar=False, kernel_name="python3"
    )
    outputs = executed.cells[1]["outputs"]
    widget = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widget) == 1, outputs
    assert widget[0]["data"]["text/plain"].startswith("convert opsm:1 [########################] succeeded")
    assert any("(onnx) from opsm:1" in o.get("data", {}).get("text/plain", "") for o in outputs)
