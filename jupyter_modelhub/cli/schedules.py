"""Schedules from the shell: ``schedules`` lists them, ``schedule NAME`` shows, changes, pauses,
resumes or deletes one, with the arguments of the magics of the same names. ``batch-endpoint
NAME MODEL --schedule CRON --inputs FILES...`` makes one (``cli.batch``)."""

from __future__ import annotations

import argparse

from ..magics.schedules import ScheduleMagics, run_schedule
from .base import Commands, hub, show


def schedules(args: argparse.Namespace) -> None:
    show(args, hub(args).schedules())


def schedule(args: argparse.Namespace) -> None:
    show(args, run_schedule(hub(args), args))


def add_commands(commands: Commands) -> None:
    magics = ScheduleMagics
    commands.add("schedules", schedules, "schedules: next and last runs, missed runs", magic=magics.schedules)
    commands.add(
        "schedule", schedule, "one schedule; --pause, --resume, --delete, --cron, --timezone", magic=magics.schedule
    )
