"""Drift: how far new data is from a reference profile, per feature and per prediction column.

Numbers get four statistics, categories three; one of them (the "primary", per kind, or per
feature) decides ``drifted`` against its threshold, and all are reported:

- PSI (population stability index) over the profile's ten decile bins, shares floored at 1e-4
  so an empty bin counts as rare rather than infinitely different. Primary for numbers: drifted
  above 0.2, the usual "significant shift" line (0.1-0.2 is "moderate").
- Jensen-Shannon distance (``scipy.spatial.distance.jensenshannon``, base 2: 0 same, 1 disjoint)
  over the same bins.
- Wasserstein distance (``scipy.stats.wasserstein_distance``) between the reference's quantile
  function (interpolated from its 51 stored quantiles) and the current data's, on one grid of
  probability levels: the earth mover's distance in the feature's own units.
- Kolmogorov-Smirnov: the reference's rows are not kept, so the two-sample statistic is computed
  against the reference CDF the stored quantiles define (piecewise linear between them, 0 below
  the minimum, 1 above the maximum): ``D = max |F_current(x) - F_reference(x)|`` over the sorted
  current values, and its p-value from the Kolmogorov distribution (``scipy.stats.kstwobign``)
  with the two-sample effective size ``n*m/(n+m)``, as ``scipy.stats.ks_2samp`` does
  asymptotically.
- Chi-square for categories (``scipy.stats.chisquare``): the current counts per reference
  category (and "other") against the counts the reference's frequencies expect. Primary for
  categories: drifted when its p-value is below 0.01. With very many rows it finds differences
  too small to matter: PSI and Jensen-Shannon, reported beside it, say how large they are.

Everything is vectorised (one sort per numeric column; bins by ``np.searchsorted`` on the
reference edges; categories by one ``pd.factorize`` pass): a million rows of 20 features take
2-4 s on a busy two-core machine, most of it one sort per numeric column (``bench/monitoring.py``).

Not here: the profile (``profile``), data quality (``quality``), where the data comes from.
"""

from __future__ import annotations

import math
from typing import Literal, Optional

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError
from scipy import stats
from scipy.spatial.distance import jensenshannon

from ..errors import InvalidInput
from ..timestamps import now
from .features import feature_names, input_frame, prediction_frame
from .profile import (
    MIN_ROWS,
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
    categories,
    numbers,
    profile_frames,
    reference_codes,
)
from .quality import QualityReport, quality_of

FLOOR = 1e-4  # smallest share of a bin in PSI: an empty bin is rare, not infinitely different
GRID = 1000  # probability levels the Wasserstein distance compares quantile functions on
P_VALUES = {"chi_square"}  # statistics whose value is a p-value: drifted below the threshold
NumericStatistic = Literal["psi", "jensen_shannon", "wasserstein", "ks"]
CategoricalStatistic = Literal["chi_square", "psi", "jensen_shannon"]


class FeatureThreshold(BaseModel):
    statistic: Literal["psi", "jensen_shannon", "wasserstein", "ks", "chi_square"]
    threshold: float = Field(ge=0)


class Thresholds(BaseModel):
    """Which statistic decides drift, per kind of column (and per feature, overriding), and its line."""

    numeric_statistic: NumericStatistic = "psi"
    numeric_threshold: float = Field(0.2, ge=0)
    categorical_statistic: CategoricalStatistic = "chi_square"
    categorical_threshold: float = Field(0.01, ge=0, le=1)
    features: dict[str, FeatureThreshold] = Field(default_factory=dict)

    def rule(self, name: str, kind: str) -> tuple[str, float]:
        if name in self.features:
            chosen = self.features[name]
            allowed = (
                {"psi", "jensen_shannon", "wasserstein", "ks"}
                if kind == "numeric"
                else {"chi_square", "psi", "jensen_shannon"}
            )
            if chosen.statistic not in allowed:
                raise InvalidInput(
                    f"Feature {name!r} is {kind}: its drift statistic is one of {sorted(allowed)}, "
                    f"not {chosen.statistic!r}."
                )
            return chosen.statistic, chosen.threshold
        if kind == "numeric":
            return self.numeric_statistic, self.numeric_threshold
        return self.categorical_statistic, self.categorical_threshold


class ColumnDrift(BaseModel):
    name: str
    kind: Literal["numeric", "categorical"]
    statistic: str = Field(description="the statistic that decides drifted")
    value: Optional[float] = Field(description="its value (a p-value for chi_square); null with no values to compare")
    threshold: float
    drifted: bool
    rows: int = Field(description="current values compared (nulls left out)")
    psi: Optional[float] = None
    jensen_shannon: Optional[float] = None
    wasserstein: Optional[float] = None
    ks: Optional[float] = None
    ks_pvalue: Optional[float] = None
    chi_square: Optional[float] = None
    chi_square_pvalue: Optional[float] = None
    bins: list[str] = Field(default_factory=list, description="the bins or categories, for charts")
    reference: list[float] = Field(default_factory=list, description="the reference's share per bin")
    current: list[float] = Field(default_factory=list, description="the current data's share per bin")
    note: str = ""


