"""The Kubernetes target: a packaged image as a Deployment and a Service (an autoscaler with
``--max-instances``, a KServe InferenceService in raw deployment mode with ``--kserve``).

No cluster runs on a notebook machine, so the manifests are the product: written under the
endpoint's folder, shown, and validated against Kubernetes' schemas by the tests. They name the
image by the digest it was pushed with (``REGISTRY/REPO@sha256:...``, what a cluster pulls and
what always means the same image); an image never pushed is named by its local tag, and the
result says plainly that a cluster cannot pull it and how to push it. They are
applied with the kubernetes client only when a kubeconfig context is given (server-side apply,
so running it again updates in place); otherwise the result says how to apply them.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ...errors import InvalidInput
from ...extras import missing_extra, require_extra
from .base import Target, check_resources

FIELD_MANAGER = "jupyter-modelhub"


def manifests(
    *,
    endpoint: str,
    deployment: str,
    image: str,
    model: str,
    version: int,
    port: int = 8080,
    instances: int = 1,
    cpu: float | None = None,
    memory: str | None = None,
    max_instances: int | None = None,
    gpu: bool = False,
    kserve: bool = False,
    namespace: str = "default",
) -> list[dict]:
    """The documents that run ``image`` on a cluster, in the order to apply them."""
    name = f"{endpoint}-{deployment}".lower()
    labels = {
        "app.kubernetes.io/name": endpoint,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "scoring",
        "app.kubernetes.io/managed-by": FIELD_MANAGER,
        "modelhub.org/deployment": deployment,
    }
    annotations = {"modelhub.org/model": f"{model}:{version}"}
    container = _container(image, port, cpu, memory, gpu)
    meta = {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations}
    if kserve:
        return [
            {
                "apiVersion": "serving.kserve.io/v1beta1",
                "kind": "InferenceService",
                "metadata": {
                    **meta,
                    "annotations": {**annotations, "serving.kserve.io/deploymentMode": "RawDeployment"},
                },
                "spec": {
                    "predictor": {
                        "minReplicas": instances,
                        "maxReplicas": max_instances or instances,
                        "containers": [{**container, "name": "kserve-container"}],
                    }
                },
            }
        ]
    documents = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": instances,
                "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
                "template": {
                    "metadata": {"labels": labels, "annotations": annotations},
                    "spec": {
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
                        "terminationGracePeriodSeconds": 30,
                        "containers": [container],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "type": "ClusterIP",
                "selector": {"app.kubernetes.io/instance": name},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        },
    ]
    if max_instances:
        documents.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": meta,
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": instances,
                    "maxReplicas": max_instances,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                        }
                    ],
                },
            }
        )
    return documents


def _container(image: str, port: int, cpu: float | None, memory: str | None, gpu: bool) -> dict:
    resources: dict = {}
    if cpu is not None:
        resources.setdefault("requests", {})["cpu"] = _cpu(cpu)
        resources.setdefault("limits", {})["cpu"] = _cpu(cpu)
    if memory is not None:
        resources.setdefault("requests", {})["memory"] = memory
        resources.setdefault("limits", {})["memory"] = memory
    if gpu:
        resources.setdefault("limits", {})["nvidia.com/gpu"] = 1
    probe = {"httpGet": {"path": "/v2/health/ready", "port": "http"}, "periodSeconds": 5, "timeoutSeconds": 3}
    container = {
        "name": "scoring",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "readinessProbe": {**probe, "initialDelaySeconds": 1},
        "livenessProbe": {
            **probe,
            "httpGet": {"path": "/v2/health/live", "port": "http"},
            "initialDelaySeconds": 10,
            "failureThreshold": 3,
        },
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
    }
    if gpu:
        container["env"] = [{"name": "MODELHUB_GPU", "value": "1"}]
    if resources:
        container["resources"] = resources
    return container


def _cpu(cores: float) -> str:
    return str(int(cores)) if float(cores).is_integer() else f"{int(round(cores * 1000))}m"


def write(folder: Path, documents: list[dict]) -> Path:
    """One YAML file with every document (``kubectl apply -f`` takes it as it is)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifests.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def apply(documents: list[dict], context: str, log=None) -> list[str]:
    """Server-side apply each document with the kubernetes client; returns what was applied."""
    try:
        from kubernetes import config, dynamic
        from kubernetes.client import api_client
    except ImportError:
        raise InvalidInput(missing_extra("kubernetes", "Applying manifests to a cluster (--kube-context)")) from None
    try:
        client = dynamic.DynamicClient(
            api_client.ApiClient(configuration=config.new_client_from_config(context=context).configuration)
        )
    except Exception as exc:
        raise InvalidInput(f"Kubernetes context {context!r} cannot be used: {exc}.") from None
    applied = []
    for document in documents:
        resource = client.resources.get(api_version=document["apiVersion"], kind=document["kind"])
        resource.server_side_apply(
            body=document,
            name=document["metadata"]["name"],
            namespace=document["metadata"].get("namespace"),
            field_manager=FIELD_MANAGER,
        )
        applied.append(f"{document['kind']}/{document['metadata']['name']}")
        if log is not None:
            log.write(f"applied {applied[-1]}\n".encode())
    return applied


