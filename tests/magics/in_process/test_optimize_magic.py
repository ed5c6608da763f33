"""``%deploy --optimize`` and the speed-up hint, in an in-process IPython shell on a real Jupyter
server: a plain deploy of a scikit-learn version with a proven ONNX form says what the ONNX form
would gain and how to use it; ``--optimize`` serves that form, and ``%endpoint`` says so."""

from __future__ import annotations

import re


def test_deploy_prints_the_speed_up_then_optimize_serves_the_onnx_form(shell):
    out = shell.run("%register opt-churn clf --sample X[:20]\n%convert opt-churn:1")
    assert not out["error"], out
    out = shell.run("%deploy opt-ep opt-churn:1")
    assert not out["error"], out
    hint = re.search(
        r"its ONNX form opt-churn:2 answers ([\d.]+)x faster a row \(measured at conversion\)", out["text"]
    )
    assert hint and float(hint.group(1)) > 1, out["text"]
    assert "%deploy opt-ep opt-churn:1 --deployment blue --optimize" in out["text"]
    assert "ONNX form opt-churn:2" in out["html"]

    out = shell.run("ep = %deploy opt-ep opt-churn:1 --optimize\n%endpoint opt-ep")
    assert not out["error"], out
    assert "serves opt-churn:2, the ONNX form of opt-churn:1 (an existing conversion" in out["text"]
    assert "equivalence proof: opt-churn:2 (properties.equivalence)" in out["text"]
    assert "faster a row (measured" not in out["text"], "no hint once the ONNX form serves"
    out = shell.run("assert ep.predict(X[:5])['predictions'] == clf.predict(X[:5]).tolist()")
    assert not out["error"], out
    shell.run("%undeploy opt-ep")


def test_optimize_of_a_model_without_an_onnx_form_is_a_one_line_error(shell, tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\0" * 8)
    shell.run(f"%register opt-custom {tmp_path / 'weights.bin'} --flavor custom")
    out = shell.run("%deploy opt-custom-ep opt-custom:1 --optimize")
    assert out["error"].startswith("UsageError: --optimize serves a scikit-learn version through its ONNX form")