class PredictionDrift(BaseModel):
    columns: list[ColumnDrift] = Field(default_factory=list)
    drifted: list[str] = Field(default_factory=list)
    note: str = ""


class MonitorReport(BaseModel):
    """Drift per feature (in the signature's order) and per prediction column, and data quality."""

    against: str = Field(description="what the data was compared with: a version, or 'baseline'")
    rows: int
    reference_rows: int
    created_time: str
    drifted: list[str] = Field(description="the features that drifted, in order")
    features: list[ColumnDrift]
    predictions: PredictionDrift
    quality: QualityReport
    thresholds: Thresholds
    notes: list[str] = Field(default_factory=list)


def monitor_frames(
    features: object,
    predictions: object,
    reference_profile: ReferenceProfile | dict,
    signature: dict | None = None,
    thresholds: Thresholds | dict | None = None,
    against: str = "reference",
) -> MonitorReport:
    """Compare current inputs (and predictions, or None) with a reference profile: the one call
    every source of current data (a DataFrame in the kernel, an endpoint's window) goes through."""
    reference = _valid(ReferenceProfile, reference_profile, "The reference profile")
    rules = _valid(Thresholds, thresholds or {}, "The thresholds")
    names = feature_names(signature) or [f.name for f in reference.features]
    frame = input_frame(features, names, "the current data")
    profiles = {f.name: f for f in reference.features}
    unknown = [n for n in names if n not in profiles]
    if unknown:
        raise InvalidInput(
            f"The reference profile has no {', '.join(map(repr, unknown[:5]))}: it was made for other features "
            f"({', '.join(repr(f.name) for f in reference.features[:8])}). Make a new one with %reference."
        )
    unknown_rules = sorted(set(rules.features) - set(names) - {p.name for p in reference.predictions})
    if unknown_rules:
        raise InvalidInput(f"Thresholds name {', '.join(map(repr, unknown_rules))}, which are not features.")
    drifts = [column_drift(profiles[name], frame[name], rules) for name in names]
    notes = []
    if len(frame) < MIN_ROWS:
        notes.append(f"Only {len(frame)} current rows: with fewer than {MIN_ROWS}, the statistics are mostly noise.")
    return MonitorReport(
        against=against,
        rows=len(frame),
        reference_rows=reference.rows,
        created_time=now(),
        drifted=[d.name for d in drifts if d.drifted],
        features=drifts,
        predictions=prediction_drift(predictions, reference, rules, len(frame)),
        quality=quality_of(frame, reference, signature),
        thresholds=rules,
        notes=notes,
    )


def compare_frames(
    features: object,
    predictions: object,
    baseline_features: object,
    baseline_predictions: object = None,
    signature: dict | None = None,
    thresholds: Thresholds | dict | None = None,
) -> MonitorReport:
    """Compare current data with a baseline window (another frame): the baseline is profiled
    here, then compared as a reference would be."""
    baseline = profile_frames(baseline_features, baseline_predictions, signature, source="baseline window")
    return monitor_frames(features, predictions, baseline, signature, thresholds, against="baseline")


def prediction_drift(predictions: object, reference: ReferenceProfile, rules: Thresholds, rows: int) -> PredictionDrift:
    if predictions is None:
        return PredictionDrift(note="no predictions given")
    if not reference.predictions:
        return PredictionDrift(note="the reference has no predictions (profile it with a model to compare them)")
    frame = prediction_frame(predictions, "the current predictions")
    if len(frame) != rows:
        raise InvalidInput(f"There are {len(frame)} predictions for {rows} rows of inputs; give one per row.")
    columns = [column_drift(p, frame[p.name], rules) for p in reference.predictions if p.name in frame.columns]
    missing = [p.name for p in reference.predictions if p.name not in frame.columns]
    note = f"not in the current predictions: {', '.join(missing)}" if missing else ""
    return PredictionDrift(columns=columns, drifted=[c.name for c in columns if c.drifted], note=note)


def column_drift(profile: NumericProfile | CategoricalProfile, column: pd.Series, rules: Thresholds) -> ColumnDrift:
    statistic, threshold = rules.rule(profile.name, profile.kind)
    values = (
        numeric_statistics(profile, column) if profile.kind == "numeric" else categorical_statistics(profile, column)
    )
    value = values.get(statistic if statistic != "chi_square" else "chi_square_pvalue")
    if value is None:
        drifted = False
    elif statistic in P_VALUES:
        drifted = value < threshold
    else:
        drifted = value > threshold
    return ColumnDrift(
        name=profile.name,
        kind=profile.kind,
        statistic=statistic,
        value=value,
        threshold=threshold,
        drifted=drifted,
        **values,
    )


