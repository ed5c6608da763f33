"""Operations: long work (a conversion, a deploy that builds, an image build, a batch job) as
a row with a status, progress and a result.

Not here: what a batch job adds to its operation (``batch``).
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, Field


class Progress(BaseModel):
    done: Optional[int] = None
    total: Optional[int] = Field(None, description="null while the amount of work is unknown")
    unit: str = ""
    message: str = ""
    updated_time: Optional[str] = Field(None, description="when the worker last reported (UTC, milliseconds)")


class OperationError(BaseModel):
    message: str
    reason: str = Field(
        description="invalid, not_found, conflict (as the synchronous routes), failed, cancelled "
        "or restarted; a refused conversion also carries its report"
    )
    report: Optional[dict] = None


class Operation(BaseModel):
    """Long work: a conversion, a deploy that builds an environment (later image builds, batch jobs)."""

    id: int
    kind: str = Field(description="convert, deploy, build or batch")
    subject: str = Field(description="the model version, endpoint or image it concerns")
    status: str = Field(description="queued -> running -> succeeded | failed | cancelled")
    active: bool = Field(description="true while queued or running")
    progress: Progress
    queue_position: Optional[int] = Field(description="place among queued operations of its kind (from 1)")
    created_time: str
    started_time: Optional[str]
    ended_time: Optional[str]
    created_by: str
    result: Optional[dict] = Field(description="convert: the Conversion; deploy: the EndpointInfo")
    link: Optional[dict] = Field(
        description='what the result is: {"type": "version", "ref": ...} or {"type": "endpoint", "name": ...}'
    )
    error: Optional[OperationError]


class OperationPage(BaseModel):
    operations: list[Operation]
    total: int
    page: int
    per_page: int
