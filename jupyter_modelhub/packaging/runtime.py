"""The scoring runtime as it ships into environments and images: ``jupyter_modelhub.serving``
alone (no JupyterLab, no server extension), and a version that changes when its code does."""

from __future__ import annotations

import hashlib
import shutil
from functools import cache
from pathlib import Path

from .. import __version__

SERVING = Path(__file__).resolve().parents[1] / "serving"


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
