"""What every Model Hub magic shares: configuration, the client, argument parsing, one-line
errors, and waiting for an operation with a live progress bar.

Each resource's magics are a subclass in a module of their own (``registry``, ``convert``,
``endpoints``, ``operations``); ``%config ModelHubMagics.url = ...`` configures them all.

Every magic line is split into words the same way (:func:`split_line`): as a shell splits a
command line, so ``-d "baseline model"`` gives the words ``-d`` and ``baseline model``, and
``note="two words"`` gives ``note=two words``; with one addition for the Python expressions and
JSON that magics take, text inside brackets is one word, kept as written (``X[:, :5]``,
``{"data": [[1, 2]]}``).
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import Magics, magics_class
from traitlets import Unicode

from ..errors import ModelHubError
from ..refs import RefError, parse_ref

OPENING, CLOSING = "([{", ")]}"


def split_line(line: str) -> list[str]:
    """The words of a magic line, split as a shell splits them, brackets kept whole.

    Outside brackets: spaces separate words; single quotes keep everything up to the next single
    quote; double quotes too, where a backslash escapes a double quote or a backslash; a
    backslash escapes the next character; quotes and escapes are removed. From an opening
    bracket to its closing one, everything (spaces, quotes, strings holding brackets) is kept
    as written.
    """
    words: list[str] = []
    word: list[str] = []
    started = False  # a word has begun (so '' counts as an empty word, as in a shell)
    i, end = 0, len(line)
    while i < end:
        char = line[i]
        if char.isspace():
            if started:
                words.append("".join(word))
                word, started = [], False
            i += 1
        elif char in OPENING:
            close = _bracketed_end(line, i)
            word.append(line[i:close])
            started, i = True, close
        elif char == "'":
            close = line.find("'", i + 1)
            if close < 0:
                raise UsageError(f"Unclosed ' in {line!r}: close the quote, or escape it as \\'.")
            word.append(line[i + 1 : close])
            started, i = True, close + 1
        elif char == '"':
            i += 1
            while i < end and line[i] != '"':
                if line[i] == "\\" and i + 1 < end and line[i + 1] in '"\\':
                    i += 1
                word.append(line[i])
                i += 1
            if i >= end:
                raise UsageError(f'Unclosed " in {line!r}: close the quote, or escape it as \\".')
            started, i = True, i + 1
        elif char == "\\" and i + 1 < end:
            word.append(line[i + 1])
            started, i = True, i + 2
        else:
            word.append(char)
            started, i = True, i + 1
    if started:
        words.append("".join(word))
    return words


def _bracketed_end(line: str, start: int) -> int:
    """The index just past the bracket closing the one at ``start`` (Python strings skipped)."""
    expected, i = [], start
    while i < len(line):
        char = line[i]
        if char in OPENING:
            expected.append(CLOSING[OPENING.index(char)])
        elif char in CLOSING:
            if char != expected[-1]:
                raise UsageError(f"Mismatched {char!r} at character {i + 1} of {line!r}: expected {expected[-1]!r}.")
            expected.pop()
            if not expected:
                return i + 1
        elif char in "'\"":
            close = i + 1
            while close < len(line) and line[close] != char:
                close += 2 if line[close] == "\\" else 1
            i = close
        i += 1
    raise UsageError(f"Unclosed {line[start]!r} at character {start + 1} of {line!r}: close it with {expected[-1]!r}.")


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
            print(
                f"Stopped waiting; operation {operation['id']} goes on. %operation {operation['id']} shows it, "
                f"--log its log, --cancel stops it."
            )
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
        """The magic's arguments from its line, split by :func:`split_line` (every magic alike)."""
        try:
            return magic.parser.parse_args(split_line(line))
        except UsageError:
            raise
        except SystemExit:
            raise UsageError(f"Invalid arguments: {line!r}; see %{magic.__name__}?") from None

    def _notebook_path(self) -> str | None:
        """The notebook the kernel started with; the server corrects it from the kernel's session
        (``_kernel_id``), which follows renames."""
        return os.environ.get("JPY_SESSION_NAME") or self.shell.user_ns.get("__session__") or None

    @staticmethod
    def _kernel_id() -> str | None:
        """This kernel's id, from its connection file (``kernel-<id>.json``), if it runs in a kernel."""
        try:
            from ipykernel.connect import get_connection_file

            name = Path(get_connection_file()).stem
        except Exception:  # plain IPython, or no ipykernel
            return None
        return name.removeprefix("kernel-") if name.startswith("kernel-") else None

    @staticmethod
    def _ref(text: str):
        try:
            return parse_ref(text)
        except RefError as exc:
            raise UsageError(str(exc)) from None
