"""Monitors on an endpoint: a window of its collected traffic against the reference of the version
that answered it (or another version's, or an earlier window), with performance where labels came
back and the deployments compared where there are several.

Computed on the server, off the event loop (the handlers run it on the pool), from the collected
Parquet files: the panel and every client get the same report from one REST call, and the
requests never travel to a kernel. Bounded: the newest ``MAX_RECORDS`` records of the window are
read, and at most ``MAX_REQUESTS`` requests of the deployment are decoded (a uniform sample, with a
fixed seed so a report is repeatable, said in its notes); drift statistics need thousands of
rows, not millions, and decoding is the costly part (0.2-0.4 ms a request on a busy two-core
machine: 10,000 single-row requests of 20 features in 2-4 s).

Which deployment: one report is about one deployment's answers, by default the endpoint's primary
deployment (the most traffic; the contract the endpoint answers with), against the reference of
the version it serves. Its inputs are the endpoint's inputs (a traffic split sends each
deployment a random share of the same stream), while predictions only compare with the reference
of the version that made them: mixing two versions' answers against one reference would report
drift that is only the difference between the versions. Another deployment is one parameter away
(``deployment=green``), and the ``comparison`` section puts the deployments side by side.

What ``against`` may be:

- nothing: the reference profile of the version the deployment serves;
- a version, ``churn:3`` or ``churn@production``: that version's reference profile;
- an earlier window of the same deployment's traffic, profiled on the spot:
  ``window:1d`` is the day just before the monitored window, ``window:2h-1h`` the traffic from
  two hours ago to one hour ago (durations ago, as ``since``/``until`` take them).

Not here: the statistics (``drift``, ``quality``), labels (``labels``), the comparison
(``comparison``), replaying requests (``replay``).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
from pydantic import Field

from ..errors import InvalidInput, NotFound
from ..timestamps import AGE_PATTERN, moment
from .collected import features_and_predictions
from .comparison import REPLAYED, Comparison, compare
from .drift import MonitorReport, compare_frames, monitor_frames
from .labels import LabelsStored, Performance, checked_labels, performance, read_labels, store_labels
from .service import References

MAX_RECORDS = 200_000  # newest records of a window read
MAX_REQUESTS = 10_000  # requests decoded for a report; more are sampled
SEED = 22
WINDOW = "1h"
_BASELINE = re.compile(rf"^window:\s*({AGE_PATTERN})(?:\s*-\s*({AGE_PATTERN}))?\s*$", re.IGNORECASE)


class EndpointMonitorReport(MonitorReport):
    """A monitor report of an endpoint's window: the drift, quality and predictions of
    ``MonitorReport``, with where the rows came from, their performance and the deployments
    compared."""

    endpoint: str
    deployment: str = Field(description="the deployment whose answers were monitored")
    version: str = Field(description="NAME:VERSION it served")
    since: str = Field(description="the window's start (UTC)")
    until: str = Field(description="the window's end (UTC)")
    requests: int = Field(description="answered requests of the deployment decoded into rows")
    sampled_from: int = Field(description="requests of the deployment in the window (more than requests: sampled)")
    skipped: dict[str, int] = Field(
        default_factory=dict, description="requests left out, by reason (failed, body not collected, ...)"
    )
    performance: Optional[Performance] = None
    comparison: Optional[Comparison] = None


class EndpointMonitor:
    """Monitor reports of endpoints, from their collected files and the registry's references."""

    def __init__(self, deployments, registry):
        self.deployments, self.registry = deployments, registry

    def folder(self, name: str) -> Path:
        return Path(self.deployments.folder) / name

    def monitor(
        self,
        name: str,
        window: str = WINDOW,
        against: str | None = None,
        deployment: str | None = None,
        thresholds: dict | None = None,
        compare_deployments: bool = True,
    ) -> EndpointMonitorReport:
        info = self.deployments.endpoint(name)
        served = self._deployment(info, deployment)
        since, until = window_bounds(window)
        frame = self.deployments.collection.read(name, since, until, limit=MAX_RECORDS)
        ours = own_records(frame, served.name)
        sampled_from = len(ours)
        ours, sample_note = sample(ours)
        signature = served.signature if isinstance(served.signature, dict) else None
        features, predictions = features_and_predictions(ours, signature or {})
        skipped = _reasons(features.attrs.get("skipped", {}))
        if features.empty:
            raise InvalidInput(
                f"Endpoint {name!r} has no collected requests answered by {served.name!r} from {_iso(since)} to "
                f"{_iso(until)}"
                + (f" that could be read as features ({_describe(skipped)})" if skipped else "")
                + ". Is payload collection on (%collect ENDPOINT on)? Widen --window, or send traffic."
            )
        current, answers, notes = _aligned(features, predictions)
        if sample_note:
            notes.insert(0, sample_note)
        report = self._report(name, served, signature, current, answers, against, since, until, thresholds)
        times = ours.set_index("request_id")["time"]
        rows = _with_rows(predictions if not predictions.empty else features, times)
        outputs = [o["name"] for o in (signature or {}).get("outputs") or []]
        output = next((c for c in outputs if c in rows.columns), None)
        if output is None and answers is not None:
            output = next((c for c in rows.columns if c not in ("request_id", "row", "time")), None)
        labels = read_labels(self.folder(name), set(features["request_id"]))
        report_performance = performance(rows, output, labels, (until - since).total_seconds())
        comparison = None
        if compare_deployments and (len(info.deployments) > 1 or info.mirror):
            all_labels = read_labels(self.folder(name), set(frame["request_id"]))
            comparison = compare(frame, outputs, all_labels, info.mirror or None, info.traffic)
        return EndpointMonitorReport(
            **{**report.model_dump(), "notes": [*notes, *report.notes]},
            endpoint=name,
            deployment=served.name,
            version=served.ref,
            since=_iso(since),
            until=_iso(until),
            requests=int(features["request_id"].nunique()),
            sampled_from=sampled_from,
            skipped=skipped,
            performance=report_performance,
            comparison=comparison,
        )

    def add_labels(self, name: str, request_ids: list, labels: list, rows: list | None = None) -> LabelsStored:
        """Keep labels for the endpoint's requests (``labels``); how many match collected requests."""
        self.deployments.endpoint(name)  # a 404 for an unknown endpoint, before anything is written
        checked_labels(request_ids, labels, rows)  # a 400 before the collected ids are read
        known = set(self.deployments.collection.read(name, None, columns=["request_id"])["request_id"])
        return store_labels(self.folder(name), name, request_ids, labels, rows, known)

    def _report(self, name, served, signature, current, answers, against, since, until, thresholds) -> MonitorReport:
        baseline = baseline_bounds(against, since, until)
        if baseline is not None:
            start, end = baseline
            earlier = own_records(self.deployments.collection.read(name, start, end, limit=MAX_RECORDS), served.name)
            earlier, _ = sample(earlier)
            old_features, old_predictions = features_and_predictions(earlier, signature or {})
            if old_features.empty:
                raise InvalidInput(
                    f"Endpoint {name!r} collected no requests answered by {served.name!r} from {_iso(start)} to "
                    f"{_iso(end)} to compare with (--against {against}). Choose a window with traffic, or a "
                    "version's reference: --against NAME:VERSION."
                )
            old, old_answers, _ = _aligned(old_features, old_predictions)
            report = compare_frames(current, answers, old, old_answers if answers is not None else None, signature,
                                    thresholds)  # fmt: skip
            report.against = f"window {_iso(start)} to {_iso(end)}"
            return report
        ref = against or served.ref
        references = References(self.registry)
        try:
            profile = references.reference(ref)
        except NotFound:
            if against is None and served.optimized_from:  # an ONNX form serving: its original's reference
                profile = references.reference(served.optimized_from)
            else:
                raise
        version = self.registry.get_version(ref)["ref"] if against else served.ref
        return monitor_frames(current, answers, profile, signature, thresholds, against=version)

    def _deployment(self, info, deployment: str | None):
        if not info.deployments:
            raise InvalidInput(f"Endpoint {info.name!r} has no deployments: there is no traffic to monitor.")
        if deployment is not None:
            for d in info.deployments:
                if d.name == deployment:
                    return d
            raise NotFound(
                f"Endpoint {info.name!r} has no deployment {deployment!r} "
                f"(it has {', '.join(d.name for d in info.deployments)})."
            )
        names = sorted(d.name for d in info.deployments)
        chosen = max(names, key=lambda n: info.traffic.get(n, 0))
        return next(d for d in info.deployments if d.name == chosen)


