"""Deployments' traffic over time, kept by the server: requests, errors and latency percentiles
per deployment, for the charts of an endpoint's page (``GET endpoints/{name}/metrics/history``).

Every ``c.DeploymentManager.metrics_interval`` seconds the server reads the counters of each
endpoint it runs (its host's ``/metrics``, every deployment's samples labelled) and stores one
row per deployment (``store.orm.TrafficSample``): cumulative counts, as the runtime keeps them,
so a missed read loses nothing. Rows older than ``metrics_retention`` are deleted each round.

A reader asks for a range (1h, 6h, 24h, 7d); the rows are cut into at most ``MAX_POINTS`` steps
and each step gets the differences of consecutive rows that end in it: requests, errors, and
percentiles interpolated in the difference of the latency histograms, as Prometheus'
``histogram_quantile`` does. A counter that went down is a restarted deployment counting from
zero: its new value is what it answered since, never a negative rate.

Not here: the one read of an endpoint's metrics the panel also shows (``api.endpoint_calls``,
which parses with :func:`counters`), the runtime's metric names (``serving.metrics``).
"""

from __future__ import annotations

import math
import threading
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, select

from ..errors import InvalidInput
from ..store.orm import Endpoint, TrafficSample, utcnow
from ..timestamps import iso
from . import views
from .host import alive

RANGES = {"1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600}
MAX_POINTS = 120
READ_TIMEOUT = 5.0  # seconds one endpoint's /metrics may take; a round reads endpoints one by one
QUANTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}
# scoring routes: the probes (/ping, health, ready) and /metrics itself are not traffic
SCORING_ROUTES = {"/score", "/invocations", "/v2/models/{name}/infer", "/"}


def counters(text: str, names=None) -> dict:
    """The counters of each deployment in ``names`` (None: each one the text has samples of)
    from an endpoint's Prometheus text: ``up``,
    scoring ``requests`` and ``errors``, and the latency histogram (``latency_count``,
    ``latency_sum`` in seconds, ``latency_buckets`` as ``[[bound, cumulative count], ...]`` over
    the finite bounds)."""
    deployments = {name: _empty() for name in names or ()}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.labels.get("deployment")
            if names is None and name is not None:
                deployments.setdefault(name, _empty())
            if name not in deployments:
                continue
            counts, route = deployments[name], sample.labels.get("route")
            if sample.name == "modelhub_deployment_up":
                counts["up"] = sample.value == 1
            elif route not in SCORING_ROUTES:
                continue
            elif sample.name == "modelhub_requests_total":
                counts["requests"] += int(sample.value)
            elif sample.name == "modelhub_request_errors_total":
                counts["errors"] += int(sample.value)
            elif sample.name == "modelhub_request_duration_seconds_count":
                counts["latency_count"] += int(sample.value)
            elif sample.name == "modelhub_request_duration_seconds_bucket" and sample.labels["le"] != "+Inf":
                bound = sample.labels["le"]
                buckets = counts["latency_buckets"]
                buckets[bound] = buckets.get(bound, 0) + int(sample.value)
            elif sample.name == "modelhub_request_duration_seconds_sum":
                counts["latency_sum"] += sample.value
    for counts in deployments.values():
        counts["latency_buckets"] = sorted(
            ([float(bound), count] for bound, count in counts["latency_buckets"].items()), key=lambda b: b[0]
        )
    return deployments


def _empty() -> dict:
    return {"up": False, "requests": 0, "errors": 0, "latency_count": 0, "latency_sum": 0.0, "latency_buckets": {}}


def check_range(name: str) -> int:
    """``6h`` -> seconds; a 400 naming the ranges there are otherwise."""
    if name not in RANGES:
        raise InvalidInput(f"Unknown range {str(name)[:40]!r}: expected one of {', '.join(RANGES)}.")
    return RANGES[name]


