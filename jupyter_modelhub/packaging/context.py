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

A context never removes or overwrites what it did not write: it goes into a new or empty folder,
or over a previous context of ours (its ``.modelhub-context`` marker lists what it wrote, and
only that is replaced); any other folder is refused before anything is touched. It is written
into a hidden sibling folder first and moved into place, so a failed write leaves no half context.

The image runs as a non-root user, serves on ``port`` with a HEALTHCHECK on the runtime's readiness
route (503 while the model loads, so ``docker ps`` says "starting" until it scores; the runtime
writes no access line for it), and has the model in ``AZUREML_MODEL_DIR`` as Azure's images do. Everything the user
gave (names, paths, tags) is written as data into files and JSON arrays, never into a shell
command line.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput
from ..flavors import BUILTIN_FLAVORS
from .runtime import copy_runtime

APP = "/var/azureml-app"
VENV = "/opt/modelhub/venv"
USER_ID = 10001
# a context's marker file: a folder holding it was written by us, and it lists what we wrote there
MARKER = ".modelhub-context"
MARKER_ABOUT = (
    "A Docker build context written by jupyter_modelhub. Writing a context here again replaces "
    "the entries listed here and nothing else."
)
# the names a context writes: the only ones a rewrite may replace, whatever a marker lists
ENTRIES = ("Dockerfile", ".dockerignore", "wheelhouse", "runtime", "app", "model", "meta")


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

    def fill(staged: Path) -> None:
        _environment_files(staged, inputs.wheelhouse)
        _model_files(staged, inputs)
        (staged / "Dockerfile").write_text(
            environment_dockerfile(inputs.base_image) + "\n" + model_dockerfile(inputs, "environment")
        )

    return _write(folder, fill, suggested_folder(folder, inputs.model_name, inputs.model_version))


def write_environment_context(folder: Path, base_image: str, wheelhouse: Path) -> Path:
    def fill(staged: Path) -> None:
        _environment_files(staged, wheelhouse)
        (staged / "Dockerfile").write_text(environment_dockerfile(base_image))

    return _write(folder, fill, folder / "environment-context")


def write_model_context(folder: Path, inputs: ContextInputs, environment_image: str) -> Path:
    def fill(staged: Path) -> None:
        _model_files(staged, inputs)
        (staged / "Dockerfile").write_text(model_dockerfile(inputs, environment_image))

    return _write(folder, fill, suggested_folder(folder, inputs.model_name, inputs.model_version))


def suggested_folder(folder: Path, model_name: str, model_version: int) -> Path:
    """Where a context of this version could go instead of a folder of the user's."""
    return folder / f"{model_name}-{model_version}-context"


def check_context_folder(folder: Path, suggestion: Path) -> set[str]:
    """Refuse (400, nothing touched) a folder a context may not be written into: one that is
    not absent, empty or a previous context of ours. Returns the entries a rewrite may replace:
    those the previous context's marker lists, and only names a context writes."""
    if os.path.lexists(folder) and not folder.is_dir():
        raise InvalidInput(f"--context {folder} is a file; give a folder.")
    present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if not present:
        return set()
    if MARKER not in present:
        shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
        raise InvalidInput(
            f"--context {folder} is not empty ({shown}) and is not a build context written by "
            "jupyter_modelhub, so writing one there could replace your files; nothing was changed. "
            f"Give an empty or new folder, e.g. --context {suggestion}."
        )
    return _listed(folder / MARKER) & set(ENTRIES)


