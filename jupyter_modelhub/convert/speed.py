"""How much faster is the ONNX model? Single-row latency and batch throughput, within a budget.

Both runtimes get their inputs prepared once, outside the timed region, in their own format (a
DataFrame or array for scikit-learn, numpy tensors for onnxruntime): the report measures
inference, not JSON decoding. The original is timed on ``predict`` alone although onnxruntime
computes labels and probabilities in one run, so a classifier's speed-up is, if anything,
understated.

Single rows are timed back to back, as a scoring server runs them (alternating with the other
side would measure a cold cache, which costs a 10-microsecond ONNX call far more than a
millisecond scikit-learn one). Batches, only a few runs of tens of milliseconds, alternate
between the sides, so a burst of other work on the machine slows both alike instead of skewing
the ratio (scikit-learn's OpenMP threads still spin briefly after its call, which if anything
slows the ONNX run that follows). Each phase stops at its share of the time budget but runs at
least once, and its first round is dropped as warm-up when there are others.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable

import numpy as np

LATENCY_MAX_CALLS = 2000
BATCH_MAX_RUNS = 10
# Shares of the budget: single rows need many calls for a stable p99; batches need few.
SHARES = {"original_latency": 0.3, "onnx_latency": 0.2, "batch": 0.5}


def timings(call: Callable[[], object], budget_s: float, max_calls: int) -> list[float]:
    """Durations (seconds) of back-to-back ``call()`` until ``budget_s`` or ``max_calls``."""
    return _timed([call], budget_s, max_calls)[0]


def paired_timings(
    first: Callable[[], object],
    second: Callable[[], object],
    budget_s: float,
    max_calls: int,
) -> tuple[list[float], list[float]]:
    """Durations (seconds) of ``first()`` and ``second()``, called alternately."""
    durations = _timed([first, second], budget_s, max_calls)
    return durations[0], durations[1]


def _timed(calls: list[Callable[[], object]], budget_s: float, max_rounds: int) -> list[list[float]]:
    """Each call's durations, round after round until the budget or ``max_rounds``.

    The first round is dropped as warm-up when there are others.
    """
    times: list[list[float]] = [[] for _ in calls]
    enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection in the middle of one call is noise, not speed
    try:
        deadline = time.perf_counter() + budget_s
        while len(times[0]) < max_rounds + 1:
            for call, durations in zip(calls, times):
                start = time.perf_counter()
                call()
                durations.append(time.perf_counter() - start)
            if time.perf_counter() >= deadline:
                break
    finally:
        if enabled:
            gc.enable()
    return [d[1:] for d in times] if len(times[0]) > 1 else times


def latency(durations: list[float]) -> dict:
    ms = np.asarray(durations) * 1000.0
    return {"median_ms": float(np.median(ms)), "p99_ms": float(np.percentile(ms, 99)), "calls": len(ms)}


def throughput(durations: list[float], rows: int) -> dict:
    median = float(np.median(durations))
    rate = rows / median if median > 0 else None
    return {"rows": rows, "median_s": median, "rows_per_s": rate, "runs": len(durations)}


def measure(
    *,
    original_row: Callable[[], object],
    onnx_row: Callable[[], object],
    original_batch: Callable[[], object],
    onnx_batch: Callable[[], object],
    batch_rows: int,
    budget_s: float,
    runtimes: dict,
) -> dict:
    """The speed report. ``runtimes`` describes each side, e.g. library versions and threads."""
    started = time.perf_counter()
    original_rows = timings(original_row, budget_s * SHARES["original_latency"], LATENCY_MAX_CALLS)
    onnx_rows = timings(onnx_row, budget_s * SHARES["onnx_latency"], LATENCY_MAX_CALLS)
    original_batches, onnx_batches = paired_timings(
        original_batch, onnx_batch, budget_s * SHARES["batch"], BATCH_MAX_RUNS
    )
    original_latency, onnx_latency = latency(original_rows), latency(onnx_rows)
    original_throughput = throughput(original_batches, batch_rows)
    onnx_throughput = throughput(onnx_batches, batch_rows)
    return {
        "original": {**runtimes.get("original", {}), "latency": original_latency, "batch": original_throughput},
        "onnx": {**runtimes.get("onnx", {}), "latency": onnx_latency, "batch": onnx_throughput},
        "speedup": {
            "latency": _ratio(original_latency["median_ms"], onnx_latency["median_ms"]),
            "latency_p99": _ratio(original_latency["p99_ms"], onnx_latency["p99_ms"]),
            "throughput": _ratio(original_throughput["median_s"], onnx_throughput["median_s"]),
        },
        "budget_s": budget_s,
        "elapsed_s": time.perf_counter() - started,
        # Other work on the machine slows both sides, the original's OpenMP models most.
        "machine": {"cpus": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2)},
    }


def _ratio(slow: float, fast: float) -> float | None:
    return slow / fast if fast > 0 else None
