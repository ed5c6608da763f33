"""Isolated Python environments for process deployments, built with uv and cached.

A deployment runs in the server's own Python by default (instant). Given a requirements list,
it gets a virtual environment made of that list plus what the scoring runtime needs, pinned to
the versions the server runs (so a model pickled here loads the same there). Environments are
cached by the hash of their contents, built once under a lock, and shared by every deployment
that asks for the same list.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from ..errors import InvalidInput

RUNTIME = {"common": ["tornado", "numpy", "orjson"], "onnx": ["onnxruntime"],
           "sklearn": ["scikit-learn", "joblib", "scipy"], "mlflow": ["mlflow"], "custom": []}


def pinned(names: list[str]) -> list[str]:
    """``name==version`` as installed here, or the bare name when it is not installed."""
    out = []
    for name in names:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(name)
    return out


class EnvironmentBuilder(LoggingConfigurable):
    uv = Unicode("", config=True, help="Path of the uv executable (found beside Python or on PATH by default).")

    def __init__(self, root: Path, **kwargs):
        super().__init__(**kwargs)
        self.folder = Path(root) / "envs"
        self.folder.mkdir(parents=True, exist_ok=True)

    def python_for(self, requirements: str | None, flavor: str, log=None) -> str:
        """The interpreter a deployment runs with: the server's, or a cached environment's."""
        if not requirements or not requirements.strip():
            return sys.executable
        lines = [line.strip() for line in requirements.splitlines() if line.strip() and not line.strip().startswith("#")]
        for line in lines:
            if line.startswith("-") and not line.startswith(("--index-url", "--extra-index-url", "--find-links")):
                raise InvalidInput(f"Unsupported requirements line {line!r}: list packages (name==version), "
                                   "optionally with --index-url/--find-links.")
        packages = lines + pinned(RUNTIME["common"] + RUNTIME.get(flavor, []))
        digest = hashlib.sha256("\n".join([sys.version, *packages]).encode()).hexdigest()[:16]
        target = self.folder / digest
        python = target / "bin" / "python"
        if (target / ".ready").exists():
            return str(python)
        with open(self.folder / f"{digest}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one build per environment, however many ask at once
            if (target / ".ready").exists():
                return str(python)
            shutil.rmtree(target, ignore_errors=True)
            self._build(target, packages, log)
        return str(python)

    def _build(self, target: Path, packages: list[str], log) -> None:
        uv = self.uv or shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
        if not Path(uv).exists() and not shutil.which(uv):
            raise InvalidInput("Building an environment needs uv (pip install uv).")
        requirements = target.with_suffix(".txt")
        requirements.write_text("\n".join(packages) + "\n")
        steps = [[uv, "venv", "--quiet", "--python", sys.executable, str(target)],
                 [uv, "pip", "install", "--quiet", "--python", str(target / "bin" / "python"), "-r", str(requirements)]]
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True, timeout=1800)
            if log is not None:
                log.write((result.stdout + result.stderr).encode())
            if result.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-8:])
                raise InvalidInput(f"Building the environment failed:\n{tail}")
        self._add_runtime(target)
        (target / ".ready").write_text("\n".join(packages))

    @staticmethod
    def _add_runtime(target: Path) -> None:
        """Make ``python -m jupyter_modelhub.serving`` importable there, and nothing else of ours."""
        shim = target / "modelhub-runtime" / "jupyter_modelhub"
        shutil.copytree(Path(__file__).parents[1] / "serving", shim / "serving",
                        ignore=shutil.ignore_patterns("__pycache__"))
        (shim / "__init__.py").write_text('"""Only the scoring runtime is installed here."""\n')
        site = next((target / "lib").glob("python*/site-packages"))
        (site / "modelhub-runtime.pth").write_text(str(target / "modelhub-runtime") + "\n")
