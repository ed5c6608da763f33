"""What monitoring adds to the whole (``jupyter_modelhub.contributions``): the ``replay`` kind (an
endpoint's collected requests sent to a candidate, its answers compared; ``replay``) and the
``monitor`` kind (a saved monitor's run, with its alerts; ``saved``), which schedules may start."""

from __future__ import annotations

from ..contributions import Contribution, OperationKind, ScheduleTarget
from ..progress import Progress


def run_replay(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    from .replay import run

    return run(services, inputs, progress)


def run_monitor(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    from .saved import run

    return run(services, inputs, progress)


def check_monitor(services, inputs: dict) -> dict:
    from .saved import check

    return check(services, inputs)


def start_monitor(services, inputs: dict, user: str) -> dict:
    from .saved import start

    return start(services, inputs, user)


def guard_monitor(services, inputs: dict) -> tuple[str, str] | None:
    from .saved import guard

    return guard(services, inputs)


REPLAY = OperationKind("replay", run=run_replay)
MONITOR = OperationKind("monitor", run=run_monitor)
CONTRIBUTION = Contribution(
    kinds=(REPLAY, MONITOR),
    schedule_targets=(ScheduleTarget("monitor", check=check_monitor, start=start_monitor, guard=guard_monitor),),
)
