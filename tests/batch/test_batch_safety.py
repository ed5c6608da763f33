"""Batch jobs never lose a user's file, never score their own output, keep their own bounded
log, leave no process behind, and refuse what cannot work up front.

A real Jupyter server, real papermill + ipykernel, a real Dask LocalCluster, real standby
workers (issue 18, points 2, 3, 6, 8 and 11).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import psutil
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.operations import standby_pid
from helpers.servers import ServerProcess, wait_until

pytestmark = pytest.mark.timeout(600)

X, y = make_classification(200, 4, random_state=0)
CLF = LogisticRegression().fit(X, y)
COLUMNS = [f"f{i}" for i in range(4)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("batch-safety"))
    s.client().register("lr", CLF, sample=X[:3])
    yield s
    s.stop()


def tables(folder: Path) -> Path:
    """Two CSV files of 100 rows in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(X[:100], columns=COLUMNS).to_csv(folder / "a.csv", index=False)
    pd.DataFrame(X[100:], columns=COLUMNS).to_csv(folder / "b.csv", index=False)
    return folder


def post_job(server: ServerProcess, **body):
    return server.session.post(server.url + "modelhub/api/jobs", json=body, timeout=60)


def job(server: ServerProcess, job_id: int) -> dict:
    return server.session.get(server.url + f"modelhub/api/jobs/{job_id}", timeout=30).json()


def run_job(server: ServerProcess, **body) -> dict:
    response = post_job(server, **body)
    assert response.status_code == 202, response.text
    return wait_for_job(server, response.json()["id"])


def wait_for_job(server: ServerProcess, job_id: int) -> dict:
    return wait_until(
        lambda: (lambda j: j if not j["active"] else None)(job(server, job_id)), 240, f"batch job {job_id} to end"
    )


def script(server: ServerProcess, name: str, code: str) -> Path:
    path = server.folder / "notebooks" / "scripts" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(code))
    return path


def waiting_script(server: ServerProcess, go: Path) -> Path:
    """An entry script whose mini-batches wait until the test creates ``go``."""
    return script(
        server,
        f"wait_{go.name}.py",
        f"""
        import time
        from pathlib import Path

        def run(mini_batch):
            while not Path({str(go)!r}).exists():
                time.sleep(0.05)
            return [len(mini_batch)]
        """,
    )


# -- point 2: an output is never replaced unless asked, and never shared by two jobs ----------------


def test_an_existing_output_file_is_refused_and_kept_unless_overwrite(server):
    data = tables(server.folder / "notebooks" / "mine-in")
    out = server.folder / "notebooks" / "mine-out"
    out.mkdir()
    (out / "predictions.csv").write_text("the user's own file\n")
    before = server.session.get(server.url + "modelhub/api/jobs").json()["total"]
    refused = post_job(server, model="lr:1", inputs=[str(data)], output=str(out))
    assert refused.status_code == 409, refused.text
    message = refused.json()["message"]
    assert str(out / "predictions.csv") in message and "--overwrite" in message, message
    assert (out / "predictions.csv").read_text() == "the user's own file\n"
    assert server.session.get(server.url + "modelhub/api/jobs").json()["total"] == before, "nothing started"

    replaced = run_job(server, model="lr:1", inputs=[str(data)], output=str(out), overwrite=True)
    assert replaced["status"] == "succeeded", replaced["error"]
    assert len(pd.read_csv(out / "predictions.csv")) == 200
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no partial file is left"


def test_two_jobs_cannot_target_one_output_and_a_file_made_meanwhile_is_kept(server):
    data = tables(server.folder / "notebooks" / "shared-in")
    out = server.folder / "notebooks" / "shared-out"
    go = server.folder / "notebooks" / "go-shared"
    first = post_job(
        server,
        model="lr:1",
        inputs=[str(data / "a.csv")],
        output=str(out),
        entry_script=str(waiting_script(server, go)),
        settings={"timeout": 600},
    )
    assert first.status_code == 202, first.text
    first_id = first.json()["id"]
    try:
        for overwrite in (False, True):
            second = post_job(server, model="lr:1", inputs=[str(data)], output=str(out), overwrite=overwrite)
            assert second.status_code == 409, second.text
            message = second.json()["message"]
            assert message.startswith(f"Job {first_id} (") and str(out / "predictions.csv") in message, message
            assert "wait for it, cancel it, or choose another --output" in message, message
        # the user saves a file of that name while the job runs: the job must not replace it
        wait_until(lambda: job(server, first_id)["status"] == "running", 120, "the first job to run")
        out.mkdir(exist_ok=True)
        (out / "predictions.csv").write_text("made while the job ran\n")
    finally:
        go.write_text("go")  # the job ends whatever this test found
    ended = wait_for_job(server, first_id)
    assert ended["status"] == "failed", ended
    assert str(out / "predictions.csv") in ended["error"]["message"], ended["error"]
    assert "--overwrite" in ended["error"]["message"], ended["error"]
    assert (out / "predictions.csv").read_text() == "made while the job ran\n"
    assert ended["output"] is None, "the record claims no output it did not write"
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no partial file is left"


# -- point 3: an output folder inside an input folder ------------------------------------------------


