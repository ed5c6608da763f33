"""Dask worker preload of a batch job's LocalCluster: load the model while the kernel starts.

The job's worker starts its cluster and papermill's kernel side by side, and makes the job's plan
meanwhile; with this preload each Dask worker, once it has joined, reads the plan
(``MODELHUB_BATCH_JOB_DIR``) and loads the model (or imports the entry script and runs
``init()``) in a thread of its own, before the first mini-batch reaches it or while it waits for
the load (``minibatch._model`` loads once per job, under a lock). The worker joins the cluster
without waiting for the load: the cluster is ready sooner, and the load runs while the notebook
connects. A failure here is left for the first mini-batch to report, with its reason.

A cluster a standby worker starts before its job exists has no plan to read: its workers import
what every mini-batch needs (pyarrow's readers and writers, onnxruntime, the scorers, and s3fs
where it is installed, for ``s3://`` inputs and outputs) instead.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

PLAN_WAIT = (
    60.0  # seconds a worker of a job's cluster waits for the plan before leaving the load to its first mini-batch
)


def dask_setup(worker) -> None:
    folder = os.environ.get("MODELHUB_BATCH_JOB_DIR")
    if folder:
        threading.Thread(target=_load_when_planned, args=(Path(folder),), name="modelhub-preload", daemon=True).start()
        return
    try:
        _import_scoring()
        try:  # s3:// inputs and outputs: about half a second of imports, off the first mini-batch
            import s3fs  # noqa: F401
        except ImportError:
            pass
    except BaseException:  # the first mini-batch imports them again and reports what is wrong
        return


def _import_scoring() -> None:
    import onnxruntime  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from ..serving import scorers  # noqa: F401


def _load_when_planned(folder: Path) -> None:
    """The job's model, once its worker has written the plan (a cold job starts its cluster while
    it makes the plan)."""
    try:
        _import_scoring()
        from . import minibatch

        deadline = time.monotonic() + PLAN_WAIT
        while True:
            try:
                plan = json.loads((folder / "job.json").read_text())
                break
            except (OSError, ValueError):  # not written yet, or being written
                if time.monotonic() > deadline:
                    return
                time.sleep(0.02)
        minibatch.preload(
            {
                "job": str(plan["job"]),
                "model_dir": plan["model"]["model_dir"],
                "flavor": plan["model"]["flavor"],
                "signature": plan["model"].get("signature"),
                "entry_script": plan.get("entry_script"),
                "env_vars": plan["settings"]["env_vars"],
            }
        )
    except BaseException:  # the first mini-batch loads it again and reports what is wrong
        return
