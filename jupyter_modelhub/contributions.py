"""What a service package adds to the whole: its operation kinds and its reference checks.

Each service package (``convert``, ``packaging``, ``deploy``, ``batch``, and ``operations`` for
its own rows) declares a ``Contribution`` in its ``contributions`` module; the composition root
(``jupyter_modelhub.services``) collects them and hands each piece to the service that uses it
when it builds the services: the operation runner gets every kind's clean-up, the worker every
kind's work, the registry every reference check. So ``operations`` runs kinds it does not
import, and no service reaches into another to wire itself in.

Every function takes the built ``Services`` first, so a kind or a check uses whatever service
class is configured (``c.ModelHubApp.converter_class`` ...).

A leaf module: it imports nothing of the package. Not here: the services, their wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# (services, inputs saved when the operation was created, progress) -> (JSON result, link for clients)
Work = Callable[[Any, dict, Any], "tuple[dict, dict]"]
# (services, session, model version row) -> who uses the version, e.g. ["endpoint churn (deployment blue)"]
ReferenceCheck = Callable[[Any, Any, Any], "list[str]"]


@dataclass(frozen=True)
class OperationKind:
    """One kind of operation: its wire name (what clients filter by), the work a worker runs,
    and optionally what the server cleans up after a worker killed midway and what a standby
    worker prepares ahead of an operation of the kind."""

    name: str
    run: Work
    cleanup: Callable[[Any, int], None] | None = None  # (services, operation id), on the server
    warm_up: Callable[[Path], Any] | None = None  # (root) -> what the work finds as services.warm


@dataclass(frozen=True)
class Contribution:
    kinds: tuple[OperationKind, ...] = ()
    reference_checks: tuple[ReferenceCheck, ...] = ()  # what blocks deleting or archiving a version
