"""The schedule magics: ``%schedules`` lists them, ``%schedule NAME`` shows, changes, pauses,
resumes or deletes one.

A schedule is made where what it starts is configured: ``%batch-endpoint churn-nightly
churn@production --schedule "0 2 * * *" --timezone Europe/Paris --inputs data/*.parquet`` runs
the batch endpoint over those files at 02:00 Paris time (``schedule_arguments`` and
``save_batch_schedule`` here are what ``%batch-endpoint`` and the command line use). The server
fires it, so it runs with no kernel open; a time at which no server runs is skipped and counted
as missed.
"""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .base import ModelHubMagics

CRON_HELP = "five fields, minute hour day-of-month month day-of-week, e.g. '0 2 * * *' (02:00 every day)"
ZONE_HELP = "the IANA time zone the times are in, e.g. Europe/Paris (default UTC)"


def schedule_arguments(magic):
    """%batch-endpoint's flags that schedule its runs."""
    for flag, options in reversed(
        [
            ("--schedule", {"metavar": "CRON", "help": "run it at these times: " + CRON_HELP}),
            ("--timezone", {"metavar": "ZONE", "help": ZONE_HELP}),
            (
                "--inputs",
                {
                    "nargs": "+",
                    "metavar": "PATH",
                    "help": "with --schedule: the files, folders or globs each run scores",
                },
            ),
            ("--output", {"help": "with --schedule: where runs write (default batch-outputs/<endpoint>-<job> here)"}),
        ]
    ):
        magic = argument(flag, **options)(magic)
    return magic


def check_schedule_arguments(args) -> None:
    """--inputs, --output and --timezone belong to a --schedule; --schedule needs --inputs."""
    if args.schedule and not args.inputs:
        raise UsageError("--schedule needs the files each run scores: --inputs data/*.parquet (files, folders, globs).")
    if not args.schedule and (args.inputs or args.output or args.timezone):
        raise UsageError("--inputs, --output and --timezone say what scheduled runs do: give --schedule CRON too.")


def save_batch_schedule(hub, args):
    """The schedule %batch-endpoint NAME ... --schedule saves: named as the batch endpoint."""
    return hub.schedule_batch(
        args.name, args.name, args.inputs, args.schedule, timezone=args.timezone or "UTC", output=args.output
    )


@magics_class
class ScheduleMagics(ModelHubMagics):
    """Schedules: operations (batch jobs) the server starts at the times of a cron expression."""

    @magic_arguments()
    @line_magic
    def schedules(self, line: str = ""):
        """List schedules: when each fires next, what its last run started, the runs it missed."""
        self._parse(self.schedules, line)
        return self._call(self.hub.schedules)

    @magic_arguments()
    @argument("name", help="the schedule's name (or id)")
    @argument("--delete", action="store_true", help="delete it (the jobs it started stay)")
    @argument("--pause", action="store_true", help="stop firing it (times while paused are not counted as missed)")
    @argument("--resume", action="store_true", help="fire it again, from its next time after now")
    @argument("--cron", help="new times: " + CRON_HELP)
    @argument("--timezone", help=ZONE_HELP)
    @argument("--missed-policy", choices=["skip", "run_once"], help="when no server ran at a time: skip, or run once")
    @line_magic
    def schedule(self, line: str):
        """One schedule: ``%schedule churn-nightly``; ``--pause``, ``--resume``, ``--delete``,
        ``--cron '0 3 * * *'``, ``--timezone Europe/Paris``."""
        args = self._parse(self.schedule, line)
        return self._call(run_schedule, self.hub, args)


def run_schedule(hub, args):
    """What %schedule (and ``jupyter modelhub schedule``) does with its arguments."""
    if args.pause and args.resume:
        raise UsageError("Give --pause or --resume, not both.")
    changes = {
        "cron": args.cron,
        "timezone": args.timezone,
        "missed_policy": args.missed_policy,
        "enabled": False if args.pause else True if args.resume else None,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if args.delete:
        if changes:
            raise UsageError("--delete takes no other option.")
        return hub.delete_schedule(args.name)
    if changes:
        return hub.change_schedule(args.name, **changes)
    return hub.schedule(args.name)
