"""The scoring runtime against its peers, printed as ratios measured in the same run.

Load: single-row JSON requests from ``wrk`` (one thread, keep-alive connections, a Lua script
posting the body), every load run bounded in time and aimed at 127.0.0.1 only. Models: a
StandardScaler + LogisticRegression pipeline on 20 float features, a 100-tree random forest and,
for batching, a 500-tree forest (a model whose single-row cost dominates), converted to ONNX with
skl2onnx (``zipmap`` off, so outputs are plain tensors).

At 8 connections, ``jupyter_modelhub.serving`` (ONNX form, 1 worker) against

- ``bench/raw_uvloop_server.py``, a raw asyncio protocol on uvloop with httptools parsing calling
  onnxruntime (the ceiling of a Python server): target at least 0.85x its requests per second (issue 24)
  while carrying routing, auth checks, signature checks, metrics and the access log;
- ``bench/bare_onnx_server.py``, a bare Tornado handler calling onnxruntime (printed);
- ``mlflow models serve`` of the same scikit-learn model (1 worker), ours on ``/invocations``
  with the same body, in the ``inputs`` and the ``dataframe_split`` format: target at least
  20x (skipped with a note when mlflow is not installed).

At 1 connection (the same rounds taken in turns): p50 and p99 latency of ours, the raw
reference and mlflow; ours' p50 within 1.3x the raw reference's (the median of each round's
ratio). Process start to ready under 3 s; resident memory per worker printed (target at most
100 MB for the logistic regression).

Against the peers (at 16 connections, each server started alone in its turn, every round): ours
serving the scikit-learn version with ``--optimize`` (its ONNX form) and as scikit-learn, against
KServe 0.21, MLServer 1.7 (+ mlserver-sklearn), LitServe 0.2 and BentoML 1.4 serving the same
pickle, each installed by ``bench/peers.py`` into its own virtual environment (cached under
``~/.cache/modelhub-bench/peers``; one that cannot be installed is skipped with a note): ours
``--optimize`` at least 10x the best peer's requests per second, ours scikit-learn at least 2.5x,
and ours' start to ready at most a quarter of the fastest peer's.

Adaptive batching (``--max-batch-size 32 --max-batch-wait-ms 2``) against batching off, rows per
second at 1, 8 and 64 connections on every model: at least 2x at 64 connections on the 500-tree
forest, and never below 0.9x anywhere.

Two cores: the load generator is pinned to one and the servers to the other, and the servers
take turns in several short rounds, so load from elsewhere on the machine falls on all of them
alike. Ratios are medians of each round's ratios. Absolute numbers mean little; ratios do.

    python bench/serving.py [--duration 5] [--rounds 3] [--mlflow-python PATH] [--check]
                            [--skip-batching] [--skip-peers | --only-peers | --only-ceiling]

``--mlflow-python`` names an interpreter with mlflow (and the same scikit-learn) when this one
has none; ``--only-ceiling`` measures only ours against the raw reference (requests per second
at 8 connections and p50 at 1, both models: the runtime's ceiling, issue 24); ``--check`` exits 1
when a target is missed. Results also go to bench/results/.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, this folder comes first on sys.path, where bench/onnx.py would shadow onnx.
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != HERE]

import numpy as np  # noqa: E402
import requests  # noqa: E402

sys.path.insert(0, str(HERE))  # bench/peers.py, imported by name (bench/onnx.py is not: see above)
import peers  # noqa: E402
from processes import free_port, pinned  # noqa: E402

sys.path.remove(str(HERE))

FEATURES = 20
TARGETS = {
    "raw": 0.85,
    "mlflow": 20.0,
    "p50_vs_raw": 1.3,
    "ready_s": 3.0,
    "rss_mb": 100.0,
    "batching_heavy_64": 2.0,
    "batching_floor": 0.9,
    "peers_optimize": 10.0,
    "peers_sklearn": 2.5,
    "peers_ready_share": 0.25,
}
BATCHING = ["--max-batch-size", "32", "--max-batch-wait-ms", "2"]
BATCHING_CONNECTIONS = (1, 8, 64)


# -- models ------------------------------------------------------------------------------------


def build_models(folder: Path) -> dict[str, dict]:
    import joblib
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, FEATURES))
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + rng.normal(scale=0.5, size=len(X)) > 0).astype(int)
    estimators = {
        "logreg": make_pipeline(StandardScaler(), LogisticRegression()),
        "forest": RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1),
        "forest500": RandomForestClassifier(n_estimators=500, random_state=0, n_jobs=1),
    }
    models = {}
    for name, estimator in estimators.items():
        estimator.fit(X, y)
        onnx_dir, sklearn_dir = folder / f"{name}-onnx", folder / f"{name}-sklearn"
        onnx_dir.mkdir()
        sklearn_dir.mkdir()
        onnx = to_onnx(
            estimator,
            initial_types=[("input", FloatTensorType([None, FEATURES]))],
            options={id(estimator): {"zipmap": False}},
            target_opset=17,
        )
        (onnx_dir / "model.onnx").write_bytes(onnx.SerializeToString())
        joblib.dump(estimator, sklearn_dir / "model.joblib")
        row = X[len(X) // 2].round(4).tolist()
        models[name] = {
            "onnx": onnx_dir,
            "sklearn": sklearn_dir,
            "row": row,
            "label": int(estimator.predict(np.asarray([row], dtype=np.float32))[0]),
        }
    return models


# -- servers -----------------------------------------------------------------------------------


class Server:
    """A server process whose stdout goes to a file; ready when a line matches, or /ping answers."""

    def __init__(
        self,
        label: str,
        command: list[str],
        port: int,
        path: str,
        body: dict,
        log: Path,
        ready_line: str | None,
        deadline: float = 120,
        env: dict | None = None,
        ready_path: str = "/ping",
        cwd: Path | None = None,
    ):
        self.label, self.port, self.path, self.body = label, port, path, body
        self.url = f"http://127.0.0.1:{port}{path}"
        self.log = log
        started = time.monotonic()
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                pinned(command, 0), stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=cwd
            )
        while True:
            if ready_line is not None and ready_line in log.read_text(errors="replace"):
                break
            if ready_line is None and _answers(f"http://127.0.0.1:{port}{ready_path}"):
                break
            if self.process.poll() is not None or time.monotonic() - started > deadline:
                self.stop()
                raise RuntimeError(f"{label} did not start; its log:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.01)
        self.ready_seconds = time.monotonic() - started

    def stop(self) -> None:
        """End the whole process group (mlflow, MLServer, BentoML and LitServe start workers) and
        wait until every member has exited: a peer still shutting down on the servers' core would
        slow the next server measured there."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        deadline = time.monotonic() + 20
        while _group_members(self.process.pid):
            if time.monotonic() > deadline:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                break
            time.sleep(0.05)


