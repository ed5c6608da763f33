"""The base of the services' response models, and the one answer they share (``Deleted``).

Each service keeps its own response models beside it (``registry.views``, ``operations.views``,
...): the service builds them, the handlers serialise them, and the OpenAPI document is generated
from them (``api.schemas`` re-exports them). A leaf module like ``errors``: it imports nothing of
the package, so ``operations/`` and every service can build on it.
"""

from __future__ import annotations

from pydantic import BaseModel


class View(BaseModel):
    """A response: ``as_dict`` is what a client receives as JSON (a field that was never set, such
    as ``used_by`` on a search result, stays absent rather than null)."""

    def as_dict(self) -> dict:
        return self.model_dump(exclude_unset=True)


class Deleted(View):
    deleted: list[str]
