"""Request and response bodies of the three protocols the runtime speaks.

- Azure ML, ``POST /score``: ``{"data": ...}`` in; the outputs out (one output: its values;
  several: an object by output name).
- MLflow, ``POST /invocations``: one of ``dataframe_split``, ``dataframe_records``,
  ``instances`` or ``inputs`` in; ``{"predictions": ...}`` out, shaped as for ``/score``.
- Open Inference Protocol v2, ``POST /v2/models/{name}[/versions/{v}]/infer``: tensors with a
  name, shape, datatype and row-major data, in and out, in the JSON or as binary data after it
  (the binary tensor data extension; its framing is in ``binary_tensors.py``).

Decoders return the model's inputs as arrays checked against the signature (or raise a 400
that names what was expected); encoders take the outputs, a dict of arrays by name, and return
body bytes. Entry scripts bypass both: they get the raw body. Not here: routing, auth and
batching (``server.py``, ``batching.py``).
"""

from __future__ import annotations

import math

import numpy as np
import orjson

from . import binary_tensors
from .errors import ServingError, bad_request
from .signature import (
    V2_DATATYPES,
    Signature,
    TensorSpec,
    check_shape,
    from_columns,
    from_records,
    from_rows,
    inputs_from_json,
    numbers,
    row_count,
    to_array,
    v2_datatype,
)

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
    if type(doc) is not dict or "data" not in doc:
        raise bad_request(f'Expected a JSON object {{"data": ...}} with {signature.expected()}.')
    data = doc["data"]
    single = signature.single
    if single is not None and type(data) is list and body.count(b'"') == 2:
        array = numbers(single, data)  # the body's one string is its key: numbers (or nulls) only
        if array is not None:
            return {single.name: array}
    return inputs_from_json(signature, data)


def encode_score(outputs: dict) -> bytes:
    return _dumps_answer(next(iter(outputs.values())) if len(outputs) == 1 else outputs)


