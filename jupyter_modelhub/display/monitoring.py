"""Monitoring in the notebook: a reference profile, and a monitor report as one table per feature
with a small chart of the reference's and the current data's shares per bin; an endpoint's report
adds where its rows came from, performance over time (a line per bucket) and the deployments
compared; a replay report shows agreement, the rows that changed and latency side by side.

The chart is inline SVG (no JavaScript, so it shows in a saved notebook, on GitHub and in
nbconvert's HTML); the text form says the same in aligned columns for a terminal or a log.
"""

from __future__ import annotations

from html import escape

from .base import STYLE, Result

DRIFTED = '<b style="color:#c62828">drifted</b>'
STABLE = '<span style="color:#2e7d32">ok</span>'
REFERENCE_COLOUR, CURRENT_COLOUR = "#9e9e9e", "#1976d2"
EXTRA = (("psi", "PSI"), ("jensen_shannon", "JS"), ("wasserstein", "W1"), ("ks", "KS"), ("chi_square", "chi2"))


def _number(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.1e}"


def histogram_svg(reference: list[float], current: list[float], bins: list[str], width: int = 150) -> str:
    """Reference (grey) and current (blue) shares per bin, side by side; each bin's title says both."""
    if not bins or len(reference) != len(bins) or len(current) != len(bins):
        return ""
    height, top = 34, max(max(reference), max(current)) or 1.0
    slot = width / len(bins)
    bar = max(1.0, slot / 2 - 1)
    parts = []
    for i, (label, r, c) in enumerate(zip(bins, reference, current)):
        x = i * slot
        title = f"<title>{escape(label)}: reference {r:.1%}, current {c:.1%}</title>"
        for offset, share, colour in ((0, r, REFERENCE_COLOUR), (bar, c, CURRENT_COLOUR)):
            h = max(0.5, (height - 2) * share / top)
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}">{title}</rect>'
            )
    return (
        f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="reference and current shares per bin">{"".join(parts)}</svg>'
    )


class ReferenceInfo(Result):
    """A version's reference profile."""

    def __init__(self, data: dict, ref: str = ""):
        super().__init__(data)
        self._ref = ref

    def text(self) -> str:
        lines = [
            f"Reference profile of {self._ref or 'the version'}: {self['rows']:,} rows"
            + (f" from {self['source']}" if self.get("source") else "")
            + f", made {self['created_time']}"
        ]
        for f in self["features"]:
            lines.append(f"  {f['name']:<20} {_summary(f)}")
        if self.get("predictions"):
            lines.append("  predictions:")
            lines += [f"  {p['name']:<20} {_summary(p)}" for p in self["predictions"]]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(f['name'])}</td><td>{escape(f['kind'])}</td><td>{f['null_rate']:.1%}</td>"
            f"<td>{escape(_summary(f))}</td></tr>"
            for f in [*self["features"], *self.get("predictions", [])]
        )
        source = f" from {escape(self['source'])}" if self.get("source") else ""
        return (
            f'{STYLE}<div class="mh-card"><b>Reference profile of {escape(self._ref or "the version")}</b>: '
            f"{self['rows']:,} rows{source} <span class='mh-muted'>{escape(self['created_time'])}</span>"
            f"<table><tr><th>column</th><th>kind</th><th>nulls</th><th>distribution</th></tr>{rows}</table></div>"
        )


def _summary(f: dict) -> str:
    if f["kind"] == "numeric":
        if not f["rows"]:
            return "no values"
        return f"min {_number(f['min'])}, median {_number(f['quantiles'][len(f['quantiles']) // 2])}, max {_number(f['max'])}, mean {_number(f['mean'])} +- {_number(f['std'])}"
    shown = ", ".join(f"{c} {n / max(f['rows'], 1):.0%}" for c, n in list(zip(f["categories"], f["counts"]))[:5])
    more = len(f["categories"]) - 5 + (1 if f["other"] else 0)
    return shown + (f" (+{more} more)" if more > 0 else "")


