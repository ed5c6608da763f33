"""A real `jupyter server` with the extension, in a folder of its own, for the benchmarks: started
as a subprocess on a free port with a token, ready once the extension answers, stopped on exit.

    with HubServer(work, "--ModelHubApp.db_url=...") as server:
        server.session.get(server.api + "models")
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import requests
from processes import free_port


class HubServer:
    def __init__(
        self, work: Path, *args: str, notebooks: Path | None = None, config: dict | None = None, timeout: float = 60
    ):
        """``args``: more command-line options; ``config``: a jupyter_server_config.json for what
        the command line cannot say (nested traits)."""
        self.work = work
        (work / "config").mkdir(parents=True, exist_ok=True)
        if config:
            (work / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
        port, self.token = free_port(), secrets.token_hex(16)
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(work / "runtime"), "JUPYTER_CONFIG_DIR": str(work / "config")}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                "--no-browser",
                f"--port={port}",
                "--ip=127.0.0.1",
                "--allow-root",
                f"--IdentityProvider.token={self.token}",
                f"--ModelHubApp.root_dir={work / 'hub'}",
                *([f"--ServerApp.root_dir={notebooks}"] if notebooks else []),
                "--log-level=WARN",
                *args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{port}/"
        self.api = self.base + "modelhub/api/"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {self.token}"
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.session.get(self.api + "info", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise SystemExit("the Jupyter server did not start")
            time.sleep(0.05)

    def client(self):
        from jupyter_modelhub.client import ModelHubClient

        return ModelHubClient(self.base, self.token)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)

    def __enter__(self) -> HubServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
