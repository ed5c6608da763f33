"""Dask worker preload of a batch job's LocalCluster: load the model while the kernel starts.

The job's worker starts its cluster and papermill's kernel side by side, and makes the job's plan
meanwhile; with this preload each Dask worker reads the plan (``MODELHUB_BATCH_JOB_DIR``, waiting
for it if the worker came up first) and loads the model (or imports the entry script and runs
``init()``) before the first mini-batch reaches it, so that time is not on the job's path. A
failure here, or a plan that does not come, is left for the first mini-batch to report, with its
reason.

A cluster a standby worker starts before its job exists has no plan to read: its workers import
what every mini-batch needs (pyarrow's readers and writers, onnxruntime, the scorers, and s3fs
where it is installed, for ``s3://`` inputs and outputs) instead.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

PLAN_WAIT = 10.0  # seconds a worker waits for its job's plan (made in well under one) before it leaves the load to its first mini-batch


def dask_setup(worker) -> None:
    folder = os.environ.get("MODELHUB_BATCH_JOB_DIR")
    if folder:
        _load_when_planned(Path(folder))
        return
    try:
        import onnxruntime  # noqa: F401
        import pyarrow.csv  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        from ..serving import scorers  # noqa: F401

        try:  # s3:// inputs and outputs: about half a second of imports, off the first mini-batch
            import s3fs  # noqa: F401
        except ImportError:
            pass
    except BaseException:  # the first mini-batch imports them again and reports what is wrong
        return


def _load_when_planned(folder: Path) -> None:
    """The job's model, once the job's worker has written the plan (a cold job starts its cluster
    while it makes the plan)."""
    try:
        from . import minibatch  # what it imports besides is the plan's to say (a script needs no onnxruntime)

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
