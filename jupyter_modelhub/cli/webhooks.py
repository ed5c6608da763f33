"""Webhooks and model cards from the shell: ``webhook`` and ``card``, with the arguments of the
magics of the same names."""

from __future__ import annotations

import argparse

from ..magics.webhooks import WebhookMagics
from .base import CommandError, Commands, hub, show


def webhook(args: argparse.Namespace) -> None:
    client = hub(args)
    if args.action == "list":
        show(args, client.webhooks())
        return
    if not args.target:
        raise CommandError(f"webhook {args.action} needs {'a URL' if args.action == 'create' else 'a webhook id'}.")
    if args.action == "create":
        created = client.create_webhook(
            args.target, args.events, secret=args.secret, model=args.model, description=args.description
        )
        show(args, created)
        return
    if not args.target.isdigit():
        raise CommandError(f"A webhook id is a whole number (jupyter modelhub webhook list), not {args.target!r}.")
    number = int(args.target)
    if args.action == "delete":
        show(args, client.delete_webhook(number))
    elif args.action == "test":
        show(args, client.test_webhook(number))
    else:
        show(args, client.deliveries(number, args.status, args.limit))


def card(args: argparse.Namespace) -> None:
    client = hub(args)
    if args.edit:
        try:
            with open(args.edit) as f:
                client.save_card(args.ref, f.read())
        except OSError as exc:
            raise CommandError(f"Cannot read {args.edit!r}: {exc.strerror}.") from None
    show(args, client.card(args.ref, save=args.save))


def add_commands(commands: Commands) -> None:
    magics = WebhookMagics
    commands.add(
        "webhook", webhook, "send the history's changes to a URL, signed; list, test, delete", magic=magics.webhook
    )
    commands.add("card", card, "a version's model card (Markdown), saved or edited", magic=magics.card)
