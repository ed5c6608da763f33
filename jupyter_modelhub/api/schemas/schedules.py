"""Schedules: what saving and changing a schedule takes, and what a schedule answers (the models of
``operations.views``, which the schedule store builds, re-exported here).

Not here: the cron grammar and the zones (``operations.cron`` checks them and says what is wrong,
as a 400), what each kind's inputs hold (the kind's ``ScheduleTarget`` checks them).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import Field, StringConstraints

from ...operations.views import (  # noqa: F401  (re-exported: the schedules' response models)
    Schedule,
    ScheduleList,
    ScheduleRunError,
    ScheduleTarget,
)
from .common import NAME_PATTERN, NO_NUL, Strict

Cron = Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=128)]
Zone = Annotated[str, StringConstraints(pattern=NO_NUL, min_length=1, max_length=64)]
MissedPolicy = Literal["skip", "run_once"]


class TargetRequest(Strict):
    """what a schedule starts: kind (batch) and its inputs (for batch: a job request, as POST jobs takes)"""

    kind: Annotated[str, StringConstraints(pattern="^[a-z][a-z_]{0,31}$", max_length=32)] = Field(description="batch")
    inputs: dict[str, Any] = Field(
        description='batch: {"endpoint": NAME (or "model": REF), "inputs": [paths or s3:// URLs], and '
        'optionally "output", "overwrite", "settings", "cwd"}'
    )


class ScheduleRequest(Strict):
    """a schedule: name, cron, target, and optionally timezone, enabled, missed_policy"""

    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=128)]
    cron: Cron = Field(description="five fields, minute hour day-of-month month day-of-week, e.g. '0 2 * * *'")
    timezone: Zone = Field("UTC", description="an IANA time zone the cron expression is read in, e.g. Europe/Paris")
    target: TargetRequest
    enabled: bool = True
    missed_policy: MissedPolicy = Field("skip", description="skip (record missed times) or run_once (and run once)")


class ScheduleUpdate(Strict):
    """what to change in a schedule: cron, timezone, target, missed_policy, enabled (false pauses it, true resumes)"""

    cron: Optional[Cron] = None
    timezone: Optional[Zone] = None
    target: Optional[TargetRequest] = None
    enabled: Optional[bool] = None
    missed_policy: Optional[MissedPolicy] = None


SCHEMAS = [ScheduleRequest, ScheduleUpdate, Schedule, ScheduleList]
