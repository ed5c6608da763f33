"""Batch scoring from the shell: ``batch`` runs a job (a progress bar on stderr; exit 1 if it
failed), ``batch-endpoint`` saves a configuration, ``batch-endpoints``, ``jobs`` and ``job ID``
show them, with the flags of the batch magics (Azure's settings under Azure's names)."""

from __future__ import annotations

import argparse

from ..magics.batch import BatchMagics, settings_of
from ..magics.schedules import check_schedule_arguments, save_batch_schedule
from .base import CommandError, Commands, hub, log_lines, show, show_or_wait, wait


def batch(args: argparse.Namespace) -> None:
    if not args.inputs and not args.resume:
        raise CommandError("Give the files to score: jupyter modelhub batch MODEL INPUTS... (files, folders, globs).")
    job = hub(args).batch(
        args.target,
        args.inputs,
        output=args.output,
        overwrite=args.overwrite,
        entry_script=args.entry_script,
        resume=args.resume,
        wait=False,
        **settings_of(args),
    )
    if args.no_wait:
        return show(args, job)
    try:
        wait(job, f"batch {args.target}")
    finally:
        show(args, job)


def batch_endpoint(args: argparse.Namespace) -> None:
    check_schedule_arguments(args)
    client = hub(args)
    saved = client.save_batch_endpoint(
        args.name, args.model, entry_script=args.entry_script, description=args.description, **settings_of(args)
    )
    show(args, save_batch_schedule(client, args) if args.schedule else saved)


def batch_endpoints(args: argparse.Namespace) -> None:
    client = hub(args)
    show(args, client.delete_batch_endpoint(args.delete) if args.delete else client.batch_endpoints())


def jobs(args: argparse.Namespace) -> None:
    if not 1 <= args.limit <= 500:
        raise CommandError("--limit takes 1 to 500.")
    show(args, hub(args).jobs(status=args.status, per_page=args.limit))


def job(args: argparse.Namespace) -> None:
    found = hub(args).job(args.id)
    if args.cancel:
        return show(args, found.cancel())
    if args.log:
        return log_lines(found.log(), args.json)
    show_or_wait(args, found, f"batch {found['endpoint'] or found['model']}")


def add_commands(commands: Commands) -> None:
    magics = BatchMagics
    commands.add(
        "batch", batch, "score files with a model or a batch endpoint, as a job on Dask workers", magic=magics.batch
    )
    commands.add(
        "batch-endpoint",
        batch_endpoint,
        "save a batch endpoint: a model and its batch settings",
        magic=magics.batch_endpoint,
    )
    commands.add(
        "batch-endpoints",
        batch_endpoints,
        "list batch endpoints (--delete NAME removes one)",
        magic=magics.batch_endpoints,
    )
    commands.add("jobs", jobs, "batch jobs, newest first", magic=magics.jobs)
    commands.add("job", job, "one batch job: mini-batches, output, notebook; --wait, --cancel, --log", magic=magics.job)
