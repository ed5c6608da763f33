"""Results of operations: one operation as a handle (``.wait()``, ``.cancel()``, ``.log()``) and
the list ``%operations`` shows."""

from __future__ import annotations

from datetime import datetime
from html import escape

from ..errors import OperationFailed, error_from_body
from .base import STYLE, Listing, Result, state_html

_OUTCOME = {
    "succeeded": "healthy",
    "failed": "failed",
    "cancelled": "stopped",
    "running": "updating",
    "queued": "creating",
}


def progress_text(operation: dict) -> str:
    """``2/5 steps: checking equivalence``, or the place in the queue (``position 2 in the
    queue``). Never the status itself: every caller shows the status beside it, and the store's
    first message is "queued", which would say it twice ("queued queued")."""
    if operation["status"] == "queued":
        place = operation.get("queue_position")
        return f"position {place} in the queue" if place else ""
    progress = operation.get("progress") or {}
    done, total, unit = progress.get("done"), progress.get("total"), progress.get("unit") or ""
    count = (
        f"{done}/{total} {singular(unit) if total == 1 else unit}".strip()
        if total
        else (f"{done} {unit}".strip() if done else "")
    )
    message = progress.get("message") or ""
    if message == operation["status"] or message == "queued":  # the status, or the store's first message
        message = ""
    return ": ".join(part for part in (count, message) if part)


def singular(unit: str) -> str:
    """``mini-batches`` -> ``mini-batch``, ``steps`` -> ``step``: a progress unit for a total of one."""
    if unit.endswith(("ches", "shes", "sses", "xes")):
        return unit[:-2]
    return unit[:-1] if unit.endswith("s") else unit


def duration(operation: dict) -> float | None:
    """Seconds from start to end (or to now while it runs).

    While it runs, "now" is this machine's clock, which may be behind the server's: the server's
    own latest time in the answer (when the worker last reported) is a floor, so the estimate
    never falls below what the server has already seen."""
    if not operation.get("started_time"):
        return None
    start = _time(operation["started_time"])
    if operation.get("ended_time"):
        return max(0.0, (_time(operation["ended_time"]) - start).total_seconds())
    seconds = (datetime.utcnow() - start).total_seconds()
    reported = (operation.get("progress") or {}).get("updated_time")
    if reported:
        seconds = max(seconds, (_time(reported) - start).total_seconds())
    return max(0.0, seconds)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.rstrip("Z"))


def link_text(operation: dict) -> str:
    link = operation.get("link") or {}
    return link.get("ref") or link.get("name") or link.get("tag") or ""


class Operation(Result):
    """A long-running piece of work on the server (a conversion, a deploy that builds, ...)."""

    def __init__(self, data: dict, client=None):
        super().__init__(data)
        self._client = client

    def refresh(self) -> Operation:
        """Fetch the current state from the server."""
        self._replace(self._client.operation(self["id"]))
        return self

    def wait(self, timeout: float | None = None, progress=None) -> Operation:
        """Wait until it ends (no limit by default: long work is not cut short by a client timeout).
        ``progress`` is called with the operation's state at every poll."""

        def seen(state: dict) -> None:
            self._replace(state)
            if progress is not None:
                progress(self)

        self._client.wait_for(self["id"], timeout=timeout, progress=seen)
        return self

    def cancel(self) -> Operation:
        """Stop it and what it started; raises Conflict if it already ended."""
        self._replace(self._client.cancel_operation(self["id"]))
        return self

    def log(self, tail: int = 100) -> str:
        return self._client.operation_log(self["id"], tail)

    def _replace(self, state: dict) -> None:
        """Take the server's newer state (the handle stays the same object the user holds)."""
        self.clear()
        self.update(state)

    def outcome(self) -> dict:
        """The result of a succeeded operation; otherwise the error it ended with, raised as the
        same typed error a direct call would raise (a refused conversion carries its report)."""
        if self["status"] == "succeeded":
            return self["result"]
        if self["active"]:
            raise OperationFailed(f"Operation {self['id']} is still {self['status']}.")
        raise error_from_body(self.get("error") or {"message": f"Operation {self['id']} {self['status']}."})

    def text(self) -> str:
        line = f"operation {self['id']} {self['kind']} {self['subject']}: {self['status']}"
        detail = progress_text(self) if self["active"] else ""
        seconds = duration(self)
        if detail:
            line += f"  {detail}"
        if seconds is not None and not self["active"]:
            line += f" in {seconds:.1f} s"
        if self["status"] == "succeeded" and link_text(self):
            line += f" -> {link_text(self)}"
        if self.get("error"):
            line += f"\n  {self['error']['message']}"
        return line

    def _repr_html_(self) -> str:
        detail = escape(progress_text(self)) if self["active"] else ""
        result = (
            f" &rarr; <b>{escape(link_text(self))}</b>" if self["status"] == "succeeded" and link_text(self) else ""
        )
        error = f'<div style="color:#c62828">{escape(self["error"]["message"])}</div>' if self.get("error") else ""
        return (
            f'{STYLE}<div class="mh-card">operation <b>{self["id"]}</b> {escape(self["kind"])} '
            f"<code>{escape(self['subject'])}</code> {state_html(_OUTCOME.get(self['status'], ''), self['status'])} "
            f'{detail}{result}{error}<div class="mh-muted">%operation {self["id"]} --log shows its log'
            + ("; --cancel stops it" if self["active"] else "")
            + "</div></div>"
        )


class OperationList(Listing):
    items = "operations"

    def text(self) -> str:
        if not self["operations"]:
            return "No operations."
        lines = []
        for o in self["operations"]:
            seconds = duration(o)
            detail = progress_text(o) if o["active"] else (link_text(o) or (o.get("error") or {}).get("message", ""))
            lines.append(
                f"{o['id']:>5} {o['kind']:<8} {o['subject']:<24} {o['status']:<10} "
                f"{'' if seconds is None else f'{seconds:6.1f} s'}  {detail.splitlines()[0] if detail else ''}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self["operations"]:
            return f'{STYLE}<div class="mh-card mh-muted">No operations.</div>'
        rows = []
        for o in self["operations"]:
            seconds = duration(o)
            detail = progress_text(o) if o["active"] else (link_text(o) or (o.get("error") or {}).get("message", ""))
            rows.append(
                f"<tr><td>{o['id']}</td><td>{escape(o['kind'])}</td><td><code>{escape(o['subject'])}</code></td>"
                f"<td>{state_html(_OUTCOME.get(o['status'], ''), o['status'])}</td>"
                f"<td>{'' if seconds is None else f'{seconds:.1f} s'}</td><td>{escape(detail)}</td></tr>"
            )
        return (
            f'{STYLE}<div class="mh-card"><table><tr><th>id</th><th>kind</th><th>subject</th><th>status</th>'
            f"<th>time</th><th></th></tr>{''.join(rows)}</table></div>"
        )
