"""--gpu on a machine without one: the runtime refuses clearly instead of serving on the CPU
(these machines have no GPU: what is tested is the request and the error, not the speed)."""

from __future__ import annotations

import subprocess
import sys

from skl2onnx import to_onnx
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

X, y = make_classification(100, 4, random_state=0)


def run_runtime(model_dir, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "jupyter_modelhub.serving", "--model-dir", str(model_dir), "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_gpu_without_a_cuda_provider_fails_clearly_and_never_serves_on_the_cpu(tmp_path):
    onnx = to_onnx(LogisticRegression().fit(X, y), X[:1].astype("float32"), options={"zipmap": False})
    (tmp_path / "model.onnx").write_bytes(onnx.SerializeToString())
    result = run_runtime(tmp_path, "--gpu")
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "MODELHUB_READY" not in output
    assert "CUDA provider" in output and "onnxruntime-gpu" in output and "without --gpu" in output, output


def test_gpu_is_for_onnx_models(tmp_path):
    import joblib

    joblib.dump(LogisticRegression().fit(X, y), tmp_path / "model.joblib")
    result = run_runtime(tmp_path, "--gpu", "--flavor", "sklearn")
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "convert it to ONNX first" in output, output
