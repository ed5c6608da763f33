"""Every demo notebook in notebooks/ runs top to bottom against a real server, as a user would,
and ``make demo`` (notebooks/run.py) leaves nothing running behind it. The quickstart runs once,
as ``make demo`` runs it, and three tests read what it did.

A notebook that needs a Docker engine says so in its metadata (``modelhub.requires``); it runs
against a server configured with the local base image, and skips without an engine outside CI
(fails in CI). Each runs in a folder under the server's root, as a notebook opened in
JupyterLab does (``--context`` and entry scripts must be under it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from helpers.docker import BASE_IMAGE
from helpers.notebooks import (
    NOTEBOOKS,
    QUICKSTART,
    errors_in,
    execute,
    requires,
    text_of,
)
from helpers.paths import NOTEBOOKS as NOTEBOOK_DIR
from helpers.servers import ServerProcess

pytestmark = pytest.mark.kernel  # papermill runs every notebook, make demo too


@pytest.fixture(scope="module")
def docker_server(tmp_path_factory, docker_client):
    server = ServerProcess(tmp_path_factory.mktemp("docker-notebooks"), args=[f"--Packager.base_image={BASE_IMAGE}"])
    yield server
    server.stop()


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "notebook",
    [pytest.param(n, marks=pytest.mark.docker) if "docker" in requires(n) else n for n in NOTEBOOKS if n != QUICKSTART],
    ids=lambda n: n.name,
)
def test_notebook_runs_without_errors(notebook, request):
    server = request.getfixturevalue("docker_server" if "docker" in requires(notebook) else "hub_server")
    executed, _, _ = execute(notebook, server)
    assert errors_in(executed) == []
    assert not [e for e in server.client().endpoints()], "the notebook removes the endpoints it deployed"


@dataclass
class Demo:
    """What ``make demo`` did: its exit code and output, the executed quickstart, its folder, its time."""

    run: subprocess.CompletedProcess
    executed: nbformat.NotebookNode
    folder: Path
    seconds: float
    left: list[Path]  # the processes of the demo still running when make demo had ended


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    """The quickstart run once, as ``make demo`` runs it (notebooks/run.py: its own server, stopped
    at the end); the tests below read what it printed, the notebook it executed and its registry."""
    folder = tmp_path_factory.mktemp("demo")
    shutil.copy(QUICKSTART, folder / QUICKSTART.name)
    env = {k: v for k, v in os.environ.items() if k not in ("MODELHUB_URL", "MODELHUB_TOKEN")}
    env.update(
        JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
        JUPYTER_DATA_DIR=str(folder / "data"),
        JUPYTER_CONFIG_DIR=str(folder / "config"),
    )
    # a user's Jupyter config reaches the demo's server: here, the local base image (none can be
    # pulled here), so with an engine the quickstart builds a real image
    (folder / "config").mkdir()
    (folder / "config" / "jupyter_server_config.json").write_text(json.dumps({"Packager": {"base_image": BASE_IMAGE}}))
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, str(NOTEBOOK_DIR / "run.py"), str(folder / QUICKSTART.name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=380,
    )
    seconds = time.perf_counter() - started
    output = folder / "output"
    hub_folder = str(output / "hub").encode()
    left = [p for p in Path("/proc").glob("[0-9]*/cmdline") if hub_folder in _reads(p)]
    assert (output / QUICKSTART.name).exists(), run.stdout + run.stderr
    return Demo(run, nbformat.read(output / QUICKSTART.name, as_version=4), output, seconds, left)


@pytest.fixture(scope="module")
def demo_registry(demo, tmp_path_factory):
    """The registry the demo left, served again (the demo stopped its own server)."""
    server = ServerProcess(tmp_path_factory.mktemp("demo-registry"), root=demo.folder / "hub" / "registry")
    yield server.client()
    server.stop()


@pytest.mark.timeout(400)
def test_quickstart_runs_in_about_a_minute_and_leaves_the_registry_as_it_describes(demo, demo_registry):
    assert errors_in(demo.executed) == []
    assert demo.seconds < 180, f"make demo took {demo.seconds:.0f} s"
    production = demo_registry.version("churn@production")
    assert production["ref"] == "churn:2" and production["derived_from"] == "churn:1"
    assert production["tags"] == {"stage": "prod", "team": "growth"}
    assert demo_registry.version("churn:1")["properties"]["accuracy"] > 0.9
    assert (demo.folder / "downloaded" / "model.joblib").exists()
    onnx = demo_registry.version("churn:3")
    assert onnx["flavor"] == "onnx" and onnx["derived_from"] == "churn:2"
    assert "Removed the endpoints the demo deployed" not in demo.run.stdout, "the quickstart removes its endpoint"


def test_quickstart_packages_or_writes_the_build_context_and_says_which(demo):
    text = text_of(demo.executed)
    try:
        from jupyter_modelhub.packaging.builder import engine

        engine()
        has_engine = True
    except Exception:
        has_engine = False
    if has_engine:
        assert "modelhub/churn:3" in text, text[-2000:]
    else:
        assert "No Docker engine here" in text and "writes the image's build context" in text
        assert (demo.folder / "churn-image" / "Dockerfile").is_file(), "the build context is written"
        assert "docker build" in text


def test_make_demo_stops_what_it_started_and_says_so(demo):
    out = demo.run.stdout
    assert demo.run.returncode == 0, out + demo.run.stderr
    assert "Started a Model Hub server for the demo" in out
    assert ">>> onnx = %convert churn@production" in out and "churn:3 (onnx) from churn:2" in out, (
        "each step, with its output"
    )
    assert "[" in out and " s]" in out, "with its time"
    assert "nothing of the demo is left running" in out, out[-2000:]
    assert demo.left == [], "no process of the demo is left"


def _reads(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
