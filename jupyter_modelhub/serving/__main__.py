"""``python -m jupyter_modelhub.serving``: read the options, bind the port, run the workers.

Exit codes: 0 after a clean stop (SIGTERM or SIGINT), 1 when the model cannot be loaded or the
port cannot be bound, 2 for wrong options.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

FLAVORS = ("onnx", "sklearn", "mlflow", "custom")  # custom: the registry's word for "needs an entry script"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m jupyter_modelhub.serving",
        description="Serve one model over HTTP: Azure ML (/score), MLflow (/invocations) and the Open "
        "Inference Protocol (/v2), with /metrics and /openapi.json. Prints "
        "'MODELHUB_READY port=P' on stdout once the model is loaded and the port listens.",
    )
    p.add_argument("--model-dir", type=Path, required=True, help="the model version's files")
    p.add_argument(
        "--entry-script",
        type=Path,
        help="a scoring script with init() and run(raw_data), as in Azure ML; "
        "without one, a built-in scorer for the model's flavor",
    )
    p.add_argument("--flavor", choices=FLAVORS, help="the built-in scorer (default: told by the files)")
    p.add_argument(
        "--signature-file",
        type=Path,
        help='JSON {"inputs": [{"name", "dtype", "shape"}], "outputs": [...]}; requests are checked against it',
    )
    p.add_argument("--port", type=int, default=5001, help="0: any free port, printed in the ready line (default 5001)")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--grpc-port",
        type=int,
        default=_env_int("MODELHUB_GRPC_PORT"),
        help="also serve the Open Inference Protocol over gRPC on this port (0: any free port, printed in the "
        "ready line as grpc_port=G); also MODELHUB_GRPC_PORT (default: no gRPC)",
    )
    p.add_argument("--workers", type=int, default=1, help="processes sharing the port (default 1)")
    p.add_argument(
        "--gpu",
        action="store_true",
        help="serve an ONNX model on onnxruntime's CUDA provider, failing if there is none (never on the "
        "CPU instead); also MODELHUB_GPU=1",
    )
    p.add_argument(
        "--threads",
        type=int,
        help="onnxruntime and BLAS threads per worker (default: the usable cores divided by the workers)",
    )
    p.add_argument("--name", default="model", help="the model's name in /v2 paths and metadata (default 'model')")
    p.add_argument("--version", help="the model's version in /v2 paths and metadata")
    p.add_argument(
        "--max-batch-size",
        type=int,
        default=0,
        help="score concurrent requests together, up to this many rows (default 0: off)",
    )
    p.add_argument(
        "--max-batch-wait-ms",
        type=float,
        default=2.0,
        help="how long a request waits for others to batch with (default 2)",
    )
    p.add_argument(
        "--repository",
        type=Path,
        help='many versions in this one runtime: JSON {"models": [{"name", "version", "model_dir", "flavor", '
        '"signature"}]}; each loads on its first request, the least recently used unload to stay within '
        "--memory-budget; served at /v2/models/NAME[/versions/V]/... and /v2/repository/... (--model-dir is then "
        "one of their folders)",
    )
    p.add_argument(
        "--memory-budget",
        help="with --repository: memory the loaded versions may take, per worker, e.g. 512M or 1G (default 1G)",
    )
    p.add_argument("--max-request-bytes", type=int, default=64 * 2**20, help="larger bodies get 413 (default 64 MiB)")
    p.add_argument(
        "--request-timeout",
        type=float,
        default=60.0,
        help="seconds to receive a body and for run() to return (504), and the shutdown grace (default 60)",
    )
    p.add_argument(
        "--auth-key",
        help="require 'Authorization: Bearer KEY'; prefer the environment variable "
        "MODELHUB_AUTH_KEY, since arguments show in ps",
    )
    return p


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = parser()
    options = p.parse_args(argv)
    if not options.model_dir.is_dir():
        p.error(f"--model-dir {options.model_dir} is not a folder")
    if options.entry_script is not None and not options.entry_script.is_file():
        p.error(f"--entry-script {options.entry_script} is not a file")
    if options.flavor == "custom" and options.entry_script is None:
        p.error("a custom model needs --entry-script (a score.py with init() and run(raw_data))")
    if options.signature_file is not None and not options.signature_file.is_file():
        p.error(f"--signature-file {options.signature_file} is not a file")
    for name in ("workers", "max_request_bytes"):
        if getattr(options, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if options.grpc_port is not None and not 0 <= options.grpc_port <= 65535:
        p.error("--grpc-port is a port number, 0 to 65535 (0: any free port)")
    if options.max_batch_size < 0 or options.max_batch_wait_ms < 0 or options.request_timeout <= 0:
        p.error("--max-batch-size and --max-batch-wait-ms cannot be negative; --request-timeout must be positive")
    if options.memory_budget is not None and options.repository is None:
        p.error("--memory-budget applies with --repository (many versions in one runtime)")
    if options.repository is not None:
        from .repository import parse_size, read

        try:
            options.repository, budget = read(options.repository)
            options.memory_budget = parse_size(options.memory_budget) if options.memory_budget else budget
        except ValueError as exc:
            p.error(str(exc))
        if options.entry_script is not None or options.max_batch_size:
            p.error("--repository serves built-in scorers one request at a time: no --entry-script, no batching")
    options.model_dir = options.model_dir.resolve()
    options.entry_script = options.entry_script.resolve() if options.entry_script else None
    options.threads = options.threads or max(1, _usable_cores() // options.workers)
    if options.gpu:
        os.environ["MODELHUB_GPU"] = "1"  # read where the scorer loads, in every worker
    # A key in the environment stays out of ps; take it out of the environment too, so entry
    # scripts and the processes they start do not see it. --auth-key, if given, wins.
    env_key = os.environ.pop("MODELHUB_AUTH_KEY", None)
    options.auth_key = options.auth_key or env_key or None
    return options


def _usable_cores() -> int:
    """The cores this process may run on (taskset, container cpusets), not all of the host's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    # Before numpy is imported: its BLAS reads these once.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(options.threads))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from . import server, workers

    options.signature = server.read_signature(options.signature_file)
    return workers.run(options)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Without waiting for an entry script's run() that never returned: its thread cannot be stopped.
    os._exit(code)
