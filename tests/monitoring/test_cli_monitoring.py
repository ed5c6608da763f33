"""``jupyter modelhub reference`` and ``monitor`` run as a user runs them (the real ``jupyter``
command) against a real server: data files in, the profile and the report out (text or JSON),
and a one-line error with a usage exit code for a bad command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from jupyter_modelhub.client import connect

JUPYTER = Path(sys.executable).with_name("jupyter")


def cli(server, *args, cwd) -> subprocess.CompletedProcess:
    env = {
        **server.env,
        "MODELHUB_URL": server.url,
        "MODELHUB_TOKEN": server.token,
        "PATH": f"{JUPYTER.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return subprocess.run(
        [str(JUPYTER), "modelhub", *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=180
    )


def test_reference_and_monitor_from_files(hub_server, tmp_path):
    rng = np.random.default_rng(5)
    train = pd.DataFrame({"a": rng.normal(size=1000), "b": rng.normal(size=1000), "c": rng.choice(["x", "y"], 1000)})
    (tmp_path / "m.onnx").write_bytes(b"weights")
    hub = connect(hub_server.url, hub_server.token)
    hub.register("clifiles", str(tmp_path / "m.onnx"), sample=train.head(5))  # 5 rows: no profile yet
    train.to_parquet(tmp_path / "train.parquet", index=False)
    shifted = train.sample(600, random_state=1).assign(b=lambda f: f["b"] + 2)
    shifted.to_csv(tmp_path / "new.csv", index=False)

    made = cli(hub_server, "reference", "clifiles:1", "train.parquet", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Reference profile of clifiles:1: 1,000 rows from train.parquet" in made.stdout

    report = cli(hub_server, "monitor", "--data", "new.csv", "--against", "clifiles:1", "--json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    body = json.loads(report.stdout)
    assert body["drifted"] == ["b"] and [f["name"] for f in body["features"]] == ["a", "b", "c"]

    text = cli(hub_server, "monitor", "--data", "new.csv", "--baseline", "train.parquet", cwd=tmp_path)
    assert text.returncode == 0 and "1 of 3 features drifted (b)" in text.stdout, text.stderr

    bad = cli(hub_server, "monitor", "--data", "new.csv", cwd=tmp_path)
    assert bad.returncode == 2 and "one of --against REF or --baseline FILE" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    wrong = cli(
        hub_server, "monitor", "--data", "new.csv", "--against", "clifiles:1", "--threshold", "psi=x", cwd=tmp_path
    )
    assert wrong.returncode == 2 and "the value is a number" in wrong.stderr, wrong.stderr
