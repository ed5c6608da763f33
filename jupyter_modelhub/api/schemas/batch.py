"""Batch scoring: the job and batch-endpoint requests, and what a job (an operation of kind batch
with its mini-batches) and a batch endpoint answer: the models of ``batch.views`` (the batch
service builds them), re-exported here.

Not here: online endpoints (``endpoints``).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import Field, StringConstraints

from ...batch.settings import BatchSettings
from ...batch.views import (  # noqa: F401  (re-exported: batch's response models)
    BatchEndpoint,
    BatchEndpointList,
    Job,
    JobPage,
    MiniBatch,
)
from .common import NAME_PATTERN, NO_NUL, Int, Strict

Path = Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=4096)]


class JobRequest(Strict):
    """what to score: model or endpoint, inputs, and optionally output, overwrite, entry_script, settings, resume,
    cwd"""

    model: Optional[str] = Field(None, description="NAME, NAME:VERSION or NAME@ALIAS, or a batch endpoint's name")
    endpoint: Optional[str] = Field(None, description="a batch endpoint's name (its newest version runs)")
    inputs: list[Path] = Field(
        default_factory=list,
        max_length=10_000,
        description="absolute files, folders or globs under the server's root, or s3:// URLs (an object, a prefix, a glob)",
    )
    output: Optional[Path] = Field(
        None,
        description="output folder or s3://BUCKET/PREFIX/ (committed by a _SUCCESS marker written last); default batch-outputs/<model>-<job> in cwd",
    )
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
