"""Rows of model input: from a version's signature and JSON rows to what each runtime eats.

A registered version describes its input one of two ways (see ``client.packing.describe_sample``):

- a table: one signature input per DataFrame column, shape ``[-1]``; rows are
  ``{"columns": [...], "data": [[...], ...]}`` (pandas' "split" orient without the index);
- an array: one input named ``input`` with shape ``[-1, n]``; rows are a list of rows.

The original scikit-learn model gets a DataFrame or a 2-D array with the signature's dtypes; the
ONNX model gets one ``[n, 1]`` tensor per column (numbers, int64, bool or strings: for a model that
picks its columns by name), one ``[n, k]`` float tensor ``input`` built from a table's numeric
columns in signature order (a *stacked* table: any other model of a DataFrame, e.g. a
LogisticRegression, which scikit-learn itself feeds one matrix), or one ``[n, k]`` float tensor
for an array. This module owns that mapping and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import InvalidInput

FLOAT_TYPES = {"float32": np.float32, "float64": np.float64}
STRING_DTYPES = ("object", "str", "string", "category")
NUMERIC_KINDS = ("float", "int", "bool")
STACKED_INPUT = "input"  # the one tensor of a stacked table


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # as the signature says: "float64", "int64", "bool", "str", "object", ...
    kind: str  # "float", "int", "bool" or "string": what the ONNX input will be


@dataclass(frozen=True)
class InputSpec:
    """A table of named columns, or one 2-D array of ``width`` features. ``stacked``: the ONNX
    graph takes the table's (numeric) columns as one ``[n, k]`` tensor named ``input``."""

    columns: tuple[Column, ...] = ()
    width: int | None = None
    dtype: str = "float64"
    stacked: bool = False

    @property
    def is_table(self) -> bool:
        return bool(self.columns)

    def signature(self) -> dict:
        """The signature a client would have sent for these inputs (outputs unknown)."""
        if self.is_table:
            inputs = [{"name": c.name, "dtype": c.dtype, "shape": [-1]} for c in self.columns]
        else:
            inputs = [{"name": "input", "dtype": self.dtype, "shape": [-1, self.width if self.width else -1]}]
        return {"inputs": inputs, "outputs": []}


def column_kind(name: str, dtype: str) -> str:
    if dtype.startswith(("float", "Float")):
        return "float"
    if dtype.startswith(("int", "uint", "Int", "UInt")):
        return "int"
    if dtype in ("bool", "boolean"):
        return "bool"
    if dtype in STRING_DTYPES:
        return "string"
    raise InvalidInput(
        f"Column {name!r} has dtype {dtype!r}, which ONNX conversion does not handle: "
        "expected numbers, booleans or strings (convert dates to numbers before training)."
    )


def spec_from_signature(signature: dict) -> InputSpec:
    inputs = signature.get("inputs") or []
    if not inputs:
        raise InvalidInput("The version's signature lists no inputs; pass a sample to describe them.")
    if len(inputs) == 1 and len(inputs[0].get("shape") or []) == 2:
        width = inputs[0]["shape"][1]
        dtype = inputs[0]["dtype"]
        if column_kind(inputs[0]["name"], dtype) == "string":
            raise InvalidInput(f"Input {inputs[0]['name']!r} is an array of strings; ONNX conversion needs numbers.")
        return InputSpec(width=width if isinstance(width, int) and width > 0 else None, dtype=dtype)
    if all(len(entry.get("shape") or [-1]) == 1 for entry in inputs):
        columns = tuple(Column(e["name"], e["dtype"], column_kind(e["name"], e["dtype"])) for e in inputs)
        return InputSpec(columns=columns)
    shapes = ", ".join(f"{e['name']} {e.get('shape')}" for e in inputs)
    raise InvalidInput(
        f"Cannot read this signature ({shapes}): expected one input per column with shape [-1] "
        "(a DataFrame) or a single input with shape [-1, n] (an array)."
    )


def stackable(spec: InputSpec) -> bool:
    """A table of two or more columns, all numbers (or booleans): one float matrix can carry it."""
    return spec.is_table and len(spec.columns) > 1 and all(c.kind in NUMERIC_KINDS for c in spec.columns)


def stacked(spec: InputSpec) -> InputSpec:
    return replace(spec, stacked=True)


def spec_from_rows(rows: object) -> InputSpec:
    """Describe inputs from rows alone (a version registered without a signature)."""
    if isinstance(rows, dict):
        frame = _frame(rows, None, "sample")
        return InputSpec(
            columns=tuple(
                Column(str(c), str(frame[c].dtype), column_kind(str(c), str(frame[c].dtype))) for c in frame.columns
            )
        )
    array = _array(rows, None, "sample")
    return InputSpec(width=array.shape[1], dtype=str(array.dtype))


def parse_rows(rows: object, spec: InputSpec, what: str):
    """JSON rows -> the DataFrame or 2-D array the original model was trained on."""
    if spec.is_table:
        return _frame(rows, spec, what)
    return _array(rows, spec, what)


def row_count(native) -> int:
    return len(native)


def take(native, index) -> object:
    """Rows ``index`` (a slice or an index array) of a DataFrame or array."""
    return native.iloc[index] if hasattr(native, "iloc") else native[index]


