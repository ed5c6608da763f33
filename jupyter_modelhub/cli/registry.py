"""Models and versions from the shell: ``models``, ``show``, ``register``, ``download``, ``tag``,
``alias``, ``archive``, ``restore``, ``delete`` and ``convert``, with the flags of the registry
magics and ``%convert`` (``--sample`` is a JSON or CSV file here, not a Python expression)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..display import Conversion
from ..magics.base import json_or_text, pairs
from ..magics.convert import ConvertMagics
from ..magics.registry import RegistryMagics, filter_text
from .base import SAMPLE_FILE, CommandError, Commands, hub, read_data, ref, sample_rows, show, wait


def models(args: argparse.Namespace) -> None:
    show(
        args,
        hub(args).models(
            filter=filter_text(args.filter),
            q=args.name,
            flavor=args.flavor,
            archived=args.archived,
            page=args.page,
            per_page=args.per_page,
        ),
    )


def show_model(args: argparse.Namespace) -> None:
    parsed = ref(args.ref)
    client = hub(args)
    whole = parsed.version is None and parsed.alias is None
    show(args, client.model(parsed.name) if whole else client.version(str(parsed)))


def register(args: argparse.Namespace) -> None:
    missing = [p for p in args.source if not Path(p).expanduser().exists()]
    if missing:
        raise CommandError(f"No file or folder {missing[0]!r} to register (relative paths start at {Path.cwd()}).")
    sample = sample_rows(read_data(args.sample, "--sample")) if args.sample else None
    properties = {k: json_or_text(v) for k, v in pairs(args.property, "--property").items()}
    show(
        args,
        hub(args).register(
            args.name,
            [str(Path(p).expanduser()) for p in args.source],
            sample=sample,
            flavor=args.flavor,
            description=args.description,
            tags=pairs(args.tag, "--tag"),
            properties=properties,
            new_version=args.new_version,
            derived_from=args.derived_from,
        ),
    )


def download(args: argparse.Namespace) -> None:
    show(args, hub(args).download(str(ref(args.ref)), to=args.to, path=args.path))


def tag(args: argparse.Namespace) -> None:
    changes: dict[str, str | None] = dict(pairs(args.tags, "tag"))
    changes.update({key: None for key in args.remove})
    if not changes:
        raise CommandError("Nothing to change: give NAME=VALUE tags to set or --remove NAME.")
    show(args, hub(args).tag(str(ref(args.ref)), changes))


def alias(args: argparse.Namespace) -> None:
    target = ref(args.target)
    client = hub(args)
    if args.rollback:
        if target.alias is None:
            raise CommandError("With --rollback, name the alias as NAME@ALIAS, e.g. churn@production.")
        return show(args, client.rollback_alias(target.name, target.alias))
    if args.delete:
        if target.alias is None:
            raise CommandError("With --delete, name the alias as NAME@ALIAS, e.g. churn@production.")
        client.delete_alias(target.name, target.alias)
        return show(args, {"removed": str(target)} if args.json else f"Removed alias {target}.")
    if not args.alias:
        raise CommandError("Give the alias name: jupyter modelhub alias churn:2 production.")
    version = target.version if target.version is not None else client.version(str(target))["version"]
    show(args, client.set_alias(target.name, args.alias, version))


def archive(args: argparse.Namespace) -> None:
    show(args, hub(args).archive(str(ref(args.ref))))


def restore(args: argparse.Namespace) -> None:
    show(args, hub(args).restore(str(ref(args.ref))))


def delete(args: argparse.Namespace) -> None:
    target = ref(args.ref)
    if args.all:
        if target.version is not None or target.alias is not None:
            raise CommandError("--all deletes a whole model: give its NAME alone.")
        return show(args, hub(args).delete_model(target.name))
    if target.version is None and target.alias is None:
        raise CommandError(f"Name a version ({target.name}:3) or pass --all to delete the whole model {target.name!r}.")
    show(args, hub(args).delete(str(target)))


def convert(args: argparse.Namespace) -> None:
    sample = sample_rows(read_data(args.sample, "--sample")) if args.sample else None
    version = str(ref(args.ref))
    operation = hub(args).convert(
        version,
        to=args.to,
        sample=sample,
        opset=args.opset,
        dtype=args.dtype,
        tolerance=args.tolerance,
        force=args.force,
        wait=False,
    )
    show(args, operation if args.no_wait else Conversion(wait(operation, f"convert {version}")))


def add_commands(commands: Commands) -> None:
    magics = RegistryMagics
    commands.add("models", models, "list models, newest first; FILTER as team=growth stage!=dev", magic=magics.models)
    commands.add(
        "show",
        show_model,
        "a model (NAME: versions, aliases) or a version (NAME:V, NAME@ALIAS)",
        magic=magics.model,
        aliases=["model"],
    )
    commands.add(
        "register",
        register,
        "register files or folders as a new version",
        magic=magics.register,
        change={
            "source": {
                "help": "files or folders (.onnx, .joblib/.pkl, an MLflow model folder, anything else as 'custom')"
            },
            "--sample": SAMPLE_FILE,
        },
    )
    commands.add(
        "download", download, "download a version's files, each checked against its sha256", magic=magics.download
    )
    commands.add(
        "tag", tag, "set or remove a version's tags: tag churn:2 stage=prod --remove candidate", magic=magics.tag
    )
    commands.add(
        "alias", alias, "point an alias at a version (alias churn:2 production), or --delete it", magic=magics.alias
    )
    commands.add("archive", archive, "hide a version from default listings (it stays usable)", magic=magics.archive)
    commands.add("restore", restore, "undo archive", magic=magics.restore)
    commands.add("delete", delete, "delete a version, or with --all a whole model", magic=magics.delete)
    commands.add(
        "convert",
        convert,
        "convert a scikit-learn version to ONNX, proven equivalent and timed",
        magic=ConvertMagics.convert,
        change={"--sample": SAMPLE_FILE},
    )
