"""Result objects with rich HTML reprs for the notebook and plain-text reprs everywhere else.

Each wraps the JSON the REST API returned and behaves like it (``v["version"]``, ``v.version``),
so ``v = %register ...`` gives the user data, not just a printout.
"""

from __future__ import annotations

from html import escape

_STYLE = (
    "<style>.mh-card{font-family:var(--jp-ui-font-family,sans-serif);font-size:13px}"
    ".mh-card table{border-collapse:collapse;margin:4px 0}"
    ".mh-card td,.mh-card th{padding:2px 8px;text-align:left;border-bottom:1px solid var(--jp-border-color2,#ddd)}"
    ".mh-chip{display:inline-block;padding:0 6px;margin:1px 2px;border-radius:8px;"
    "background:var(--jp-layout-color2,#eee);font-size:12px}"
    ".mh-alias{background:var(--jp-brand-color3,#cde)}"
    ".mh-muted{color:var(--jp-ui-font-color2,#777)}</style>"
)


def _chips(items, cls: str = "") -> str:
    return "".join(f'<span class="mh-chip {cls}">{escape(str(i))}</span>' for i in items)


def _tags(tags: dict) -> list[str]:
    return [f"{k}={v}" for k, v in tags.items()]


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


class Result(dict):
    """A dict of API data with attribute access and reprs."""

    def __getattr__(self, key: str):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.text())

    def text(self) -> str:
        return dict.__repr__(self)


class VersionInfo(Result):
    def text(self) -> str:
        lines = [f"{self['ref']}  ({self['flavor']}, {len(self['files'])} files, {_size(self['size'])})"]
        if self.get("existing"):
            lines[0] += "  [identical to an existing version: nothing new registered]"
        if self["archived"]:
            lines[0] += "  [archived]"
        if self["aliases"]:
            lines.append("  aliases: " + ", ".join(f"{self['name']}@{a}" for a in self["aliases"]))
        if self["tags"]:
            lines.append("  tags: " + " ".join(_tags(self["tags"])))
        if self["derived_from"]:
            lines.append(f"  derived from: {self['derived_from']}")
        if self["signature"] and self["signature"]["inputs"]:
            lines.append("  inputs: " + ", ".join(
                f"{i['name']} {i['dtype']}{i.get('shape', '')}" for i in self["signature"]["inputs"]))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        note = ""
        if self.get("existing"):
            note = '<div class="mh-muted">Identical to an existing version: nothing new was registered '\
                   "(use --new-version to force one).</div>"
        rows = [
            ("flavor", escape(self["flavor"])),
            ("created", f"{escape(self['created_time'])} by {escape(self['created_by'] or '?')}"),
        ]
        if self["description"]:
            rows.append(("description", escape(self["description"])))
        if self["aliases"]:
            rows.append(("aliases", _chips((f"@{a}" for a in self["aliases"]), "mh-alias")))
        if self["tags"]:
            rows.append(("tags", _chips(_tags(self["tags"]))))
        if self["properties"]:
            rows.append(("properties", escape(", ".join(f"{k}: {v}" for k, v in self["properties"].items()))))
        if self["derived_from"]:
            rows.append(("derived from", escape(self["derived_from"])))
        if self["source_notebook"]:
            rows.append(("notebook", escape(self["source_notebook"])))
        if self["signature"]:
            rows.append(("inputs", escape(", ".join(
                f"{i['name']}: {i['dtype']} {i.get('shape', '')}" for i in self["signature"]["inputs"]))))
        files = "".join(
            f"<tr><td>{escape(f['path'])}</td><td>{_size(f['size'])}</td><td class='mh-muted'>{f['sha256'][:12]}</td></tr>"
            for f in self["files"][:50]
        )
        table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        archived = ' <span class="mh-chip">archived</span>' if self["archived"] else ""
        return (f'{_STYLE}<div class="mh-card"><b>{escape(self["ref"])}</b>{archived}{note}'
                f"<table>{table}</table><details><summary>{len(self['files'])} files, "
                f"{_size(self['size'])}</summary><table>{files}</table></details></div>")


