"""Tables in and out of a batch job: reading input files, scoring their rows, writing the output.

Inputs are read with pyarrow (CSV, Parquet, JSON lines), scored with the serving runtime's own
built-in scorers (so a batch answers what an endpoint answers), and each mini-batch's rows are
written as a part file; the job joins the parts, in input order, into the one output file while
the later ones are still being scored (``PartJoiner``). Output columns: the model's outputs (a 2-D
output as ``NAME_0``, ``NAME_1``, ...), then ``file`` and ``row`` (0-based) of the input row each
result came from.

Parts of a Parquet output are Arrow IPC files: a worker writes one at memory speed and the join
maps it without decoding, so each row is Parquet-encoded once, by the join (encoding on the
workers and decoding and encoding again in the join cost a 10M-row job most of its time).
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
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
    columns["file"] = repeated(label, rows)
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
        return {spec.name: tensor(spec, _matrix(table, spec.dtype))}
    raise _serving_error(
        f"the model takes several tensors ({signature.names}); the built-in batch scorer maps "
        "table columns to one tensor or to columns; use an entry script"
    )


MATRIX_BLOCK = 32_768  # rows copied at a time into the model's matrix: the block's rows stay in the cache


def _matrix(table, dtype) -> np.ndarray:
    """The table's columns side by side as one [rows, columns] matrix. Numeric columns for a
    float input are copied straight into a matrix of the input's dtype, a block of rows at a time
    (``column_stack`` writes each column across the whole matrix, which for a million rows misses
    the cache on every value, and the cast then copies it all again); anything else goes through
    ``column_stack`` and ``tensor``'s checks as before."""
    columns = [c.to_numpy(zero_copy_only=False) for c in table.columns]
    if not columns:
        return np.empty((table.num_rows, 0))
    if dtype is None or dtype.kind != "f" or any(c.dtype.kind not in "fiub" for c in columns):
        return np.column_stack(columns)
    rows = table.num_rows
    matrix = np.empty((rows, len(columns)), dtype)
    for start in range(0, rows, MATRIX_BLOCK):
        block = matrix[start : start + MATRIX_BLOCK]
        for j, column in enumerate(columns):
            block[:, j] = column[start : start + MATRIX_BLOCK]
    return matrix


def repeated(label: str, rows: int):
    """``label`` ``rows`` times as a string array, built from its buffers (a Python list of a
    million references to one string costs more than scoring the rows of a small model)."""
    import pyarrow as pa

    data = label.encode()
    if rows * len(data) >= 2**31:  # past what a string array's 32-bit offsets address
        return pa.array([label] * rows, type=pa.string())
    offsets = np.arange(0, (rows + 1) * len(data), len(data), dtype=np.int32) if data else np.zeros(rows + 1, np.int32)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data * rows))


def _serving_error(message: str):
    from ..serving.errors import ServingError

    return ServingError(400, message[0].upper() + message[1:] + ".")


# -- output parts ---------------------------------------------------------------------------------


def part_suffix(output_file_name: str) -> str:
    return Path(output_file_name).suffix.lower()


PARQUET_PART = ".arrow"  # the parts of a Parquet output on the job's disk: Arrow IPC files


def local_part_suffix(output_suffix: str) -> str:
    """The suffix of the parts the job joins on its own disk: Arrow IPC for a Parquet output
    (encoded once, by the join), the output's own format otherwise. Parts written to a bucket
    are the output itself and keep its format."""
    return PARQUET_PART if output_suffix == ".parquet" else output_suffix


