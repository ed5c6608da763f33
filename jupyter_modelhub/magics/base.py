"""What every Model Hub magic shares: configuration, the client, argument parsing, one-line
errors, and waiting for an operation with a live progress bar.

Each resource's magics are a subclass in a module of their own (``registry``, ``convert``,
``endpoints``, ``operations``); ``%config ModelHubMagics.url = ...`` configures them all.
"""

from __future__ import annotations

import json
import os
from html import escape

from IPython.core.error import UsageError
from IPython.core.magic import Magics, magics_class
from IPython.core.magic_arguments import parse_argstring
from traitlets import Unicode

from ..errors import ModelHubError
from ..refs import RefError, parse_ref


def pairs(items: list[str], what: str) -> dict[str, str]:
    """``["a=1", "b=2"]`` -> {"a": "1", "b": "2"}; anything else is a one-line error."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"Invalid {what} {item!r}: expected NAME=VALUE.")
        out[key] = value
    return out


def json_or_text(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value


@magics_class
class ModelHubMagics(Magics):
    """The base of the Model Hub magics; ``%config ModelHubMagics.url = ...`` points them at a server."""

    url = Unicode("", config=True, help="Model Hub server URL; found automatically when empty.")
    token = Unicode("", config=True, help="Token for that server.")

    @property
    def hub(self):
        from ..client import connect

        try:
            return connect(self.url or None, self.token or None)
        except ModelHubError as exc:
            raise UsageError(exc.message) from None

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ModelHubError as exc:
            raise UsageError(exc.message) from None

    def _call_with_status(self, status: str, fn, *args, **kwargs):
        """Like ``_call``, showing ``status`` while short work runs (a deploy takes about a second)
        and removing it once the result is there."""
        from IPython.display import display

        bundle = {"text/plain": status, "text/html": f'<div style="opacity:.7">{escape(status)}</div>'}
        handle = display(bundle, raw=True, display_id=True)
        try:
            return self._call(fn, *args, **kwargs)
        finally:
            if handle is not None:
                handle.update({"text/plain": "", "text/html": ""}, raw=True)

    def _wait(self, operation, title: str):
        """Wait for ``operation`` with a live progress bar; returns its result, or the operation
        itself if the user interrupts (the stop button), which stops waiting, not the work."""
        from ..display.progress import progress_bar

        bar = progress_bar(title)
        try:
            operation.wait(progress=bar.update)
        except KeyboardInterrupt:
            print(f"Stopped waiting; operation {operation['id']} goes on. %operation {operation['id']} shows it, "
                  f"--log its log, --cancel stops it.")
            return operation
        except ModelHubError as exc:
            raise UsageError(exc.message) from None
        finally:
            bar.close(operation)
        return self._call(operation.outcome)

    def _eval(self, expression: str, option: str):
        try:
            return self.shell.ev(expression)
        except Exception as exc:
            raise UsageError(f"{option} {expression!r} failed: {type(exc).__name__}: {exc}") from None

    def _parse(self, magic, line: str):
        try:
            return parse_argstring(magic, line)
        except UsageError:
            raise
        except SystemExit:
            raise UsageError(f"Invalid arguments: {line!r}; see %{magic.__name__}?") from None

    def _notebook_path(self) -> str | None:
        # jupyter_server names the kernel's session after the notebook; ipykernel exposes it too.
        return os.environ.get("JPY_SESSION_NAME") or self.shell.user_ns.get("__session__") or None

    @staticmethod
    def _ref(text: str):
        try:
            return parse_ref(text)
        except RefError as exc:
            raise UsageError(str(exc)) from None
