"""The flavors, and flavor and signature detection from a version's files, on the server.

The client says the flavor when it knows (it serialised the estimator itself); otherwise the
files decide: an MLflow ``MLmodel`` file, a single ``.onnx`` file, a joblib/pickle file, at the
top of the version or inside the one folder it was registered from.
Registration never unpickles anything: it reads only declarative formats (MLmodel YAML, ONNX
protobuf). Only a conversion loads a pickle, and it does so in a child process (``convert``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .errors import InvalidInput

log = logging.getLogger(__name__)

# The one list of flavors (the registry, the REST schema and its OpenAPI enum, deploy, packaging
# and batch take it from here); ``serving`` ships alone and keeps its own copy, which a test holds equal to these.
FLAVORS = ("sklearn", "onnx", "mlflow", "custom")
# The flavors the scoring runtime serves with a built-in scorer; any other needs an entry script.
BUILTIN_FLAVORS = ("sklearn", "onnx", "mlflow")
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
SKOPS_SUFFIX = ".skops"  # scikit-learn models saved by skops.io, without pickle

# MLflow's column types -> numpy dtype names, so every flavor's signature uses one vocabulary.
_MLFLOW_TYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
    "string": "object",
    "binary": "bytes",
    "datetime": "datetime64[ns]",
}
_ONNX_TYPES = {
    1: "float32",
    2: "uint8",
    3: "int8",
    5: "int16",
    6: "int32",
    7: "int64",
    8: "object",
    9: "bool",
    10: "float16",
    11: "float64",
    12: "uint32",
    13: "uint64",
}


def check_flavor(flavor: str | None) -> str | None:
    if flavor is not None and flavor not in FLAVORS:
        raise InvalidInput(f"Unknown flavor {flavor!r}: expected one of {', '.join(FLAVORS)}.")
    return flavor


def detect(files_dir: Path, paths: list[str]) -> tuple[str, dict | None]:
    """Return (flavor, signature or None) for the files of a version.

    A registered folder keeps its name (``model/MLmodel``, ``model/model.joblib``), so the model
    is looked for in that folder when the version is one folder, and at the top otherwise.
    """
    root = model_root(paths)
    inside = [p[len(root) :] for p in paths]
    if "MLmodel" in inside:
        return "mlflow", _mlflow_signature(files_dir / root / "MLmodel")
    onnx_files = [p for p in paths if p.endswith(".onnx")]
    if len(onnx_files) == 1:
        return "onnx", onnx_signature(files_dir / onnx_files[0])
    if len(inside) == 1 and inside[0].endswith((*PICKLE_SUFFIXES, SKOPS_SUFFIX)):
        return "sklearn", None
    return "custom", None


def model_root(paths: list[str]) -> str:
    """``"model/"`` when every file is inside one top folder (a registered folder), else ``""``.

    The scoring runtime makes the same choice (``serving.scorers.model_root``).
    """
    tops = {p.split("/", 1)[0] for p in paths}
    if len(tops) == 1 and all("/" in p for p in paths):
        return tops.pop() + "/"
    return ""


def onnx_signature(path: Path) -> dict | None:
    """Inputs and outputs of an ONNX graph, read from its protobuf (no session is created)."""
    try:
        import onnx
    except ImportError:
        return None
    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:  # a corrupt file is the user's to discover at deploy time
        log.warning("could not read ONNX signature of %s: %s", path, exc)
        return None

    def describe(value) -> dict:
        tensor = value.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
        return {"name": value.name, "dtype": _ONNX_TYPES.get(tensor.elem_type, "unknown"), "shape": shape}

    initializers = {i.name for i in graph.initializer}
    return {
        "inputs": [describe(v) for v in graph.input if v.name not in initializers],
        "outputs": [describe(v) for v in graph.output],
    }


def _mlflow_signature(path: Path) -> dict | None:
    import yaml

    try:
        mlmodel = yaml.safe_load(path.read_text()) or {}
        signature = mlmodel.get("signature") or {}
        return (
            {
                "inputs": _mlflow_columns(signature.get("inputs")),
                "outputs": _mlflow_columns(signature.get("outputs")),
            }
            if signature
            else None
        )
    except Exception as exc:
        raise InvalidInput(f"The MLmodel file is not valid YAML with an MLflow signature: {exc}") from None


def _mlflow_columns(spec: str | None) -> list[dict]:
    columns = []
    for i, col in enumerate(json.loads(spec) if spec else []):
        if col.get("type") == "tensor":
            info = col.get("tensor-spec", {})
            columns.append(
                {
                    "name": col.get("name", f"input_{i}"),
                    "dtype": info.get("dtype", "unknown"),
                    "shape": info.get("shape", [-1]),
                }
            )
        else:
            columns.append(
                {
                    "name": col.get("name", f"col_{i}"),
                    "dtype": _MLFLOW_TYPES.get(col.get("type"), col.get("type", "unknown")),
                    "shape": [-1],
                }
            )
    return columns