def write_part(table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    if path.suffix == PARQUET_PART:
        import pyarrow as pa

        with pa.OSFile(str(temporary), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    else:
        temporary.write_bytes(part_bytes(table, path.suffix))
    temporary.replace(path)  # a part that exists is complete (a retried mini-batch rewrites it)


def part_bytes(table, suffix: str) -> bytes:
    """A part encoded in memory: written to a file, sent through Dask (a worker that cannot write
    the server's disk) or put as one object."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if suffix not in (".csv", ".parquet", PARQUET_PART):  # JSON lines
        import orjson

        return b"".join(orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n" for row in table.to_pylist())
    sink = pa.BufferOutputStream()
    if suffix == ".csv":
        pacsv.write_csv(table, sink)
    elif suffix == PARQUET_PART:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    else:
        write_parquet(table, sink)
    return sink.getvalue().to_pybytes()


def write_parquet(table, where) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, where, **parquet_options(table.schema))


def parquet_options(schema) -> dict:
    """How each column is encoded: Parquet's dictionary only for columns that are not floating
    point (``file``, one value per input file, and labels repeat; probabilities and scores hardly
    ever do, and the encoder's attempt at a dictionary for them costs more than writing them);
    ``row``, the input row's number, as deltas (a counting sequence packs into almost nothing)."""
    import pyarrow as pa

    options: dict = {"use_dictionary": [field.name for field in schema if not pa.types.is_floating(field.type)]}
    if "row" in schema.names and pa.types.is_integer(schema.field("row").type):
        options["use_dictionary"].remove("row")
        options["column_encoding"] = {"row": "DELTA_BINARY_PACKED"}
    return options


def write_part_url(table, url: str, fs) -> None:
    """A part as one object under an ``s3://`` output (one PUT: an object exists only once whole)."""
    fs.pipe_file(url[len("s3://") :], part_bytes(table, PurePosixPath(url).suffix))


def join_parts(parts: list[tuple[int, Path]], target: Path, suffix: str) -> None:
    """The parts, in order, as one ``suffix`` file at ``target`` (CSV keeps the first header only)."""
    joiner = PartJoiner(target, suffix)
    for index, part in parts:
        joiner.add(index, part)
    joiner.close()


class PartJoiner:
    """Appends parts, in the order given, to one output file in a thread of its own, so the join
    runs while later mini-batches are scored instead of after all of them.

    ``add`` never waits; ``close`` waits for the last part and raises the join's error (parts
    whose columns differ from the first's) as a ``TableError``; ``abort`` stops and removes the
    file. The file is the job's partial output: ``job.commit`` puts it in place.
    """

    def __init__(self, target: Path, suffix: str):
        self.target, self.suffix = Path(target), suffix
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._aborted = False
        self._thread = threading.Thread(target=self._run, name="modelhub-batch-join", daemon=True)
        self._thread.start()

    def add(self, index: int, part: Path) -> None:
        self._queue.put((index, Path(part)))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        self._aborted = True
        self._queue.put(None)
        self._thread.join()
        self.target.unlink(missing_ok=True)

    def _run(self) -> None:
        write = None
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            write = (
                _ParquetAppender(self.target) if self.suffix == ".parquet" else _BytesAppender(self.target, self.suffix)
            )
            while True:
                item = self._queue.get()
                if item is None or self._aborted:
                    return
                write(*item)
        except BaseException as exc:  # kept for close(): the job fails with it, naming the mini-batch
            self._error = exc if isinstance(exc, TableError) else TableError(f"Cannot join the parts: {exc}")
            while self._queue.get() is not None:  # until close() or abort()
                pass
        finally:
            if write is not None:
                write.close()


class _ParquetAppender:
    def __init__(self, target: Path):
        self.target, self.writer = target, None

    def __call__(self, index: int, part: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if part.suffix == PARQUET_PART:
            with pa.memory_map(str(part)) as source:
                table = pa.ipc.open_file(source).read_all()
        else:  # a part from a job before parts were Arrow files (--resume)
            table = pq.read_table(part)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.target, table.schema, **parquet_options(table.schema))
        elif not table.schema.equals(self.writer.schema):
            raise TableError(
                f"mini-batch {index} returned columns {table.schema.names} where the first "
                f"returned {self.writer.schema.names}: every run() must return the same columns"
            )
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        else:
            self.target.write_bytes(b"")


class _BytesAppender:
    """CSV and JSON lines parts are the output's own bytes: copied (CSV keeps the first header)."""

    def __init__(self, target: Path, suffix: str):
        self.suffix, self.header = suffix, None
        self.out = open(target, "wb")

    def __call__(self, index: int, part: Path) -> None:
        with open(part, "rb") as f:
            if self.suffix == ".csv":
                line = f.readline()
                if self.header is None:
                    self.header = line
                    self.out.write(line)
                elif line != self.header:
                    raise TableError(
                        f"mini-batch {index} returned columns {line.decode().strip()} where the "
                        f"first returned {self.header.decode().strip()}: every run() must return the "
                        "same columns"
                    )
            shutil.copyfileobj(f, self.out, 1 << 20)

    def close(self) -> None:
        self.out.close()
