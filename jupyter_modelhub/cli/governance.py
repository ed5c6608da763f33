"""Who may do what to a model, from the shell: ``permissions``, ``grant`` and ``revoke``, with the
arguments of the magics of the same names."""

from __future__ import annotations

import argparse

from ..magics.governance import GovernanceMagics
from .base import Commands, hub, show


def permissions(args: argparse.Namespace) -> None:
    show(args, hub(args).permissions(args.name))


def grant(args: argparse.Namespace) -> None:
    show(args, hub(args).grant(args.name, args.principal, args.permission))


def revoke(args: argparse.Namespace) -> None:
    show(args, hub(args).revoke(args.name, args.principal))


def add_commands(commands: Commands) -> None:
    magics = GovernanceMagics
    commands.add("permissions", permissions, "who may do what to a model", magic=magics.permissions)
    commands.add("grant", grant, "give a user, group or everyone read, write or manage on a model", magic=magics.grant)
    commands.add("revoke", revoke, "take a user's, group's or everyone's grant on a model away", magic=magics.revoke)