class ModelList(Result):
    """A page of model summaries (``%models``)."""

    def __iter__(self):
        return iter(self["models"])

    def __len__(self) -> int:
        return len(self["models"])

    @property
    def names(self) -> list[str]:
        return [m["name"] for m in self["models"]]

    def _footer(self) -> str:
        shown = len(self["models"])
        if self["total"] > shown:
            return f"{shown} of {self['total']} models (page {self['page']}; --page N for more)"
        return f"{self['total']} model{'s' if self['total'] != 1 else ''}"

    def text(self) -> str:
        if not self["models"]:
            return "No models match."
        lines = []
        for m in self["models"]:
            aliases = " ".join(f"@{a}->{v}" for a, v in m["aliases"].items())
            lines.append(f"{m['name']:<24} v{m['latest_version']!s:<4} {m['flavor'] or '':<8} "
                         f"{' '.join(_tags(m['tags']))} {aliases}".rstrip())
        return "\n".join(lines + [self._footer()])

    def _repr_html_(self) -> str:
        if not self["models"]:
            return f'{_STYLE}<div class="mh-card mh-muted">No models match.</div>'
        rows = "".join(
            f"<tr><td><b>{escape(m['name'])}</b></td><td>{m['latest_version']}</td><td>{m['version_count']}</td>"
            f"<td>{escape(m['flavor'] or '')}</td><td>{_chips(_tags(m['tags']))}</td>"
            f"<td>{_chips((f'@{a} → {v}' for a, v in m['aliases'].items()), 'mh-alias')}</td>"
            f"<td class='mh-muted'>{escape(m['updated_time'])}</td></tr>"
            for m in self["models"]
        )
        return (f'{_STYLE}<div class="mh-card"><table><tr><th>model</th><th>latest</th><th>versions</th>'
                f"<th>flavor</th><th>tags</th><th>aliases</th><th>updated</th></tr>{rows}</table>"
                f'<div class="mh-muted">{self._footer()}</div></div>')


def _version_rows_html(versions: list[dict]) -> str:
    return "".join(
        f"<tr><td><b>{escape(v['ref'])}</b>{' <span class=mh-chip>archived</span>' if v['archived'] else ''}</td>"
        f"<td>{escape(v['flavor'])}</td><td>{_chips(_tags(v['tags']))}</td>"
        f"<td>{_chips((f'@{a}' for a in v['aliases']), 'mh-alias')}</td>"
        f"<td>{escape(v['derived_from'] or '')}</td><td class='mh-muted'>{escape(v['created_time'])}</td></tr>"
        for v in versions
    )


_VERSION_HEADER = "<tr><th>version</th><th>flavor</th><th>tags</th><th>aliases</th><th>derived from</th><th>created</th></tr>"


def _version_line(v: dict) -> str:
    extra = [*(f"@{a}" for a in v["aliases"]), *_tags(v["tags"])]
    if v["derived_from"]:
        extra.append(f"<- {v['derived_from']}")
    if v["archived"]:
        extra.append("[archived]")
    return f"  {v['ref']:<28} {v['flavor']:<8} {' '.join(extra)}".rstrip()


class VersionList(Result):
    def __iter__(self):
        return iter(self["versions"])

    def __len__(self) -> int:
        return len(self["versions"])

    def text(self) -> str:
        if not self["versions"]:
            return "No versions match."
        return "\n".join([_version_line(v) for v in self["versions"]] + [f"{self['total']} versions"])

    def _repr_html_(self) -> str:
        return (f'{_STYLE}<div class="mh-card"><table>{_VERSION_HEADER}{_version_rows_html(self["versions"])}'
                f'</table><div class="mh-muted">{self["total"]} versions</div></div>')


