"""Images and environments from the shell: ``package``, ``images``, ``image``, ``envs``, ``env``
and ``parity``, with the flags of the packaging magics. ``parity`` compares the endpoint or
image with this Python (the magic compares it with the kernel) and exits 1 when they differ,
so CI can gate on it."""

from __future__ import annotations

import argparse

from ..display import ImageInfo, Operation
from ..magics.packaging import PackagingMagics, package_options
from .base import REFUSED, CommandError, Commands, hub, ref, show, wait


def package(args: argparse.Namespace) -> None:
    answer = hub(args).package(str(ref(args.model)), **package_options(args))
    if isinstance(answer, Operation) and not args.no_wait:
        answer = ImageInfo(wait(answer, f"package {args.model}"))
    show(args, answer)


def images(args: argparse.Namespace) -> None:
    show(args, hub(args).images(args.model))


def image(args: argparse.Namespace) -> None:
    client = hub(args)
    if args.delete and args.push:
        raise CommandError("Give --delete or --push, not both.")
    if args.push:
        answer = client.push_image(args.image, args.push, wait=False)
        show(args, answer if args.no_wait else ImageInfo(wait(answer, f"push {args.image}")))
        return
    show(args, client.delete_image(args.image) if args.delete else client.image(args.image))


def envs(args: argparse.Namespace) -> None:
    show(args, hub(args).environments(args.name))


def env(args: argparse.Namespace) -> None:
    words = args.words
    if words[0] == "create":
        if len(words) != 2:
            raise CommandError("Give the new environment's name: jupyter modelhub env create NAME --requirements FILE.")
        if not args.requirements and not args.conda:
            raise CommandError("env create needs --requirements FILE or --conda FILE.")
        return show(
            args,
            hub(args).create_environment(
                words[1],
                requirements=args.requirements,
                conda=args.conda,
                python=args.python,
                base_image=args.base_image,
            ),
        )
    if len(words) != 1:
        raise CommandError("Name one environment: jupyter modelhub env NAME[:VERSION].")
    show(args, hub(args).environment(words[0]))


def parity(args: argparse.Namespace) -> None:
    result = hub(args).parity(args.target, tolerance=args.tolerance)
    show(args, result)
    if not result["same"]:
        raise CommandError(f"parity of {result['ref']}: {result.verdict()}", REFUSED)


def add_commands(commands: Commands) -> None:
    magics = PackagingMagics
    commands.add(
        "package", package, "build a serving image of a model (or --context: its build context)", magic=magics.package
    )
    commands.add("images", images, "list built images, newest first", magic=magics.images)
    commands.add(
        "image",
        image,
        "one image with its build report and pushes; --push REGISTRY/REPO[:TAG] pushes it; --delete removes it "
        "(the record, and the engine image unless another record uses it)",
        magic=magics.image,
    )
    p = commands.add("envs", envs, "list environments (name:version, Python, base image, packages)")
    p.add_argument("name", nargs="?", help="only the versions of this environment")
    commands.add(
        "env", env, "show an environment (env NAME[:V]) or make one (env create NAME -r FILE)", magic=magics.env
    )
    commands.add(
        "parity", parity, "this Python against an endpoint or image: same answers? (exit 1 if not)", magic=magics.parity
    )