def own_records(frame: pd.DataFrame, deployment: str) -> pd.DataFrame:
    """The records of the answers ``deployment`` gave clients: not mirror copies, not replays."""
    keep = (
        (frame["deployment"] == deployment)
        & ~frame["mirror"].fillna(False).astype(bool)
        & ~frame["request_id"].str.startswith(REPLAYED)
    )
    return frame[keep].reset_index(drop=True)


def sample(frame: pd.DataFrame, limit: int = MAX_REQUESTS) -> tuple[pd.DataFrame, str]:
    if len(frame) <= limit:
        return frame, ""
    chosen = np.sort(np.random.default_rng(SEED).choice(len(frame), size=limit, replace=False))
    return (
        frame.iloc[chosen].reset_index(drop=True),
        f"{limit:,} of the {len(frame):,} requests in the window were sampled (uniformly) for this report.",
    )


def window_bounds(window: str | None) -> tuple[datetime, datetime]:
    """``1h`` -> (an hour ago, now)."""
    text = (window or WINDOW).strip()
    if not re.fullmatch(AGE_PATTERN, text, re.IGNORECASE):
        raise InvalidInput(
            f"Invalid window {text[:40]!r}: expected a duration such as 30m, 1h or 7d (the traffic of that long ago "
            "until now)."
        )
    until = datetime.now(timezone.utc)
    return moment(text, "window"), until


