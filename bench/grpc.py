"""Our gRPC Open Inference Protocol against MLServer's, serving the same scikit-learn model.

Model: a StandardScaler + LogisticRegression pipeline on 20 float features, saved with joblib
(what MLServer's mlserver-sklearn serves) and its ONNX conversion (skl2onnx, ``zipmap`` off:
what ``%deploy --optimize`` serves for it once the conversion is proven equal). Each server has
one worker, pinned to one core; the load generator is pinned to the other.

Load: ``h2load`` (nghttp2's HTTP/2 load generator) posting one gRPC ModelInfer message (a
length-prefixed protobuf, ``content-type: application/grpc``): 8 connections, one call in flight
on each. h2load counts HTTP statuses, and gRPC errors travel with HTTP 200, so every server's
answer to that very message is checked with tritonclient.grpc first (the right labels), and
again after its load runs. The servers take turns, several short rounds; ratios are medians of
each round's ratios. Absolute numbers mean little on a shared machine; ratios do.

Rows printed: ours (ONNX form, the ModelInfer a tritonclient user sends: FP32 raw tensor), ours
(the scikit-learn version itself, FP64), MLServer 1.x + mlserver-sklearn (FP64, its defaults but
the model in its one process: ``parallel_workers: 0``), ours through an endpoint host (the gRPC gateway forwarding to the ONNX runtime),
and, for the runtime's HTTP, ``/score`` with and without the gRPC port open (gRPC shares the
worker's event loop: idle, it must cost HTTP nothing). Target: ours (as ``--optimize`` serves
the model) at least 3x MLServer's gRPC.

MLServer is installed (once) into its own virtual environment under the temporary folder; the
benchmark says so and skips it when that fails. ``--mlserver-python`` names an interpreter that
has it already.

    python bench/grpc.py [--duration 5] [--rounds 3] [--mlserver-python PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, this folder comes first on sys.path, where this very file would shadow grpc.
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != HERE]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))  # bench/processes.py, by name (this file is not: see above)
from processes import free_port, pinned  # noqa: E402

sys.path.remove(str(HERE))

import numpy as np  # noqa: E402

FEATURES = 20
TARGET = 3.0
KEY = "bench-key"
SERVICE = "inference.GRPCInferenceService"
CACHE = Path(tempfile.gettempdir()) / "modelhub-bench-grpc"
MLSERVER = ["mlserver>=1.6", "mlserver-sklearn>=1.6"]


# -- models ------------------------------------------------------------------------------------


def build_model(folder: Path) -> dict:
    import joblib
    import sklearn
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(2000, FEATURES, random_state=0)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    for name in ("sklearn", "onnx", "mlserver"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, folder / "sklearn" / "model.joblib")
    shutil.copyfile(folder / "sklearn" / "model.joblib", folder / "mlserver" / "model.joblib")
    onnx = to_onnx(
        pipeline,
        initial_types=[("input", FloatTensorType([None, FEATURES]))],
        options={id(pipeline): {"zipmap": False}},
        target_opset=17,
    )
    (folder / "onnx" / "model.onnx").write_bytes(onnx.SerializeToString())
    (folder / "sklearn.json").write_text(
        json.dumps({"inputs": [{"name": "input", "dtype": "float64", "shape": [-1, FEATURES]}], "outputs": []})
    )
    (folder / "mlserver" / "model-settings.json").write_text(
        json.dumps(
            {
                "name": "churn",
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "version": "1"},
            }
        )
    )
    row = X[7:8]
    return {"folder": folder, "row": row, "label": int(pipeline.predict(row)[0]), "sklearn": sklearn.__version__}


def infer_message(row: np.ndarray, datatype: str) -> bytes:
    """One ModelInfer call as it goes on the wire: gRPC's 5-byte prefix and the protobuf message."""
    from jupyter_modelhub.serving.grpc import inference_pb2 as pb

    array = row.astype(np.float32 if datatype == "FP32" else np.float64)
    request = pb.ModelInferRequest(model_name="churn")
    request.inputs.add(name="input", datatype=datatype, shape=list(array.shape))
    request.raw_input_contents.append(array.tobytes())
    message = request.SerializeToString()
    return struct.pack(">BI", 0, len(message)) + message


