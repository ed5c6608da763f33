"""Request and response bodies of the three protocols the runtime speaks.

- Azure ML, ``POST /score``: ``{"data": ...}`` in; the outputs out (one output: its values;
  several: an object by output name).
- MLflow, ``POST /invocations``: one of ``dataframe_split``, ``dataframe_records``,
  ``instances`` or ``inputs`` in; ``{"predictions": ...}`` out, shaped as for ``/score``.
- Open Inference Protocol v2, ``POST /v2/models/{name}[/versions/{v}]/infer``: tensors with a
  name, shape, datatype and row-major data, in and out.

Decoders return the model's inputs as arrays checked against the signature (or raise a 400
that names what was expected); encoders take the outputs, a dict of arrays by name, and return
body bytes. Entry scripts bypass both: they get the raw body. Not here: routing, auth and
batching (``server.py``, ``batching.py``).
"""

from __future__ import annotations

import math

import numpy as np
import orjson

from .errors import ServingError, bad_request
from .signature import (V2_DATATYPES, Signature, TensorSpec, check_shape, from_columns, from_records,
                        from_rows, inputs_from_json, row_count, to_array, v2_datatype)

_DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def loads(body: bytes):
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}.") from None


def dumps(value) -> bytes:
    """JSON bytes of a response: numpy arrays natively, NaN as null, anything else via tolist()."""
    return orjson.dumps(value, default=_default, option=_DUMP_OPTIONS)


def _default(value):
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "columns") and hasattr(value, "to_dict"):  # a pandas DataFrame
        return value.to_dict(orient="records")
    if hasattr(value, "tolist"):  # non-contiguous or object arrays, pandas Series
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def plain(outputs: dict):
    """One output as its values, several as an object by name (what /score and MLflow return)."""
    return next(iter(outputs.values())) if len(outputs) == 1 else outputs


# -- Azure ML ----------------------------------------------------------------------------------

def decode_score(body: bytes, signature: Signature) -> dict[str, np.ndarray]:
    doc = loads(body)
    if not isinstance(doc, dict) or "data" not in doc:
        raise bad_request(f'Expected a JSON object {{"data": ...}} with {signature.expected()}.')
    return inputs_from_json(signature, doc["data"])


def encode_score(outputs: dict) -> bytes:
    return dumps(plain(outputs))


# -- MLflow ------------------------------------------------------------------------------------

def decode_invocations(body: bytes, content_type: str, signature: Signature) -> dict[str, np.ndarray]:
    if content_type and not content_type.startswith("application/json"):
        raise ServingError(415, f"Content-Type {content_type!r} is not supported: send application/json "
                                f"with one of {list(MLFLOW_FORMATS)}.")
    doc = loads(body)
    keys = [key for key in MLFLOW_FORMATS if key in doc] if isinstance(doc, dict) else []
    if len(keys) != 1:
        got = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise bad_request(f"Expected a JSON object with exactly one of {list(MLFLOW_FORMATS)}; got {got}.")
    key = keys[0]
    value = doc[key]
    if key == "dataframe_split":
        return _dataframe_split(value, signature)
    if key == "dataframe_records":
        if not isinstance(value, list):
            raise bad_request('"dataframe_records" is a list of objects by column name.')
        if signature.columnar:
            return from_records(signature, value)
        return inputs_from_json(signature, [list(r.values()) if isinstance(r, dict) else r for r in value])
    # "instances" and "inputs": MLflow's tensor formats; a list of objects is one row per object.
    if isinstance(value, list) and value and isinstance(value[0], dict) and len(signature.inputs) > 1:
        return from_records(signature, value)
    return inputs_from_json(signature, value)


def _dataframe_split(value, signature: Signature) -> dict[str, np.ndarray]:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise bad_request('"dataframe_split" is an object {"columns": [...], "data": [[...], ...]}.')
    rows, columns = value["data"], value.get("columns")
    if not signature.columnar:
        return inputs_from_json(signature, rows)
    if columns is None:
        return from_rows(signature, rows)
    if not isinstance(columns, list) or any(not isinstance(r, list) or len(r) != len(columns) for r in rows):
        raise bad_request('"dataframe_split" needs "columns" (a list of names) and "data" rows of that length.')
    return from_columns(signature, {c: [row[i] for row in rows] for i, c in enumerate(columns)})


