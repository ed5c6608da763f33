"""Finding the Model Hub server a client should talk to.

In order: explicit arguments; ``MODELHUB_URL``/``MODELHUB_TOKEN`` (exported by the server
extension to the kernels it starts, so a notebook in JupyterLab finds its own server whatever
its auth); a standalone per-user server recorded in the runtime folder; and failing those, a new
standalone server (``jupyter modelhub serve``) started in the background, so magics also work in
plain IPython, papermill and scripts.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests
from jupyter_core.paths import jupyter_runtime_dir

from .http import ModelHubClient, ServerError

START_TIMEOUT = 60.0
_clients: dict[tuple[str, str | None], ModelHubClient] = {}


def info_file() -> Path:
    """Where a standalone server records its URL, token and pid."""
    return Path(jupyter_runtime_dir()) / "modelhub-server.json"


def connect(url: str | None = None, token: str | None = None, client: str | None = None) -> ModelHubClient:
    if url is None:
        url, token = discover()
    key = (url, token, client)
    if key not in _clients:
        _clients[key] = ModelHubClient(url, token, client=client)
    return _clients[key]


def discover() -> tuple[str, str | None]:
    if os.environ.get("MODELHUB_URL"):
        return os.environ["MODELHUB_URL"], os.environ.get("MODELHUB_TOKEN")
    running = _running_standalone()
    if running:
        return running
    return _start_standalone()


def _running_standalone() -> tuple[str, str] | None:
    try:
        info = json.loads(info_file().read_text())
    except (OSError, ValueError):
        return None
    if not _alive(info.get("pid", -1)):
        return None
    try:
        response = requests.get(
            info["url"] + "modelhub/api/info", timeout=5, headers={"Authorization": f"token {info['token']}"}
        )
    except requests.RequestException:
        return None
    return (info["url"], info["token"]) if response.ok else None


def _start_standalone() -> tuple[str, str]:
    path = info_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # One starter at a time: kernels that start together must end up sharing one server.
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        running = _running_standalone()
        if running:
            return running
        log = open(path.with_suffix(".log"), "ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_modelhub.cli", "serve", "--info-file", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerError(f"The standalone Model Hub server exited at start; see {log.name}.")
            running = _running_standalone()
            if running:
                return running
            time.sleep(0.1)
        process.terminate()
        raise ServerError(
            f"The standalone Model Hub server did not start within {START_TIMEOUT:.0f} s; see {log.name}."
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, TypeError):
        return False
    return True
