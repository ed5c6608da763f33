"""What the operations routes answer: an operation (its status, progress, result or error) and a
page of them, as pydantic models.

The store builds these from its rows, the handlers serialise them (``as_dict``), and the OpenAPI
document is generated from them (``api.schemas`` re-exports them); a batch job is an operation
with more fields (``api.schemas.batch.Job``).

Not here: the rows, queries and state changes (``store``).
"""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from ..views import View


class Progress(View):
    done: Optional[int] = None
    total: Optional[int] = Field(None, description="null while the amount of work is unknown")
    unit: str = ""
    message: str = ""
    updated_time: Optional[str] = Field(None, description="when the worker last reported (UTC, milliseconds)")


class OperationError(View):
    message: str
    reason: str = Field(
        description="invalid, not_found, conflict (as the synchronous routes), failed, cancelled "
        "or restarted; a refused conversion also carries its report"
    )
    report: Optional[dict] = None


class Operation(View):
    """Long work: a conversion, a deploy that builds an environment (later image builds, batch jobs)."""

    id: int
    kind: str = Field(description="convert, deploy, image_build, image_push, batch or replay")
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


class OperationPage(View):
    operations: list[Operation]
    total: int
    page: int
    per_page: int
