"""How webhooks, their deliveries and model cards show in the notebook (``%webhook``, ``%card``).
A webhook's secret is shown only by the answer that created it (the server never answers it again)."""

from __future__ import annotations

from html import escape

from .base import STYLE, Listing, Result, state_html

DELIVERY_STATES = {"delivered": "healthy", "failed": "failed", "pending": "updating", "sending": "updating"}


class WebhookInfo(Result):
    """One webhook; right after its creation, with its secret."""

    def __init__(self, data: dict, deleted: bool = False):
        super().__init__(data)
        self.__dict__["deleted"] = deleted

    def line(self) -> str:
        scope = f"model {self['model']}" if self.get("model") else "all models you may read"
        return (
            f"webhook {self['id']}: {self['url']} ({scope}; owner {self['owner']}) "
            f"events {','.join(self['events'])}; pending {self['pending']}, failed {self['failed']}"
        )

    def text(self) -> str:
        lines = [("deleted " if self.deleted else "") + self.line()]
        if self.get("secret"):
            lines.append(f"secret (shown once; keep it where the receiver reads it): {self['secret']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        secret = f"<div>secret (shown once): <code>{escape(self['secret'])}</code></div>" if self.get("secret") else ""
        return f'{STYLE}<div class="mh-card">{"<b>deleted</b> " if self.deleted else ""}{escape(self.line())}{secret}</div>'


class WebhookList(Listing):
    items = "webhooks"

    def text(self) -> str:
        return "\n".join(WebhookInfo(w).line() for w in self["webhooks"]) or "no webhooks"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{w['id']}</td><td>{escape(w['url'])}</td><td>{escape(w['model'] or 'all')}</td>"
            f"<td>{escape(', '.join(w['events']))}</td><td>{w['pending']}</td><td>{w['failed']}</td>"
            f"<td>{escape(w['last_delivery'] or '-')}</td></tr>"
            for w in self["webhooks"]
        )
        return (
            f'{STYLE}<div class="mh-card"><table><tr><th>id</th><th>url</th><th>model</th><th>events</th>'
            f"<th>pending</th><th>failed</th><th>last delivered</th></tr>{rows}</table></div>"
        )


class DeliveryList(Listing):
    items = "deliveries"

    @staticmethod
    def line(d: dict) -> str:
        outcome = d["last_error"] or (f"HTTP {d['last_status']}" if d["last_status"] else "")
        when = d["delivered_time"] or d["last_time"] or d["created_time"]
        return f"#{d['id']} {d['event']} {d['status']} after {d['attempts']} attempt(s) {when} {outcome}".rstrip()

    def text(self) -> str:
        return "\n".join(self.line(d) for d in self["deliveries"]) or f"webhook {self['webhook']}: no deliveries"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{d['id']}</td><td>{escape(d['event'])}</td>"
            f"<td>{state_html(DELIVERY_STATES.get(d['status'], d['status']), d['status'])}</td>"
            f"<td>{d['attempts']}</td><td>{escape(str(d['last_status'] or ''))}</td>"
            f"<td class='mh-muted'>{escape(d['last_error'])}</td>"
            f"<td>{escape(d['delivered_time'] or d['last_time'] or d['created_time'])}</td></tr>"
            for d in self["deliveries"]
        )
        return (
            f'{STYLE}<div class="mh-card"><b>webhook {self["webhook"]}</b><table><tr><th>delivery</th><th>event</th>'
            f"<th>status</th><th>attempts</th><th>HTTP</th><th>last error</th><th>when</th></tr>{rows}</table></div>"
        )


class ModelCard(Result):
    """A version's model card: the Markdown as text, rendered in the notebook."""

    def text(self) -> str:
        saved = self.__dict__.get("saved")
        return self["markdown"] + (f"\n(saved to {saved})" if saved else "")

    def _repr_markdown_(self) -> str:
        return self["markdown"]

    def _repr_html_(self) -> str:
        unknown = (
            f"<div class='mh-muted'>unknown to the registry: {escape(', '.join(self['unknown']))}</div>"
            if self["unknown"]
            else ""
        )
        return f'{STYLE}<div class="mh-card">{self["html"]}{unknown}</div>'