def _group_members(pgid: int) -> list[int]:
    """Processes of the group that have not exited (zombies waiting to be reaped do not count)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # after the name: state, ppid, pgrp
            members.append(int(stat.parent.name))
    return members


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def ours(model: dict, log: Path, *extra: str, label: str = "jupyter_modelhub.serving", form: str = "onnx") -> Server:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "jupyter_modelhub.serving",
        "--model-dir",
        str(model[form]),
        "--port",
        str(port),
        "--workers",
        "1",
        *extra,
    ]
    return Server(label, command, port, "/score", {"data": [model["row"]]}, log, f"MODELHUB_READY port={port}")


def raw(model: dict, log: Path) -> Server:
    port = free_port()
    command = [sys.executable, str(HERE / "raw_uvloop_server.py"), str(model["onnx"] / "model.onnx"), str(port)]
    return Server(
        "raw uvloop + httptools + onnxruntime",
        command,
        port,
        "/score",
        {"data": [model["row"]]},
        log,
        f"READY port={port}",
    )


def bare(model: dict, log: Path) -> Server:
    port = free_port()
    command = [sys.executable, str(HERE / "bare_onnx_server.py"), str(model["onnx"] / "model.onnx"), str(port)]
    return Server(
        "bare tornado + onnxruntime", command, port, "/score", {"data": [model["row"]]}, log, f"READY port={port}"
    )


class Target:
    """What a load run aims at: a server, a path and a body (one server can be several targets)."""

    def __init__(self, label: str, server: Server, path: str | None = None, body: dict | None = None):
        self.label, self.server = label, server
        self.path, self.body = path or server.path, body or server.body
        self.url = f"http://127.0.0.1:{server.port}{self.path}"


def mlflow_bodies(row: list[float]) -> dict[str, dict]:
    return {
        "inputs": {"inputs": [row]},
        "dataframe_split": {"dataframe_split": {"columns": [f"f{i}" for i in range(len(row))], "data": [row]}},
    }


def mlflow_server(model: dict, mlflow_python: str, folder: Path, log: Path) -> Server:
    saved = folder / (model["sklearn"].name + "-mlflow")
    if not saved.exists():
        # cloudpickle: MLflow 3's default (skops) refuses to load tree models it did not vet.
        subprocess.run(
            [
                mlflow_python,
                "-c",
                "import sys, joblib, mlflow.sklearn; mlflow.sklearn.save_model("
                "joblib.load(sys.argv[1]), sys.argv[2], serialization_format='cloudpickle')",
                str(model["sklearn"] / "model.joblib"),
                str(saved),
            ],
            check=True,
            capture_output=True,
        )
    port = free_port()
    command = [
        mlflow_python,
        "-m",
        "mlflow",
        "models",
        "serve",
        "-m",
        str(saved),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "1",
        "--env-manager",
        "local",
    ]
    # mlflow starts `uvicorn` by name: its interpreter's scripts must come first on PATH.
    env = {**os.environ, "PATH": str(Path(mlflow_python).parent) + os.pathsep + os.environ.get("PATH", "")}
    return Server(
        "mlflow models serve (sklearn)", command, port, "/invocations", {"inputs": [model["row"]]}, log, None, env=env
    )


def find_mlflow(option: str | None) -> str | None:
    candidates = [option, os.environ.get("MODELHUB_BENCH_MLFLOW_PYTHON")]
    if importlib.util.find_spec("mlflow") is not None:
        candidates.append(sys.executable)
    for python in filter(None, candidates):
        if subprocess.run([python, "-c", "import mlflow"], capture_output=True).returncode == 0:
            return python
    return None


# -- load --------------------------------------------------------------------------------------


def load(target: Target, seconds: float, script_dir: Path, connections: int = 8) -> dict:
    script = script_dir / f"{abs(hash((target.url, json.dumps(target.body))))}.lua"
    if not script.exists():
        body = json.dumps(target.body)
        script.write_text(
            f'wrk.method = "POST"\nwrk.body = [==[{body}]==]\nwrk.headers["Content-Type"] = "application/json"\n'
        )
    command = pinned(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(script),
            target.url,
        ],
        1,
    )
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50_ms": _latency(out, "50%"),
        "p99_ms": _latency(out, "99%"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def _latency(out: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def check_answer(target: Target, label: int) -> None:
    answer = requests.post(target.url, json=target.body, timeout=30).json()
    predictions = answer.get("predictions", answer)
    got = predictions["label"][0] if isinstance(predictions, dict) else predictions[0]
    if int(got) != label:
        raise RuntimeError(f"{target.label} answered {answer!r}; expected label {label}")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def take_turns(targets: dict[str, Target], rounds: int, seconds: float, folder: Path, connections: int) -> dict:
    runs: dict[str, list] = {key: [] for key in targets}
    order = list(targets)
    for round_ in range(rounds):
        for key in order[round_ % len(order) :] + order[: round_ % len(order)]:
            runs[key].append(load(targets[key], seconds, folder, connections))
    return runs


# -- the run -----------------------------------------------------------------------------------


def compare(models: dict, folder: Path, mlflow_python: str | None, options) -> dict:
    """Ours against the raw reference, bare Tornado and mlflow, at 8 connections and at 1."""
    results = {}
    for name in ("logreg", "forest"):
        model = models[name]
        servers: dict[str, Server] = {}
        try:
            servers["ours"] = ours(model, folder / f"ours-{name}.log")
            servers["raw"] = raw(model, folder / f"raw-{name}.log")
            if not options.only_ceiling:
                servers["bare"] = bare(model, folder / f"bare-{name}.log")
            targets = {key: Target(server.label, server) for key, server in servers.items()}
            if mlflow_python and not options.only_ceiling:
                servers["mlflow"] = mlflow_server(model, mlflow_python, folder, folder / f"mlflow-{name}.log")
                for form, body in mlflow_bodies(model["row"]).items():
                    targets[f"mlflow {form}"] = Target(
                        f"mlflow models serve, {form}", servers["mlflow"], "/invocations", body
                    )
                    targets[f"ours {form}"] = Target(
                        f"ours /invocations, {form}", servers["ours"], "/invocations", body
                    )
            for target in targets.values():
                check_answer(target, model["label"])
                load(target, 1, folder)  # warm up: first connections, caches, lazy imports
            runs = take_turns(targets, options.rounds, options.duration, folder, 8)
            # Latency at 1 connection takes turns too: one run each swung the p50 ratio by 0.1 on a busy machine.
            single = take_turns(
                {key: targets[key] for key in ("ours", "raw", "mlflow inputs") if key in targets},
                options.rounds,
                options.duration,
                folder,
                1,
            )
            results[name] = {
                "runs": {key: {"label": targets[key].label, "runs": r} for key, r in runs.items()},
                "one_connection": single,
                "ready_s": servers["ours"].ready_seconds,
                "ours_rss_mb": rss_mb(servers["ours"].process.pid),
            }
        finally:
            for server in servers.values():
                server.stop()
    return results


PEER_CONNECTIONS = 16


def peer_servers(model: dict, folder: Path, log) -> tuple[dict, dict]:
    """What starts each server of the comparison with the peers (a function of the round), and
    the peers that could not be installed, with why."""
    starters: dict = {
        "ours --optimize": lambda tag: ours(
            model, folder / f"opt-{tag}.log", label="ours --optimize (its ONNX form, /score)"
        ),
        "ours sklearn": lambda tag: ours(
            model, folder / f"skl-{tag}.log", label="ours, scikit-learn (/score)", form="sklearn"
        ),
    }
    skipped = {}
    for peer in peers.PEERS:
        try:
            python = peers.install(peer, log)
        except RuntimeError as exc:
            skipped[peer.label] = str(exc)
            continue
        starters[peer.name] = _peer_starter(peer, python, model, folder)
    return starters, skipped


def _peer_starter(peer, python: str, model: dict, folder: Path):
    def start(tag: str) -> Server:
        port = free_port()
        where = peers.prepare(peer, model["sklearn"] / "model.joblib", folder, port)
        env = {**os.environ, "PATH": str(Path(python).parent) + os.pathsep + os.environ.get("PATH", "")}
        env.pop("PYTHONPATH", None)
        return Server(
            peer.label,
            peer.command(python, where, port),
            port,
            peer.path,
            peer.body(model["row"]),
            folder / f"{peer.name}-{tag}.log",
            None,
            env=env,
            ready_path=peer.ready_path,
            cwd=where,
        )

    start.peer = peer
    return start


def against_peers(models: dict, folder: Path, options) -> dict:
    """Ours (ONNX form and scikit-learn) against KServe, MLServer, LitServe and BentoML serving the
    same scikit-learn logistic regression. Each round starts every server in turn alone on its
    core (start to ready, with nothing else running there), checks its answer, warms it up, loads
    it, and stops it: an idle server never takes CPU from the one measured."""
    model = models["logreg"]
    with open(folder / "peers-install.log", "a") as log:
        starters, skipped = peer_servers(model, folder, log)
    runs: dict[str, list] = {key: [] for key in starters}
    ready: dict[str, list] = {key: [] for key in starters}
    labels: dict[str, str] = {}
    order = list(starters)
    for round_ in range(options.rounds):
        for key in order[round_ % len(order) :] + order[: round_ % len(order)]:
            try:
                server = starters[key](f"{round_}")
            except RuntimeError as exc:  # a peer that installs but does not start: noted, not fatal
                last = [line for line in str(exc).splitlines()[1:] if line.strip()][-1:] or ["(empty log)"]
                skipped[key] = f"did not start; its log ends: {last[0][:200]}"
                runs.pop(key, None), ready.pop(key, None)
                order.remove(key)
                continue
            try:
                labels[key] = server.label
                ready[key].append(server.ready_seconds)
                target = Target(server.label, server)
                answer = requests.post(target.url, json=target.body, timeout=30).json()
                peer = getattr(starters[key], "peer", None)
                got = peer.label_of(answer) if peer else _our_label(answer)
                if got != model["label"]:
                    raise RuntimeError(f"{server.label} answered {answer!r}; expected label {model['label']}")
                load(target, 1, folder, PEER_CONNECTIONS)  # warm up
                runs[key].append(load(target, options.duration, folder, PEER_CONNECTIONS))
            finally:
                server.stop()
    return {"runs": runs, "ready_s": ready, "labels": labels, "skipped": skipped}


def _our_label(answer: dict) -> int:
    predictions = answer.get("predictions", answer)
    return int(predictions["label"][0] if isinstance(predictions, dict) else predictions[0])


def report_peers(data: dict, options, verdicts: list[str]) -> None:
    runs, ready = data["runs"], data["ready_s"]
    print(
        f"\nagainst the peers: the same scikit-learn logistic regression (20 features), single-row JSON, "
        f"wrk 1 thread x {PEER_CONNECTIONS} connections, {options.rounds} rounds of {options.duration:g} s, "
        "each server started alone in its turn\n"
    )
    print(f"{'server':50} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'ready s':>8}")
    for key, r in runs.items():
        if not r:
            continue
        print(
            f"{data['labels'][key]:50} {statistics.median(x['rps'] for x in r):9.0f} "
            f"{statistics.median(x['p50_ms'] for x in r):8.2f} {statistics.median(x['p99_ms'] for x in r):8.2f} "
            f"{sum(x['non_2xx'] for x in r):8d} {statistics.median(ready[key]):8.2f}"
        )
    for label, why in data["skipped"].items():
        verdicts.append(f"NOTE    {label} skipped: {why}")
    peer_keys = [k for k in runs if not k.startswith("ours") and runs[k]]
    if not peer_keys:
        verdicts.append("NOTE    no peer could be installed or started: nothing to compare with")
        return
    best = max(peer_keys, key=lambda k: statistics.median(x["rps"] for x in runs[k]))
    fastest = min(peer_keys, key=lambda k: statistics.median(ready[k]))
    for key, target in (("ours --optimize", "peers_optimize"), ("ours sklearn", "peers_sklearn")):
        ratio = _median_ratio(runs[key], runs[best])
        verdicts.append(
            _verdict(
                ratio >= TARGETS[target],
                f"{key} / best peer ({data['labels'][best]}) requests per second = {ratio:.1f}x "
                f"(target >= {TARGETS[target]:g}x)",
            )
        )
    peer_ready = statistics.median(ready[fastest])
    for key in ("ours --optimize", "ours sklearn"):
        share = statistics.median(ready[key]) / peer_ready
        text = (
            f"{key} start to ready = {statistics.median(ready[key]):.2f} s = {share:.2f} of the fastest "
            f"peer's ({data['labels'][fastest]}, {peer_ready:.2f} s)"
        )
        if key == "ours --optimize":  # the deployment --optimize makes; the other imports scikit-learn as peers do
            verdicts.append(
                _verdict(share <= TARGETS["peers_ready_share"], f"{text} (target <= {TARGETS['peers_ready_share']:g})")
            )
        else:
            verdicts.append(f"NOTE    {text}: importing scikit-learn (scipy, pandas) is most of it, for every server")


def batching(models: dict, folder: Path, options) -> dict:
    """Rows per second with adaptive batching on and off, at 1, 8 and 64 connections."""
    results = {}
    for name in ("logreg", "forest", "forest500"):
        model = models[name]
        servers = {}
        try:
            servers["off"] = ours(model, folder / f"off-{name}.log", label="batching off")
            servers["on"] = ours(model, folder / f"on-{name}.log", *BATCHING, label="batching on")
            targets = {key: Target(server.label, server) for key, server in servers.items()}
            for target in targets.values():
                check_answer(target, model["label"])
                load(target, 1, folder, 64)
            results[name] = {
                str(c): take_turns(targets, options.rounds, options.duration, folder, c) for c in BATCHING_CONNECTIONS
            }
        finally:
            for server in servers.values():
                server.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of each load run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="turns each server takes (default 3)")
    parser.add_argument("--mlflow-python", help="an interpreter with mlflow, if this one has none")
    parser.add_argument("--skip-batching", action="store_true", help="no adaptive batching runs")
    parser.add_argument("--skip-peers", action="store_true", help="no KServe, MLServer, LitServe, BentoML")
    parser.add_argument(
        "--only-peers", action="store_true", help="only ours (ONNX form and scikit-learn) against those peers"
    )
    parser.add_argument(
        "--only-ceiling", action="store_true", help="only ours against the raw uvloop+httptools reference"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk); nothing measured.")
        return 2
    if options.only_ceiling:
        options.skip_peers = options.skip_batching = True
        options.only_peers = False
    mlflow_python = None if options.only_ceiling else find_mlflow(options.mlflow_python)
    results: dict = {"duration_s": options.duration, "rounds": options.rounds}
    with tempfile.TemporaryDirectory(prefix="modelhub-bench-") as tmp:
        folder = Path(tmp)
        models = build_models(folder)
        if not (options.only_peers or options.only_ceiling):
            ready = []
            for attempt in range(3):  # start to ready, on its own (no load running)
                server = ours(models["logreg"], folder / f"ready-{attempt}.log")
                ready.append(server.ready_seconds)
                server.stop()
            results["ours_ready_s"] = ready
        if not options.only_peers:
            results["models"] = compare(models, folder, mlflow_python, options)
        if not (options.skip_peers and not options.only_peers):
            results["peers"] = against_peers(models, folder, options)
        if not (options.skip_batching or options.only_peers):
            results["batching"] = batching(models, folder, options)
    report(results, mlflow_python, options)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / ("serving-ceiling.json" if options.only_ceiling else "serving.json")).write_text(
        json.dumps(results, indent=2)
    )
    missed = [line for line in results["verdicts"] if line.startswith("MISSED")]
    return 1 if options.check and missed else 0


def _median_ratio(ours_runs: list, peer_runs: list) -> float:
    return statistics.median(o["rps"] / p["rps"] for o, p in zip(ours_runs, peer_runs))


def report(results: dict, mlflow_python: str | None, options) -> None:
    verdicts: list[str] = []
    if "peers" in results:
        report_peers(results["peers"], options, verdicts)
    if "models" not in results:
        results["verdicts"] = verdicts
        print("\n" + "\n".join(verdicts))
        return
    print(
        f"\nsingle-row JSON requests, wrk 1 thread x 8 keep-alive connections, {options.rounds} rounds "
        f"of {options.duration:g} s per server; servers 1 worker on one core, wrk on the other\n"
    )
    print(f"{'model':8} {'server':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, data in results["models"].items():
        runs = data["runs"]
        for key, target in runs.items():
            r = target["runs"]
            print(
                f"{name:8} {target['label']:40} {statistics.median(x['rps'] for x in r):9.0f} "
                f"{statistics.median(x['p50_ms'] for x in r):8.2f} {statistics.median(x['p99_ms'] for x in r):8.2f} "
                f"{sum(x['non_2xx'] for x in r):8d}"
            )
        ours_runs = runs["ours"]["runs"]
        ratio = _median_ratio(ours_runs, runs["raw"]["runs"])
        verdicts.append(
            _verdict(
                ratio >= TARGETS["raw"],
                f"{name}: ours / raw uvloop+httptools requests per second "
                f"= {ratio:.2f}x (target >= {TARGETS['raw']:g}x)",
            )
        )
        if "bare" in runs:
            verdicts.append(
                f"NOTE    {name}: ours / bare Tornado = {_median_ratio(ours_runs, runs['bare']['runs']):.2f}x"
            )
        for form in ("inputs", "dataframe_split"):
            if f"mlflow {form}" in runs:
                ratio = _median_ratio(runs[f"ours {form}"]["runs"], runs[f"mlflow {form}"]["runs"])
                verdicts.append(
                    _verdict(
                        ratio >= TARGETS["mlflow"],
                        f"{name}: ours / mlflow models serve, {form} = {ratio:.1f}x (target >= {TARGETS['mlflow']:g}x)",
                    )
                )
        single = data["one_connection"]  # runs by server, rounds taken in turns
        print(
            f"{name:8} {'at 1 connection (medians):':40} "
            + ", ".join(
                f"{key} p50 {statistics.median(x['p50_ms'] for x in r):.3f} ms p99 "
                f"{statistics.median(x['p99_ms'] for x in r):.3f} ms ({statistics.median(x['rps'] for x in r):.0f} req/s)"
                for key, r in single.items()
            )
        )
        p50 = statistics.median(o["p50_ms"] / r["p50_ms"] for o, r in zip(single["ours"], single["raw"]))
        verdicts.append(
            _verdict(
                p50 <= TARGETS["p50_vs_raw"],
                f"{name}: ours p50 at 1 connection = {p50:.2f}x the "
                f"raw reference's (target <= {TARGETS['p50_vs_raw']:g}x)",
            )
        )
        if name == "logreg":
            verdicts.append(
                _verdict(
                    data["ours_rss_mb"] <= TARGETS["rss_mb"],
                    f"{name}: ours resident memory per "
                    f"worker = {data['ours_rss_mb']:.0f} MB (target <= {TARGETS['rss_mb']:g} MB)",
                )
            )
    if "batching" in results:
        print(f"\nadaptive batching ({' '.join(BATCHING)}) against batching off: rows per second (1 row a request)\n")
        print(f"{'model':10} {'conns':>5} {'off':>9} {'on':>9} {'on/off':>7}")
        for name, by_connections in results["batching"].items():
            for connections, runs in by_connections.items():
                ratio = _median_ratio(runs["on"], runs["off"])
                print(
                    f"{name:10} {connections:>5} {statistics.median(r['rps'] for r in runs['off']):9.0f} "
                    f"{statistics.median(r['rps'] for r in runs['on']):9.0f} {ratio:7.2f}"
                )
                if name == "forest500" and connections == "64":
                    verdicts.append(
                        _verdict(
                            ratio >= TARGETS["batching_heavy_64"],
                            f"batching on {name} at 64 "
                            f"connections = {ratio:.2f}x off (target >= {TARGETS['batching_heavy_64']:g}x)",
                        )
                    )
                verdicts.append(
                    _verdict(
                        ratio >= TARGETS["batching_floor"],
                        f"batching on {name} at {connections} "
                        f"connections = {ratio:.2f}x off (target >= {TARGETS['batching_floor']:g}x)",
                    )
                )
    ready = results.get("ours_ready_s")
    if ready is None:  # --only-ceiling
        results["verdicts"] = verdicts
        print("\n" + "\n".join(verdicts))
        return
    verdicts.append(
        _verdict(
            max(ready) < TARGETS["ready_s"],
            f"ours process start to ready = "
            f"{statistics.median(ready):.2f} s median, {max(ready):.2f} s worst of {len(ready)} "
            f"(target < {TARGETS['ready_s']:g} s)",
        )
    )
    if mlflow_python is None:
        verdicts.append(
            "NOTE    mlflow is not installed: the comparison with `mlflow models serve` was skipped "
            "(pip install mlflow, or pass --mlflow-python)"
        )
    results["verdicts"] = verdicts
    print("\n" + "\n".join(verdicts))


def _verdict(ok: bool, text: str) -> str:
    return ("met     " if ok else "MISSED  ") + text


if __name__ == "__main__":
    sys.exit(main())
