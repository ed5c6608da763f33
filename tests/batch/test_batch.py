"""Batch scoring end to end: a real Jupyter server, real papermill + ipykernel, a real Dask
LocalCluster over TCP on 127.0.0.1.

No-code jobs with an ONNX and a sklearn model answer what the models answer, row for row and in
order; an Azure batch entry script runs unchanged; failures are named per mini-batch (None, an
exception, a timeout), retried and counted against error_threshold; a failed job leaves no
output that looks complete; cancel leaves no process; --resume finishes only what is left; two
workers give the output one does; bad input is a 400 with nothing started.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.kernels import Kernel
from helpers.operations import processes_in_group, standby_pid, worker_pid
from helpers.servers import ServerProcess, wait_until

pytestmark = pytest.mark.timeout(600)

X, y = make_classification(400, 4, random_state=0)
CLF = LogisticRegression().fit(X, y)
COLUMNS = [f"f{i}" for i in range(4)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("batch"))
    hub = s.client()
    hub.register("lr", CLF, sample=X[:3])
    from skl2onnx import to_onnx

    onnx_file = s.folder / "lr.onnx"
    onnx_file.write_bytes(to_onnx(CLF, X[:1].astype(np.float32), options={"zipmap": False}).SerializeToString())
    hub.register("lr-onnx", [onnx_file])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def data(server) -> Path:
    """A folder of CSV and Parquet files (100 rows each, in order), plus a notes.txt the scorer skips."""
    folder = server.folder / "notebooks" / "data"
    folder.mkdir(parents=True)
    pd.DataFrame(X[:100], columns=COLUMNS).to_csv(folder / "a.csv", index=False)
    pd.DataFrame(X[100:200], columns=COLUMNS).to_parquet(folder / "b.parquet")
    pd.DataFrame(X[200:300], columns=COLUMNS).to_csv(folder / "c.csv", index=False)
    pd.DataFrame(X[300:400], columns=COLUMNS).to_parquet(folder / "d.parquet")
    return folder


def post_job(server: ServerProcess, **body):
    return server.session.post(server.url + "modelhub/api/jobs", json=body, timeout=60)


def run_job(server: ServerProcess, **body) -> dict:
    response = post_job(server, **body)
    assert response.status_code == 202, response.text
    assert response.headers["Location"].endswith(f"/modelhub/api/jobs/{response.json()['id']}")
    return wait_for_job(server, response.json()["id"])


def wait_for_job(server: ServerProcess, job_id: int, timeout: float = 240) -> dict:
    def ended():
        job = server.session.get(server.url + f"modelhub/api/jobs/{job_id}", timeout=30).json()
        return job if not job["active"] else None

    return wait_until(ended, timeout, f"batch job {job_id} to end")


def script(server: ServerProcess, name: str, code: str) -> Path:
    path = server.folder / "notebooks" / "scripts" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(code))
    return path


def test_no_code_jobs_answer_what_the_models_answer_in_input_order(server, data):
    sklearn_job = run_job(server, model="lr:1", inputs=[str(data)], settings={"mini_batch_size": 2})
    assert sklearn_job["status"] == "succeeded", sklearn_job["error"]
    out = pd.read_csv(sklearn_job["output"])
    assert len(out) == 400 and list(out["file"].unique()) == ["a.csv", "b.parquet", "c.csv", "d.parquet"]
    assert out["row"].tolist() == list(range(100)) * 4
    assert (out["predictions"].to_numpy() == CLF.predict(X)).all()
    np.testing.assert_allclose(out[["probabilities_0", "probabilities_1"]].to_numpy(), CLF.predict_proba(X), rtol=1e-12)
    assert sklearn_job["summary"]["rows_out"] == 400 and sklearn_job["summary"]["mini_batches"] == 2
    assert [r["files"] for r in sklearn_job["mini_batches"]] == [["a.csv", "b.parquet"], ["c.csv", "d.parquet"]]

    onnx_job = run_job(
        server,
        model="lr-onnx:1",
        inputs=[str(data / "*.csv"), str(data / "*.parquet")],
        output=str(server.folder / "notebooks" / "onnx-out"),
        settings={"mini_batch_size": 1},
    )
    assert onnx_job["status"] == "succeeded", onnx_job["error"]
    out = pd.read_csv(Path(onnx_job["output"]))
    assert onnx_job["output"] == str(server.folder / "notebooks" / "onnx-out" / "predictions.csv")
    expected = np.concatenate([X[0:100], X[200:300], X[100:200], X[300:400]])  # csv files first, as given
    assert (out["label"].to_numpy() == CLF.predict(expected)).all()
    np.testing.assert_allclose(
        out[["probabilities_0", "probabilities_1"]].to_numpy(), CLF.predict_proba(expected), atol=1e-5
    )
    # the executed notebook is the job's log, next to the output where JupyterLab opens it
    notebook = json.loads(Path(onnx_job["notebook"]).read_text())
    text = json.dumps(notebook)
    assert onnx_job["notebook_lab_path"] == "onnx-out/job-%d.ipynb" % onnx_job["id"]
    assert "mini_batch_size" in text and "No mini-batch failed." in text and "Scored 400 rows" in text
    assert not list((server.folder / "notebooks" / "onnx-out").glob(".*partial*"))


def test_an_azure_batch_entry_script_runs_unchanged(server, data):
    score = script(
        server,
        "batch_score.py",
        """
        import os
        import joblib
        import pandas as pd

        model = None

        def init():
            global model
            folder = os.environ["AZUREML_MODEL_DIR"]
            path = [os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs if f.endswith((".joblib", ".pkl"))][0]
            model = joblib.load(path)

        def run(mini_batch):
            results = []
            for file_path in mini_batch:
                frame = pd.read_csv(file_path) if file_path.endswith(".csv") else pd.read_parquet(file_path)
                results.append(pd.DataFrame({"file": os.path.basename(file_path), "pred": model.predict(frame.values)}))
            return pd.concat(results)
        """,
    )
    job = run_job(server, model="lr:1", inputs=[str(data)], entry_script=str(score), settings={"mini_batch_size": 3})
    assert job["status"] == "succeeded", job["error"]
    out = pd.read_csv(job["output"])
    assert (out["pred"].to_numpy() == CLF.predict(X)).all()
    assert job["summary"]["mini_batches"] == 2 and job["summary"]["failed"] == 0


FAILING_SCRIPT = """
    import os
    import time
    from pathlib import Path

    def init():
        pass

    def run(mini_batch):
        name = Path(mini_batch[0]).stem
        if name == "none":
            return None
        if name == "boom":
            raise ValueError("cannot score boom")
        if name == "slow":
            time.sleep(120)
        if name == "flaky":
            marker = Path(os.environ["MARKER_DIR"]) / "flaky-tried"
            if not marker.exists():
                marker.write_text("once")
                raise RuntimeError("first attempt fails")
        return [f"{name}:ok"]
