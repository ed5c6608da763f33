"""Versions on a bucket vs on the local folder, through real servers (issue 20).

Starts an S3 API on 127.0.0.1 (moto's server mode; ``--s3-url`` with the AWS_* keys of the
environment for a real MinIO or bucket), then Jupyter servers with the extension, each with a
root of its own, and times over HTTP, for a model of ``--mb`` MB (random bytes, so nothing
compresses; a custom-flavor model whose entry script reads the file):

- registration (upload + register) on the local folder and on the bucket;
- first deploy of that version on a *second* server that shares only the bucket and the database
  (its cache is empty: the files come from the bucket), vs the first deploy on the local server;
- a cache-hit deploy (another endpoint of the same version on the second server) vs the local one;
- batch throughput: ``--rows`` (1M) rows of Parquet scored by a job on 2 Dask workers, read from
  the bucket (and written back to it) vs from a local folder (and written to one), on the same
  server, with the same model and settings, ``--rounds`` jobs of each taken in turns: rows per
  second of the whole job (its wall time), and of the workers once their model is loaded.

    python bench/storage.py [--mb 100] [--rows 1000000] [--only batch] [--s3-url http://127.0.0.1:9000]

Targets (issue 20): registration and first deploy on the bucket at most 1.5x the local folder;
a cache-hit deploy at most 1.1x; batch throughput from the bucket at least 0.8x the local folder's. moto keeps objects in memory in one Python process: a real
store is usually faster for large files (it writes parts in parallel).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import requests

KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_DEFAULT_REGION": "us-east-1"}
SCORE = textwrap.dedent("""
    import os
    size = None
    def init():
        global size
        size = os.path.getsize(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "weights.bin"))
    def run(raw_data):
        return {"size": size}
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, what: str, process: subprocess.Popen, headers: dict | None = None) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} exited")
        try:
            if requests.get(url, headers=headers, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    sys.exit(f"{what} did not start")


class Server:
    """A jupyter server with the extension, on a root of its own."""

    def __init__(self, folder: Path, env: dict, *args: str):
        self.port, self.token = free_port(), secrets.token_hex(16)
        folder.mkdir(parents=True)
        self.log = open(folder / "server.log", "wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--no-browser",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={folder}",
                f"--ModelHubApp.root_dir={folder / 'hub'}",
                "--ServerApp.allow_root=True",
                *args,
            ],
            env={**os.environ, "JUPYTER_CONFIG_DIR": str(folder / "config"), "JUPYTER_DATA_DIR": str(folder), **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}/"
        self.script = folder / "score.py"  # entry scripts must be under the server's root
        self.script.write_text(SCORE)
        self.deployed: list[str] = []
        wait_for(self.url + "modelhub/api/info", "jupyter server", self.process, self.headers)

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def client(self):
        from jupyter_modelhub.client import ModelHubClient

        return ModelHubClient(self.url, self.token)

    def deploy(self, name: str, ref: str):
        self.deployed.append(name)
        return self.client().deploy(name, ref, entry_script=str(self.script))

    def stop(self) -> None:
        # only its own: with a shared database, another server's undeploy would leave the host running
        for name in self.deployed:
            self.client().undeploy(name)
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


def seconds(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run_job(server: Server, body: dict) -> dict:
    response = requests.post(server.url + "modelhub/api/jobs", json=body, headers=server.headers, timeout=120)
    if response.status_code != 202:
        sys.exit(f"batch job refused: {response.text}")
    location = server.url + f"modelhub/api/jobs/{response.json()['id']}"
    while True:
        job = requests.get(location, headers=server.headers, timeout=30).json()
        if not job["active"]:
            if job["status"] != "succeeded":
                sys.exit(f"batch job {job['id']} {job['status']}: {job['error']}")
            return job
        time.sleep(0.2)


def batch_throughput(server: Server, work: Path, bucket: str, fs, rows: int, rounds: int) -> dict:
    """Rows per second of jobs over ``rows`` rows of Parquet (20 files), local folder vs bucket,
    ``rounds`` of each: (steady rate, whole job) per job."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    features = 8
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, features))
    server.client().register("batch-lr", LogisticRegression().fit(X, X[:, 0] > 0), sample=X[:5])
    data = work / "bucket-a" / "batch-data"
    data.mkdir()
    files = 20
    for i in range(files):
        frame = pd.DataFrame(rng.normal(size=(rows // files, features)), columns=[f"f{j}" for j in range(features)])
        frame.to_parquet(data / f"part-{i:03d}.parquet")
        fs.put_file(str(data / f"part-{i:03d}.parquet"), f"{bucket}/batch-data/part-{i:03d}.parquet")
    settings = {"workers": 2, "mini_batch_size": 1, "output_file_name": "predictions.parquet"}
    run_job(server, {"model": "batch-lr:1", "inputs": [str(data / "part-000.parquet")], "settings": settings})  # warm
    results = {"local": [], "bucket": []}
    for round_ in range(rounds):  # in turns, so load from elsewhere falls on both alike
        runs = (
            ("local", str(data), str(work / "bucket-a" / f"batch-out-{round_}")),
            ("bucket", f"s3://{bucket}/batch-data/", f"s3://{bucket}/batch-out-{round_}/"),
        )
        for label, inputs, output in runs if round_ % 2 == 0 else runs[::-1]:
            job = run_job(server, {"model": "batch-lr:1", "inputs": [inputs], "output": output, "settings": settings})
            summary = job["summary"]
            results[label].append((steady_rate(job["mini_batches"]), summary["rows_out"] / summary["seconds"]))
    return results


def steady_rate(records: list[dict]) -> float:
    """Rows per second of the job's workers together once each has loaded the model: every
    mini-batch but each worker's first (which loads it), rows over the seconds its worker spent."""
    seen, rows, seconds = set(), 0, 0.0
    for record in records:
        if record["worker"] not in seen:
            seen.add(record["worker"])
            continue
        rows += record["rows_out"]
        seconds += record["seconds"]
    return rows / seconds * len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the batch throughput measurement")
    parser.add_argument("--rounds", type=int, default=3, help="batch jobs of each kind, taken in turns")
    parser.add_argument("--only", choices=["batch"], help="measure only batch throughput")
    parser.add_argument("--s3-url", help="a real S3 endpoint (keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="modelhub-bench-storage-"))
    moto = None
    keys = dict(KEYS)
    if args.s3_url:
        endpoint = args.s3_url
        keys.update({k: os.environ[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if k in os.environ})
    else:
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **keys},
        )
        wait_for(endpoint + "/moto-api/", "moto", moto)
    import boto3

    bucket = f"modelhub-bench-{secrets.token_hex(4)}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)
    env = {**keys, "AWS_ENDPOINT_URL": endpoint}
    uri = f"s3://{bucket}/bench"

    model = work / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(os.urandom(args.mb * 2**20))

    database = f"sqlite:///{work / 'shared.db'}"
    local = Server(work / "local", {})
    first = Server(work / "bucket-a", env, f"--ModelHubApp.artifact_uri={uri}", f"--ModelHubApp.db_url={database}")
    second = Server(work / "bucket-b", env, f"--ModelHubApp.artifact_uri={uri}", f"--ModelHubApp.db_url={database}")
    try:
        tiny = work / "tiny" / "model"
        tiny.mkdir(parents=True)
        (tiny / "weights.bin").write_bytes(b"warm")
        for server in (local, first, second):  # imports, connections, the first endpoint host: not timed
            server.client().register("warm", [str(tiny)], new_version=True)
            server.deploy(f"warm-{server.port}", "warm")
        from jupyter_modelhub.store.artifacts.s3 import DEFAULT_PART_SIZE, open_filesystem

        fs = open_filesystem(
            {"endpoint_url": endpoint, "key": keys["AWS_ACCESS_KEY_ID"], "secret": keys["AWS_SECRET_ACCESS_KEY"]}
        )
        batch = batch_throughput(first, work, bucket, fs, args.rows, args.rounds)
        if args.only == "batch":
            print_batch(batch, args.rows)
            return
        results = {}
        for label, server in (("local", local), ("bucket", first)):
            results[f"register {label}"] = seconds(lambda: server.client().register("big", [str(model)]))

        def deploy(server: Server, name: str):
            return lambda: server.deploy(name, "big:1")

        results["first deploy local"] = seconds(deploy(local, "big-1"))
        results["first deploy bucket"] = seconds(deploy(second, "big-1"))  # B never had the files
        results["cache-hit deploy local"] = seconds(deploy(local, "big-2"))
        results["cache-hit deploy bucket"] = seconds(deploy(second, "big-2"))

        # the floor: the same bytes sent and read by s3fs alone, with nothing of ours around them
        weights = str(model / "weights.bin")
        put = seconds(lambda: fs.put_file(weights, f"{bucket}/bare/weights.bin", chunksize=DEFAULT_PART_SIZE))
        get = seconds(lambda: fs.get_file(f"{bucket}/bare/weights.bin", str(work / "back.bin")))

        print(f"{args.mb} MB model; S3 at {endpoint}{' (moto)' if moto else ''}")
        print(f"  bare s3fs: put {put:.2f} s, get {get:.2f} s (what the store itself costs)")
        for what in ("register", "first deploy", "cache-hit deploy"):
            on_local, on_bucket = results[f"{what} local"], results[f"{what} bucket"]
            print(
                f"  {what:<17} local {on_local:6.2f} s   bucket {on_bucket:6.2f} s   ratio {on_bucket / on_local:5.2f}x"
            )
        floor = results["register local"] + put
        print(
            f"  register on the bucket vs its floor (local registration + bare s3fs put, {floor:.2f} s): "
            f"{results['register bucket'] / floor:5.2f}x"
        )
        print_batch(batch, args.rows)
    finally:
        for server in (local, first, second):
            server.stop()
        if moto is not None:
            moto.terminate()
            moto.wait(10)


def print_batch(batch: dict, rows: int) -> None:
    """Medians of each kind's jobs: the steady rate (models loaded) and the whole job (its wall time)."""
    import statistics

    def median(label: str, which: int) -> float:
        return statistics.median(result[which] for result in batch[label])

    for which, what in ((1, "whole job (wall time, model loads included)"), (0, "steady (models loaded)")):
        local, bucket = median("local", which), median("bucket", which)
        print(
            f"  batch {rows:,} rows of Parquet, 2 workers, {what}: local {local:,.0f} rows/s   "
            f"bucket {bucket:,.0f} rows/s   ratio {bucket / local:5.2f}x (target >= 0.8x)"
        )


if __name__ == "__main__":
    main()
