"""The magics of webhooks and model cards: ``%webhook`` and ``%card``.

``%webhook create URL --events version.registered,alias.moved --secret ...`` sends the history's
entries to a URL, signed (HMAC-SHA256 of the body in ``X-Modelhub-Signature``); ``%webhook list``,
``%webhook delete ID``, ``%webhook test ID`` and ``%webhook deliveries ID`` follow them. ``%card
churn:3`` shows a version's model card (``--save card.md`` writes it, ``--edit card.md`` keeps the
sections written in an edited copy).
"""

from __future__ import annotations

from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..webhooks import EVENTS
from .base import ModelHubMagics

ACTIONS = ("create", "list", "delete", "test", "deliveries")


@magics_class
class WebhookMagics(ModelHubMagics):
    @magic_arguments()
    @argument("action", choices=ACTIONS, help="what to do")
    @argument("target", nargs="?", help="create: the http(s) URL; delete, test, deliveries: the webhook's id")
    @argument("--events", help="create: comma-separated, among " + ", ".join(EVENTS) + " (default: all)")
    @argument(
        "--secret", help="create: the signing secret, 16+ characters (default: one made by the server, shown once)"
    )
    @argument("--model", help="create: only this model's entries")
    @argument("--description", default="", help="create: what it is for")
    @argument("--status", choices=["pending", "sending", "delivered", "failed"], help="deliveries: only these")
    @argument("--limit", type=int, default=50, help="deliveries: at most this many (newest first)")
    @line_magic
    def webhook(self, line: str):
        """Webhooks: ``%webhook create https://hooks.example/modelhub --events alias.moved``, ``%webhook
        list``, ``%webhook test 1``, ``%webhook deliveries 1``, ``%webhook delete 1``."""
        args = self._parse(self.webhook, line)
        if args.action == "list":
            return self._call(self.hub.webhooks)
        if not args.target:
            raise UsageError(
                f"%webhook {args.action} needs {'a URL' if args.action == 'create' else 'a webhook id (%webhook list)'}."
            )
        if args.action == "create":
            return self._call(
                self.hub.create_webhook,
                args.target,
                args.events,
                secret=args.secret,
                model=args.model,
                description=args.description,
            )
        if not args.target.isdigit():
            raise UsageError(f"A webhook id is a whole number (%webhook list shows them), not {args.target!r}.")
        number = int(args.target)
        if args.action == "delete":
            return self._call(self.hub.delete_webhook, number)
        if args.action == "test":
            return self._call(self.hub.test_webhook, number)
        return self._call(self.hub.deliveries, number, args.status, args.limit)

    @magic_arguments()
    @argument("ref", help="the version: churn:3, churn@production, or churn (its newest)")
    @argument("--save", help="also write the card to this file (Markdown; HTML for a name ending in .html)")
    @argument("--edit", help="a Markdown file of the card with its written sections filled in: keep them")
    @line_magic
    def card(self, line: str):
        """A version's model card, from what the registry knows: ``%card churn:3 --save card.md``."""
        args = self._parse(self.card, line)
        if args.edit:
            path = Path(args.edit).expanduser()
            if not path.is_file():
                raise UsageError(f"No file {args.edit!r} (relative paths start at {Path.cwd()}).")
            card = self._call(self.hub.save_card, args.ref, path.read_text())
            return self._call(self.hub.card, args.ref, save=args.save) if args.save else card
        return self._call(self.hub.card, args.ref, save=args.save)
