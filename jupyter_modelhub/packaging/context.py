"""Build contexts: the Dockerfiles and every file an image build needs.

Layers go from the one that changes least to the one that changes most, so that a change
rebuilds only what it must:

1. the base image;
2. a virtual environment with the locked dependencies, installed from the wheelhouse in a first
   stage (the wheels never reach the final image) and copied over: keyed by the environment.
   On the engine this is an image of its own, ``modelhub-env:<hash>``, built once per
   environment, so a model's build context need not carry the wheels at all;
3. the scoring runtime (``jupyter_modelhub.serving`` alone): keyed by the runtime's version;
4. the entry script, if any;
5. the model's files and signature: a model-only change rebuilds only this thin layer.

``write_context`` writes one self-contained context with both parts (for ``--context``: an
engine elsewhere); ``write_environment_context`` and ``write_model_context`` the two halves.

The image runs as a non-root user, serves on ``port`` with a HEALTHCHECK on the runtime's live
route, and has the model in ``AZUREML_MODEL_DIR`` as Azure's images do. Everything the user
gave (names, paths, tags) is written as data into files and JSON arrays, never into a shell
command line.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from .runtime import copy_runtime

APP = "/var/azureml-app"
VENV = "/opt/modelhub/venv"
USER_ID = 10001


@dataclass
class ContextInputs:
    """What goes into an image."""

    base_image: str
    wheelhouse: Path  # folder with the wheels and requirements.lock
    model_files: list[tuple[Path, str]]  # (file on disk, path inside the model folder)
    model_name: str
    model_version: int
    flavor: str
    signature: dict | None = None
    entry_script: tuple[str, str] | None = None  # (file name, source)
    port: int = 8080

    @property
    def model_dir(self) -> str:
        return f"{APP}/azureml-models/{self.model_name}/{self.model_version}"


def write_context(folder: Path, inputs: ContextInputs) -> Path:
    """One self-contained context: the environment stage and the model on top of it."""
    _fresh(folder)
    _environment_files(folder, inputs.wheelhouse)
    _model_files(folder, inputs)
    (folder / "Dockerfile").write_text(environment_dockerfile(inputs.base_image) + "\n" +
                                       model_dockerfile(inputs, "environment"))
    return folder


def write_environment_context(folder: Path, base_image: str, wheelhouse: Path) -> Path:
    _fresh(folder)
    _environment_files(folder, wheelhouse)
    (folder / "Dockerfile").write_text(environment_dockerfile(base_image))
    return folder


def write_model_context(folder: Path, inputs: ContextInputs, environment_image: str) -> Path:
    _fresh(folder)
    _model_files(folder, inputs)
    (folder / "Dockerfile").write_text(model_dockerfile(inputs, environment_image))
    return folder


def _fresh(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("wheelhouse", "runtime", "app", "model", "meta"):
        shutil.rmtree(folder / name, ignore_errors=True)
    (folder / ".dockerignore").write_text("Dockerfile\n")


def _environment_files(folder: Path, wheelhouse: Path) -> None:
    shutil.copytree(wheelhouse, folder / "wheelhouse", ignore=shutil.ignore_patterns(".complete"))


def _model_files(folder: Path, inputs: ContextInputs) -> None:
    copy_runtime(folder / "runtime")
    (folder / "app").mkdir()
    if inputs.entry_script:
        (folder / "app" / inputs.entry_script[0]).write_text(inputs.entry_script[1])
    for source, relative in inputs.model_files:
        target = folder / "model" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (folder / "model").mkdir(exist_ok=True)
    (folder / "meta").mkdir()
    if inputs.signature:
        (folder / "meta" / "signature.json").write_text(json.dumps(inputs.signature))


def command(inputs: ContextInputs) -> list[str]:
    """The runtime's command line inside the image."""
    args = ["python", "-m", "jupyter_modelhub.serving", "--model-dir", inputs.model_dir, "--host", "0.0.0.0",
            "--port", str(inputs.port), "--name", inputs.model_name, "--version", str(inputs.model_version)]
    if inputs.entry_script:
        args += ["--entry-script", f"{APP}/{inputs.entry_script[0]}"]
    elif inputs.flavor in ("sklearn", "onnx", "mlflow"):
        args += ["--flavor", inputs.flavor]
    if inputs.signature:
        args += ["--signature-file", f"{APP}/modelhub-signature.json"]
    return args


def environment_dockerfile(base_image: str) -> str:
    """The base plus a venv of the locked dependencies, installed from the wheelhouse in a first
    stage so that the wheels never reach the image."""
    return "\n".join([
        "# Written by jupyter_modelhub: the environment (base image + locked dependencies).",
        f"FROM {base_image} AS dependencies",
        "COPY wheelhouse/ /tmp/wheelhouse/",
        # the base's pip installs into a venv without pip of its own; packages' test suites are left out
        f"RUN python3 -m venv --without-pip {VENV} && python3 -m pip --python {VENV}/bin/python install --no-index "
        "--no-cache-dir --disable-pip-version-check --find-links /tmp/wheelhouse "
        "--requirement /tmp/wheelhouse/requirements.lock && "
        f"find {VENV} -depth -type d -name tests -path '*/site-packages/*' -exec rm -rf {{}} +",
        "",
        f"FROM {base_image} AS environment",
        f"COPY --from=dependencies {VENV} {VENV}",
        f"ENV PATH={VENV}/bin:$PATH PYTHONUNBUFFERED=1",
    ]) + "\n"


def model_dockerfile(inputs: ContextInputs, environment_image: str) -> str:
    """The runtime, entry script and model on top of the environment, least-often changed first."""
    health = (f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{inputs.port}/v2/health/live', "
              "timeout=3)")
    lines = [
        "# Written by jupyter_modelhub: the scoring runtime, entry script and model.",
        f"FROM {environment_image}",
        "COPY runtime/ /opt/modelhub/runtime/",
        "ENV PYTHONPATH=/opt/modelhub/runtime",
        f"COPY app/ {APP}/",
        f"ENV AZUREML_MODEL_DIR={inputs.model_dir} MODELHUB_MODEL_DIR={inputs.model_dir}",
        f"COPY model/ {inputs.model_dir}/",
    ]
    if inputs.signature:
        lines.append(f"COPY meta/signature.json {APP}/modelhub-signature.json")
    lines += [
        f"USER {USER_ID}:{USER_ID}",
        f"WORKDIR {APP}",
        f"EXPOSE {inputs.port}",
        f"HEALTHCHECK --interval=10s --timeout=5s --start-period=5s CMD {json.dumps(['python', '-c', health])}",
        f"CMD {json.dumps(command(inputs))}",
    ]
    return "\n".join(lines) + "\n"
