"""Results of endpoints: one endpoint (with its calls and ``.predict``) and the list."""

from __future__ import annotations

from html import escape

from .base import STYLE, Listing, Result, state_html


def masked(key: str) -> str:
    """Enough of a key to tell which one it is, not enough to use it (outputs are saved)."""
    return "•" * 8 + key[-4:]


def optimization_lines(endpoint: str, d: dict) -> list[str]:
    """What serves a deployment deployed with --optimize, or the speed-up a proven ONNX form would give."""
    done, form = d.get("optimization"), d.get("onnx_form")
    lines = []
    if done and done.get("optimized_from"):
        speed = f", model call {done['speedup']:g}x faster a row" if done.get("speedup") else ""
        made = "converted by this deploy" if done.get("converted") else "an existing conversion"
        lines.append(
            f"serves {done['serves']}, the ONNX form of {done['optimized_from']} ({made}{speed}); "
            f"equivalence proof: {done['proof']} (properties.equivalence)"
        )
    elif done:
        lines.append(f"--optimize: {done['serves']} serves as it is: {done['reason']}")
    if form:
        speed = f" answers {form['speedup']:g}x faster a row" if form.get("speedup") else " is proven equal"
        lines.append(
            f"its ONNX form {form['version']}{speed} (measured at conversion): "
            f"%deploy {endpoint} {d['ref']} --deployment {d['name']} --optimize"
        )
    return lines


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
        from ..client.invoking import examples

        live = self.live_deployment()
        if live is None:
            return {}
        return examples(self["url"], self.key, live["input_example"], live["model"], live["version"])

    def text(self) -> str:
        lines = [f"endpoint {self['name']}: {self['state']}  {self['url']}  (auth: {self['auth']})"]
        if self.get("grpc_url"):
            lines.append(f"  gRPC (Open Inference Protocol): {self['grpc_url']}")
        for d in self["deployments"]:
            share = self["traffic"].get(d["name"], 0)
            extra = f", {d['restarts']} restarts" if d["restarts"] else ""
            env = f", env {d['environment']}" if d.get("environment") else ""
            lines.append(f"  {d['name']:<10} {d['ref']:<24} {d['state']:<10} {share:>3}% traffic{extra}{env}")
            if d["reason"] and d["state"] != "healthy":
                lines.append(f"             {d['reason']}")
            lines.extend(f"             {line}" for line in optimization_lines(self["name"], d))
        if self["mirror"]:
            lines.append(f"  mirror: {self['mirror']['percent']}% copied to {self['mirror']['deployment']}")
        if self.key:
            lines.append(f"  key: {masked(self.key)}  (ep.key has it; the examples read $MODELHUB_KEY)")
        example = self.examples().get("azure")
        if example:
            lines.append("  try: " + example["curl"])
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><b>{escape(d['name'])}</b></td><td>{escape(d['ref'])}"
            f"{'' if d['requested'] == d['ref'] else ' <span class=mh-muted>(' + escape(d['requested']) + ')</span>'}"
            f"{' <span class=mh-muted>env ' + escape(d['environment']) + '</span>' if d.get('environment') else ''}</td>"
            f"<td>{state_html(d['state'])}</td><td>{self['traffic'].get(d['name'], 0)}%</td><td>{d['instances']}</td>"
            f"<td>{d['restarts']}</td><td class='mh-muted'>{escape(d['reason'])}</td></tr>"
            + "".join(
                f"<tr><td></td><td colspan=6 class='mh-muted'>{escape(line)}</td></tr>"
                for line in optimization_lines(self["name"], d)
            )
            for d in self["deployments"]
        )
        mirror = (
            f"<div>mirror: {self['mirror']['percent']}% copied to <b>{escape(self['mirror']['deployment'])}</b></div>"
            if self["mirror"]
            else ""
        )
        key = (
            (
                f"<div>key: <code>{escape(masked(self.key))}</code> <span class='mh-muted'>(ep.key has it; the "
                "examples read $MODELHUB_KEY)</span></div>"
            )
            if self.key
            else ""
        )
        grpc = (
            f" <span class='mh-muted'>gRPC</span> <code>{escape(self['grpc_url'])}</code>"
            if self.get("grpc_url")
            else ""
        )
        calls = "".join(
            f"<details><summary>{name} protocol</summary><pre>{escape(ex['curl'])}</pre><pre>{escape(ex['python'])}</pre></details>"
            for name, ex in self.examples().items()
        )
        return (
            f'{STYLE}<div class="mh-card">endpoint <b>{escape(self["name"])}</b> {state_html(self["state"])} '
            f"<code>{escape(self['url'])}</code>{grpc}{key}"
            f"<table><tr><th>deployment</th><th>model</th><th>state</th><th>traffic</th><th>instances</th>"
            f"<th>restarts</th><th></th></tr>{rows}</table>{mirror}{calls}"
            f'<div class="mh-muted">.predict(X) scores through the endpoint; %logs {escape(self["name"])} shows its log.</div></div>'
        )


class EndpointList(Listing):
    items = "endpoints"

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
            return f'{STYLE}<div class="mh-card mh-muted">No endpoints. Create one with %deploy NAME MODEL.</div>'
        rows = "".join(
            f"<tr><td><b>{escape(e['name'])}</b></td><td>{state_html(e['state'])}</td><td><code>{escape(e['url'])}</code></td>"
            f"<td>{escape(', '.join(d['name'] + ': ' + d['ref'] for d in e['deployments']))}</td>"
            f"<td>{escape(', '.join(f'{n} {p}%' for n, p in e['traffic'].items()))}</td></tr>"
            for e in self["endpoints"]
        )
        return (
            f'{STYLE}<div class="mh-card"><table><tr><th>endpoint</th><th>state</th><th>url</th>'
            f"<th>deployments</th><th>traffic</th></tr>{rows}</table></div>"
        )
