"""What every ``jupyter modelhub`` command shares: its parser (the magic's own argument
definitions, so a flag has one name and one help text everywhere), the client, output as text or
``--json``, waiting for an operation with a progress bar, reading data files, and exit codes.

Not here: the commands themselves (one module per resource) and the top-level parser
(``cli/__init__.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..client.http import Unreachable
from ..errors import ModelHubError, Unavailable

OK, REFUSED, USAGE, NO_SERVER, INTERRUPTED = 0, 1, 2, 3, 130

EXIT_CODES = f"""exit codes:
  {OK}    done
  {REFUSED}    the server refused the request (not found, conflict, invalid input), or the
       operation failed or was cancelled
  {USAGE}    usage error: unknown command or option, bad value, missing or unreadable file
  {NO_SERVER}    no server to talk to: none reachable at the URL, or it is unavailable (e.g. its
       database is down); retrying later may succeed
  {INTERRUPTED}  interrupted (Ctrl-C); work already started on the server goes on"""


class CommandError(Exception):
    """A one-line error and the exit code it ends the command with."""

    def __init__(self, message: str, code: int = USAGE):
        super().__init__(message)
        self.message, self.code = message, code


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line (usage errors exit 2, no usage dump)."""

    def error(self, message: str):
        raise CommandError(f"{self.prog}: {message} (see {self.prog} --help)")


def exit_code(error: ModelHubError) -> int:
    """The exit code of an error from the client: no server (3) or a refusal or failure (1)."""
    return NO_SERVER if isinstance(error, (Unreachable, Unavailable)) else REFUSED


