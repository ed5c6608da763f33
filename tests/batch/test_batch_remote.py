"""Batch jobs whose inputs and outputs are in a bucket, and Dask workers that share nothing with the
server: a real Jupyter server, real papermill, moto's S3 server over HTTP, and ``dask scheduler`` /
``dask worker`` processes that cannot read the server's folder (``helpers.dask_cluster``).

Inputs as ``s3://`` globs, folders and objects; an output prefix committed by ``_SUCCESS`` written
last; a failed job commits nothing and ``--resume`` reuses its parts; a prefix with objects the
product did not write is refused; credentials never reach the notebook; workers elsewhere get the
model and the entry script through Dask; a scheduler that dies fails the job naming it and leaves
nothing running.
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.components import require
from helpers.dask_cluster import IsolatedDask, namespaces_available
from helpers.s3 import Bucket, configured_endpoint
from helpers.servers import ServerProcess, wait_until

pytestmark = [pytest.mark.s3, pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(600)]

X, y = make_classification(400, 4, random_state=1)
CLF = LogisticRegression().fit(X, y)
COLUMNS = [f"f{i}" for i in range(4)]


@pytest.fixture(scope="module")
def bucket(s3_endpoint):
    url, keys = s3_endpoint
    created = Bucket(url, keys)
    for i, start in enumerate(range(0, 400, 100)):
        frame = pd.DataFrame(X[start : start + 100], columns=COLUMNS)
        if i % 2:
            buffer = io.BytesIO()
            frame.to_parquet(buffer)
            created.put(f"data/part{i}.parquet", buffer.getvalue())
        else:
            created.put(f"data/part{i}.csv", frame.to_csv(index=False).encode())
    created.put("data/_meta/skip.csv", b"not,a,table\n")  # hidden: folders skip _ and . names
    yield created
    if configured_endpoint() is not None:
        created.empty()
        created.client().delete_bucket(Bucket=created.name)


@pytest.fixture(scope="module")
def server(tmp_path_factory, bucket):
    s = ServerProcess(tmp_path_factory.mktemp("batch-remote"), extra_env=bucket.env)
    s.client().register("lr", CLF, sample=X[:3])
    yield s
    s.stop()


def post_job(server: ServerProcess, **body):
    return server.session.post(server.url + "modelhub/api/jobs", json=body, timeout=60)


def run_job(server: ServerProcess, **body) -> dict:
    response = post_job(server, **body)
    assert response.status_code == 202, response.text
    return wait_for_job(server, response.json()["id"])


def wait_for_job(server: ServerProcess, job_id: int, timeout: float = 300) -> dict:
    def ended():
        job = server.session.get(server.url + f"modelhub/api/jobs/{job_id}", timeout=30).json()
        return job if not job["active"] else None

    return wait_until(ended, timeout, f"batch job {job_id} to end")


def committed(bucket: Bucket, prefix: str) -> pd.DataFrame:
    """The output under ``prefix`` as a reader sees it: the parts its _SUCCESS lists, in order."""
    objects = bucket.keys_under(prefix + "/")
    manifest = json.loads(objects[f"{prefix}/_SUCCESS"])
    frames = [pd.read_csv(io.BytesIO(objects[f"{prefix}/{p['name']}"])) for p in manifest["parts"]]
    return pd.concat(frames, ignore_index=True)


def test_inputs_and_output_in_a_bucket_commit_with_success_written_last(server, bucket):
    job = run_job(
        server,
        model="lr:1",
        inputs=[bucket.uri("data/*.csv"), bucket.uri("data/part1.parquet"), bucket.uri("data/")],
        output=bucket.uri("preds/"),
        settings={"mini_batch_size": 1, "workers": 2},
    )
    assert job["status"] == "succeeded", job["error"]
    assert job["output"] == bucket.uri("preds") + "/"
    assert job["summary"]["files"] == 4 and job["summary"]["rows_out"] == 400  # a file named twice is scored once
    names = bucket.names_under("preds/")
    assert names == ["preds/_SUCCESS"] + [f"preds/part-{i:06d}.csv" for i in range(4)]
    out = committed(bucket, "preds")
    assert out["file"].tolist()[::100] == ["part0.csv", "part2.csv", "part1.parquet", "part3.parquet"]
    expected = np.concatenate([X[0:100], X[200:300], X[100:200], X[300:400]])
    assert (out["predictions"].to_numpy() == CLF.predict(expected)).all()
    manifest = json.loads(bucket.keys_under("preds/_SUCCESS")["preds/_SUCCESS"])
    assert manifest["modelhub_job"] == job["id"] and manifest["rows"] == 400

    # the executed notebook is the log: in the kernel's folder, and no credential anywhere in it
    text = Path(job["notebook"]).read_text()
    assert "Scored 400 rows" in text
    assert bucket.keys["AWS_SECRET_ACCESS_KEY"] not in text
    assert not list(server.root.rglob("storage.json"))

    # a committed output is not replaced unless asked; --overwrite replaces it
    again = post_job(server, model="lr:1", inputs=[bucket.uri("data/part0.csv")], output=bucket.uri("preds"))
    assert again.status_code == 409 and f"committed output of job {job['id']}" in again.json()["message"]
    replaced = run_job(
        server, model="lr:1", inputs=[bucket.uri("data/part0.csv")], output=bucket.uri("preds"), overwrite=True
    )
    assert replaced["status"] == "succeeded", replaced["error"]
    assert bucket.names_under("preds/") == ["preds/_SUCCESS", "preds/part-000000.csv"]
    assert len(committed(bucket, "preds")) == 100


def test_a_prefix_with_objects_the_product_did_not_write_is_refused_and_kept(server, bucket):
    bucket.put("theirs/report.csv", b"a,b\n1,2\n")
    for overwrite in (False, True):
        response = post_job(
            server, model="lr:1", inputs=[bucket.uri("data/")], output=bucket.uri("theirs"), overwrite=overwrite
        )
        assert response.status_code == 409, response.text
        assert "Model Hub did not write (report.csv)" in response.json()["message"]
    assert bucket.keys_under("theirs/") == {"theirs/report.csv": b"a,b\n1,2\n"}
    missing = post_job(server, model="lr:1", inputs=[bucket.uri("nothing/here.csv")])
    assert missing.status_code == 400 and "does not exist" in missing.json()["message"]


def test_a_failed_job_commits_nothing_and_resume_reuses_its_parts(server, bucket):
    folder = server.folder / "notebooks" / "scripts"
    folder.mkdir(exist_ok=True)
    script = folder / "fails_on_part2.py"
    script.write_text(
        textwrap.dedent(
            """
            import os
            import pandas as pd

            def init():
                pass

            def run(mini_batch):
                if any("part2" in f for f in mini_batch) and not os.environ.get("FIXED"):
                    raise ValueError("part2 is bad today")
                return pd.DataFrame({"file": [os.path.basename(f) for f in mini_batch]})
            """
        )
    )
    failed = run_job(
        server,
        model="lr:1",
        inputs=[bucket.uri("data/")],
        output=bucket.uri("resumed"),
        entry_script=str(script),
        settings={"mini_batch_size": 1, "max_retries": 0, "error_threshold": 0},
    )
    assert failed["status"] == "failed"
    message = failed["error"]["message"]
    assert "not committed (no _SUCCESS)" in message and f"--resume {failed['id']}" in message
    left = bucket.names_under("resumed/")
    assert "resumed/_SUCCESS" not in left and "resumed/part-000000.csv" in left

    # another job cannot take the prefix while those parts wait for their resume
    taken = post_job(server, model="lr:1", inputs=[bucket.uri("data/")], output=bucket.uri("resumed"))
    assert taken.status_code == 409 and f"--resume {failed['id']}" in taken.json()["message"]

    resumed = run_job(
        server,
        model="lr:1",
        output=bucket.uri("resumed"),
        entry_script=str(script),
        resume=failed["id"],
        settings={"mini_batch_size": 1, "env_vars": {"FIXED": "1"}},
    )
    assert resumed["status"] == "succeeded", resumed["error"]
    statuses = [r["status"] for r in resumed["mini_batches"]]
    assert statuses.count("reused") >= 1 and "failed" not in statuses
    out = committed(bucket, "resumed")
    assert sorted(out["file"]) == ["part0.csv", "part1.parquet", "part2.csv", "part3.parquet"]


@pytest.fixture
def isolated_dask(server):
    available, reason = namespaces_available()
    require(available, reason)
    cluster = IsolatedDask(hidden=[server.folder], workers=2).start()
    yield cluster
    cluster.stop()


def test_workers_that_cannot_read_the_servers_disk_score_from_the_bucket(server, bucket, isolated_dask):
    folder = server.folder / "notebooks" / "scripts"
    folder.mkdir(exist_ok=True)
    script = folder / "where.py"
    script.write_text(
        textwrap.dedent(
            """
            import os
            import pandas as pd

            def init():
                global files
                files = sorted(os.listdir(os.environ["AZUREML_MODEL_DIR"]))

            def run(mini_batch):
                return pd.DataFrame({"input": mini_batch, "model_files": [len(files)] * len(mini_batch)})
            """
        )
    )
    settings = {"mini_batch_size": 1, "scheduler": isolated_dask.address}
    job = run_job(server, model="lr:1", inputs=[bucket.uri("data/")], output=bucket.uri("far"), settings=settings)
    assert job["status"] == "succeeded", job["error"]
    out = committed(bucket, "far")
    assert (
        out["predictions"].to_numpy() == CLF.predict(np.concatenate([X[0:100], X[100:200], X[200:300], X[300:400]]))
    ).all()
    workers = {r["worker"] for r in job["mini_batches"]}
    assert workers <= {w for w in isolated_dask_workers(isolated_dask)}

    # the entry script goes through Dask too, and a local output comes back through Dask
    local_out = server.folder / "notebooks" / "far-local"
    scripted = run_job(
        server,
        model="lr:1",
        inputs=[bucket.uri("data/")],
        output=str(local_out),
        entry_script=str(script),
        settings=settings,
    )
    assert scripted["status"] == "succeeded", scripted["error"]
    rows = pd.read_csv(scripted["output"])
    assert len(rows) == 4 and (rows["model_files"] > 0).all()

    # an input on the server's disk: the workers say plainly they cannot see it
    data = server.folder / "notebooks" / "local.csv"
    pd.DataFrame(X[:10], columns=COLUMNS).to_csv(data, index=False)
    blind = run_job(
        server, model="lr:1", inputs=[str(data)], output=bucket.uri("blind"), settings={**settings, "max_retries": 0}
    )
    assert blind["status"] == "failed"
    error = blind["mini_batches"][0]["error"]
    assert "does not exist here" in error and "s3://" in error
    assert "blind/_SUCCESS" not in bucket.names_under("blind/")


def isolated_dask_workers(cluster: IsolatedDask) -> set[str]:
    from distributed import Client

    with Client(cluster.address, timeout="5s") as client:
        return set(client.scheduler_info()["workers"])


def test_a_scheduler_that_dies_mid_job_fails_the_job_naming_it(server, bucket, isolated_dask):
    folder = server.folder / "notebooks" / "scripts"
    folder.mkdir(exist_ok=True)
    script = folder / "slow.py"
    script.write_text("import time\n\ndef run(mini_batch):\n    time.sleep(4)\n    return list(mini_batch)\n")
    response = post_job(
        server,
        model="lr:1",
        inputs=[bucket.uri("data/")],
        output=bucket.uri("dies"),
        entry_script=str(script),
        settings={"mini_batch_size": 1, "scheduler": isolated_dask.address, "timeout": 60},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    def scoring():
        job = server.session.get(server.url + f"modelhub/api/jobs/{job_id}", timeout=30).json()
        return (job["progress"]["done"] or 0) >= 1 or not job["active"]

    wait_until(scoring, 120, "the job to start scoring")
    isolated_dask.kill_scheduler()
    job = wait_for_job(server, job_id, timeout=120)
    assert job["status"] == "failed"
    assert isolated_dask.address in job["error"]["message"], job["error"]["message"]
    assert "dies/_SUCCESS" not in bucket.names_under("dies/")
    # nothing of the job runs on the server's side: no kernel, no worker process
    folder = server.root / "operations" / str(job_id)
    pid = int((folder / "kernel.pid").read_text().split()[0])
    wait_until(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie", 30, "the kernel to end")
    leftovers = [
        p for p in psutil.process_iter(["cmdline"]) if any(str(folder) in part for part in (p.info["cmdline"] or []))
    ]
    assert not leftovers


def test_the_command_line_takes_urls_for_inputs_and_output(server, bucket):
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_modelhub.cli",
            "batch",
            "lr:1",
            bucket.uri("data/*.parquet"),
            "--output",
            bucket.uri("cli") + "/",
            "--output-file-name",
            "predictions.parquet",
            "--json",
            "--url",
            server.url,
            "--token",
            server.token,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=server.folder / "notebooks",
    )
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["status"] == "succeeded" and job["output"] == bucket.uri("cli") + "/"
    assert bucket.names_under("cli/") == ["cli/_SUCCESS", "cli/part-000000.parquet"]
    table = pd.read_parquet(io.BytesIO(bucket.keys_under("cli/part-000000.parquet")["cli/part-000000.parquet"]))
    assert len(table) == 200 and table["file"].tolist()[::100] == ["part1.parquet", "part3.parquet"]


def test_workers_elsewhere_take_the_model_from_the_bucket_store(tmp_path, bucket):
    available, reason = namespaces_available()
    require(available, reason)
    on_bucket = ServerProcess(tmp_path, extra_env=bucket.env, args=[f"--ModelHubApp.artifact_uri={bucket.uri('hub')}"])
    cluster = None
    try:
        on_bucket.client().register("lr", CLF, sample=X[:3])
        cluster = IsolatedDask(hidden=[tmp_path], workers=1).start()
        job = run_job(
            on_bucket,
            model="lr:1",
            inputs=[bucket.uri("data/part0.csv")],
            output=bucket.uri("from-store"),
            settings={"scheduler": cluster.address},
        )
        assert job["status"] == "succeeded", job["error"]
        assert "downloads them from the artifact store" in Path(job["notebook"]).read_text()
        out = committed(bucket, "from-store")
        assert (out["predictions"].to_numpy() == CLF.predict(X[:100])).all()
    finally:
        if cluster is not None:
            cluster.stop()
        on_bucket.stop()
