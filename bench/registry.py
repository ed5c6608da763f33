"""Registry latency through REST at 1,000 and 100,000 versions, on SQLite and PostgreSQL, against
the server's own floor; and registration against a bare upload and against ``mlflow server``.

For each database and size, a registry is filled directly (models of 100 versions, three tags
each, an alias ``production`` on each model), and two real `jupyter server`s with the extension
are started on it: one that computes every answer (``read_cache_max_bytes = 0``) and one as
shipped, whose repeated reads are answered from memory (``api.read_cache``). Each is timed over
keep-alive HTTP against jupyter_server's own authenticated ``GET /api/status`` on the same server
in the same run, so a ratio shows what the registry adds to the server's own request handling.

Registration: ``ModelHubClient.register`` of 1 MB (the upload and the registration) against the
same bytes sent to a bare streaming upload handler (tornado, writing to a file), and against
``mlflow server``'s create of a model version plus the artifact upload its users also make.

    python bench/registry.py [--versions 100000] [--small 1000] [--backends sqlite,postgresql]
                             [--mlflow-python .venv-mlflow/bin/python]

Targets (issue 25): get a version and resolve an alias at most 1.5x the bare status; tag search
and listings at most 2.5x; at 100,000 versions at most 1.3x the figure at 1,000; registering
at most 2x the bare upload and at least 5x faster than mlflow's create and upload.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import requests
from hub_server import HubServer
from processes import free_port
from sqlalchemy import insert, select

from jupyter_modelhub.store.database import Database
from jupyter_modelhub.store.orm import Alias, Model, ModelVersion, Tag

ROOT = Path(__file__).resolve().parent.parent
TEAMS = [f"t{i}" for i in range(20)]
STAGES = ["dev", "staging", "prod"]
PER_MODEL = 100
FILES = [
    {"path": "model.onnx", "size": 1, "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}
]
READS = {  # name -> (target, kind): the kind says which target applies
    "get a version": "keyed",
    "resolve an alias": "keyed",
    "tag search (team=.. stage=prod)": "listing",
    "list models (page of 50)": "listing",
    "search versions (page of 50)": "listing",
}
TARGETS = {"keyed": 1.5, "listing": 2.5}
GROWTH = 1.3


def fill(db_url: str, versions: int) -> None:
    """Insert models, versions, tags and aliases directly (the REST path is what is timed)."""
    database = Database(db_url)
    rng = random.Random(0)
    models = max(1, versions // PER_MODEL)
    start = datetime(2026, 1, 1)
    with database.read() as session:
        session.execute(
            insert(Model),
            [{"name": f"model-{m:05d}", "created_time": start, "updated_time": start} for m in range(models)],
        )
        ids = dict(session.execute(select(Model.name, Model.id)).all())
        rows = []
        for m in range(models):
            for v in range(1, PER_MODEL + 1):
                rows.append(
                    {
                        "model_id": ids[f"model-{m:05d}"],
                        "version": v,
                        "flavor": rng.choice(["sklearn", "onnx"]),
                        "description": "",
                        "content_hash": f"{m}-{v}",
                        "artifact_dir": "seed/shared",
                        "size": 1,
                        "files": FILES,
                        "properties": {"auc": rng.random()},
                        "created_time": start + timedelta(seconds=m * PER_MODEL + v),
                        "created_by": "",
                        "archived": False,
                    }
                )
        for chunk in range(0, len(rows), 5000):
            session.execute(insert(ModelVersion), rows[chunk : chunk + 5000])
        version_ids = session.execute(select(ModelVersion.id, ModelVersion.model_id, ModelVersion.version)).all()
        tags = []
        for version_id, _, v in version_ids:
            tags += [
                {"version_id": version_id, "key": "team", "value": rng.choice(TEAMS)},
                {"version_id": version_id, "key": "stage", "value": rng.choice(STAGES)},
                {"version_id": version_id, "key": "run", "value": str(v)},
            ]
        for chunk in range(0, len(tags), 15000):
            session.execute(insert(Tag), tags[chunk : chunk + 15000])
        session.execute(
            insert(Alias),
            [
                {"model_id": model_id, "alias": "production", "version_id": version_id}
                for version_id, model_id, v in version_ids
                if v == PER_MODEL // 2
            ],
        )
        session.commit()
    if database.engine.dialect.name == "postgresql":  # its statistics, as autovacuum keeps them on a live server
        with database.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    database.dispose()


def wait_for(url: str, session: requests.Session, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if session.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start")
        time.sleep(0.1)


def timed(urls, http: requests.Session) -> list[float]:
    """Milliseconds of each GET (each must succeed)."""
    samples = []
    for url in urls:
        start = time.perf_counter()
        response = http.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.text[:200]}")
    return samples


def read_urls(api: str, versions: int, count: int, rng: random.Random) -> dict[str, list[str]]:
    """``count`` URLs for each read: random versions, models and teams."""
    models = max(1, versions // PER_MODEL)
    refs = [rng.randrange(models * PER_MODEL) for _ in range(count)]
    return {
        "get a version": [api + f"models/model-{r // PER_MODEL:05d}/versions/{r % PER_MODEL + 1}" for r in refs],
        "resolve an alias": [api + f"models/model-{rng.randrange(models):05d}/versions/@production" for _ in refs],
        "tag search (team=.. stage=prod)": [
            api + f"models?filter=team%3D{rng.choice(TEAMS)}+stage%3Dprod" for _ in refs
        ],
        "list models (page of 50)": [api + "models"] * count,
        "search versions (page of 50)": [api + "versions?filter=stage%3Dprod"] * count,
    }


def measure_reads(work: Path, db_url: str, versions: int, count: int) -> dict:
    """Median milliseconds of each read (computed and remembered) and of the bare status."""
    out: dict[str, dict[str, float]] = {}
    rng = random.Random(versions)
    computed = ("--ModelHubApp.read_cache_max_bytes=0",)
    with HubServer(work / "computed", f"--ModelHubApp.db_url={db_url}", *computed) as server:
        base, api, http = server.base, server.api, server.session
        urls = read_urls(api, versions, count, rng)
        timed([api + "models/model-00000/versions/1"] * 20, http)  # warm-up: imports, connections
        bare = []
        for name, those in urls.items():
            bare += timed([base + "api/status"] * 50, http)  # in turns with the reads
            out[name] = {"computed": statistics.median(timed(those, http))}
        out["bare"] = {"computed": statistics.median(bare)}
    with HubServer(work / "remembered", f"--ModelHubApp.db_url={db_url}") as server:
        base, api, http = server.base, server.api, server.session
        bare = timed([base + "api/status"] * 300, http)
        out["bare"]["remembered"] = statistics.median(bare)
        for name, those in read_urls(api, versions, 20, rng).items():
            timed(those, http)  # the first reads are computed and remembered
            out[name]["remembered"] = statistics.median(timed(those * 10, http))
    return out


# -- registering ------------------------------------------------------------------------------------

BARE_UPLOAD = """
import sys, tempfile, os
from tornado import web, ioloop
@web.stream_request_body
class Upload(web.RequestHandler):
    def prepare(self):
        self.file = tempfile.NamedTemporaryFile(dir=sys.argv[2], delete=False)
    def data_received(self, chunk):
        self.file.write(chunk)
    def put(self):
        self.file.close()
        self.set_status(201)
        self.finish({"size": os.path.getsize(self.file.name)})
