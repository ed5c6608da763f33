"""Results of endpoints: one endpoint (with its calls and ``.predict``) and the list."""

from __future__ import annotations

from html import escape

from ..words import plural, size_text
from .base import STYLE, Listing, Result, state_html


def masked(key: str) -> str:
    """Enough of a key to tell which one it is, not enough to use it (outputs are saved)."""
    return "•" * 8 + key[-4:]


def collection_line(collect: dict | None) -> str | None:
    """What payload collection does and where its files are, in a line; None when it is off."""
    if not collect or not collect.get("enabled"):
        return None
    where = collect.get("stored_in") or collect["location"]
    return (
        f"collecting {' and '.join(collect['collect'])} ({collect['sample_rate']:.0%} sampled): "
        f"{plural(collect['committed'], 'record')} committed, {plural(collect['files'], 'file')} "
        f"({size_text(collect['bytes'])}) in {where}, kept {collect['collect_retention']}"
        + (f"; {plural(collect['dropped'], 'record')} dropped" if collect.get("dropped") else "")
        + (f"; last error: {collect['last_error']}" if collect.get("last_error") else "")
    )


def multi_line(d: dict) -> str | None:
    """What a ``--multi`` deployment serves, in a line; None for a one-version deployment."""
    multi = d.get("multi")
    if not multi:
        return None
    models = list(dict.fromkeys(ref.split(":")[0] for ref in multi["versions"]))
    return (
        f"serves {plural(len(multi['versions']), 'version')} of {', '.join(models[:5])}"
        + (f" and {len(models) - 5} more" if len(models) > 5 else "")
        + f" under {size_text(multi['memory_budget'])}; each loads on its first request (POST /v2/repository/index)"
    )


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
            if multi_line(d):
                lines.append(f"             {multi_line(d)}")
        if self["mirror"]:
            lines.append(f"  mirror: {self['mirror']['percent']}% copied to {self['mirror']['deployment']}")
        collecting = collection_line(self.get("collect"))
        if collecting:
            lines.append(f"  {collecting}")
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
                for line in [*optimization_lines(self["name"], d), *filter(None, [multi_line(d)])]
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
        line = collection_line(self.get("collect"))
        collecting = f"<div class='mh-muted'>{escape(line)}</div>" if line else ""
        calls = "".join(
            f"<details><summary>{name} protocol</summary><pre>{escape(ex['curl'])}</pre><pre>{escape(ex['python'])}</pre></details>"
            for name, ex in self.examples().items()
        )
        return (
            f'{STYLE}<div class="mh-card">endpoint <b>{escape(self["name"])}</b> {state_html(self["state"])} '
            f"<code>{escape(self['url'])}</code>{grpc}{key}"
            f"<table><tr><th>deployment</th><th>model</th><th>state</th><th>traffic</th><th>instances</th>"
            f"<th>restarts</th><th></th></tr>{rows}</table>{mirror}{collecting}{calls}"
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


class Prediction(Result):
    """What ``%invoke`` answers: the endpoint's JSON answer as a dict (``r["predictions"]``),
    shown as a table of one row per scored row, one column per output.

    Numbers are shown at float32 precision: most models answer float32, which JSON carries as the
    nearest float64 (``0.30000001192092896``); the digits past float32's are noise. The values
    in the dict are the endpoint's, unchanged.
    """

    def table(self) -> tuple[list[str], list[list], dict]:
        """(columns, rows, other fields): lists of one length become columns (a list of lists
        one column per item: ``probabilities_0``, ...), Open Inference Protocol outputs too."""
        columns: dict[str, list] = {}
        others: dict = {}
        for key, value in self.items():
            if key == "outputs" and isinstance(value, list) and all(isinstance(o, dict) for o in value):
                for output in value:
                    _add_column(columns, others, str(output.get("name")), _v2_rows(output))
            elif isinstance(value, dict):  # one level down: MLflow's {"predictions": {...}}
                for inner, item in value.items():
                    _add_column(columns, others, f"{key}.{inner}", item)
            else:
                _add_column(columns, others, key, value)
        lengths = {len(v) for v in columns.values()}
        if len(lengths) != 1:  # nothing tabular, or columns of several lengths: fields, not a table
            return [], [], dict(self)
        return list(columns), [list(row) for row in zip(*columns.values())], others

    def text(self) -> str:
        names, rows, others = self.table()
        lines = [f"{key}: {_shown(value)}" for key, value in others.items()]
        if names:
            cells = [names] + [[_shown(v) for v in row] for row in rows[:PREDICTION_ROWS]]
            widths = [max(len(r[i]) for r in cells) for i in range(len(names))]
            lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
            if len(rows) > PREDICTION_ROWS:
                lines.append(f"... {len(rows) - PREDICTION_ROWS} more rows")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        names, rows, others = self.table()
        fields = "".join(
            f"<div><span class='mh-muted'>{escape(str(k))}</span> {escape(_shown(v))}</div>" for k, v in others.items()
        )
        table = ""
        if names:
            head = "".join(f"<th>{escape(n)}</th>" for n in ["row", *names])
            body = "".join(
                f"<tr><td class='mh-muted'>{i}</td>"
                + "".join(
                    f"<td style='text-align:{'right' if _numeric(v) else 'left'}'>{escape(_shown(v))}</td>" for v in row
                )
                + "</tr>"
                for i, row in enumerate(rows[:PREDICTION_ROWS])
            )
            more = (
                f"<div class='mh-muted'>{len(rows) - PREDICTION_ROWS} more rows (the dict has them all)</div>"
                if len(rows) > PREDICTION_ROWS
                else ""
            )
            table = f"<table><tr>{head}</tr>{body}</table>{more}"
        return f'{STYLE}<div class="mh-card">{fields}{table}</div>'


PREDICTION_ROWS = 50  # rows a Prediction shows (the dict keeps every one)


def _add_column(columns: dict, others: dict, name: str, value) -> None:
    if not isinstance(value, list) or not value:
        others[name] = value
    elif all(isinstance(v, list) for v in value) and len({len(v) for v in value}) == 1 and value[0]:
        if any(isinstance(x, list) for x in value[0]):  # 3-D and more: not a column
            others[name] = value
            return
        for j in range(len(value[0])):
            columns[f"{name}_{j}"] = [v[j] for v in value]
    elif not any(isinstance(v, (list, dict)) for v in value):
        columns[name] = value
    else:
        others[name] = value


def _v2_rows(output: dict):
    """An Open Inference Protocol output's flat ``data`` as rows, by its shape."""
    data, shape = output.get("data"), output.get("shape") or []
    if not isinstance(data, list) or len(shape) != 2 or not shape[1] or shape[0] * shape[1] != len(data):
        return data
    width = shape[1]
    return data if width == 1 else [data[i : i + width] for i in range(0, len(data), width)]


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value) -> str:
    """A value as the notebook shows it: floats at float32 precision, containers likewise."""
    if isinstance(value, float):
        import numpy as np

        return str(np.float32(value)) if abs(value) < 3.4e38 else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return str(value)
