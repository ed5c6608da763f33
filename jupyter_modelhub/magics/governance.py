"""The governance magics: ``%permissions``, ``%grant``, ``%revoke``, ``%history``, and the
evidence promotions need: ``%evaluate``, ``%approve``, ``%promotion``.

Who may do what to a model: ``read``, ``write`` (register, tag, alias, deploy, package, batch)
and ``manage`` (delete, permissions), granted to ``user:NAME``, ``group:NAME`` or ``everyone``.
The server checks them on every request, so these only show and change the grants.
"""

from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .base import ModelHubMagics

PRINCIPAL_HELP = "user:NAME, group:NAME or everyone (a bare NAME is a user)"


def history_options(args) -> dict:
    """The client's history filters from %history's (and the CLI's) arguments."""
    return {
        "endpoint": True if args.endpoint or args.at else None,
        "action": args.action,
        "user": args.user,
        "since": args.since,
        "until": args.until,
        "at": args.at,
        "limit": args.limit,
    }


@magics_class
class GovernanceMagics(ModelHubMagics):
    @magic_arguments()
    @argument("name", help="model name")
    @line_magic
    def permissions(self, line: str):
        """Who may do what to a model: ``%permissions churn``."""
        return self._call(self.hub.permissions, self._parse(self.permissions, line).name)

    @magic_arguments()
    @argument("name", help="model name")
    @argument("principal", help=PRINCIPAL_HELP)
    @argument(
        "permission",
        choices=["read", "write", "manage", "none"],
        help="read; write (register, tag, alias, deploy, package, batch); manage (delete, permissions); "
        "none with everyone closes the model to all it does not name",
    )
    @line_magic
    def grant(self, line: str):
        """Give a user, a group or everyone a permission on a model: ``%grant churn group:risk read``."""
        args = self._parse(self.grant, line)
        return self._call(self.hub.grant, args.name, args.principal, args.permission)

    @magic_arguments()
    @argument("name", help="model name")
    @argument("principal", help=PRINCIPAL_HELP + "; everyone goes back to the server's default")
    @line_magic
    def revoke(self, line: str):
        """Take a grant away: ``%revoke churn group:risk``."""
        args = self._parse(self.revoke, line)
        return self._call(self.hub.revoke, args.name, args.principal)

    @magic_arguments()
    @argument("name", help="a model (its versions, aliases, permissions, deployments) or an endpoint")
    @argument("--endpoint", action="store_true", help="NAME is an endpoint (default: a model, else an endpoint)")
    @argument("--action", help="only these actions, comma-separated: e.g. alias.moved,traffic.changed")
    @argument("--user", help="only this user's changes")
    @argument("--since", help="from this time on: 2026-12-01T14:00 (UTC unless a zone is given), or an age: 1h, 7d")
    @argument("--until", help="up to this time (as --since)")
    @argument("--at", help="endpoints: what served it at this time, and the changes up to then")
    @argument("--limit", type=int, help="at most this many entries (default 100)")
    @line_magic
    def history(self, line: str):
        """Who changed what, when, from where, with old and new values: ``%history churn``,
        ``%history churn-ep --at 2026-12-01T14:00``."""
        args = self._parse(self.history, line)
        return self._call(self.hub.history, args.name, **history_options(args))

    @magic_arguments()
    @argument("ref", help="the version evaluated: NAME:VERSION")
    @argument("--data", required=True, help="a DataFrame's name, or a .csv, .parquet or .json file")
    @argument("--target", required=True, help="the label column")
    @argument("--against", help="the version compared with on the same data, e.g. churn@production")
    @line_magic
    def evaluate(self, line: str):
        """Score a version (and the one it would replace) on data, in this kernel, and record the
        metrics for promotions: ``%evaluate churn:4 --data holdout.parquet --target y --against churn@production``."""
        args = self._parse(self.evaluate, line)
        data = self.shell.user_ns.get(args.data, args.data) if self.shell is not None else args.data
        return self._call(self.hub.evaluate, args.ref, data, args.target, against=args.against)

    @magic_arguments()
    @argument("ref", help="NAME:VERSION")
    @argument("alias", help="the alias it is approved for, e.g. production")
    @line_magic
    def approve(self, line: str):
        """Approve a version for an alias (not your own): ``%approve churn:4 production``."""
        args = self._parse(self.approve, line)
        return self._call(self.hub.approve, args.ref, args.alias)

    @magic_arguments()
    @argument("ref", help="NAME:VERSION")
    @line_magic
    def promotion(self, line: str):
        """A version's checks for every alias under promotion rules: ``%promotion churn:4``."""
        return self._call(self.hub.promotion, self._parse(self.promotion, line).ref)