def deploy(
    packager,
    folder: Path,
    *,
    endpoint: str,
    model: str,
    deployment: str = "blue",
    instances: int = 1,
    cpu: float | None = None,
    memory: str | None = None,
    max_instances: int | None = None,
    gpu: bool = False,
    kserve: bool = False,
    kube_context: str | None = None,
    namespace: str = "default",
    image: str | None = None,
    environment: str | None = None,
    requirements: str | None = None,
    entry_script: dict | None = None,
    user: str = "",
    progress=None,
) -> dict:
    """Build or reuse the model's image (by content), write the manifests, apply them if a
    context is given. Returns what was written and how to apply it."""
    version = packager.registry.get_version(model)
    reused, pushed = True, True  # an image the user names is theirs to have pushed
    if image is None:
        record, reused = packager.image_for(
            version["ref"],
            environment=environment,
            requirements=requirements,
            entry_script=entry_script,
            user=user,
            progress=progress,
        )
        image, pushed = pullable(record)
    if progress is not None:
        progress.step("writing the Kubernetes manifests", 3, 4)
    documents = manifests(
        endpoint=endpoint,
        deployment=deployment,
        image=image,
        model=version["name"],
        version=version["version"],
        port=packager.port,
        instances=instances,
        cpu=cpu,
        memory=memory,
        max_instances=max_instances,
        gpu=gpu,
        kserve=kserve,
        namespace=namespace,
    )
    path = write(folder / endpoint / "kubernetes" / deployment, documents)
    applied = apply(documents, kube_context, getattr(progress, "log", None)) if kube_context else []
    return {
        "name": endpoint,
        "deployment": deployment,
        "target": "kubernetes",
        "image": image,
        "image_reused": reused,
        "ref": version["ref"],
        "manifests": str(path),
        "kinds": [d["kind"] for d in documents],
        "applied": applied,
        "context": kube_context,
        "apply": f"kubectl apply --server-side --field-manager={FIELD_MANAGER} -f {path}",
        "pushed": pushed,
        "note": _note(image, pushed, record["id"] if not pushed else None, bool(applied)),
    }


def pullable(record: dict) -> tuple[str, bool]:
    """What a cluster should pull for an image record: its newest push, pinned by digest; else
    its local tag (and False: no cluster can pull that)."""
    pushes = record.get("pushes") or []
    return (pushes[0]["pinned"], True) if pushes else (record["tag"], False)


def _note(image: str, pushed: bool, record_id: int | None, applied: bool) -> str:
    if not pushed:
        return (
            f"Image {image} was never pushed, and a cluster cannot pull a local image: push it with "
            f"%image {record_id} --push REGISTRY/REPO, then deploy again (the manifests then pin its digest)."
        )
    if applied:
        return ""
    if "@sha256:" in image:
        return f"The manifests pull {image} by its digest: apply them on a cluster that can pull from its registry."
    return f"Apply the manifests on a cluster that can pull {image}."


OPTIONS = ("cpu", "memory", "max_instances", "gpu", "kserve", "kube_context", "namespace", "image")


class KubernetesTarget(Target):
    """A deploy to Kubernetes is always an operation: the model's image, then the manifests."""

    name = "kubernetes"

    def check(self, endpoint: str, fields: dict, options: dict) -> dict:
        """Check a deploy to Kubernetes as the REST API receives it (a 400 now, not a failed
        operation); the inputs of the operation that builds the image and writes the manifests."""
        from ..manager import check_label

        check_label(endpoint)
        check_label(fields.get("deployment") or "blue", "deployment")
        unsupported = [k for k in ("reload", "traffic", "port", "entry_script_path") if fields.get(k)]
        if unsupported:
            raise InvalidInput(f"{', '.join(unsupported)} cannot be used with --target kubernetes.")
        instances = fields.get("instances") or 1
        check_resources(options.get("cpu"), options.get("memory"), options.get("max_instances"), instances)
        namespace = options.get("namespace") or "default"
        if not re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", namespace):
            raise InvalidInput(f"Invalid namespace {namespace!r}: lowercase letters, digits and '-', at most 63.")
        if options.get("kube_context"):  # before the image is built, not after
            require_extra("kubernetes", "Applying manifests to a cluster (--kube-context)")
        if options.get("image"):
            from ...packaging.environments import check_image_name

            check_image_name(options["image"])
        return {
            "endpoint": endpoint,
            "model": fields["model"],
            "deployment": fields.get("deployment") or "blue",
            "instances": instances,
            "cpu": options.get("cpu"),
            "memory": options.get("memory"),
            "max_instances": options.get("max_instances"),
            "gpu": bool(options.get("gpu")),
            "kserve": bool(options.get("kserve")),
            "kube_context": options.get("kube_context"),
            "namespace": namespace,
            "image": options.get("image"),
            "environment": fields.get("environment"),
            "requirements": fields.get("requirements"),
            "entry_script": fields.get("entry_script"),
        }

    def needs_operation(self, inputs: dict) -> bool:
        return True

    def deploy(self, inputs: dict, user: str, progress) -> tuple[dict, bool]:
        options = {k: v for k, v in inputs.items() if k not in ("target", "requested")}
        return deploy(self.packager, self.deployments.folder, user=user, progress=progress, **options), True

    def link(self, result: dict) -> dict:
        return {"type": "manifests", "name": result["name"], "path": result["manifests"]}
