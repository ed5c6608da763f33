"""Monitoring's costs, printed as ratios or times measured in the same run.

    python bench/monitoring.py [--sections collection,monitor] [--seconds 5] [--rounds 3]
                               [--rows 1000000] [--features 20] [--repeat 3] [--check]

``collection``: what payload collection costs an endpoint (issue 22). Two endpoint hosts
(``python -m jupyter_modelhub.deploy.host``, each in front of its own scoring runtime serving the
same ONNX logistic regression on 20 float features), one with collection at 100% sampling
(requests and responses), one without, take turns under ``wrk`` (single-row JSON, 8 keep-alive
connections, pinned to one core; the hosts and runtimes to the other) for several short rounds.
Printed: requests per second of each, the median of the rounds' ratios (target: collection at
least 0.9x), and, after the collecting host was stopped with SIGTERM (which commits what it
buffered), what it counted: sampled, committed and dropped records (target: none dropped), and
the records in its Parquet files.

``monitor``: the time of one monitor computation (drift of every feature and of the predictions,
and data quality) over ``--rows`` current rows of ``--features`` features against a reference
profile (target, issue 22: under 5 s for 1M rows x 20 features). Three quarters of the features
are numbers, a quarter categories, and a few are shifted so drift is found. Profiling the
reference (from 100,000 rows) is timed apart: it is done once per version.

``--check`` exits 1 when a target is missed. Absolute numbers mean little on two shared cores;
the ratio does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# Run as a script, this folder comes first on sys.path, where bench/onnx.py would shadow onnx.
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != HERE]
sys.path.insert(0, str(HERE))
from processes import free_port, pinned  # noqa: E402

sys.path.remove(str(HERE))

FEATURES = 20
SERVER_CORE, LOAD_CORE = 0, 1


def build_model(folder: Path) -> list[float]:
    """An ONNX logistic regression pipeline in ``folder``; a row to send it."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, FEATURES))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    onnx = to_onnx(
        model,
        initial_types=[("input", FloatTensorType([None, FEATURES]))],
        options={id(model): {"zipmap": False}},
        target_opset=17,
    )
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(onnx.SerializeToString())
    return X[0].round(4).tolist()


class Endpoint:
    """An endpoint host started from a spec.json, as the Jupyter server starts one."""

    def __init__(self, folder: Path, model_dir: Path, collect: bool):
        self.folder, self.port = folder, free_port()
        folder.mkdir(parents=True)
        spec = {
            "endpoint": folder.name,
            "host": "127.0.0.1",
            "port": self.port,
            "auth": {"mode": "none", "keys": []},
            "traffic": {"blue": 100},
            "mirror": {},
            "deployments": {
                "blue": {
                    "generation": 1,
                    "model": "bench",
                    "version": 1,
                    "model_dir": str(model_dir),
                    "entry_script": None,
                    "reload": False,
                    "instances": 1,
                    "signature_file": None,
                    "python": sys.executable,
                    "args": ["--flavor", "onnx"],
                    "container": None,
                    "cwd": None,
                }
            },
            "collect": {
                "enabled": True,
                "requests": True,
                "responses": True,
                "sample_rate": 1.0,
                "retention_s": 86400.0,
                "max_bytes": 10**10,
            }
            if collect
            else None,
        }
        (folder / "spec.json").write_text(json.dumps(spec))
        self.process = subprocess.Popen(
            pinned([sys.executable, "-m", "jupyter_modelhub.deploy.host", str(folder)], SERVER_CORE),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while self.state() != "healthy":
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"endpoint {folder.name} did not start; see {folder / 'logs'}")
            time.sleep(0.05)

    def state(self) -> str | None:
        try:
            return json.loads((self.folder / "status.json").read_text())["deployments"]["blue"]["state"]
        except (OSError, ValueError, KeyError):
            return None

    def stop(self) -> None:
        """SIGTERM, as the server stops a host: it stops its runtime and commits what it collected."""
        os.kill(self.process.pid, signal.SIGTERM)
        self.process.wait(60)


def load(url: str, row: list[float], seconds: float, work: Path) -> tuple[float, int]:
    """(requests per second, requests answered) of ``wrk`` with 8 connections."""
    script = work / "post.lua"
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = [==[{json.dumps({"data": [row]})}]==]\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    command = pinned(["wrk", "-t1", "-c8", f"-d{seconds:g}s", "-s", str(script), url], LOAD_CORE)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"errors under load:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), int(
        re.search(r"(\d+) requests in", out).group(1)
    )


