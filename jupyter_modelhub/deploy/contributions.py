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
    rows = session.execute(
        select(Endpoint.name, Deployment.name).join(Deployment.endpoint).where(Deployment.version_id == version.id)
    ).all()
    return [f"endpoint {e} (deployment {d})" for e, d in sorted(rows)]


DEPLOY = OperationKind("deploy", run=run_deploy, cleanup=remove_deploy_partials)
CONTRIBUTION = Contribution(kinds=(DEPLOY,), reference_checks=(deployment_references,))