def add_common_options(parser: argparse.ArgumentParser, **defaults) -> argparse.ArgumentParser:
    """--json, --url and --token, which every resource command takes."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)", **defaults)
    parser.add_argument(
        "--url", help="the Model Hub server (default: $MODELHUB_URL, or the standalone server)", **defaults
    )
    parser.add_argument("--token", help="its token (default: $MODELHUB_TOKEN)", **defaults)
    return parser


# After a command's name (`jupyter modelhub models --json`) they override what was given before it
# (`jupyter modelhub --json models`, the top parser's, with the real defaults); hence no defaults here.
COMMON = add_common_options(Parser(add_help=False), default=argparse.SUPPRESS)


class Commands:
    """The subcommands, added group by group (a resource's commands are one group in --help)."""

    def __init__(self, subparsers):
        self.subparsers = subparsers
        self.groups: dict[str, list[tuple[str, str]]] = {}
        self.group = ""

    def add(
        self, name: str, run, summary: str, *, magic=None, drop=(), change=None, common: bool = True, aliases=()
    ) -> argparse.ArgumentParser:
        """A command ``name`` that calls ``run(args)``. With ``magic`` (a magic method), it takes the
        magic's arguments, less the options in ``drop`` and with ``change`` (an option's new
        add_argument keywords, e.g. a file instead of a Python expression)."""
        parser = self.subparsers.add_parser(
            name,
            aliases=list(aliases),
            description=summary,
            epilog=EXIT_CODES,
            parents=[COMMON] if common else [],
            formatter_class=argparse.RawDescriptionHelpFormatter,
            prog=f"jupyter modelhub {name}",
        )
        if magic is not None:
            for definition in reversed(magic.decorators):  # IPython keeps them last-first
                args = getattr(definition, "args", ())
                if not args or args[0] in drop:
                    continue
                kwargs = {**definition.kwds, **(change or {}).get(args[0], {})}
                parser.add_argument(*args, **{k: v for k, v in kwargs.items() if v is not None})
        parser.set_defaults(run=run)
        self.groups.setdefault(self.group, []).append((name, summary))
        return parser

    def listing(self) -> str:
        """The commands by group, for ``jupyter modelhub --help``."""
        width = max(len(name) for names in self.groups.values() for name, _ in names) + 2
        return "\n\n".join(
            f"{group}:\n" + "\n".join(f"  {name:<{width}}{summary}" for name, summary in names)
            for group, names in self.groups.items()
        )


def hub(args: argparse.Namespace):
    """The client for this command: ``--url``/``--token``, or found as the magics find it."""
    from ..client.discovery import connect, discover

    try:
        url, token = (args.url, os.environ.get("MODELHUB_TOKEN")) if args.url else discover()
    except ModelHubError as exc:  # the standalone server could not be started
        raise CommandError(exc.message, NO_SERVER) from None
    return connect(url, args.token or token, client="cli")


def show(args: argparse.Namespace, result) -> None:
    """Print a result: its JSON with ``--json``, its text form otherwise."""
    if args.json:
        # dict(): a listing's `items` names its key, which json's encoder would take for dict.items
        print(json.dumps(dict(result) if isinstance(result, dict) else result, indent=2, default=str))
    elif result is not None:
        print(result.text() if hasattr(result, "text") else result)


def wait(operation, title: str):
    """Wait for ``operation`` with a progress bar on stderr (redrawn on a terminal, a line per step
    otherwise; stdout keeps only the result), and return its result. Ctrl-C stops waiting, not the work."""
    from ..display.progress import TextBar

    bar = TextBar(title, stream=sys.stderr)
    try:
        operation.wait(progress=bar.update)
    except KeyboardInterrupt:
        raise CommandError(
            f"Stopped waiting; operation {operation['id']} goes on. `jupyter modelhub operation {operation['id']}` "
            "shows it, --follow its log, --cancel stops it.",
            INTERRUPTED,
        ) from None
    finally:
        bar.close(operation)
    return operation.outcome()


def show_or_wait(args: argparse.Namespace, found, title: str) -> None:
    """``operation``/``job`` ID [--wait]: show it, after waiting with a bar while it runs; with
    --wait, the exit code says how it ended even if it had ended already."""
    if args.wait and found["active"]:
        try:
            wait(found, title)
        finally:
            show(args, found)
        return
    show(args, found)
    if args.wait:
        found.outcome()


def follow(lines, as_json: bool) -> None:
    """Print a stream of log lines as they come (JSON Lines with ``--json``) until it ends or Ctrl-C."""
    try:
        for line in lines:
            print(json.dumps(line) if as_json else line, flush=True)
    except KeyboardInterrupt:
        raise CommandError("", INTERRUPTED) from None


def log_lines(text: str, as_json: bool) -> None:
    """Print a log (a JSON list of its lines with ``--json``)."""
    print(json.dumps(text.splitlines(), indent=2) if as_json else text, end="" if not as_json else "\n")


def read_data(source: str, what: str):
    """Rows from a JSON or CSV file (``-``: JSON on stdin), or JSON text as it is.

    JSON is sent as it is written when it is a request body (an object); a list of rows, or
    ``{"columns", "data"}``, becomes the rows. A CSV whose first line is not all numbers has a
    header: its columns are named (a DataFrame, read by pandas); otherwise it is rows of numbers.
    """
    if source.lstrip()[:1] in ("{", "["):
        return _parse_json(source, what)
    if source == "-":
        return _parse_json(sys.stdin.read(), f"{what} on stdin")
    path = Path(source).expanduser()
    if not path.is_file():
        raise CommandError(f"{what} {source!r} is not a file (relative paths start at {Path.cwd()}).")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read {what} {source!r}: {exc}.") from None
    if path.suffix.lower() == ".csv":
        return _parse_csv(path, text, what)
    if path.suffix.lower() == ".json":
        return _parse_json(text, f"{what} {source!r}")
    raise CommandError(f"{what} {source!r}: expected a .json or .csv file, or - for JSON on stdin.")


def _parse_json(text: str, what: str):
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{what} is not valid JSON: {exc}.") from None


def _parse_csv(path: Path, text: str, what: str):
    import csv

    first = next(csv.reader(text.splitlines()), None)
    if first is None:
        raise CommandError(f"{what} {str(path)!r} is empty.")
    if all(_is_number(cell) for cell in first):
        import numpy as np

        try:
            return np.loadtxt(path, delimiter=",", ndmin=2).tolist()
        except ValueError as exc:
            raise CommandError(f"{what} {str(path)!r}: {exc}.") from None
    try:
        import pandas
    except ImportError:
        raise CommandError(
            f"{what} {str(path)!r} has a header: reading named columns needs pandas "
            "(pip install pandas), or leave the header out."
        ) from None
    try:
        return pandas.read_csv(path)
    except ValueError as exc:
        raise CommandError(f"{what} {str(path)!r}: {exc}.") from None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def sample_rows(data):
    """A ``--sample``: rows, or a DataFrame of ``{"columns", "data"}`` (as an input example is stored)."""
    if isinstance(data, dict) and "columns" in data and "data" in data:
        import pandas

        return pandas.DataFrame(data["data"], columns=data["columns"])
    if isinstance(data, dict) and "data" in data:  # a scoring request's body
        return data["data"]
    return data


# A --sample as a file, for the magics whose --sample is a Python expression.
SAMPLE_FILE = {"help": "a JSON or CSV file of example inputs (a list of rows, or a CSV with or without a header)"}


def ref(text: str):
    """A model reference (NAME, NAME:VERSION, NAME@ALIAS); a malformed one is a usage error."""
    from ..refs import RefError, parse_ref

    try:
        return parse_ref(text)
    except RefError as exc:
        raise CommandError(str(exc)) from None
