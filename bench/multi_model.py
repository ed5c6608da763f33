"""Many models on one endpoint (``--multi``, issue 24): 100 versions in one runtime.

Models: 100 scikit-learn versions (StandardScaler + LogisticRegression on 20 float features, each
fitted on other labels), as ``%deploy --multi`` hands them to the runtime (a repository file,
``--repository``), under a 1 GB budget. Measured, with the server pinned to one core and the
load generator to the other:

- resident memory of the runtime with all 100 loaded (each asked once): target under 1 GB;
- the first request to a version not loaded yet (30 versions, each its first request, from a
  client on a keep-alive connection): target at most 0.3 s (the worst of them, and the median);
- requests per second on a loaded version (``/v2/models/m/versions/50/infer``, single-row JSON,
  wrk at 8 connections) against a single-model runtime serving that same version on the same
  path, in turns over several rounds: target within 1.2x (the median of each round's ratio).

The endpoint host in front adds the same forwarding to both, so the runtimes are compared
directly. Absolute numbers mean little on a shared machine; the ratio and the bounds do.

    python bench/multi_model.py [--duration 5] [--rounds 3] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != HERE]  # bench/onnx.py shadows onnx

import numpy as np  # noqa: E402
import requests  # noqa: E402

sys.path.insert(0, str(HERE))
import processes  # noqa: E402, F401  (before serving.py takes this folder off the path again)
import serving as bench  # noqa: E402  (bench/serving.py: Server, Target, wrk runs)
from processes import free_port  # noqa: E402

if str(HERE) in sys.path:  # bench/serving.py takes it out itself
    sys.path.remove(str(HERE))

VERSIONS = 100
FEATURES = 20
TARGETS = {"memory_mb": 1024, "first_request_s": 0.3, "loaded_vs_single": 1.2}


def build(folder: Path) -> tuple[Path, list[float]]:
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, FEATURES))
    signature = {"inputs": [{"name": "input", "dtype": "float64", "shape": [-1, FEATURES]}], "outputs": []}
    entries = []
    for version in range(1, VERSIONS + 1):
        weights = rng.normal(size=FEATURES)
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, (X @ weights > 0).astype(int))
        path = folder / f"m-{version}"
        path.mkdir()
        joblib.dump(model, path / "model.joblib")
        entries.append(
            {"name": "m", "version": str(version), "model_dir": str(path), "flavor": "sklearn", "signature": signature}
        )
    repository = folder / "repository.json"
    repository.write_text(json.dumps({"models": entries, "memory_budget": "1G"}))
    (folder / "signature.json").write_text(json.dumps(signature))
    return repository, X[0].tolist()


def start(folder: Path, label: str, *args: str) -> bench.Server:
    port = free_port()
    command = [sys.executable, "-m", "jupyter_modelhub.serving", "--model-dir", str(folder / "m-50")]
    command += ["--port", str(port), "--workers", "1", "--flavor", "sklearn", *args]
    log = folder / f"{label}.log"
    return bench.Server(label, command, port, "/v2/models/m/versions/50/infer", {}, log, f"MODELHUB_READY port={port}")


def body(row: list[float]) -> dict:
    return {"inputs": [{"name": "input", "shape": [1, FEATURES], "datatype": "FP64", "data": row}]}


def run(options) -> dict:
    with tempfile.TemporaryDirectory(prefix="modelhub-bench-multi-") as tmp:
        folder = Path(tmp)
        repository, row = build(folder)
        request = body(row)
        multi = start(folder, "multi", "--repository", str(repository))
        single = start(
            folder, "single", "--name", "m", "--version", "50", "--signature-file", str(folder / "signature.json")
        )
        try:
            results = {"ready_s": {"multi": multi.ready_seconds, "single": single.ready_seconds}}
            results["rss_mb_none_loaded"] = bench.rss_mb(multi.process.pid)
            session = requests.Session()
            base = f"http://127.0.0.1:{multi.port}"
            session.post(f"{base}/v2/models/m/versions/50/infer", json=request, timeout=30).raise_for_status()
            first = []
            for version in range(1, 31):  # each one's first request
                started = time.perf_counter()
                answer = session.post(f"{base}/v2/models/m/versions/{version}/infer", json=request, timeout=30)
                first.append(time.perf_counter() - started)
                answer.raise_for_status()
            loaded = []
            for version in range(31, 36):  # the same versions again, now loaded
                session.post(f"{base}/v2/models/m/versions/{version}/infer", json=request, timeout=30)
                started = time.perf_counter()
                session.post(f"{base}/v2/models/m/versions/{version}/infer", json=request, timeout=30)
                loaded.append(time.perf_counter() - started)
            for version in range(36, VERSIONS + 1):
                session.post(f"{base}/v2/models/m/versions/{version}/infer", json=request, timeout=30)
            states = session.post(f"{base}/v2/repository/index", json={}, timeout=30).json()
            results["loaded_versions"] = sum(1 for s in states if s["state"] == "READY")
            results["rss_mb_all_loaded"] = bench.rss_mb(multi.process.pid)
            results["rss_mb_single"] = bench.rss_mb(single.process.pid)
            results["first_request_s"] = {"median": statistics.median(first), "max": max(first)}
            results["loaded_request_s"] = statistics.median(loaded)
            targets = {
                "multi": bench.Target("multi, version 50 of 100", multi, body=request),
                "single": bench.Target("single-model runtime, same version", single, body=request),
            }
            runs = bench.take_turns(targets, options.rounds, options.duration, folder, 8)
            results["rps"] = {key: [r["rps"] for r in value] for key, value in runs.items()}
            results["non_2xx"] = sum(r["non_2xx"] for value in runs.values() for r in value)
            results["single_vs_multi"] = statistics.median(
                s / m for s, m in zip(results["rps"]["single"], results["rps"]["multi"])
            )
            return results
        finally:
            multi.stop()
            single.stop()


def report(results: dict) -> list[str]:
    print(f"multi-model: {VERSIONS} scikit-learn versions in one runtime, memory budget 1 GB")
    print(
        f"  start to ready        multi {results['ready_s']['multi']:.2f} s, single {results['ready_s']['single']:.2f} s"
    )
    print(
        f"  resident memory       {results['rss_mb_none_loaded']:.0f} MB none loaded, "
        f"{results['rss_mb_all_loaded']:.0f} MB with {results['loaded_versions']} loaded "
        f"(a single-model runtime: {results['rss_mb_single']:.0f} MB)"
    )
    first = results["first_request_s"]
    print(
        f"  first request         median {first['median'] * 1000:.1f} ms, worst {first['max'] * 1000:.1f} ms "
        f"(a loaded version: {results['loaded_request_s'] * 1000:.1f} ms)"
    )
    rps = results["rps"]
    print(
        f"  loaded version        multi {statistics.median(rps['multi']):.0f} req/s, single "
        f"{statistics.median(rps['single']):.0f} req/s (rounds: {rps['multi']} vs {rps['single']}); "
        f"single/multi {results['single_vs_multi']:.2f}x; non-2xx {results['non_2xx']}"
    )
    verdicts = [
        bench._verdict(
            results["rss_mb_all_loaded"] < TARGETS["memory_mb"],
            f"100 versions loaded in {results['rss_mb_all_loaded']:.0f} MB (target under {TARGETS['memory_mb']} MB)",
        ),
        bench._verdict(
            first["max"] <= TARGETS["first_request_s"],
            f"first request to an unloaded version at most {first['max']:.3f} s (target 0.3 s)",
        ),
        bench._verdict(
            results["single_vs_multi"] <= TARGETS["loaded_vs_single"] and results["non_2xx"] == 0,
            f"a loaded version at {1 / results['single_vs_multi']:.2f}x a single-model runtime's req/s "
            f"(target: the single-model runtime at most 1.2x it; it was {results['single_vs_multi']:.2f}x)",
        ),
    ]
    for verdict in verdicts:
        print(verdict)
    return verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="turns of the two servers (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args()
    results = run(options)
    verdicts = report(results)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "multi_model.json").write_text(json.dumps(results, indent=2))
    return 1 if options.check and any("MISSED" in v for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
