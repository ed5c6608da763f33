"""Tables in and out of a batch job: reading input files, scoring their rows, writing the output.

Inputs are read with pyarrow (CSV, Parquet, JSON lines), scored with the serving runtime's own
built-in scorers (so a batch answers what an endpoint answers), and each mini-batch's rows are
written as a part file; the job joins the parts, in input order, into the one output file at the
end. Output columns: the model's outputs (a 2-D output as ``NAME_0``, ``NAME_1``, ...), then
``file`` and ``row`` (0-based) of the input row each result came from.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

import numpy as np

# what the built-in scorer reads; an entry script may take any file
TABLE_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


class TableError(Exception):
    """A file that cannot be read or scored; the message names the file and the reason.
    ``transient``: reading it again may work (the store did not answer, the model raised);
    otherwise the same file fails the same way (not a table, a missing column, a wrong dtype)."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def read_table(path: Path | str, fs=None):
    """A table from a local file, or from an ``s3://`` object through ``fs`` (read whole)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    name = PurePosixPath(str(path)).name
    kind = TABLE_SUFFIXES.get(PurePosixPath(name).suffix.lower())
    if kind is None:
        raise TableError(
            f"{name} is not a CSV, Parquet or JSON lines file; score other files with an entry script (--entry-script)."
        )
    if fs is not None:
        try:
            source = pa.BufferReader(fs.cat_file(str(path)[len("s3://") :]))
        except Exception as exc:
            raise TableError(
                f"Cannot read {path} from the store: {type(exc).__name__}: {exc}", transient=True
            ) from None
    else:
        source = Path(path)
        if not os.access(source, os.R_OK):
            why = "it does not exist here" if not os.path.lexists(source) else "permission denied"
            raise TableError(
                f"Cannot read {path} on this worker ({why}): a Dask worker that does not share the "
                "server's disk reads its inputs by URL; put them in a bucket (s3://...)."
            )
    try:
        if kind == "parquet":
            return pq.read_table(source)
        if kind == "csv":
            return pacsv.read_csv(source)
        return pajson.read_json(source)
    except Exception as exc:  # pyarrow's own errors say what is wrong in the file
        raise TableError(f"Cannot read {name} as {kind}: {str(exc).strip().splitlines()[0]}") from None


def score_table(scorer, table, label: str):
    """The model's outputs for every row of ``table``, with the file and row each came from."""
    import pyarrow as pa

    from ..serving.errors import ServingError

    try:
        inputs = model_inputs(scorer.signature, table)
        outputs = scorer.predict(inputs)
    except ServingError as exc:
        raise TableError(f"{label}: {exc.message}", transient=exc.status >= 500) from None
    columns: dict[str, object] = {}
    for name, array in outputs.items():
        array = np.asarray(array)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim == 1:
            columns[name] = array
        elif array.ndim == 2:
            for j in range(array.shape[1]):
                columns[f"{name}_{j}"] = array[:, j]
        else:
            raise TableError(
                f"{label}: output {name!r} has shape {list(array.shape)}; the built-in batch scorer "
                "writes 1-D and 2-D outputs; use an entry script for others."
            )
    rows = table.num_rows
    for name, array in columns.items():
        if len(array) != rows:
            raise TableError(f"{label}: the model answered {len(array)} values of {name!r} for {rows} rows.")
    columns["file"] = pa.array([label] * rows, type=pa.string())
    columns["row"] = np.arange(rows, dtype=np.int64)
    return pa.table(columns)


def model_inputs(signature, table) -> dict[str, np.ndarray]:
    """The table's columns as the model's inputs: by name for a columnar signature, all columns
    side by side for a model that takes one [rows, features] tensor."""
    from ..serving.signature import tensor

    if signature is None or not signature.inputs:
        raise TableError(
            "the model has no signature to map columns to inputs; register it with one "
            "(%register --signature) or use an entry script"
        )
    if signature.columnar:
        missing = [n for n in signature.names if n not in table.column_names]
        if missing:
            raise _serving_error(
                f"missing columns {missing}; the model expects columns {signature.names} "
                f"and the file has {table.column_names}"
            )
        return {
            spec.name: tensor(spec, table.column(spec.name).to_numpy(zero_copy_only=False)) for spec in signature.inputs
        }
    if len(signature.inputs) == 1:
        spec = signature.inputs[0]
        width = spec.shape[1] if spec.shape is not None and len(spec.shape) == 2 and spec.shape[1] >= 0 else None
        if width is not None and table.num_columns != width:
            raise _serving_error(
                f"the file has {table.num_columns} columns and the model takes {width} features "
                f"({spec.name!r}, shape {list(spec.shape)}); keep only the feature columns"
            )
        matrix = (
            np.column_stack([c.to_numpy(zero_copy_only=False) for c in table.columns])
            if table.num_columns
            else np.empty((table.num_rows, 0))
        )
        return {spec.name: tensor(spec, matrix)}
    raise _serving_error(
        f"the model takes several tensors ({signature.names}); the built-in batch scorer maps "
        "table columns to one tensor or to columns; use an entry script"
    )


def _serving_error(message: str):
    from ..serving.errors import ServingError

    return ServingError(400, message[0].upper() + message[1:] + ".")


# -- output parts ---------------------------------------------------------------------------------


def part_suffix(output_file_name: str) -> str:
    return Path(output_file_name).suffix.lower()


def write_part(table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(part_bytes(table, path.suffix))
    temporary.replace(path)  # a part that exists is complete (a retried mini-batch rewrites it)


def part_bytes(table, suffix: str) -> bytes:
    """A part encoded in memory: written to a file, sent through Dask (a worker that cannot write
    the server's disk) or put as one object."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if suffix not in (".csv", ".parquet"):  # JSON lines
        import orjson

        return b"".join(orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n" for row in table.to_pylist())
    sink = pa.BufferOutputStream()
    if suffix == ".csv":
        pacsv.write_csv(table, sink)
    else:
        pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def write_part_url(table, url: str, fs) -> None:
    """A part as one object under an ``s3://`` output (one PUT: an object exists only once whole)."""
    fs.pipe_file(url[len("s3://") :], part_bytes(table, PurePosixPath(url).suffix))


def join_parts(parts: list[tuple[int, Path]], target: Path, suffix: str) -> None:
    """The parts, in order, as one ``suffix`` file at ``target`` (CSV keeps the first header only)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        _join_parquet(parts, target)
        return
    header = None
    with open(target, "wb") as out:
        for index, part in parts:
            with open(part, "rb") as f:
                if suffix == ".csv":
                    line = f.readline()
                    if header is None:
                        header = line
                        out.write(line)
                    elif line != header:
                        raise TableError(
                            f"mini-batch {index} returned columns {line.decode().strip()} where the "
                            f"first returned {header.decode().strip()}: every run() must return the "
                            "same columns"
                        )
                shutil.copyfileobj(f, out, 1 << 20)


def _join_parquet(parts: list[tuple[int, Path]], target: Path) -> None:
    import pyarrow.parquet as pq

    writer = None
    try:
        for index, part in parts:
            table = pq.read_table(part)
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema)
            elif not table.schema.equals(writer.schema):
                raise TableError(
                    f"mini-batch {index} returned columns {table.schema.names} where the first "
                    f"returned {writer.schema.names}: every run() must return the same columns"
                )
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        target.write_bytes(b"")
