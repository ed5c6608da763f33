"""KServe's own gRPC client (``kserve.InferenceGRPCClient``), run from a virtual environment of its own.

kserve pins protobuf, pandas and grpcio-tools to versions other than this project's, so it
cannot share the test environment: it is installed once into ``/tmp/modelhub-kserve-<version>``
(or the interpreter ``MODELHUB_TEST_KSERVE_PYTHON`` names), and :func:`call_kserve` runs a short
script there that calls an endpoint the way a KServe user would and prints what it got as JSON.
Tests skip, saying why, when kserve cannot be installed (and fail in CI).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from .components import require

KSERVE = "kserve==0.21.0"
FOLDER = Path("/tmp") / f"modelhub-{KSERVE.replace('==', '-')}"

SCRIPT = textwrap.dedent("""
    import asyncio, json, sys

    import numpy as np
    from kserve import InferenceGRPCClient, InferInput, InferRequest

    async def main(url, key, model, rows, version):
        client = InferenceGRPCClient(url, retries=0, timeout=30)
        auth = [("authorization", "Bearer " + key)]
        found = {
            "live": await client.is_server_live(),
            "ready": await client.is_server_ready(),
            "model_ready": await client.is_model_ready(model, headers=auth),
        }
        x = np.asarray(rows, dtype=np.float64)
        given = InferInput("input", list(x.shape), "FP64")
        given.set_data_from_numpy(x)
        answer = await client.infer(InferRequest(model, [given], request_id="k-1", model_version=version), headers=auth)
        found["id"] = answer.id
        found["model_version"] = answer.model_version
        found["outputs"] = {o.name: o.as_numpy().tolist() for o in answer.outputs}
        try:
            await client.infer(InferRequest(model, [given]), headers=[("authorization", "Bearer wrong")])
        except Exception as error:  # grpc's AioRpcError, as the client re-raises it
            found["wrong_key"] = [error.code().name, error.details()]
        await client.close()
        print(json.dumps(found))

    asyncio.run(main(*json.loads(sys.argv[1])))
""")


def kserve_python() -> str:
    """An interpreter with kserve's client: installed once per machine, under a lock."""
    given = os.environ.get("MODELHUB_TEST_KSERVE_PYTHON")
    if given:
        return given
    python = FOLDER / "bin" / "python"
    ready = FOLDER / ".ready"
    if ready.exists():
        return str(python)
    with open(f"{FOLDER}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            try:
                subprocess.run([sys.executable, "-m", "venv", "--clear", str(FOLDER)], check=True, capture_output=True)
                subprocess.run(
                    [str(python), "-m", "pip", "install", "--quiet", KSERVE],
                    check=True,
                    capture_output=True,
                    timeout=900,
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                output = getattr(exc, "stderr", b"") or b""
                require(False, f"cannot install {KSERVE} into {FOLDER}: {output.decode(errors='replace')[-300:]}")
            ready.write_text(KSERVE)
    return str(python)


def call_kserve(url: str, key: str, model: str, rows: list, version: str | None = None) -> dict:
    """What KServe's client sees calling ``url`` (host:port): health, model readiness, one inference
    and, under ``wrong_key``, the status code and message of a call with a wrong key."""
    done = subprocess.run(
        [kserve_python(), "-c", SCRIPT, json.dumps([url, key, model, rows, version])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
