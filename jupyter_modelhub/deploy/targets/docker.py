"""The docker target: a deployment's generation as a container of its image, its port published
on 127.0.0.1 only, with cpu/memory limits, served through the endpoint host like a process.

The host supervises containers as it does processes: a container that exits is replaced with
backoff and counted as a restart (one policy for every target, rather than the engine restarting
behind the host's back); its output goes to the deployment's log, so ``%logs`` works the same.
Containers carry labels naming their endpoint, so a host that starts after its predecessor died
removes the containers it left (``remove_orphans``) instead of leaking them.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time

import aiohttp

from ...errors import InvalidInput
from .base import STOP_GRACE, Instance, Target

ENDPOINT_LABEL = "org.modelhub.endpoint-folder"
MODEL_DIR = "/var/azureml-app/azureml-models"
READY_POLL = 0.05


def _engine():
    import docker

    return docker.from_env()


def memory_bytes(memory: str | None) -> int | None:
    """``512M``, ``512Mi``, ``2G``: bytes for the engine (binary units, as Docker's own)."""
    if not memory:
        return None
    match = re.match(r"^([0-9.]+)\s*([KMGT]?)i?$", memory, re.IGNORECASE)
    if not match:
        raise ValueError(f"invalid memory {memory!r}")
    power = " KMGT".index(match.group(2).upper() or " ")
    return int(float(match.group(1)) * 1024**power)


def container_options(fields: dict, options: dict) -> dict:
    """Check a deploy to the docker target as the REST API receives it; its container settings."""
    from ...packaging.environments import check_image_name
    from .base import check_resources

    wrong = [k for k in ("kserve", "kube_context", "namespace", "max_instances") if options.get(k)]
    if wrong or fields.get("reload"):
        raise InvalidInput(f"{', '.join(wrong) or 'reload'} cannot be used with --target docker.")
    check_resources(options.get("cpu"), options.get("memory"), None, 1)
    if options.get("image"):
        check_image_name(options["image"])
    return {
        "image": options.get("image"),
        "cpu": options.get("cpu"),
        "memory": options.get("memory"),
        "gpu": bool(options.get("gpu")),
        "mount_model": bool(options.get("image")),
        "port": 8080,
    }


class DockerTarget(Target):
    """A deploy to a container is always an operation: the model's image is built, or reused by content."""

    name = "docker"

    def check(self, endpoint: str, fields: dict, options: dict) -> dict:
        container = container_options(fields, options)
        self.deployments.check_request(endpoint, **fields)
        return {"endpoint": endpoint, **fields, "container": container}

    def needs_operation(self, inputs: dict) -> bool:
        # the contract and the version; the image carries the environment: none is looked up here
        self.deployments.needs_build(**{**inputs, "environment": None, "requirements": None, "container": None})
        return True

    def prepare(self, inputs: dict, progress) -> dict:
        container = inputs["container"]
        if not container.get("image"):
            image, _ = self.packager.image_for(
                inputs["model"],
                environment=inputs.get("environment"),
                requirements=inputs.get("requirements"),
                entry_script=inputs.get("entry_script"),
                user=inputs.get("user", ""),
                progress=progress,
            )
            container = {**container, "image": image["tag"]}
        return {**inputs, "container": container, "environment": None, "requirements": None, "entry_script": None}


def remove_orphans(folder: str) -> list[str]:
    """Remove the containers a previous host of this endpoint left running."""
    try:
        client = _engine()
        left = client.containers.list(all=True, filters={"label": f"{ENDPOINT_LABEL}={folder}"})
    except Exception:  # no engine, no SDK: nothing of ours can be running there
        return []
    for container in left:
        container.remove(force=True)
    return [c.name for c in left]


class ContainerInstance(Instance):
    kind = "container"
    container = None

    @property
    def ident(self) -> str | None:
        return self.container.short_id if self.container is not None else None

    async def start(self) -> None:
        self.logfile.write(
            f"--- starting generation {self.generation} as a container of {self.spec['container']['image']}\n".encode()
        )
        loop = asyncio.get_running_loop()
        self.container = await loop.run_in_executor(None, self._run)
        threading.Thread(target=self._pump_logs, name=f"logs-{self.name}", daemon=True).start()
        asyncio.create_task(self._await_ready())

    def _run(self):
        spec, options = self.spec, self.spec["container"]
        port = options.get("port", 8080)
        kwargs = {
            "detach": True,
            "init": True,
            "labels": {
                ENDPOINT_LABEL: spec["endpoint_folder"],
                "org.modelhub.deployment": self.name,
                "org.modelhub.generation": str(self.generation),
            },
            "name": f"modelhub-{spec['endpoint']}-{self.name}-{self.generation}-{secrets.token_hex(2)}",
            "ports": {f"{port}/tcp": ("127.0.0.1", None)},
            "environment": {"MODELHUB_AUTH_KEY": self.key},
        }
        if options.get("cpu"):
            kwargs["nano_cpus"] = int(float(options["cpu"]) * 1e9)
        if options.get("memory"):
            kwargs["mem_limit"] = memory_bytes(options["memory"])
        if options.get("gpu"):
            import docker

            kwargs["device_requests"] = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
            kwargs["environment"]["MODELHUB_GPU"] = "1"
        if options.get("mount_model"):  # an image of the user's: the model goes in read-only
            inside = f"{MODEL_DIR}/{spec['model']}/{spec['version']}"
            kwargs["volumes"] = {spec["model_dir"]: {"bind": inside, "mode": "ro"}}
            kwargs["environment"].update(AZUREML_MODEL_DIR=inside, MODELHUB_MODEL_DIR=inside)
        container = _engine().containers.create(options["image"], **kwargs)
        try:
            container.start()
        except Exception:  # e.g. no GPU for device_requests: leave no created container behind
            container.remove(force=True)
            raise
        return container

    def _pump_logs(self) -> None:
        """The container's output into the deployment's log, until it ends."""
        try:
            for chunk in self.container.logs(stream=True, follow=True):
                self.logfile.write(chunk)
        except Exception as exc:  # the container was removed under us
            self.logfile.write(f"--- log stream ended: {type(exc).__name__}\n".encode())

    async def _await_ready(self) -> None:
        """Ready once the published port answers the runtime's readiness route."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + 120
        published = None
        async with aiohttp.ClientSession() as probe:
            while time.monotonic() < deadline and not self.ready.done():
                state = await loop.run_in_executor(None, self._state)
                if state["status"] in ("exited", "dead"):
                    break
                published = published or state["port"]
                if published:
                    try:
                        async with probe.get(
                            f"http://127.0.0.1:{published}/v2/health/ready", timeout=aiohttp.ClientTimeout(total=2)
                        ) as answer:
                            if answer.status == 200:
                                self.open_session(int(published))
                                self.ready.set_result(True)
                                return
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        pass
                await asyncio.sleep(READY_POLL)
        if not self.ready.done():
            self.ready.set_result(False)

    def _state(self) -> dict:
        self.container.reload()
        ports = self.container.attrs["NetworkSettings"]["Ports"] or {}
        binding = next(iter(ports.values()), None)
        return {"status": self.container.status, "port": binding[0]["HostPort"] if binding else None}

    async def wait(self) -> int:
        result = await asyncio.get_running_loop().run_in_executor(None, self.container.wait)
        code = result.get("StatusCode", -1)
        self.logfile.write(f"--- generation {self.generation} (container) exited with code {code}\n".encode())
        return code

    async def terminate(self) -> None:
        if self.container is None:
            return

        def remove() -> None:
            try:
                self.container.stop(timeout=int(STOP_GRACE))
                self.container.remove(force=True)
            except Exception:  # already gone
                pass

        await asyncio.get_running_loop().run_in_executor(None, remove)