def _listed(marker: Path) -> set[str]:
    """The entries a previous context's marker says it wrote (none if it cannot be read)."""
    try:
        entries = json.loads(marker.read_text()).get("entries", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {entry for entry in entries if isinstance(entry, str)}


def _write(folder: Path, fill, suggestion: Path) -> Path:
    """Write a context beside ``folder`` (a hidden sibling), then move it into place: renamed
    over an absent or empty folder, or, over a previous context, its own entries swapped for
    the new ones and its marker last. A write that fails leaves no half context."""
    replaceable = check_context_folder(folder, suggestion)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staged = folder.with_name(f".{folder.name}.partial-{secrets.token_hex(4)}")
    staged.mkdir()  # not mkdtemp: the context gets the user's usual permissions, not 0700
    try:
        fill(staged)
        (staged / ".dockerignore").write_text(f"Dockerfile\n{MARKER}\n")
        entries = sorted(p.name for p in staged.iterdir())
        (staged / MARKER).write_text(json.dumps({"about": MARKER_ABOUT, "entries": entries}, indent=1) + "\n")
        if not replaceable and not (folder.is_dir() and any(folder.iterdir())):
            _rename_over_empty(staged, folder, suggestion)
        else:
            _swap_entries(folder, staged, entries, replaceable, suggestion)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return folder


def _rename_over_empty(staged: Path, folder: Path, suggestion: Path) -> None:
    if folder.is_dir():
        shutil.copymode(folder, staged)
    try:
        os.replace(staged, folder)  # atomic; fails if a file appeared in the folder meanwhile
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        check_context_folder(folder, suggestion)  # says what appeared
        raise


def _swap_entries(folder: Path, staged: Path, entries: list[str], replaceable: set[str], suggestion: Path) -> None:
    """Replace a previous context's own entries with the new ones; anything else stays."""
    clash = [name for name in entries if name != MARKER and os.path.lexists(folder / name) and name not in replaceable]
    if clash:
        raise InvalidInput(
            f"--context {folder} is a previous build context, but {', '.join(clash)} there was not "
            "written by it, so it is not replaced; nothing was changed. Move it away, or give an "
            f"empty or new folder, e.g. --context {suggestion}."
        )
    previous = folder.with_name(f".{folder.name}.previous-{secrets.token_hex(4)}")
    previous.mkdir()
    try:
        for name in sorted(replaceable):
            if os.path.lexists(folder / name):
                os.replace(folder / name, previous / name)
        for name in entries:
            if name != MARKER:
                os.replace(staged / name, folder / name)
        os.replace(staged / MARKER, folder / MARKER)  # last: until here the old marker lists what is ours
    finally:
        shutil.rmtree(previous, ignore_errors=True)


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
    args = [
        "python",
        "-m",
        "jupyter_modelhub.serving",
        "--model-dir",
        inputs.model_dir,
        "--host",
        "0.0.0.0",
        "--port",
        str(inputs.port),
        "--name",
        inputs.model_name,
        "--version",
        str(inputs.model_version),
    ]
    if inputs.entry_script:
        args += ["--entry-script", f"{APP}/{inputs.entry_script[0]}"]
    elif inputs.flavor in BUILTIN_FLAVORS:
        args += ["--flavor", inputs.flavor]
    if inputs.signature:
        args += ["--signature-file", f"{APP}/modelhub-signature.json"]
    return args


def environment_dockerfile(base_image: str) -> str:
    """The base plus a venv of the locked dependencies, installed from the wheelhouse in a first
    stage so that the wheels never reach the image.

    Every stage starts with the build label (``BUILD_ARG``, given by the packager): the first
    stage's image is untagged once the build ends, and a cancelled build leaves untagged step
    images; the label is how they are found and removed, and nothing else ever is."""
    return (
        "\n".join(
            [
                "# Written by jupyter_modelhub: the environment (base image + locked dependencies).",
                f"FROM {base_image} AS dependencies",
                *_build_label(),
                "COPY wheelhouse/ /tmp/wheelhouse/",
                # the base's pip installs into a venv without pip of its own; packages' test suites are left out
                f"RUN python3 -m venv --without-pip {VENV} && python3 -m pip --python {VENV}/bin/python install --no-index "
                "--no-cache-dir --disable-pip-version-check --find-links /tmp/wheelhouse "
                "--requirement /tmp/wheelhouse/requirements.lock && "
                f"find {VENV} -depth -type d -name tests -path '*/site-packages/*' -exec rm -rf {{}} +",
                "",
                f"FROM {base_image} AS environment",
                *_build_label(),
                f"COPY --from=dependencies {VENV} {VENV}",
                f"ENV PATH={VENV}/bin:$PATH PYTHONUNBUFFERED=1",
            ]
        )
        + "\n"
    )


def model_dockerfile(inputs: ContextInputs, environment_image: str) -> str:
    """The runtime, entry script and model on top of the environment, least-often changed first
    (the build label first too: its value is the same for every build of a model, so it never
    invalidates the layers after it)."""
    health = (
        f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{inputs.port}/v2/health/ready', timeout=3)"
    )
    lines = [
        "# Written by jupyter_modelhub: the scoring runtime, entry script and model.",
        f"FROM {environment_image}",
        *_build_label(),
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


BUILD_ARG = "MODELHUB_BUILD"
BUILD_LABEL = "org.modelhub.build"


def _build_label() -> list[str]:
    """Label a stage (and so every image its steps make) with the build key the packager passes
    as a build argument; a context built elsewhere gets an empty label."""
    return [f"ARG {BUILD_ARG}", f'LABEL {BUILD_LABEL}="${{{BUILD_ARG}}}"']
