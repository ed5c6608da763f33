"""Long work from the shell: ``operations`` lists it, ``operation ID`` shows one, its log
(``--log``, ``--follow``), waits for it with a progress bar (``--wait``: exit 1 if it failed or
was cancelled) or cancels it (``--cancel``), with the flags of ``%operations``/``%operation``."""

from __future__ import annotations

import argparse

from ..magics.operations import OperationMagics
from .base import CommandError, Commands, follow, hub, log_lines, show, show_or_wait


def operations(args: argparse.Namespace) -> None:
    if not 1 <= args.limit <= 500:
        raise CommandError("--limit takes 1 to 500.")
    show(args, hub(args).operations(kind=args.kind, status=args.status, subject=args.subject, per_page=args.limit))


def operation(args: argparse.Namespace) -> None:
    client = hub(args)
    found = client.operation(args.id)
    if args.cancel:
        return show(args, found.cancel())
    if args.follow:
        follow(client.follow_operation_log(args.id, args.tail), args.json)
        return
    if args.log:
        return log_lines(found.log(args.tail), args.json)
    show_or_wait(args, found, f"{found['kind']} {found['subject']}")


def add_commands(commands: Commands) -> None:
    magics = OperationMagics
    commands.add(
        "operations",
        operations,
        "recent long work (conversions, deploys, builds), newest first",
        magic=magics.operations,
    )
    commands.add(
        "operation", operation, "one operation: its state, --log, --follow, --wait or --cancel", magic=magics.operation
    )