def onnx_input_types(spec: InputSpec, dtype: str) -> list:
    """skl2onnx's ``initial_types`` for these inputs, floats as ``dtype``."""
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    floats = FloatTensorType if dtype == "float32" else DoubleTensorType
    if not spec.is_table:
        return [("input", floats([None, spec.width]))]
    if spec.stacked:
        return [(STACKED_INPUT, floats([None, len(spec.columns)]))]
    by_kind = {"float": floats, "int": Int64TensorType, "bool": BooleanTensorType, "string": StringTensorType}
    return [(c.name, by_kind[c.kind]([None, 1])) for c in spec.columns]


def onnx_feeds(native, spec: InputSpec, dtype: str, names: list[str]) -> dict[str, np.ndarray]:
    """The ONNX session's inputs (only those in ``names``: unused columns may be pruned)."""
    floats = FLOAT_TYPES[dtype]
    if not spec.is_table:
        return {"input": np.ascontiguousarray(native, dtype=floats)}
    if spec.stacked:
        return {STACKED_INPUT: np.ascontiguousarray(native[[c.name for c in spec.columns]].to_numpy(dtype=floats))}
    feeds = {}
    kinds = {c.name: c.kind for c in spec.columns}
    for name in names:
        values = native[name].to_numpy()
        kind = kinds[name]
        if kind == "float":
            values = values.astype(floats)
        elif kind == "int":
            values = values.astype(np.int64)
        elif kind == "bool":
            values = values.astype(bool)
        else:
            values = np.array(["" if v is None or v != v else str(v) for v in values], dtype=object)
        feeds[name] = values.reshape(-1, 1)
    return feeds


def batch(native, rows: int, seed: int = 0):
    """``rows`` rows drawn from ``native``, float columns jittered by 1 % of their spread.

    Repeating a handful of example rows 10,000 times would let every tree walk the same path
    (flattering branch prediction for both runtimes); the jitter keeps the batch varied and near
    the example's distribution.
    """
    rng = np.random.default_rng(seed)
    picked = take(native, rng.integers(0, row_count(native), rows))
    if hasattr(picked, "iloc"):
        picked = picked.reset_index(drop=True)
        for name in picked.columns:
            if picked[name].dtype.kind == "f":
                picked[name] = _jitter(picked[name].to_numpy(), rng).astype(picked[name].dtype)
        return picked
    if picked.dtype.kind == "f":
        picked = np.column_stack([_jitter(picked[:, j], rng) for j in range(picked.shape[1])]).astype(picked.dtype)
    return picked


def _jitter(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    finite = values[np.isfinite(values)]
    spread = float(finite.std()) if finite.size > 1 else 0.0
    spread = spread or (abs(float(finite.mean())) if finite.size else 0.0) or 1.0
    return values + rng.normal(0.0, 0.01 * spread, values.shape)


def _frame(rows: object, spec: InputSpec | None, what: str):
    import pandas as pd

    if not (isinstance(rows, dict) and isinstance(rows.get("columns"), list) and isinstance(rows.get("data"), list)):
        raise InvalidInput(
            f"The {what} must be a table {{'columns': [...], 'data': [[...], ...]}} like the version's "
            f"input example, not {type(rows).__name__}."
        )
    columns, data = [str(c) for c in rows["columns"]], rows["data"]
    if not data:
        raise InvalidInput(f"The {what} has no rows.")
    bad = next((i for i, r in enumerate(data) if not isinstance(r, list) or len(r) != len(columns)), None)
    if bad is not None:
        raise InvalidInput(f"Row {bad} of the {what} does not have one value for each of its {len(columns)} columns.")
    frame = pd.DataFrame(data, columns=columns)
    if spec is None:
        return frame.infer_objects()
    missing = [c.name for c in spec.columns if c.name not in frame.columns]
    if missing:
        raise InvalidInput(f"The {what} lacks the column(s) {', '.join(map(repr, missing))} of the model's signature.")
    frame = frame[[c.name for c in spec.columns]]
    try:
        return frame.astype({c.name: _pandas_dtype(c) for c in spec.columns})
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The {what} does not fit the model's signature: {exc}") from None


def _pandas_dtype(column: Column) -> str:
    if column.kind == "float":
        return column.dtype if column.dtype in ("float32", "float64") else "float64"
    if column.kind == "int":
        return column.dtype.lower()
    if column.kind == "bool":
        return "bool"
    return column.dtype if column.dtype in STRING_DTYPES else "object"


def _array(rows: object, spec: InputSpec | None, what: str) -> np.ndarray:
    if not isinstance(rows, list) or not rows:
        raise InvalidInput(
            f"The {what} must be a non-empty list of rows (lists of numbers), not {type(rows).__name__}."
        )
    width = spec.width if spec else None
    try:
        array = np.array(
            [[np.nan if v is None else v for v in r] if isinstance(r, list) else r for r in rows],
            dtype=spec.dtype if spec else None,
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The {what} is not a rectangular list of numbers: {exc}") from None
    if array.ndim == 1 and width in (None, 1):
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise InvalidInput(
            f"The {what} must be rows of numbers (a 2-D list), got shape {list(array.shape)} of {array.dtype}."
        )
    if width and array.shape[1] != width:
        raise InvalidInput(f"The {what} has {array.shape[1]} values per row; the model's signature says {spec.width}.")
    return array
