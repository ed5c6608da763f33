"""Batch scoring: the job and batch-endpoint requests, and what a job (an operation of kind batch
with its mini-batches) and a batch endpoint answer.

Not here: online endpoints (``endpoints``).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ...batch.settings import BatchSettings
from .common import NAME_PATTERN, NO_NUL, Int, Strict
from .operations import Operation

Path = Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=4096)]


class JobRequest(Strict):
    """what to score: model or endpoint, inputs, and optionally output, overwrite, entry_script, settings, resume,
    cwd"""

    model: Optional[str] = Field(None, description="NAME, NAME:VERSION or NAME@ALIAS, or a batch endpoint's name")
    endpoint: Optional[str] = Field(None, description="a batch endpoint's name (its newest version runs)")
    inputs: list[Path] = Field(
        default_factory=list, max_length=10_000, description="absolute files, folders or globs under the server's root"
    )
    output: Optional[Path] = Field(None, description="output folder; default batch-outputs/<model>-<job> in cwd")
    overwrite: bool = Field(
        False,
        description="replace the output file if it exists (else a 409, and a file "
        "created while the job runs fails the job rather than being "
        "replaced)",
    )
    entry_script: Optional[Path] = Field(None, description="an Azure batch entry script: init(), run(mini_batch)")
    settings: Optional[dict[str, Any]] = Field(None, description="BatchSettings fields to set")
    resume: Optional[Int] = Field(
        None, ge=1, le=2**31 - 1, description="a failed job whose finished mini-batches to reuse"
    )
    cwd: Optional[Path] = Field(None, description="the client's working folder (where a default output goes)")


class BatchEndpointRequest(Strict):
    """a batch endpoint: name, model, and optionally settings, entry_script, description"""

    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    model: str = Field(description="NAME, NAME:VERSION or NAME@ALIAS")
    settings: Optional[dict[str, Any]] = None
    entry_script: Optional[Path] = None
    description: Annotated[str, StringConstraints(pattern=NO_NUL, max_length=4096)] = ""


class EndpointJobRequest(Strict):
    """inputs to score with a batch endpoint, and optionally output, overwrite, settings to override, resume, cwd"""

    inputs: list[Path] = Field(default_factory=list, max_length=10_000)
    output: Optional[Path] = None
    overwrite: bool = Field(False, description="replace the output file if it exists")
    settings: Optional[dict[str, Any]] = None
    resume: Optional[Int] = Field(None, ge=1, le=2**31 - 1)
    cwd: Optional[Path] = None


class MiniBatch(BaseModel):
    index: int
    status: str = Field(description="succeeded, failed, retrying or reused")
    files: list[str]
    rows_in: Optional[int]
    rows_out: Optional[int]
    seconds: Optional[float]
    attempts: Optional[int]
    worker: Optional[str]
    error: Optional[str] = Field(description="what went wrong, naming the files")
    traceback: Optional[str]
    reused_from: Optional[int] = Field(description="the job (--resume) it was taken from")


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


class JobPage(BaseModel):
    jobs: list[Job]
    total: int
    page: int
    per_page: int


class BatchEndpoint(BaseModel):
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


class BatchEndpointList(BaseModel):
    batch_endpoints: list[BatchEndpoint]


SCHEMAS = [
    JobRequest,
    BatchEndpointRequest,
    EndpointJobRequest,
    BatchSettings,
    MiniBatch,
    Job,
    JobPage,
    BatchEndpoint,
    BatchEndpointList,
]
