"""Webhooks and model cards: what their routes take, and what they answer (the models of
``webhooks.views`` and ``registry.cards``, re-exported here)."""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import Field, StringConstraints

from ...registry.cards import CARD_LIMIT, ModelCard
from ...webhooks import EVENTS
from ...webhooks.views import Delivery, DeliveryList, Webhook, WebhookList
from .common import MAX_NAME, NAME_PATTERN, Strict, text

ModelName = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=MAX_NAME)]


class WebhookRequest(Strict):
    """a URL to send the history's entries to, signed with a secret"""

    url: text(2048) = Field(description="http:// or https:// URL that receives a POST per entry")
    events: list[text(64)] = Field(
        default_factory=list,
        max_length=len(EVENTS),
        description="the actions to send (none: all): " + ", ".join(EVENTS),
    )
    secret: Optional[text(256)] = Field(
        None,
        description="signs each body (X-Modelhub-Signature: sha256=HMAC); 16 characters or more. Left out: the "
        "server makes one, answered once",
    )
    model: Optional[ModelName] = Field(None, description="only this model's entries (one you may read)")
    description: text(512) = ""


class CardRequest(Strict):
    """the card as Markdown: its written sections (intended use, limitations...) are kept"""

    markdown: text(CARD_LIMIT)


SCHEMAS = [WebhookRequest, Webhook, WebhookList, Delivery, DeliveryList, CardRequest, ModelCard]