def test_an_output_inside_its_input_folder_is_not_scored_on_the_next_run(server):
    data = tables(server.folder / "notebooks" / "nested")
    out = data / "preds"
    for overwrite in (False, True):  # the second run replaces the first one's output, as asked
        ran = run_job(server, model="lr:1", inputs=[str(data)], output=str(out), overwrite=overwrite)
        assert ran["status"] == "succeeded", ran["error"]
        assert ran["inputs"]["files"] == 2 and ran["summary"]["rows_out"] == 200, ran["summary"]
        assert sorted(pd.read_csv(ran["output"])["file"].unique()) == ["a.csv", "b.csv"]


# -- point 11: an unreachable scheduler and loose types are a 400 ------------------------------------


def test_an_unreachable_scheduler_and_settings_of_the_wrong_type_are_refused(server):
    data = tables(server.folder / "notebooks" / "strict-in")
    refused = post_job(server, model="lr:1", inputs=[str(data)], settings={"scheduler": "tcp://127.0.0.1:1"})
    assert refused.status_code == 400, refused.text
    assert "tcp://127.0.0.1:1" in refused.json()["message"], refused.text
    for field, value in [
        ("mini_batch_size", True),
        ("mini_batch_size", "10"),
        ("max_retries", 2.0),
        ("timeout", "5"),
        ("workers", False),
    ]:
        response = post_job(server, model="lr:1", inputs=[str(data)], settings={field: value})
        assert response.status_code == 400, (field, value, response.text)
        assert field in response.json()["message"], response.text


# -- points 6 and 8: a job's own bounded log, and no process left behind ----------------------------


def test_a_standby_jobs_output_goes_to_its_own_bounded_log(server):
    data = tables(server.folder / "notebooks" / "noisy-in")
    first = run_job(server, model="lr:1", inputs=[str(data / "a.csv")], output=str(server.folder / "notebooks" / "n0"))
    assert first["status"] == "succeeded", first["error"]
    standby_log = server.root / "operations" / "standby-batch.log"
    ready = wait_until(lambda: standby_pid(standby_log), 180, "a standby batch worker to be ready")
    size = standby_log.stat().st_size
    noisy = script(
        server,
        "noisy.py",
        """
        def run(mini_batch):
            print("HEAD OF THE OUTPUT", flush=True)
            for i in range(4000):
                print(f"line {i} " + "x" * 1000)
            print("TAIL OF THE OUTPUT", flush=True)
            return [len(mini_batch)]
        """,
    )
    ran = run_job(
        server,
        model="lr:1",
        inputs=[str(data / "a.csv")],
        entry_script=str(noisy),
        output=str(server.folder / "notebooks" / "n1"),
    )
    assert ran["status"] == "succeeded", ran["error"]
    assert int((server.root / "operations" / str(ran["id"]) / "standby.pid").read_text()) == ready
    log = server.root / "operations" / str(ran["id"]) / "log"
    text = log.read_text()
    assert "HEAD OF THE OUTPUT" in text and "TAIL OF THE OUTPUT" in text
    assert "bytes of output cut" in text, text[:3000]
    assert log.stat().st_size < 3 * 2**20, "the log is bounded (4 MB were printed)"
    assert standby_log.stat().st_size - size < 64 * 1024, "the standby log does not take the job's output"


def test_a_process_an_entry_script_starts_ends_with_its_job(server):
    data = tables(server.folder / "notebooks" / "forks-in")
    pid_file = server.folder / "notebooks" / "forked.pid"
    forks = script(
        server,
        "forks.py",
        f"""
        import subprocess
        import sys
        from pathlib import Path

        SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]

        def init():
            child = subprocess.Popen(SLEEP)
            # and one whose parent has gone: no walk of the process tree finds it, only its group
            starter = subprocess.run([sys.executable, "-c", "import subprocess, sys; "
                                      f"print(subprocess.Popen({{SLEEP!r}}, stdout=subprocess.DEVNULL, "
                                      "stderr=subprocess.DEVNULL).pid)"], capture_output=True, text=True)
            Path({str(pid_file)!r}).write_text(f"{{child.pid}} {{starter.stdout.strip()}}")

        def run(mini_batch):
            return [len(mini_batch)]
        """,
    )
    ran = run_job(
        server,
        model="lr:1",
        inputs=[str(data / "a.csv")],
        entry_script=str(forks),
        output=str(server.folder / "notebooks" / "forks-out"),
    )
    assert ran["status"] == "succeeded", ran["error"]
    forked = [int(pid) for pid in pid_file.read_text().split()]
    assert len(forked) == 2, forked
    wait_until(
        lambda: not any(_alive(pid) for pid in forked), 60, f"the processes the entry script started ({forked}) to end"
    )
    # the next standby worker is not caught by that clean-up: the next job runs in it
    ready = wait_until(
        lambda: standby_pid(server.root / "operations" / "standby-batch.log"), 180, "a standby batch worker to be ready"
    )
    again = run_job(server, model="lr:1", inputs=[str(data / "a.csv")], output=str(server.folder / "notebooks" / "f2"))
    assert again["status"] == "succeeded", again["error"]
    assert int((server.root / "operations" / str(again["id"]) / "standby.pid").read_text()) == ready


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
