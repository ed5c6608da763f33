"""Virtual environments for process deployments (``%deploy --env``), built with uv and cached.

A deployment runs in the server's own Python by default (instant). Given a requirements list,
it gets a virtual environment made of that list plus what the scoring runtime needs, pinned to
the versions the server runs (so a model pickled here loads the same there). Environments are
cached by the hash of their contents, built once under a lock, and shared by every deployment
that asks for the same list.
"""

from __future__ import annotations

import collections
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from ..errors import InvalidInput
from ..operations.progress import Progress
from .partials import remove_partials
from .runtime import copy_runtime

RUNTIME = {"common": ["tornado", "numpy", "orjson"], "onnx": ["onnxruntime"],
           "sklearn": ["scikit-learn", "joblib", "scipy", "cloudpickle"], "mlflow": ["mlflow"], "custom": []}


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

    def python_for(self, requirements: str | None, flavor: str, progress: Progress | None = None) -> str:
        """The interpreter a deployment runs with: the server's, or a cached environment's (built now
        if it is not there yet, reporting to ``progress``)."""
        packages = self._packages(requirements, flavor)
        if packages is None:
            return sys.executable
        target = self.folder / _digest(packages)
        python = target / "bin" / "python"
        if (target / ".ready").exists():
            return str(python)
        with open(target.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one build per environment, however many ask at once
            if not (target / ".ready").exists():
                self._build(target, packages, progress or Progress())
        return str(python)

    def needs_build(self, requirements: str | None, flavor: str) -> bool:
        """True if ``python_for`` would have to build an environment (long work: an operation)."""
        packages = self._packages(requirements, flavor)
        return packages is not None and not (self.folder / _digest(packages) / ".ready").exists()

    def remove_partials(self, *_ignored) -> None:
        """Remove half-built environments whose build was killed midway (their lock is free again)."""
        remove_partials(self.folder)

    @staticmethod
    def _packages(requirements: str | None, flavor: str) -> list[str] | None:
        if not requirements or not requirements.strip():
            return None
        lines = [line.strip() for line in requirements.splitlines() if line.strip() and not line.strip().startswith("#")]
        for line in lines:
            if line.startswith("-") and not line.startswith(("--index-url", "--extra-index-url", "--find-links")):
                raise InvalidInput(f"Unsupported requirements line {line!r}: list packages (name==version), "
                                   "optionally with --index-url/--find-links.")
        return lines + pinned(RUNTIME["common"] + RUNTIME.get(flavor, []))

    def _build(self, target: Path, packages: list[str], progress: Progress) -> None:
        """Build into ``<hash>.partial-<pid>`` and rename it into place when complete, so a build
        that fails, is cancelled or is killed never leaves an environment that looks usable."""
        uv = self.uv or shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
        if not Path(uv).exists() and not shutil.which(uv):
            raise InvalidInput("Building an environment needs uv (pip install uv).")
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            requirements = partial / "requirements.txt"
            partial.mkdir(parents=True)
            requirements.write_text("\n".join(packages) + "\n")
            progress.step("creating the virtual environment", 0, 3)
            self._run([uv, "venv", "--python", sys.executable, str(partial / "venv")], progress)
            progress.step(f"installing {len(packages)} requirements with uv", 1, 3)
            self._run([uv, "pip", "install", "--python", str(partial / "venv" / "bin" / "python"),
                       "-r", str(requirements)], progress)
            progress.step("adding the scoring runtime", 2, 3)
            self._add_runtime(partial / "venv")
            shutil.rmtree(target, ignore_errors=True)
            os.rename(partial / "venv", target)
            (target / ".ready").write_text("\n".join(packages))
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    @staticmethod
    def _run(command: list[str], progress: Progress) -> None:
        """Run a build step, its output going line by line into the operation's log."""
        last: collections.deque[str] = collections.deque(maxlen=8)
        with subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) as child:
            try:
                for line in child.stdout:
                    last.append(line.decode(errors="replace").rstrip())
                    if progress.log is not None:
                        progress.log.write(line)
                        progress.log.flush()
                code = child.wait()
            except BaseException:  # cancelled: the build's own processes go with it
                child.kill()
                raise
        if code != 0:
            tail = "\n".join(last)
            raise InvalidInput(f"Building the environment failed:\n{tail}")

    @staticmethod
    def _add_runtime(target: Path) -> None:
        """Make ``python -m jupyter_modelhub.serving`` importable there, and nothing else of ours.
        The .pth line is relative to site-packages, so the environment can be renamed into place."""
        copy_runtime(target / "modelhub-runtime")
        site = next((target / "lib").glob("python*/site-packages"))
        (site / "modelhub-runtime.pth").write_text(os.path.relpath(target / "modelhub-runtime", site) + "\n")


def _digest(packages: list[str]) -> str:
    return hashlib.sha256("\n".join([sys.version, *packages]).encode()).hexdigest()[:16]
