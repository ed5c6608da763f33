"""A version's reference profile: what its inputs and predictions looked like, in a few KB.

New data is later compared with this summary rather than with the rows it came from, so the
rows (a training set of millions) need not be kept, and an endpoint's window is compared in one
pass. Per numeric feature: 51 quantiles (every 2%), ten bins whose edges are the reference's
deciles (so the reference has about a tenth of its rows in each, and current data binned with
``np.searchsorted`` on the same edges gives PSI and Jensen-Shannon), the rows in each bin,
min/max, mean/std and the null rate. Per categorical feature: the ``TOP_K`` most frequent
categories with their counts, the rest as one "other" count, and the null rate. The predictions,
when a model gave them, are profiled the same way (a classifier's label as a category).

Numbers are kept to 7 significant digits (float32's precision) and the bin counts are computed on
the rounded edges, so the stored profile is self-consistent. 100 features take about 70 KB.

Not here: turning data into frames (``features``), comparing (``drift``), storing (``service``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from ..errors import InvalidInput
from ..timestamps import now
from .features import CATEGORICAL, NUMERIC, feature_names, input_frame, kind_of, prediction_frame, signature_dtypes

# Fewer rows than this describe noise more than a distribution: ten bins of ten rows each put
# a bin's share within about +-0.1 of the truth. Registration with a smaller --sample keeps no
# profile; %reference refuses one.
MIN_ROWS = 100
QUANTILE_LEVELS = [round(i / 50, 2) for i in range(51)]
BIN_LEVELS = [round(i / 10, 1) for i in range(1, 10)]  # inner edges: the deciles
TOP_K = 20  # categories kept by name; the rest are counted as "other"
MAX_CATEGORY_CHARS = 200


class NumericProfile(BaseModel):
    name: str
    kind: Literal["numeric"] = "numeric"
    dtype: str = Field("", description="the signature's dtype, or the data's")
    rows: int = Field(description="values that are not null (nor NaN or infinite)")
    null_rate: float
    min: Optional[float] = None
    max: Optional[float] = None
    mean: Optional[float] = None
    std: Optional[float] = None
    quantiles: list[float] = Field(default_factory=list, description="at the profile's quantile_levels")
    edges: list[float] = Field(
        default_factory=list, description="inner bin edges: bin i holds edges[i-1] <= x < edges[i]"
    )
    counts: list[int] = Field(default_factory=list, description="reference values per bin (len(edges) + 1)")


class CategoricalProfile(BaseModel):
    name: str
    kind: Literal["categorical"] = "categorical"
    dtype: str = ""
    rows: int
    null_rate: float
    categories: list[str] = Field(default_factory=list, description="the most frequent, most frequent first")
    counts: list[int] = Field(default_factory=list)
    other: int = Field(0, description="values of any other category")


ColumnProfile = Annotated[Union[NumericProfile, CategoricalProfile], Field(discriminator="kind")]


class ReferenceProfile(BaseModel):
    """What a version's inputs (and predictions) looked like: the reference drift is measured against."""

    rows: int
    created_time: str
    source: str = Field("", description="where the rows came from, e.g. 'X_train' or 'registration sample'")
    quantile_levels: list[float] = Field(default_factory=lambda: list(QUANTILE_LEVELS))
    features: list[ColumnProfile]
    predictions: list[ColumnProfile] = Field(default_factory=list)

    def feature(self, name: str) -> NumericProfile | CategoricalProfile | None:
        return next((f for f in self.features if f.name == name), None)


def profile_frames(
    features: object,
    predictions: object = None,
    signature: dict | None = None,
    source: str = "",
    minimum_rows: int = MIN_ROWS,
) -> ReferenceProfile:
    """The profile of ``features`` (a DataFrame, or an array whose columns are the signature's
    features) and, when given, ``predictions`` (one value or row per input row)."""
    frame = input_frame(features, feature_names(signature), "the reference data")
    if len(frame) < minimum_rows:
        raise InvalidInput(
            f"A reference profile needs at least {minimum_rows} rows; the data has {len(frame)}. "
            "Profile the training set (or a larger sample) instead."
        )
    outputs = prediction_frame(predictions, "the reference predictions")
    if outputs is not None and len(outputs) != len(frame):
        raise InvalidInput(f"There are {len(outputs)} predictions for {len(frame)} rows of inputs; give one per row.")
    dtypes = signature_dtypes(signature)
    return ReferenceProfile(
        rows=len(frame),
        created_time=now(),
        source=source[:200],
        features=[profile_column(str(name), frame[name], dtypes.get(str(name))) for name in frame.columns],
        predictions=[] if outputs is None else [profile_column(str(n), outputs[n], None, True) for n in outputs],
    )