class ModelInfo(Result):
    """One model with all its versions, aliases and lineage (``%model``)."""

    def lineage(self) -> list[tuple[str, str]]:
        return [(v["derived_from"], v["ref"]) for v in self["versions"] if v["derived_from"]]

    def text(self) -> str:
        head = f"{self['name']}: {len(self['versions'])} versions"
        if self["aliases"]:
            head += "; aliases " + ", ".join(f"@{a} -> {v}" for a, v in self["aliases"].items())
        return "\n".join([head, *(_version_line(v) for v in self["versions"])])

    def _repr_html_(self) -> str:
        aliases = _chips((f"@{a} → {v}" for a, v in self["aliases"].items()), "mh-alias")
        lineage = "".join(f"<li>{escape(a)} → {escape(b)}</li>" for a, b in self.lineage())
        lineage_html = f"<div>lineage:<ul>{lineage}</ul></div>" if lineage else ""
        return (f'{_STYLE}<div class="mh-card"><b>{escape(self["name"])}</b> {aliases}'
                f"<table>{_VERSION_HEADER}{_version_rows_html(self['versions'])}</table>{lineage_html}</div>")


class Deleted(Result):
    def text(self) -> str:
        return "Deleted " + ", ".join(self["deleted"])

    def _repr_html_(self) -> str:
        return f'<div class="mh-card">{escape(self.text())}</div>'


class Downloaded(Result):
    def text(self) -> str:
        return f"Downloaded {len(self['files'])} file(s) of {self['ref']} to {self['to']} (sha256 verified)"

    def _repr_html_(self) -> str:
        return f'<div class="mh-card">{escape(self.text())}</div>'


_STATE_COLOURS = {"healthy": "#2e7d32", "failed": "#c62828", "creating": "#ef6c00", "restarting": "#ef6c00",
                  "updating": "#ef6c00", "stopped": "#757575"}


def _state(state: str) -> str:
    return f'<b style="color:{_STATE_COLOURS.get(state, "#757575")}">{escape(state)}</b>'


class EndpointInfo(Result):
    """A deployed endpoint: status, URL, key, examples to call it, and ``.predict(X)``."""

    def __init__(self, data: dict, client=None, key: str | None = None):
        super().__init__(data)
        self._client, self.key = client, key

    def predict(self, data, protocol: str = "azure", deployment: str | None = None):
        """Score ``data`` (an array, a DataFrame, rows or JSON text) through the endpoint."""
        return self._client.invoke(self["name"], data, protocol=protocol, deployment=deployment, endpoint=self)

    def live_deployment(self) -> dict | None:
        """The deployment taking the most traffic (what a request without a choice most likely reaches)."""
        deployments = self["deployments"]
        return max(deployments, key=lambda d: self["traffic"].get(d["name"], 0)) if deployments else None

    def examples(self) -> dict:
        from .client.invoking import examples

        live = self.live_deployment()
        if live is None:
            return {}
        return examples(self["url"], self.key, live["input_example"], live["model"], live["version"])

    def text(self) -> str:
        lines = [f"endpoint {self['name']}: {self['state']}  {self['url']}  (auth: {self['auth']})"]
        for d in self["deployments"]:
            share = self["traffic"].get(d["name"], 0)
            extra = f", {d['restarts']} restarts" if d["restarts"] else ""
            lines.append(f"  {d['name']:<10} {d['ref']:<24} {d['state']:<10} {share:>3}% traffic{extra}")
            if d["reason"] and d["state"] != "healthy":
                lines.append(f"             {d['reason']}")
        if self["mirror"]:
            lines.append(f"  mirror: {self['mirror']['percent']}% copied to {self['mirror']['deployment']}")
        if self.key:
            lines.append(f"  key: {self.key}")
        example = self.examples().get("azure")
        if example:
            lines.append("  try: " + example["curl"])
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><b>{escape(d['name'])}</b></td><td>{escape(d['ref'])}"
            f"{'' if d['requested'] == d['ref'] else ' <span class=mh-muted>(' + escape(d['requested']) + ')</span>'}</td>"
            f"<td>{_state(d['state'])}</td><td>{self['traffic'].get(d['name'], 0)}%</td><td>{d['instances']}</td>"
            f"<td>{d['restarts']}</td><td class='mh-muted'>{escape(d['reason'])}</td></tr>"
            for d in self["deployments"]
        )
        mirror = (f"<div>mirror: {self['mirror']['percent']}% copied to <b>{escape(self['mirror']['deployment'])}</b></div>"
                  if self["mirror"] else "")
        key = f"<div>key: <code>{escape(self.key)}</code></div>" if self.key else ""
        calls = "".join(
            f"<details><summary>{name} protocol</summary><pre>{escape(ex['curl'])}</pre><pre>{escape(ex['python'])}</pre></details>"
            for name, ex in self.examples().items()
        )
        return (f'{_STYLE}<div class="mh-card">endpoint <b>{escape(self["name"])}</b> {_state(self["state"])} '
                f'<code>{escape(self["url"])}</code>{key}'
                f"<table><tr><th>deployment</th><th>model</th><th>state</th><th>traffic</th><th>instances</th>"
                f"<th>restarts</th><th></th></tr>{rows}</table>{mirror}{calls}"
                f'<div class="mh-muted">.predict(X) scores through the endpoint; %logs {escape(self["name"])} shows its log.</div></div>')


