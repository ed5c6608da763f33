"""The numbers a monitor reports are the ones scipy gives on the raw rows, although only the
reference's profile is kept; and a profile stays small enough to live with its version."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from jupyter_modelhub.errors import InvalidInput
from jupyter_modelhub.monitoring.drift import monitor_frames
from jupyter_modelhub.monitoring.profile import profile_frames

rng = np.random.default_rng(3)


@pytest.mark.parametrize("shift, scale", [(0.0, 1.0), (0.3, 1.0), (0.0, 1.8), (1.5, 0.5)])
def test_ks_and_wasserstein_from_quantiles_match_scipy_on_the_raw_rows(shift, scale):
    reference = pd.DataFrame({"x": rng.normal(size=20_000)})
    current = pd.DataFrame({"x": rng.normal(shift, scale, size=5_000)})
    report = monitor_frames(current, None, profile_frames(reference), None)
    x = report.features[0]
    exact = stats.ks_2samp(reference["x"], current["x"])
    assert x.ks == pytest.approx(exact.statistic, abs=0.01)
    assert (x.ks_pvalue < 0.01) == (exact.pvalue < 0.01)
    assert x.wasserstein == pytest.approx(stats.wasserstein_distance(reference["x"], current["x"]), abs=0.03)


def test_psi_and_jensen_shannon_are_over_the_reference_deciles():
    reference = pd.DataFrame({"x": rng.uniform(0, 10, size=10_000)})
    current = pd.DataFrame({"x": rng.uniform(0, 10, size=10_000) ** 1.2 / 10**0.2})
    profile = profile_frames(reference)
    x = monitor_frames(current, None, profile, None).features[0]
    edges = np.asarray(profile.features[0].edges)
    expected = np.bincount(np.searchsorted(edges, reference["x"], side="right"), minlength=10) / 10_000
    observed = np.bincount(np.searchsorted(edges, current["x"], side="right"), minlength=10) / 10_000
    assert x.psi == pytest.approx(float(np.sum((observed - expected) * np.log(observed / expected))), rel=1e-6)
    assert x.jensen_shannon == pytest.approx(jensenshannon(expected, observed, base=2), rel=1e-6)
    assert x.reference == pytest.approx(expected, abs=1e-4) and x.current == pytest.approx(observed, abs=1e-4)


def test_chi_square_compares_counts_with_the_reference_frequencies():
    reference = pd.DataFrame({"plan": rng.choice(["a", "b", "c"], size=6000, p=[0.5, 0.3, 0.2])})
    current = pd.DataFrame({"plan": ["a"] * 450 + ["b"] * 300 + ["c"] * 250})
    profile = profile_frames(reference)
    plan = monitor_frames(current, None, profile, None).features[0]
    shares = np.asarray(profile.features[0].counts) / 6000
    order = [profile.features[0].categories.index(c) for c in "abc"]
    exact = stats.chisquare([450, 300, 250], shares[order] * 1000)
    assert plan.chi_square == pytest.approx(exact.statistic) and plan.value == pytest.approx(exact.pvalue)


def test_a_category_never_seen_counts_as_other_and_is_noticed():
    reference = pd.DataFrame({"plan": ["a", "b"] * 500})
    current = pd.DataFrame({"plan": ["a", "b", "zzz", None] * 250})
    report = monitor_frames(current, None, profile_frames(reference), None)
    plan = report.features[0]
    assert plan.bins == ["a", "b", "(other)"] and plan.rows == 750 and plan.drifted
    quality = report.quality.features[0]
    assert (quality.nulls, quality.unseen, quality.flagged) == (250, 250, True)


def test_a_profile_of_100_features_is_under_100_kb():
    frame = pd.DataFrame({f"x{i}": rng.normal(size=2000) * 10**i for i in range(80)})
    for i in range(20):
        frame[f"c{i}"] = rng.choice([f"category-{k}" for k in range(40)], size=2000)
    profile = profile_frames(frame, rng.integers(0, 3, size=2000))
    assert len(profile.model_dump_json()) < 100_000
    assert len(profile.features[-1].categories) == 20 and profile.features[-1].other > 0


def test_an_array_takes_the_names_of_a_tensor_models_features():
    signature = {"inputs": [{"name": "input", "dtype": "float32", "shape": [-1, 3]}]}
    profile = profile_frames(rng.normal(size=(500, 3)), None, signature)
    assert [f.name for f in profile.features] == ["input[0]", "input[1]", "input[2]"]
    with pytest.raises(InvalidInput, match=r"4 columns for 3 features"):
        monitor_frames(rng.normal(size=(500, 4)), None, profile, signature)