# -- servers -----------------------------------------------------------------------------------


class Server:
    """A server process (and its children, one process group), ready when ``ready()`` says so."""

    def __init__(self, label: str, command: list[str], log: Path, ready, env: dict | None = None, cwd=None):
        self.label, self.log = label, log
        started = time.monotonic()
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                pinned(command, 1), stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=cwd
            )
        while not ready(self):
            if self.process.poll() is not None or time.monotonic() - started > 180:
                self.stop()
                raise RuntimeError(f"{label} did not start; its log:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.02)
        self.ready_seconds = time.monotonic() - started

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group: MLServer starts worker processes
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def ours(model: dict, flavor: str, log: Path, grpc: bool = True) -> tuple[Server, int, int]:
    """The runtime on the ONNX or the scikit-learn form; (server, HTTP port, gRPC port)."""
    folder = model["folder"]
    command = [sys.executable, "-m", "jupyter_modelhub.serving", "--port", "0", "--name", "churn", "--version", "1"]
    if flavor == "onnx":
        command += ["--model-dir", str(folder / "onnx")]
    else:
        command += ["--model-dir", str(folder / "sklearn"), "--flavor", "sklearn"]
        command += ["--signature-file", str(folder / "sklearn.json")]
    if grpc:
        command += ["--grpc-port", "0"]
    env = {**os.environ, "MODELHUB_AUTH_KEY": KEY, "PYTHONPATH": str(ROOT)}
    server = Server(f"ours ({flavor})", command, log, lambda s: "MODELHUB_READY" in s.text(), env=env)
    line = re.search(r"MODELHUB_READY port=(\d+)(?: grpc_port=(\d+))?", server.text())
    return server, int(line.group(1)), int(line.group(2) or 0)


def endpoint_host(model: dict, folder: Path, log: Path) -> tuple[Server, int]:
    """An endpoint host (deploy/host.py) in front of the ONNX runtime, as %deploy starts one; its gRPC port."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "endpoint": "bench",
        "host": "127.0.0.1",
        "port": free_port(),
        "auth": {"mode": "key", "keys": [KEY]},
        "traffic": {"blue": 100},
        "mirror": {},
        "deployments": {
            "blue": {
                "generation": 1,
                "model": "churn",
                "version": 1,
                "model_dir": str(model["folder"] / "onnx"),
                "python": sys.executable,
                "args": ["--flavor", "onnx"],
            }
        },
    }
    (folder / "spec.json").write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def ready(server: Server) -> bool:
        try:
            status = json.loads((folder / "status.json").read_text())
        except (OSError, ValueError):
            return False
        return status.get("deployments", {}).get("blue", {}).get("state") == "healthy" and status.get("grpc_port")

    server = Server(
        "ours via the endpoint host",
        [sys.executable, "-m", "jupyter_modelhub.deploy.host", str(folder)],
        log,
        ready,
        env=env,
    )
    return server, json.loads((folder / "status.json").read_text())["grpc_port"]


def mlserver_python(option: str | None) -> tuple[str | None, str]:
    """An interpreter with MLServer and mlserver-sklearn (installed once under the temporary
    folder, with this scikit-learn's version), or None and why not."""
    if option:
        return option, ""
    venv = CACHE / "mlserver-venv"
    python = venv / "bin" / "python"
    import sklearn

    marker = venv / ".installed"
    wanted = " ".join([*MLSERVER, f"scikit-learn=={sklearn.__version__}"])
    if marker.exists() and marker.read_text() == wanted:
        return str(python), ""
    print(f"installing {wanted} into {venv} (once; a few minutes) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *wanted.split()],
            check=True,
            capture_output=True,
            timeout=1200,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        tail = (getattr(exc, "stderr", b"") or b"").decode(errors="replace")[-500:]
        return None, f"MLServer could not be installed into {venv}: {tail}"
    marker.write_text(wanted)
    return str(python), ""


def mlserver(model: dict, python: str, log: Path) -> tuple[Server, int]:
    folder = model["folder"] / "mlserver"
    http, grpc_port, metrics = free_port(), free_port(), free_port()
    (folder / "settings.json").write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "http_port": http,
                "grpc_port": grpc_port,
                "metrics_port": metrics,
                # the model in the server's own process: MLServer 1.7's worker pool does not start
                # on current uvloop (its workers call get_event_loop() with no loop), and one
                # process is the fairest match for our one worker anyway
                "parallel_workers": 0,
            }
        )
    )
    executable = str(Path(python).parent / "mlserver")
    server = Server(
        "MLServer + mlserver-sklearn", [executable, "start", str(folder)], log, lambda s: _ready(grpc_port), cwd=folder
    )
    return server, grpc_port


