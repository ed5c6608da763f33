"""Virtual environments of process deployments (``%deploy --env``), made from environment resources.

A process deployment runs in the server's own Python by default (instant). Given an environment
(``--env NAME[:VERSION]``, or ``--requirements F`` which creates or reuses one by content, see
``environments``), it runs in a virtual environment of that environment's lock, plus the scoring
runtime. The venv is keyed by the environment's hash, so it is built once, under a lock, and
shared by every deployment of the same environment. Its packages come from the environment's
wheelhouse with ``--no-index`` when one was downloaded (by ``%package``), else from the index
the environment names (or the default one).
"""

from __future__ import annotations

import collections
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from ..errors import InvalidInput
from ..progress import Progress
from .environments import SERVER_PYTHON, EnvironmentStore, index_environment, uv_executable
from .partials import remove_partials
from .runtime import batch_worker_requirements, copy_batch_worker, copy_runtime


class EnvironmentBuilder(LoggingConfigurable):
    """Builds and finds the venvs of environments: ``<root>/envs/<hash[:16]>``."""

    uv = Unicode("", config=True, help="Path of the uv executable (found beside Python or on PATH by default).")

    def __init__(self, root: Path, database, **kwargs):
        super().__init__(**kwargs)
        self.folder = Path(root) / "envs"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.wheelhouses = Path(root) / "wheelhouses"
        self.store = EnvironmentStore(database, root, uv=self.uv)

    def resolve(
        self,
        model: str,
        flavor: str,
        *,
        environment: str | None = None,
        requirements: str | None = None,
        user: str = "",
        create: bool = True,
    ) -> dict | None:
        """The environment a deployment of ``model`` asks for: ``environment`` (NAME[:VERSION], a
        registered one), or the one made of ``requirements`` (created, or reused by content, as
        ``MODEL-env``, the name ``%package --requirements`` gives it too), or None (the server's
        Python). With ``create=False`` nothing is locked: an environment still to be made is ``{}``."""
        if environment and requirements:
            raise InvalidInput("Give either --env NAME[:VERSION] or --requirements FILE, not both.")
        if environment:
            return self.store.get_ref(environment)
        if not requirements or not requirements.strip():
            return None
        content = {
            "requirements": requirements,
            "python": SERVER_PYTHON,
            "base_image": self._base_image(),
            "flavor": flavor,
        }
        if not create:
            return self.store.find(f"{model}-env", **content) or {}
        return self.store.create(f"{model}-env", reuse=True, user=user, **content)

    def needs_build(self, environment: dict | None) -> bool:
        """True if ``python_for(environment)`` is long work (an operation): locking or building."""
        return environment is not None and (not environment or not self.is_built(environment))

    def _base_image(self) -> str:
        """The image base an environment made here is recorded with: the packager's, so that
        ``%package`` of the same requirements reuses the same environment."""
        from .packager import Packager

        return self.config.get("Packager", {}).get("base_image", Packager.base_image.default_value)

    def python_for(self, environment: dict | None, progress: Progress | None = None) -> str:
        """The interpreter a deployment runs with: the server's, or the venv of ``environment``
        (an ``EnvironmentStore`` record), built now if it is not there yet, reporting to ``progress``."""
        if environment is None:
            return sys.executable
        target = self._target(environment)
        if not (target / ".ready").exists():
            with open(target.with_suffix(".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # one build per environment, however many ask at once
                if not (target / ".ready").exists():
                    self._build(target, environment, progress or Progress())
        return str(target / "bin" / "python")

    def batch_python_for(self, environment: dict, progress: Progress | None = None) -> str:
        """The interpreter a batch job's Dask workers run with in ``environment``: its venv, plus
        (once) the server's Dask and pyarrow, so the workers can join the job's scheduler, and the
        batch worker's modules."""
        progress = progress or Progress()
        python = self.python_for(environment, progress)
        target = self._target(environment)
        wanted = "\n".join(batch_worker_requirements()) + "\n"
        marker = target / ".batch-worker"
        if not marker.exists() or marker.read_text() != wanted:
            with open(target.with_suffix(".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not marker.exists() or marker.read_text() != wanted:
                    progress.step(
                        f"adding the Dask worker packages to {environment['ref']}: " + ", ".join(wanted.split()), 0, 1
                    )
                    self._run([uv_executable(self.uv), "pip", "install", "--python", python, *wanted.split()], progress)
                    marker.write_text(wanted)
        copy_batch_worker(target / "modelhub-runtime")
        return python

    def is_built(self, environment: dict) -> bool:
        return (self._target(environment) / ".ready").exists()

    def remove_partials(self, *_ignored) -> None:
        """Remove half-built venvs whose build was killed midway (their lock is free again)."""
        remove_partials(self.folder)

    def _target(self, environment: dict) -> Path:
        return self.folder / environment["hash"][:16]

    def _build(self, target: Path, environment: dict, progress: Progress) -> None:
        """Build into ``<hash>.partial-<pid>`` and rename it into place when complete, so a build
        that fails, is cancelled or is killed never leaves a venv that looks usable."""
        uv = uv_executable(self.uv)
        if not Path(uv).exists() and not shutil.which(uv):
            raise InvalidInput("Building an environment needs uv (pip install uv).")
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            lock = partial / "requirements.lock"
            partial.mkdir(parents=True)
            lock.write_text("\n".join(environment["lock"]) + "\n")
            python = sys.executable if environment["python"] == SERVER_PYTHON else environment["python"]
            progress.step(
                f"creating the virtual environment of {environment['ref']} (Python {environment['python']})", 0, 3
            )
            self._run(
                [uv, "venv", "--python", python, str(partial / "venv")], progress, {"UV_PYTHON_DOWNLOADS": "never"}
            )
            wheels = self.wheelhouses / environment["hash"]
            source = ["--no-index", "--find-links", str(wheels)] if (wheels / ".complete").exists() else []
            count = sum(1 for line in environment["lock"] if line and not line.startswith("-"))
            progress.step(
                f"installing {count} locked packages with uv" + (" from the wheelhouse" if source else ""), 1, 3
            )
            self._run(
                [
                    uv,
                    "pip",
                    "install",
                    "--python",
                    str(partial / "venv" / "bin" / "python"),
                    "--no-deps",
                    *source,
                    "-r",
                    str(lock),
                ],
                progress,
            )
            progress.step("adding the scoring runtime", 2, 3)
            self._add_runtime(partial / "venv")
            shutil.rmtree(target, ignore_errors=True)
            os.rename(partial / "venv", target)
            (target / ".ready").write_text(environment["ref"] + "\n")
        finally:
            shutil.rmtree(partial, ignore_errors=True)

    @staticmethod
    def _run(command: list[str], progress: Progress, env: dict | None = None) -> None:
        """Run a build step, its output going line by line into the operation's log."""
        last: collections.deque[str] = collections.deque(maxlen=8)
        with subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=index_environment(env),
        ) as child:
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
        The .pth line is relative to site-packages, so the venv can be renamed into place."""
        copy_runtime(target / "modelhub-runtime")
        site = next((target / "lib").glob("python*/site-packages"))
        (site / "modelhub-runtime.pth").write_text(os.path.relpath(target / "modelhub-runtime", site) + "\n")
