"""Parity, the kernel's half: the same input through the same scoring code, here, and the
differences from what the container or endpoint answered.

"Works in my notebook, not in the container" comes from different libraries more than from
different code, so both sides run ``jupyter_modelhub.serving``'s scorer for the model (or the
entry script's ``run()``); what differs is the Python and packages under it, which the report
lists side by side.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from ..flavors import BUILTIN_FLAVORS

# Compared by default: what decides a model's answers.
PACKAGES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "onnxruntime",
    "pandas",
    "joblib",
    "cloudpickle",
    "mlflow",
    "tornado",
    "orjson",
)


def local_answer(model_dir: Path, probe: dict):
    """What this kernel answers to the probe's request, through the runtime's own scorer."""
    from ..serving import protocols, scorers
    from ..serving.signature import Signature

    signature = Signature.from_json(probe["signature"]) if probe.get("signature") else None
    saved = {k: os.environ.get(k) for k in ("AZUREML_MODEL_DIR", "MODELHUB_MODEL_DIR")}
    script_dir = None
    try:
        script = None
        if probe.get("entry_script"):
            script_dir = tempfile.mkdtemp(prefix="modelhub-parity-")
            script = Path(script_dir) / probe["entry_script"]["name"]
            script.write_text(probe["entry_script"]["source"])
            sys.path.insert(0, script_dir)
        flavor = None if script else probe["flavor"] if probe["flavor"] in BUILTIN_FLAVORS else None
        scorer = scorers.load(model_dir, flavor, script, signature, 1)
        body = json.dumps(probe["request"]).encode()
        if isinstance(scorer, scorers.EntryScript):
            result = scorer.run(body.decode())
            return json.loads(result) if isinstance(result, (str, bytes)) else _plain(result)
        return json.loads(protocols.encode_score(scorer.predict(protocols.decode_score(body, scorer.signature))))
    finally:
        if script_dir in sys.path:
            sys.path.remove(script_dir)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _plain(value):
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def differences(expected, actual, tolerance: float, path: str = "") -> list[dict]:
    """Where two answers differ: structure, or numbers beyond ``tolerance`` (relative above 1)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            if key not in expected or key not in actual:
                out.append(
                    {
                        "path": f"{path}.{key}".lstrip("."),
                        "kernel": expected.get(key, "(missing)"),
                        "remote": actual.get(key, "(missing)"),
                        "difference": "only on one side",
                    }
                )
            else:
                out += differences(expected[key], actual[key], tolerance, f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [
                {
                    "path": path.lstrip(".") or "answer",
                    "kernel": f"{len(expected)} items",
                    "remote": f"{len(actual)} items",
                    "difference": "different lengths",
                }
            ]
        out = []
        for i, (a, b) in enumerate(zip(expected, actual)):
            out += differences(a, b, tolerance, f"{path}[{i}]")
        return out
    if _number(expected) and _number(actual):
        gap = abs(float(expected) - float(actual))
        if math.isnan(gap) or gap > tolerance * max(1.0, abs(float(expected))):
            return [{"path": path.lstrip("."), "kernel": expected, "remote": actual, "difference": gap}]
        return []
    if expected != actual:
        return [{"path": path.lstrip(".") or "answer", "kernel": expected, "remote": actual, "difference": "differs"}]
    return []


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def kernel_environment() -> dict:
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"python": sys.version.split()[0], "packages": packages}


def version_rows(kernel: dict, remote: dict) -> list[dict]:
    """Python and the packages that decide answers, kernel against remote, differences marked."""
    rows = [{"name": "python", "kernel": kernel["python"], "remote": remote.get("python", "?")}]
    for name in PACKAGES:
        here, there = kernel["packages"].get(name), remote.get("packages", {}).get(name)
        if here or there:
            rows.append({"name": name, "kernel": here or "-", "remote": there or "-"})
    for row in rows:
        row["same"] = row["kernel"] == row["remote"]
    return rows
