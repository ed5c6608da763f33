"""One mini-batch, scored on a Dask worker: read its files, score them, write its part of the output.

Runs in the worker processes (a LocalCluster the job started, or any ``tcp://`` cluster whose
workers have this package). Workers of a ``--scheduler`` cluster may share no disk with the
server: they get the model's files and the entry script through Dask (kept in a folder of the
worker's own), read ``s3://`` inputs and write their parts to an ``s3://`` output with the
store options the job registers as a worker plugin (``StorageOptions``), and send a part for a
local output back through Dask. Each worker loads the model once per job (the model folder is read
from disk, never a pickled onnxruntime session) and keeps it for the job's later mini-batches;
an entry script's ``init()`` runs then, with the model folder in ``AZUREML_MODEL_DIR``.

A mini-batch never raises for a problem of its own: it returns a record with the error (and
the traceback), so the job can name the mini-batch, its files and the reason. Only a dead
worker or a timeout reach the job as Dask errors.

One broken file does not take its neighbours' rows with it: the built-in scorer reads and scores
each file on its own, and an entry script whose ``run(mini_batch)`` fails for a mini-batch of
several files is called again with each file alone. The files that still fail are listed in the
record's ``failed_files`` (each with its error); the others' rows are written as usual. The
record's ``transient`` says whether trying again may help: a file that is not a table, a missing
column or a dtype the scorer rejects (a 4xx from the scorer) fails the same way every time, so the
job does not retry it; an exception of the user's code, a model that raised or a store that did
not answer may pass next time.
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

from distributed import WorkerPlugin

from .tables import TableError, part_bytes, read_table, score_table, write_part, write_part_url

_LOADED: dict[str, object] = {}  # job id -> the loaded model (or entry script module) of this worker
_LOCK = threading.Lock()
_STORAGE: dict[str, dict] = {}  # job id -> s3fs options (from the StorageOptions plugin)
_FILESYSTEMS: dict[str, object] = {}


class StorageOptions(WorkerPlugin):
    """A Dask worker plugin carrying a job's store options to every worker (those that join later
    too), so they never travel in a task's arguments, the notebook or a log."""

    def __init__(self, job: str, options: dict):
        self.job, self.options = job, options

    def setup(self, worker=None) -> None:
        _STORAGE[self.job] = self.options
        # the store's session (about half a second) is made now, off the first mini-batch's time
        threading.Thread(target=_connect, args=(self.job,), daemon=True).start()

    def teardown(self, worker=None) -> None:
        _STORAGE.pop(self.job, None)
        _FILESYSTEMS.pop(self.job, None)


def _connect(job: str) -> None:
    try:
        filesystem(job).connect()
    except Exception:  # the first mini-batch that needs the store reports what is wrong
        pass


def filesystem(job: str):
    fs = _FILESYSTEMS.get(job)
    if fs is None:
        from .locations import filesystem as open_filesystem

        fs = _FILESYSTEMS[job] = open_filesystem(_STORAGE.get(job))
    return fs


def run(spec: dict, model_files: dict | None = None) -> dict:
    """Score mini-batch ``spec["index"]``; returns its record (never raises for its own errors).
    ``model_files`` (path -> bytes) is the model for a worker that cannot read the server's disk."""
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
        "transient": False,
        "failed_files": [],  # [{"file", "error", "transient"}]: files that failed while others were scored
    }
    try:
        model = _model(spec, model_files)
        # the timeout counts from here (loading the model is not scoring); the pid is what a timeout stops
        if spec.get("started"):
            Path(spec["started"]).write_text(f"{os.getpid()} {socket.gethostname()}")
        elif spec.get("started_topic"):
            _tell_started(spec)
        failed: list[dict] = []
        if spec["entry_script"]:
            table, rows_in = _run_script(model, spec, failed)
        else:
            table, rows_in = _score_files(model, spec, failed)
        if failed and len(failed) == len(spec["files"]):  # nothing scored: the mini-batch failed
            record["traceback"] = failed[0].pop("traceback", None)
            raise MiniBatchError(_every_file_failed(spec, failed), transient=any(f["transient"] for f in failed))
        for failure in failed:
            failure.pop("traceback", None)
        record["failed_files"] = failed
        record["transient"] = any(f["transient"] for f in failed)
        record["rows_in"], record["rows_out"] = rows_in, (0 if table is None else table.num_rows)
        if table is not None and spec["output_action"] == "append_row":
            record["columns"] = table.column_names
            if spec["part"] is None:  # the job writes it: this worker cannot
                record["part_bytes"] = part_bytes(table, spec["part_suffix"])
            elif spec["part"].startswith("s3://"):
                write_part_url(table, spec["part"], filesystem(spec["job"]))
            else:
                write_part(table, Path(spec["part"]))
    except (MiniBatchError, TableError) as exc:
        record["error"], record["transient"] = str(exc), exc.transient
    except BaseException as exc:  # the user's code: any exception is the mini-batch's error
        record["error"], record["transient"] = f"{type(exc).__name__}: {exc}", True
        record["traceback"] = traceback.format_exc()
    record["seconds"] = round(time.perf_counter() - started, 4)
    record["rss"] = _rss()
    return record


