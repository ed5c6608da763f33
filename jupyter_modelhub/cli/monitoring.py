"""Monitoring from the shell: ``reference REF [FILE]`` shows or makes a version's reference
profile, ``monitor --data FILE --against REF`` (or ``--baseline FILE``) reports drift and data
quality, ``monitor ENDPOINT [--window 1h]`` does it for an endpoint's collected traffic,
``labels ENDPOINT FILE`` sends labels and ``replay ENDPOINT --to REF`` replays its requests, with
the flags of the magics; data are CSV, JSON or Parquet files instead of Python expressions, and
predictions come as a file too (no model object here)."""

from __future__ import annotations

import argparse
from pathlib import Path

from IPython.core.error import UsageError

from ..display import ReplayResult
from ..magics.monitoring import MonitoringMagics, thresholds
from .base import CommandError, Commands, hub, read_data, show, wait

DATA_FILE = "a CSV (with a header), JSON ({columns, data} or rows) or Parquet file"


def data(source: str | None, what: str):
    if source is None:
        return None
    path = Path(source).expanduser()
    if path.suffix.lower() == ".parquet" and path.is_file():
        import pandas

        try:
            return pandas.read_parquet(path)
        except Exception as exc:  # not Parquet after all: pyarrow's own words
            raise CommandError(f"{what} {source!r} cannot be read as Parquet: {exc}.") from None
    return read_data(source, what)


def reference(args: argparse.Namespace) -> None:
    if args.data is None:
        return show(args, hub(args).reference(args.ref))
    rows = data(args.data, "The data")
    predictions = data(args.predictions, "--predictions")
    show(args, hub(args).reference(args.ref, rows, predictions=predictions, source=Path(args.data).name))


def monitor(args: argparse.Namespace) -> None:
    try:
        rules = thresholds(args.threshold)
    except UsageError as exc:
        raise CommandError(str(exc)) from None
    if args.endpoint is not None:
        if args.data or args.baseline or args.predictions:
            raise CommandError("An endpoint's monitor uses its collected requests: --data, --baseline and "
                               "--predictions go without an endpoint.")  # fmt: skip
        show(
            args,
            hub(args).monitor(
                args.endpoint, args.against, window=args.window, deployment=args.deployment, thresholds=rules
            ),
        )
        return
    if args.data is None or (args.against is None) == (args.baseline is None):
        raise CommandError("Give --data FILE and one of --against REF or --baseline FILE.")
    against = args.against or data(args.baseline, "--baseline")
    show(
        args,
        hub(args).monitor(
            data(args.data, "--data"),
            against,
            predictions=data(args.predictions, "--predictions"),
            thresholds=rules,
            window=args.window,
            deployment=args.deployment,
        ),
    )


def labels(args: argparse.Namespace) -> None:
    show(
        args,
        hub(args).labels(
            args.endpoint,
            data(args.data, "The labels"),
            id_column=args.id_column,
            label_column=args.label_column,
            row_column=args.row_column,
        ),
    )


def replay(args: argparse.Namespace) -> None:
    if (args.to is None) == (args.deployment is None):
        raise CommandError("Replay to one of --to VERSION (deployed for the replay) or --deployment NAME.")
    operation = hub(args).replay(
        args.endpoint, args.to, deployment=args.deployment, window=args.window, limit=args.limit, wait=False
    )
    show(args, operation if args.no_wait else ReplayResult(wait(operation, f"replay {args.endpoint}")))


def add_commands(commands: Commands) -> None:
    magics = MonitoringMagics
    commands.add(
        "reference",
        reference,
        "a version's reference profile: show it, or make it from a data file",
        magic=magics.reference,
        drop=("--model",),
        change={
            "data": {"help": f"{DATA_FILE} of inputs to profile; omit to show"},
            "--predictions": {"help": DATA_FILE},
        },
    )
    commands.add(
        "monitor",
        monitor,
        "drift and data quality of a data file against a version's reference or a baseline file",
        magic=magics.monitor,
        drop=("--model",),
        change={
            "--data": {"help": DATA_FILE},
            "--baseline": {"help": f"{DATA_FILE} of earlier inputs"},
            "--predictions": {"help": DATA_FILE},
        },
    )
    commands.add(
        "labels",
        labels,
        "labels for an endpoint's requests (a file of request ids and labels), for its monitor's performance",
        magic=magics.labels,
        change={"data": {"help": DATA_FILE}},
    )
    commands.add(
        "replay",
        replay,
        "replay an endpoint's collected requests to a version or deployment and compare the answers",
        magic=magics.replay,
    )
