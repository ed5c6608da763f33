"""The Python client of the REST API, and discovery of the server to talk to.

Magics, the command line and users' own scripts all go through ``ModelHubClient``; it never opens
the database or the artifact folders itself.
"""

from .discovery import connect
from .http import ModelHubClient

__all__ = ["ModelHubClient", "connect"]