class MonitorResult(Result):
    """A monitor report: drift per feature and prediction column, and data quality."""

    def text(self) -> str:
        lines = [self._headline()]
        lines += _text_table(self["features"])
        predictions = self["predictions"]
        if predictions["columns"]:
            lines.append("predictions:")
            lines += _text_table(predictions["columns"])
        elif predictions.get("note"):
            lines.append(f"predictions: {predictions['note']}")
        quality = self["quality"]
        flagged = [f for f in quality["features"] if f["flagged"]]
        lines.append("quality: " + ("no issues" if not flagged else f"{len(flagged)} features with issues"))
        lines += [f"  {f['name']:<20} {'; '.join(f['issues'])}" for f in flagged]
        lines += [f"note: {n}" for n in self.get("notes", [])]
        return "\n".join(lines)

    def _headline(self) -> str:
        drifted = self["drifted"]
        return (
            f"Monitor against {self['against']}: {len(drifted)} of {len(self['features'])} features drifted"
            + (f" ({', '.join(drifted)})" if drifted else "")
            + f"; {self['rows']:,} rows vs {self['reference_rows']:,} in the reference"
        )

    def _repr_html_(self) -> str:
        quality = {q["name"]: q for q in self["quality"]["features"]}
        sections = [
            f"<b>{escape(self._headline())}</b>",
            _html_table(self["features"], quality),
        ]
        predictions = self["predictions"]
        if predictions["columns"]:
            sections += ["<b>Predictions</b>", _html_table(predictions["columns"], {})]
        elif predictions.get("note"):
            sections.append(f'<div class="mh-muted">Predictions: {escape(predictions["note"])}</div>')
        sections += [f'<div class="mh-muted">{escape(n)}</div>' for n in self.get("notes", [])]
        legend = (
            f'<div class="mh-muted">bars: <span style="color:{REFERENCE_COLOUR}">reference</span> / '
            f'<span style="color:{CURRENT_COLOUR}">current</span> share per bin; PSI and JS over the bins, '
            "W1 Wasserstein in the feature's units, KS against the reference quantiles</div>"
        )
        return f'{STYLE}<div class="mh-card">{"".join(sections)}{legend}</div>'


