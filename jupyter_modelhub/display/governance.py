"""How permissions and the history show in the notebook (``%permissions``, ``%grant``,
``%revoke``, ``%history``)."""

from __future__ import annotations

import json
from html import escape

from .base import STYLE, Result
from .registry import shown_time


class Permissions(Result):
    """Who may do what to one model."""

    def rows(self) -> list[tuple[str, str, str]]:
        """(who, permission, why) for everyone with a say, highest first."""
        rows = [(f"user:{self['creator']}", "manage", "created the model")] if self["creator"] else []
        rows += [(f"user:{a}", "manage", "admin") for a in self["admins"]]
        rows += [
            (g["principal"], g["permission"], f"granted by {g['granted_by'] or 'unknown'}")
            for g in self["grants"]
            if g["principal"] != "everyone"
        ]
        everyone_grant = any(g["principal"] == "everyone" for g in self["grants"])
        rows.append(
            ("everyone else", self["default_permission"], "this model's grant" if everyone_grant else "server default")
        )
        return rows

    def text(self) -> str:
        lines = [f"{self['model']}: you have {self['yours']}"]
        lines += [f"  {who:<28} {permission:<7} {why}" for who, permission, why in self.rows()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{escape(who)}</td><td><b>{escape(permission)}</b></td><td class='mh-muted'>{escape(why)}</td></tr>"
            for who, permission, why in self.rows()
        )
        return (
            f'{STYLE}<div class="mh-card"><b>{escape(self["model"])}</b> '
            f'<span class="mh-muted">you have {escape(self["yours"])}</span>'
            f"<table><tr><th>who</th><th>permission</th><th>why</th></tr>{body}</table></div>"
        )


def _value(value) -> str:
    """An old or new value in a line: a number or name as is, a mapping as compact JSON."""
    if value is None:
        return "-"
    if isinstance(value, (str, int, float)):
        return str(value)
    text = json.dumps(value, separators=(",", " "), sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


class History(Result):
    """A model's or an endpoint's changes, newest first; with ``at``, what served the endpoint then."""

    def __init__(self, data: dict, name: str = ""):
        super().__init__(data)
        self.__dict__["name"] = name

    def served_then(self) -> str:
        state = self.get("state")
        if not state:
            return ""
        parts = [
            f"{d['deployment']}={d['model']}:{d['version']} ({state['traffic'].get(d['deployment'], 0)}%)"
            for d in state["deployments"]
        ]
        return f"At {state['at']}, {state['endpoint']} served: " + (", ".join(parts) or "nothing")

    def text(self) -> str:
        lines = [self.served_then()] if self.get("state") else []
        lines += [
            f"{e['at']}  {e['user'] or '?'} ({e['client']})  {e['action']}  {e['subject']}: "
            f"{_value(e['old'])} -> {_value(e['new'])}"
            for e in self["entries"]
        ]
        if not self["entries"]:
            lines.append(f"No changes to {self.__dict__['name'] or 'it'} match.")
        if self["more"]:
            lines.append("(older entries match too: --until the oldest time shown, or a larger --limit)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td title='{escape(e['at'])}'>{escape(shown_time(e['at']))}</td><td>{escape(e['user'] or '?')}"
            f"<span class='mh-muted'> · {escape(e['client'])}</span></td><td><b>{escape(e['action'])}</b></td>"
            f"<td>{escape(e['subject'])}</td><td class='mh-muted'>{escape(_value(e['old']))}</td>"
            f"<td>{escape(_value(e['new']))}</td></tr>"
            for e in self["entries"]
        )
        head = f"<div>{escape(self.served_then())}</div>" if self.get("state") else ""
        more = "<div class='mh-muted'>older entries match too</div>" if self["more"] else ""
        empty = "" if self["entries"] else "<div class='mh-muted'>no changes match</div>"
        return (
            f'{STYLE}<div class="mh-card">{head}<table><tr><th>when</th><th>who</th><th>action</th><th>subject</th>'
            f"<th>old</th><th>new</th></tr>{rows}</table>{empty}{more}</div>"
        )


STATUS_MARK = {"passed": "✓", "failed": "✗", "missing": "…", "not needed": "–"}


def _checks_lines(aliases: list[dict]) -> list[str]:
    lines = []
    for a in aliases:
        now = f" (now {a['current']})" if a["current"] else ""
        lines.append(f"@{a['alias']}{now}: {'may move here' if a['allowed'] else 'not yet'}")
        lines += [
            f"  {STATUS_MARK.get(c['status'], '?')} {c['name']}: {c['status']}: {c['detail']}" for c in a["checks"]
        ]
    return lines


def _checks_html(aliases: list[dict]) -> str:
    parts = []
    for a in aliases:
        rows = "".join(
            f"<tr><td>{STATUS_MARK.get(c['status'], '?')}</td><td>{escape(c['name'])}</td>"
            f"<td><b>{escape(c['status'])}</b></td><td>{escape(c['detail'])}</td></tr>"
            for c in a["checks"]
        )
        now = f" <span class='mh-muted'>now {escape(a['current'])}</span>" if a["current"] else ""
        verdict = "may move here" if a["allowed"] else "not yet"
        parts.append(f"<div><b>@{escape(a['alias'])}</b>{now}: {verdict}<table>{rows}</table></div>")
    return "".join(parts)


class Promotion(Result):
    """A version's checks per alias under promotion rules (``%promotion``, ``%approve``)."""

    def text(self) -> str:
        if not self["aliases"]:
            return f"{self['ref']}: no alias has promotion rules on this server."
        return "\n".join([self["ref"], *_checks_lines(self["aliases"])])

    def _repr_html_(self) -> str:
        body = _checks_html(self["aliases"]) or "<div class='mh-muted'>no alias has promotion rules</div>"
        return f'{STYLE}<div class="mh-card"><b>{escape(self["ref"])}</b>{body}</div>'


class Evaluation(Result):
    """``%evaluate``: the version's metrics beside those of the version compared with, and the checks."""

    def rows(self) -> list[tuple[str, str, str]]:
        theirs = self.get("against_metrics") or {}
        return [
            (name, f"{value:.4g}", f"{theirs[name]:.4g}" if name in theirs else "")
            for name, value in sorted(self["metrics"].items())
        ]

    def text(self) -> str:
        promotion = self["promotion"]
        versus = f" vs {self['against']}" if self.get("against") else ""
        head = f"{promotion['ref']}{versus} on {self['data']['name']} ({self['data']['rows']} rows)"
        lines = [head, *(f"  {n:<10} {a:>10} {b:>10}" for n, a, b in self.rows())]
        return "\n".join(lines + _checks_lines(promotion["aliases"]))

    def _repr_html_(self) -> str:
        promotion = self["promotion"]
        other = escape(self.get("against") or "")
        rows = "".join(f"<tr><td>{escape(n)}</td><td>{a}</td><td>{b}</td></tr>" for n, a, b in self.rows())
        return (
            f'{STYLE}<div class="mh-card"><b>{escape(promotion["ref"])}</b> on {escape(self["data"]["name"])} '
            f"({self['data']['rows']} rows)<table><tr><th>metric</th><th>{escape(promotion['ref'])}</th>"
            f"<th>{other}</th></tr>{rows}</table>{_checks_html(promotion['aliases'])}</div>"
        )
