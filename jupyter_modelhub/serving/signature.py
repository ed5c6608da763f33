"""Model signatures: the inputs a model takes, and JSON values turned into arrays that fit them.

A signature is the JSON the registry keeps with a version::

    {"inputs": [{"name": "input", "dtype": "float32", "shape": [-1, 20]}], "outputs": [...]}

A model registered from a DataFrame has one input per column, each of shape ``[-1]``: such a
signature is *columnar*, and its requests may come as rows, records or columns. The checks here
write the 400 messages a client reads, so each one names what the model expected.

Not here: wire formats (``protocols.py``) and model calls (``scorers.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import bad_request

# The Open Inference Protocol's tensor datatypes and the numpy dtypes they carry.
V2_DATATYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(bool),
    "UINT8": np.dtype("uint8"),
    "UINT16": np.dtype("uint16"),
    "UINT32": np.dtype("uint32"),
    "UINT64": np.dtype("uint64"),
    "INT8": np.dtype("int8"),
    "INT16": np.dtype("int16"),
    "INT32": np.dtype("int32"),
    "INT64": np.dtype("int64"),
    "FP16": np.dtype("float16"),
    "FP32": np.dtype("float32"),
    "FP64": np.dtype("float64"),
    "BYTES": np.dtype(object),
}
_NUMPY_TO_V2 = {dtype: name for name, dtype in V2_DATATYPES.items()}
_TEXT_DTYPES = {"object", "str", "string", "bytes", "binary"}
_KIND_NAMES = {
    "f": "floating-point",
    "i": "integer",
    "u": "integer",
    "b": "boolean",
    "U": "string",
    "S": "string",
    "O": "mixed or null",
}


def v2_datatype(dtype: np.dtype | None) -> str:
    """The protocol's datatype name for a numpy dtype (text, objects and unknowns are BYTES)."""
    if dtype is None:
        return "BYTES"
    return _NUMPY_TO_V2.get(dtype, "BYTES")


def parse_dtype(name: str | None) -> np.dtype | None:
    """A signature's dtype name (numpy or protocol vocabulary) as a dtype; None when unchecked."""
    if not name or name == "unknown":
        return None
    if name in _TEXT_DTYPES:
        return np.dtype(object)
    if name.upper() in V2_DATATYPES:
        return V2_DATATYPES[name.upper()]
    try:
        dtype = np.dtype(name)
    except TypeError:
        return None
    if dtype.kind in "OUS":
        return np.dtype(object)
    return None if dtype.kind in "Mm" else dtype


@dataclass(frozen=True)
class TensorSpec:
    """One input or output: a name, a dtype (None: not checked), a shape with -1 for any size."""

    name: str
    dtype: np.dtype | None = None
    shape: tuple[int, ...] | None = None

    def __post_init__(self):
        # What check_shape compares, worked out once: the rank and the fixed (axis, size) pairs.
        fixed = () if self.shape is None else tuple((i, d) for i, d in enumerate(self.shape) if d >= 0)
        object.__setattr__(self, "_fixed", fixed)

    @property
    def datatype(self) -> str:
        return v2_datatype(self.dtype)

    def describe(self) -> str:
        dtype = "any dtype" if self.dtype is None else f"dtype {_dtype_name(self.dtype)}"
        shape = "any shape" if self.shape is None else f"shape {list(self.shape)}"
        return f"{shape} and {dtype}"

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "dtype": _dtype_name(self.dtype) if self.dtype is not None else "unknown",
            "shape": list(self.shape) if self.shape is not None else None,
        }

    def metadata(self) -> dict:
        """The Open Inference Protocol's metadata of a tensor (-1 for a shape not recorded)."""
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape) if self.shape else [-1]}