class MiniBatchError(Exception):
    """A mini-batch that cannot be scored, for a reason the message says in full; ``transient``
    when trying again may help (a store that did not answer), not when the same input would fail
    the same way (run() returned None, a damaged model file)."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def _every_file_failed(spec: dict, failed: list[dict]) -> str:
    if len(failed) == 1:
        return failed[0]["error"]
    return f"every file of mini-batch {spec['index']} failed: " + "; ".join(
        f"{Path(f['file']).name}: {f['error']}" for f in failed
    )


# -- the model, once per worker and job ---------------------------------------------------------


def _model(spec: dict, model_files: dict | None = None):
    with _LOCK:  # max_concurrency threads of one worker load it once between them
        loaded = _LOADED.get(spec["job"])
        if loaded is None:
            for key in [k for k in _LOADED if k != spec["job"]]:
                del _LOADED[key]  # a worker of a shared cluster keeps only the current job's model
            os.environ.update(spec["env_vars"])
            if model_files is not None or spec.get("entry_script_text") or spec.get("model_objects"):
                spec = _materialize(spec, model_files)
            loaded = _load(spec)
            _LOADED[spec["job"]] = loaded
        return loaded


def _materialize(spec: dict, model_files: dict | None) -> dict:
    """The model's files and the entry script in a folder of this worker's own (a worker of a
    cluster elsewhere cannot read the server's)."""
    import tempfile

    try:
        from distributed import get_worker

        base = Path(get_worker().local_directory)
    except Exception:
        base = Path(tempfile.gettempdir())
    folder = Path(tempfile.mkdtemp(prefix=f"modelhub-job-{spec['job']}-", dir=base))
    spec = dict(spec)
    if spec.get("model_objects"):
        model_files = _download_model(spec)
    if model_files is not None:
        model_dir = folder / "model"
        for relative, data in model_files.items():
            target = model_dir / relative
            if not target.resolve().is_relative_to(model_dir.resolve()):
                raise MiniBatchError(f"The model's file {relative!r} is outside its folder.")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        model_dir.mkdir(exist_ok=True)
        spec["model_dir"] = str(model_dir)
    if spec.get("entry_script_text"):
        script = folder / "script" / Path(spec["entry_script"]).name
        script.parent.mkdir()
        script.write_text(spec["entry_script_text"])
        spec["entry_script"] = str(script)
    return spec


def _download_model(spec: dict) -> dict[str, bytes]:
    """A version's files from the artifact store's bucket, each checked against its manifest entry."""
    import hashlib

    fs, files = filesystem(spec["job"]), {}
    for entry in spec["model_objects"]:
        try:
            data = fs.cat_file(entry["url"][len("s3://") :])
        except Exception as exc:
            raise MiniBatchError(
                f"Cannot read the model's file {entry['path']} from {entry['url']}: {type(exc).__name__}: {exc}",
                transient=True,
            ) from None
        if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise MiniBatchError(
                f"The model's file {entry['path']} in {entry['url']} is damaged: it changed after registration."
            )
        files[entry["path"]] = data
    return files


def _tell_started(spec: dict) -> None:
    from distributed import get_worker
    from distributed.worker import thread_state

    get_worker().log_event(
        spec["started_topic"],
        {"key": getattr(thread_state, "key", None), "pid": os.getpid(), "host": socket.gethostname()},
    )


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


def _run_script(module, spec: dict, failed: list[dict]):
    """Azure's contract: ``run(mini_batch)`` takes the list of file paths and returns a
    DataFrame or a list, one item per result. When it fails for several files, each file is
    given to ``run()`` alone, so only the file that breaks it is lost (listed in ``failed``)."""
    files = list(spec["files"])
    try:
        return _script_table(module.run(files), spec, files), len(files)
    except Exception:
        if len(files) == 1:
            raise
    import pyarrow as pa

    tables = []
    for path in files:
        try:
            tables.append(_script_table(module.run([path]), spec, [path]))
        except MiniBatchError as exc:
            failed.append({"file": path, "error": str(exc), "transient": exc.transient})
        except Exception as exc:  # the user's code: it may pass next time
            failed.append(
                {
                    "file": path,
                    "error": f"{type(exc).__name__}: {exc}",
                    "transient": True,
                    "traceback": traceback.format_exc(),
                }
            )
    if not tables:
        return None, len(files)
    return pa.concat_tables(tables, promote_options="permissive"), len(files)


def _script_table(result, spec: dict, files: list[str]):
    import pyarrow as pa

    names = ", ".join(Path(f).name for f in files[:5]) + (" ..." if len(files) > 5 else "")
    where = f"mini-batch {spec['index']} (files {names})"
    if result is None:
        raise MiniBatchError(f"run() returned None for {where}: it must return a list or a DataFrame.")
    if hasattr(result, "to_dict") and hasattr(result, "columns"):  # a pandas DataFrame
        return pa.Table.from_pandas(result, preserve_index=False)
    if isinstance(result, (list, tuple)):
        return pa.table(
            {"result": [x if isinstance(x, (int, float, str, bool)) or x is None else str(x) for x in result]}
        )
    raise MiniBatchError(f"run() returned {type(result).__name__} for {where}: it must return a list or a DataFrame.")


def _score_files(scorer, spec: dict, failed: list[dict]):
    """Each file read and scored on its own: one that cannot be is listed in ``failed`` and the
    others' rows are kept."""
    import pyarrow as pa

    tables, rows_in = [], 0
    for index, path in enumerate(spec["files"]):
        try:
            frame = read_table(path, filesystem(spec["job"]) if path.startswith("s3://") else None)
            table = score_table(scorer, frame, spec["file_labels"][index])
        except TableError as exc:
            failed.append({"file": path, "error": str(exc), "transient": exc.transient})
            continue
        except Exception as exc:  # the model raised: it may not next time
            failed.append(
                {
                    "file": path,
                    "error": f"{spec['file_labels'][index]}: {type(exc).__name__}: {exc}",
                    "transient": True,
                    "traceback": traceback.format_exc(),
                }
            )
            continue
        rows_in += frame.num_rows
        tables.append(table)
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
