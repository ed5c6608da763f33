"""Collected requests and answers read back: a window of them as a DataFrame, and their bodies
decoded into the model's feature and prediction columns.

``read_collected`` opens only the committed files (``monitoring.collector`` names them for the
times of their first and last records) that overlap the window, and returns one row per request,
oldest first. ``features_and_predictions`` decodes each request body with the scoring runtime's
own decoders (``serving.protocols``: Azure ``{"data": ...}``, MLflow's four formats, the Open
Inference Protocol in JSON and with binary tensors, gzip or deflate bodies, and gRPC
``ModelInferRequest`` messages), so a body counts as the features the model was given exactly
when the runtime would have read it so. Failed requests, cut (truncated) bodies and bodies the
runtime refused are left out; ``skipped`` says how many and why.

Not here: writing (``collector``), drift and quality (other modules of this package).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from ..timestamps import moment
from .collector import COLUMNS, FOLDER, file_times, schema

MAIN = ["request_id", "time", "deployment", "model", "version", "status", "latency_ms", "request", "response"]


def collected_folder(endpoint: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """Where an endpoint's collected files are: ``endpoint`` is its folder, its collected folder,
    or its name under ``root``'s ``endpoints/`` (the Model Hub root)."""
    path = Path(endpoint)
    if root is not None and not path.is_absolute():
        path = Path(root) / "endpoints" / str(endpoint)
    return path if path.name == FOLDER else path / FOLDER


def read_collected(
    endpoint: str | os.PathLike,
    since="1h",
    until=None,
    *,
    root: str | os.PathLike | None = None,
    limit: int | None = None,
    columns: list[str] | None = None,
    bucket=None,
):
    """The requests collected from ``since`` to ``until`` (see :func:`moment`), oldest first, as a
    DataFrame: request_id, time (UTC), deployment, model, version, status, latency_ms, request and
    response (bytes; None when not collected), then path, protocol, the truncation flags and the
    bodies' content types and encodings. ``limit``: the newest that many only. ``bucket``: the
    artifact store's ``monitoring.bucket.CollectedBucket`` when it is one; files moved there are
    read from it, the ones not moved yet from the folder."""
    import pyarrow as pa
    import pyarrow.compute as pc

    start, end = moment(since, "since"), moment(until, "until")
    folder = collected_folder(endpoint, root)
    wanted = list(COLUMNS) if columns is None else [c for c in COLUMNS if c in columns or c == "time"]
    sources: dict[str, object] = {}
    if bucket is not None:  # listed first: a file moved meanwhile is still found in one place
        sources.update((name, key) for name, key, _size in bucket.files(folder.parent.name))
    sources.update((path.name, path) for path in (folder.glob("collected-*.parquet") if folder.is_dir() else ()))
    tables = []
    for name in sorted(sources):
        times = file_times(name)
        if times is None:
            continue
        first, last = times
        if (start is not None and last < start.timestamp()) or (end is not None and first > end.timestamp()):
            continue
        source = sources[name]
        try:
            if isinstance(source, Path):
                try:
                    tables.append(_read_file(source, wanted))
                    continue
                except FileNotFoundError:
                    if bucket is None:
                        raise
                    source = bucket.key(folder.parent.name, name)  # moved since it was listed
            with bucket.open(source) as opened:
                tables.append(_read_file(opened, wanted))
        except FileNotFoundError:  # deleted by retention since it was listed
            continue
    if tables:
        table = pa.concat_tables(tables)
        mask = None
        if start is not None:
            mask = pc.greater_equal(table["time"], pa.scalar(start, type=table.schema.field("time").type))
        if end is not None:
            before = pc.less(table["time"], pa.scalar(end, type=table.schema.field("time").type))
            mask = before if mask is None else pc.and_(mask, before)
        if mask is not None:
            table = table.filter(mask)
        table = table.sort_by("time")
        if limit is not None and table.num_rows > limit:
            table = table.slice(table.num_rows - limit)
        frame = table.to_pandas()
    else:
        frame = schema().empty_table().select(wanted).to_pandas()
    if "version" in frame.columns:
        frame["version"] = frame["version"].astype("Int64")
    order = [c for c in MAIN if c in frame.columns] + [c for c in frame.columns if c not in MAIN]
    return frame[order].reset_index(drop=True)


