"""Live progress of an operation while a magic waits for it.

In a notebook (a kernel with a frontend) it is an ipywidgets bar with the current message; its
plain-text form, which a saved or papermill-run notebook keeps, is the text bar's last line. In
a terminal it is a tqdm-style text bar redrawn in place; in a pipe or a log, one line per step.
"""

from __future__ import annotations

import functools
import sys
import time

from .operations import duration, progress_text

WIDTH = 24


def progress_bar(title: str):
    """The right bar for where the magic runs: a widget in a notebook, text elsewhere."""
    if _in_notebook():
        try:
            return WidgetBar(title)
        except ImportError:  # ipywidgets not installed in this kernel
            pass
    return TextBar(title)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def status_text(operation: dict) -> str:
    """``2/5 steps: checking equivalence 1.2 s`` while it runs, ``succeeded 3.1 s`` at the end."""
    seconds = duration(operation)
    status = progress_text(operation) if operation["active"] else operation["status"]
    return status + (f" {seconds:.1f} s" if seconds is not None else "")


def bar_line(title: str, operation: dict) -> str:
    """``convert churn:1 [#########...............] 2/5 steps: checking equivalence 1.2 s``."""
    progress = operation.get("progress") or {}
    total, done = progress.get("total"), progress.get("done") or 0
    fraction = 1.0 if operation["status"] == "succeeded" else (min(1.0, done / total) if total else 0.0)
    filled = int(round(WIDTH * fraction))
    return f"{title} [{'#' * filled}{'.' * (WIDTH - filled)}] {status_text(operation)}"


class TextBar:
    """Redrawn in place on a terminal; one line per change of step otherwise."""

    def __init__(self, title: str, stream=None):
        self.title, self.stream = title, stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = ""
        self._last_drawn = 0.0

    def update(self, operation: dict) -> None:
        line = bar_line(self.title, operation)
        if self.tty:
            if line != self._last and time.monotonic() - self._last_drawn > 0.1:
                self.stream.write("\r" + line.ljust(len(self._last)))
                self.stream.flush()
                self._last, self._last_drawn = line, time.monotonic()
            return
        step = (operation["status"], progress_text(operation))
        if step != getattr(self, "_step", None):
            self._step = step
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self, operation: dict) -> None:
        line = bar_line(self.title, operation)
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self._last)) + "\n")
        elif (operation["status"], progress_text(operation)) != getattr(self, "_step", None):
            self.stream.write(line + "\n")
        self.stream.flush()


class WidgetBar:
    """An ipywidgets progress bar and message, updated in place."""

    def __init__(self, title: str):
        import ipywidgets
        from IPython.display import display

        self.title = title
        self.bar = ipywidgets.IntProgress(value=0, min=0, max=100, layout={"width": "40%"})
        self.label = ipywidgets.Label(value="starting")
        self.box = _labelled_box()([ipywidgets.Label(value=title), self.bar, self.label])
        self.box.text = f"{title}: starting"
        self.handle = display(self.box, display_id=True)

    def update(self, operation: dict) -> None:
        progress = operation.get("progress") or {}
        total, done = progress.get("total"), progress.get("done") or 0
        self.bar.value = (
            100 if operation["status"] == "succeeded" else (int(100 * min(1.0, done / total)) if total else 0)
        )
        self.bar.bar_style = (
            "info" if operation["active"] else ("success" if operation["status"] == "succeeded" else "danger")
        )
        self.label.value = status_text(operation)
        self.box.text = bar_line(self.title, operation)

    def close(self, operation: dict) -> None:
        self.update(operation)
        if self.handle is not None:
            self.handle.update(self.box)  # re-sends the plain-text form: saved notebooks keep the outcome


@functools.cache
def _labelled_box():
    """An HBox whose plain-text form is the text bar's line rather than the widget's repr
    (made on first use: ipywidgets is imported only in a notebook)."""
    import ipywidgets

    class LabelledBox(ipywidgets.HBox):
        text = ""

        def __repr__(self) -> str:
            return self.text

    return LabelledBox
