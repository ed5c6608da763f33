"""Adaptive batching: concurrent requests scored in one model call and answered separately.

A request's inputs wait at most ``max_wait`` seconds for company; the batch is scored as soon as
it holds ``max_batch_size`` rows. Inputs were checked against the signature before they get
here, so they concatenate. If the batched call fails, each request is scored alone, so one bad
request fails only itself. Everything runs on the event loop: while the model runs, new requests
queue in the sockets and form the next batch.

Not here: which requests are batched (built-in scorers only; ``server.py`` decides).
"""

from __future__ import annotations

import asyncio
from typing import Callable

import numpy as np

Outputs = dict[str, np.ndarray]


class Batcher:
    def __init__(self, predict: Callable[[dict], Outputs], max_batch_size: int, max_wait: float,
                 on_call: Callable[[int, int], None]):
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.on_call = on_call  # (requests, rows) of each model call, for metrics
        self._pending: list[tuple[dict, int, asyncio.Future]] = []
        self._rows = 0
        self._timer: asyncio.TimerHandle | None = None

    def submit(self, inputs: dict[str, np.ndarray], rows: int) -> asyncio.Future:
        """A future of (outputs for these rows, number of requests in the model call)."""
        loop = asyncio.get_running_loop()
        if self._pending and self._rows + rows > self.max_batch_size:
            self.flush()
        future = loop.create_future()
        self._pending.append((inputs, rows, future))
        self._rows += rows
        if self._rows >= self.max_batch_size:
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait, self.flush)
        return future

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending, self._rows = self._pending, [], 0
        pending = [p for p in pending if not p[2].done()]  # timed out or cancelled meanwhile
        if not pending:
            return
        if len(pending) == 1:
            self._score_alone(pending[0])
            return
        counts = [rows for _, rows, _ in pending]
        merged = {name: np.concatenate([inputs[name] for inputs, _, _ in pending]) for name in pending[0][0]}
        try:
            outputs = self.predict(merged)
            parts = split(outputs, counts)
        except Exception:
            parts = None
        self.on_call(len(pending), sum(counts))
        if parts is None:  # the model failed on the batch, or its outputs do not split by row
            for item in pending:
                self._score_alone(item)
            return
        for (_, _, future), part in zip(pending, parts):
            if not future.done():
                future.set_result((part, len(pending)))

    def _score_alone(self, item: tuple[dict, int, asyncio.Future]) -> None:
        inputs, rows, future = item
        try:
            outputs = self.predict(inputs)
        except Exception as exc:
            outputs = exc
        self.on_call(1, rows)
        if future.done():
            return
        if isinstance(outputs, Exception):
            future.set_exception(outputs)
        else:
            future.set_result((outputs, 1))


def split(outputs: Outputs, counts: list[int]) -> list[Outputs] | None:
    """Each request's rows of a batched call's outputs; None if an output has no row per input row."""
    total = sum(counts)
    for value in outputs.values():
        if len(value) != total:
            return None
    offsets = np.cumsum([0, *counts])
    return [{name: value[start:end] for name, value in outputs.items()}
            for start, end in zip(offsets[:-1], offsets[1:])]
