"""The real Docker engine for the packaging and container tests, and the local base image.

.ci/docker provides both (no image can be pulled here: the base is made with debootstrap).
Missing on a developer's machine, the tests skip with the reason; in CI they fail.
"""

from __future__ import annotations

from helpers.components import require

BASE_IMAGE = "modelhub-base:bookworm"


def docker_engine():
    """A client of the Docker engine that has the base image (the ``docker_client`` fixture)."""
    try:
        import docker
    except ImportError:
        require(False, "the Docker SDK is not installed (pip install docker)")
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        require(False, f"no Docker engine answers ({type(exc).__name__}); run .ci/docker")
    try:
        client.images.get(BASE_IMAGE)
    except Exception:
        require(False, f"the base image {BASE_IMAGE} is missing; run .ci/docker")
    return client


def run_container(client, tag: str, **kwargs):
    """Start ``tag`` with its port on a free 127.0.0.1 port; returns (container, base URL)."""
    container = client.containers.run(tag, detach=True, init=True, ports={"8080/tcp": ("127.0.0.1", None)}, **kwargs)
    container.reload()
    port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
    return container, f"http://127.0.0.1:{port}"
