"""The webhooks and model cards part of the client (mixed into ModelHubClient)."""

from __future__ import annotations

from pathlib import Path

from .. import display


class WebhookMethods:
    """``create_webhook``, ``webhooks``, ``webhook``, ``delete_webhook``, ``test_webhook``,
    ``deliveries``, ``card`` and ``save_card``."""

    def create_webhook(
        self,
        url: str,
        events: list[str] | str | None = None,
        *,
        secret: str | None = None,
        model: str | None = None,
        description: str = "",
    ) -> display.WebhookInfo:
        """Send the history's entries (``events``, e.g. ``"version.registered,alias.moved"``; none: all) to
        ``url``, signed with ``secret`` (made by the server when left out: the answer holds it, once)."""
        if isinstance(events, str):
            events = [e for e in events.split(",") if e.strip()]
        body = {"url": url, "events": list(events or []), "secret": secret, "model": model, "description": description}
        return display.WebhookInfo(self._call("POST", "webhooks", json=body))

    def webhooks(self) -> display.WebhookList:
        return display.WebhookList(self._call("GET", "webhooks"))

    def webhook(self, webhook_id: int) -> display.WebhookInfo:
        return display.WebhookInfo(self._call("GET", f"webhooks/{int(webhook_id)}"))

    def delete_webhook(self, webhook_id: int) -> display.WebhookInfo:
        return display.WebhookInfo(self._call("DELETE", f"webhooks/{int(webhook_id)}"), deleted=True)

    def test_webhook(self, webhook_id: int) -> display.DeliveryList:
        """Send a test call now; the answer says how the receiver took it."""
        delivery = self._call("POST", f"webhooks/{int(webhook_id)}/test")
        return display.DeliveryList({"webhook": int(webhook_id), "deliveries": [delivery]})

    def deliveries(self, webhook_id: int, status: str | None = None, limit: int = 50) -> display.DeliveryList:
        params = {"limit": limit, **({"status": status} if status else {})}
        return display.DeliveryList(self._call("GET", f"webhooks/{int(webhook_id)}/deliveries", params=params))

    def card(self, ref: str, save: str | Path | None = None) -> display.ModelCard:
        """The model card of version ``ref`` (``churn:3``, ``churn@production``); with ``save``, also
        written to that file (Markdown, or HTML for a name ending in .html)."""
        card = display.ModelCard(self._call("GET", f"{self._version_path(ref)}/card"))
        if save is not None:
            path = Path(save).expanduser()
            path.write_text(card["html"] if path.suffix.lower() in (".html", ".htm") else card["markdown"])
            card.__dict__["saved"] = str(path)
        return card

    def save_card(self, ref: str, markdown: str) -> display.ModelCard:
        """Keep the written sections (intended use, limitations...) of an edited card."""
        return display.ModelCard(self._call("PUT", f"{self._version_path(ref)}/card", json={"markdown": markdown}))
