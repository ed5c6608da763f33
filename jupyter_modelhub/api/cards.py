"""REST handler of model cards (``models/{name}/versions/{version}/card``): the card generated
from the registry as JSON (Markdown and HTML), or as a Markdown or HTML document to download
(``format=md|html``); ``PUT`` keeps the written sections of an edited card. Thin: parse, call
``registry.cards`` off the loop, reply. Its path is in ``routes``.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..refs import parse_url_version
from ..registry.cards import ModelCards
from . import schemas
from .base import ModelHubHandler, route

DOCUMENTS = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


class CardHandler(ModelHubHandler):
    @property
    def cards(self) -> ModelCards:
        return ModelCards(self.registry)

    @route
    async def get(self, name: str, version: str):
        """The card; format=md or html answers the document itself (to save as a file)."""
        await self.require(name, "read")
        kind = self.query_text("format", "json", limit=8)
        if kind not in ("json", *DOCUMENTS):
            raise InvalidInput(f"Query parameter 'format' must be json, md or html, not {kind!r}.")
        card = await self.run(self.cards.card, parse_url_version(name, version))
        if kind == "json":
            self.reply(card)
            return
        self.set_header("Content-Disposition", f'attachment; filename="{card.ref.replace(":", "-")}-card.{kind}"')
        self.finish(card.markdown if kind == "md" else card.html, set_content_type=DOCUMENTS[kind])

    @route
    async def put(self, name: str, version: str):
        """Keep the written sections (intended use, limitations...) of the card sent as Markdown."""
        await self.require(name, "write", "write its model card")
        request = self.body(schemas.CardRequest)
        self.reply(
            await self.run(self.cards.save, parse_url_version(name, version), request.markdown, user=self.user_name)
        )
