"""The magics' fixtures: an in-process IPython shell on the module's server (``hub_server``),
with the extension loaded and the training cell run, as a notebook starts.

The tests that need what only a kernel gives (a kernel's session and notebook path, a server
with password login, progress widgets, an interrupt, papermill, a plain IPython process that
starts its own server) are in this folder and start kernels; the rest run on this shell, in
``in_process/``, and are not marked ``kernel``.
"""

from __future__ import annotations

import pytest

from helpers.kernels import TRAIN
from helpers.shell import Shell


@pytest.fixture(scope="module")
def shell(hub_server):
    s = Shell(hub_server)
    started = s.run("%load_ext jupyter_modelhub\n" + TRAIN)
    assert not started["error"], started
    yield s
    s.close()
