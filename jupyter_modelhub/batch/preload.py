"""Dask worker preload of a batch job's LocalCluster: load the model while the kernel starts.

The job's worker starts its cluster and papermill's kernel side by side; with this preload
each Dask worker reads the plan (``MODELHUB_BATCH_JOB_DIR``) and loads the model (or imports the
entry script and runs ``init()``) before the first mini-batch reaches it, so that time is not on
the job's path. A failure here is left for the first mini-batch to report, with its reason.

A cluster a standby worker starts before its job exists has no plan to read: its workers import
what every mini-batch needs (pyarrow's readers and writers, onnxruntime, the scorers, and s3fs
where it is installed, for ``s3://`` inputs and outputs) instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def dask_setup(worker) -> None:
    folder = os.environ.get("MODELHUB_BATCH_JOB_DIR")
    try:
        if not folder:
            import onnxruntime  # noqa: F401
            import pyarrow.csv  # noqa: F401
            import pyarrow.parquet  # noqa: F401

            from ..serving import scorers  # noqa: F401

            try:  # s3:// inputs and outputs: about half a second of imports, off the first mini-batch
                import s3fs  # noqa: F401
            except ImportError:
                pass
            return

        from . import minibatch

        plan = json.loads((Path(folder) / "job.json").read_text())
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