class TrafficSeries:
    """The traffic samples of one server's endpoints (``DeploymentManager.series``): taken by
    :meth:`sample` (periodically, on the server's pool), read by :meth:`history`."""

    def __init__(self, deployments):
        self.deployments = deployments
        self._round = threading.Lock()  # a slow round is not overlapped by the next
        # the previous round: when, and which deployments answered (see _new_deployments)
        self._previous: tuple[datetime, set[tuple[str, str]]] | None = None

    # -- sampling --------------------------------------------------------------------------

    def sample(self) -> int:
        """Read every endpoint this server runs and store a row per deployment that answered;
        delete rows past the retention. The rows stored."""
        if not self._round.acquire(blocking=False):
            return 0
        try:
            return self._sample()
        finally:
            self._round.release()

    def _sample(self) -> int:
        with self.deployments.db.read() as session:
            rows = session.execute(
                select(Endpoint.name, Endpoint.port, Endpoint.auth_mode, Endpoint.primary_key, Endpoint.host_pid)
            ).all()
        now, taken = utcnow(), []
        for name, port, auth, key, pid in rows:
            folder = self.deployments.folder / name
            if not folder.is_dir() or not alive(pid, folder):
                continue  # run by another server sharing the database, or not running
            text = _read(port, key if auth == "key" else "")
            if text is None:
                continue
            for deployment, counts in counters(text).items():
                if counts["up"]:
                    taken.append((name, deployment, counts))
        samples = [_row(now, name, deployment, counts) for name, deployment, counts in taken]
        samples += self._new_deployments(now, taken)
        retention = self.deployments.metrics_retention_seconds

        def write(session) -> None:
            session.add_all(samples)
            session.execute(delete(TrafficSample).where(TrafficSample.time < now - timedelta(seconds=retention)))

        self.deployments.db.write(write)
        return len(samples)

    def _new_deployments(self, now: datetime, taken: list) -> list[TrafficSample]:
        """Zero rows at the previous round's time for the deployments that were not there then:
        they started since, from zero, so the requests of their first moments (before this round)
        are charted too. After a server start there is no previous round to know it by."""
        answered = {(name, deployment) for name, deployment, _ in taken}
        previous, self._previous = self._previous, (now, answered)
        if previous is None:
            return []
        then, before = previous
        zero = {**_empty(), "latency_buckets": []}
        return [_row(then, name, deployment, zero) for name, deployment in sorted(answered - before)]

    # -- reading ---------------------------------------------------------------------------

    def history(self, name: str, range_: str = "1h") -> views.TrafficHistory:
        """The endpoint's traffic per deployment over the last ``range_``, in at most
        ``MAX_POINTS`` steps; a step the server did not watch (it was down) has no point."""
        span = check_range(range_)
        step = max(1, math.ceil(span / MAX_POINTS))
        now = utcnow()
        with self.deployments.db.read() as session:
            created = self.deployments._endpoint(session, name).created_time  # a 404 for an unknown endpoint
            epoch = datetime(1970, 1, 1)
            # steps start at multiples of the step since the epoch, so a point keeps its time between reads
            first = (int((now - epoch).total_seconds()) - span) // step * step
            start = epoch + timedelta(seconds=first)
            rows = session.execute(
                select(
                    TrafficSample.deployment,
                    TrafficSample.time,
                    TrafficSample.requests,
                    TrafficSample.errors,
                    TrafficSample.latency_count,
                    TrafficSample.latency_buckets,
                )
                .where(
                    TrafficSample.endpoint == name,
                    # one step before: the row each first difference starts from
                    TrafficSample.time >= max(start - timedelta(seconds=step), created),
                )
                .order_by(TrafficSample.deployment, TrafficSample.time, TrafficSample.id)
            ).all()
        by_deployment: dict[str, list] = defaultdict(list)
        for row in rows:
            by_deployment[row[0]].append(row[1:])
        return views.TrafficHistory(
            endpoint=name,
            range=range_,
            step_s=step,
            interval_s=self.deployments.metrics_interval,
            deployments={
                deployment: _points(samples, start, first, step) for deployment, samples in by_deployment.items()
            },
        )


def _read(port: int, key: str) -> str | None:
    """The endpoint's ``/metrics`` text; None when it does not answer (it is stopping, or busy)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=READ_TIMEOUT) as response:
            return response.read().decode(errors="replace")
    except (OSError, urllib.error.URLError):
        return None


def _row(time: datetime, endpoint: str, deployment: str, counts: dict) -> TrafficSample:
    return TrafficSample(
        time=time,
        endpoint=endpoint,
        deployment=deployment,
        requests=counts["requests"],
        errors=counts["errors"],
        latency_count=counts["latency_count"],
        latency_sum=counts["latency_sum"],
        latency_buckets=counts["latency_buckets"],
    )


def _points(samples: list, start: datetime, first: int, step: int) -> list[views.TrafficPoint]:
    """Consecutive rows' differences summed per step (a step: the rows that end in it)."""
    steps: dict[int, list] = {}
    for before, after in zip(samples, samples[1:]):
        time = after[0]
        if time < start:
            continue
        index = int((time - start).total_seconds()) // step
        requests, errors, count, buckets = _difference(before, after)
        total = steps.setdefault(index, [0, 0, 0, defaultdict(int)])
        total[0] += requests
        total[1] += errors
        total[2] += count
        for bound, value in buckets:
            total[3][bound] += value
    points = []
    for index in sorted(steps):
        requests, errors, count, buckets = steps[index]
        histogram = sorted(buckets.items())
        points.append(
            views.TrafficPoint(
                time=iso(datetime(1970, 1, 1) + timedelta(seconds=first + index * step)),
                requests=requests,
                errors=errors,
                **{field: _quantile(q, histogram, count) for field, q in QUANTILES.items()},
            )
        )
    return points


def _difference(before, after) -> tuple[int, int, int, list]:
    """What a deployment answered between two rows; all of ``after`` when a counter went down (the
    deployment restarted, and counts from zero)."""
    _, requests, errors, count, buckets = after
    _, requests0, errors0, count0, buckets0 = before
    if requests < requests0 or errors < errors0 or count < count0:
        return requests, errors, count, buckets
    earlier = {bound: value for bound, value in buckets0}
    return (
        requests - requests0,
        errors - errors0,
        count - count0,
        [(bound, max(0, value - earlier.get(bound, 0))) for bound, value in buckets],
    )


def _quantile(q: float, buckets: list, count: int) -> float | None:
    """The q-quantile in milliseconds of ``count`` requests whose cumulative histogram is
    ``buckets`` (finite bounds, seconds), linear within a bucket; None without requests. Beyond
    the largest finite bound it is that bound (the histogram knows no more)."""
    if count <= 0:
        return None
    rank = q * count
    lower, below = 0.0, 0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            inside = cumulative - below
            share = (rank - below) / inside if inside else 1.0
            return round((lower + (bound - lower) * share) * 1000, 3)
        lower, below = bound, cumulative
    return round(lower * 1000, 3) if buckets else None
