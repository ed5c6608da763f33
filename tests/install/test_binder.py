"""The Binder set-up, as mybinder runs it, in a fresh virtual environment.

The project as it stands (its files, as a clone has them) is copied to a scratch folder; a new
``python -m venv`` gets ``binder/requirements.txt`` (with uv here: Binder uses pip on the same file,
which takes a minute) and then runs ``binder/postBuild`` there, as repo2docker does; postBuild itself
checks that both halves of the extension are listed and load. JupyterLab started from that
environment must then answer the server extension's REST info route and serve the panel to the
browser. The panel itself is not rebuilt with Node.js here (the built copy from
``make install`` is copied along, so the build hook skips it); ``make install`` and the panel
tests build and exercise it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from helpers.components import require
from helpers.paths import LABEXTENSION_BUILT, REPO
from helpers.servers import free_port, wait_until

pytestmark = pytest.mark.slow  # a fresh venv and pip install: make test, not make test-fast

BUILT_PANEL = LABEXTENSION_BUILT / "static" / "style.js"


def copy_project(target: Path) -> None:
    """The files a clone has (plus files not yet committed, not ignored), and the built panel."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    shutil.copytree(BUILT_PANEL.parents[1], target / "jupyter_modelhub" / "labextension", dirs_exist_ok=True)


def uv() -> str:
    return str(Path(sys.executable).with_name("uv"))


def uv_cache_dir() -> str:
    """Where this machine's uv keeps what it downloaded and built (``uv cache dir``)."""
    return subprocess.run([uv(), "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.timeout(600)
def test_binder_setup_gives_jupyterlab_with_the_extension(tmp_path):
    require(BUILT_PANEL.exists(), "the panel is not built (make install)")
    repo, venv = tmp_path / "repo", tmp_path / "venv"
    copy_project(repo)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MODELHUB_URL", "MODELHUB_TOKEN")
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        IPYTHONDIR=str(tmp_path / "ipython"),
        # postBuild keeps a cache it is given: make install's, so packages are not fetched again
        UV_CACHE_DIR=uv_cache_dir(),
    )
    # Binder installs the requirements with pip; uv reads the same file and takes seconds, not a minute
    pip = subprocess.run(
        [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-r", "binder/requirements.txt"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    post = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True, timeout=400)
    assert post.returncode == 0 and "installed with its panel" in post.stdout, post.stdout[-3000:] + post.stderr[-3000:]

    jupyter = str(venv / "bin" / "jupyter")  # postBuild has checked both extensions are listed and load
    port, token = free_port(), secrets.token_hex(16)
    with open(tmp_path / "lab.log", "wb") as log:
        lab = subprocess.Popen(
            [
                jupyter,
                "lab",
                "--no-browser",
                f"--port={port}",
                "--port-retries=0",
                "--ip=127.0.0.1",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={repo / 'notebooks'}",
                f"--ModelHubApp.root_dir={tmp_path / 'hub'}",
                "--ServerApp.allow_root=True",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"token {token}"
        url = f"http://127.0.0.1:{port}/"

        def info():
            assert lab.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
            try:
                response = session.get(url + "modelhub/api/info", timeout=5)
            except requests.RequestException:
                return None
            return response if response.status_code == 200 else None

        answer = wait_until(info, 90, "JupyterLab from the Binder environment").json()
        assert answer["version"] and answer["root_dir"].startswith(str(tmp_path / "hub"))
        assert requests.get(url + "modelhub/api/info", timeout=5).status_code in (401, 403), "authenticated"
        page = session.get(url + "lab", timeout=10)
        assert page.ok and "jupyter-modelhub" in page.text, "the panel is among the extensions the page loads"
        notebooks = session.get(url + "api/contents", timeout=10).json()["content"]
        assert "01-quickstart.ipynb" in {n["name"] for n in notebooks}, "Binder opens on the notebooks"
        assert session.get(url + "lab/extensions/jupyter-modelhub/static/style.js", timeout=10).ok
    finally:
        lab.terminate()
        lab.wait(30)
