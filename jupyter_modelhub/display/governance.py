"""How permissions show in the notebook (``%permissions``, ``%grant``, ``%revoke``)."""

from __future__ import annotations

from html import escape

from .base import STYLE, Result


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
