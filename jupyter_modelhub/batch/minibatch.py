"""One mini-batch, scored on a Dask worker: read its files, score them, write its part of the output.

Runs in the worker processes (a LocalCluster the job started, or any ``tcp://`` cluster whose
workers have this package). Each worker loads the model once per job (the model folder is read
from disk, never a pickled onnxruntime session) and keeps it for the job's later mini-batches;
an entry script's ``init()`` runs then, with the model folder in ``AZUREML_MODEL_DIR``.

A mini-batch never raises for a problem of its own: it returns a record with the error (and
the traceback), so the job can name the mini-batch, its files and the reason. Only a dead
worker or a timeout reach the job as Dask errors.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import threading
import time
import traceback
from pathlib import Path

from .tables import TableError, read_table, score_table, write_part

_LOADED: dict[str, object] = {}  # job id -> the loaded model (or entry script module) of this worker
_LOCK = threading.Lock()


def run(spec: dict) -> dict:
    """Score mini-batch ``spec["index"]``; returns its record (never raises for its own errors)."""
    started = time.perf_counter()
    record = {
        "index": spec["index"],
        "files": spec["files"],
        "attempt": spec["attempt"],
        "rows_in": 0,
        "rows_out": 0,
        "worker": _worker_name(),
        "error": None,
        "traceback": None,
    }
    try:
        model = _model(spec)
        # the timeout counts from here (loading the model is not scoring); the pid is what a timeout stops
        Path(spec["started"]).write_text(f"{os.getpid()} {socket.gethostname()}")
        if spec["entry_script"]:
            table, rows_in = _run_script(model, spec)
        else:
            table, rows_in = _score_files(model, spec)
        record["rows_in"], record["rows_out"] = rows_in, (0 if table is None else table.num_rows)
        if table is not None and spec["output_action"] == "append_row":
            record["columns"] = table.column_names
            write_part(table, Path(spec["part"]))
    except (MiniBatchError, TableError) as exc:
        record["error"] = str(exc)
    except BaseException as exc:  # the user's code: any exception is the mini-batch's error
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc()
    record["seconds"] = round(time.perf_counter() - started, 4)
    record["rss"] = _rss()
    return record


class MiniBatchError(Exception):
    """A mini-batch that cannot be scored, for a reason the message says in full."""


# -- the model, once per worker and job ---------------------------------------------------------


def _model(spec: dict):
    with _LOCK:  # max_concurrency threads of one worker load it once between them
        loaded = _LOADED.get(spec["job"])
        if loaded is None:
            for key in [k for k in _LOADED if k != spec["job"]]:
                del _LOADED[key]  # a worker of a shared cluster keeps only the current job's model
            os.environ.update(spec["env_vars"])
            loaded = _load(spec)
            _LOADED[spec["job"]] = loaded
        return loaded


def preload(spec: dict) -> None:
    """Load the job's model in this worker ahead of its first mini-batch (``preload.py``)."""
    import pyarrow.csv  # noqa: F401  (what every mini-batch uses, imported while nothing waits)
    import pyarrow.parquet  # noqa: F401

    _model(spec)


def _load(spec: dict):
    model_dir = Path(spec["model_dir"])
    os.environ["AZUREML_MODEL_DIR"] = os.environ["MODELHUB_MODEL_DIR"] = str(model_dir)
    if spec["entry_script"]:
        return _import_script(Path(spec["entry_script"]), spec["job"])
    from ..serving import scorers
    from ..serving.signature import Signature

    signature = Signature.from_json(spec["signature"]) if spec.get("signature") else None
    return scorers.load(model_dir, spec["flavor"], None, signature, threads=spec.get("threads", 1))


def _import_script(path: Path, job: str):
    """The entry script as a module of its own; ``init()`` runs once, here."""
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))  # as Azure ML does: it can import its neighbours
    spec = importlib.util.spec_from_file_location(f"modelhub_batch_script_{job}", path)
    if spec is None or spec.loader is None:
        raise MiniBatchError(f"Cannot import the entry script {path}: it must be a Python file.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise MiniBatchError(
            f"The entry script {path.name} defines no run(mini_batch) function; Azure ML batch "
            "entry scripts define init() and run(mini_batch)."
        )
    if callable(getattr(module, "init", None)):
        module.init()
    return module


# -- scoring --------------------------------------------------------------------------------------


def _run_script(module, spec: dict):
    """Azure's contract: ``run(mini_batch)`` takes the list of file paths and returns a
    DataFrame or a list, one item per result."""
    import pyarrow as pa

    result = module.run(list(spec["files"]))
    names = ", ".join(Path(f).name for f in spec["files"][:5]) + (" ..." if len(spec["files"]) > 5 else "")
    where = f"mini-batch {spec['index']} (files {names})"
    if result is None:
        raise MiniBatchError(f"run() returned None for {where}: it must return a list or a DataFrame.")
    if hasattr(result, "to_dict") and hasattr(result, "columns"):  # a pandas DataFrame
        table = pa.Table.from_pandas(result, preserve_index=False)
    elif isinstance(result, (list, tuple)):
        table = pa.table(
            {"result": [x if isinstance(x, (int, float, str, bool)) or x is None else str(x) for x in result]}
        )
    else:
        raise MiniBatchError(
            f"run() returned {type(result).__name__} for {where}: it must return a list or a DataFrame."
        )
    return table, len(spec["files"])


def _score_files(scorer, spec: dict):
    import pyarrow as pa

    tables, rows_in = [], 0
    for index, path in enumerate(spec["files"]):
        frame = read_table(Path(path))
        rows_in += frame.num_rows
        tables.append(score_table(scorer, frame, spec["file_labels"][index]))
    return (pa.concat_tables(tables) if tables else None), rows_in


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:  # run outside a worker (tests call it directly)
        return f"pid {os.getpid()}"


def _rss() -> int:
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except Exception:
        return 0
