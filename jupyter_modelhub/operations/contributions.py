"""What operations add to the whole (``jupyter_modelhub.contributions``): an operation still
working on a version blocks its deletion. No kind: the kinds belong to the service packages."""

from __future__ import annotations

from ..contributions import Contribution


def operation_references(services, session) -> dict[str, list[str]]:
    return services.operations.store.references(session)


CONTRIBUTION = Contribution(references=(operation_references,))
