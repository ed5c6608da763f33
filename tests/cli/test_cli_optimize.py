"""``jupyter modelhub deploy ... --optimize`` from a shell, on a real server: the flag the magic
has, its JSON result naming what serves, and its one-line refusal for a model without an ONNX form."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

JUPYTER = Path(sys.executable).parent / "jupyter"
X, y = make_classification(120, 6, random_state=2)


def cli(server, *args) -> subprocess.CompletedProcess:
    env = {
        **server.env,
        "MODELHUB_URL": server.url,
        "MODELHUB_TOKEN": server.token,
        "PATH": f"{JUPYTER.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        [str(JUPYTER), "modelhub", *map(str, args)], capture_output=True, text=True, env=env, timeout=300
    )


def test_deploy_optimize_serves_the_onnx_form_and_says_so_in_json(hub_server, tmp_path):
    client = hub_server.client()
    client.register("cli-opt", LogisticRegression().fit(X, y), sample=X[:10])
    run = cli(hub_server, "deploy", "cli-opt-ep", "cli-opt:1", "--optimize", "--json")
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    deployment = json.loads(run.stdout)["deployments"][0]
    assert deployment["serves"] == "cli-opt:2" and deployment["optimized_from"] == "cli-opt:1"
    assert deployment["optimization"]["converted"] is True
    client.undeploy("cli-opt-ep")

    (tmp_path / "weights.bin").write_bytes(b"\0" * 8)
    client.register("cli-custom", tmp_path / "weights.bin", flavor="custom")
    run = cli(hub_server, "deploy", "cli-custom-ep", "cli-custom:1", "--optimize")
    lines = run.stderr.splitlines()
    assert run.returncode != 0 and len(lines) == 1 and "'custom' model. Deploy it without --optimize" in lines[0]
