"""Deployments' traffic over time, kept by the server: requests, errors and latency percentiles
per deployment, for the charts of an endpoint's page (``GET endpoints/{name}/metrics/history``).

Every ``c.DeploymentManager.metrics_interval`` seconds the server reads the counters of each
endpoint it runs (its host's ``/metrics``, every deployment's samples labelled) and stores one
row per deployment (``store.orm.TrafficSample``): cumulative counts, as the runtime keeps them,
so a missed read loses nothing, and what they added since the deployment's row before. A counter
that went down is a restarted deployment counting from zero: its new value is what it answered
since, never a negative rate. Rows older than ``metrics_retention`` are deleted each round.

A reader asks for a range (1h, 6h, 24h, 7d), cut into at most ``MAX_POINTS`` steps; the database
sums what the rows of each step added (a week at the default interval is 60,480 rows per
deployment: they are not read one by one), and the percentiles of a step are interpolated in the
difference of the latency histograms of its last row and the step before's, as Prometheus'
``histogram_quantile`` does.

Not here: the one read of an endpoint's metrics the panel also shows (``api.endpoint_calls``,
which parses with :func:`counters`), the runtime's metric names (``serving.metrics``).
"""

from __future__ import annotations

import math
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import datetime, timezone

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import case, delete, func, select

