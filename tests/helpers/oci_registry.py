"""A real OCI image registry on 127.0.0.1 for the push tests: Debian's ``docker-registry`` (the
CNCF distribution registry) serving a temporary folder, without TLS or auth (the Docker engine
pushes to loopback registries without TLS settings).

.ci/run installs the package; missing on a developer's machine, the tests skip with the reason,
and in CI they fail (``require``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import requests

from helpers.components import require
from helpers.servers import free_port, stop_process, wait_until

CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    readonly:
      enabled: {readonly}
http:
  addr: 127.0.0.1:{port}
"""


class OciRegistry:
    """``docker-registry serve`` on a free loopback port, its blobs under ``folder``; a
    ``readonly`` one refuses every push (as a registry does to an account that may only pull)."""

    def __init__(self, folder: Path, readonly: bool = False):
        self.folder = Path(folder)
        self.readonly = readonly
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.process: subprocess.Popen | None = None

    def start(self) -> OciRegistry:
        binary = shutil.which("docker-registry")
        require(binary is not None, "Debian's docker-registry is not installed (apt-get install docker-registry)")
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "config.yml"
        config.write_text(CONFIG.format(root=self.folder / "data", port=self.port, readonly=str(self.readonly).lower()))
        self.log = open(self.folder / "registry.log", "wb")
        self.process = subprocess.Popen([binary, "serve", str(config)], stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self._answers, 30, f"docker-registry to answer on {self.host}")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(self.folder / 'registry.log').read_text()[-2000:]}")
        try:
            return requests.get(self.url + "/v2/", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def tags(self, repository: str) -> list[str]:
        """What ``GET /v2/REPO/tags/list`` says arrived."""
        response = requests.get(f"{self.url}/v2/{repository}/tags/list", timeout=10)
        return response.json().get("tags") or [] if response.status_code == 200 else []

    def manifest(self, repository: str, reference: str) -> requests.Response:
        """The manifest of ``reference`` (a tag or a digest) as an OCI distribution client asks for it."""
        accept = ", ".join(
            [
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.index.v1+json",
            ]
        )
        return requests.get(f"{self.url}/v2/{repository}/manifests/{reference}", headers={"Accept": accept}, timeout=30)

    def stop(self) -> None:
        stop_process(self.process)
        if getattr(self, "log", None):
            self.log.close()