"""


def test_failures_are_named_retried_and_counted(server):
    inputs = server.folder / "notebooks" / "failing"
    inputs.mkdir()
    for name in ("ok", "none", "boom", "slow", "flaky"):
        (inputs / f"{name}.txt").write_text(name)
    score = script(server, "failing.py", FAILING_SCRIPT)
    paths = [str(inputs / f"{n}.txt") for n in ("ok", "none", "boom", "slow", "flaky")]
    job = run_job(
        server,
        model="lr:1",
        inputs=paths,
        entry_script=str(score),
        settings={
            "mini_batch_size": 1,
            "max_retries": 1,
            "timeout": 3,
            "error_threshold": -1,
            "env_vars": {"MARKER_DIR": str(inputs)},
        },
    )
    assert job["status"] == "succeeded", job["error"]  # -1: failures are listed, not fatal
    rows = {r["files"][0]: r for r in job["mini_batches"]}
    assert rows["none.txt"]["error"] == (
        "run() returned None for mini-batch 1 (files none.txt): it must return a list or a DataFrame."
    )
    # run() returning None is the same every time: not retried (an exception of run() may pass: retried)
    assert rows["none.txt"]["attempts"] == 1 and "not retried" in rows["none.txt"]["not_retried"]
    assert rows["boom.txt"]["attempts"] == 2 and rows["boom.txt"]["retries"] == ["ValueError: cannot score boom"]
    assert rows["boom.txt"]["error"] == "ValueError: cannot score boom"
    assert 'raise ValueError("cannot score boom")' in rows["boom.txt"]["traceback"]
    assert rows["slow.txt"]["error"] == "mini-batch 3 (files slow.txt) timed out after 3 s"
    assert rows["flaky.txt"]["status"] == "succeeded" and rows["flaky.txt"]["attempts"] == 2
    assert pd.read_csv(job["output"])["result"].tolist() == ["ok:ok", "flaky:ok"]
    assert job["summary"]["failed"] == 3 and job["summary"]["failed_files"] == 3

    failed = run_job(
        server,
        model="lr:1",
        inputs=[paths[0], paths[2]],
        entry_script=str(score),
        output=str(server.folder / "notebooks" / "strict"),
        settings={"mini_batch_size": 1, "max_retries": 0, "error_threshold": 0},
    )
    assert failed["status"] == "failed"
    message = failed["error"]["message"]
    assert "Mini-batch 1 (files boom.txt) failed after 1 attempt: ValueError: cannot score boom" in message
    assert "more than error_threshold 0" in message and "job-%d.ipynb" % failed["id"] in message
    folder = server.folder / "notebooks" / "strict"
    assert not (folder / "predictions.csv").exists() and not list(folder.glob(".*partial*"))
    assert (folder / f"job-{failed['id']}.ipynb").exists()  # the log of a failed job is there to read


def test_cancel_leaves_no_process_and_resume_finishes_only_what_is_left(server):
    inputs = server.folder / "notebooks" / "resumable"
    inputs.mkdir()
    for i in range(4):
        (inputs / f"part{i}.txt").write_text(str(i))
    score = script(
        server,
        "resumable.py",
        """
        import os
        import time
        from pathlib import Path

        def run(mini_batch):
            name = Path(mini_batch[0]).stem
            if name == "part3" and os.environ.get("SLOW") == "1":
                time.sleep(300)
            return [name]
        """,
    )
    response = post_job(
        server,
        model="lr:1",
        inputs=[str(inputs)],
        entry_script=str(score),
        settings={"mini_batch_size": 1, "timeout": 600, "env_vars": {"SLOW": "1"}},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    def three_done():
        job = server.session.get(server.url + f"modelhub/api/jobs/{job_id}").json()
        done = [r for r in job.get("mini_batches") or [] if r["status"] == "succeeded"]
        return job if len(done) == 3 else None

    wait_until(three_done, 180, "three mini-batches to finish")
    pid = worker_pid(server, job_id)
    group = processes_in_group(pid)
    assert len(group) >= 2  # the worker and its Dask worker process
    kernel = int((server.root / "operations" / str(job_id) / "kernel.pid").read_text().split()[0])
    assert psutil.pid_exists(kernel)
    cancelled = server.session.post(server.url + f"modelhub/api/jobs/{job_id}/cancel", json={}).json()
    assert cancelled["id"] == job_id
    assert wait_for_job(server, job_id)["status"] == "cancelled"
    wait_until(lambda: not processes_in_group(pid) and not _alive(kernel), 30, "the job's processes to end")

    resumed = run_job(
        server,
        model="lr:1",
        resume=job_id,
        entry_script=str(score),
        settings={"mini_batch_size": 1, "env_vars": {"SLOW": "0"}},
    )
    assert resumed["status"] == "succeeded", resumed["error"]
    assert resumed["summary"]["reused"] == 3
    assert [r["reused_from"] for r in resumed["mini_batches"]] == [job_id, job_id, job_id, None]
    assert pd.read_csv(resumed["output"])["result"].tolist() == ["part0", "part1", "part2", "part3"]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_two_workers_give_the_output_one_worker_gives(server, data):
    one = run_job(
        server,
        model="lr-onnx:1",
        inputs=[str(data)],
        output=str(server.folder / "notebooks" / "w1"),
        settings={"mini_batch_size": 1, "workers": 1},
    )
    two = run_job(
        server,
        model="lr-onnx:1",
        inputs=[str(data)],
        output=str(server.folder / "notebooks" / "w2"),
        settings={"mini_batch_size": 1, "workers": 2},
    )
    assert one["status"] == two["status"] == "succeeded", (one["error"], two["error"])
    assert len({r["worker"] for r in two["mini_batches"]}) == 2
    assert Path(one["output"]).read_bytes() == Path(two["output"]).read_bytes()
    assert all(rss > 0 for rss in two["summary"]["peak_rss_per_worker"].values())


def test_a_parquet_output_has_the_rows_and_columns_a_csv_output_has(server, data):
    """Parquet parts go from the workers as Arrow files and are joined while later mini-batches
    are scored: the output must still hold every row in input order, with plain column types
    (``file`` a string, not a dictionary), and nothing of the join left beside it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    jobs = {
        suffix: run_job(
            server,
            model="lr-onnx:1",
            inputs=[str(data)],
            output=str(server.folder / "notebooks" / f"joined-{suffix}"),
            settings={"mini_batch_size": 1, "workers": 2, "output_file_name": f"predictions.{suffix}"},
        )
        for suffix in ("csv", "parquet")
    }
    assert [job["status"] for job in jobs.values()] == ["succeeded", "succeeded"], [j["error"] for j in jobs.values()]
    parquet, csv = pd.read_parquet(jobs["parquet"]["output"]), pd.read_csv(jobs["csv"]["output"])
    assert list(parquet.columns) == list(csv.columns)
    assert (
        parquet["file"].tolist()
        == csv["file"].tolist()
        == [name for name in ("a.csv", "b.parquet", "c.csv", "d.parquet") for _ in range(100)]
    )
    assert parquet["row"].tolist() == csv["row"].tolist() == list(range(100)) * 4
    for column in parquet.columns.drop(["file", "row"]):
        np.testing.assert_allclose(parquet[column].to_numpy(), csv[column].to_numpy(), rtol=1e-6)
    schema = pq.read_schema(jobs["parquet"]["output"])
    assert schema.field("file").type == pa.string() and schema.field("row").type == pa.int64()
    output = Path(jobs["parquet"]["output"])
    assert sorted(p.name for p in output.parent.iterdir()) == [f"job-{jobs['parquet']['id']}.ipynb", output.name]