from ..errors import InvalidInput
from ..store.orm import Endpoint, TrafficSample
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
        self._previous: tuple[int, set[tuple[str, str]]] | None = None
        # (endpoint, deployment) -> its counters stored last, the start of the next difference
        self._last: dict[tuple[str, str], tuple[int, dict]] = {}  # with when it was read

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
                select(
                    Endpoint.name,
                    Endpoint.port,
                    Endpoint.auth_mode,
                    Endpoint.primary_key,
                    Endpoint.host_pid,
                    Endpoint.created_time,
                )
            ).all()
        now, taken, created = _now_ms(), {}, {}
        for name, port, auth, key, pid, created_time in rows:
            created[name] = _ms(created_time)
            folder = self.deployments.folder / name
            if not folder.is_dir() or not alive(pid, folder):
                continue  # run by another server sharing the database, or not running
            text = _read(port, key if auth == "key" else "")
            if text is None:
                continue
            for deployment, counts in counters(text).items():
                if counts["up"]:
                    taken[name, deployment] = counts
        # an endpoint deleted and made again under its name starts over
        last = {pair: counts for pair, (at, counts) in self._last.items() if pair in taken and at >= created[pair[0]]}
        samples = []
        for pair, then in self._new_deployments(now, set(taken)).items():
            last[pair] = {**_empty(), "latency_buckets": []}
            samples.append(_row(then, *pair, last[pair], None))
        last.update(self._stored_last([pair for pair in taken if pair not in last], created))
        for pair, counts in taken.items():
            samples.append(_row(now, *pair, counts, last.get(pair)))
        retention = self.deployments.metrics_retention_seconds

        def write(session) -> None:
            session.add_all(samples)
            session.execute(delete(TrafficSample).where(TrafficSample.at < now - int(retention * 1000)))

        self.deployments.db.write(write)
        # only once stored: after a failed write, the next round starts from the rows there are
        self._last = {pair: (now, counts) for pair, counts in taken.items()}
        return len(samples)

    def _new_deployments(self, now: int, answered: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The deployments that were not there in the previous round, with its time: they started
        since, from zero, so a zero row then charts the requests of their first moments too.
        After a server start there is no previous round to know it by."""
        previous, self._previous = self._previous, (now, answered)
        if previous is None:
            return {}
        then, before = previous
        return {pair: then for pair in sorted(answered - before)}

    def _stored_last(self, pairs: list[tuple[str, str]], created: dict[str, int]) -> dict[tuple[str, str], dict]:
        """The counters last stored for each (endpoint, deployment) since the endpoint was made,
        e.g. before the server restarted."""
        found = {}
        with self.deployments.db.read() as session:
            for endpoint, deployment in pairs:
                row = session.execute(
                    select(TrafficSample.requests, TrafficSample.errors, TrafficSample.latency_count)
                    .where(
                        TrafficSample.endpoint == endpoint,
                        TrafficSample.deployment == deployment,
                        TrafficSample.at >= created[endpoint],
                    )
                    .order_by(TrafficSample.at.desc(), TrafficSample.id.desc())
                    .limit(1)
                ).first()
                if row is not None:
                    found[endpoint, deployment] = row._asdict()
        return found

    # -- reading ---------------------------------------------------------------------------

    def history(self, name: str, range_: str = "1h") -> views.TrafficHistory:
        """The endpoint's traffic per deployment over the last ``range_``, in at most
        ``MAX_POINTS`` steps; a step the server did not watch (it was down) has no point.

        The database sums each step (a week at the default interval is 60,480 rows per
        deployment); only the last row of each step is read back, for its histogram."""
        span = check_range(range_)
        step = max(1, math.ceil(span / MAX_POINTS)) * 1000
        now = _now_ms()
        # steps start at multiples of the step since the epoch, so a point keeps its time between
        # reads; step 0, in which the range starts, is not a point (there would be 121), but its
        # last row is where the first point's histogram difference starts
        origin = (now - span * 1000) // step * step
        with self.deployments.db.read() as session:
            created = self.deployments._endpoint(session, name).created_time  # a 404 for an unknown endpoint
            since = max(origin, _ms(created))
            steps = session.execute(_steps_query(name, origin, since, step)).all()
            ids = {row.last for row in steps} | {row.first for row in steps}
            histograms = {
                row.id: (row.latency_count, row.latency_buckets)
                for row in session.execute(
                    select(TrafficSample.id, TrafficSample.latency_count, TrafficSample.latency_buckets).where(
                        TrafficSample.id.in_(ids)
                    )
                )
            }
        by_deployment: dict[str, list] = defaultdict(list)
        for row in steps:
            by_deployment[row.deployment].append(row)
        return views.TrafficHistory(
            endpoint=name,
            range=range_,
            step_s=step // 1000,
            interval_s=self.deployments.metrics_interval,
            deployments={
                deployment: points
                for deployment, rows in by_deployment.items()
                if (points := _points(rows, histograms, origin, step))
            },
        )


def _steps_query(name: str, origin: int, since: int, step: int):
    """Per deployment and step: the requests, errors and requests timed its rows added, whether
    the deployment restarted in it, and its first and last rows."""
    t = TrafficSample
    index = ((t.at - origin) // step).label("step")
    return (
        select(
            t.deployment,
            index,
            func.sum(t.requests_added).label("requests"),
            func.sum(t.errors_added).label("errors"),
            func.sum(t.timed_added).label("timed"),
            func.max(case((t.restarted, 1), else_=0)).label("restarted"),
            func.min(t.id).label("first"),
            func.max(t.id).label("last"),
        )
        .where(t.endpoint == name, t.at >= since)
        .group_by(t.deployment, index)
        .order_by(t.deployment, index)
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


def _row(at: int, endpoint: str, deployment: str, counts: dict, previous: dict | None) -> TrafficSample:
    """A row of ``counts``, with what they added to ``previous`` (None: nothing known before);
    a counter that went down is a restarted deployment, which counts from zero."""
    names = ("requests", "errors", "latency_count")
    restarted = previous is not None and any(counts[c] < previous[c] for c in names)
    added = {c: 0 if previous is None else counts[c] - (0 if restarted else previous[c]) for c in names}
    return TrafficSample(
        at=at,
        endpoint=endpoint,
        deployment=deployment,
        requests=counts["requests"],
        errors=counts["errors"],
        latency_count=counts["latency_count"],
        latency_sum=counts["latency_sum"],
        latency_buckets=counts["latency_buckets"],
        requests_added=added["requests"],
        errors_added=added["errors"],
        timed_added=added["latency_count"],
        restarted=restarted,
    )


def _points(steps: list, histograms: dict, origin: int, step: int) -> list[views.TrafficPoint]:
    """A point per step after step 0 (the one the range starts in). Its percentiles come from the
    difference of the histograms of its last row and of the step before's (its own first row
    for the first step a deployment has); after a restart in the step, from its last row's alone."""
    points, before = [], None
    for row in steps:
        last = histograms[row.last]
        start = histograms[before.last] if before is not None else histograms[row.first]
        before = row
        if row.step == 0:
            continue
        count, buckets = last if row.restarted else _difference(start, last)
        points.append(
            views.TrafficPoint(
                time=iso((origin + row.step * step) / 1000),
                requests=int(row.requests),
                errors=int(row.errors),
                **{field: _quantile(q, buckets, count) for field, q in QUANTILES.items()},
            )
        )
    return points


def _difference(before: tuple, after: tuple) -> tuple[int, list]:
    """The requests timed between two rows, and their cumulative histogram."""
    earlier = {bound: value for bound, value in before[1]}
    return after[0] - before[0], [[bound, max(0, value - earlier.get(bound, 0))] for bound, value in after[1]]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _ms(moment: datetime) -> int:
    """A time from the database (naive UTC) in milliseconds since the epoch."""
    return int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)


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