def numeric_statistics(profile: NumericProfile, column: pd.Series) -> dict:
    current = np.sort(numbers(column))
    n = len(current)
    if not profile.rows or not n:
        return {"rows": n, "note": "no values to compare" if profile.rows else "the reference has no values"}
    edges = np.asarray(profile.edges)
    below = np.searchsorted(current, edges, side="left")  # values < each edge, on the sorted data
    counts = np.diff(np.concatenate(([0], below, [n])))
    expected = np.asarray(profile.counts, dtype=np.float64) / profile.rows
    observed = counts / n
    levels = np.asarray(_levels(profile))
    quantiles = np.asarray(profile.quantiles)
    ks, ks_p = _ks(current, quantiles, levels, profile.rows)
    return {
        "rows": n,
        "psi": _finite(_psi(expected, observed)),
        "jensen_shannon": _finite(jensenshannon(expected, observed, base=2)),
        "wasserstein": _finite(_wasserstein(current, quantiles, levels)),
        "ks": _finite(ks),
        "ks_pvalue": _finite(ks_p),
        "bins": _bin_labels(profile.edges),
        "reference": _shares(expected),
        "current": _shares(observed),
    }


def categorical_statistics(profile: CategoricalProfile, column: pd.Series) -> dict:
    codes, names = categories(column)
    codes = reference_codes(codes, names, profile.categories)
    n = int((codes >= -1).sum())
    if not profile.rows or not n:
        return {"rows": n, "note": "no values to compare" if profile.rows else "the reference has no values"}
    known = np.bincount(codes[codes >= 0], minlength=len(profile.categories))
    other = int((codes == -1).sum())
    reference_counts = np.asarray([*profile.counts, profile.other], dtype=np.float64)
    current_counts = np.asarray([*known, other], dtype=np.float64)
    bins = [*profile.categories, "(other)"]
    if profile.other == 0 and other == 0:  # no "other" on either side: not a bin
        reference_counts, current_counts, bins = reference_counts[:-1], current_counts[:-1], bins[:-1]
    expected = reference_counts / reference_counts.sum()
    observed = current_counts / n
    chi2, p = _chi_square(reference_counts, current_counts)
    return {
        "rows": n,
        "psi": _finite(_psi(expected, observed)),
        "jensen_shannon": _finite(jensenshannon(expected, observed, base=2)),
        "chi_square": _finite(chi2),
        "chi_square_pvalue": _finite(p),
        "bins": bins,
        "reference": _shares(expected),
        "current": _shares(observed),
    }


def _valid(model: type[BaseModel], value: object, what: str):
    """``value`` as ``model``; what is wrong with it as one sentence (never pydantic's listing)."""
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "it"
        raise InvalidInput(f"{what} is not valid: {where}: {first['msg']}.") from None


def _psi(expected: np.ndarray, observed: np.ndarray) -> float:
    e, o = np.maximum(expected, FLOOR), np.maximum(observed, FLOOR)
    return float(np.sum((o - e) * np.log(o / e)))


def _ks(current: np.ndarray, quantiles: np.ndarray, levels: np.ndarray, reference_rows: int) -> tuple[float, float]:
    """KS statistic of sorted ``current`` against the CDF the reference's quantiles define."""
    n = len(current)
    cdf = np.interp(current, quantiles, levels, left=0.0, right=1.0)
    steps = np.arange(1, n + 1) / n
    d = max(float(np.max(steps - cdf)), float(np.max(cdf - (steps - 1 / n))))
    effective = n * reference_rows / (n + reference_rows)
    return d, float(stats.kstwobign.sf(d * math.sqrt(effective)))


def _wasserstein(current: np.ndarray, quantiles: np.ndarray, levels: np.ndarray) -> float:
    """Both quantile functions on one grid of levels, compared as equally weighted samples."""
    grid = (np.arange(GRID) + 0.5) / GRID
    reference = np.interp(grid, levels, quantiles)
    here = current[np.minimum((grid * len(current)).astype(np.int64), len(current) - 1)]
    return float(stats.wasserstein_distance(reference, here))


def _chi_square(reference_counts: np.ndarray, current_counts: np.ndarray) -> tuple[float, float]:
    """Current counts against the reference's frequencies; a category the reference never saw
    is expected half a row's worth (not zero, which would make any sighting infinitely unlikely)."""
    if len(reference_counts) < 2:
        return 0.0, 1.0  # one category on both sides: nothing can differ
    shares = np.maximum(reference_counts, 0.5)
    expected = shares / shares.sum() * current_counts.sum()
    result = stats.chisquare(current_counts, expected)
    return float(result.statistic), float(result.pvalue)


def _levels(profile: NumericProfile) -> list[float]:
    count = len(profile.quantiles)
    return [i / (count - 1) for i in range(count)] if count > 1 else [0.0]


def _bin_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all"]
    marks = [f"{e:.3g}" for e in edges]
    return [f"< {marks[0]}", *(f"{a} to {b}" for a, b in zip(marks, marks[1:])), f">= {marks[-1]}"]


def _shares(values: np.ndarray) -> list[float]:
    return [round(float(v), 5) for v in values]


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
