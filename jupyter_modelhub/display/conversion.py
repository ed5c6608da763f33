"""The result of a conversion to ONNX: equivalence and speed, as a table and a chart."""

from __future__ import annotations

from html import escape

from .base import STYLE, Result
from .registry import VersionInfo


def _ms(value: float) -> str:
    """Milliseconds as read: ``45.2 µs`` below a tenth of one, ``1.23 ms`` above."""
    return f"{value * 1000:.1f} µs" if value < 0.1 else f"{value:.2f} ms"


def _bars(rows: list[tuple[str, float, float]], unit: str) -> str:
    """A small horizontal bar chart (inline SVG): original vs ONNX for each measure."""
    height, width = 22 * len(rows) * 2 + 10, 360
    top = max(max(a, b) for _, a, b in rows) or 1
    parts, y = [], 5
    for label, original, onnx in rows:
        for name, value, colour in (("original", original, "#9e9e9e"), ("onnx", onnx, "#1976d2")):
            w = max(1.0, 200 * value / top)
            parts.append(
                f'<text x="0" y="{y + 14}" font-size="11">{escape(label)} {name}</text>'
                f'<rect x="130" y="{y + 3}" width="{w:.1f}" height="14" fill="{colour}"/>'
                f'<text x="{134 + w:.1f}" y="{y + 14}" font-size="11">{value:.3g} {unit}</text>'
            )
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
            "equivalent" if eq["passed"] else "NOT equivalent (registered with --force)"
        )
        if v.get("existing"):
            head += "  [identical to an existing version]"
        lines = [head, f"  checked on {eq['rows']} rows, tolerance {eq['tolerance']:g} ({eq['dtype']})"]
        for out in eq["outputs"]:
            detail = (
                f"agreement {out['agreement']:.2%}"
                if out["kind"] == "label"
                else f"max abs diff {out.get('max_abs_diff', 0):.2g}"
            )
            lines.append(f"    {out['name']:<16} {detail}{'' if out['passed'] else '  FAILED'}")
        o, n, s = sp["original"], sp["onnx"], sp["speedup"]
        lines.append(
            f"  single row: {_ms(o['latency']['median_ms'])} -> {_ms(n['latency']['median_ms'])} "
            f"({s['latency']:.1f}x); {o['batch'].get('rows', 10_000):,} rows: {_ms(o['batch']['median_s'] * 1000)} -> "
            f"{_ms(n['batch']['median_s'] * 1000)} ({s['throughput']:.1f}x)"
        )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        v, eq, sp = self["version"], self["equivalence"], self["speed"]
        verdict = (
            '<b style="color:#2e7d32">equivalent</b>'
            if eq["passed"]
            else '<b style="color:#c62828">not equivalent (forced)</b>'
        )
        rows = "".join(
            f"<tr><td>{escape(o['name'])}</td><td>{escape(o['kind'])}</td>"
            f"<td>{'{:.2%}'.format(o['agreement']) if o['kind'] == 'label' else '{:.2g}'.format(o.get('max_abs_diff', 0))}</td>"
            f"<td>{o['failing_rows']}</td><td>{'yes' if o['passed'] else '<b>no</b>'}</td></tr>"
            for o in eq["outputs"]
        )
        o, n, s = sp["original"], sp["onnx"], sp["speedup"]
        speed = (
            f"<tr><td>single row, median</td><td>{_ms(o['latency']['median_ms'])}</td><td>{_ms(n['latency']['median_ms'])}</td><td>{s['latency']:.1f}x</td></tr>"
            f"<tr><td>single row, p99</td><td>{_ms(o['latency']['p99_ms'])}</td><td>{_ms(n['latency']['p99_ms'])}</td><td>{s['latency_p99']:.1f}x</td></tr>"
            f"<tr><td>{o['batch'].get('rows', 10_000):,} rows</td><td>{_ms(o['batch']['median_s'] * 1000)}</td>"
            f"<td>{_ms(n['batch']['median_s'] * 1000)}</td><td>{s['throughput']:.1f}x</td></tr>"
        )
        chart = _bars(
            [
                ("1 row", o["latency"]["median_ms"], n["latency"]["median_ms"]),
                ("10k rows", o["batch"]["median_s"] * 1000, n["batch"]["median_s"] * 1000),
            ],
            "ms",
        )
        return (
            f'{STYLE}<div class="mh-card"><b>{escape(v["ref"])}</b> (onnx) from '
            f"{escape(self['conversion']['from'])}: {verdict} on {eq['rows']} rows, tolerance {eq['tolerance']:g} ({escape(eq['dtype'])})"
            f"<table><tr><th>output</th><th>kind</th><th>agreement / max diff</th><th>failing rows</th><th>within tolerance</th></tr>{rows}</table>"
            f"<table><tr><th>speed</th><th>{escape(o['runtime'])}</th><th>{escape(n['runtime'])}</th><th>speed-up</th></tr>{speed}</table>"
            f"{chart}</div>"
        )
