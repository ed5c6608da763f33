"""What a version's features are called, and inputs or predictions as a frame with those columns.

Monitoring compares columns by name, so every source of data (a training set in the kernel, rows
sent over REST, an endpoint's collected requests) is first turned into a DataFrame whose columns
are the features in the signature's order:

- a columnar signature (one 1-D input per DataFrame column) names them;
- a model that takes one ``[rows, N]`` tensor has features ``input[0]`` ... ``input[N-1]`` (its
  input's name, then the position), and any 2-D array or frame of N columns fits it by position;
- a version without a signature takes the names of the first data it is given (the reference),
  and later data must have the same columns.

A column of a kind the monitors cannot compare is refused here, with what was expected, so the
statistics never see it. Predictions are one column per output; an output with several values per
row (a classifier's probabilities) becomes one column per value, ``probabilities[0]`` ...

Not here: the statistics (``profile``, ``drift``, ``quality``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InvalidInput

NUMERIC, CATEGORICAL = "numeric", "categorical"
MAX_FEATURES = 1000  # a profile is kept with the version: its size is bounded
MAX_OUTPUT_WIDTH = 50  # columns one output (probabilities) may spread into


def feature_names(signature: dict | None) -> list[str] | None:
    """The features a signature names, in its order; None when the data will say (no signature,
    or a tensor input whose width is not fixed)."""
    inputs = (signature or {}).get("inputs") or []
    if not inputs:
        return None
    shapes = [list(spec.get("shape") or [-1]) for spec in inputs]
    if all(len(shape) == 1 or shape == [-1, 1] for shape in shapes):
        return [spec["name"] for spec in inputs]
    if len(inputs) == 1 and len(shapes[0]) == 2 and shapes[0][1] is not None and shapes[0][1] > 0:
        return [f"{inputs[0]['name']}[{i}]" for i in range(shapes[0][1])]
    return None


def signature_dtypes(signature: dict | None) -> dict[str, str]:
    """Each feature's dtype as the signature writes it ('float32', 'int64', 'string', ...)."""
    inputs = (signature or {}).get("inputs") or []
    names = feature_names(signature) or []
    if len(inputs) == 1 and len(names) > 1 and names[0].endswith("[0]"):
        return dict.fromkeys(names, str(inputs[0].get("dtype") or ""))
    return {spec["name"]: str(spec.get("dtype") or "") for spec in inputs}


def kind_of(dtype: str | None, column: pd.Series) -> str:
    """Numbers are compared by their distribution, everything else by its categories: the
    signature's dtype decides, the data's when the signature has none."""
    if dtype:
        text = dtype.lower()
        if text.startswith(("float", "int", "uint", "double")):
            return NUMERIC
        if text.startswith(("bool", "str", "object", "category")):
            return CATEGORICAL
    if pd.api.types.is_bool_dtype(column.dtype):
        return CATEGORICAL
    return NUMERIC if pd.api.types.is_numeric_dtype(column.dtype) else CATEGORICAL


def input_frame(data: object, names: Sequence[str] | None, what: str = "the data") -> pd.DataFrame:
    """``data`` (a DataFrame, a 2-D array or list of rows, or ``{"columns", "data"}``) as a frame
    with exactly the columns ``names``, in that order; without names, as it comes."""
    frame = _as_frame(data, what)
    if frame.shape[1] == 0:
        raise InvalidInput(f"{_cap(what)} has no columns; expected {_expected(names)}.")
    if len(frame) == 0:
        raise InvalidInput(f"{_cap(what)} has no rows: there is nothing to profile or compare.")
    if frame.shape[1] > MAX_FEATURES:
        raise InvalidInput(f"{_cap(what)} has {frame.shape[1]} columns; monitoring takes at most {MAX_FEATURES}.")
    if names is None:
        frame.columns = [str(c) for c in frame.columns]
        if frame.columns.duplicated().any():
            raise InvalidInput(
                f"{_cap(what)} has duplicate column names: {_some(frame.columns[frame.columns.duplicated()])}."
            )
        return frame
    names = list(names)
    columns = [str(c) for c in frame.columns]
    if set(columns) == set(names) and len(columns) == len(names):
        frame.columns = columns
        return frame[names]
    if not _named(frame) and frame.shape[1] == len(names):  # an array: columns by position
        frame.columns = names
        return frame
    if all(n.endswith("]") and "[" in n for n in names) and frame.shape[1] == len(names):
        frame.columns = names  # a tensor model's features are positions: any names fit
        return frame
    named = _named(frame)  # an array's columns have no names: only their number can be wrong
    missing = [n for n in names if n not in columns] if named else []
    extra = [c for c in columns if c not in names] if named else []
    detail = (
        "; ".join(
            part
            for part in (
                f"missing {_some(missing)}" if missing else "",
                f"not in the signature {_some(extra)}" if extra else "",
            )
            if part
        )
        or f"{frame.shape[1]} columns for {len(names)} features"
    )
    raise InvalidInput(f"{_cap(what)} does not match the model's features ({detail}); expected {_expected(names)}.")