def collection(seconds: float, rounds: int, work: Path) -> dict:
    row = build_model(work / "model")
    plain = Endpoint(work / "plain", work / "model", collect=False)
    collecting = Endpoint(work / "collecting", work / "model", collect=True)
    runs: dict[str, list[float]] = {"plain": [], "collecting": []}
    sent = 0
    try:
        load(f"http://127.0.0.1:{plain.port}/score", row, 1, work)  # warm both up
        load(f"http://127.0.0.1:{collecting.port}/score", row, 1, work)
        for round_ in range(rounds):
            order = [("plain", plain), ("collecting", collecting)]
            for name, endpoint in order if round_ % 2 == 0 else order[::-1]:
                rps, answered = load(f"http://127.0.0.1:{endpoint.port}/score", row, seconds, work)
                runs[name].append(rps)
                if name == "collecting":
                    sent += answered
    finally:
        plain.stop()
        collecting.stop()
    import pyarrow.parquet as pq

    counts = json.loads((collecting.folder / "collect-status.json").read_text())
    in_files = sum(pq.read_metadata(p).num_rows for p in (collecting.folder / "collected").glob("collected-*.parquet"))
    ratios = [c / p for c, p in zip(runs["collecting"], runs["plain"])]
    return {"runs": runs, "ratio": statistics.median(ratios), "counts": counts, "in_files": in_files, "sent": sent}


def collection_section(options: argparse.Namespace) -> bool:
    """Run and print the collection section; True when its targets are met."""
    with tempfile.TemporaryDirectory(prefix="modelhub-bench-monitoring-") as folder:
        result = collection(options.seconds, options.rounds, Path(folder))
    runs, counts = result["runs"], result["counts"]
    print("payload collection (100% sampling, requests and responses), wrk -c8, single-row JSON")
    print(f"  without collection: {' '.join(f'{r:,.0f}' for r in runs['plain'])} req/s")
    print(f"  with collection:    {' '.join(f'{r:,.0f}' for r in runs['collecting'])} req/s")
    ok_ratio = result["ratio"] >= 0.9
    ok_loss = counts["dropped"] == 0 and counts["failed"] == 0 and counts["committed"] == counts["sampled"]
    print(f"  ratio (median of rounds): {result['ratio']:.2f}x  [{'ok' if ok_ratio else 'MISSED'}: target >= 0.9x]")
    print(
        f"  records: sampled {counts['sampled']:,}, committed {counts['committed']:,}, in files {result['in_files']:,}, "
        f"dropped {counts['dropped']}, failed {counts['failed']}; wrk counted {result['sent']:,} answers under load "
        f"(+ warm-up)  [{'ok' if ok_loss else 'MISSED'}: none lost]"
    )
    return ok_ratio and ok_loss


# -- monitor -----------------------------------------------------------------------------------


def frame(rows: int, features: int, rng: np.random.Generator, shifted: bool):
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
    import pandas as pd

    data = pd.DataFrame(columns)
    predictions = (data["x0"].to_numpy() > 0).astype(np.int64)
    return data, predictions


def signature_of(data) -> dict:
    return {
        "inputs": [
            {"name": c, "dtype": "float64" if data[c].dtype.kind == "f" else "string", "shape": [-1]}
            for c in data.columns
        ]
    }


def monitor_section(args: argparse.Namespace) -> bool:
    """Run and print the monitor section; True when its target is met."""
    from jupyter_modelhub.monitoring.drift import monitor_frames
    from jupyter_modelhub.monitoring.profile import profile_frames

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
    return statistics.median(times) < 5


SECTIONS = {"collection": collection_section, "monitor": monitor_section}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"which to run, of {', '.join(SECTIONS)}")
    parser.add_argument("--seconds", type=float, default=5, help="collection: seconds per load round")
    parser.add_argument("--rounds", type=int, default=3, help="collection: rounds of each endpoint")
    parser.add_argument("--rows", type=int, default=1_000_000, help="monitor: current rows the monitor compares")
    parser.add_argument("--features", type=int, default=20, help="monitor: features per row")
    parser.add_argument("--repeat", type=int, default=3, help="monitor: times the monitor is computed")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args(argv)
    met = True
    for name in options.sections.split(","):
        if name not in SECTIONS:
            parser.error(f"unknown section {name!r}; the sections are {', '.join(SECTIONS)}")
        met = SECTIONS[name](options) and met
    return 0 if met or not options.check else 1


if __name__ == "__main__":
    raise SystemExit(main())
