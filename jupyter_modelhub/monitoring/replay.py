"""Replay: an endpoint's collected requests sent again, to a candidate, and its answers compared
with the ones the clients got.

The candidate is a version (``--to churn:4``), deployed for the replay as a throwaway deployment
on the same endpoint that receives no traffic and is removed at the end, whatever the outcome;
or an existing deployment of the endpoint (``--deployment green``). Requests go through the
endpoint's host like any client's, with the ``azureml-model-deployment`` header naming the
candidate, so the candidate answers as it would in service (its key, its runtime, the host's
routing). Each replayed request carries the request id ``replay:<original id>``: if the endpoint
collects, the replay's requests are recorded like any others (nothing the endpoint answered is
hidden), and monitors and comparisons leave those ids out.

Which requests: the window's answered (2xx) HTTP requests whose bodies were collected in full,
those of the deployment the clients were answered by (mirror copies and earlier replays left
out), at most ``limit`` of them (a uniform sample beyond; gRPC calls are counted as skipped: the
host's HTTP route cannot carry them). They are sent one at a time, so the candidate's latency is
that of one request on an otherwise idle deployment; the original latency is the one the host
measured when it answered (under whatever load there was then).

The report: agreement (the share of scored rows whose first output, the label, is the same; the
largest probability difference where both answer probabilities), the rows that changed (the
first ``MAX_CHANGED`` with their inputs), failures on each side, and p50/p95 latency side by
side. It runs as an operation of the ``replay`` kind (its worker sends the requests and reports
progress); cancelling it removes the throwaway deployment too.

Not here: reading collected files (``collected``), decoding answers (``collected``,
``comparison``), deploying (``deploy``).
"""

from __future__ import annotations

import os
import time
from typing import Optional

import numpy as np
import pandas as pd
import requests
from pydantic import BaseModel, Field

from ..errors import Conflict, InvalidInput, NotFound
from ..progress import Progress
from .collected import features_and_predictions
from .comparison import REPLAYED, agreement, answers
from .endpoint import MAX_RECORDS, _iso, own_records, sample, window_bounds
from .labels import _text

KIND = "replay"
LIMIT, MAX_LIMIT = 2000, 20_000
MAX_CHANGED = 50  # rows of the changed-rows table
MAX_SHOWN_INPUTS = 20  # features shown per changed row
TIMEOUT = 60.0
REPLAY_DEPLOYMENT = "replay-"


class Latency(BaseModel):
    p50_ms: Optional[float]
    p95_ms: Optional[float]
    requests: int


class ChangedRow(BaseModel):
    request_id: str
    row: int
    original: str = Field(description="the first output the client got")
    candidate: str = Field(description="the candidate's")
    probability_difference: Optional[float] = Field(None, description="the largest over the classes")
    inputs: dict = Field(default_factory=dict, description="the row's features (the first 20)")


class ReplayReport(BaseModel):
    endpoint: str
    candidate: str = Field(description="the deployment that answered the replay")
    version: str = Field(description="NAME:VERSION it serves")
    original: str = Field(description="the deployment whose answers the replay is compared with")
    original_version: str
    throwaway: bool = Field(description="the candidate was deployed for the replay and removed after it")
    since: str
    until: str
    requests: int = Field(description="requests replayed")
    available: int = Field(description="requests of the window that could be replayed (more: sampled)")
    skipped: dict[str, int] = Field(default_factory=dict)
    output: str = Field(description="the output compared (the first the model answers)")
    rows: int = Field(description="scored rows both answered")
    agreement: Optional[float] = Field(description="share of those rows with the same first output")
    max_probability_difference: Optional[float] = None
    changed: int = Field(description="rows whose first output changed")
    changed_rows: list[ChangedRow] = Field(description=f"the first {MAX_CHANGED} of them")
    failed: dict[str, int] = Field(description="requests answered with a status of 400 or more, per side")
    latency: dict[str, Latency] = Field(description="original (as the host measured it) and candidate")
    notes: list[str] = Field(default_factory=list)


def check(deployments, registry, endpoint: str, to: str | None, deployment: str | None, window: str, limit: int):
    """What a replay request asks, checked before an operation is made: a 4xx now, never a failed
    operation for a request that cannot work. Returns the inputs of the operation."""
    if (to is None) == (deployment is None):
        raise InvalidInput("Replay to one of: a version (to: churn:4, deployed for the replay) or a deployment.")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"Invalid limit {limit}: replay 1 to {MAX_LIMIT} requests.")
    window_bounds(window)
    info = deployments.endpoint(endpoint)
    names = [d.name for d in info.deployments]
    if not names:
        raise InvalidInput(f"Endpoint {endpoint!r} has no deployments: no requests were answered to replay.")
    if deployment is not None and deployment not in names:
        raise NotFound(f"Endpoint {endpoint!r} has no deployment {deployment!r} (it has {', '.join(names)}).")
    ref = registry.get_version(to)["ref"] if to is not None else None
    return {"endpoint": endpoint, "to": ref, "deployment": deployment, "window": window, "limit": limit}