def test_bad_input_is_a_400_and_starts_nothing(server, data, tmp_path):
    before = server.session.get(server.url + "modelhub/api/jobs").json()["total"]
    (data.parent / "empty").mkdir()
    (data.parent / "notes.bin").write_bytes(b"\0")
    cases = {
        "outside": ({"model": "lr:1", "inputs": [str(tmp_path)]}, "is outside the server's folders"),
        "file type": ({"model": "lr:1", "inputs": [str(data.parent / "notes.bin")]}, "the built-in scorer reads"),
        "empty folder": ({"model": "lr:1", "inputs": [str(data.parent / "empty")]}, "has no CSV, Parquet or JSON"),
        "glob": ({"model": "lr:1", "inputs": [str(data / "*.xlsx")]}, "matches no"),
        "no inputs": ({"model": "lr:1", "inputs": []}, "No inputs"),
        "range": (
            {"model": "lr:1", "inputs": [str(data)], "settings": {"mini_batch_size": 0}},
            "mini_batch_size: Input should be greater than or equal to 1",
        ),
        "unknown setting": (
            {"model": "lr:1", "inputs": [str(data)], "settings": {"mini_batch": 3}},
            "mini_batch: Extra inputs are not permitted",
        ),
        "threshold": ({"model": "lr:1", "inputs": [str(data)], "settings": {"error_threshold": -2}}, "error_threshold"),
        "script outside": (
            {"model": "lr:1", "inputs": [str(data)], "entry_script": str(tmp_path / "s.py")},
            "Entry script",
        ),
        "output file": (
            {"model": "lr:1", "inputs": [str(data)], "settings": {"output_file_name": "../x.csv"}},
            "is not a file name",
        ),
        "unknown model": ({"model": "nope:1", "inputs": [str(data)]}, "nope"),
    }
    for case, (body, words) in cases.items():
        response = post_job(server, **body)
        assert response.status_code in (400, 404), (case, response.status_code, response.text)
        assert words in response.json()["message"], (case, response.json())
    assert server.session.get(server.url + "modelhub/api/jobs").json()["total"] == before


