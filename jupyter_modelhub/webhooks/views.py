"""What the webhook routes answer, as pydantic models (``api.schemas`` re-exports them)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field

from ..views import View


class Webhook(View):
    id: int
    url: str
    events: list[str]
    model: Optional[str] = Field(description="the one model it is limited to; null: every model its owner may read")
    owner: str = Field(description="whose permissions decide what it is sent")
    description: str
    created_time: str
    pending: int = Field(description="deliveries not yet made (waiting for a first or another attempt)")
    failed: int = Field(description="deliveries given up after the last attempt")
    last_delivery: Optional[str] = Field(description="when the newest delivery succeeded; null if none has")
    secret: Optional[str] = Field(
        None, description="the signing secret: only in the answer to the request that created the webhook"
    )


class WebhookList(View):
    webhooks: list[Webhook]


class Delivery(View):
    id: int = Field(description="also sent as X-Modelhub-Delivery: the same on every retry, for receivers to dedupe")
    entry_id: Optional[int] = Field(description="the history entry delivered; null for a test call")
    event: str
    status: str = Field(description="pending, sending, delivered or failed (gave up)")
    attempts: int
    last_status: Optional[int] = Field(description="the receiver's HTTP status at the last attempt")
    last_error: str
    created_time: str
    last_time: Optional[str] = Field(description="when the last attempt was made")
    next_time: Optional[str] = Field(description="when the next attempt is due (pending only)")
    delivered_time: Optional[str]
    payload: dict[str, Any]


class DeliveryList(View):
    webhook: int
    deliveries: list[Delivery] = Field(description="newest first")
