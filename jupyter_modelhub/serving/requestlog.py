"""The record of answered requests: one access line each on stdout, and their counts in the metrics.

Each answer calls :meth:`RequestLog.record`, which only keeps the request and when it was
answered: the request's own path stays short. Lines are formatted and counts added in batches,
every 64 requests, every quarter second, before ``/metrics`` answers and at shutdown. The price: at a scrape, another
worker's counts may be up to a quarter second old.

Lines are written in pieces smaller than PIPE_BUF, so the lines of several workers sharing
stdout never interleave. The format: ``TIME [wN] IP "METHOD URI" STATUS DURATION [batch=N]``,
where batch=N says N requests shared the model call (adaptive batching). A line is put together
from parts kept between requests, since formatting it whole cost as much as the rest of the
access log and the metrics together: the time stamp up to the millisecond (one per millisecond),
the client, request line and status (one per such combination, a bounded cache) and the
duration (a table below 20 ms, to the hundredth of a millisecond).

Probes and scrapes (liveness, readiness, ``/ping``, ``/metrics``: the routes marked ``quiet`` in
``handlers.py``) write no line when they get a routine answer (200, or 503 while the model is
loading): a Kubernetes probe, Docker's HEALTHCHECK and the panel's metrics polling otherwise fill
the deployment's log with their own traffic. They are still counted, by route and status, in
``modelhub_requests_total``; any other answer to them (401 for a wrong key, 404 for an unknown
model) is written, since it says something is wrong.
"""

from __future__ import annotations

import os
import time

from .metrics import Metrics

_BATCH = 64
_PIPE_PIECE = 3500  # bytes; PIPE_BUF is 4096 on Linux
_ROUTINE = (200, 503)  # a probe's answers that leave no line: ready, or not yet
_DURATION_TABLE = 2_000  # durations under 20 ms (in hundredths of a millisecond), formatted at import
_DURATIONS = [b"%d.%02dms\n" % divmod(hundredths, 100) for hundredths in range(_DURATION_TABLE)]
_MIDDLES = 1024  # distinct (client, method, URI, status) formatted and kept; then the cache starts anew


class RequestLog:
    def __init__(self, metrics: Metrics, fd: int = 1, tag: str = ""):
        self.metrics = metrics
        self.fd = fd
        self.tag = tag.encode()
        self._pending: list[tuple] = []
        self._second = -1
        self._stamp = b""
        # What a line holds besides its time and duration repeats from request to request (the same
        # client asking for the same path, answered the same way): formatted once per such request.
        self._middles: dict[tuple, bytes] = {}
        self._milli = -1  # the millisecond of the last line, and its time stamp up to the tag
        self._prefix = b""

    def record(self, request, finished: float) -> None:
        """An answered request (``http.Request``), answered at ``finished`` (``time.monotonic()``):
        the request itself is kept, and read when the batch is formatted."""
        request.body = b""  # kept until the batch is formatted, but not its body
        pending = self._pending
        pending.append((request, finished))
        if len(pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        metrics = self.metrics
        metrics.add_calls_alone()
        pending, self._pending = self._pending, []
        if not pending:
            return
        wall = time.time() - time.monotonic()  # monotonic times to wall-clock ones
        lines: list[bytes] = []
        counts: list[tuple[int, int, float]] = []
        middles, durations = self._middles, _DURATIONS
        for request, finished in pending:
            seconds = finished - request.started
            status = request.status
            route = request.route
            counts.append((route.index, status, seconds))
            if route.quiet and status in _ROUTINE:
                continue
            now = finished + wall
            milli = int(now * 1000)
            if milli != self._milli:
                self._milli = milli
                second = int(now)
                if second != self._second:
                    self._second = second
                    self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()
                self._prefix = b"%s.%03dZ%s" % (self._stamp, (now - second) * 1000, self.tag)
            key = (request.connection.client, request.method, request.url, status)
            middle = middles.get(key)
            if middle is None:
                if len(middles) >= _MIDDLES:
                    middles.clear()
                middle = middles[key] = b' %s "%s %s" %d ' % (key[0].encode(), key[1].encode(), key[2], status)
            hundredths = int(seconds * 100_000 + 0.5)  # of a millisecond: what %.2f shows, a table away
            batch = request.batch
            if hundredths < _DURATION_TABLE and batch <= 1:
                lines.append(self._prefix + middle + durations[hundredths])
            else:
                lines.append(
                    self._prefix + middle + b"%.2fms%s\n" % (seconds * 1000, b" batch=%d" % batch if batch > 1 else b"")
                )
        metrics.requests(counts)
        if lines:
            self._write(lines)

    def _write(self, lines: list[bytes]) -> None:
        piece: list[bytes] = []
        size = 0
        for line in lines:
            if size + len(line) > _PIPE_PIECE and piece:
                self._send(b"".join(piece))
                piece, size = [], 0
            piece.append(line)
            size += len(line)
        self._send(b"".join(piece))

    def _send(self, data: bytes) -> None:
        try:
            os.write(self.fd, data)
        except OSError:  # nobody reads stdout any more: keep serving
            pass
