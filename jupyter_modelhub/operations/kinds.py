"""The work of each operation kind, as run by a worker process.

Each function takes the worker's services, the inputs saved when the operation was created and
a ``Progress``, does the work through the ordinary services, and returns ``(result, link)``:
the JSON result and what it is (a version, an endpoint) for clients to link to. Errors are the
services' own typed errors; the worker records them as the operation's error.
"""

from __future__ import annotations

from ..progress import Progress


def convert(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """A registered scikit-learn version to a verified ONNX version."""
    options = dict(inputs)
    ref, user = options.pop("ref"), options.pop("user", "")
    result = services.converter.convert(ref, user=user, progress=progress, **options)
    version = result["version"]
    return result, {"type": "version", "model": version["name"], "version": version["version"], "ref": version["ref"]}


def deploy(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """A deploy whose environment or image must be built first (one that needs neither runs in
    the request), or a deploy to Kubernetes (manifests for the model's image)."""
    options = dict(inputs)
    if options.pop("target", "process") == "kubernetes":
        from ..deploy.targets import kubernetes

        result = kubernetes.deploy(services.packager, services.deployments.folder, endpoint=options.pop("endpoint"),
                                   progress=progress, **options)
        return result, {"type": "manifests", "name": result["name"], "path": result["manifests"]}
    container = options.pop("container", None)
    if container is not None:  # the docker target: the model's image, built or reused by content
        if not container.get("image"):
            image, _ = services.packager.image_for(
                options["model"], environment=options.get("environment"), requirements=options.get("requirements"),
                entry_script=options.pop("entry_script", None), user=options.get("user", ""), progress=progress)
            container = {**container, "image": image["tag"]}
        options.update(environment=None, requirements=None, entry_script=None)
    endpoint = services.deployments.deploy(options.pop("endpoint"), progress=progress, container=container, **options)
    return endpoint, {"type": "endpoint", "name": endpoint["name"]}


def build(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """A serving image of a model version, with its build report."""
    options = dict(inputs)
    image = services.packager.package(options.pop("model"), user=options.pop("user", ""), progress=progress, **options)
    return image, {"type": "image", "id": image["id"], "tag": image["tag"]}


def batch(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """A batch job: the scoring notebook run by papermill, its mini-batches on Dask workers."""
    from ..batch.execution import run_job

    result = run_job(services, inputs, progress)
    return result, {"type": "job", "id": result["job"], "output": result["output"], "notebook": result["notebook"]}


def warm_batch(root):
    """A standby batch worker's warm-up: a kernel and a Dask cluster, started before the job exists."""
    from ..batch.standby import BatchStandby

    return BatchStandby(root)


KINDS = {"convert": convert, "deploy": deploy, "build": build, "batch": batch}
WARM_UPS = {"batch": warm_batch}  # kinds a standby worker can prepare for (OperationRunner.standby_kinds)
