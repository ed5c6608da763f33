"""REST handlers of promotions: a version's checks per alias under promotion rules, and the
evidence that passes them (evaluations, parity reports, approvals). Thin: ``registry.promotions``
does the work."""

from __future__ import annotations

from ..refs import parse_url_version
from . import schemas
from .base import ModelHubHandler, route


class PromotionHandler(ModelHubHandler):
    @route
    async def get(self, name: str, version: str):
        """The version's checks for every alias under rules, and its evidence."""
        await self.require(name, "read")
        self.reply(
            await self.run(self.settings["modelhub_promotions"].promotion, str(parse_url_version(name, version)))
        )


class EvidenceHandler(ModelHubHandler):
    @route
    async def post(self, name: str, version: str):
        """Record an evaluation, a parity report or an approval of the version (201, its checks)."""
        await self.require(name, "write", "record evidence for a version of it")
        request = self.body(schemas.EvidenceRequest)
        payload = request.model_dump(exclude_none=True, exclude={"kind", "alias"})
        promotion = await self.run(
            self.settings["modelhub_promotions"].record,
            str(parse_url_version(name, version)),
            request.kind,
            payload,
            self.user_name,
            alias=request.alias,
        )
        self.reply(promotion, status=201)
