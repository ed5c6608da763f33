"""Monitoring's costs: payload collection on a serving endpoint, and a monitor over a big window.

    python bench/monitoring.py [--rows 1000000] [--features 20] [--sections collection,monitor]

Sections (each prints its own lines; ``main`` runs those asked for, in order):

- ``collection``: requests per second of an endpoint with collection at 100% against the same
  endpoint without it (target, issue 22: at least 0.9x). Filled in by the collection work.
- ``monitor``: the time of one monitor computation (drift of every feature and of the
  predictions, and data quality) over ``--rows`` current rows of ``--features`` features against
  a reference profile (target, issue 22: under 5 s for 1M rows x 20 features). Three quarters of
  the features are numbers, a quarter categories, and a few are shifted so drift is found.
  Profiling the reference (from 100,000 rows) is timed apart: it is done once per version.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from jupyter_modelhub.monitoring import monitor_frames, profile_frames

# -- collection (the collection work fills this section in) ------------------------------------


def collection(args: argparse.Namespace) -> None:
    print("collection: not measured here yet (the payload collection section)")


# -- monitor -----------------------------------------------------------------------------------


def frame(rows: int, features: int, rng: np.random.Generator, shifted: bool) -> tuple[pd.DataFrame, np.ndarray]:
    categorical = max(1, features // 4)
    columns = {}
    for i in range(features - categorical):
        values = rng.normal(size=rows)
        if shifted and i % 5 == 0:
            values = values + 0.5
        columns[f"x{i}"] = values
    for i in range(categorical):
        p = [0.5, 0.3, 0.15, 0.05] if not (shifted and i == 0) else [0.3, 0.3, 0.2, 0.2]
        columns[f"c{i}"] = rng.choice(np.array(["red", "green", "blue", "grey"], dtype=object), size=rows, p=p)
    data = pd.DataFrame(columns)
    predictions = (data["x0"].to_numpy() > 0).astype(np.int64)
    return data, predictions


def signature_of(data: pd.DataFrame) -> dict:
    return {
        "inputs": [
            {"name": c, "dtype": "float64" if data[c].dtype.kind == "f" else "string", "shape": [-1]}
            for c in data.columns
        ]
    }


def monitor(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(0)
    reference_data, reference_predictions = frame(100_000, args.features, rng, shifted=False)
    signature = signature_of(reference_data)
    started = time.perf_counter()
    reference = profile_frames(reference_data, reference_predictions, signature, source="bench")
    profiled = time.perf_counter() - started
    current, predictions = frame(args.rows, args.features, rng, shifted=True)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        report = monitor_frames(current, predictions, reference, signature)
        times.append(time.perf_counter() - started)
    size = len(reference.model_dump_json())
    print(
        f"monitor: {args.rows:,} rows x {args.features} features: median {statistics.median(times):.2f} s "
        f"(best {min(times):.2f} s of {args.repeat}; target < 5 s); {len(report.drifted)} features drifted"
    )
    print(f"monitor: reference profile of 100,000 rows: {profiled:.2f} s, {size / 1024:.1f} KB as JSON")


SECTIONS = {"collection": collection, "monitor": monitor}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="current rows the monitor compares")
    parser.add_argument("--features", type=int, default=20, help="features per row")
    parser.add_argument("--repeat", type=int, default=3, help="times the monitor is computed")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"which to run, of {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    for name in args.sections.split(","):
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}; the sections are {', '.join(SECTIONS)}")
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
