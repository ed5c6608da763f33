"""Turning what a user has in the kernel into files to upload, and a signature from a sample.

A fitted scikit-learn object is written into a temporary folder (``pickling.py`` says how);
paths are packed under their own names. Uploads are tar streams produced on a thread and
handed to the HTTP client chunk by chunk, so a 1 GB model never sits in memory.
"""

from __future__ import annotations

import io
import os
import queue
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import InvalidInput
from . import pickling

CHUNK = 1 << 20
EXAMPLE_ROWS = 5


def is_sklearn_model(obj: object) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:
        return False
    return isinstance(obj, BaseEstimator)


def save_sklearn(model: object) -> Path:
    """Write a fitted estimator or pipeline to ``<tmp>/model.joblib``; returns the folder."""
    return save_model(model)[0]


def save_model(model: object, format: str | None = None) -> tuple[Path, dict]:
    """Write a fitted estimator or pipeline to ``<tmp>/model.joblib`` (or ``model.skops`` with
    ``format="skops"``): (the folder, how it was written; see ``pickling.save``)."""
    if format not in (None, "joblib", "skops"):
        raise InvalidInput(f"Unknown model format {format!r}: give joblib (the default) or skops.")
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise InvalidInput(
            f"This {type(model).__name__} is not fitted yet: call .fit(X, y) before registering it."
        ) from None
    except TypeError:
        pass  # not an estimator check_is_fitted understands; it can still be saved
    folder = Path(tempfile.mkdtemp(prefix="modelhub-"))
    try:
        return folder, (pickling.save_skops(model, folder) if format == "skops" else pickling.save(model, folder))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def collect_files(paths: list[str | os.PathLike]) -> list[tuple[Path, str]]:
    """(file on disk, path inside the version) for every file under the given paths.

    Each path goes in under its own name, as in Azure ML: a file at the top, a folder with its
    name kept, so registering the folder ``model/`` gives ``model/sklearn_regression_model.pkl``
    and a scoring script finds it at ``$AZUREML_MODEL_DIR/model/sklearn_regression_model.pkl``.
    Links are followed only when they stay inside the folder being registered.
    """
    if not paths:
        raise InvalidInput("Empty registration: give a model object, a file or a folder.")
    entries: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise InvalidInput(f"{str(raw)!r} does not exist (relative paths start at {os.getcwd()}).")
        if path.is_file():
            entries.append((path.resolve(), path.name))
            continue
        root = path.resolve()
        if not root.name:
            raise InvalidInput(f"Cannot register {str(raw)!r}: register a named folder or the files in it.")
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            for name in sorted(filenames) + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
                source = Path(dirpath) / name
                target = source.resolve()
                if not target.is_relative_to(root):
                    raise InvalidInput(
                        f"{source} is a link to {target}, outside {root}: copy the file into the "
                        "folder or register it separately."
                    )
                if target.is_file():
                    entries.append((target, f"{root.name}/{source.relative_to(root).as_posix()}"))
    if not entries:
        raise InvalidInput(f"Empty registration: {', '.join(map(str, paths))} contains no files.")
    return entries


# Uploads up to this size are built in memory and sent with their length; larger ones stream.
IN_MEMORY_UPLOAD = 8 << 20


def tar_body(entries: list[tuple[Path, str]]) -> bytes | Iterator[bytes]:
    """The body of an upload of ``entries``: a small one built in memory (sent with its length: no
    thread to build it, no chunked encoding to parse), a larger one streamed as it is built."""
    if sum(source.stat().st_size for source, _ in entries) > IN_MEMORY_UPLOAD:
        return tar_stream(entries)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add_entries(tar, entries)
    return buffer.getvalue()


def _add_entries(tar: tarfile.TarFile, entries: list[tuple[Path, str]]) -> None:
    """Each file with its content and name only: no owner, and the same mode for all."""
    for source, arcname in entries:
        info = tar.gettarinfo(str(source), arcname=arcname)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mode = 0o644
        with open(source, "rb") as f:
            tar.addfile(info, f)