def _ready(port: int) -> bool:
    """Whether a gRPC server on ``port`` says the model is ready."""
    import tritonclient.grpc as grpcclient

    client = grpcclient.InferenceServerClient(f"127.0.0.1:{port}")
    try:
        return client.is_model_ready("churn")
    except Exception:
        return False
    finally:
        client.close()


# -- load --------------------------------------------------------------------------------------


class Target:
    def __init__(self, label: str, port: int, datatype: str, key: bool, model: dict, folder: Path):
        self.label, self.port, self.datatype, self.key = label, port, datatype, key
        self.body = folder / f"{port}-{datatype}.grpc"
        self.body.write_bytes(infer_message(model["row"], datatype))
        self.model = model

    def check(self) -> None:
        """A real client's call with the same tensor: the right label, or the run stops."""
        import tritonclient.grpc as grpcclient

        client = grpcclient.InferenceServerClient(f"127.0.0.1:{self.port}")
        try:
            given = grpcclient.InferInput("input", [1, FEATURES], self.datatype)
            given.set_data_from_numpy(self.model["row"].astype(np.float32 if self.datatype == "FP32" else np.float64))
            headers = {"authorization": f"Bearer {KEY}"} if self.key else None
            result = client.infer("churn", [given], headers=headers)
            got = int(result.as_numpy(result.get_response().outputs[0].name).reshape(-1)[0])
        finally:
            client.close()
        if got != self.model["label"]:
            raise RuntimeError(f"{self.label} answered label {got}; expected {self.model['label']}")

    def load(self, seconds: float, connections: int) -> float:
        command = [
            "h2load",
            f"-c{connections}",
            "-m1",
            f"-D{seconds:g}",
            "-d",
            str(self.body),
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
        ]
        if self.key:
            command += ["-H", f"authorization: Bearer {KEY}"]
        command.append(f"http://127.0.0.1:{self.port}/{SERVICE}/ModelInfer")
        out = subprocess.run(pinned(command, 0), capture_output=True, text=True, timeout=seconds + 60).stdout
        done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
        if not done or int(done.group(2)) == 0:
            raise RuntimeError(f"h2load got no answers from {self.label}:\n{out[-1500:]}")
        return float(re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", out).group(1))


def wrk(port: int, seconds: float, folder: Path, row: np.ndarray) -> float:
    script = folder / "score.lua"
    body = json.dumps({"data": row.astype(np.float32).tolist()})
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = [==[{body}]==]\nwrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {KEY}"\n'
    )
    command = ["wrk", "-t1", "-c8", f"-d{seconds:g}s", "-s", str(script), f"http://127.0.0.1:{port}/score"]
    out = subprocess.run(pinned(command, 0), capture_output=True, text=True, timeout=seconds + 30).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"/score answered errors under load:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def take_turns(runs: dict, rounds: int, seconds: float) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {label: [] for label in runs}
    order = list(runs)
    for round_ in range(rounds):
        for label in order[round_ % len(order) :] + order[: round_ % len(order)]:
            results[label].append(runs[label](seconds))
    return results


def median_ratio(ours: list[float], theirs: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(ours, theirs))