def _read_file(path, wanted: list[str]):
    """One collected file's columns (``path``: a file's path, or an open file); a column added since it was written (``mirror``) is filled:
    files of an older host read the same as new ones."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        present = set(parquet.schema_arrow.names)
        table = parquet.read(columns=[c for c in wanted if c in present])
    if len(present.intersection(wanted)) == len(wanted):
        return table.select(wanted)
    fields = schema()
    for name in wanted:
        if name not in present:
            fill = pa.array([False] * table.num_rows, pa.bool_()) if name == "mirror" else None
            if fill is None:
                fill = pa.nulls(table.num_rows, fields.field(name).type)
            table = table.append_column(fields.field(name), fill)
    return table.select(wanted)


def records(frame, limit: int) -> tuple[list[dict], bool]:
    """The DataFrame as JSON records (the REST answer): bodies as text, or base64 when not UTF-8."""
    out = []
    for row in frame.tail(limit).itertuples(index=False):
        record = {
            "request_id": row.request_id,
            "time": row.time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "deployment": row.deployment,
            "model": row.model,
            "version": None if _missing(row.version) else int(row.version),
            "status": int(row.status),
            "latency_ms": round(float(row.latency_ms), 3),
            "path": row.path,
            "protocol": row.protocol,
            "request_truncated": bool(row.request_truncated),
            "response_truncated": bool(row.response_truncated),
            "mirror": bool(getattr(row, "mirror", False)),
        }
        for name in ("request", "response"):
            text, encoded = _text(getattr(row, name))
            record[name], record[f"{name}_base64"] = text, encoded
        out.append(record)
    return out, len(frame) > limit


def from_records(data: list[dict]):
    """A DataFrame of REST records, shaped as :func:`read_collected`'s (the client's ``collected``)."""
    import pandas as pd

    frame = pd.DataFrame(
        data,
        columns=[
            *MAIN,
            "path",
            "protocol",
            "request_truncated",
            "response_truncated",
            "mirror",
            "request_base64",
            "response_base64",
        ],
    )
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    frame["version"] = frame["version"].astype("Int64")
    frame["mirror"] = frame["mirror"].fillna(False).astype(bool)
    for name in ("request", "response"):  # from the records: a column of strings and None would hold NaN
        frame[name] = pd.Series(
            [_body(record.get(name), record.get(f"{name}_base64")) for record in data], index=frame.index, dtype=object
        )
    return frame.drop(columns=["request_base64", "response_base64"])


def _body(value: str | None, encoded: bool):
    if value is None:
        return None
    return base64.b64decode(value) if encoded else value.encode()


def _text(body) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    try:
        return bytes(body).decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _str(value) -> str | None:
    """A text cell, None when missing (pandas reads a missing string as NaN)."""
    return value if isinstance(value, str) else None


def _missing(value) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


# -- bodies to columns ---------------------------------------------------------------------------


def features_and_predictions(frame, signature: dict):
    """Each answered (2xx) request's features, as the model's inputs in the signature's order, and
    its predictions, as its outputs: two DataFrames with one row per scored row, and a
    ``request_id`` column to join them with the collected records (and with labels). Returns
    ``(features, predictions)``; both have ``.attrs["skipped"]``: {request_id: why} for the
    requests left out."""

    from ..serving.signature import Signature

    sig = Signature.from_json(signature)
    feature_parts, prediction_parts, skipped = [], [], {}
    input_names, output_names = [s.name for s in sig.inputs], [s.name for s in sig.outputs]
    for row in frame.itertuples(index=False):
        rid = row.request_id
        if getattr(row, "mirror", False):
            continue  # a mirror deployment's answer to a copy: its request is the other record's
        if not 200 <= int(row.status) < 300:
            skipped[rid] = f"status {int(row.status)}"
            continue
        if row.request is None or getattr(row, "request_truncated", False):
            skipped[rid] = "request body not collected in full"
            continue
        try:
            inputs = decode_request(row, sig)
        except Exception as exc:  # a ServingError (what the runtime answered 4xx for), a damaged body
            skipped[rid] = f"request not decoded: {getattr(exc, 'message', exc)}"
            continue
        columns = _columns(inputs, input_names)
        rows = len(next(iter(columns.values()))) if columns else 0
        feature_parts.append((rid, rows, columns))
        outputs = None
        if row.response is not None and not getattr(row, "response_truncated", False):
            try:
                outputs = decode_response(row, output_names)
            except Exception as exc:
                skipped[rid] = f"answer not decoded: {exc}"
        if outputs:
            out_columns = _columns(outputs, [n for n in output_names if n in outputs] or list(outputs))
            if all(len(v) == rows for v in out_columns.values()):
                prediction_parts.append((rid, rows, out_columns))
    features, predictions = _frame(feature_parts), _frame(prediction_parts)
    features.attrs["skipped"] = predictions.attrs["skipped"] = skipped
    return features, predictions


def _frame(parts: list[tuple[str, int, dict]]):
    """(request id, rows, columns) of each request as one DataFrame: arrays joined column by
    column (a DataFrame per request cost a millisecond each, most of a monitor's time)."""
    import numpy as np
    import pandas as pd

    if not parts:
        return pd.DataFrame(columns=["request_id"])
    groups: dict[tuple, list] = {}
    for part in parts:  # requests answered with other outputs (or inputs) make a frame of their own
        groups.setdefault(tuple(part[2]), []).append(part)
    frames = []
    for names, group in groups.items():
        ids = np.repeat(np.asarray([rid for rid, _, _ in group], dtype=object), [rows for _, rows, _ in group])
        data = {"request_id": ids}
        for name in names:
            data[name] = np.concatenate([np.asarray(columns[name]).reshape(-1) for _, _, columns in group])
        frames.append(pd.DataFrame(data))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _columns(arrays: dict, names: list[str]) -> dict:
    """Named arrays as DataFrame columns in ``names``' order: a 1-D array is one column; a 2-D one
    (a tensor of rows) one column per position, named NAME[0], NAME[1]... as
    ``monitoring.features`` names a tensor model's features and an output's values."""
    import numpy as np

    columns = {}
    for name in names:
        if name not in arrays:
            continue
        array = np.asarray(arrays[name])
        if array.ndim <= 1:
            columns[name] = array.reshape(-1)
        else:
            flat = array.reshape(array.shape[0], -1)
            for index in range(flat.shape[1]):
                columns[f"{name}[{index}]"] = flat[:, index]
    return columns


def decode_request(row, signature) -> dict:
    """A collected request body as the runtime decodes it: {input name: array}."""
    from ..serving import content_encoding, protocols

    body = bytes(row.request)
    if getattr(row, "protocol", "http") == "grpc":
        return _grpc_inputs(body, signature)
    if _str(row.content_encoding):
        body = content_encoding.inflate(body, row.content_encoding, 1 << 31)
    path = _str(row.path) or ""
    if path.startswith("/v2/"):
        header_length = None if _missing(row.header_length) else str(int(row.header_length))
        return protocols.decode_infer(body, signature, header_length)[0]
    if path.startswith("/invocations"):
        return protocols.decode_invocations(body, _str(row.content_type) or "application/json", signature)
    doc = protocols.loads(body)
    if isinstance(doc, dict) and "input_data" in doc and "data" not in doc:  # Azure's managed online shape
        return _input_data(doc["input_data"], signature)
    return protocols.decode_score(body, signature)


def _input_data(value, signature) -> dict:
    """Azure ML's ``{"input_data": {"columns": [...], "data": [[...]]}}`` (or rows alone)."""
    from ..serving.signature import from_columns, inputs_from_json

    if isinstance(value, dict) and isinstance(value.get("data"), list):
        columns = value.get("columns")
        if isinstance(columns, list) and signature.columnar:
            return from_columns(signature, {c: [r[i] for r in value["data"]] for i, c in enumerate(columns)})
        return inputs_from_json(signature, value["data"])
    return inputs_from_json(signature, value)


def _grpc_inputs(body: bytes, signature) -> dict:
    from ..serving.grpc import inference_pb2 as pb
    from ..serving.grpc import tensors

    return tensors.decode(pb.ModelInferRequest.FromString(body), signature)


def decode_response(row, output_names: list[str]) -> dict:
    """A collected answer as {output name: array} (a protocol's plain answer: one output, or an
    object by output name)."""
    import numpy as np
    import orjson

    from ..serving import binary_tensors, content_encoding

    body = bytes(row.response)
    if getattr(row, "protocol", "http") == "grpc":
        return _grpc_outputs(body)
    if _str(row.response_encoding):
        body = content_encoding.inflate(body, row.response_encoding, 1 << 31)
    path = _str(row.path) or ""
    if path.startswith("/v2/"):
        length = None if _missing(row.response_header_length) else int(row.response_header_length)
        header = body[:length] if length is not None else body
        doc = orjson.loads(header)
        offset = length or 0
        out = {}
        for tensor in doc.get("outputs", []):
            size = (tensor.get("parameters") or {}).get("binary_data_size")
            if size is not None:
                raw = memoryview(body)[offset : offset + size]
                offset += size
                array = binary_tensors.decode(tensor["name"], tensor["datatype"], tensor["shape"], raw)
            else:
                array = np.asarray(tensor["data"])
            out[tensor["name"]] = array.reshape(tensor["shape"])
        return out
    doc = orjson.loads(body)
    if path.startswith("/invocations") and isinstance(doc, dict) and "predictions" in doc:
        doc = doc["predictions"]
    if isinstance(doc, dict) and doc and all(isinstance(v, list) for v in doc.values()):
        return {name: np.asarray(value) for name, value in doc.items()}
    return {output_names[0] if output_names else "prediction": np.asarray(doc)}


def _grpc_outputs(body: bytes) -> dict:
    """A ModelInferResponse's outputs: from raw_output_contents (what the runtime sends) or contents."""
    import numpy as np

    from ..serving import binary_tensors
    from ..serving.grpc import inference_pb2 as pb

    response = pb.ModelInferResponse.FromString(body)
    out = {}
    for index, tensor in enumerate(response.outputs):
        shape = list(tensor.shape)
        if index < len(response.raw_output_contents):
            raw = memoryview(response.raw_output_contents[index])
            array = binary_tensors.decode(tensor.name, tensor.datatype, shape, raw)
        else:
            contents = tensor.contents
            field = next(
                (
                    f
                    for f in ("fp64_contents", "fp32_contents", "int64_contents", "int_contents", "bool_contents")
                    if len(getattr(contents, f))
                ),
                None,
            )
            array = np.asarray(list(getattr(contents, field)) if field else [])
        out[tensor.name] = array.reshape(shape)
    return out
