"""What deploying adds to the whole (``jupyter_modelhub.contributions``): the ``deploy`` kind (a
deploy that builds an environment or an image first, or writes Kubernetes manifests), its
clean-up, and deployments as users of a version."""

from __future__ import annotations

from sqlalchemy import select

from ..contributions import Contribution, OperationKind
from ..progress import Progress
from ..store.orm import Deployment, Endpoint


def run_deploy(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """The deploy the REST API answered with an operation (``deploy.service``)."""
    return services.deploys.run(inputs, progress)


def remove_deploy_partials(services, operation_id: int) -> None:
    """After a deploy killed midway: the venvs it left half built."""
    services.environments.remove_partials(operation_id)


def deployment_references(services, session, version) -> list[str]:
    """Deployments that serve the version: as their own, or among the versions of a ``--multi``
    deployment (its settings list them as NAME:VERSION). One query for both: an endpoint count
    is small, and a version's page reads this every time."""
    ref = f"{version.model.name}:{version.version}"
    rows = session.execute(
        select(Endpoint.name, Deployment.name, Deployment.version_id, Deployment.settings).join(Deployment.endpoint)
    ).all()
    return [
        f"endpoint {e} (deployment {d})"
        for e, d, version_id, settings in sorted(rows, key=lambda row: (row[0], row[1]))
        if version_id == version.id or ref in ((settings or {}).get("multi") or {}).get("versions", ())
    ]


DEPLOY = OperationKind("deploy", run=run_deploy, cleanup=remove_deploy_partials)
CONTRIBUTION = Contribution(kinds=(DEPLOY,), reference_checks=(deployment_references,))
