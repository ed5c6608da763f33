"""A broken file costs only its own rows (issue 23, defect 10), on a real server, papermill and
Dask LocalCluster: its mini-batch's other files are scored on their own, the job says which file
failed and why, and an error the same input repeats (a missing column) is not retried, while one
that may pass next time is, with the reason in the job's table."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.servers import ServerProcess, wait_until

pytestmark = pytest.mark.timeout(600)

X, y = make_classification(300, 4, random_state=1)
COLUMNS = [f"f{i}" for i in range(4)]
FRAME = pd.DataFrame(X, columns=COLUMNS)
CLF = LogisticRegression().fit(FRAME, y)  # a model of named columns: a file must have them


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ServerProcess(tmp_path_factory.mktemp("partial"))
    s.client().register("lr", CLF, sample=FRAME[:3])
    yield s
    s.stop()


def run_job(server: ServerProcess, **body) -> dict:
    response = server.session.post(server.url + "modelhub/api/jobs", json=body, timeout=60)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    def ended():
        job = server.session.get(server.url + f"modelhub/api/jobs/{job_id}", timeout=30).json()
        return job if not job["active"] else None

    return wait_until(ended, 240, f"batch job {job_id} to end")


def test_a_file_without_a_column_costs_only_its_own_rows_and_is_not_retried(server):
    folder = server.folder / "notebooks" / "columns"
    folder.mkdir(parents=True)
    FRAME[:100].to_csv(folder / "a.csv", index=False)
    FRAME[100:200].drop(columns=["f2"]).to_csv(folder / "broken.csv", index=False)
    FRAME[200:300].to_csv(folder / "c.csv", index=False)

    job = run_job(
        server,
        model="lr:1",
        inputs=[str(folder / n) for n in ("a.csv", "broken.csv", "c.csv")],
        output=str(folder / "out"),
        settings={"mini_batch_size": 3, "max_retries": 3, "error_threshold": -1},
    )
    assert job["status"] == "succeeded", job["error"]
    out = pd.read_csv(job["output"])
    assert out["file"].unique().tolist() == ["a.csv", "c.csv"], "the good files' rows are kept"
    expected = CLF.predict(pd.concat([FRAME[:100], FRAME[200:300]]))
    assert (out["predictions"].to_numpy() == expected).all()

    (row,) = job["mini_batches"]
    assert row["status"] == "partly failed" and row["rows_out"] == 200
    assert [f["file"] for f in row["failed_files"]] == ["broken.csv"]
    assert "Missing columns ['f2']" in row["failed_files"][0]["error"]
    assert row["attempts"] == 1 and row["retries"] == [], "a missing column fails the same way every time"
    assert "not retried" in row["not_retried"]

    summary = job["summary"]
    assert summary["failed_files"] == 1 and summary["failed"] == 0 and summary["partly_failed"] == 1
    assert summary["failures"][0]["file"] == "broken.csv"
    message = job["result"]["message"] if job.get("result") else ""
    notebook = json.dumps(json.loads(Path(job["notebook"]).read_text()))
    for text in (message, notebook):
        assert "Scored 200 rows from 3 files in 1 mini-batch; 1 file failed: broken.csv" in text, text[:2000]

    shown = server.client().job(job["id"])  # what %job shows
    assert f"job {job['id']} lr:1: succeeded, 1 file failed" in shown.text(), shown.text()
    assert "broken.csv failed (its other files were scored): broken.csv: Missing columns" in shown.text()
    assert "succeeded, 1 file failed" in shown._repr_html_() and "partly failed" in shown._repr_html_()


FLAKY_SCRIPT = """
    import os
    from pathlib import Path

    def init():
        pass

    def run(mini_batch):
        names = [Path(p).stem for p in mini_batch]
        if "bad" in names:
            tries = Path(os.environ["MARKER_DIR"]) / "bad-tries"
            tries.write_text(str(int(tries.read_text()) + 1 if tries.exists() else 1))
            raise ConnectionError("the feature store did not answer for bad")
        return [f"{name}:ok" for name in names]
"""


def test_a_script_failing_for_one_file_keeps_the_others_and_retries_with_the_reason(server):
    folder = server.folder / "notebooks" / "flaky"
    folder.mkdir(parents=True)
    for name in ("one", "bad", "two", "three"):
        (folder / f"{name}.txt").write_text(name)
    script = server.folder / "notebooks" / "flaky_score.py"
    script.write_text(textwrap.dedent(FLAKY_SCRIPT))

    job = run_job(
        server,
        model="lr:1",
        inputs=[str(folder / f"{n}.txt") for n in ("one", "bad", "two", "three")],
        entry_script=str(script),
        output=str(folder / "out"),
        settings={
            "mini_batch_size": 2,
            "max_retries": 1,
            "error_threshold": -1,
            "env_vars": {"MARKER_DIR": str(folder)},
        },
    )
    assert job["status"] == "succeeded", job["error"]
    assert pd.read_csv(job["output"])["result"].tolist() == ["one:ok", "two:ok", "three:ok"]
    first, second = job["mini_batches"]
    assert second["status"] == "succeeded" and second["attempts"] == 1
    assert first["status"] == "partly failed" and first["attempts"] == 2
    assert first["failed_files"] == [
        {"file": "bad.txt", "error": "ConnectionError: the feature store did not answer for bad"}
    ]
    assert first["retries"] == ["bad.txt: ConnectionError: the feature store did not answer for bad"]
    # each attempt: run() for the whole mini-batch, then for bad.txt alone
    assert (folder / "bad-tries").read_text() == "4"
    assert job["summary"]["failed_files"] == 1