def _dumps_answer(value) -> bytes:
    """:func:`dumps` of a scorer's answer, first without ``OPT_NON_STR_KEYS``: it costs about a
    third of orjson's time on a small answer, and only a mapping with keys other than strings (a
    DataFrame's integer column names, say) needs it; orjson refuses those (a TypeError), and then
    they are written with it. The same bytes either way."""
    try:
        return orjson.dumps(value, default=_default, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return orjson.dumps(value, default=_default, option=_DUMP_OPTIONS)


# -- MLflow ------------------------------------------------------------------------------------


def decode_invocations(body: bytes, content_type: str, signature: Signature) -> dict[str, np.ndarray]:
    if content_type and not content_type.startswith("application/json"):
        raise ServingError(
            415,
            f"Content-Type {content_type!r} is not supported: send application/json "
            f"with one of {list(MLFLOW_FORMATS)}.",
        )
    doc = loads(body)
    if type(doc) is dict and len(doc) == 1 and next(iter(doc)) in MLFLOW_FORMATS:
        keys = list(doc)  # the usual request: its one key is a format
    else:
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
    single = signature.single
    if single is not None and type(value) is list and body.count(b'"') == 2:
        array = numbers(single, value)  # as for /score: the body's one string is its key
        if array is not None:
            return {single.name: array}
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
    return _dumps_answer({"predictions": next(iter(outputs.values())) if len(outputs) == 1 else outputs})


# -- Open Inference Protocol v2 ----------------------------------------------------------------


class InferAsk:
    """What a v2 request asks of its response: its id, which outputs, and which of them as binary data."""

    def __init__(self, request_id, outputs: list[str] | None, binary: dict[str, bool], binary_default: bool):
        self.request_id = request_id
        self.outputs = outputs  # None: all of them
        self.binary = binary  # by output name, from "binary_data" on a requested output
        self.binary_default = binary_default  # "binary_data_output" of the request

    def wants_binary(self, name: str) -> bool:
        return self.binary.get(name, self.binary_default)


def decode_infer(
    body: bytes, signature: Signature, header_length: str | None = None
) -> tuple[dict[str, np.ndarray], InferAsk]:
    """The inputs, checked against the signature, and what the response should hold.

    ``header_length`` is the ``Inference-Header-Content-Length`` header: with it, inputs may be
    binary data after the JSON (``binary_tensors.py``).
    """
    doc, raws = _infer_request(body, header_length, expected_tensors(signature))
    inputs = {}
    for item, raw in zip(doc["inputs"], raws):
        name = item["name"]
        inputs[name] = _tensor(item, raw, signature.by_name.get(name), signature)
    missing = [name for name in signature.names if name not in inputs]
    if missing:
        raise bad_request(f"Missing inputs {missing}; expected {expected_tensors(signature)}.")
    row_count(inputs)
    return inputs, _ask(doc)


def inline_binary(body: bytes, header_length: str) -> bytes:
    """A request with binary inputs as the same request in JSON alone, for entry scripts, whose
    ``run(raw_data)`` receives JSON text (BYTES elements must then be UTF-8 text)."""
    doc, raws = _infer_request(body, header_length, "inputs")
    for item, raw in zip(doc["inputs"], raws):
        if raw is None:
            continue
        name, datatype, shape = _header_fields(item)
        array = binary_tensors.decode(name, datatype, shape, raw)
        if datatype == "BYTES":
            for index, value in enumerate(array):
                if isinstance(value, bytes):
                    raise bad_request(
                        f"Input {name!r}: BYTES element {index} is not UTF-8 text; the entry script "
                        "receives the request as JSON, where BYTES elements are strings."
                    )
        item["data"] = array.tolist()
        del item["parameters"]["binary_data_size"]
        if not item["parameters"]:
            del item["parameters"]
    return dumps(doc)


def _infer_request(body: bytes, header_length: str | None, expected: str) -> tuple[dict, list]:
    """The JSON of a v2 request, its inputs checked for the fields every input has, and each
    input's binary data (None for an input sent in the JSON)."""
    header, binary = binary_tensors.split(body, header_length)
    try:
        doc = orjson.loads(header)
    except orjson.JSONDecodeError as exc:
        hint = (
            ""
            if header_length is not None
            else f" A request with binary tensor data gives the length of its JSON part in the "
            f"{binary_tensors.HEADER_LENGTH} header."
        )
        raise bad_request(f"The request body is not valid JSON: {exc}.{hint}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list) or not doc["inputs"]:
        raise bad_request(
            'Expected an inference request {"inputs": [{"name", "shape", "datatype", "data"}, ...]} '
            f"with {expected}."
        )
    for position, item in enumerate(doc["inputs"]):
        missing = [k for k in ("name", "shape", "datatype") if not isinstance(item, dict) or k not in item]
        if not missing and "data" not in item and binary_tensors.binary_size(item, f"Input {item['name']!r}") is None:
            missing = ["data"]
        if missing:
            raise bad_request(
                f"Input {position} lacks {missing}: each input has a name, shape, datatype and data "
                "(or, as binary data, parameters.binary_data_size)."
            )
        if "data" in item and binary_tensors.binary_size(item, f"Input {item['name']!r}") is not None:
            raise bad_request(
                f'Input {item["name"]!r} has both "data" and parameters.binary_data_size: '
                "send its values in one of them."
            )
        _header_fields(item)
    json_length = len(header) if header_length is not None else None
    return doc, binary_tensors.slices(doc["inputs"], binary, json_length)


def _header_fields(item: dict) -> tuple[str, str, list[int]]:
    name, datatype, shape = item["name"], item["datatype"], item["shape"]
    if not isinstance(name, str):
        raise bad_request(f"An input's name is a string; got {name!r}.")
    if not isinstance(datatype, str) or datatype not in V2_DATATYPES:
        raise bad_request(f"Input {name!r} has unknown datatype {datatype!r}; expected one of {list(V2_DATATYPES)}.")
    if not isinstance(shape, list) or any(not isinstance(d, int) or isinstance(d, bool) or d < 0 for d in shape):
        raise bad_request(f"Input {name!r}: shape is a list of non-negative integers; got {shape!r}.")
    return name, datatype, shape


def _ask(doc: dict) -> InferAsk:
    parameters = doc.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise bad_request(f'"parameters" of an inference request is an object; got {parameters!r}.')
    binary_default = _flag(parameters, "binary_data_output", "The request")
    wanted, binary = doc.get("outputs"), {}
    if wanted is not None:
        if not isinstance(wanted, list) or any(
            not isinstance(o, dict) or not isinstance(o.get("name"), str) for o in wanted
        ):
            raise bad_request('"outputs" is a list of objects {"name": ..., "parameters": {"binary_data": true}}.')
        for output in wanted:
            what = f"Output {output['name']!r}"
            parameters = output.get("parameters") or {}
            if not isinstance(parameters, dict):
                raise bad_request(f'{what}: "parameters" is an object; got {parameters!r}.')
            if parameters.get("classification"):
                raise bad_request(
                    f"{what} asks for classification (class_count), which this server does not "
                    "offer: ask for the output itself and take the top classes from it."
                )
            if "binary_data" in parameters:
                binary[output["name"]] = _flag(parameters, "binary_data", what)
        wanted = [o["name"] for o in wanted]
    return InferAsk(doc.get("id"), wanted, binary, binary_default)


def _flag(parameters: dict, key: str, what: str) -> bool:
    value = parameters.get(key, False)
    if not isinstance(value, bool):
        raise bad_request(f"{what}: {key} is true or false; got {value!r}.")
    return value


def _tensor(item: dict, raw, spec: TensorSpec | None, signature: Signature) -> np.ndarray:
    name, datatype, shape = _header_fields(item)
    if spec is None:
        raise bad_request(f"The model has no input {name!r}; its inputs are {signature.names}.")
    if spec.dtype is not None and datatype != spec.datatype:
        raise bad_request(
            f"Input {name!r} takes datatype {spec.datatype} (shape {list(spec.shape or [])}); got "
            f"{datatype}: send {spec.datatype} data (numpy: x.astype({_numpy_name(spec)}))."
        )
    if raw is None:
        array = to_array(TensorSpec(name, V2_DATATYPES[datatype]), item["data"])
        if array.size != math.prod(shape):
            raise bad_request(
                f"Input {name!r}: shape {shape} holds {math.prod(shape)} elements; data has {array.size}."
            )
    else:
        array = binary_tensors.decode(name, datatype, shape, raw)
    array = array.reshape(shape)
    if spec.shape is not None and len(spec.shape) == 1 and array.ndim == 2 and array.shape[1] == 1:
        array = array.reshape(-1)  # a column sent as [n, 1]
    check_shape(spec, array)
    return array


def _numpy_name(spec: TensorSpec) -> str:
    return "object" if spec.dtype.kind == "O" else f"np.{spec.dtype.name}"


def expected_tensors(signature: Signature) -> str:
    return ", ".join(
        f"{s.name!r} ({s.datatype}, shape {list(s.shape) if s.shape else 'any'})" for s in signature.inputs
    )


def check_outputs(wanted: list[str] | None, available: list[str]) -> None:
    if wanted and available:
        unknown = [name for name in wanted if name not in available]
        if unknown:
            raise bad_request(f"The model has no output {unknown[0]!r}; its outputs are {available}.")


def encode_infer(outputs: dict, model_name: str, model_version: str | None, ask: InferAsk) -> tuple[bytes, int | None]:
    """The response body and, when it carries binary outputs, the length of its JSON part."""
    tensors, chunks = [], []
    for name, value in outputs.items():
        if ask.outputs and name not in ask.outputs:
            continue
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        datatype = v2_datatype(array.dtype)
        tensor = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if ask.wants_binary(name):
            chunk = binary_tensors.encode(array, datatype)
            tensor["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            tensor["data"] = array.reshape(-1)
        tensors.append(tensor)
    response = {"model_name": model_name}
    if model_version is not None:
        response["model_version"] = model_version
    if ask.request_id is not None:
        response["id"] = ask.request_id
    response["outputs"] = tensors
    header = dumps(response)
    if not chunks:
        return header, None
    return b"".join([header, *chunks]), len(header)
