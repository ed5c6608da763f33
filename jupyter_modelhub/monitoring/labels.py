"""Labels sent back for an endpoint's requests (the truth that arrived later), and what they say
about the answers: accuracy (classification) or error (regression) over time.

Where they are kept: Parquet files in the endpoint's folder beside its collected ones,
``endpoints/<name>/labels/labels-<received>-<random>.parquet``, one per request that sent labels,
written by the server (never by the endpoint host: nothing touches the request path). The
collected records are files there already, joined by request id; a table in the registry's
database would put a million-row join through SQL for no gain, and the files go where the
collected ones go. A label sent again for the same request (and row) replaces the earlier one:
the newest file wins when they are read.

A label names a request id (the ``x-request-id`` the endpoint answered with) and, for a request
that scored several rows, the row's position in it (``row``, 0 by default). It is kept as text
(compared as text, like categories: ``1`` and ``"1"`` are one class) and, when it is a number,
as that number too (for regression errors).

Not here: reading collected requests (``collected``); the REST handler (``api.monitoring``).
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from ..errors import InvalidInput

FOLDER = "labels"
MAX_LABELS = 1_000_000  # in one request; the client sends more in several
MAX_ID = 128  # the collector's own bound on a request id
MAX_LABEL = 256  # characters of a label kept
BUCKETS = 12  # time buckets a performance report is cut into (about)
NICE_BUCKETS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)


class LabelsStored(BaseModel):
    endpoint: str
    stored: int = Field(description="labels written (one per request id and row)")
    replaced: int = Field(description="of those, labels that replace one sent before for the same request and row")
    matched: int = Field(description="of those, labels whose request id is among the endpoint's collected requests")
    total: int = Field(description="labels the endpoint has now")


class Bucket(BaseModel):
    start: str = Field(description="the bucket's start (UTC); it lasts the report's bucket_seconds")
    rows: int = Field(description="labelled rows answered in it")
    value: Optional[float] = Field(description="the metric over those rows")


class Performance(BaseModel):
    """How right the answers were, where labels came back."""

    task: Literal["classification", "regression", "none"]
    metric: str = Field(description="accuracy (classification) or mae (regression)")
    value: Optional[float] = Field(description="over every labelled row")
    rmse: Optional[float] = Field(None, description="regression: root mean squared error")
    labelled: int = Field(description="rows with a label")
    rows: int = Field(description="rows answered (with and without labels)")
    output: str = Field("", description="the output compared with the labels")
    bucket_seconds: int = 0
    buckets: list[Bucket] = Field(default_factory=list)
    note: str = ""


def labels_folder(endpoint_folder: Path) -> Path:
    return Path(endpoint_folder) / FOLDER


def store_labels(
    endpoint_folder: Path, endpoint: str, request_ids: list, labels: list, rows: list | None = None, known=None
) -> LabelsStored:
    """Write one file of labels; ``known``: the collected request ids, to say how many matched."""
    ids, texts, numbers, positions = checked_labels(request_ids, labels, rows)
    folder = labels_folder(endpoint_folder)
    folder.mkdir(parents=True, exist_ok=True)
    before = read_labels(endpoint_folder)
    received = datetime.now(timezone.utc)
    frame = pd.DataFrame(
        {
            "request_id": ids,
            "row": np.asarray(positions, dtype=np.int32),
            "label": texts,
            "value": np.asarray(numbers, dtype=np.float64),
            "received": pd.Timestamp(received),
        }
    ).drop_duplicates(["request_id", "row"], keep="last")
    name = f"labels-{received.strftime('%Y%m%dT%H%M%S%fZ')}-{os.urandom(4).hex()}.parquet"
    part = folder / f".{name}.part"
    frame.to_parquet(part, index=False)
    os.replace(part, folder / name)  # a reader never sees half a file
    keys = set(zip(frame.request_id, frame.row))
    replaced = sum(1 for key in zip(before.request_id, before.row) if key in keys) if len(before) else 0
    matched = int(frame.request_id.isin(known).sum()) if known is not None else 0
    return LabelsStored(
        endpoint=endpoint,
        stored=len(frame),
        replaced=replaced,
        matched=matched,
        total=len(before) + len(frame) - replaced,
    )


def read_labels(endpoint_folder: Path, request_ids=None) -> pd.DataFrame:
    """Every label of the endpoint (the newest per request id and row), optionally only those of
    ``request_ids``: request_id, row, label (text), value (a number, or NaN)."""
    folder = labels_folder(endpoint_folder)
    files = sorted(p for p in folder.glob("labels-*.parquet")) if folder.is_dir() else []
    if not files:
        return pd.DataFrame({"request_id": [], "row": [], "label": [], "value": []}).astype(
            {"request_id": object, "row": np.int32, "label": object, "value": np.float64}
        )
    frame = pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)  # names sort by time received
    frame = frame.drop_duplicates(["request_id", "row"], keep="last")
    if request_ids is not None:
        frame = frame[frame.request_id.isin(request_ids)]
    return frame.drop(columns="received").reset_index(drop=True)


def checked_labels(request_ids: list, labels: list, rows: list | None):
    """(ids, labels as text, labels as numbers, rows), or a 400 saying what is wrong."""
    if not isinstance(request_ids, list) or not isinstance(labels, list):
        raise InvalidInput("Send 'request_ids' and 'labels' as two lists of the same length.")
    if len(request_ids) != len(labels) or (rows is not None and len(rows) != len(labels)):
        raise InvalidInput(
            f"There are {len(request_ids)} request ids for {len(labels)} labels"
            + (f" and {len(rows)} rows" if rows is not None else "")
            + ": give one of each per label."
        )
    if not labels:
        raise InvalidInput("No labels were sent: give at least one request id with its label.")
    if len(labels) > MAX_LABELS:
        raise InvalidInput(f"{len(labels)} labels in one request; send at most {MAX_LABELS} at a time.")
    for index, rid in enumerate(request_ids):
        if not isinstance(rid, str) or not 0 < len(rid) <= MAX_ID:
            raise InvalidInput(
                f"Request id {index + 1} ({str(rid)[:40]!r}) is not one: ids are the x-request-id text the endpoint "
                f"answered with (1 to {MAX_ID} characters)."
            )
    texts, numbers = [], []
    for index, label in enumerate(labels):
        if label is None or isinstance(label, (list, dict)) or (isinstance(label, float) and not math.isfinite(label)):
            raise InvalidInput(
                f"Label {index + 1} (for request {request_ids[index]!r}) is {label!r}: a label is a class (text or "
                "a number) or a finite number."
            )
        text = ("1" if label else "0") if isinstance(label, bool) else _text(label)
        texts.append(text[:MAX_LABEL])
        numbers.append(float(label) if isinstance(label, (int, float)) else _number(text))
    positions = [0] * len(labels)
    if rows is not None:
        for index, row in enumerate(rows):
            if not isinstance(row, int) or isinstance(row, bool) or not 0 <= row < 2**31:
                raise InvalidInput(f"Row {index + 1} is {row!r}: a row is the position of a scored row, 0 or more.")
        positions = rows
    return request_ids, texts, numbers, positions


def _text(value) -> str:
    """A label or an answer as the class it names: 1, 1.0 and "1" are one class."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    return str(value)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


