"""A jupyter_server ``IdentityProvider`` with several users, each with a token of its own and
groups, for tests of who may do what (issue 21). Its users come from ``MODELHUB_TEST_USERS``:
``{"TOKEN": {"name": "bob", "groups": ["risk"]}, ...}``; any other credentials (the server's own
token, the login cookie) are jupyter_server's as usual.

A server started with ``--ServerApp.identity_provider_class=helpers.identities.TokenUsers``
needs this folder on its ``PYTHONPATH`` (``TEAM_ENV``).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_server.auth.identity import IdentityProvider, User

TEAM_ENV = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}


@dataclass
class GroupUser(User):
    groups: tuple[str, ...] = field(default_factory=tuple)


class TokenUsers(IdentityProvider):
    def get_user(self, handler):
        scheme, _, token = handler.request.headers.get("Authorization", "").partition(" ")
        users = json.loads(os.environ.get("MODELHUB_TEST_USERS", "{}"))
        person = users.get(token.strip()) if scheme.lower() == "token" else None
        if person is None:
            return super().get_user(handler)
        handler._token_authenticated = True  # a token request needs no XSRF header, as jupyter_server's own
        return GroupUser(username=person["name"], groups=tuple(person.get("groups", ())))


def team(**people: list[str]) -> tuple[dict[str, str], dict]:
    """Tokens for each person (``team(alice=[], bob=["risk"])``) and the server environment that
    knows them."""
    tokens = {name: secrets.token_hex(16) for name in people}
    users = {tokens[name]: {"name": name, "groups": groups} for name, groups in people.items()}
    return tokens, {**TEAM_ENV, "MODELHUB_TEST_USERS": json.dumps(users)}


PROVIDER = "--ServerApp.identity_provider_class=helpers.identities.TokenUsers"