def test_batch_endpoints_are_versioned_run_by_name_and_guard_their_model(server, data):
    api = server.url + "modelhub/api/"
    saved = server.session.post(
        api + "batch-endpoints", json={"name": "nightly", "model": "lr:1", "settings": {"mini_batch_size": 4}}
    ).json()
    assert saved["version"] == 1 and saved["settings"]["mini_batch_size"] == 4
    saved = server.session.post(
        api + "batch-endpoints", json={"name": "nightly", "model": "lr:1", "settings": {"mini_batch_size": 3}}
    ).json()
    assert saved["version"] == 2 and [v["version"] for v in saved["versions"]] == [2, 1]
    response = server.session.post(api + "batch-endpoints/nightly/jobs", json={"inputs": [str(data)]})
    assert response.status_code == 202, response.text
    job = wait_for_job(server, response.json()["id"])
    assert job["status"] == "succeeded" and job["endpoint"] == "nightly" and job["summary"]["mini_batches"] == 2
    refused = server.session.delete(api + "models/lr/versions/1")
    assert refused.status_code == 409 and "batch endpoint nightly" in refused.json()["message"]
    listed = server.session.get(api + "batch-endpoints").json()["batch_endpoints"]
    assert [(e["name"], e["version"]) for e in listed] == [("nightly", 2)]
    assert server.session.delete(api + "batch-endpoints/nightly").status_code == 200
    assert server.session.get(api + "batch-endpoints/nightly").status_code == 404