class EndpointList(Result):
    def __iter__(self):
        return iter(self["endpoints"])

    def __len__(self) -> int:
        return len(self["endpoints"])

    def text(self) -> str:
        if not self["endpoints"]:
            return "No endpoints. Create one with %deploy NAME MODEL."
        lines = []
        for e in self["endpoints"]:
            split = ", ".join(f"{n}={p}" for n, p in e["traffic"].items())
            models = ", ".join(f"{d['name']}:{d['ref']}" for d in e["deployments"])
            lines.append(f"{e['name']:<20} {e['state']:<9} {e['url']:<24} {models}  [{split}]")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self["endpoints"]:
            return f'{_STYLE}<div class="mh-card mh-muted">No endpoints. Create one with %deploy NAME MODEL.</div>'
        rows = "".join(
            f"<tr><td><b>{escape(e['name'])}</b></td><td>{_state(e['state'])}</td><td><code>{escape(e['url'])}</code></td>"
            f"<td>{escape(', '.join(d['name'] + ': ' + d['ref'] for d in e['deployments']))}</td>"
            f"<td>{escape(', '.join(f'{n} {p}%' for n, p in e['traffic'].items()))}</td></tr>"
            for e in self["endpoints"]
        )
        return (f'{_STYLE}<div class="mh-card"><table><tr><th>endpoint</th><th>state</th><th>url</th>'
                f"<th>deployments</th><th>traffic</th></tr>{rows}</table></div>")


def _ms(value: float) -> str:
    return f"{value * 1000:.1f} us" if value < 0.1 else f"{value:.2f} ms"


def _bars(rows: list[tuple[str, float, float]], unit: str) -> str:
    """A small horizontal bar chart (inline SVG): original vs ONNX for each measure."""
    height, width = 22 * len(rows) * 2 + 10, 360
    top = max(max(a, b) for _, a, b in rows) or 1
    parts, y = [], 5
    for label, original, onnx in rows:
        for name, value, colour in (("original", original, "#9e9e9e"), ("onnx", onnx, "#1976d2")):
            w = max(1.0, 200 * value / top)
            parts.append(f'<text x="0" y="{y + 14}" font-size="11">{escape(label)} {name}</text>'
                         f'<rect x="130" y="{y + 3}" width="{w:.1f}" height="14" fill="{colour}"/>'
                         f'<text x="{134 + w:.1f}" y="{y + 14}" font-size="11">{value:.3g} {unit}</text>')
            y += 22
    return f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'


