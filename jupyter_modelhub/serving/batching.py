"""Adaptive batching: concurrent requests scored in one model call and answered separately.

It waits only while a batch is worth waiting for. A request that arrives joins the batch being
formed; the batch is scored

- at once, when it holds ``max_batch_size`` rows;
- at the end of the event loop's turn (every request already read joins, none is waited for),
  when no other request can come (every connection of the worker has a request in flight:
  ``others_may_send``), or when the model's fixed cost per call is too small for company to
  pay for a wait (a light model, where HTTP costs more than the model);
- otherwise after at most ``max_wait`` seconds.

The fixed cost per call is measured, not configured: the time of each call is kept as a moving
average per row count, and the fixed cost is what a one-row call costs beyond one row's share
of a larger call. Until a larger batch has been seen the batcher waits (that is how one is
seen). While the model runs, new requests queue in the sockets and form the next batch, so
under load batches form without waiting at all.

Inputs were checked against the signature before they get here, so they concatenate. If the
batched call fails, each request is scored alone, so one bad request fails only itself.
Everything runs on the event loop.

Not here: which requests are batched (built-in scorers only; ``server.py`` decides).
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

import numpy as np

Outputs = dict[str, np.ndarray]
Answer = Callable[[Outputs | None, int, BaseException | None], None]  # (outputs, requests in the call, error)
WORTH_WAITING_S = 100e-6  # a fixed cost per call above about one small request's HTTP cost
_SMOOTHING = 0.1


class Batcher:
    def __init__(
        self,
        predict: Callable[[dict], Outputs],
        max_batch_size: int,
        max_wait: float,
        on_call: Callable[[int, int], None],
        others_may_send: Callable[[], bool] = lambda: True,
    ):
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.on_call = on_call  # (requests, rows) of each model call, for metrics
        self.others_may_send = others_may_send
        self._pending: list[tuple[dict, int, Answer, Callable[[], bool]]] = []
        self._rows = 0
        self._timer: asyncio.TimerHandle | None = None
        self._soon: asyncio.Handle | None = None
        self.single_s: float | None = None  # moving average of a one-row call
        self.per_row_s: float | None = None  # moving average of a row's share of a larger call

    def fixed_cost(self) -> float | None:
        """What a call costs beyond its rows, in seconds; None until both kinds of call were seen."""
        if self.single_s is None or self.per_row_s is None:
            return None
        return self.single_s - self.per_row_s

    def worth_waiting(self) -> bool:
        if not self.others_may_send():
            return False
        fixed = self.fixed_cost()
        return fixed is None or fixed >= WORTH_WAITING_S

    def alone_now(self) -> bool:
        """Nothing is waiting and no other request can come: a request is a batch of one, now (the
        caller scores it directly, without a turn of the loop)."""
        return not self._pending and not self.others_may_send()

    def submit(self, inputs: dict[str, np.ndarray], rows: int, answer: Answer, alive: Callable[[], bool]) -> None:
        """Score ``inputs`` with others; ``answer`` gets this request's rows of the outputs (or the
        error), unless ``alive()`` says by then that nobody waits for them."""
        loop = asyncio.get_running_loop()
        if self._pending and self._rows + rows > self.max_batch_size:
            self.flush()
        self._pending.append((inputs, rows, answer, alive))
        self._rows += rows
        if self._rows >= self.max_batch_size:
            self.flush()
        elif self.worth_waiting():
            if self._timer is None:
                self._timer = loop.call_later(self.max_wait, self.flush)
        elif self._soon is None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._soon = loop.call_soon(self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        pending, self._pending, self._rows = self._pending, [], 0
        pending = [p for p in pending if p[3]()]  # not those whose clients went away meanwhile
        if not pending:
            return
        if len(pending) == 1:
            self._score_alone(pending[0])
            return
        counts = [rows for _, rows, _, _ in pending]
        total = sum(counts)
        merged = {name: np.concatenate([item[0][name] for item in pending]) for name in pending[0][0]}
        started = time.perf_counter()
        try:
            outputs = self.predict(merged)
            parts = split(outputs, counts)
        except Exception:
            parts = None
        else:
            self.per_row_s = _average(self.per_row_s, (time.perf_counter() - started) / total)
        self.on_call(len(pending), total)
        if parts is None:  # the model failed on the batch, or its outputs do not split by row
            for item in pending:
                self._score_alone(item)
            return
        for (_, _, answer, _), part in zip(pending, parts):
            answer(part, len(pending), None)

    def _score_alone(self, item: tuple) -> None:
        inputs, rows, answer, _ = item
        started = time.perf_counter()
        try:
            outputs = self.predict(inputs)
        except Exception as exc:
            self.on_call(1, rows)
            answer(None, 1, exc)
            return
        if rows == 1:
            self.single_s = _average(self.single_s, time.perf_counter() - started)
        self.on_call(1, rows)
        answer(outputs, 1, None)


def _average(average: float | None, value: float) -> float:
    return value if average is None else average + _SMOOTHING * (value - average)


def split(outputs: Outputs, counts: list[int]) -> list[Outputs] | None:
    """Each request's rows of a batched call's outputs; None if an output has no row per input row."""
    total = sum(counts)
    for value in outputs.values():
        if len(value) != total:
            return None
    offsets = np.cumsum([0, *counts])
    return [
        {name: value[start:end] for name, value in outputs.items()} for start, end in zip(offsets[:-1], offsets[1:])
    ]
