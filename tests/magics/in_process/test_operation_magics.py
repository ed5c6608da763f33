"""The magics of long work in an in-process IPython shell on a real Jupyter server: the text
progress bar of plain IPython, and %operations / %operation. (The widget a notebook shows, also
when papermill runs it, and an interrupt through the server: tests/magics/test_progress_widgets.py.)"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def opsm(shell):
    registered = shell.run("%register opsm clf --sample X[:5]")
    assert not registered["error"], registered


def test_no_wait_returns_an_operation_that_the_operation_magics_show(shell, hub_server):
    out = shell.run("op = %convert opsm:1 --no-wait\nop")
    assert not out["error"], out
    assert "convert opsm:1:" in out["text"] and "%operation" in out["html"]
    out = shell.run("op.wait()\nprint(op['status'], op['link']['ref'])")
    assert "succeeded opsm:2" in out["text"], out
    out = shell.run("%operations --kind convert")
    assert "convert" in out["text"] and "opsm:1" in out["text"] and "succeeded" in out["text"], out
    number = hub_server.client().operations(kind="convert", subject="opsm:1")["operations"][0]["id"]
    out = shell.run(f"%operation {number} --log")
    assert "checking equivalence" in out["text"] and "succeeded" in out["text"], out
    out = shell.run(f"%operation {number} --cancel")
    assert out["error"].startswith("UsageError") and "already succeeded" in out["error"], out
    out = shell.run("%operation 99999")
    assert "No operation 99999" in out["error"], out


def test_plain_ipython_shows_a_text_progress_bar(shell):
    out = shell.run("%convert opsm:1 --tolerance 1e-3")
    assert not out["error"] and out["widgets"] == 0, out
    lines = out["text"].splitlines()
    bars = [line for line in lines if line.startswith("convert opsm:1 [")]
    assert len(bars) >= 2 and "succeeded" in bars[-1] and "#" * 24 in bars[-1], out
    assert any("opsm:" in line and "(onnx) from opsm:1" in line for line in lines), out
