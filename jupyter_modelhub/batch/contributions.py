"""What batch scoring adds to the whole (``jupyter_modelhub.contributions``): the ``batch`` kind
(with its standby warm-up and its clean-up), and batch endpoints as users of a version."""

from __future__ import annotations

from pathlib import Path

from ..contributions import Contribution, OperationKind, ScheduleTarget
from ..progress import Progress
from . import scheduling


def run_batch(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """A batch job: the scoring notebook run by papermill, its mini-batches on Dask workers."""
    from .execution import run_job

    result = run_job(services, inputs, progress)
    return result, {"type": "job", "id": result["job"], "output": result["output"], "notebook": result["notebook"]}


def warm_batch(root: Path):
    """A standby batch worker's warm-up: a kernel and a Dask cluster, started before the job exists."""
    from .standby import BatchStandby

    return BatchStandby(root)


def clean_up_batch(services, operation_id: int) -> None:
    """After a worker killed midway: its kernel, and any partial output."""
    from .execution import cleanup

    cleanup(services.root, operation_id)


def batch_endpoint_references(services, session) -> dict[str, list[str]]:
    return services.batch.endpoints.references(session)


BATCH = OperationKind("batch", run=run_batch, cleanup=clean_up_batch, warm_up=warm_batch)
SCHEDULED_BATCH = ScheduleTarget(
    "batch", check=scheduling.check, start=scheduling.start, guard=scheduling.guard, shown=scheduling.shown
)
CONTRIBUTION = Contribution(
    kinds=(BATCH,), references=(batch_endpoint_references,), schedule_targets=(SCHEDULED_BATCH,)
)