class Conversion(Result):
    """A conversion's outcome: the new version, its equivalence report and its speed report."""

    @property
    def version(self) -> VersionInfo:
        return VersionInfo(self["version"])

    def text(self) -> str:
        v, eq, sp = self["version"], self["equivalence"], self["speed"]
        head = f"{v['ref']} (onnx) from {self['conversion']['from']}: " + (
            "equivalent" if eq["passed"] else "NOT equivalent (registered with --force)")
        if v.get("existing"):
            head += "  [identical to an existing version]"
        lines = [head, f"  checked on {eq['rows']} rows, tolerance {eq['tolerance']:g} ({eq['dtype']})"]
        for out in eq["outputs"]:
            detail = (f"agreement {out['agreement']:.2%}" if out["kind"] == "label"
                      else f"max abs diff {out.get('max_abs_diff', 0):.2g}")
            lines.append(f"    {out['name']:<16} {detail}{'' if out['passed'] else '  FAILED'}")
        o, n, s = sp["original"], sp["onnx"], sp["speedup"]
        lines.append(f"  single row: {_ms(o['latency']['median_ms'])} -> {_ms(n['latency']['median_ms'])} "
                     f"({s['latency']:.1f}x); 10,000 rows: {o['batch']['median_s'] * 1000:.1f} ms -> "
                     f"{n['batch']['median_s'] * 1000:.1f} ms ({s['throughput']:.1f}x)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        v, eq, sp = self["version"], self["equivalence"], self["speed"]
        verdict = ('<b style="color:#2e7d32">equivalent</b>' if eq["passed"]
                   else '<b style="color:#c62828">not equivalent (forced)</b>')
        rows = "".join(
            f"<tr><td>{escape(o['name'])}</td><td>{escape(o['kind'])}</td>"
            f"<td>{'{:.2%}'.format(o['agreement']) if o['kind'] == 'label' else '{:.2g}'.format(o.get('max_abs_diff', 0))}</td>"
            f"<td>{o['failing_rows']}</td><td>{'yes' if o['passed'] else '<b>no</b>'}</td></tr>"
            for o in eq["outputs"]
        )
        o, n, s = sp["original"], sp["onnx"], sp["speedup"]
        speed = (f"<tr><td>single row, median</td><td>{_ms(o['latency']['median_ms'])}</td><td>{_ms(n['latency']['median_ms'])}</td><td>{s['latency']:.1f}x</td></tr>"
                 f"<tr><td>single row, p99</td><td>{_ms(o['latency']['p99_ms'])}</td><td>{_ms(n['latency']['p99_ms'])}</td><td>{s['latency_p99']:.1f}x</td></tr>"
                 f"<tr><td>10,000 rows</td><td>{o['batch']['median_s'] * 1000:.2f} ms</td><td>{n['batch']['median_s'] * 1000:.2f} ms</td><td>{s['throughput']:.1f}x</td></tr>")
        chart = _bars([("1 row", o["latency"]["median_ms"], n["latency"]["median_ms"]),
                       ("10k rows", o["batch"]["median_s"] * 1000, n["batch"]["median_s"] * 1000)], "ms")
        return (f'{_STYLE}<div class="mh-card"><b>{escape(v["ref"])}</b> (onnx) from '
                f'{escape(self["conversion"]["from"])}: {verdict} on {eq["rows"]} rows, tolerance {eq["tolerance"]:g} ({escape(eq["dtype"])})'
                f"<table><tr><th>output</th><th>kind</th><th>agreement / max diff</th><th>failing rows</th><th>within tolerance</th></tr>{rows}</table>"
                f"<table><tr><th>speed</th><th>{escape(o['runtime'])}</th><th>{escape(n['runtime'])}</th><th>speed-up</th></tr>{speed}</table>"
                f"{chart}</div>")
