"""Registry latency through REST with 10,000 versions in the registry.

Fills a fresh SQLite registry with 100 models x 100 versions (tags on each) through the ORM,
starts a real `jupyter server` with the extension on it, and times over keep-alive HTTP:
register (upload of a 1 MB model + register), get a version, tag search, list models. A bare
reference is timed in the same run: jupyter_server's own authenticated `GET /api/status`, so the
ratio shows what the registry adds on top of the server's request handling.

    python bench/registry.py [--versions 10000] [--db-url URL]

Target (issue 2): median of tag search and get under 10 ms on SQLite.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from jupyter_modelhub.store.artifacts import ArtifactStore
from jupyter_modelhub.store.database import Database
from jupyter_modelhub.store.orm import Model, ModelVersion, Tag

TEAMS = [f"t{i}" for i in range(20)]
STAGES = ["dev", "staging", "prod"]


def fill(db_url: str, root: Path, versions: int) -> None:
    """Insert models and versions directly (the REST path is timed separately below)."""
    database = Database(db_url)
    store = ArtifactStore(root)
    folder = store.artifacts / "seed" / "shared" / "files"
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"x")
    files = [
        {"path": "model.onnx", "size": 1, "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}
    ]
    per_model = 100
    rng = random.Random(0)
    with database.read() as session:
        for m in range(versions // per_model):
            model = Model(name=f"model-{m:04d}")
            session.add(model)
            session.flush()
            for v in range(1, per_model + 1):
                session.add(
                    ModelVersion(
                        model_id=model.id,
                        version=v,
                        flavor=rng.choice(["sklearn", "onnx"]),
                        content_hash=f"{m}-{v}",
                        artifact_dir="seed/shared",
                        size=1,
                        files=files,
                        properties={"auc": rng.random()},
                        tags=[
                            Tag(key="team", value=rng.choice(TEAMS)),
                            Tag(key="stage", value=rng.choice(STAGES)),
                            Tag(key="run", value=str(v)),
                        ],
                    )
                )
        session.commit()
    database.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up: first-call imports and connection set-up are not what is measured
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--db-url")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="modelhub-bench-"))
    db_url = args.db_url or f"sqlite:///{work}/hub/registry.db"
    started = time.perf_counter()
    fill(db_url, work / "hub", args.versions)
    print(f"filled {args.versions} versions in {time.perf_counter() - started:.1f} s ({db_url.split(':')[0]})")

    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(work / "runtime"), "JUPYTER_CONFIG_DIR": str(work / "config")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--allow-root",
            f"--IdentityProvider.token={token}",
            f"--ModelHubApp.root_dir={work / 'hub'}",
            f"--ModelHubApp.db_url={db_url}",
            "--log-level=WARN",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    http = requests.Session()
    http.headers["Authorization"] = f"token {token}"
    base = f"http://127.0.0.1:{port}/"
    api = base + "modelhub/api/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http.get(api + "info", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.1)

        model_file = work / "model.bin"

        def register():
            model_file.write_bytes(os.urandom(1024 * 1024))
            from jupyter_modelhub.client import ModelHubClient

            ModelHubClient(base, token).register("bench-register", str(model_file))

        results = {
            "bare GET /api/status": timed(lambda: http.get(base + "api/status").raise_for_status(), 300),
            "get version": timed(
                lambda: http.get(
                    api + f"models/model-{random.randrange(100):04d}/versions/{random.randrange(1, 101)}"
                ).raise_for_status(),
                300,
            ),
            "tag search (team=.. stage=prod)": timed(
                lambda: http.get(
                    api + "models", params={"filter": f"team={random.choice(TEAMS)} stage=prod"}
                ).raise_for_status(),
                300,
            ),
            "list models (page of 50)": timed(lambda: http.get(api + "models").raise_for_status(), 300),
            "search versions (page of 50)": timed(
                lambda: http.get(api + "versions", params={"filter": "stage=prod"}).raise_for_status(), 100
            ),
            "register 1 MB (upload + register)": timed(register, 30),
        }
    finally:
        server.terminate()
        server.wait(20)

    bare = statistics.median(results["bare GET /api/status"])
    print(f"\n{'operation':<36} {'median ms':>10} {'p95 ms':>8} {'x bare':>7}")
    for name, samples in results.items():
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1]
        print(f"{name:<36} {median:>10.2f} {p95:>8.2f} {median / bare:>7.1f}")
    for name in ("get version", "tag search (team=.. stage=prod)"):
        verdict = "OK" if statistics.median(results[name]) < 10 else "OVER TARGET"
        print(f"target: {name} median < 10 ms: {verdict}")


if __name__ == "__main__":
    main()
