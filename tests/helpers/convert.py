"""Objects whose unpickling shows where it happens: used to prove conversions run in a child
process. Kept in a small module so the child can import them without the test module."""

from __future__ import annotations

import os
from pathlib import Path


class RecordsWhereItLoads:
    """Writes the pid of the process that unpickles it into ``path``."""

    def __init__(self, path: str):
        self.path = path

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        Path(self.path).write_text(str(os.getpid()))


class DiesWhenLoaded:
    """Ends the process that unpickles it at once, as a crashing native library would."""

    def __init__(self):
        self.armed = True  # some state, or pickle never calls __setstate__

    def __setstate__(self, state: dict) -> None:
        os._exit(3)
