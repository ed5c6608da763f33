"""Per-version Prometheus metrics of a multi-model runtime: requests, errors, latency, loaded state.

Counted like ``metrics.py``: one row per worker in an anonymous shared memory map made before
the fork, summed when scraped, so a scrape on any worker sees all of them. A version's
``modelhub_model_loaded`` is the number of workers that hold it loaded, and its resident bytes
the memory they measured it to take.

Not here: the server-wide counters (``metrics.py``).
"""

from __future__ import annotations

import mmap

import numpy as np

# per version: requests, errors, latency sum, loaded (0/1), resident bytes, loads, unloads, load seconds
_REQUESTS, _ERRORS, _LATENCY, _LOADED, _BYTES, _LOADS, _UNLOADS, _LOAD_SECONDS = range(8)
_FIELDS = 8


class ModelMetrics:
    def __init__(self, versions: int, workers: int = 1):
        self._memory = mmap.mmap(-1, max(1, workers * versions * _FIELDS * 8))
        self._table = np.frombuffer(self._memory, dtype=np.float64).reshape(workers, versions, _FIELDS)
        self._row = self._table[0]
        self.labels: list[tuple[str, str]] = []

    def use_row(self, worker: int) -> None:
        self._row = self._table[worker]

    def answered(self, index: int, seconds: float, failed: bool) -> None:
        cells = self._row[index]
        cells[_REQUESTS] += 1
        cells[_LATENCY] += seconds
        if failed:
            cells[_ERRORS] += 1

    def loaded(self, index: int, resident: int, seconds: float) -> None:
        cells = self._row[index]
        cells[_LOADED] = 1
        cells[_BYTES] = resident
        cells[_LOADS] += 1
        cells[_LOAD_SECONDS] += seconds

    def unloaded(self, index: int) -> None:
        cells = self._row[index]
        cells[_LOADED] = 0
        cells[_BYTES] = 0
        cells[_UNLOADS] += 1

    def render(self, budget: int, resident: int) -> str:
        """The exposition of every version's counts (all workers'), after the runtime's own."""
        total = self._table.sum(axis=0)
        out = [
            "# HELP modelhub_memory_budget_bytes The memory budget of the loaded versions (per worker).",
            "# TYPE modelhub_memory_budget_bytes gauge",
            f"modelhub_memory_budget_bytes {budget}",
            "# HELP modelhub_resident_memory_bytes Resident memory of the worker that answered this scrape.",
            "# TYPE modelhub_resident_memory_bytes gauge",
            f"modelhub_resident_memory_bytes {resident}",
        ]
        series = (
            (
                "modelhub_model_requests_total",
                "counter",
                "Inference requests for the version, by model and version.",
                _REQUESTS,
            ),
            (
                "modelhub_model_errors_total",
                "counter",
                "Of those, the ones answered with an error (4xx or 5xx).",
                _ERRORS,
            ),
            (
                "modelhub_model_request_seconds_total",
                "counter",
                "Seconds spent answering them, loads included.",
                _LATENCY,
            ),
            ("modelhub_model_loaded", "gauge", "Workers that hold the version loaded (0: unloaded).", _LOADED),
            ("modelhub_model_resident_bytes", "gauge", "Memory the loaded version was measured to take.", _BYTES),
            ("modelhub_model_loads_total", "counter", "Times the version was loaded.", _LOADS),
            (
                "modelhub_model_unloads_total",
                "counter",
                "Times it was unloaded (least recently used, or asked).",
                _UNLOADS,
            ),
            ("modelhub_model_load_seconds_total", "counter", "Seconds spent loading it.", _LOAD_SECONDS),
        )
        for metric, kind, help_text, field in series:
            out.append(f"# HELP {metric} {help_text}\n# TYPE {metric} {kind}")
            for index, (name, version) in enumerate(self.labels):
                value = total[index, field]
                number = f"{value:.6f}" if field in (_LATENCY, _LOAD_SECONDS) else str(int(value))
                out.append(f'{metric}{{model="{_escape(name)}",version="{_escape(version)}"}} {number}')
        return "\n".join(out) + "\n"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
