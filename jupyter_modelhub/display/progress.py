"""Live progress of an operation while a magic waits for it.

In a notebook (a kernel with a frontend) it is an ipywidgets bar with the current message; its
plain-text form, which a saved or papermill-run notebook keeps, is the text bar's last line.
In a notebook without ipywidgets it is that text line, shown once and updated in place by its
display id, so the saved notebook keeps one line, not one per step. In a terminal it is a
tqdm-style text bar redrawn in place; in a pipe or a log, one line per step.

The elapsed time shown never goes backwards: while the work runs it is estimated with this
machine's clock, and the server's own start and end times decide the last figure; a bar never
shows less than it showed before (the estimate made just after the end may be a poll ahead).
"""

from __future__ import annotations

import functools
import sys
import time

from .operations import duration, progress_text

WIDTH = 24


def progress_bar(title: str):
    """The right bar for where the magic runs: a widget in a notebook (a line updated in place
    without ipywidgets), text elsewhere."""
    if _in_notebook():
        try:
            return WidgetBar(title)
        except ImportError:  # ipywidgets not installed in this kernel
            return DisplayBar(title)
    return TextBar(title)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def status_text(operation: dict, seconds: float | None = None) -> str:
    """``2/5 steps: checking equivalence 1.2 s`` while it runs, ``queued (position 2)`` while it
    waits, ``succeeded 3.1 s`` at the end. ``seconds``: the elapsed time to show (a bar's clamped
    figure), else the operation's own."""
    seconds = duration(operation) if seconds is None else seconds
    detail = progress_text(operation)
    if operation["status"] == "queued":
        place = operation.get("queue_position")
        status = "queued" + (f" (position {place})" if place else "")
    elif operation["active"]:
        status = detail or operation["status"]
    else:
        status = operation["status"]
    return status + (f" {seconds:.1f} s" if seconds is not None else "")


def bar_line(title: str, operation: dict, seconds: float | None = None) -> str:
    """``convert churn:1 [#########...............] 2/5 steps: checking equivalence 1.2 s``."""
    progress = operation.get("progress") or {}
    total, done = progress.get("total"), progress.get("done") or 0
    fraction = 1.0 if operation["status"] == "succeeded" else (min(1.0, done / total) if total else 0.0)
    filled = int(round(WIDTH * fraction))
    return f"{title} [{'#' * filled}{'.' * (WIDTH - filled)}] {status_text(operation, seconds)}"


class Elapsed:
    """The seconds a bar shows: the operation's, never less than the bar showed before."""

    def __init__(self):
        self.shown: float | None = None

    def __call__(self, operation: dict) -> float | None:
        seconds = duration(operation)
        if seconds is not None and self.shown is not None:
            seconds = max(seconds, self.shown)
        self.shown = seconds
        return seconds


class TextBar:
    """Redrawn in place on a terminal; one line per change of step otherwise."""

    def __init__(self, title: str, stream=None):
        self.title, self.stream = title, stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = ""
        self._last_drawn = 0.0
        self.elapsed = Elapsed()

    def update(self, operation: dict) -> None:
        line = bar_line(self.title, operation, self.elapsed(operation))
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
        line = bar_line(self.title, operation, self.elapsed(operation))
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self._last)) + "\n")
        elif (operation["status"], progress_text(operation)) != getattr(self, "_step", None):
            self.stream.write(line + "\n")
        self.stream.flush()


class DisplayBar:
    """The text bar's line in a notebook without ipywidgets: displayed once, then replaced in
    place through its display id (``update_display_data``), so the notebook, and its saved copy,
    keep one line, the last."""

    def __init__(self, title: str):
        from IPython.display import display

        self.title = title
        self.elapsed = Elapsed()
        self._last = f"{title}: starting"
        self.handle = display({"text/plain": self._last}, raw=True, display_id=True)

    def update(self, operation: dict) -> None:
        line = bar_line(self.title, operation, self.elapsed(operation))
        if line != self._last:
            self._last = line
            self.handle.update({"text/plain": line}, raw=True)

    def close(self, operation: dict) -> None:
        self.update(operation)


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
        self.elapsed = Elapsed()
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
        seconds = self.elapsed(operation)
        self.label.value = status_text(operation, seconds)
        self.box.text = bar_line(self.title, operation, seconds)

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
