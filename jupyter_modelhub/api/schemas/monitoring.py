"""Monitoring: setting a version's reference profile, sending labels and replaying an endpoint's
requests, and what a profile, a monitor report (of data or of an endpoint) and a replay report are
(the models of ``monitoring.*``, re-exported here).

Not here: endpoints' collected data (the collection module's own schemas).
"""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import Field, StringConstraints

from ...monitoring.drift import MonitorReport  # noqa: F401  (re-exported)
from ...monitoring.endpoint import EndpointMonitorReport  # noqa: F401  (re-exported)
from ...monitoring.labels import MAX_ID, MAX_LABELS, LabelsStored  # noqa: F401  (re-exported)
from ...monitoring.profile import ReferenceProfile  # noqa: F401  (re-exported)
from ...monitoring.replay import LIMIT, MAX_LIMIT, ReplayReport  # noqa: F401  (re-exported)
from .common import MAX_INT, MAX_NAME, UPLOAD_ID_PATTERN, Int, JSONValue, Label, Ref, Strict, text
from .endpoints import Duration

MAX_ROWS_IN_JSON = 1_000_000  # larger training sets go as an upload (Parquet)


class Rows(Strict):
    """rows as a table: column names, and one list of values per row"""

    columns: list[text(MAX_NAME)] = Field(min_length=1, max_length=1000)
    data: list[list[JSONValue]] = Field(max_length=MAX_ROWS_IN_JSON)


class ReferenceRequest(Strict):
    """the rows to profile: inputs (and predictions) as JSON, or upload_id of a tar holding inputs.parquet or
    inputs.csv (and predictions.parquet or .csv)"""

    inputs: Optional[Rows] = Field(None, description="the model's input features, one row per example")
    predictions: Optional[Rows] = Field(None, description="the model's outputs for those rows, one row each")
    upload_id: Optional[Annotated[str, StringConstraints(pattern=UPLOAD_ID_PATTERN, max_length=32)]] = None
    source: text(200) = Field("", description="where the rows came from, e.g. 'X_train'")


class LabelsRequest(Strict):
    """labels for an endpoint's requests: request_ids[i] (the x-request-id the endpoint answered with) was
    labels[i] (a class or a number); rows[i], for a request that scored several rows, which one (default 0)"""

    request_ids: list[text(MAX_ID)] = Field(min_length=1, max_length=MAX_LABELS)
    labels: list[JSONValue] = Field(min_length=1, max_length=MAX_LABELS)
    rows: Optional[list[Annotated[Int, Field(ge=0, le=MAX_INT)]]] = Field(None, max_length=MAX_LABELS)


class ReplayRequest(Strict):
    """the candidate to replay the endpoint's collected requests to: a version (to, deployed for the replay at 0%
    traffic and removed after) or one of its deployments; the window of requests, and at most limit of them"""

    to: Optional[Ref] = Field(None, description="NAME:VERSION or NAME@ALIAS, deployed for the replay")
    deployment: Optional[Label] = Field(None, description="an existing deployment of the endpoint")
    window: Duration = Field("1d", description="the requests of that long ago until now, e.g. 1h, 1d")
    limit: Int = Field(LIMIT, ge=1, le=MAX_LIMIT, description="requests replayed at most (a sample beyond)")


SCHEMAS = [
    Rows,
    ReferenceRequest,
    ReferenceProfile,
    MonitorReport,
    EndpointMonitorReport,
    LabelsRequest,
    LabelsStored,
    ReplayRequest,
    ReplayReport,
]
