"""The governance part of the client: who may do what to a model (mixed into ModelHubClient)."""

from __future__ import annotations

from urllib.parse import quote

from .. import display


class GovernanceMethods:
    """``permissions``, ``grant`` and ``revoke``."""

    def permissions(self, name: str) -> display.Permissions:
        """Who may do what to model ``name``: its creator, the grants, the admins, the default
        and your own permission."""
        return display.Permissions(self._call("GET", f"models/{quote(name, safe='')}/permissions"))

    def grant(self, name: str, principal: str, permission: str) -> display.Permissions:
        """Give ``principal`` (``user:NAME``, ``group:NAME``, ``everyone``; a bare name is a user)
        ``permission`` (``read``, ``write``, ``manage``; ``none`` with ``everyone`` closes the
        model to all it does not name) on model ``name``. Needs ``manage`` on it."""
        body = {"principal": principal, "permission": permission}
        return display.Permissions(self._call("PUT", f"models/{quote(name, safe='')}/permissions", json=body))

    def revoke(self, name: str, principal: str) -> display.Permissions:
        """Take ``principal``'s grant on model ``name`` away (for ``everyone``: the server's default again)."""
        return self.grant(name, principal, "default")
