"""Monitoring: setting a version's reference profile, and what a profile and a monitor report are
(the models of ``monitoring.profile`` and ``monitoring.drift``, re-exported here).

Not here: endpoints' collected data (the collection module's own schemas).
"""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import Field, StringConstraints

from ...monitoring.drift import MonitorReport  # noqa: F401  (re-exported)
from ...monitoring.profile import ReferenceProfile  # noqa: F401  (re-exported)
from .common import MAX_NAME, UPLOAD_ID_PATTERN, JSONValue, Strict, text

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


SCHEMAS = [Rows, ReferenceRequest, ReferenceProfile, MonitorReport]