# -- the run -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds taken in turns (default 3)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--mlserver-python", help="an interpreter with mlserver and mlserver-sklearn")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    options = parser.parse_args()
    for tool in ("h2load", "wrk"):
        if not shutil.which(tool):
            print(f"{tool} is needed (Debian: apt-get install nghttp2-client wrk)")
            return 2
    folder = Path(tempfile.mkdtemp(prefix="modelhub-bench-grpc-"))
    model = build_model(folder / "model")
    python, why_not = mlserver_python(options.mlserver_python)
    servers: list[Server] = []
    targets: dict[str, Target] = {}
    try:
        onnx, onnx_http, onnx_grpc = ours(model, "onnx", folder / "ours-onnx.log")
        servers.append(onnx)
        targets["ours (ONNX form)"] = Target("ours (ONNX form)", onnx_grpc, "FP32", True, model, folder)
        sk, _, sk_grpc = ours(model, "sklearn", folder / "ours-sklearn.log")
        servers.append(sk)
        targets["ours (scikit-learn)"] = Target("ours (scikit-learn)", sk_grpc, "FP64", True, model, folder)
        host, host_grpc = endpoint_host(model, folder / "endpoint", folder / "host.log")
        servers.append(host)
        targets["ours via the endpoint host (ONNX)"] = Target("via host", host_grpc, "FP32", True, model, folder)
        if python:
            peer, peer_grpc = mlserver(model, python, folder / "mlserver.log")
            servers.append(peer)
            targets["MLServer + mlserver-sklearn"] = Target("MLServer", peer_grpc, "FP64", False, model, folder)
        for target in targets.values():
            target.check()
        grpc_runs = take_turns(
            {label: (lambda s, t=t: t.load(s, options.connections)) for label, t in targets.items()},
            options.rounds,
            options.duration,
        )
        for target in targets.values():
            target.check()  # still right after the load

        plain, plain_http, _ = ours(model, "onnx", folder / "ours-plain.log", grpc=False)
        servers.append(plain)
        http_runs = take_turns(
            {
                "/score, gRPC port open": lambda s: wrk(onnx_http, s, folder, model["row"]),
                "/score, no gRPC": lambda s: wrk(plain_http, s, folder, model["row"]),
            },
            options.rounds,
            options.duration,
        )
    finally:
        for server in servers:
            server.stop()

    print(
        f"\ngRPC ModelInfer, one row of {FEATURES} features, {options.connections} connections, "
        f"{options.rounds} rounds of {options.duration:g} s (req/s, median of rounds):"
    )
    for label, runs in grpc_runs.items():
        print(f"  {label:<40} {statistics.median(runs):>9,.0f}")
    ok = True
    peer = grpc_runs.get("MLServer + mlserver-sklearn")
    if peer:
        optimized = median_ratio(grpc_runs["ours (ONNX form)"], peer)
        plain_ratio = median_ratio(grpc_runs["ours (scikit-learn)"], peer)
        via_host = median_ratio(grpc_runs["ours via the endpoint host (ONNX)"], peer)
        ok = optimized >= TARGET
        print(
            f"  ours (ONNX form, as --optimize serves it) / MLServer: {optimized:.1f}x  "
            f"[target >= {TARGET:g}x: {'met' if ok else 'MISSED'}]"
        )
        print(
            f"  ours (scikit-learn) / MLServer: {plain_ratio:.1f}x;  through the endpoint host / MLServer: {via_host:.1f}x"
        )
    else:
        print(f"  MLServer skipped: {why_not}")
    with_grpc = http_runs["/score, gRPC port open"]
    without = http_runs["/score, no gRPC"]
    print(
        f"\nHTTP /score on the ONNX runtime (wrk, req/s): gRPC port open {statistics.median(with_grpc):,.0f}, "
        f"no gRPC {statistics.median(without):,.0f}: {median_ratio(with_grpc, without):.2f}x"
    )
    results = {"grpc": grpc_runs, "http": http_runs, "mlserver": python is not None}
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "grpc.json").write_text(json.dumps(results, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    return 1 if options.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