def run(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """The operation's work, in its worker."""
    report = replay(
        services.deployments,
        services.deploys,
        inputs["endpoint"],
        to=inputs.get("to"),
        deployment=inputs.get("deployment"),
        window=inputs.get("window", "1d"),
        limit=inputs.get("limit", LIMIT),
        user=inputs.get("user", ""),
        progress=progress,
    )
    return report.model_dump(mode="json"), {"type": "endpoint", "endpoint": inputs["endpoint"]}


def replay(
    deployments,
    deploys,
    endpoint: str,
    to: str | None = None,
    deployment: str | None = None,
    window: str = "1d",
    limit: int = LIMIT,
    user: str = "",
    progress: Progress | None = None,
) -> ReplayReport:
    progress = progress or Progress()
    info = deployments.endpoint(endpoint)
    original = max(sorted(d.name for d in info.deployments), key=lambda n: info.traffic.get(n, 0))
    if deployment == original:
        raise Conflict(
            f"Deployment {deployment!r} answered the requests being replayed: replay them to another deployment, or "
            "to a version (--to)."
        )
    since, until = window_bounds(window)
    progress.step(f"reading the requests {original!r} answered since {_iso(since)}")
    frame = deployments.collection.read(endpoint, since, until, limit=MAX_RECORDS)  # the ones just answered too
    chosen, skipped, available = replayable(own_records(frame, original), limit)
    if chosen.empty:
        raise InvalidInput(
            f"Endpoint {endpoint!r} collected no replayable requests answered by {original!r} from {_iso(since)} to "
            f"{_iso(until)}" + (f" ({_counts(skipped)})" if skipped else "")
            + ". Payload collection must record requests and responses: %collect ENDPOINT on."
        )  # fmt: skip
    throwaway = deployment is None
    candidate = deployment or f"{REPLAY_DEPLOYMENT}{os.urandom(3).hex()}"
    if throwaway:
        progress.step(f"deploying {to} as {candidate!r} (no traffic) on {endpoint!r}")
        deploys.submit(endpoint, {"model": to, "deployment": candidate, "allow_contract_change": True}, user=user)
    try:
        described = {d.name: d for d in deployments.endpoint(endpoint).deployments}
        replayed = send(deployments, endpoint, candidate, chosen, progress)
    finally:
        if throwaway:
            with progress.final():
                progress.step(f"removing {candidate!r}")
                deployments.delete_deployment(endpoint, candidate, user=user, force=True)
    served = described.get(candidate)
    signature = served.signature if served is not None and isinstance(served.signature, dict) else {}
    progress.step("comparing the answers")
    return compared(
        endpoint, chosen, replayed, signature, candidate, served.ref if served else str(to), original,
        next(d.ref for d in info.deployments if d.name == original), throwaway, since, until, available, skipped,
    )  # fmt: skip


def replayable(records: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, dict[str, int], int]:
    """The records that can be sent again, sampled to ``limit``; (chosen, skipped by reason, how many could)."""
    reasons = {
        "failed requests": ~records["status"].between(200, 299),
        "gRPC calls": records["protocol"] == "grpc",
        "bodies not collected in full": records["request"].isna() | records["request_truncated"].astype(bool),
        "answers not collected": records["response"].isna() | records["response_truncated"].astype(bool),
    }
    left = pd.Series(True, index=records.index)
    skipped = {}
    for why, mask in reasons.items():
        count = int((left & mask).sum())
        if count:
            skipped[why] = count
        left &= ~mask
    usable = records[left].reset_index(drop=True)
    chosen, _ = sample(usable, limit)
    return chosen, skipped, len(usable)


def send(deployments, endpoint: str, candidate: str, records: pd.DataFrame, progress: Progress) -> pd.DataFrame:
    """Each record's request to ``candidate`` through the endpoint's host, one at a time; the
    answers as collected records are (request_id the original's)."""
    info = deployments.endpoint(endpoint)
    keys = deployments.get_keys(endpoint)
    base = f"http://127.0.0.1:{info.port}"
    out = []
    total = len(records)
    step = max(1, total // 50)
    with requests.Session() as session:
        for index, record in enumerate(records.itertuples(index=False)):
            if index % step == 0:
                progress.step(f"replaying to {candidate!r}", index, total, "requests")
            headers = {"azureml-model-deployment": candidate, "x-request-id": f"{REPLAYED}{record.request_id}"[:128]}
            if keys.get("auth") == "key":
                headers["Authorization"] = f"Bearer {keys['primary']}"
            for name, value in (
                ("Content-Type", record.content_type),
                ("Content-Encoding", record.content_encoding),
                ("Inference-Header-Content-Length", record.header_length),
            ):
                if isinstance(value, str):
                    headers[name] = value
                elif value is not None and not pd.isna(value):
                    headers[name] = str(int(value))
            started = time.perf_counter()
            try:
                answer = session.post(base + record.path, data=bytes(record.request), headers=headers, timeout=TIMEOUT)
                status, body, got = answer.status_code, answer.content, answer.headers
            except requests.RequestException as exc:
                status, body, got = 599, str(exc).encode(), {}
            out.append(
                {
                    "request_id": record.request_id,
                    "time": record.time,
                    "deployment": candidate,
                    "mirror": False,
                    "status": status,
                    "latency_ms": (time.perf_counter() - started) * 1000.0,
                    "path": record.path,
                    "protocol": "http",
                    "response": body,
                    "response_truncated": False,
                    "response_encoding": None,  # requests inflates gzip answers itself
                    "response_header_length": _int(got.get("inference-header-content-length")),
                }
            )
    progress.step(f"replayed to {candidate!r}", total, total, "requests")
    return pd.DataFrame(out)


def compared(
    endpoint, chosen, replayed, signature, candidate, version, original, original_version, throwaway, since, until,
    available, skipped,
) -> ReplayReport:  # fmt: skip
    names = [o["name"] for o in signature.get("outputs") or []]
    before, after = answers(chosen, names), answers(replayed, names)
    output = next((n for n in names if n in before.columns), None) or next(iter(before.columns[5:]), "")
    rows, rate, spread = agreement(before, after, output) if output else (0, None, None)
    changed_rows, changed = changes(before, after, output, chosen, signature)
    notes = []
    if throwaway:
        notes.append(f"{candidate!r} was deployed for the replay, received no traffic, and was removed after it.")
    notes.append(
        "Original latency is the endpoint's, under the load of the time; the candidate's is one request at a time "
        "through the endpoint, measured by the replay."
    )
    return ReplayReport(
        endpoint=endpoint,
        candidate=candidate,
        version=version,
        original=original,
        original_version=original_version,
        throwaway=throwaway,
        since=_iso(since),
        until=_iso(until),
        requests=len(replayed),
        available=available,
        skipped=skipped,
        output=output or "",
        rows=rows,
        agreement=rate,
        max_probability_difference=spread,
        changed=changed,
        changed_rows=changed_rows,
        failed={"original": 0, "candidate": int((replayed["status"] >= 400).sum())},
        latency={"original": latency(chosen["latency_ms"]), "candidate": latency(replayed["latency_ms"])},
        notes=notes,
    )


def changes(before, after, output, chosen, signature) -> tuple[list[ChangedRow], int]:
    """The rows whose first output changed: how many, and the first ``MAX_CHANGED`` with their inputs."""
    if not output or before.empty or after.empty:
        return [], 0
    pairs = before.merge(after, on=["request_id", "row"], suffixes=("_a", "_b"))
    if f"{output}_a" not in pairs or f"{output}_b" not in pairs:
        return [], 0
    differs = np.asarray([_text(a) != _text(b) for a, b in zip(pairs[f"{output}_a"], pairs[f"{output}_b"])], bool)
    changed = pairs[differs]
    shown = changed.head(MAX_CHANGED)
    probabilities = [c[:-2] for c in pairs.columns if c.startswith("probabilities") and c.endswith("_a")]
    inputs = {}
    if len(shown):
        features, _ = features_and_predictions(chosen[chosen["request_id"].isin(set(shown["request_id"]))], signature)
        if not features.empty:
            features["row"] = features.groupby("request_id").cumcount()
            keep = [c for c in features.columns if c not in ("request_id", "row")][:MAX_SHOWN_INPUTS]
            for record in features.itertuples(index=False):
                values = record._asdict()
                inputs[(values["request_id"], values["row"])] = {k: _plain(values[k]) for k in keep if k in values}
    out = []
    for _, row in shown.iterrows():
        spread = None
        if probabilities:
            spread = round(float(max(abs(float(row[f"{c}_a"]) - float(row[f"{c}_b"])) for c in probabilities)), 6)
        out.append(
            ChangedRow(
                request_id=row["request_id"],
                row=int(row["row"]),
                original=_text(row[f"{output}_a"]),
                candidate=_text(row[f"{output}_b"]),
                probability_difference=spread,
                inputs=inputs.get((row["request_id"], int(row["row"])), {}),
            )
        )
    return out, int(differs.sum())


def latency(values: pd.Series) -> Latency:
    array = values.to_numpy(dtype=np.float64)
    if not len(array):
        return Latency(p50_ms=None, p95_ms=None, requests=0)
    p50, p95 = np.percentile(array, [50, 95])
    return Latency(p50_ms=round(float(p50), 3), p95_ms=round(float(p95), 3), requests=len(array))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _counts(skipped: dict) -> str:
    return ", ".join(f"{count} {why}" for why, count in skipped.items())
