"""What the batch routes answer: a job (an operation of kind batch, with its settings, output and
mini-batch table), a page of jobs, and batch endpoints, as pydantic models.

The batch service builds these, the handlers serialise them (``as_dict``), and the OpenAPI
document is generated from them (``api.schemas`` re-exports them).

Not here: the request bodies (``api.schemas.batch``), the settings (``settings``).
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import ConfigDict, Field, field_validator

from ..operations.views import Operation
from ..views import View


class FileFailure(View):
    file: str
    error: str


class MiniBatch(View):
    index: int
    status: str = Field(
        description="succeeded, partly failed (some of its files failed, the others' rows are in the "
        "output), failed, retrying or reused"
    )
    files: list[str]
    failed_files: list[FileFailure] = Field(
        default_factory=list, description="files that failed while the mini-batch's other files were scored"
    )
    retries: list[str] = Field(
        default_factory=list, description="the error of each attempt that was tried again, in order"
    )
    not_retried: Optional[str] = Field(
        None, description="why a failure was not tried again: an error the same input repeats is not retried"
    )
    rows_in: Optional[int]
    rows_out: Optional[int]
    seconds: Optional[float]
    attempts: Optional[int]
    worker: Optional[str]
    error: Optional[str] = Field(description="what went wrong, naming the files")
    traceback: Optional[str]
    reused_from: Optional[int] = Field(description="the job (--resume) it was taken from")

    @field_validator("seconds", mode="wrap")
    @classmethod
    def _as_recorded(cls, value, handler):
        """A timed-out mini-batch records its timeout, a whole number: answered as recorded, not as a float."""
        return value if isinstance(value, int) and not isinstance(value, bool) else handler(value)


class Job(Operation):
    """A batch job: an operation of kind batch, with the settings, the output and the mini-batch table."""

    model_config = ConfigDict(extra="allow")

    job: int
    model: str
    endpoint: Optional[str]
    settings: dict[str, Any] = Field(description="BatchSettings (env_vars as names only)")
    entry_script: Optional[str]
    inputs: dict[str, Any] = Field(description='{"files": count, "first": the first paths}')
    output: Optional[str] = Field(description="the output file (written under a temporary name until it succeeds)")
    output_dir: str
    notebook: Optional[str] = Field(description="the executed scoring notebook: the job's log")
    notebook_lab_path: Optional[str] = Field(description="the same, relative to the server's root (JupyterLab)")
    summary: Optional[dict[str, Any]]
    resume: Optional[int]
    mini_batches: Optional[list[MiniBatch]] = Field(None, description="GET jobs/{id} only")


class JobPage(View):
    jobs: list[Job]
    total: int
    page: int
    per_page: int


class BatchEndpoint(View):
    model_config = ConfigDict(extra="allow")

    name: str
    version: int
    model: str
    settings: dict[str, Any]
    entry_script: Optional[str]
    description: str
    created_time: str
    created_by: str
    versions: Optional[list[dict[str, Any]]] = Field(None, description="GET batch-endpoints/{name}: its history")


class BatchEndpointList(View):
    batch_endpoints: list[BatchEndpoint]
