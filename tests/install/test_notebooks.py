"""Every demo notebook in notebooks/ runs top to bottom against a real server, as a user would,
and ``make demo`` (notebooks/run.py) leaves nothing running behind it.

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
from pathlib import Path

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


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    # the local base image: with an engine the quickstart builds a real image, and none can be pulled here
    server = ServerProcess(tmp_path_factory.mktemp("quickstart"), args=[f"--Packager.base_image={BASE_IMAGE}"])
    yield (*execute(QUICKSTART, server), server)
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


@pytest.mark.timeout(400)
def test_quickstart_runs_in_about_a_minute_and_leaves_the_registry_as_it_describes(quickstart):
    executed, folder, seconds, server = quickstart
    assert errors_in(executed) == []
    assert seconds < 180, f"the quickstart took {seconds:.0f} s"
    hub = server.client()
    production = hub.version("churn@production")
    assert production["ref"] == "churn:2" and production["derived_from"] == "churn:1"
    assert production["tags"] == {"stage": "prod", "team": "growth"}
    assert hub.version("churn:1")["properties"]["accuracy"] > 0.9
    assert (folder / "downloaded" / "model.joblib").exists()
    onnx = hub.version("churn:3")
    assert onnx["flavor"] == "onnx" and onnx["derived_from"] == "churn:2"
    assert not [e for e in hub.endpoints()], "the quickstart removes its endpoint"


def test_quickstart_packages_or_writes_the_build_context_and_says_which(quickstart):
    executed, folder, _, _ = quickstart
    text = text_of(executed)
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
        assert (folder / "churn-image" / "Dockerfile").is_file(), "the build context is written"
        assert "docker build" in text


@pytest.mark.timeout(400)
def test_make_demo_stops_what_it_started_and_says_so(tmp_path):
    shutil.copy(QUICKSTART, tmp_path / QUICKSTART.name)
    env = {k: v for k, v in os.environ.items() if k not in ("MODELHUB_URL", "MODELHUB_TOKEN")}
    env.update(
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
    )
    (tmp_path / "config").mkdir()  # a user's Jupyter config reaches the demo's server: here, the local base image
    (tmp_path / "config" / "jupyter_server_config.json").write_text(
        json.dumps({"Packager": {"base_image": BASE_IMAGE}})
    )
    run = subprocess.run(
        [sys.executable, str(NOTEBOOK_DIR / "run.py"), str(tmp_path / QUICKSTART.name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=380,
    )
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "Started a Model Hub server for the demo" in out
    assert ">>> onnx = %convert churn@production" in out and "churn:3 (onnx) from churn:2" in out, (
        "each step, with its output"
    )
    assert "[" in out and " s]" in out, "with its time"
    assert "nothing of the demo is left running" in out, out[-2000:]
    hub_folder = str(tmp_path / "output" / "hub").encode()
    left = [p for p in Path("/proc").glob("[0-9]*/cmdline") if _reads(p) and hub_folder in _reads(p)]
    assert left == [], "no process of the demo is left"


def _reads(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
