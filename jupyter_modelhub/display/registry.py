"""Results of the registry: versions, models, listings, deletions, downloads."""

from __future__ import annotations

from html import escape

from ..words import plural, size_text
from .base import STYLE, Listing, Result, chips, tag_texts


def shown_time(iso: str | None) -> str:
    """A time of the API (``...T02:33:10.123Z``) to the second, as a table shows it."""
    return f"{iso[:19]}Z" if iso else ""


class VersionInfo(Result):
    def text(self) -> str:
        lines = [f"{self['ref']}  ({self['flavor']}, {plural(len(self['files']), 'file')}, {size_text(self['size'])})"]
        if self.get("existing"):
            lines[0] += "  [identical to an existing version: nothing new registered]"
        if self["archived"]:
            lines[0] += "  [archived]"
        if self["aliases"]:
            lines.append("  aliases: " + ", ".join(f"{self['name']}@{a}" for a in self["aliases"]))
        if self["tags"]:
            lines.append("  tags: " + " ".join(tag_texts(self["tags"])))
        if self["derived_from"]:
            lines.append(f"  derived from: {self['derived_from']}")
        if self["signature"] and self["signature"]["inputs"]:
            lines.append(
                "  inputs: "
                + ", ".join(f"{i['name']} {i['dtype']}{i.get('shape', '')}" for i in self["signature"]["inputs"])
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        note = ""
        if self.get("existing"):
            note = (
                '<div class="mh-muted">Identical to an existing version: nothing new was registered '
                "(use --new-version to force one).</div>"
            )
        rows = [
            ("flavor", escape(self["flavor"])),
            ("created", f"{escape(shown_time(self['created_time']))} by {escape(self['created_by'] or '?')}"),
        ]
        if self["description"]:
            rows.append(("description", escape(self["description"])))
        if self["aliases"]:
            rows.append(("aliases", chips((f"@{a}" for a in self["aliases"]), "mh-alias")))
        if self["tags"]:
            rows.append(("tags", chips(tag_texts(self["tags"]))))
        if self["properties"]:
            rows.append(
                ("properties", escape(", ".join(f"{k}: {_property(k, v)}" for k, v in self["properties"].items())))
            )
        if self["derived_from"]:
            rows.append(("derived from", escape(self["derived_from"])))
        if self["source_notebook"]:
            rows.append(("notebook", escape(self["source_notebook"])))
        if self["signature"]:
            rows.append(
                (
                    "inputs",
                    escape(
                        ", ".join(
                            f"{i['name']}: {i['dtype']} {i.get('shape', '')}" for i in self["signature"]["inputs"]
                        )
                    ),
                )
            )
        files = "".join(
            f"<tr><td>{escape(f['path'])}</td><td>{size_text(f['size'])}</td><td class='mh-muted'>{f['sha256'][:12]}</td></tr>"
            for f in self["files"][:50]
        )
        table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        archived = ' <span class="mh-chip">archived</span>' if self["archived"] else ""
        return (
            f'{STYLE}<div class="mh-card"><b>{escape(self["ref"])}</b>{archived}{note}'
            f"<table>{table}</table><details><summary>{plural(len(self['files']), 'file')}, "
            f"{size_text(self['size'])}</summary><table>{files}</table></details></div>"
        )


class ModelList(Listing):
    """A page of model summaries (``%models``)."""

    items = "models"

    @property
    def names(self) -> list[str]:
        return [m["name"] for m in self["models"]]

    def _footer(self) -> str:
        shown = len(self["models"])
        if self["total"] > shown:
            return f"{shown} of {plural(self['total'], 'model')} (page {self['page']}; --page N for more)"
        return plural(self["total"], "model")

    def text(self) -> str:
        if not self["models"]:
            return "No models match."
        lines = []
        for m in self["models"]:
            aliases = " ".join(f"@{a}->{v}" for a, v in m["aliases"].items())
            lines.append(
                f"{m['name']:<24} v{m['latest_version']!s:<4} {m['flavor'] or '':<8} "
                f"{' '.join(tag_texts(m['tags']))} {aliases}".rstrip()
            )
        return "\n".join(lines + [self._footer()])

    def _repr_html_(self) -> str:
        if not self["models"]:
            return f'{STYLE}<div class="mh-card mh-muted">No models match.</div>'
        rows = "".join(
            f"<tr><td><b>{escape(m['name'])}</b></td><td>{m['latest_version']}</td><td>{m['version_count']}</td>"
            f"<td>{escape(m['flavor'] or '')}</td><td>{chips(tag_texts(m['tags']))}</td>"
            f"<td>{chips((f'@{a} → {v}' for a, v in m['aliases'].items()), 'mh-alias')}</td>"
            f"<td class='mh-muted'>{escape(shown_time(m['updated_time']))}</td></tr>"
            for m in self["models"]
        )
        return (
            f'{STYLE}<div class="mh-card"><table><tr><th>model</th><th>latest</th><th>versions</th>'
            f"<th>flavor</th><th>tags</th><th>aliases</th><th>updated</th></tr>{rows}</table>"
            f'<div class="mh-muted">{self._footer()}</div></div>'
        )


def _version_rows_html(versions: list[dict]) -> str:
    return "".join(
        f"<tr><td><b>{escape(v['ref'])}</b>{' <span class=mh-chip>archived</span>' if v['archived'] else ''}</td>"
        f"<td>{escape(v['flavor'])}</td><td>{chips(tag_texts(v['tags']))}</td>"
        f"<td>{chips((f'@{a}' for a in v['aliases']), 'mh-alias')}</td>"
        f"<td>{escape(v['derived_from'] or '')}</td><td class='mh-muted'>{escape(shown_time(v['created_time']))}</td></tr>"
        for v in versions
    )


_VERSION_HEADER = (
    "<tr><th>version</th><th>flavor</th><th>tags</th><th>aliases</th><th>derived from</th><th>created</th></tr>"
)


def _version_line(v: dict) -> str:
    extra = [*(f"@{a}" for a in v["aliases"]), *tag_texts(v["tags"])]
    if v["derived_from"]:
        extra.append(f"<- {v['derived_from']}")
    if v["archived"]:
        extra.append("[archived]")
    return f"  {v['ref']:<28} {v['flavor']:<8} {' '.join(extra)}".rstrip()


class VersionList(Listing):
    items = "versions"

    def text(self) -> str:
        if not self["versions"]:
            return "No versions match."
        return "\n".join([_version_line(v) for v in self["versions"]] + [plural(self["total"], "version")])

    def _repr_html_(self) -> str:
        return (
            f'{STYLE}<div class="mh-card"><table>{_VERSION_HEADER}{_version_rows_html(self["versions"])}'
            f'</table><div class="mh-muted">{plural(self["total"], "version")}</div></div>'
        )


class ModelInfo(Result):
    """One model with all its versions, aliases and lineage (``%model``)."""

    def lineage(self) -> list[tuple[str, str]]:
        return [(v["derived_from"], v["ref"]) for v in self["versions"] if v["derived_from"]]

    def text(self) -> str:
        head = f"{self['name']}: {plural(len(self['versions']), 'version')}"
        if self["aliases"]:
            head += "; aliases " + ", ".join(f"@{a} -> {v}" for a, v in self["aliases"].items())
        return "\n".join([head, *(_version_line(v) for v in self["versions"])])

    def _repr_html_(self) -> str:
        aliases = chips((f"@{a} → {v}" for a, v in self["aliases"].items()), "mh-alias")
        lineage = "".join(f"<li>{escape(a)} → {escape(b)}</li>" for a, b in self.lineage())
        lineage_html = f"<div>lineage:<ul>{lineage}</ul></div>" if lineage else ""
        return (
            f'{STYLE}<div class="mh-card"><b>{escape(self["name"])}</b> {aliases}'
            f"<table>{_VERSION_HEADER}{_version_rows_html(self['versions'])}</table>{lineage_html}</div>"
        )


class Deleted(Result):
    def text(self) -> str:
        return "Deleted " + ", ".join(self["deleted"])

    def _repr_html_(self) -> str:
        return f'<div class="mh-card">{escape(self.text())}</div>'


class Downloaded(Result):
    def text(self) -> str:
        return f"Downloaded {plural(len(self['files']), 'file')} of {self['ref']} to {self['to']} (sha256 verified)"

    def _repr_html_(self) -> str:
        return f'<div class="mh-card">{escape(self.text())}</div>'


def _property(key: str, value) -> str:
    """A property as the version's card shows it: a reference profile (kilobytes) by its size."""
    if key == "reference" and isinstance(value, dict) and "rows" in value:
        return f"profile of {value['rows']} rows (%reference shows it)"
    return str(value)