class Signature:
    """The inputs and outputs of a model."""

    def __init__(self, inputs: list[TensorSpec], outputs: list[TensorSpec] | None = None):
        inputs = list(inputs)
        # A DataFrame converted to ONNX has one [-1, 1] input per column: still columns to a client.
        if len(inputs) > 1 and all(s.shape is not None and tuple(s.shape) == (-1, 1) for s in inputs):
            inputs = [TensorSpec(s.name, s.dtype, (-1,)) for s in inputs]
        self.inputs = inputs
        self.outputs = list(outputs or [])
        self.by_name = {spec.name: spec for spec in inputs}
        self.names = [spec.name for spec in inputs]
        # One 1-D input per column: a DataFrame's signature.
        self.columnar = bool(inputs) and all(s.shape is not None and len(s.shape) == 1 for s in inputs)
        # The one input of a tensor model, which a list of values feeds directly.
        self.single = inputs[0] if len(inputs) == 1 and not self.columnar else None

    @classmethod
    def from_json(cls, doc: dict) -> Signature:
        """Read ``{"inputs": [...], "outputs": [...]}``; raises ValueError saying what is wrong."""
        if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list) or not doc["inputs"]:
            raise ValueError('a signature is an object {"inputs": [{"name", "dtype", "shape"}, ...], "outputs": [...]}')
        return cls([_spec(item) for item in doc["inputs"]], [_spec(item) for item in doc.get("outputs") or []])

    def to_json(self) -> dict:
        return {"inputs": [s.to_json() for s in self.inputs], "outputs": [s.to_json() for s in self.outputs]}

    def metadata(self) -> dict:
        """The ``inputs`` and ``outputs`` of the Open Inference Protocol's model metadata."""
        return {"inputs": [s.metadata() for s in self.inputs], "outputs": [s.metadata() for s in self.outputs]}

    def expected(self) -> str:
        """What a request must contain, for error messages."""
        if self.columnar:
            return f"columns {self.names}"
        return "; ".join(f"input {s.name!r} with {s.describe()}" for s in self.inputs)


def _spec(item: dict) -> TensorSpec:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ValueError(f"each signature entry needs a name, a dtype and a shape; got {item!r}")
    shape = item.get("shape")
    if shape is not None:
        shape = tuple(-1 if d is None or int(d) < 0 else int(d) for d in shape)
    return TensorSpec(item["name"], parse_dtype(item.get("dtype") or item.get("datatype")), shape)


def _dtype_name(dtype: np.dtype) -> str:
    return "object" if dtype.kind == "O" else dtype.name


# -- JSON values -> arrays ---------------------------------------------------------------------


def tensor(spec: TensorSpec, value) -> np.ndarray:
    """``value`` (nested lists) as an array of the spec's dtype and shape, or a 400 saying why not."""
    array = to_array(spec, value)
    check_shape(spec, array)
    return array


def to_array(spec: TensorSpec, value) -> np.ndarray:
    try:
        array = np.asarray(value)
    except ValueError:
        raise bad_request(
            f"Input {spec.name!r} is not a rectangular array (rows of different lengths); expected {spec.describe()}."
        ) from None
    dtype = spec.dtype
    if dtype is None:
        return array
    kind, want = array.dtype.kind, dtype.kind
    if kind == want == "f":
        return array.astype(dtype, copy=False)
    if want == "f":
        if kind in "fiub":
            return array.astype(dtype, copy=False)
        if kind == "O" and _numbers_or_nulls(array):  # JSON null in a float column: NaN
            return array.astype(dtype)
    elif want in "iu":
        if kind in "iub":
            return array.astype(dtype, copy=False)
        if kind == "f" and bool(np.all(np.mod(array, 1) == 0)):
            return array.astype(dtype)
    elif want == "b":
        if kind == "b":
            return array
    elif want == "O":
        return array.astype(object, copy=False)
    raise bad_request(f"Input {spec.name!r} expects {spec.describe()}; got {_KIND_NAMES.get(kind, kind)} values.")


def numbers(spec: TensorSpec, value: list) -> np.ndarray | None:
    """Nested lists holding no strings as an array of a floating-point spec, made at once in its
    dtype; None where that does not hold (then ``tensor`` converts, and says what is wrong). What
    it accepts ``tensor`` accepts too, with the same values: numbers, booleans and nulls (NaN)."""
    dtype = spec.dtype
    if dtype is None or dtype.kind != "f":
        return None
    try:
        array = np.asarray(value, dtype=dtype)
    except (ValueError, TypeError, OverflowError):
        return None
    if spec.shape is not None:  # check_shape, inline for the usual request
        sizes = array.shape
        if len(sizes) != len(spec.shape):
            check_shape(spec, array)  # raises, saying what was expected
        for axis, size in spec._fixed:
            if sizes[axis] != size:
                check_shape(spec, array)
    return array


