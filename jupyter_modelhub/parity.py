"""Parity, the server's half: what a container (or an endpoint) answers to the version's input
example, and which Python and packages it runs.

``%parity`` then runs the same input through the same scoring code in the kernel and compares
(``client.parity``). The server does this half because it owns the Docker engine and the
endpoints: an image is started as a throwaway container on 127.0.0.1, asked once, and removed.
"""

from __future__ import annotations

import json
import subprocess
import time

import requests

from .errors import Conflict, InvalidInput, NotFound
from .packaging import builder

# Printed by the target's Python: its version and every installed distribution's.
VERSIONS = (
    "import sys, json, importlib.metadata as m; print(json.dumps({'python': sys.version.split()[0], "
    "'packages': {(d.metadata['Name'] or '').lower(): d.version for d in m.distributions()}}))"
)
READY_TIMEOUT = 60.0


class ParityProbe:
    def __init__(self, registry, deployments, images):
        self.registry, self.deployments, self.images = registry, deployments, images

    def probe(self, target: str) -> dict:
        """Ask ``target`` (an endpoint name, else an image's number or tag) for its answer."""
        if not isinstance(target, str) or not target or len(target) > 256:
            raise InvalidInput("Name an endpoint or an image: %parity churn-ep, %parity modelhub/churn:2.")
        if self.deployments.exists(target):
            return self._endpoint(target)
        try:
            image = self.images.get(target)
        except NotFound:
            raise NotFound(f"{target!r} is neither an endpoint nor an image (%endpoints, %images list them).") from None
        return self._image(image)

    def _example(self, ref: str) -> tuple[dict, bytes]:
        version = self.registry.get_version(ref)
        if version["input_example"] is None:
            raise InvalidInput(f"{ref} has no input example to compare on: register it with --sample X[:5].")
        return version, json.dumps({"data": version["input_example"]}).encode()

    def _endpoint(self, name: str) -> dict:
        endpoint = self.deployments.get_endpoint(name)
        live = max(endpoint["deployments"], key=lambda d: endpoint["traffic"].get(d["name"], 0), default=None)
        if live is None or live["state"] != "healthy":
            raise Conflict(f"Endpoint {name!r} has no healthy deployment to compare with.")
        version, body = self._example(live["ref"])
        headers = {"Content-Type": "application/json", "azureml-model-deployment": live["name"]}
        if endpoint["auth"] == "key":
            headers["Authorization"] = f"Bearer {self.deployments.keys(name).primary}"
        answer = _ask(endpoint["url"], body, headers)
        python = self.deployments.python_of(name, live["name"])
        environment = json.loads(
            subprocess.run([python, "-c", VERSIONS], capture_output=True, text=True, timeout=60, check=True).stdout
        )
        script = live.get("entry_script")
        return {
            "target": name,
            "kind": "endpoint",
            "deployment": live["name"],
            "ref": version["ref"],
            "flavor": version["flavor"],
            "signature": version["signature"],
            "request": json.loads(body),
            **answer,
            **environment,
            "entry_script": _read_script(script) if script else None,
        }

    def _image(self, image: dict) -> dict:
        version, body = self._example(image["ref"])
        client = builder.engine()
        container = client.containers.run(
            image["tag"],
            detach=True,
            init=True,
            remove=False,
            ports={"8080/tcp": ("127.0.0.1", None)},
            labels={"org.modelhub.parity": "1"},
        )
        try:
            container.reload()
            port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
            command = container.attrs["Config"]["Cmd"] or []
            script = command[command.index("--entry-script") + 1] if "--entry-script" in command else None
            failure = _wait_ready(f"http://127.0.0.1:{port}", container)
            if failure:  # a model that does not load there is the finding, not an error of %parity
                answer = {"status": 503, "answer": {"message": failure}}
            else:
                answer = _ask(f"http://127.0.0.1:{port}", body, {"Content-Type": "application/json"})
        finally:
            container.remove(force=True)
        output = client.containers.run(
            image["tag"], ["python", "-c", VERSIONS], remove=True, stdout=True, stderr=False
        ).decode()
        environment = json.loads(output.strip().splitlines()[-1])
        source = client.containers.run(image["tag"], ["cat", script], remove=True).decode() if script else None
        return {
            "target": image["tag"],
            "kind": "image",
            "ref": version["ref"],
            "flavor": version["flavor"],
            "signature": version["signature"],
            "request": json.loads(body),
            **answer,
            **environment,
            "entry_script": {"name": script.rsplit("/", 1)[-1], "source": source} if script else None,
        }


def _ask(url: str, body: bytes, headers: dict) -> dict:
    response = requests.post(url + "/score", data=body, headers=headers, timeout=60)
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    return {"status": response.status_code, "answer": answer}


def _wait_ready(url: str, container) -> str:
    """'' once the container is ready; why not, if it exits first or takes too long."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/v2/health/ready", timeout=1).ok:
                return ""
        except requests.RequestException:
            pass
        container.reload()
        if container.status in ("exited", "dead"):
            tail = container.logs(tail=8).decode(errors="replace").strip()
            return f"the container exited before it was ready:\n{tail}"
        time.sleep(0.05)
    return f"the container was not ready within {READY_TIMEOUT:.0f} s"


def _read_script(path: str) -> dict | None:
    try:
        with open(path) as f:
            return {"name": path.rsplit("/", 1)[-1], "source": f.read()}
    except OSError:
        return None
