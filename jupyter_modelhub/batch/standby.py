"""What a standby batch worker prepares before its job exists (``operations.runner``'s standby).

A job's fixed cost is mostly starting processes: the worker itself, papermill's imports, the
kernel, the Dask cluster. A standby worker does all of it ahead, its cluster of the shape the
last job had (``standby-batch.json``, the default settings' before any), and the job it is handed
uses what fits: always the kernel, and the cluster when the job asks for the same number of
workers and threads (else it starts its own, as a cold worker does).
"""

from __future__ import annotations

import json
from pathlib import Path

from .cluster import ClusterStarter
from .kernel import import_papermill, start_kernel, warm_up
from .settings import BatchSettings

SHAPE = "standby-batch.json"  # in the operations folder: the cluster shape of the last job


def remember_shape(root: Path, settings: dict) -> None:
    """The next standby's cluster gets this job's shape (a job run again finds its cluster warm)."""
    if settings.get("scheduler") or settings.get("environment"):
        return
    shape = {"workers": settings["workers"], "max_concurrency": settings["max_concurrency"]}
    (Path(root) / "operations" / SHAPE).write_text(json.dumps(shape))


class BatchStandby:
    def __init__(self, root: Path):
        try:
            settings = BatchSettings(**json.loads((Path(root) / "operations" / SHAPE).read_text())).model_dump()
        except (OSError, ValueError, TypeError):  # none yet (pydantic's errors are ValueErrors)
            settings = BatchSettings().model_dump()
        self.cluster: ClusterStarter | None = ClusterStarter(settings).start()
        self.kernel = start_kernel(Path(root) / "operations")
        import_papermill()  # imported now: the job's path no longer pays for it

        warm_up(self.kernel)
        self.cluster.wait()  # "ready" (the runner's log) means all of it: a job handed over now waits for nothing

    def take_cluster(self, settings: dict) -> ClusterStarter | None:
        """The cluster started ahead, if it has the job's shape (it is then the job's to close)."""
        cluster, self.cluster = self.cluster, None
        if cluster is not None and cluster.matches(settings):
            return cluster
        if cluster is not None:
            cluster.close()
        return None

    def take_kernel(self):
        kernel, self.kernel = self.kernel, None
        return kernel

    def close(self) -> None:
        """Stop what was never used (the server stopped before a job came)."""
        if self.cluster is not None:
            self.cluster.close()
        if self.kernel is not None:
            from jupyter_core.utils import run_sync

            run_sync(self.kernel.shutdown_kernel)(now=True)