def _html_table(columns: list[dict], quality: dict[str, dict]) -> str:
    head = (
        "<tr><th>feature</th><th>statistic</th><th>value</th><th>threshold</th><th>drift</th>"
        "<th>reference vs current</th><th>other statistics</th>" + ("<th>quality</th>" if quality else "") + "</tr>"
    )
    rows = []
    for c in columns:
        extra = ", ".join(f"{label} {_number(c.get(key))}" for key, label in EXTRA if c.get(key) is not None)
        issues = quality.get(c["name"], {}).get("issues", [])
        quality_cell = (
            f"<td>{'<br>'.join(escape(i) for i in issues) or '<span class=mh-muted>ok</span>'}</td>" if quality else ""
        )
        note = f' <span class="mh-muted">{escape(c["note"])}</span>' if c.get("note") else ""
        rows.append(
            f"<tr><td>{escape(c['name'])} <span class='mh-muted'>{escape(c['kind'])}</span></td>"
            f"<td>{escape(c['statistic'])}</td><td>{_number(c['value'])}</td><td>{_number(c['threshold'])}</td>"
            f"<td>{DRIFTED if c['drifted'] else STABLE}{note}</td>"
            f"<td>{histogram_svg(c.get('reference', []), c.get('current', []), c.get('bins', []))}</td>"
            f"<td class='mh-muted'>{escape(extra)}</td>{quality_cell}</tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _text_table(columns: list[dict]) -> list[str]:
    lines = [f"  {'feature':<20} {'statistic':<15} {'value':>9} {'threshold':>9}  drift"]
    for c in columns:
        lines.append(
            f"  {c['name']:<20} {c['statistic']:<15} {_number(c['value']):>9} {_number(c['threshold']):>9}  "
            f"{'DRIFTED' if c['drifted'] else 'ok'}{('  (' + c['note'] + ')') if c.get('note') else ''}"
        )
    return lines


class EndpointMonitorResult(MonitorResult):
    """A monitor report of an endpoint's window: a MonitorResult, with performance and comparison."""

    def _headline(self) -> str:
        return (
            f"Endpoint {self['endpoint']} ({self['deployment']}, {self['version']}), {self['since']} to "
            f"{self['until']}: " + super()._headline()
        )

    def text(self) -> str:
        lines = [super().text(), _requests_line(self)]
        lines += _performance_text(self.get("performance"))
        lines += _comparison_text(self.get("comparison"))
        return "\n".join(line for line in lines if line)

    def _repr_html_(self) -> str:
        base = super()._repr_html_()
        extra = f'<div class="mh-muted">{escape(_requests_line(self))}</div>'
        extra += _performance_html(self.get("performance")) + _comparison_html(self.get("comparison"))
        return base[: -len("</div>")] + extra + "</div>"


def _requests_line(report: dict) -> str:
    skipped = ", ".join(f"{n} {why}" for why, n in (report.get("skipped") or {}).items())
    sampled = f" (sampled from {report['sampled_from']:,})" if report["sampled_from"] > report["requests"] else ""
    return f"{report['requests']:,} requests{sampled}" + (f"; left out: {skipped}" if skipped else "")


def _performance_text(p: dict | None) -> list[str]:
    if not p:
        return []
    if p["task"] == "none":
        return [f"performance: {p['note']}"]
    lines = [f"performance: {p['metric']} {_number(p['value'])} over {p['labelled']:,} labelled rows of {p['rows']:,}"]
    lines += [f"  {b['start']}  {b['rows']:>6} rows  {p['metric']} {_number(b['value'])}" for b in p["buckets"]]
    return lines


def _performance_html(p: dict | None) -> str:
    if not p:
        return ""
    if p["task"] == "none":
        return f'<div class="mh-muted">Performance: {escape(p["note"])}</div>'
    values = [b["value"] for b in p["buckets"] if b["value"] is not None]
    return (
        f"<b>Performance</b>: {escape(p['metric'])} <b>{_number(p['value'])}</b> over {p['labelled']:,} labelled rows "
        f"of {p['rows']:,} {line_svg(values)}"
        f'<div class="mh-muted">per {p["bucket_seconds"] // 60} min: '
        + ", ".join(f"{escape(b['start'][11:16])} {_number(b['value'])} ({b['rows']})" for b in p["buckets"])
        + "</div>"
    )


def line_svg(values: list[float], width: int = 150, height: int = 30) -> str:
    """A metric over time as a small line (no axes: the numbers are beside it)."""
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    points = " ".join(
        f"{i * width / (len(values) - 1):.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
    )
    return (
        f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="metric per time bucket"><polyline points="{points}" fill="none" '
        f'stroke="{CURRENT_COLOUR}" stroke-width="1.5"/></svg>'
    )


def _comparison_text(c: dict | None) -> list[str]:
    if not c:
        return []
    lines = ["deployments:"]
    lines += [
        f"  {d['deployment']:<16} {d['requests']:>7} requests ({d['share']:.0%}), {d['failed']} failed"
        + (f", {d['mirrored']} mirrored" if d["mirrored"] else "")
        for d in c["deployments"]
    ]
    m = c.get("mirror")
    if m:
        lines.append(
            f"  mirror {m['deployment']} vs {m['against']}: {m['pairs']:,} rows, agreement {_share(m['agreement'])}"
            + (f", max probability difference {_number(m['max_probability_difference'])}"
               if m.get("max_probability_difference") is not None else "")
        )  # fmt: skip
    d = c.get("difference")
    if d:
        lines.append("  " + _difference(d))
    if c.get("note"):
        lines.append(f"  {c['note']}")
    return lines


def _difference(d: dict) -> str:
    verdict = "they differ (95%)" if d["decided"] else "not decided yet"
    needed = f"; about {d['needed']:,} labelled rows each would decide a difference this large" if d["needed"] else ""
    return (
        f"{d['metric']}: {d['b']} {_number(d['b_value'])} vs {d['a']} {_number(d['a_value'])}, difference "
        f"{d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] on {d['a_rows']:,}/{d['b_rows']:,} rows"
        f"{' (paired)' if d['paired'] else ''}: {verdict}{needed}"
    )


def _comparison_html(c: dict | None) -> str:
    if not c:
        return ""
    lines = _comparison_text(c)[1:]
    return "<b>Deployments</b>" + "".join(f"<div>{escape(line.strip())}</div>" for line in lines)


def _share(value) -> str:
    return "-" if value is None else f"{value:.1%}"


class LabelsStored(Result):
    def text(self) -> str:
        return (
            f"{self['stored']:,} labels stored for endpoint {self['endpoint']} ({self['matched']:,} match collected "
            f"requests, {self['replaced']:,} replaced earlier ones); {self['total']:,} in all"
        )


class ReplayResult(Result):
    """A replay report: agreement, the rows that changed, latency side by side."""

    def _headline(self) -> str:
        return (
            f"Replayed {self['requests']:,} requests of {self['endpoint']} ({self['original']}, "
            f"{self['original_version']}) to {self['candidate']} ({self['version']}): agreement "
            f"{_share(self['agreement'])} on {self['rows']:,} rows, {self['changed']:,} changed"
        )

    def text(self) -> str:
        lat = self["latency"]
        lines = [self._headline()]
        if self.get("max_probability_difference") is not None:
            lines.append(f"max probability difference {_number(self['max_probability_difference'])}")
        lines.append(
            "latency p50/p95 ms: original "
            f"{_number(lat['original']['p50_ms'])}/{_number(lat['original']['p95_ms'])}, candidate "
            f"{_number(lat['candidate']['p50_ms'])}/{_number(lat['candidate']['p95_ms'])}"
        )
        if self["failed"]["candidate"]:
            lines.append(f"the candidate failed {self['failed']['candidate']} requests")
        for row in self["changed_rows"][:20]:
            lines.append(f"  {row['request_id']}[{row['row']}]: {row['original']} -> {row['candidate']}")
        lines += [f"note: {n}" for n in self.get("notes", [])]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        lat = self["latency"]
        latency = (
            "<table><tr><th>latency (ms)</th><th>p50</th><th>p95</th><th>requests</th></tr>"
            + "".join(
                f"<tr><td>{side}</td><td>{_number(lat[side]['p50_ms'])}</td><td>{_number(lat[side]['p95_ms'])}</td>"
                f"<td>{lat[side]['requests']:,}</td></tr>"
                for side in ("original", "candidate")
            )
            + "</table>"
        )
        rows = self["changed_rows"]
        keys = list(rows[0]["inputs"])[:8] if rows else []
        changed = ""
        if rows:
            head = "".join(f"<th>{escape(k)}</th>" for k in ["request", "original", "candidate", "max dp", *keys])
            body = "".join(
                f"<tr><td><code>{escape(r['request_id'][:12])}</code>[{r['row']}]</td><td>{escape(r['original'])}</td>"
                f"<td><b>{escape(r['candidate'])}</b></td><td>{_number(r.get('probability_difference'))}</td>"
                + "".join(f"<td>{escape(_cell(r['inputs'].get(k)))}</td>" for k in keys)
                + "</tr>"
                for r in rows
            )
            more = f" (the first {len(rows)} of {self['changed']:,})" if self["changed"] > len(rows) else ""
            changed = f"<b>Rows that changed{more}</b><table><tr>{head}</tr>{body}</table>"
        spread = self.get("max_probability_difference")
        notes = "".join(f'<div class="mh-muted">{escape(n)}</div>' for n in self.get("notes", []))
        return (
            f'{STYLE}<div class="mh-card"><b>{escape(self._headline())}</b>'
            + (f"<div>max probability difference {_number(spread)}</div>" if spread is not None else "")
            + f"{latency}{changed}{notes}</div>"
        )


def _cell(value) -> str:
    return _number(value) if isinstance(value, float) else str(value)
