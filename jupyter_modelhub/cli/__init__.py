"""``jupyter modelhub``: the Model Hub from a terminal, for people and for scripts and CI.

Each command is a thin client of the REST API through the Python client, like the magics, with
the magics' flags (read from their own argument definitions). One module per resource; a
resource's module has ``add_commands(commands)``, and adding a resource is one line in
``RESOURCES``. ``jupyter`` runs this as ``jupyter-modelhub`` (the ``[project.scripts]`` entry
point ``jupyter_modelhub.cli:main``); ``python -m jupyter_modelhub.cli`` is the same.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import ModelHubError
from . import (
    batch,
    endpoints,
    governance,
    monitoring,
    operations,
    packaging,
    registry,
    schedules,
    server,
    storage,
    webhooks,
)
from .base import EXIT_CODES, INTERRUPTED, USAGE, CommandError, Commands, Parser, add_common_options, exit_code

# (title in --help, module), in the order --help lists them.
RESOURCES = [
    ("Models and versions", registry),
    ("Permissions", governance),
    ("Webhooks and model cards", webhooks),
    ("Endpoints", endpoints),
    ("Images and environments", packaging),
    ("Batch scoring", batch),
    ("Schedules", schedules),
    ("Monitoring", monitoring),
    ("Operations", operations),
    ("The standalone server", server),
    ("Storage", storage),
]

SUMMARY = "The Model Hub from a terminal: register, convert, deploy, invoke, package, and follow the server's work."

COMMON_OPTIONS = """--json, --url and --token go before or after the command's name (serve takes none):
  --json   the result as JSON on stdout (logs: a list of lines; with --follow, one JSON string per
           line); progress and errors go to stderr, so stdout holds only the result
  --url    default $MODELHUB_URL, else the standalone server (started when none runs)
  --token  default $MODELHUB_TOKEN"""


def parser() -> Parser:
    top = add_common_options(Parser(prog="jupyter modelhub", formatter_class=argparse.RawDescriptionHelpFormatter))
    commands = Commands(
        top.add_subparsers(
            dest="command",
            metavar="COMMAND",
            required=True,
            parser_class=Parser,
            help="one of the commands above; COMMAND --help for its options",
        )
    )
    for title, module in RESOURCES:
        commands.group = title
        module.add_commands(commands)
    top.description = f"{SUMMARY}\n\n{commands.listing()}"
    top.epilog = (
        f"{COMMON_OPTIONS}\n\n{EXIT_CODES}\n\n"
        "`jupyter modelhub COMMAND --help` shows a command's options (the same as its magic's)."
    )
    return top


def main(argv: list[str] | None = None) -> None:
    """Run one command; every failure is one line on stderr and an exit code from EXIT_CODES."""
    from IPython.core.error import UsageError  # what the magics' shared parsers (pairs, splits) raise

    try:
        args = parser().parse_args(argv)
        args.run(args)
    except CommandError as exc:
        _fail(exc.message, exc.code)
    except UsageError as exc:
        _fail(str(exc), USAGE)
    except ModelHubError as exc:
        _fail(exc.message, exit_code(exc))
    except KeyboardInterrupt:
        _fail("", INTERRUPTED)
    except BrokenPipeError:  # `jupyter modelhub models | head`: the reader has what it wanted
        sys.stderr.close()
        sys.exit(0)


def _fail(message: str, code: int) -> None:
    if message:
        print(f"error: {message}".splitlines()[0] if code != INTERRUPTED else message, file=sys.stderr)
    sys.exit(code)
