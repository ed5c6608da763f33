"""The governance magics: ``%permissions``, ``%grant``, ``%revoke``.

Who may do what to a model: ``read``, ``write`` (register, tag, alias, deploy, package, batch)
and ``manage`` (delete, permissions), granted to ``user:NAME``, ``group:NAME`` or ``everyone``.
The server checks them on every request, so these only show and change the grants.
"""

from __future__ import annotations

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .base import ModelHubMagics

PRINCIPAL_HELP = "user:NAME, group:NAME or everyone (a bare NAME is a user)"


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
