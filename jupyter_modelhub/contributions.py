"""What a service package adds to the whole: its operation kinds, its reference checks, and what
schedules may start.

Each service package (``convert``, ``packaging``, ``deploy``, ``batch``, and ``operations`` for
its own rows) declares a ``Contribution`` in its ``contributions`` module; the composition root
(``jupyter_modelhub.services``) collects them and hands each piece to the service that uses it
when it builds the services: the operation runner gets every kind's clean-up, the worker every
kind's work, the registry every reference check, the schedules every schedule target. So
``operations`` runs and schedules kinds it does not import, and no service reaches into another
to wire itself in.

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
# (services, session) -> who uses each version, by NAME:VERSION, e.g.
# {"churn:3": ["endpoint churn (deployment blue)"]}: every version at once, so a page of versions
# (or the registry's remembered index, see ``ModelRegistry.used_by``) costs one query per service
References = Callable[[Any, Any], "dict[str, list[str]]"]


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
class ScheduleTarget:
    """What a schedule (``operations.schedules``) may start: operations of ``kind``, from the
    inputs saved with the schedule (for a batch job, the batch endpoint and the files to score).

    ``check`` runs when the schedule is saved, so a schedule that cannot work is a 400 then and
    not a failure at 02:00; it returns ``{"inputs", "subject", "local"}``: the inputs as saved,
    what the schedule concerns (shown in listings), and whether they name files on this machine
    (then only servers on this host fire it). ``start`` runs at each time and queues the
    operation, checked again as any request is (returns the operation's JSON). ``guard`` says
    whose permission saving or changing the schedule needs: ``("model", REF)`` (write on that
    model) or ``("endpoint", NAME)`` (write on every model it serves), or None. ``shown`` hides
    what a listing must not show (secret values)."""

    kind: str
    check: Callable[[Any, dict], dict]  # (services, inputs) -> {"inputs", "subject", "local"}
    start: Callable[[Any, dict, str], dict]  # (services, inputs, user) -> the operation queued
    guard: Callable[[Any, dict], "tuple[str, str] | None"] = lambda services, inputs: None
    shown: Callable[[dict], dict] = lambda inputs: inputs


@dataclass(frozen=True)
class Contribution:
    kinds: tuple[OperationKind, ...] = ()
    references: tuple[References, ...] = ()  # what uses versions (blocks deleting or archiving one)
    schedule_targets: tuple[ScheduleTarget, ...] = ()  # what schedules may start
