"""What deploying adds to the whole (``jupyter_modelhub.contributions``): the ``deploy`` kind (a
deploy that builds an environment or an image first, or writes Kubernetes manifests), its
clean-up, and deployments as users of a version."""

from __future__ import annotations

from sqlalchemy import select

from ..contributions import Contribution, OperationKind
from ..progress import Progress
from ..store.orm import Deployment, Endpoint, Model, ModelVersion


def run_deploy(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """The deploy the REST API answered with an operation (``deploy.service``)."""
    return services.deploys.run(inputs, progress)


def remove_deploy_partials(services, operation_id: int) -> None:
    """After a deploy killed midway: the venvs it left half built."""
    services.environments.remove_partials(operation_id)


def deployment_references(services, session) -> dict[str, list[str]]:
    """The versions deployments serve: each its own, and a ``--multi`` deployment the versions its
    settings list (as NAME:VERSION). One query: endpoints are few."""
    rows = session.execute(
        select(Endpoint.name, Deployment.name, Model.name, ModelVersion.version, Deployment.settings)
        .join(Deployment.endpoint)
        .join(ModelVersion, ModelVersion.id == Deployment.version_id)
        .join(Model, Model.id == ModelVersion.model_id)
        .order_by(Endpoint.name, Deployment.name)
    ).all()
    used: dict[str, list[str]] = {}
    for endpoint, deployment, model, version, settings in rows:
        served = {f"{model}:{version}", *((settings or {}).get("multi") or {}).get("versions", ())}
        for ref in served:
            used.setdefault(ref, []).append(f"endpoint {endpoint} (deployment {deployment})")
    return used


DEPLOY = OperationKind("deploy", run=run_deploy, cleanup=remove_deploy_partials)
CONTRIBUTION = Contribution(kinds=(DEPLOY,), references=(deployment_references,))
