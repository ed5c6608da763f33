"""Deployments of one endpoint compared on their collected answers: how many requests each
answered, how often a mirror deployment agreed with the answer the client got, and, where labels
came back, whether one deployment is better than another and how many more labelled rows would
settle it.

Agreement is counted on the same requests: the endpoint host records a mirror deployment's answer
with the request id of the answer the client got (``collector``), so each pair is one request
answered by both. Two answers agree when their first output (the label a classifier answers)
is the same class, or the same number within ``TOLERANCE`` for a regression; where both answered
probabilities, the largest difference between them is reported too.

The difference in a metric (accuracy, or the mean absolute error) between two deployments comes
with a 95% confidence interval from the normal approximation (scipy's ``norm``): for a traffic
split the two groups of rows are independent (``sqrt(v1/n1 + v2/n2)``, the two-proportion
z-interval for accuracy); for a mirror both answered the same rows, so the interval is that of
the paired differences. ``needed`` is the number of labelled rows per deployment at which a
difference the size of the one seen would be found at the 5% level with 80% power: the usual
``n = (z_0.975 + z_0.8)^2 * variance / difference^2`` (the paired variance for a mirror).

Not here: decoding bodies (``collected``), labels (``labels``).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from scipy.stats import norm

from .collected import decode_response
from .labels import _text, scores, task_of

TOLERANCE = 1e-6  # regression answers closer than this (relative) agree
CONFIDENCE, POWER = 0.95, 0.8
REPLAYED = "replay:"  # request ids of replayed requests (``replay``): not the endpoint's own traffic


class DeploymentCount(BaseModel):
    deployment: str
    requests: int = Field(description="requests whose answer the client got from it")
    share: float = Field(description="of the endpoint's requests in the window")
    failed: int = Field(description="of those, answered with a status of 400 or more")
    mirrored: int = Field(0, description="copies of other requests it answered as the mirror")


class MirrorAgreement(BaseModel):
    deployment: str = Field(description="the mirror deployment")
    against: str = Field(description="the deployment whose answers the client got")
    pairs: int = Field(description="requests both answered (2xx), counted per scored row")
    agreement: Optional[float] = Field(description="share of rows whose first outputs agree")
    max_probability_difference: Optional[float] = Field(
        None, description="the largest difference between the two deployments' probabilities, over every row"
    )
    output: str = ""


class MetricDifference(BaseModel):
    """b's metric minus a's, with its confidence interval and the sample size that would decide."""

    a: str
    b: str
    metric: str
    a_value: float
    b_value: float
    difference: float
    low: float = Field(description="95% confidence interval of the difference: low end")
    high: float
    a_rows: int = Field(description="labelled rows of a")
    b_rows: int
    paired: bool = Field(description="the same requests (a mirror), else independent groups (a traffic split)")
    decided: bool = Field(description="the interval excludes 0: the deployments differ at the 5% level")
    needed: Optional[int] = Field(
        description="labelled rows per deployment to find a difference this large (5% level, 80% power); null "
        "when there is none to find"
    )


class Comparison(BaseModel):
    deployments: list[DeploymentCount]
    mirror: Optional[MirrorAgreement] = None
    difference: Optional[MetricDifference] = None
    note: str = ""


def answers(frame: pd.DataFrame, output_names: list[str]) -> pd.DataFrame:
    """Every 2xx answer of ``frame`` (collected records, mirror ones included) as one row per
    scored row: request_id, row, time, deployment, mirror, then the outputs (NAME, NAME[i])."""
    from .collected import _columns

    parts = []
    for record in frame.itertuples(index=False):
        if record.response is None or record.response_truncated or not 200 <= int(record.status) < 300:
            continue
        try:
            outputs = decode_response(record, output_names)
        except Exception:  # an answer that does not decode is not an answer to compare
            continue
        columns = _columns(outputs, [n for n in output_names if n in outputs] or list(outputs))
        if not columns:
            continue
        lengths = {len(v) for v in columns.values()}
        if len(lengths) != 1:
            continue
        rows = lengths.pop()
        parts.append(
            pd.DataFrame(
                {
                    "request_id": [record.request_id] * rows,
                    "row": np.arange(rows, dtype=np.int32),
                    "time": [record.time] * rows,
                    "deployment": [record.deployment] * rows,
                    "mirror": [bool(getattr(record, "mirror", False))] * rows,
                    **columns,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["request_id", "row", "time", "deployment", "mirror"])
    return pd.concat(parts, ignore_index=True)


def counts(frame: pd.DataFrame) -> list[DeploymentCount]:
    served = frame[~frame["mirror"].astype(bool) & frame["deployment"].notna()]
    mirrored = frame[frame["mirror"].astype(bool)]
    total = len(served)
    names = sorted(set(served["deployment"]) | set(mirrored["deployment"].dropna()))
    return [
        DeploymentCount(
            deployment=name,
            requests=int((served["deployment"] == name).sum()),
            share=round(float((served["deployment"] == name).sum()) / total, 6) if total else 0.0,
            failed=int(((served["deployment"] == name) & (served["status"] >= 400)).sum()),
            mirrored=int((mirrored["deployment"] == name).sum()),
        )
        for name in names
    ]


def agreement(given: pd.DataFrame, other: pd.DataFrame, output: str) -> tuple[int, float | None, float | None]:
    """(rows compared, agreement rate, max probability difference) of two deployments' answers to
    the same requests (joined on request id and row)."""
    pairs = given.merge(other, on=["request_id", "row"], suffixes=("_a", "_b"))
    if pairs.empty or f"{output}_a" not in pairs or f"{output}_b" not in pairs:
        return 0, None, None
    a, b = pairs[f"{output}_a"], pairs[f"{output}_b"]
    if task_of(a) == "regression" or task_of(b) == "regression":
        x, y = a.to_numpy(dtype=np.float64), b.to_numpy(dtype=np.float64)
        same = np.abs(x - y) <= TOLERANCE * np.maximum(1.0, np.abs(x))
    else:
        same = np.asarray([_text(u) == _text(v) for u, v in zip(a.to_numpy(), b.to_numpy())])
    columns = [c[:-2] for c in pairs.columns if c.endswith("_a") and c.startswith("probabilities")]
    spread = None
    if columns and all(f"{c}_b" in pairs for c in columns):
        differences = np.abs(
            pairs[[f"{c}_a" for c in columns]].to_numpy(dtype=np.float64)
            - pairs[[f"{c}_b" for c in columns]].to_numpy(dtype=np.float64)
        )
        spread = round(float(differences.max()), 6)
    return len(pairs), round(float(same.mean()), 6), spread


def difference(
    a: str, b: str, a_scores: np.ndarray, b_scores: np.ndarray, metric: str, paired: bool
) -> MetricDifference | None:
    """b's metric minus a's, with a confidence interval and the rows needed to decide."""
    if len(a_scores) < 2 or len(b_scores) < 2:
        return None
    z = norm.ppf(0.5 + CONFIDENCE / 2)
    d = float(b_scores.mean() - a_scores.mean())
    if paired:
        deltas = b_scores - a_scores
        variance = float(deltas.var(ddof=1))
        se = math.sqrt(variance / len(deltas))
    else:
        v1, v2 = float(a_scores.var(ddof=1)), float(b_scores.var(ddof=1))
        variance = v1 + v2
        se = math.sqrt(v1 / len(a_scores) + v2 / len(b_scores))
    needed = None
    if d != 0 and variance > 0:
        needed = math.ceil((z + norm.ppf(POWER)) ** 2 * variance / d**2)
    low, high = d - z * se, d + z * se
    return MetricDifference(
        a=a,
        b=b,
        metric=metric,
        a_value=round(float(a_scores.mean()), 6),
        b_value=round(float(b_scores.mean()), 6),
        difference=round(d, 6),
        low=round(low, 6),
        high=round(high, 6),
        a_rows=len(a_scores),
        b_rows=len(b_scores),
        paired=paired,
        decided=bool(se > 0 and (low > 0 or high < 0)),
        needed=needed,
    )


def compare(
    frame: pd.DataFrame, output_names: list[str], labels: pd.DataFrame, mirror: dict | None, traffic: dict
) -> Comparison:
    """The endpoint's deployments on its collected records of a window (``frame``)."""
    frame = frame[~frame["request_id"].str.startswith(REPLAYED)]
    result = Comparison(deployments=counts(frame))
    answered = answers(frame, output_names)
    if answered.empty:
        result.note = "no answers were collected in the window"
        return result
    output = next((c for c in output_names if c in answered.columns), None) or next(
        (c for c in answered.columns[5:]), None
    )
    served = answered[~answered["mirror"]]
    copies = answered[answered["mirror"]]
    pairs = None
    if len(copies):
        name = copies["deployment"].mode().iloc[0] if mirror is None else mirror.get("deployment")
        given = served[served["request_id"].isin(set(copies["request_id"]))]
        against = given["deployment"].mode().iloc[0] if len(given) else ""
        count, rate, spread = agreement(given, copies[copies["deployment"] == name], output)
        result.mirror = MirrorAgreement(
            deployment=name, against=against, pairs=count, agreement=rate, max_probability_difference=spread,
            output=output,
        )  # fmt: skip
        pairs = (against, name)
    if labels.empty:
        result.note = "no labels: send them with %labels to compare the deployments' accuracy or error"
        return result
    task = task_of(served[output])
    metric = "mae" if task == "regression" else "accuracy"

    def scored(rows: pd.DataFrame) -> pd.DataFrame:
        joined = rows.merge(labels, on=["request_id", "row"])
        if task == "regression":
            joined = joined[joined["value"].notna()]
        return joined.assign(score=scores(joined[output], joined, task) if len(joined) else [])

    if pairs is not None:
        a = scored(served[served["deployment"] == pairs[0]])
        b = scored(copies[copies["deployment"] == pairs[1]])
        both = a[["request_id", "row", "score"]].merge(b[["request_id", "row", "score"]], on=["request_id", "row"])
        result.difference = difference(
            pairs[0], pairs[1], both["score_x"].to_numpy(), both["score_y"].to_numpy(), metric, paired=True
        )
    else:
        live = sorted(served["deployment"].dropna().unique(), key=lambda n: -traffic.get(n, 0))
        if len(live) >= 2:
            a, b = scored(served[served["deployment"] == live[0]]), scored(served[served["deployment"] == live[1]])
            result.difference = difference(
                live[0], live[1], a["score"].to_numpy(), b["score"].to_numpy(), metric, paired=False
            )
    if result.difference is None:
        result.note = "too few labelled rows per deployment to compare them (at least 2 each)"
    return result
