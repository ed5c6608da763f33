"""Writing a fitted model to a file a deployment can load, or saying why it cannot be.

A pickle refers to classes and functions by module and name. Those a notebook defines live in
``__main__``, and a deployment's ``__main__`` is another program: the model would register and
then fail to load ("Can't get attribute 'Doubler' on <module '__main__'>"), and a lambda cannot
be pickled by name at all. Such models are written with cloudpickle, which stores what the
notebook defined by value, as MLflow does; everything else is written with joblib as before,
byte for byte. Code stored by value is Python bytecode, which loads only on the same Python
minor version: :func:`check_loadable` refuses the registration when the server's differs.

What cannot be pickled at all (a lock, an open file) is refused in one line that names the step
holding it. Not here: the files and the upload (``packing.py``).
"""

from __future__ import annotations

import pickle
import platform
import types
from pathlib import Path

from ..errors import InvalidInput

MODEL_FILE = "model.joblib"
SKOPS_FILE = "model.skops"


class _Discard:
    def write(self, data) -> int:
        # Protocol 5 hands large arrays over as a PickleBuffer, which has no len().
        return memoryview(data).nbytes


class _NotebookFinder(pickle.Pickler):
    """Pickles into nothing, noting the classes and functions that only the notebook can provide."""

    def __init__(self):
        super().__init__(_Discard(), protocol=pickle.HIGHEST_PROTOCOL)
        self.found: list[str] = []

    def reducer_override(self, obj):
        if isinstance(obj, (type, types.FunctionType)) and _by_value(obj):
            if obj.__qualname__ not in self.found:
                self.found.append(obj.__qualname__)
            return (str, ())  # stand-in: what it holds is cloudpickle's to store
        return NotImplemented


def _by_value(obj) -> bool:
    """Defined in the notebook, or not reachable by its name (a lambda, a function in a function)."""
    return obj.__module__ == "__main__" or "<" in obj.__qualname__


def save_skops(model: object, folder: Path) -> dict:
    """Write ``model`` to ``folder/model.skops`` with skops, which stores scikit-learn models
    without pickle (loading constructs only the types its schema names, checked first)."""
    try:
        import skops
        import skops.io
    except ImportError:
        raise InvalidInput(
            "Saving in the skops format needs skops, which is not installed here: pip install skops."
        ) from None
    skops.io.dump(model, folder / SKOPS_FILE)
    return {"format": "skops", "file": SKOPS_FILE, "skops": skops.__version__}


def save(model: object, folder: Path) -> dict:
    """Write ``model`` to ``folder/model.joblib``; returns how it was written.

    ``{"format": "joblib"}``, or for a model using what the notebook defined
    ``{"format": "cloudpickle", "by_value": [...], "python": "3.11", "cloudpickle": "3.1.0"}``
    (the loader needs cloudpickle and that Python minor version). Raises InvalidInput naming the
    step that cannot be pickled.
    """
    import joblib

    path = folder / MODEL_FILE
    finder = _NotebookFinder()
    try:
        finder.dump(model)
    except Exception as exc:
        raise InvalidInput(unpicklable(model, exc)) from None
    if not finder.found:
        joblib.dump(model, path)
        return {"format": "joblib"}
    try:
        import cloudpickle
    except ImportError:
        raise InvalidInput(
            f"This {type(model).__name__} uses {_listed(finder.found)}, defined in this notebook; saving it "
            "needs cloudpickle, which is not installed here: pip install cloudpickle."
        ) from None
    try:
        with open(path, "wb") as out:
            cloudpickle.dump(model, out, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise InvalidInput(unpicklable(model, exc)) from None
    return {
        "format": "cloudpickle",
        "by_value": finder.found,
        "python": python_minor(),
        "cloudpickle": cloudpickle.__version__,
    }


def python_minor(version: str | None = None) -> str:
    major, minor, *_ = (version or platform.python_version()).split(".")
    return f"{major}.{minor}"


def check_loadable(serialization: dict, model: object, server_python: str | None) -> None:
    """Refuse a model stored by value that the server's Python could not load."""
    if serialization.get("format") != "cloudpickle" or not server_python:
        return
    ours, theirs = serialization["python"], python_minor(server_python)
    if ours != theirs:
        raise InvalidInput(
            f"Cannot register this {type(model).__name__}: it uses {_listed(serialization['by_value'])}, defined "
            f"in this notebook, which is saved by value as Python {ours} code, and the Model Hub server runs "
            f"Python {theirs}, where that code cannot load. Move it into a module installed where the server "
            f"runs (e.g. pip install -e .), or run this notebook on Python {theirs}."
        )


def unpicklable(model: object, error: Exception) -> str:
    """One line: which step (and which of its attributes) cannot be pickled, why, and what to do."""
    try:
        import cloudpickle as pickler
    except ImportError:
        pickler = pickle
    culprit, where = model, None
    for path, step in reversed(_steps(model)):  # the deepest step that fails is the one to name
        if not _pickles(pickler, step):
            culprit, where = step, path
            break
    attribute = (
        next((name for name, value in sorted(vars(culprit).items()) if not _pickles(pickler, value)), None)
        if hasattr(culprit, "__dict__")
        else None
    )
    subject = (
        f"step {' > '.join(map(repr, where))} ({type(culprit).__name__})" if where else f"this {type(culprit).__name__}"
    )
    holds = f", in its {attribute!r}," if attribute else ""
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return (
        f"Cannot register {subject}: it holds something that cannot be pickled{holds} "
        f"({type(error).__name__}: {reason}). A model is saved as a pickle: keep locks, open files, "
        "connections and generators out of it (create them when the model is used)."
    )


def _pickles(pickler, value) -> bool:
    try:
        pickler.dumps(value)
    except Exception:
        return False
    return True


def _steps(model: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every (path, estimator) inside pipelines, column transformers and feature unions."""
    found = [(path, model)] if path else []
    children = (
        getattr(model, "steps", None)
        or getattr(model, "transformer_list", None)
        or [
            (name, step)
            for name, step, *_ in (getattr(model, "transformers_", None) or getattr(model, "transformers", None) or [])
        ]
    )
    for name, child in children:
        if child is not None and not isinstance(child, str):  # "passthrough", "drop"
            found.extend(_steps(child, (*path, name)))
    return found


def _listed(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