def test_a_running_job_guards_its_model_version(server):
    inputs = server.folder / "notebooks" / "guard"
    inputs.mkdir()
    (inputs / "a.txt").write_text("a")
    score = script(
        server,
        "waits.py",
        """
        import time

        def run(mini_batch):
            time.sleep(300)
            return ["done"]
        """,
    )
    response = post_job(
        server, model="lr-onnx:1", inputs=[str(inputs)], entry_script=str(score), settings={"timeout": 600}
    )
    job_id = response.json()["id"]
    refused = server.session.delete(server.url + "modelhub/api/models/lr-onnx/versions/1")
    assert refused.status_code == 409 and f"job {job_id} (batch," in refused.json()["message"]
    server.session.post(server.url + f"modelhub/api/jobs/{job_id}/cancel", json={})
    assert wait_for_job(server, job_id)["status"] == "cancelled"


def test_the_magics_in_a_kernel(server, data):
    kernel = Kernel(server, "batch.ipynb")  # its folder is the server's root, where data/ is
    try:
        out = kernel.run(
            "%load_ext jupyter_modelhub\njob = %batch lr:1 data --mini-batch-size 2 --output magic-out\njob"
        )
        assert not out["error"], out
        assert "batch lr:1 [########################] succeeded" in out["updates"] + out["text"], out
        assert "2/2 mini-batches, 0 failed, 400 rows" in out["text"], out
        assert "magic-out/predictions.csv" in out["text"] and 'href="magic-out/job-' in out["html"], out
        out = kernel.run("print(job['status'], job['summary']['rows_out'])\n%jobs")
        assert "succeeded 400" in out["text"] and "lr:1" in out["text"], out
        out = kernel.run("%batch-endpoint magic-nightly lr:1 --mini-batch-size 4 --env-var TOKEN=secret")
        assert "batch endpoint magic-nightly v1: lr:1" in out["text"] and "secret" not in out["text"] + out["html"]
        out = kernel.run("%batch magic-nightly data --no-wait")
        assert "job" in out["text"] and "magic-nightly" in out["text"], out
        number = server.client().jobs()["jobs"][0]["id"]
        out = kernel.run(f"%job {number} --wait")
        assert "1/1 mini-batch, 0 failed, 400 rows" in out["text"], out
        assert "TOKEN" in json.dumps(server.client().job(number)["settings"]) and "secret" not in json.dumps(
            server.client().job(number)
        )
        out = kernel.run("%batch-endpoints")
        assert "magic-nightly" in out["text"], out
        out = kernel.run("%batch lr:1 data/*.xlsx")
        assert out["error"].startswith("UsageError") and "matches no" in out["error"], out
    finally:
        kernel.stop()


