"""Results of packaging: images with their build report, build contexts, environments."""

from __future__ import annotations

from html import escape

from ..words import plural, size_text
from .base import STYLE, Listing, Result


def _report_rows(report: dict) -> list[dict]:
    return [s for s in report.get("steps", []) if s.get("size") is not None or "why" in s or s.get("reused")]


def _pushes_text(image: dict) -> list[str]:
    pushes = image.get("pushes") or []
    if not pushes:
        return [f"  not pushed: %image {image['id']} --push REGISTRY/REPO[:TAG] puts it in a registry"]
    return [
        f"  pushed {p['reference']} ({p['pushed_time']}, by {p['pushed_by'] or '?'})\n    pull: {p['pinned']}"
        for p in pushes
    ]


def _pushes_html(image: dict) -> str:
    pushes = image.get("pushes") or []
    if not pushes:
        return (
            f'<div class="mh-muted">not pushed: <code>%image {image["id"]} --push REGISTRY/REPO[:TAG]</code> '
            "puts it in a registry</div>"
        )
    rows = "".join(
        f"<tr><td><b>{escape(p['reference'])}</b></td><td><code>{escape(p['pinned'])}</code></td>"
        f"<td>{escape(p['pushed_time'])}</td><td>{escape(p['pushed_by'])}</td></tr>"
        for p in pushes
    )
    return f"<table><tr><th>pushed to</th><th>pull by digest</th><th>when</th><th>by</th></tr>{rows}</table>"


class ImageInfo(Result):
    """A serving image: its tag, model, environment, size, how it was built, where it was pushed."""

    def text(self) -> str:
        report = self.get("report") or {}
        lines = [
            f"image {self['tag']} ({size_text(self['size'])}) of {self['ref']}, environment {self['environment']}",
            f"  built in {report.get('seconds', 0):.1f} s: {plural(report.get('reused', 0), 'step')} reused, "
            f"{plural(report.get('rebuilt', 0), 'layer')} rebuilt",
        ]
        for step in _report_rows(report):
            state = "reused " if step["reused"] else "REBUILT"
            why = f"  ({step['why']})" if step.get("why") else ""
            size = size_text(step["size"]) if step.get("size") else ""
            lines.append(f"  {step['step']:>3} {state} {size:>9}  {step['instruction'][:70]}{why}")
        lines.append(f"  run it: docker run --rm -p 127.0.0.1:8080:8080 {self['tag']}")
        lines += _pushes_text(self)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        report = self.get("report") or {}
        rows = "".join(
            f"<tr><td>{s['step']}</td><td><code>{escape(s['instruction'][:90])}</code></td>"
            f"<td>{'reused' if s['reused'] else '<b>rebuilt</b>'}</td><td>{size_text(s['size']) if s.get('size') else ''}</td>"
            f"<td class='mh-muted'>{escape(s.get('why', ''))}</td></tr>"
            for s in _report_rows(report)
        )
        return (
            f'{STYLE}<div class="mh-card">image <b>{escape(self["tag"])}</b> ({size_text(self["size"])}) of '
            f"<code>{escape(self['ref'])}</code>, environment <code>{escape(self['environment'])}</code>, built in "
            f"{report.get('seconds', 0):.1f} s ({plural(report.get('reused', 0), 'step')} reused, "
            f"{plural(report.get('rebuilt', 0), 'layer')} rebuilt)"
            f"<table><tr><th>step</th><th>instruction</th><th></th><th>size</th><th>why</th></tr>{rows}</table>"
            f'<div class="mh-muted">docker run --rm -p 127.0.0.1:8080:8080 {escape(self["tag"])}</div>'
            f"{_pushes_html(self)}</div>"
        )


class ImageList(Listing):
    items = "images"

    def text(self) -> str:
        if not self["images"]:
            return "No images. Build one with %package MODEL."
        return "\n".join(
            f"{i['id']:>4} {i['tag']:<32} {i['ref']:<20} {size_text(i['size']):>9}  {i['built_time']}"
            + (f"  pushed {i['pushes'][0]['reference']}" if i.get("pushes") else "")
            for i in self["images"]
        )

    def _repr_html_(self) -> str:
        if not self["images"]:
            return f'{STYLE}<div class="mh-card mh-muted">No images. Build one with %package MODEL.</div>'
        rows = "".join(
            f"<tr><td>{i['id']}</td><td><b>{escape(i['tag'])}</b></td><td>{escape(i['ref'])}</td>"
            f"<td>{escape(i['environment'])}</td><td>{size_text(i['size'])}</td><td>{escape(i['built_time'])}</td>"
            f"<td>{escape(i['pushes'][0]['reference']) if i.get('pushes') else ''}</td></tr>"
            for i in self["images"]
        )
        return (
            f'{STYLE}<div class="mh-card"><table><tr><th>id</th><th>tag</th><th>model</th><th>environment</th>'
            f"<th>size</th><th>built</th><th>pushed</th></tr>{rows}</table></div>"
        )