def profile_column(
    name: str, column: pd.Series, dtype: str | None, prediction: bool = False
) -> NumericProfile | CategoricalProfile:
    """One column's profile. A prediction of whole numbers or text is a label (a category)."""
    kind = kind_of(dtype, column)
    if prediction and kind == NUMERIC and not pd.api.types.is_float_dtype(column.dtype):
        kind = CATEGORICAL
    described = dtype or str(column.dtype)
    if kind == CATEGORICAL:
        return _categorical(name, column, described)
    return _numeric(name, column, described)


def numbers(column: pd.Series) -> np.ndarray:
    """The column's finite values as float64 (nulls, NaN, infinities and text left out)."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return values[np.isfinite(values)]


def categories(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(a code per row, -1 for null; the category each code stands for, as text). Categories are
    compared as text, so 1 and "1" are one category, as they are once sent as JSON. One
    ``pd.factorize`` pass: only the distinct values are turned into text in Python."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    names: dict[str, int] = {}
    remap = np.asarray([names.setdefault(_label(u), len(names)) for u in uniques], dtype=np.int64)
    if len(names) != len(uniques):  # values that read the same as text: one category
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return np.asarray(codes, dtype=np.int64), list(names)


def reference_codes(codes: np.ndarray, names: list[str], reference: list[str]) -> np.ndarray:
    """Codes of ``categories`` turned into positions among the reference's categories: -1 for
    any other category, -2 for null."""
    position = {name: i for i, name in enumerate(reference)}
    lookup = np.asarray([position.get(name, -1) for name in names] + [-2], dtype=np.int64)
    return lookup[codes]  # code -1 (null) takes the last entry


def _label(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[:MAX_CATEGORY_CHARS]


def _numeric(name: str, column: pd.Series, dtype: str) -> NumericProfile:
    values = numbers(column)
    total = len(column)
    null_rate = 1 - len(values) / total if total else 0.0
    if not len(values):
        return NumericProfile(name=name, dtype=dtype, rows=0, null_rate=null_rate)
    quantiles = rounded(np.quantile(values, QUANTILE_LEVELS))
    edges = sorted(set(rounded(np.quantile(values, BIN_LEVELS))))
    counts = np.bincount(np.searchsorted(np.asarray(edges), values, side="right"), minlength=len(edges) + 1)
    return NumericProfile(
        name=name,
        dtype=dtype,
        rows=len(values),
        null_rate=round(null_rate, 6),
        min=float(values.min()),
        max=float(values.max()),
        mean=rounded([values.mean()])[0],
        std=rounded([values.std()])[0],
        quantiles=quantiles,
        edges=edges,
        counts=counts.tolist(),
    )


def _categorical(name: str, column: pd.Series, dtype: str) -> CategoricalProfile:
    codes, names = categories(column)
    present = codes[codes >= 0]
    counts = np.bincount(present, minlength=len(names))
    order = np.argsort(-counts, kind="stable")
    top = order[:TOP_K]
    total = len(column)
    return CategoricalProfile(
        name=name,
        dtype=dtype,
        rows=len(present),
        null_rate=round(1 - len(present) / total, 6) if total else 0.0,
        categories=[names[i] for i in top],
        counts=[int(counts[i]) for i in top],
        other=int(counts[order[TOP_K:]].sum()),
    )


def rounded(values) -> list[float]:
    """7 significant digits: float32's precision, and half the characters of float64's JSON."""
    return [float(f"{v:.7g}") for v in np.asarray(values, dtype=np.float64)]