# -- what the labels say ----------------------------------------------------------------------------


def task_of(answers: pd.Series) -> str:
    """Regression when the answers are numbers with fractions; classification otherwise."""
    if pd.api.types.is_float_dtype(answers.dtype):
        values = answers.to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        if len(finite) and not np.all(finite == np.floor(finite)):
            return "regression"
    return "classification"


def scores(answers: pd.Series, labels: pd.DataFrame, task: str) -> np.ndarray:
    """Per labelled row: 1.0/0.0 for a right/wrong class, or the absolute error."""
    if task == "regression":
        return np.abs(answers.to_numpy(dtype=np.float64) - labels["value"].to_numpy(dtype=np.float64))
    return (np.asarray([_text(a) for a in answers.to_numpy()]) == labels["label"].to_numpy(dtype=object)).astype(
        np.float64
    )


def performance(answered: pd.DataFrame, output: str | None, labels: pd.DataFrame, seconds: float) -> Performance:
    """``answered``: one row per scored row (request_id, row, time, and the outputs); the labels
    joined on request id and row; the metric overall and per time bucket of the window."""
    if output is None or output not in answered.columns:
        return Performance(
            task="none", metric="", value=None, labelled=0, rows=len(answered), note="no answers were collected"
        )
    joined = answered[["request_id", "row", "time", output]].merge(labels, on=["request_id", "row"], how="inner")
    if joined.empty:
        note = (
            "no labels for these requests: send them with %labels ENDPOINT FILE --id-column request_id"
            if len(answered)
            else "no answered requests in the window"
        )
        return Performance(task="none", metric="", value=None, labelled=0, rows=len(answered), output=output, note=note)
    task = task_of(answered[output])
    if task == "regression":
        usable = joined["value"].notna().to_numpy()
        joined = joined[usable]
        if joined.empty:
            return Performance(
                task=task, metric="mae", value=None, labelled=0, rows=len(answered), output=output,
                note="the labels are not numbers, and the answers are (regression)",
            )  # fmt: skip
    score = scores(joined[output], joined, task)
    step = bucket_seconds(seconds)
    times = pd.to_datetime(joined["time"], utc=True)
    starts = times.dt.floor(f"{step}s")
    buckets = [
        Bucket(start=_iso(start), rows=int(group.size), value=_round(float(score[group.to_numpy()].mean())))
        for start, group in pd.Series(np.arange(len(score)), index=starts.to_numpy()).groupby(level=0)
    ]
    return Performance(
        task=task,
        metric="mae" if task == "regression" else "accuracy",
        value=_round(float(score.mean())),
        rmse=_round(float(np.sqrt(np.mean(score**2)))) if task == "regression" else None,
        labelled=len(score),
        rows=len(answered),
        output=output,
        bucket_seconds=step,
        buckets=buckets,
    )


def bucket_seconds(window_seconds: float) -> int:
    """The smallest round bucket (1m, 5m, 15m, 30m, 1h, ... 1w) that cuts the window into at most
    ``BUCKETS``."""
    for step in NICE_BUCKETS:
        if window_seconds / step <= BUCKETS:
            return step
    return NICE_BUCKETS[-1]


def _iso(moment) -> str:
    return pd.Timestamp(moment).tz_convert("UTC").isoformat().replace("+00:00", "Z")


def _round(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None
