"""Data quality of current inputs, per feature: what is missing, mistyped or out of range.

Drift says the distribution moved; quality says values are broken: a feature that arrives null
more often than in the reference, text where the signature says numbers (or a fraction where it
says whole numbers), values a signature's dtype cannot hold (300 for uint8, infinity), values
beyond the reference's minimum and maximum, and categories the reference never saw when it had
seen them all. A feature is flagged when any of these is more than noise (``MARGINS``).

Not here: drift (``drift``); the reference (``profile``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from .features import kind_of, signature_dtypes
from .profile import CategoricalProfile, NumericProfile, ReferenceProfile, categories, reference_codes

NULL_MARGIN = 0.1  # flagged when the null rate exceeds the reference's by more than this
OUTSIDE_SHARE = 0.05  # flagged when more than this share is outside the reference's range
UNSEEN_SHARE = 0.01  # flagged when more than this share is of categories never seen


class FeatureQuality(BaseModel):
    name: str
    rows: int
    nulls: int
    null_rate: float
    reference_null_rate: float
    type_errors: int = Field(0, description="values not convertible to the signature's dtype")
    outside_dtype: int = Field(0, description="values the signature's dtype cannot hold (or not finite)")
    below_reference: int = Field(0, description="values below the reference's minimum")
    above_reference: int = Field(0, description="values above the reference's maximum")
    unseen: int = Field(0, description="categories the reference never saw (when it saw every one it kept)")
    flagged: bool
    issues: list[str] = Field(default_factory=list)


class QualityReport(BaseModel):
    rows: int
    flagged: list[str] = Field(description="features with a quality issue, in order")
    features: list[FeatureQuality]


def quality_of(frame: pd.DataFrame, reference: ReferenceProfile, signature: dict | None) -> QualityReport:
    dtypes = signature_dtypes(signature)
    profiles = {f.name: f for f in reference.features}
    features = [feature_quality(name, frame[name], profiles.get(name), dtypes.get(name)) for name in frame.columns]
    return QualityReport(rows=len(frame), flagged=[f.name for f in features if f.flagged], features=features)


def feature_quality(
    name: str, column: pd.Series, profile: NumericProfile | CategoricalProfile | None, dtype: str | None
) -> FeatureQuality:
    rows = len(column)
    null = column.isna().to_numpy()
    nulls = int(null.sum())
    reference_null_rate = profile.null_rate if profile is not None else 0.0
    found = {"type_errors": 0, "outside_dtype": 0, "below_reference": 0, "above_reference": 0, "unseen": 0}
    kind = profile.kind if profile is not None else kind_of(dtype, column)
    if kind == "numeric":
        values = _as_numbers(column)
        converted = ~np.isnan(values) | null  # NaN from text that is not a number is a type error
        found["type_errors"] = int((~converted).sum()) + _fractions(values, dtype)
        finite = values[np.isfinite(values)]
        found["outside_dtype"] = int((np.isinf(values)).sum()) + _outside(finite, dtype)
        if isinstance(profile, NumericProfile) and profile.rows:
            found["below_reference"] = int((finite < profile.min).sum())
            found["above_reference"] = int((finite > profile.max).sum())
    elif isinstance(profile, CategoricalProfile) and profile.other == 0 and profile.rows:
        codes, names = categories(column)
        found["unseen"] = int((reference_codes(codes, names, profile.categories) == -1).sum())
    null_rate = nulls / rows if rows else 0.0
    issues = _issues(found, null_rate, reference_null_rate, rows, dtype)
    return FeatureQuality(
        name=name,
        rows=rows,
        nulls=nulls,
        null_rate=round(null_rate, 6),
        reference_null_rate=reference_null_rate,
        flagged=bool(issues),
        issues=issues,
        **found,
    )


def _issues(found: dict, null_rate: float, reference_null_rate: float, rows: int, dtype: str | None) -> list[str]:
    issues = []
    if null_rate > reference_null_rate + NULL_MARGIN:
        issues.append(f"null in {null_rate:.1%} of rows (reference {reference_null_rate:.1%})")
    if found["type_errors"]:
        issues.append(f"{found['type_errors']} values are not {dtype or 'numbers'}")
    if found["outside_dtype"]:
        issues.append(f"{found['outside_dtype']} values outside what {dtype or 'a finite number'} holds")
    outside = found["below_reference"] + found["above_reference"]
    if rows and outside / rows > OUTSIDE_SHARE:
        issues.append(f"{outside / rows:.1%} of values outside the reference's range")
    if rows and found["unseen"] / rows > UNSEEN_SHARE:
        issues.append(f"{found['unseen'] / rows:.1%} of values are categories the reference never saw")
    return issues


def _as_numbers(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _fractions(values: np.ndarray, dtype: str | None) -> int:
    """Values with a fraction where the signature says whole numbers (1.5 is no int64)."""
    if not dtype or not dtype.lower().startswith(("int", "uint")):
        return 0
    finite = values[np.isfinite(values)]
    return int((finite != np.floor(finite)).sum())


def _outside(finite: np.ndarray, dtype: str | None) -> int:
    """Values beyond the range of the signature's dtype."""
    try:
        kind = np.dtype(dtype.lower()) if dtype else None
    except TypeError:
        return 0
    if kind is None or kind.kind not in "iuf":
        return 0
    info = np.iinfo(kind) if kind.kind in "iu" else np.finfo(kind)
    return int(((finite < float(info.min)) | (finite > float(info.max))).sum())