def _numbers_or_nulls(array: np.ndarray) -> bool:
    return all(x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)) for x in array.flat)


def check_shape(spec: TensorSpec, array: np.ndarray) -> None:
    shape = spec.shape
    if shape is None:
        return
    if array.ndim == len(shape):
        sizes = array.shape
        for axis, size in spec._fixed:  # a loop, not any() over a generator: this runs per request
            if sizes[axis] != size:
                break
        else:
            return
    raise bad_request(f"Input {spec.name!r} expects {spec.describe()} (-1: any size); got shape {list(array.shape)}.")


def row_count(inputs: dict[str, np.ndarray]) -> int:
    """The number of rows of a request, checking that every input has the same number."""
    counts = {name: (len(a) if getattr(a, "ndim", 1) else 1) for name, a in inputs.items()}
    if len(set(counts.values())) > 1:
        raise bad_request(f"Inputs have different numbers of rows: {counts}.")
    return next(iter(counts.values()), 0)


def inputs_from_json(signature: Signature, data) -> dict[str, np.ndarray]:
    """A decoded JSON value as the model's inputs.

    Tensor models take an array (one input) or an object of arrays by input name. Columnar
    models take rows (lists in column order), records (objects by column) or columns (an object
    of lists).
    """
    single = signature.single
    if single is not None and type(data) is list:  # the usual request: one tensor, as nested lists
        return {single.name: tensor(single, data)}
    if signature.columnar:
        if isinstance(data, dict):
            return from_columns(signature, data)
        if isinstance(data, list) and data:
            first = data[0]
            if isinstance(first, dict):
                return from_records(signature, data)
            if isinstance(first, list):
                return from_rows(signature, data)
            if len(signature.inputs) == 1:
                return {signature.names[0]: tensor(signature.inputs[0], data)}
        raise bad_request(f"Expected rows, records or columns with {signature.expected()}.")
    if len(signature.inputs) == 1:
        spec = signature.inputs[0]
        if isinstance(data, dict):
            if set(data) != {spec.name}:
                raise bad_request(
                    f"Expected an array for input {spec.name!r} ({spec.describe()}), "
                    f"or an object {{{spec.name!r}: array}}; got keys {sorted(data)}."
                )
            data = data[spec.name]
        return {spec.name: tensor(spec, data)}
    if not isinstance(data, dict):
        raise bad_request(
            f"The model has {len(signature.inputs)} inputs: send an object with one array "
            f"per input name ({signature.expected()})."
        )
    missing = [name for name in signature.names if name not in data]
    if missing:
        raise bad_request(f"Missing inputs {missing}; expected {signature.expected()}.")
    inputs = {spec.name: tensor(spec, data[spec.name]) for spec in signature.inputs}
    row_count(inputs)
    return inputs


def from_columns(signature: Signature, columns: dict) -> dict[str, np.ndarray]:
    missing = [name for name in signature.names if name not in columns]
    if missing:
        raise bad_request(f"Missing columns {missing}; the model expects columns {signature.names}.")
    inputs = {spec.name: tensor(spec, columns[spec.name]) for spec in signature.inputs}
    row_count(inputs)
    return inputs


def from_records(signature: Signature, records: list) -> dict[str, np.ndarray]:
    values: dict[str, list] = {}
    for name in signature.names:
        try:
            values[name] = [record[name] for record in records]
        except KeyError:
            raise bad_request(
                f"A record has no column {name!r}; the model expects columns {signature.names}."
            ) from None
        except TypeError:
            raise bad_request(f"Expected records (objects by column name) with columns {signature.names}.") from None
    return from_columns(signature, values)


def from_rows(signature: Signature, rows: list) -> dict[str, np.ndarray]:
    width = len(signature.names)
    if any(not isinstance(row, list) or len(row) != width for row in rows):
        raise bad_request(f"Expected rows of {width} values, in the order of columns {signature.names}.")
    return from_columns(signature, dict(zip(signature.names, (list(col) for col in zip(*rows)))))
