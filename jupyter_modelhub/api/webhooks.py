"""REST handlers of webhooks (``webhooks``, ``webhooks/{id}``, ``.../test``, ``.../deliveries``).
Thin: parse, call ``webhooks.service`` off the loop, reply. Their paths are in ``routes``.
"""

from __future__ import annotations

import asyncio

from ..errors import Unavailable
from . import schemas
from .base import ModelHubHandler, route


class WebhookHandlerBase(ModelHubHandler):
    @property
    def webhooks(self):
        return self.settings["modelhub_webhooks"]


class WebhooksHandler(WebhookHandlerBase):
    @route
    async def get(self):
        """Your webhooks (an admin's: everyone's)."""
        self.reply(await self.run(self.webhooks.list, self.actor))

    @route
    async def post(self):
        """A new webhook; the answer holds its secret, the only time it is shown."""
        request = self.body(schemas.WebhookRequest)
        self.reply(await self.run(self.webhooks.create, self.actor, **request.model_dump()), status=201)


class WebhookHandler(WebhookHandlerBase):
    @route
    async def get(self, webhook_id: str):
        self.reply(await self.run(self.webhooks.get, self.actor, self.parse_id("webhook id", webhook_id)))

    @route
    async def delete(self, webhook_id: str):
        """Remove the webhook, its delivery log and the deliveries not made yet."""
        self.reply(await self.run(self.webhooks.delete, self.actor, self.parse_id("webhook id", webhook_id)))


class WebhookTestHandler(WebhookHandlerBase):
    @route
    async def post(self, webhook_id: str):
        """Send a test call now (one attempt) and answer how it went; it is in the delivery log too."""
        number = self.parse_id("webhook id", webhook_id)
        delivery = await self.run(self.webhooks.add_test, self.actor, number)
        sent = await self.run(self.webhooks.dispatcher.send, delivery)
        if sent is None:
            raise Unavailable("Webhooks are not being sent by this server now (it is stopping); try again.")
        await asyncio.wrap_future(sent)  # on the dispatcher's threads: the request holds no pool thread
        self.reply(await self.run(self.webhooks.delivery, self.actor, number, delivery))


class WebhookDeliveriesHandler(WebhookHandlerBase):
    @route
    async def get(self, webhook_id: str):
        """The webhook's deliveries, newest first: status, attempts, last error, times."""
        number = self.parse_id("webhook id", webhook_id)
        status = self.query_text("status", "", limit=16) or None
        limit = self.query_int("limit", 50, minimum=1, maximum=1000)
        self.reply(await self.run(self.webhooks.deliveries, self.actor, number, status, limit))