def tar_stream(entries: list[tuple[Path, str]]) -> Iterator[bytes]:
    """Yield an uncompressed tar of ``entries`` in chunks, built on a thread as it is consumed."""
    chunks: queue.Queue = queue.Queue(maxsize=8)
    done = object()

    class Sink:
        def write(self, data: bytes) -> int:
            chunks.put(bytes(data))
            return len(data)

    def produce() -> None:
        try:
            with tarfile.open(fileobj=Sink(), mode="w|", bufsize=CHUNK) as tar:
                _add_entries(tar, entries)
            chunks.put(done)
        except BaseException as exc:  # handed to the consumer, which raises it
            chunks.put(exc)

    threading.Thread(target=produce, daemon=True, name="modelhub-tar").start()
    while (item := chunks.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


def describe_sample(sample: object, model: object = None) -> tuple[dict, object]:
    """(signature, input example) from a sample of inputs: numpy arrays, DataFrames, lists.

    With a model, the outputs are described from its prediction on the first rows too.
    """
    import numpy as np

    head = _head(sample)
    if _is_dataframe(head):
        inputs = [{"name": str(c), "dtype": _dtype_name(head[c]), "shape": [-1]} for c in head.columns]
        import orjson

        example = {"columns": [str(c) for c in head.columns], "data": orjson.loads(head.to_json(orient="values"))}
    else:
        array = np.asarray(head)
        if array.dtype == object and array.ndim == 0:
            raise InvalidInput(
                f"--sample gave a {type(sample).__name__}; expected an array, DataFrame or list of rows."
            )
        inputs = [{"name": "input", "dtype": str(array.dtype), "shape": [-1, *array.shape[1:]]}]
        example = _jsonable(array)
    outputs = []
    if model is not None and hasattr(model, "predict"):
        try:
            predictions = np.asarray(model.predict(head))
            outputs.append(
                {"name": "predictions", "dtype": str(predictions.dtype), "shape": [-1, *predictions.shape[1:]]}
            )
            if hasattr(model, "predict_proba"):
                probabilities = np.asarray(model.predict_proba(head))
                outputs.append(
                    {
                        "name": "probabilities",
                        "dtype": str(probabilities.dtype),
                        "shape": [-1, *probabilities.shape[1:]],
                    }
                )
        except Exception:
            outputs = []  # the sample may not suit predict(); inputs alone are still worth keeping
    return {"inputs": inputs, "outputs": outputs}, example


def _dtype_name(column) -> str:
    """numpy's dtype name, except text columns, which are 'string' whatever pandas stores them as."""
    from pandas.api.types import is_string_dtype

    return "string" if is_string_dtype(column.dtype) else str(column.dtype)


def rows_for_json(sample: object, limit: int = 10_000) -> object:
    """A sample as JSON-ready rows: a list of rows, or {"columns", "data"} for a DataFrame."""
    import numpy as np
    import orjson

    if _is_dataframe(sample):
        head = sample.head(limit)
        return {"columns": [str(c) for c in head.columns], "data": orjson.loads(head.to_json(orient="values"))}
    return _jsonable(np.asarray(sample[:limit]))


def _head(sample: object):
    if _is_dataframe(sample):
        return sample.head(EXAMPLE_ROWS)
    try:
        return sample[:EXAMPLE_ROWS]
    except TypeError:
        raise InvalidInput(
            f"--sample gave a {type(sample).__name__}; expected an array, DataFrame or list of rows."
        ) from None


def _is_dataframe(obj: object) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns")


def _jsonable(array) -> object:
    import numpy as np

    if array.dtype.kind == "f":
        return np.where(np.isfinite(array), array, None).tolist() if not np.isfinite(array).all() else array.tolist()
    return array.tolist()