def prediction_frame(data: object, what: str = "the predictions") -> pd.DataFrame | None:
    """Predictions as one column per output value: a frame, a dict of arrays by output name, or
    one array (``predictions``, or ``predictions[i]`` per column of a 2-D array)."""
    if data is None:
        return None
    if isinstance(data, dict) and "columns" not in data:
        parts = [_output_columns(str(name), value, what) for name, value in data.items()]
        frame = pd.concat(parts, axis=1) if parts else pd.DataFrame()
    elif isinstance(data, pd.Series):
        frame = _output_columns(str(data.name or "predictions"), data.to_numpy(), what)
    elif isinstance(data, pd.DataFrame) or isinstance(data, dict):
        frame = _as_frame(data, what)
        frame = pd.concat([_output_columns(str(c), frame[c].to_numpy(), what) for c in frame.columns], axis=1)
    else:
        frame = _output_columns("predictions", data, what)
    if frame.shape[1] == 0 or len(frame) == 0:
        raise InvalidInput(f"{_cap(what)} are empty: give one value (or row of values) per input row.")
    return frame


def _output_columns(name: str, value: object, what: str) -> pd.DataFrame:
    array = np.asarray(value)
    if array.dtype == object and array.ndim == 1 and len(array) and isinstance(array[0], (list, tuple, np.ndarray)):
        try:
            array = np.asarray(array.tolist())
        except ValueError:
            raise InvalidInput(f"{_cap(what)}: output {name!r} has rows of different lengths.") from None
    if array.ndim == 1:
        return pd.DataFrame({name: array})
    if array.ndim == 2:
        if array.shape[1] > MAX_OUTPUT_WIDTH:
            raise InvalidInput(
                f"{_cap(what)}: output {name!r} has {array.shape[1]} values per row; monitoring compares at most "
                f"{MAX_OUTPUT_WIDTH} (pass the columns that matter)."
            )
        if array.shape[1] == 1:
            return pd.DataFrame({name: array[:, 0]})
        return pd.DataFrame({f"{name}[{i}]": array[:, i] for i in range(array.shape[1])})
    raise InvalidInput(
        f"{_cap(what)}: output {name!r} has {array.ndim} dimensions; expected one value or row per input row."
    )


def _as_frame(data: object, what: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data.copy(deep=False)
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, dict) and set(data) >= {"columns", "data"}:
        if not isinstance(data["columns"], list) or not isinstance(data["data"], list):
            raise InvalidInput(f'{_cap(what)}: "columns" and "data" must be lists (column names, and rows of values).')
        widths = {len(row) if isinstance(row, list) else -1 for row in data["data"]}
        if widths - {len(data["columns"])}:
            raise InvalidInput(
                f"{_cap(what)}: every row must be a list of {len(data['columns'])} values, one per column."
            )
        return pd.DataFrame(data["data"], columns=[str(c) for c in data["columns"]])
    if isinstance(data, dict):
        try:
            return pd.DataFrame({str(k): np.asarray(v) for k, v in data.items()})
        except ValueError as exc:
            raise InvalidInput(f"{_cap(what)}: columns of different lengths ({exc}).") from None
    try:
        array = np.asarray(data)
    except ValueError:
        raise InvalidInput(f"{_cap(what)}: rows of different lengths; every row needs one value per feature.") from None
    if array.ndim == 1 and array.dtype != object:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise InvalidInput(
            f"{_cap(what)} must be a DataFrame, a 2-D array or a list of rows; got {type(data).__name__} "
            f"with {array.ndim} dimensions."
        )
    return pd.DataFrame(array)


def _named(frame: pd.DataFrame) -> bool:
    """Whether a frame's columns are names someone gave (not pandas' 0, 1, 2 ...)."""
    return not isinstance(frame.columns, pd.RangeIndex)


def _expected(names: Sequence[str] | None) -> str:
    return "any columns" if names is None else f"{len(names)} columns {_some(names)}"


def _some(items, limit: int = 8) -> str:
    items = [str(i) for i in items]
    shown = ", ".join(repr(i) for i in items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}]"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
