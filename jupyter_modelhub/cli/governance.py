"""Who may do what to a model, and who changed what, from the shell: ``permissions``, ``grant``,
``revoke`` and ``history``, with the arguments of the magics of the same names."""

from __future__ import annotations

import argparse

from ..magics.governance import GovernanceMagics, history_options
from .base import Commands, hub, show


def permissions(args: argparse.Namespace) -> None:
    show(args, hub(args).permissions(args.name))


def grant(args: argparse.Namespace) -> None:
    show(args, hub(args).grant(args.name, args.principal, args.permission))


def revoke(args: argparse.Namespace) -> None:
    show(args, hub(args).revoke(args.name, args.principal))


def history(args: argparse.Namespace) -> None:
    show(args, hub(args).history(args.name, **history_options(args)))


def evaluate(args: argparse.Namespace) -> None:
    show(args, hub(args).evaluate(args.ref, args.data, args.target, against=args.against))


def approve(args: argparse.Namespace) -> None:
    show(args, hub(args).approve(args.ref, args.alias))


def promotion(args: argparse.Namespace) -> None:
    show(args, hub(args).promotion(args.ref))


def add_commands(commands: Commands) -> None:
    magics = GovernanceMagics
    commands.add("permissions", permissions, "who may do what to a model", magic=magics.permissions)
    commands.add("grant", grant, "give a user, group or everyone read, write or manage on a model", magic=magics.grant)
    commands.add("revoke", revoke, "take a user's, group's or everyone's grant on a model away", magic=magics.revoke)
    commands.add("history", history, "who changed a model or an endpoint, when, from where", magic=magics.history)
    commands.add(
        "evaluate",
        evaluate,
        "score a version (and --against) on a data file here and record the metrics for promotions",
        magic=magics.evaluate,
        change={"--data": {"help": "a .csv, .parquet or .json file"}},
    )
    commands.add("approve", approve, "approve a version for an alias (not your own)", magic=magics.approve)
    commands.add(
        "promotion", promotion, "a version's checks for every alias under promotion rules", magic=magics.promotion
    )
