"""Endpoints: time from %deploy to ready, and what the endpoint's router costs at load.

Starts a real Jupyter server with the extension, registers a scikit-learn pipeline
(StandardScaler + LogisticRegression, 20 float features), converts it to ONNX through the REST
API, then measures in the same run:

- deploy-to-ready: the client's ``deploy()`` call (REST, host process start, scoring process
  start, model load, readiness), several endpoints, median. Target: under 3 s.
- requests per second and p99 latency with ``wrk`` (8 keep-alive connections, single-row JSON)
  against: the raw reference (``bench/raw_uvloop_server.py``: uvloop + httptools), the bare
  Tornado reference (``bench/bare_onnx_server.py``), the scoring runtime alone (``python -m
  jupyter_modelhub.serving``), and the endpoint (the host with key auth in front of the
  runtime), taking turns in several rounds. Target: the endpoint at least 0.8x the runtime
  alone (median of the rounds' ratios). Two cores: wrk takes one, so only the ratios mean anything.

    python bench/endpoints.py [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from hub_server import HubServer
from processes import free_port

HERE = Path(__file__).resolve().parent


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def wait_port(port: int, timeout: float = 60) -> None:
    """Until something listens on 127.0.0.1:``port`` (the references answer only scoring POSTs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


def wrk(url: str, body: bytes, seconds: int, key: str | None, work: Path) -> tuple[float, float]:
    """(requests/s, p99 ms) of single-row POSTs with 8 connections for ``seconds``."""
    script = work / f"post-{secrets.token_hex(3)}.lua"
    headers = 'wrk.headers["Content-Type"] = "application/json"\n'
    if key:
        headers += f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body.decode())}\n{headers}')
    out = subprocess.run(
        ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    value = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    if "Non-2xx" in out or "Socket errors" in out:
        print("  wrk reported errors:\n" + "\n".join(l for l in out.splitlines() if "Non-2xx" in l or "Socket" in l))
    return rps, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    work = Path(tempfile.mkdtemp(prefix="modelhub-bench-ep-"))
    server = HubServer(work)
    processes = []
    try:
        hub = server.client()
        X, y = make_classification(2000, 20, random_state=0)
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
        hub.register("bench", model, sample=X[:5])
        onnx = hub.convert("bench:1", sample=X[:200])["version"]

        times = []
        for i in range(5):
            started = time.perf_counter()
            hub.deploy(f"ready-{i}", onnx["ref"])
            times.append(time.perf_counter() - started)
            hub.undeploy(f"ready-{i}")
        ready = statistics.median(times)

        endpoint = hub.deploy("bench-ep", onnx["ref"])
        model_dir = work / "onnx"
        hub.download(onnx["ref"], to=model_dir)
        body = json.dumps({"data": X[:1].tolist()}).encode()

        raw_port, bare_port, runtime_port = free_port(), free_port(), free_port()
        for script, port in (("raw_uvloop_server.py", raw_port), ("bare_onnx_server.py", bare_port)):
            processes.append(
                subprocess.Popen(
                    [sys.executable, str(HERE / script), str(model_dir / "model.onnx"), str(port)],
                    stdout=subprocess.DEVNULL,
                )
            )
        signature = work / "signature.json"
        signature.write_text(json.dumps(onnx["signature"]))
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jupyter_modelhub.serving",
                    "--model-dir",
                    str(model_dir),
                    "--port",
                    str(runtime_port),
                    "--signature-file",
                    str(signature),
                    "--threads",
                    "1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_port(raw_port)
        wait_port(bare_port)
        wait_http(f"http://127.0.0.1:{runtime_port}/")

        targets = {
            "raw uvloop + httptools": (f"http://127.0.0.1:{raw_port}/score", None),
            "bare Tornado + onnxruntime": (f"http://127.0.0.1:{bare_port}/score", None),
            "scoring runtime alone": (f"http://127.0.0.1:{runtime_port}/score", None),
            "endpoint (host + key auth)": (endpoint["url"] + "/score", endpoint.key),
        }
        for url, key in targets.values():  # warm up: connections, pools, caches
            wrk(url, body, 1, key, work)
        results: dict[str, list] = {name: [] for name in targets}
        order = list(targets)
        for round_ in range(args.rounds):
            for name in order[round_ % len(order) :] + order[: round_ % len(order)]:
                url, key = targets[name]
                results[name].append(wrk(url, body, args.seconds, key, work))
    finally:
        for process in processes:
            process.terminate()
        server.stop()

    print(
        f"\ndeploy to ready (median of 5): {ready:.2f} s  [{', '.join(f'{t:.2f}' for t in times)}]  "
        f"target < 3 s: {'OK' if ready < 3 else 'OVER'}"
    )
    alone = results["scoring runtime alone"]
    print(f"\n{args.rounds} rounds of {args.seconds} s, 8 connections; medians of the rounds")
    print(f"{'server':<32} {'req/s':>9} {'p99 ms':>8} {'x runtime alone':>16}")
    for name, runs in results.items():
        ratio = statistics.median(r[0] / a[0] for r, a in zip(runs, alone))
        print(
            f"{name:<32} {statistics.median(r[0] for r in runs):>9.0f} {statistics.median(r[1] for r in runs):>8.2f} "
            f"{ratio:>16.2f}"
        )
    ratio = statistics.median(e[0] / a[0] for e, a in zip(results["endpoint (host + key auth)"], alone))
    print(f"\n{'met    ' if ratio >= 0.8 else 'MISSED '} endpoint / runtime alone = {ratio:.2f}x (target >= 0.8x)")


if __name__ == "__main__":
    main()