def test_the_command_line_runs_a_job_and_its_exit_code_says_how_it_ended(server, data):
    import subprocess
    import sys

    def cli(*words):
        return subprocess.run(
            [sys.executable, "-m", "jupyter_modelhub.cli", *words, "--url", server.url, "--token", server.token],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=server.folder / "notebooks",
        )

    done = cli("batch", "lr:1", "data", "--mini-batch-size", "4", "--output", "cli-out", "--json")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["status"] == "succeeded" and job["summary"]["rows_out"] == 400
    assert job["output"] == str(server.folder / "notebooks" / "cli-out" / "predictions.csv")
    assert "batch lr:1" in done.stderr  # the progress bar goes to stderr, stdout is the JSON alone
    listed = cli("jobs", "--json")
    assert listed.returncode == 0 and job["id"] in [j["id"] for j in json.loads(listed.stdout)["jobs"]]
    refused = cli("batch", "lr:1", "nothing/*.csv")
    assert refused.returncode == 1 and "matches no" in refused.stderr and not refused.stdout
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_job_after_the_first_runs_in_the_worker_started_ahead(server, data):
    """Once no batch job runs, the server starts the next job's worker ahead (kernel and cluster
    warm); the next job is handed to it and answers as a cold one does."""
    log = server.root / "operations" / "standby-batch.log"

    def job_and_log(name: str, inputs: Path, **settings) -> tuple[dict, str]:
        job = run_job(
            server,
            model="lr-onnx:1",
            inputs=[str(inputs)],
            output=str(server.folder / "notebooks" / name),
            settings=settings,
        )
        assert job["status"] == "succeeded", job["error"]
        return job, server.session.get(server.url + f"modelhub/api/operations/{job['id']}/log").text

    cold, _ = job_and_log("cold", data / "a.csv")
    ready = wait_until(lambda: standby_pid(log), 180, "a standby batch worker to be ready")
    warm, text = job_and_log("warm", data / "a.csv")
    assert int((server.root / "operations" / str(warm["id"]) / "standby.pid").read_text()) == ready
    assert "using a LocalCluster of 1 worker and a kernel started ahead" in text, text
    assert Path(warm["output"]).read_bytes() == Path(cold["output"]).read_bytes()
    assert Path(warm["notebook"]).exists()
    # a job of another shape takes the kernel but starts its own cluster
    wait_until(lambda: standby_pid(log), 180, "the next standby worker")
    two, text = job_and_log("two", data, workers=2, mini_batch_size=1)
    assert "starting a LocalCluster of 2 workers and a kernel started ahead" in text, text
    # the next standby's cluster has the last job's shape: the same job again finds it warm
    wait_until(lambda: standby_pid(log), 180, "the next standby worker")
    again, text = job_and_log("again", data, workers=2, mini_batch_size=1)
    assert "using a LocalCluster of 2 workers and a kernel started ahead" in text, text
    assert Path(again["output"]).read_bytes() == Path(two["output"]).read_bytes()


def test_a_standby_worker_ends_with_its_server(tmp_path):
    """Started ahead, a standby worker (and its kernel and Dask processes) must not outlive the
    server, even one killed without a chance to stop it: its stdin closes and it ends."""
    s = ServerProcess(tmp_path)
    try:
        s.client().register("lr", CLF, sample=X[:3])
        (s.folder / "notebooks").mkdir(exist_ok=True)
        pd.DataFrame(X[:10], columns=COLUMNS).to_csv(s.folder / "notebooks" / "few.csv", index=False)
        first = run_job(s, model="lr:1", inputs=[str(s.folder / "notebooks" / "few.csv")])
        assert first["status"] == "succeeded", first["error"]
        pid = wait_until(
            lambda: standby_pid(s.root / "operations" / "standby-batch.log"), 180, "a standby batch worker to be ready"
        )
        assert len(processes_in_group(pid)) >= 2  # the worker and its Dask worker process
    finally:
        s.process.kill()
        s.process.wait(30)
    wait_until(lambda: not processes_in_group(pid), 60, "the standby worker and its Dask processes to end")


