"""What monitoring adds to the whole (``jupyter_modelhub.contributions``): the ``replay`` kind (an
endpoint's collected requests sent to a candidate, its answers compared; ``replay``)."""

from __future__ import annotations

from ..contributions import Contribution, OperationKind
from ..progress import Progress


def run_replay(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    from .replay import run

    return run(services, inputs, progress)


REPLAY = OperationKind("replay", run=run_replay)
CONTRIBUTION = Contribution(kinds=(REPLAY,))
