"""The result of a deploy to Kubernetes: the manifests written, and how to apply them."""

from __future__ import annotations

from html import escape

from .base import STYLE, Result


class KubernetesManifests(Result):
    def text(self) -> str:
        lines = [
            f"{self['name']}/{self['deployment']} on Kubernetes: {', '.join(self['kinds'])} for image {self['image']}"
            f" ({'reused' if self['image_reused'] else 'built'}) of {self['ref']}",
            f"  manifests: {self['manifests']}",
        ]
        if self["applied"]:
            lines.append(f"  applied with context {self['context']}: {', '.join(self['applied'])}")
        if self["note"]:
            lines.append(f"  {self['note']}")
        if not self["applied"]:
            lines.append(f"  apply: {self['apply']}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        note = f"<div class='mh-muted'>{escape(self['note'])}</div>" if self["note"] else ""
        applied = (
            f"<div>applied with context <code>{escape(self['context'])}</code>: {escape(', '.join(self['applied']))}</div>"
            + note
            if self["applied"]
            else f"{note}<pre>{escape(self['apply'])}</pre>"
        )
        return (
            f'{STYLE}<div class="mh-card"><b>{escape(self["name"])}/{escape(self["deployment"])}</b> on Kubernetes: '
            f"{escape(', '.join(self['kinds']))} for image <code>{escape(self['image'])}</code> of "
            f"<code>{escape(self['ref'])}</code><div>manifests: <code>{escape(self['manifests'])}</code></div>"
            f"{applied}</div>"
        )
