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
    kind: str = Field(description="convert, deploy, image_build, image_push, batch, replay or monitor")
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


class ScheduleTarget(View):
    kind: str = Field(description="the kind of operation it starts: batch (later: monitor)")
    inputs: dict = Field(description="what it starts, as that kind takes it (batch: a job request)")
    subject: str = Field(description="what it concerns: the batch endpoint or model")


class ScheduleRunError(View):
    message: str
    reason: str = Field(description="invalid, not_found, conflict... as the REST API's errors, or internal")
    at: str = Field(description="the time the run was due")


class Schedule(View):
    """A cron expression in a time zone that starts an operation at its times."""

    id: int
    name: str
    cron: str = Field(description="five fields: minute hour day-of-month month day-of-week")
    timezone: str = Field(description="IANA name the cron expression is read in, e.g. Europe/Paris")
    description: str = Field(description="the cron expression in words, e.g. 'At 02:00'")
    target: ScheduleTarget
    model: Optional[str] = Field(description="the model whose permissions guard it (write to change it)")
    enabled: bool = Field(description="false while paused: it fires again once resumed, from then on")
    missed_policy: str = Field(
        description="what a server does at start with times no server was running for: skip (record them "
        "as missed) or run_once (record them, and run once now)"
    )
    next_run_at: Optional[str] = Field(description="when it fires next (null while paused)")
    last_run_at: Optional[str] = Field(description="the time of its last run")
    last_operation: Optional[int] = Field(
        description="the operation its last run started (a batch job's id); null for the moment between its "
        "time being claimed and the operation being queued"
    )
    last_error: Optional[ScheduleRunError] = Field(description="why its last run could not start, if it could not")
    runs: int = Field(description="runs started")
    missed: int = Field(description="times no server was running to fire it (skipped)")
    last_missed_at: Optional[str] = Field(description="the last time it missed")
    host: Optional[str] = Field(description="the machine whose files it names: only servers there fire it")
    created_time: str
    created_by: str
    updated_time: str


class ScheduleList(View):
    schedules: list[Schedule]
