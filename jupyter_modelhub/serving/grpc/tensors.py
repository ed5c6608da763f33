"""ModelInferRequest to the model's inputs, and the model's outputs to a ModelInferResponse.

A request's tensors come either as ``raw_input_contents`` (one entry per input, its elements as
little-endian bytes: what tritonclient and KServe's client send by default) or typed, in each
input's ``contents`` (``fp32_contents``, ``int64_contents``...). Both go through the same checks
as ``/v2`` over HTTP (``protocols``: the signature's names, datatypes and shapes), so a bad
request gets the same message whichever transport carried it. Outputs are answered as
``raw_output_contents``, as Triton answers, which both clients read.

Not here: the calls and their errors (``service.py``).
"""

from __future__ import annotations

import math

import numpy as np

from .. import binary_tensors, protocols
from ..errors import bad_request
from ..signature import Signature, check_shape, row_count, v2_datatype
from . import inference_pb2 as pb

# The typed field of InferTensorContents each datatype travels in (FP16 has none: raw only).
CONTENTS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def decode(request: pb.ModelInferRequest, signature: Signature) -> dict[str, np.ndarray]:
    """The inputs of a request, checked against the signature as ``/v2`` checks them."""
    usual = _one_raw_tensor(request, signature)
    if usual is not None:
        return usual
    if not request.inputs:
        raise bad_request(
            f"The request has no inputs; expected {protocols.expected_tensors(signature)} "
            "(ModelInferRequest.inputs, with their data in contents or raw_input_contents)."
        )
    raws = request.raw_input_contents
    if raws and len(raws) != len(request.inputs):
        raise bad_request(
            f"The request has {len(request.inputs)} inputs but {len(raws)} raw_input_contents: "
            "send one raw_input_contents entry per input, in the order of the inputs, or none."
        )
    inputs = {}
    for position, tensor in enumerate(request.inputs):
        name = tensor.name
        item = {"name": name, "datatype": tensor.datatype, "shape": list(tensor.shape)}
        if raws:
            if tensor.HasField("contents"):
                raise bad_request(
                    f"Input {name!r} has contents while the request has raw_input_contents: send "
                    "every input's values in one of them."
                )
            raw = memoryview(raws[position])
        else:
            item["data"] = _typed(tensor)
            raw = None
        inputs[name] = protocols._tensor(item, raw, signature.by_name.get(name), signature)
    missing = [name for name in signature.names if name not in inputs]
    if missing:
        raise bad_request(f"Missing inputs {missing}; expected {protocols.expected_tensors(signature)}.")
    row_count(inputs)
    return inputs


def _one_raw_tensor(request: pb.ModelInferRequest, signature: Signature) -> dict[str, np.ndarray] | None:
    """The usual request in as few steps as it takes: one numeric input of the signature's one
    datatype, as raw bytes of the size its shape says. None for anything else (or anything wrong),
    which the general path decodes, or explains."""
    inputs, raws = request.inputs, request.raw_input_contents
    if len(inputs) != 1 or len(raws) != 1 or len(signature.inputs) != 1:
        return None
    tensor, spec = inputs[0], signature.inputs[0]
    dtype = spec.dtype
    if tensor.name != spec.name or dtype is None or dtype.kind not in "fiu" or tensor.datatype != spec.datatype:
        return None
    shape = tuple(tensor.shape)
    raw = raws[0]
    if len(raw) != dtype.itemsize * math.prod(shape) or min(shape, default=0) < 0 or tensor.HasField("contents"):
        return None
    array = np.frombuffer(raw, dtype.newbyteorder("<")).astype(dtype).reshape(shape)
    if spec.shape is not None and len(spec.shape) == 1 and array.ndim == 2 and shape[1] == 1:
        array = array.reshape(-1)  # a column sent as [n, 1], as /v2 takes it
    check_shape(spec, array)
    return {spec.name: array}


def _typed(tensor) -> list:
    """An input's values from its typed contents field."""
    name, datatype = tensor.name, tensor.datatype
    field = CONTENTS.get(datatype)
    if field is None:
        if datatype == "FP16":
            raise bad_request(
                f"Input {name!r}: FP16 values travel in raw_input_contents only (the protocol has no typed field for them)."
            )
        return []  # an unknown datatype: protocols names the known ones
    values = getattr(tensor.contents, field)
    if datatype != "BYTES":
        return list(values)
    decoded = []
    for value in values:  # text where it is UTF-8, as JSON strings and binary BYTES arrive
        try:
            decoded.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            decoded.append(value)
    return decoded


def wanted_outputs(request: pb.ModelInferRequest) -> list[str] | None:
    return [output.name for output in request.outputs] or None


def encode(
    outputs: dict, model_name: str, model_version: str | None, request_id: str, wanted: list[str] | None
) -> pb.ModelInferResponse:
    """The response: each output's name, datatype and shape, its elements in ``raw_output_contents``."""
    arrays, described = [], []
    for name, value in outputs.items():
        if wanted and name not in wanted:
            continue
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        arrays.append(array)
        described.append((name, array.dtype, array.shape))
    key = tuple(described)
    head = _DESCRIPTIONS.get(key)
    if head is None:
        head = _describe(key)
    descriptions, datatypes = head
    response = pb.ModelInferResponse(model_name=model_name, model_version=model_version or "", id=request_id)
    response.MergeFromString(descriptions)
    response.raw_output_contents.extend(
        [binary_tensors.encode(array, datatype) for array, datatype in zip(arrays, datatypes)]
    )
    return response


# The outputs' descriptions (name, datatype, shape), serialised once per set of names, dtypes and
# shapes: a model answers the same few (one per batch size) over and over, and building them as
# messages took most of a small response's time. Merged into each response, which parses them
# back. With them, each output's datatype.
_DESCRIPTIONS: dict[tuple, tuple[bytes, list[str]]] = {}
_KEPT = 512  # sets of shapes remembered; beyond that (many batch sizes) the cache starts over


def _describe(key: tuple) -> tuple[bytes, list[str]]:
    response, datatypes = pb.ModelInferResponse(), []
    for name, dtype, shape in key:
        datatypes.append(datatype := v2_datatype(dtype))
        response.outputs.add(name=name, datatype=datatype, shape=shape)
    if len(_DESCRIPTIONS) >= _KEPT:
        _DESCRIPTIONS.clear()
    head = _DESCRIPTIONS[key] = (response.SerializeToString(), datatypes)
    return head