def baseline_bounds(against: str | None, since: datetime, until: datetime) -> tuple[datetime, datetime] | None:
    """``window:1d`` (the day before ``since``) or ``window:2h-1h`` (from 2h ago to 1h ago); None
    when ``against`` is a version (or nothing)."""
    if against is None or not against.lower().startswith("window:"):
        return None
    match = _BASELINE.match(against) if len(against) < 60 else None
    if match is None:
        raise InvalidInput(
            f"Invalid against {against[:60]!r}: an earlier window is window:DURATION (that long before the monitored "
            "window, e.g. window:1d) or window:FROM-TO (durations ago, e.g. window:2h-1h)."
        )
    first, second = match.groups()
    if second is None:
        length = until - moment(first, "against")
        return since - length, since
    start, end = moment(first, "against"), moment(second, "against")
    if start >= end:
        raise InvalidInput(
            f"Invalid against {against!r}: the window starts longer ago than it ends, e.g. window:2h-1h (from two "
            "hours ago to one hour ago)."
        )
    return start, end


def _aligned(features: pd.DataFrame, predictions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None, list]:
    """The inputs, and the answers when every request's answer was decoded (one row each)."""
    current = features.drop(columns="request_id").reset_index(drop=True)
    if predictions.empty:
        return current, None, ["No answers could be read (are responses collected?): predictions are not compared."]
    if len(predictions) != len(features):
        return current, None, ["Answers were not read for every request: predictions are not compared."]
    notes: list[str] = []
    return current, predictions.drop(columns="request_id").reset_index(drop=True), notes


def _with_rows(frame: pd.DataFrame, times: pd.Series) -> pd.DataFrame:
    """Each scored row with its position in its request and the request's time."""
    out = frame.copy()
    out["row"] = out.groupby("request_id").cumcount().astype(np.int32)
    out["time"] = out["request_id"].map(times[~times.index.duplicated()])
    return out


def _reasons(skipped: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for why in skipped.values():
        key = "failed requests" if why.startswith("status ") else why.split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    return counts


def _describe(skipped: dict[str, int]) -> str:
    return ", ".join(f"{count} {why}" for why, count in skipped.items())


def _iso(moment_: datetime) -> str:
    return moment_.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