def encode_invocations(outputs: dict) -> bytes:
    return dumps({"predictions": plain(outputs)})


# -- Open Inference Protocol v2 ----------------------------------------------------------------

def decode_infer(body: bytes, signature: Signature) -> tuple[dict[str, np.ndarray], object, list[str] | None]:
    """The inputs, the request id (echoed back) and the names of the outputs asked for (None: all)."""
    doc = loads(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list) or not doc["inputs"]:
        raise bad_request('Expected an inference request {"inputs": [{"name", "shape", "datatype", "data"}, ...]} '
                          f"with {expected_tensors(signature)}.")
    inputs = {}
    for position, item in enumerate(doc["inputs"]):
        missing = [k for k in ("name", "shape", "datatype", "data") if not isinstance(item, dict) or k not in item]
        if missing:
            raise bad_request(f"Input {position} lacks {missing}: each input has a name, shape, datatype and data.")
        name = item["name"]
        inputs[name] = _tensor(item, signature.by_name.get(name), signature)
    missing = [name for name in signature.names if name not in inputs]
    if missing:
        raise bad_request(f"Missing inputs {missing}; expected {expected_tensors(signature)}.")
    row_count(inputs)
    wanted = doc.get("outputs")
    if wanted is not None:
        if not isinstance(wanted, list) or any(not isinstance(o, dict) or "name" not in o for o in wanted):
            raise bad_request('"outputs" is a list of objects {"name": ...}.')
        wanted = [o["name"] for o in wanted]
    return inputs, doc.get("id"), wanted


def _tensor(item: dict, spec: TensorSpec | None, signature: Signature) -> np.ndarray:
    name, datatype, shape = item["name"], item["datatype"], item["shape"]
    if spec is None:
        raise bad_request(f"The model has no input {name!r}; its inputs are {signature.names}.")
    dtype = V2_DATATYPES.get(datatype)
    if dtype is None:
        raise bad_request(f"Input {name!r} has unknown datatype {datatype!r}; expected one of {list(V2_DATATYPES)}.")
    if spec.dtype is not None and datatype != spec.datatype:
        raise bad_request(f"Input {name!r} has datatype {spec.datatype} (shape {list(spec.shape or [])}); "
                          f"got {datatype}.")
    if not isinstance(shape, list) or any(not isinstance(d, int) or d < 0 for d in shape):
        raise bad_request(f"Input {name!r}: shape is a list of non-negative integers; got {shape!r}.")
    array = to_array(TensorSpec(name, dtype), item["data"])
    if array.size != math.prod(shape):
        raise bad_request(f"Input {name!r}: shape {shape} holds {math.prod(shape)} elements; data has {array.size}.")
    array = array.reshape(shape)
    if spec.shape is not None and len(spec.shape) == 1 and array.ndim == 2 and array.shape[1] == 1:
        array = array.reshape(-1)  # a column sent as [n, 1]
    check_shape(spec, array)
    return array


def expected_tensors(signature: Signature) -> str:
    return ", ".join(f"{s.name!r} ({s.datatype}, shape {list(s.shape) if s.shape else 'any'})"
                     for s in signature.inputs)


def check_outputs(wanted: list[str] | None, available: list[str]) -> None:
    if wanted and available:
        unknown = [name for name in wanted if name not in available]
        if unknown:
            raise bad_request(f"The model has no output {unknown[0]!r}; its outputs are {available}.")


def encode_infer(outputs: dict, model_name: str, model_version: str | None, request_id, wanted) -> bytes:
    tensors = []
    for name, value in outputs.items():
        if wanted and name not in wanted:
            continue
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        tensors.append({"name": name, "datatype": v2_datatype(array.dtype), "shape": list(array.shape),
                        "data": array.reshape(-1)})
    response = {"model_name": model_name}
    if model_version is not None:
        response["model_version"] = model_version
    if request_id is not None:
        response["id"] = request_id
    response["outputs"] = tensors
    return dumps(response)