def test_env_runs_the_jobs_dask_workers_in_that_environment(server, data):
    made = server.session.post(
        server.url + "modelhub/api/environments",
        json={"name": "batch-env", "requirements": "six==1.16.0\n"},
        timeout=300,
    )
    assert made.status_code in (200, 201), made.text
    score = script(
        server,
        "which_env.py",
        """
        import sys

        def run(mini_batch):
            import six
            return [f"{sys.prefix} six {six.__version__}" for _ in mini_batch]
        """,
    )
    job = run_job(
        server,
        model="lr:1",
        inputs=[str(data / "a.csv")],
        entry_script=str(score),
        settings={"environment": "batch-env"},
    )
    assert job["status"] == "succeeded", job["error"]
    assert job["settings"]["environment"] == made.json()["ref"], "the job records the version it ran with"
    answer = pd.read_csv(job["output"])["result"][0]
    assert answer.startswith(str(server.root / "envs")) and answer.endswith("six 1.16.0"), answer
    log = server.session.get(server.url + f"modelhub/api/operations/{job['id']}/log").text
    assert "adding the Dask worker packages to batch-env" in log, log
    again = run_job(
        server,
        model="lr:1",
        inputs=[str(data / "a.csv")],
        entry_script=str(score),
        settings={"environment": "batch-env"},
    )
    assert again["status"] == "succeeded", again["error"]
    log = server.session.get(server.url + f"modelhub/api/operations/{again['id']}/log").text
    assert "adding the Dask worker packages" not in log, "added once per environment"

    unknown = post_job(server, model="lr:1", inputs=[str(data / "a.csv")], settings={"environment": "nope"})
    assert unknown.status_code == 404 and "nope" in unknown.json()["message"], unknown.text
    both = post_job(
        server,
        model="lr:1",
        inputs=[str(data / "a.csv")],
        settings={"environment": "batch-env", "scheduler": "tcp://127.0.0.1:8786"},
    )
    assert both.status_code == 400 and "not both" in both.json()["message"], both.text


def test_a_job_handed_to_a_standby_worker_is_adopted_after_a_server_restart(tmp_path):
    """A job runs in the standby worker it was handed to; a server killed meanwhile and started
    again finds it by that worker's pid and claim, reports it running, and it completes."""
    s = ServerProcess(tmp_path)
    go = s.folder / "notebooks" / "go"
    try:
        s.client().register("lr", CLF, sample=X[:3])
        pd.DataFrame(X[:10], columns=COLUMNS).to_csv(s.folder / "notebooks" / "few.csv", index=False)
        assert run_job(s, model="lr:1", inputs=[str(s.folder / "notebooks" / "few.csv")])["status"] == "succeeded"
        standby = wait_until(
            lambda: standby_pid(s.root / "operations" / "standby-batch.log"), 180, "a standby batch worker to be ready"
        )
        waiting = script(
            s,
            "wait_for_go.py",
            f"""
            import time
            from pathlib import Path

            def run(mini_batch):
                while not Path({str(go)!r}).exists():  # the test says when
                    time.sleep(0.05)
                return [len(mini_batch)]
            """,
        )
        response = post_job(
            s,
            model="lr:1",
            inputs=[str(s.folder / "notebooks" / "few.csv")],
            entry_script=str(waiting),
            settings={"timeout": 600},
        )
        job_id = response.json()["id"]
        wait_until(
            lambda: (
                (s.root / "operations" / str(job_id) / "started").exists()
                and list((s.root / "operations" / str(job_id) / "started").iterdir())
            ),
            120,
            "the mini-batch to start",
        )
        assert worker_pid(s, job_id) == standby
    finally:
        s.process.kill()
        s.process.wait(30)
    again = ServerProcess(tmp_path, port=s.port)
    try:
        assert again.session.get(again.url + f"modelhub/api/jobs/{job_id}").json()["status"] == "running"
        go.write_text("go")
        done = wait_for_job(again, job_id)
        assert done["status"] == "succeeded", done["error"]
        assert pd.read_csv(done["output"])["result"].tolist() == [1]
    finally:
        again.stop()