web.Application([(r"/upload", Upload)]).listen(int(sys.argv[1]), "127.0.0.1")
ioloop.IOLoop.current().start()
"""


def measure_registration(work: Path, mlflow_python: str | None, rounds: int) -> dict:
    payload = os.urandom(1024 * 1024)
    model_file = work / "model.bin"
    out = {}
    db_url = f"sqlite:///{work / 'register' / 'hub' / 'registry.db'}"
    with HubServer(work / "register", f"--ModelHubApp.db_url={db_url}") as server:
        client = server.client()

        def register():
            model_file.write_bytes(os.urandom(16) + payload)  # new content: a new version each time
            client.register("bench-register", str(model_file))

        register()
        out["ours"] = statistics.median(_times(register, rounds))
    port = free_port()
    (work / "bare").mkdir(exist_ok=True)
    bare = subprocess.Popen([sys.executable, "-c", BARE_UPLOAD, str(port), str(work / "bare")])
    try:
        http = requests.Session()
        wait_for(f"http://127.0.0.1:{port}/upload", http, "bare upload server")

        def upload():
            http.put(f"http://127.0.0.1:{port}/upload", data=os.urandom(16) + payload).raise_for_status()

        upload()
        out["bare upload"] = statistics.median(_times(upload, rounds))
    finally:
        bare.terminate()
        bare.wait(10)
    if mlflow_python:
        out["mlflow"] = _mlflow_create(work / "mlflow", mlflow_python, payload, rounds)
    return out


def _times(fn, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _mlflow_create(work: Path, python: str, payload: bytes, rounds: int) -> float:
    """mlflow server with its own artifact store: a run, the file uploaded through its artifact
    proxy, and the model version that points at it (what a user's register_model does)."""
    work.mkdir(parents=True)
    port = free_port()
    env = {**os.environ, "PATH": str(Path(python).parent) + os.pathsep + os.environ.get("PATH", "")}
    server = subprocess.Popen(
        [
            python,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{work / 'mlflow.db'}",
            "--artifacts-destination",
            str(work / "artifacts"),
            "--serve-artifacts",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/"
    http = requests.Session()
    try:
        wait_for(base + "health", http, "mlflow server", timeout=120)
        http.post(base + "api/2.0/mlflow/registered-models/create", json={"name": "bench"}).raise_for_status()

        def create():
            # what mlflow.register_model of a logged file costs: a run to hold it, the file
            # through the artifact proxy, the model version pointing at it
            run = http.post(base + "api/2.0/mlflow/runs/create", json={"experiment_id": "0"}).json()["run"]["info"]
            location = run["artifact_uri"]
            path = location.removeprefix("mlflow-artifacts:/")
            http.put(
                base + f"api/2.0/mlflow-artifacts/artifacts/{path}/model/model.bin", data=os.urandom(16) + payload
            ).raise_for_status()
            http.post(
                base + "api/2.0/mlflow/model-versions/create",
                json={"name": "bench", "source": f"{location}/model", "run_id": run["run_id"]},
            ).raise_for_status()

        create()
        return statistics.median(_times(create, rounds))
    finally:
        server.terminate()
        server.wait(30)


def find_mlflow(option: str | None) -> str | None:
    for python in filter(None, [option, str(ROOT / ".venv-mlflow" / "bin" / "python")]):
        if (
            Path(python).exists()
            and subprocess.run([python, "-c", "import mlflow"], capture_output=True).returncode == 0
        ):
            return python
    return None


# -- PostgreSQL ---------------------------------------------------------------------------------------


@contextmanager
def postgres(work: Path):
    """A throwaway PostgreSQL server (the tests' helper), or None when its binaries are missing."""
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers.postgres import PostgresServer, fresh_postgres_database, postgres_available

    if not postgres_available():
        yield None
        return
    server = PostgresServer(free_port())
    server.start()
    try:
        yield lambda: fresh_postgres_database(server.url)
    finally:
        server.remove()


# -- report -------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met   " if ok else "MISSED"


def report(backend: str, sizes: dict[int, dict]) -> list[bool]:
    small, large = sorted(sizes)
    results = []
    print(f"\n{backend}: median ms over keep-alive HTTP (x = / bare GET /api/status on the same server)")
    print(f"{'read':<34} {'versions':>9} {'computed':>9} {'x':>6} {'remembered':>11} {'x':>6}")
    for size in (small, large):
        figures = sizes[size]
        bare = figures["bare"]
        print(
            f"{'bare GET /api/status':<34} {size:>9,} {bare['computed']:>9.2f} {1:>6.2f} {bare['remembered']:>11.2f} {1:>6.2f}"
        )
        for name in READS:
            f = figures[name]
            print(
                f"{name:<34} {size:>9,} {f['computed']:>9.2f} {f['computed'] / bare['computed']:>6.2f} "
                f"{f['remembered']:>11.2f} {f['remembered'] / bare['remembered']:>6.2f}"
            )
    for name, kind in READS.items():
        large_f, small_f = sizes[large][name], sizes[small][name]
        ratio = large_f["computed"] / sizes[large]["bare"]["computed"]
        growth = (large_f["computed"] / sizes[large]["bare"]["computed"]) / (
            small_f["computed"] / sizes[small]["bare"]["computed"]
        )
        remembered = large_f["remembered"] / sizes[large]["bare"]["remembered"]
        target = TARGETS[kind]
        results += [ratio <= target, growth <= GROWTH]
        print(
            f"{verdict(ratio <= target)} {backend} {name} at {large:,}: computed {ratio:.2f}x bare (target <= {target}x); "
            f"remembered {remembered:.2f}x"
        )
        print(
            f"{verdict(growth <= GROWTH)} {backend} {name}: {large:,} vs {small:,} versions {growth:.2f}x (target <= {GROWTH}x)"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--reads", type=int, default=200, help="reads of each kind per measurement")
    parser.add_argument("--rounds", type=int, default=30, help="registrations of each kind")
    parser.add_argument("--mlflow-python", help="a Python with mlflow (default: .venv-mlflow)")
    parser.add_argument("--skip-register", action="store_true")
    parser.add_argument("--skip-reads", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="modelhub-bench-registry-"))
    outcomes = []
    try:
        with postgres(work / "pg") as new_postgres:
            for backend in [] if args.skip_reads else args.backends.split(","):
                if backend == "postgresql" and new_postgres is None:
                    print("\npostgresql: skipped (no initdb/pg_ctl: apt-get install postgresql)")
                    continue
                sizes = {}
                for size in (args.small, args.versions):
                    folder = work / f"{backend}-{size}"
                    folder.mkdir(parents=True)
                    db_url = f"sqlite:///{folder / 'registry.db'}" if backend == "sqlite" else new_postgres()
                    started = time.perf_counter()
                    fill(db_url, size)
                    print(f"{backend}: filled {size:,} versions in {time.perf_counter() - started:.1f} s", flush=True)
                    sizes[size] = measure_reads(folder, db_url, size, args.reads)
                outcomes += report(backend, sizes)
        if not args.skip_register:
            mlflow_python = find_mlflow(args.mlflow_python)
            figures = measure_registration(work, mlflow_python, args.rounds)
            ours, bare = figures["ours"], figures["bare upload"]
            print(f"\nregister 1 MB: ours {ours:.2f} ms, the same bytes to a bare upload handler {bare:.2f} ms")
            outcomes.append(ours / bare <= 2)
            print(f"{verdict(ours / bare <= 2)} register 1 MB / bare upload = {ours / bare:.2f}x (target <= 2x)")
            if "mlflow" in figures:
                speedup = figures["mlflow"] / ours
                outcomes.append(speedup >= 5)
                print(
                    f"{verdict(speedup >= 5)} mlflow server create + artifact upload {figures['mlflow']:.2f} ms: "
                    f"ours is {speedup:.2f}x faster (target >= 5x)"
                )
            else:
                print("mlflow: skipped (no Python with mlflow; make bench installs .venv-mlflow)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{sum(outcomes)} of {len(outcomes)} targets met")


if __name__ == "__main__":
    main()