class BuildContext(Result):
    """A build context written for an engine elsewhere, and the commands to build and run it."""

    def text(self) -> str:
        return (
            f"build context for {self['tag']} written to {self['context']} (environment {self['environment']})\n"
            f"  build: {self['command']}\n  run:   {self['run']}"
        )

    def _repr_html_(self) -> str:
        return (
            f'{STYLE}<div class="mh-card">build context for <b>{escape(self["tag"])}</b> written to '
            f"<code>{escape(self['context'])}</code><pre>{escape(self['command'])}\n{escape(self['run'])}</pre></div>"
        )


class EnvironmentInfo(Result):
    def text(self) -> str:
        lines = [
            f"environment {self['ref']}: Python {self['python']} on {self['base_image']}, "
            f"{len(self['lock'])} locked packages (hash {self['hash'][:12]})"
        ]
        lines += [f"  {line}" for line in self["lock"]]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (
            f'{STYLE}<div class="mh-card">environment <b>{escape(self["ref"])}</b>: Python {escape(self["python"])} '
            f"on <code>{escape(self['base_image'])}</code>, hash <code>{escape(self['hash'][:12])}</code>"
            f"<pre>{escape(chr(10).join(self['lock']))}</pre></div>"
        )


class EnvironmentList(Listing):
    items = "environments"

    def text(self) -> str:
        if not self["environments"]:
            return "No environments. Create one with %env create NAME --requirements FILE."
        return "\n".join(
            f"{e['ref']:<28} Python {e['python']:<5} {e['base_image']:<28} {len(e['lock']):>3} packages"
            for e in self["environments"]
        )

    def _repr_html_(self) -> str:
        if not self["environments"]:
            return f'{STYLE}<div class="mh-card mh-muted">No environments. Create one with %env create NAME --requirements FILE.</div>'
        rows = "".join(
            f"<tr><td><b>{escape(e['ref'])}</b></td><td>{escape(e['python'])}</td>"
            f"<td>{escape(e['base_image'])}</td><td>{len(e['lock'])}</td></tr>"
            for e in self["environments"]
        )
        return (
            f'{STYLE}<div class="mh-card"><table><tr><th>environment</th><th>python</th><th>base image</th>'
            f"<th>packages</th></tr>{rows}</table></div>"
        )


class Parity(Result):
    """Kernel against container or endpoint: same answers or not, and which versions differ."""

    def verdict(self) -> str:
        if self["kernel_error"]:
            return f"the kernel cannot run it: {self['kernel_error']}"
        if self["status"] != 200:
            message = self["answer"].get("message") if isinstance(self["answer"], dict) else self["answer"]
            return f"the {self['kind']} answered {self['status']}: {message}"
        if self["same"]:
            return f"same answers (within {self['tolerance']:g})"
        return f"{len(self['differences'])} values differ (beyond {self['tolerance']:g})"

    def text(self) -> str:
        lines = [f"parity of {self['ref']}: kernel vs {self['kind']} {self['target']}: {self.verdict()}"]
        for d in self["differences"][:10]:
            lines.append(f"  {d['path']}: kernel {d['kernel']!r}, {self['kind']} {d['remote']!r}")
        for row in self["versions"]:
            mark = "" if row["same"] else "   <- differs"
            lines.append(f"  {row['name']:<14} kernel {row['kernel']:<12} {self['kind']} {row['remote']:<12}{mark}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self["same"] else "#c62828"
        diffs = "".join(
            f"<tr><td><code>{escape(d['path'])}</code></td><td>{escape(repr(d['kernel']))}</td>"
            f"<td>{escape(repr(d['remote']))}</td></tr>"
            for d in self["differences"][:20]
        )
        diff_table = (
            f"<table><tr><th>output</th><th>kernel</th><th>{escape(self['kind'])}</th></tr>{diffs}</table>"
            if diffs
            else ""
        )
        versions = "".join(
            f"<tr><td>{escape(r['name'])}</td><td>{escape(r['kernel'])}</td>"
            f"<td>{escape(r['remote']) if r['same'] else '<b>' + escape(r['remote']) + '</b>'}</td></tr>"
            for r in self["versions"]
        )
        return (
            f'{STYLE}<div class="mh-card">parity of <code>{escape(self["ref"])}</code>: kernel vs '
            f"{escape(self['kind'])} <b>{escape(self['target'])}</b>: "
            f'<b style="color:{colour}">{escape(self.verdict())}</b>{diff_table}'
            f"<table><tr><th></th><th>kernel</th><th>{escape(self['kind'])}</th></tr>{versions}</table></div>"
        )
