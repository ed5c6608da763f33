"""The scoring runtime as it ships into environments and images: ``jupyter_modelhub.serving``
alone (no JupyterLab, no server extension), and a version that changes when its code does."""

from __future__ import annotations

import hashlib
import shutil
from functools import cache
from pathlib import Path

from .. import __version__

SERVING = Path(__file__).resolve().parents[1] / "serving"
BATCH = Path(__file__).resolve().parents[1] / "batch"
BATCH_WORKER = ("__init__.py", "minibatch.py", "tables.py", "preload.py")  # what a Dask worker of a job imports
BATCH_WORKER_PACKAGES = ("distributed", "dask", "cloudpickle", "msgpack", "pyarrow")  # at the server's versions


def copy_runtime(target: Path) -> Path:
    """Write ``target/jupyter_modelhub/serving`` (and a package shim); returns ``target``."""
    package = target / "jupyter_modelhub"
    shutil.copytree(SERVING, package / "serving", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (package / "__init__.py").write_text('"""Only the scoring runtime is installed here."""\n')
    return target


@cache
def runtime_version() -> str:
    """``0.1.0+<hash of the runtime's sources>``: an image's runtime layer is rebuilt exactly when
    this changes."""
    digest = hashlib.sha256()
    for path in sorted(SERVING.rglob("*.py")):
        digest.update(path.relative_to(SERVING).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def copy_batch_worker(target: Path) -> Path:
    """Write ``target/jupyter_modelhub/batch`` with the modules a batch job's Dask worker runs
    (beside the scoring runtime ``copy_runtime`` wrote); returns ``target``."""
    package = target / "jupyter_modelhub" / "batch"
    package.mkdir(parents=True, exist_ok=True)
    for name in BATCH_WORKER:
        shutil.copyfile(BATCH / name, package / name)
    return target


def batch_worker_requirements() -> list[str]:
    """What a Dask worker needs to join the server's scheduler: its Dask, serialisation and Arrow, pinned."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in BATCH_WORKER_PACKAGES] + ["numpy"]  # numpy: the env's own
