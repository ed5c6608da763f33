"""The magics in an IPython shell inside the test process, pointed at a real server: what a
notebook shows, without starting a kernel (which takes seconds, more on a busy machine).

``Shell.run`` returns what ``helpers.kernels.Kernel.run`` returns, gathered the way a kernel
would send it: stdout as "text"; stderr (where IPython prints a ``UsageError`` and Python a
warning) and other exceptions as ``"Name: message"`` in "error"; the text and HTML of every
display and of the cell's result; the text of displays updated in place in "updates".

Not here: what only a kernel gives. The shell is plain IPython, so the progress of a long
operation is the text bar on stdout, not a widget ("widgets" stays 0); there is no kernel
session, so no notebook path is recorded; no interrupt through the server. Those stay in
``helpers.kernels``.

IPython keeps one shell per process (``InteractiveShell.instance()``, which ``display()`` and
``get_ipython()`` use), so a ``Shell`` makes a fresh one for its life and gives the process back
as it found it on ``close``: the previous instance, ``sys.modules["__main__"]``, the builtins the
shell adds and the environment (the magics read ``MODELHUB_URL``/``MODELHUB_TOKEN`` from it,
``%invoke --local`` writes to it).
"""

from __future__ import annotations

import atexit
import builtins
import os
import sys
import warnings

from IPython.core.displayhook import DisplayHook
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import RichOutput, capture_output
from traitlets.config import Config

from helpers.servers import ServerProcess


class ResultHook(DisplayHook):
    """Keeps the cell's result as data (a kernel sends it as ``execute_result``) instead of
    printing ``Out[n]:``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outputs: list[RichOutput] = []

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:
        self.outputs.append(RichOutput(format_dict, md_dict))


class RecordingShell(InteractiveShell):
    """Plain IPython whose results and errors are kept as a kernel sends them (as ipykernel's
    ``ZMQInteractiveShell`` does, overriding the same two places)."""

    displayhook_class = ResultHook

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.errors: list[str] = []

    def _showtraceback(self, etype, evalue, stb) -> None:
        self.errors.append(f"{etype.__name__}: {evalue}")


class Shell:
    """An in-process IPython shell whose magics talk to ``server``, as a notebook's would."""

    def __init__(self, server: ServerProcess):
        self.server = server
        self._environ = dict(os.environ)
        self._main = sys.modules.get("__main__")
        self._builtins = set(vars(builtins))
        self._instances = {cls: vars(cls).get("_instance") for cls in RecordingShell._walk_mro()}
        os.environ.update({"MODELHUB_URL": server.url, "MODELHUB_TOKEN": server.token})
        os.environ.pop("JPY_SESSION_NAME", None)  # the shell has no notebook
        config = Config()
        config.HistoryManager.enabled = False
        InteractiveShell.clear_instance()
        ipython_dir = server.folder / "ipython"
        ipython_dir.mkdir(exist_ok=True)
        self.ipython = RecordingShell.instance(config=config, ipython_dir=str(ipython_dir))

    def run(self, code: str) -> dict:
        """Execute; returns {"text", "html", "error", "widgets", "updates"} as ``Kernel.run`` does."""
        outputs = {"text": "", "html": "", "error": "", "widgets": 0, "updates": ""}
        self.ipython.errors = []
        self.ipython.displayhook.outputs = results = []
        with capture_output() as captured, warnings.catch_warnings():
            # on stderr as in a kernel (pytest records them instead), with Python's default filters
            warnings.showwarning = _print_warning
            warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
            self.ipython.run_cell(code, store_history=True)
        for shown in [*captured.outputs, *results]:
            if shown.update:  # a display replaced in place, e.g. a status line removed
                outputs["updates"] += shown.data.get("text/plain", "")
            else:
                outputs["text"] += shown.data.get("text/plain", "")
                outputs["html"] += shown.data.get("text/html", "")
                outputs["widgets"] += "application/vnd.jupyter.widget-view+json" in shown.data
        outputs["text"] = captured.stdout + outputs["text"]
        outputs["error"] = captured.stderr + "".join(self.ipython.errors)
        return outputs

    def close(self) -> None:
        """Give the process back as it was: its IPython instance, ``__main__``, builtins, environment."""
        self.ipython.atexit_operations()
        atexit.unregister(self.ipython.atexit_operations)
        for cls, instance in self._instances.items():
            cls._instance = instance
        if self._main is not None:
            sys.modules["__main__"] = self._main
        for name in set(vars(builtins)) - self._builtins:
            delattr(builtins, name)
        os.environ.clear()
        os.environ.update(self._environ)


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
