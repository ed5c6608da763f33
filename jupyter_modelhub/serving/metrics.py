"""Prometheus metrics, counted per worker in shared memory and summed when scraped.

Workers are forked processes and a scrape lands on any one of them. Each worker counts into its
own row of an anonymous shared memory map made before the fork, and ``GET /metrics`` sums the
rows, so every scrape sees the whole server. A worker writes only its own row, so no locks; a
restarted worker takes over its predecessor's row and the counters stay monotonic.

Not here: what a request's route and status are (``requestlog.py`` reports them).
"""

from __future__ import annotations

import mmap
from bisect import bisect_left

import numpy as np

ROUTES = (
    "/",
    "/score",
    "/ping",
    "/invocations",
    "/v2",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/models/{name}",
    "/v2/models/{name}/ready",
    "/v2/models/{name}/infer",
    "/metrics",
    "/openapi.json",
    "/v2/repository/index",
    "/v2/repository/models/{name}/load",
    "/v2/repository/models/{name}/unload",
    "other",
)
CODES = (200, 400, 401, 404, 405, 413, 415, 500, 503, 504, 507)  # any other status counts as "other"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
ROUTE_INDEX = {route: i for i, route in enumerate(ROUTES)}


class Metrics:
    def __init__(self, workers: int = 1):
        routes, codes = len(ROUTES), len(CODES) + 1
        self._codes = {code: i for i, code in enumerate(CODES)}
        self._other_code = len(CODES)
        self._ncodes = codes
        self._nbuckets = len(LATENCY_BUCKETS) + 1
        # Row layout: requests by (route, code); latency buckets by route; latency sums by route;
        # model calls; model errors; batch-size buckets; batched requests; rows.
        self._lat = routes * codes
        self._lat_sum = self._lat + routes * self._nbuckets
        self._calls = self._lat_sum + routes
        self._errors = self._calls + 1
        self._batch = self._errors + 1
        self._batch_requests = self._batch + len(BATCH_BUCKETS) + 1
        self._rows = self._batch_requests + 1
        width = self._rows + 1
        self._width = width
        self._memory = mmap.mmap(-1, workers * width * 8)  # anonymous and shared across fork()
        self._table = np.frombuffer(self._memory, dtype=np.float64).reshape(workers, width)
        self._cells = memoryview(self._memory).cast("d")  # item updates cost half of numpy's
        self._row = 0
        self.model_calls_alone = self.rows_alone = 0

    def use_row(self, worker: int) -> None:
        self._row = worker * self._width

    def requests(self, answered: list[tuple[int, int, float]]) -> None:
        """Count answered requests, each as (route index, status code, seconds to answer)."""
        cells, row, ncodes, nbuckets, codes, other = (
            self._cells,
            self._row,
            self._ncodes,
            self._nbuckets,
            self._codes,
            self._other_code,
        )
        latency, latency_sum = row + self._lat, row + self._lat_sum
        for route, code, seconds in answered:
            cells[row + route * ncodes + codes.get(code, other)] += 1
            cells[latency + route * nbuckets + bisect_left(LATENCY_BUCKETS, seconds)] += 1
            cells[latency_sum + route] += seconds

    def model_call(self, requests: int, rows: int) -> None:
        cells, row = self._cells, self._row
        cells[row + self._calls] += 1
        cells[row + self._batch + (0 if requests == 1 else bisect_left(BATCH_BUCKETS, requests))] += 1
        cells[row + self._batch_requests] += requests
        cells[row + self._rows] += rows

    def add_calls_alone(self) -> None:
        """Add ``model_calls_alone`` and ``rows_alone``, model calls for one request each (the usual
        case), counted as plain integers until now: ``requestlog.py`` adds them with the requests."""
        calls, rows = self.model_calls_alone, self.rows_alone
        if calls:
            self.model_calls_alone = self.rows_alone = 0
            cells, row = self._cells, self._row
            cells[row + self._calls] += calls
            cells[row + self._batch] += calls
            cells[row + self._batch_requests] += calls
            cells[row + self._rows] += rows

    def model_error(self) -> None:
        self._cells[self._row + self._errors] += 1

    def render(self, info: dict[str, str], workers: int) -> bytes:
        """The Prometheus text exposition of all workers' counts."""
        total = self._table.sum(axis=0)
        out: list[str] = []
        add = out.append
        label = ",".join(f'{k}="{_escape(v)}"' for k, v in info.items())
        add("# HELP modelhub_model_info The model this server scores.\n# TYPE modelhub_model_info gauge")
        add(f"modelhub_model_info{{{label}}} 1")
        add("# HELP modelhub_workers Worker processes sharing the port.\n# TYPE modelhub_workers gauge")
        add(f"modelhub_workers {workers}")
        add(
            "# HELP modelhub_requests_total HTTP requests answered, by route and status code "
            "(probes and scrapes too, which the access log leaves out)."
        )
        add("# TYPE modelhub_requests_total counter")
        errors = []
        for r, route in enumerate(ROUTES):
            counts = total[r * self._ncodes : (r + 1) * self._ncodes]
            for c, code in enumerate((*CODES, "other")):
                if counts[c]:
                    add(f'modelhub_requests_total{{route="{route}",code="{code}"}} {int(counts[c])}')
            failed = sum(counts[c] for c, code in enumerate(CODES) if code >= 400) + counts[-1]
            if failed:
                errors.append(f'modelhub_request_errors_total{{route="{route}"}} {int(failed)}')
        add("# HELP modelhub_request_errors_total HTTP requests answered with a 4xx or 5xx status, by route.")
        add("# TYPE modelhub_request_errors_total counter")
        out.extend(errors)
        add("# HELP modelhub_request_duration_seconds Time from request start to response, by route.")
        add("# TYPE modelhub_request_duration_seconds histogram")
        for r, route in enumerate(ROUTES):
            buckets = total[self._lat + r * self._nbuckets : self._lat + (r + 1) * self._nbuckets]
            count = buckets.sum()
            if not count:
                continue
            cumulative = np.cumsum(buckets)
            for bound, value in zip(LATENCY_BUCKETS, cumulative):
                add(f'modelhub_request_duration_seconds_bucket{{route="{route}",le="{bound}"}} {int(value)}')
            add(f'modelhub_request_duration_seconds_bucket{{route="{route}",le="+Inf"}} {int(count)}')
            add(f'modelhub_request_duration_seconds_sum{{route="{route}"}} {total[self._lat_sum + r]:.6f}')
            add(f'modelhub_request_duration_seconds_count{{route="{route}"}} {int(count)}')
        add("# HELP modelhub_model_calls_total Calls of the model (a batch is one call).")
        add("# TYPE modelhub_model_calls_total counter")
        add(f"modelhub_model_calls_total {int(total[self._calls])}")
        add("# HELP modelhub_model_errors_total Requests whose model call or run() raised an exception.")
        add("# TYPE modelhub_model_errors_total counter")
        add(f"modelhub_model_errors_total {int(total[self._errors])}")
        add("# HELP modelhub_batch_requests Requests answered by one model call (adaptive batching).")
        add("# TYPE modelhub_batch_requests histogram")
        batches = np.cumsum(total[self._batch : self._batch + len(BATCH_BUCKETS) + 1])
        for bound, value in zip(BATCH_BUCKETS, batches):
            add(f'modelhub_batch_requests_bucket{{le="{bound}"}} {int(value)}')
        add(f'modelhub_batch_requests_bucket{{le="+Inf"}} {int(batches[-1])}')
        add(f"modelhub_batch_requests_sum {int(total[self._batch_requests])}")
        add(f"modelhub_batch_requests_count {int(total[self._calls])}")
        add("# HELP modelhub_rows_total Rows scored by the model.\n# TYPE modelhub_rows_total counter")
        add(f"modelhub_rows_total {int(total[self._rows])}")
        return ("\n".join(out) + "\n").encode()


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
