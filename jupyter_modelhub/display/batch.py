"""Results of batch scoring: a job (a handle like an operation's, with the mini-batch table, the
output and the executed notebook), the list ``%jobs`` shows, and batch endpoints."""

from __future__ import annotations

import os
from html import escape

from ..words import plural
from .base import STYLE, Listing, Result, state_html
from .operations import _OUTCOME, Operation, duration, progress_text

TABLE_ROWS = 20  # mini-batches shown in the notebook (failed ones always)


def _relative(path: str | None) -> str | None:
    """A path as a link from the notebook (JupyterLab opens relative links as files)."""
    if not path:
        return None
    relative = os.path.relpath(path, os.getcwd())
    return path if relative.startswith("..") else relative


def summary_text(job: dict) -> str:
    s = job.get("summary") or {}
    if not s:
        return ""
    text = (
        f"{s.get('done', 0)}/{plural(s.get('mini_batches', 0), 'mini-batch')}, {s.get('failed', 0)} failed, "
        f"{plural(s.get('rows_out', 0), 'row')}"
    )
    if s.get("failed_files"):
        text += f", {plural(s['failed_files'], 'file')} not scored"
    if s.get("reused"):
        text += f", {s['reused']} reused"
    if s.get("rows_per_second"):
        text += f", {s['rows_per_second']:.0f} rows/s"
    return text


class Job(Operation):
    """A batch job: ``.wait()``, ``.cancel()``, ``.log()`` like any operation, and what it scored."""

    def refresh(self) -> Job:
        self._replace(self._client.job(self["id"]))
        return self

    def wait(self, timeout: float | None = None, progress=None) -> Job:
        super().wait(timeout=timeout, progress=progress)
        return self.refresh()

    def cancel(self) -> Job:
        self._replace(self._client.cancel_job(self["id"]))
        return self

    def outcome(self) -> Job:
        """The job itself once it succeeded; the error it failed with otherwise (as a typed error)."""
        super().outcome()
        return self

    def text(self) -> str:
        lines = [
            f"job {self['id']} {self['endpoint'] or self['model']}: {status_label(self)}"
            + (f"  {progress_text(self)}" if self["active"] else "")
            + (f" in {duration(self):.1f} s" if not self["active"] and duration(self) is not None else "")
        ]
        if summary_text(self):
            lines.append(f"  {summary_text(self)}")
        if self.get("error"):
            lines.append(f"  {self['error']['message']}")
        for row in self._table_rows():
            if row["status"] == "failed":
                lines.append(f"  mini-batch {row['index']} ({', '.join(row['files'])}): {row['error']}")
            for failure in row.get("failed_files") or []:
                lines.append(
                    f"  mini-batch {row['index']}: {failure['file']} failed (its other files were scored): "
                    f"{failure['error']}"
                )
            if row.get("retries") and row["status"] != "retrying":
                lines.append(f"  mini-batch {row['index']} was tried again after: {'; '.join(row['retries'])}")
        if self.get("output") and self["status"] == "succeeded":
            lines.append(f"  output: {self['output']}")
        if self.get("notebook"):
            lines.append(f"  executed notebook: {self['notebook']}")
        return "\n".join(lines)

    def _table_rows(self) -> list[dict]:
        rows = self.get("mini_batches") or []
        shown = rows[:TABLE_ROWS]
        return shown + [r for r in rows[TABLE_ROWS:] if r["status"] in ("failed", "partly failed")]

    def _repr_html_(self) -> str:
        head = (
            f"job <b>{self['id']}</b> <code>{escape(self['endpoint'] or self['model'])}</code> "
            f"{state_html(job_state(self), status_label(self))} "
            + (escape(progress_text(self)) if self["active"] else escape(summary_text(self)))
        )
        error = f'<div style="color:#c62828">{escape(self["error"]["message"])}</div>' if self.get("error") else ""
        rows = "".join(
            f"<tr><td>{r['index']}</td><td>{state_html(_ROW_STATES.get(r['status'], 'healthy'), r['status'])}"
            f"</td><td>{escape(', '.join(r['files']))}</td><td>{r['rows_in'] or 0}</td><td>{r['rows_out'] or 0}</td>"
            f"<td>{r['seconds'] or 0:.2f}</td><td>{r['attempts'] or ''}</td>"
            f"<td>{escape('; '.join(r.get('retries') or []) or r.get('not_retried') or '')}</td>"
            f"<td>{escape(_row_error(r))}</td></tr>"
            for r in self._table_rows()
        )
        table = (
            f"<table><tr><th>mini-batch</th><th>status</th><th>files</th><th>rows in</th><th>rows out</th>"
            f"<th>s</th><th>attempts</th><th>why tried again</th><th>error</th></tr>{rows}</table>"
            if rows
            else ""
        )
        links = []
        if self.get("output") and self["status"] == "succeeded":
            links.append(f"output <code>{escape(self['output'])}</code>")
        if self.get("notebook"):
            links.append(f'<a href="{escape(_relative(self["notebook"]) or "")}" target="_blank">executed notebook</a>')
        foot = (
            " &middot; ".join(links)
            + f' <span class="mh-muted">%job {self["id"]}'
            + (" --cancel stops it" if self["active"] else "")
            + "</span>"
        )
        return f'{STYLE}<div class="mh-card">{head}{error}{table}<div>{foot}</div></div>'


def status_label(job: dict) -> str:
    """The status, and for a job that succeeded with files it could not score, how many."""
    failed = (job.get("summary") or {}).get("failed_files") or 0
    if job["status"] == "succeeded" and failed:
        return f"succeeded, {plural(failed, 'file')} failed"
    return job["status"]


def job_state(job: dict) -> str:
    """The colour of its status: a warning's for a job that succeeded without scoring every file."""
    if job["status"] == "succeeded" and (job.get("summary") or {}).get("failed_files"):
        return "restarting"
    return _OUTCOME.get(job["status"], "")


_ROW_STATES = {"failed": "failed", "partly failed": "restarting", "retrying": "updating"}


def _row_error(row: dict) -> str:
    if row.get("error"):
        return row["error"]
    return "; ".join(f"{f['file']}: {f['error']}" for f in row.get("failed_files") or [])


class JobList(Listing):
    items = "jobs"

    def text(self) -> str:
        if not self["jobs"]:
            return "No batch jobs."
        return "\n".join(
            f"{j['id']:>5} {(j['endpoint'] or j['model']):<24} {status_label(j):<10} "
            f"{progress_text(j) if j['active'] else summary_text(j)}"
            for j in self["jobs"]
        )

    def _repr_html_(self) -> str:
        if not self["jobs"]:
            return f'{STYLE}<div class="mh-card mh-muted">No batch jobs. %batch MODEL INPUTS starts one.</div>'
        rows = "".join(
            f"<tr><td>{j['id']}</td><td><code>{escape(j['endpoint'] or j['model'])}</code></td>"
            f"<td>{state_html(job_state(j), status_label(j))}</td>"
            f"<td>{escape(progress_text(j) if j['active'] else summary_text(j))}</td>"
            f"<td>{escape(j.get('output') or '') if j['status'] == 'succeeded' else ''}</td></tr>"
            for j in self["jobs"]
        )
        return (
            f'{STYLE}<div class="mh-card"><table><tr><th>job</th><th>model or endpoint</th><th>status</th>'
            f"<th>progress</th><th>output</th></tr>{rows}</table></div>"
        )


def _settings_text(settings: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in settings.items() if v not in (None, {}, []))


class BatchEndpointInfo(Result):
    def text(self) -> str:
        return (
            f"batch endpoint {self['name']} v{self['version']}: {self['model']}"
            + (f" with {self['entry_script']}" if self.get("entry_script") else "")
            + f"\n  {_settings_text(self['settings'])}\n  %batch {self['name']} INPUTS runs it"
        )

    def _repr_html_(self) -> str:
        return (
            f'{STYLE}<div class="mh-card">batch endpoint <b>{escape(self["name"])}</b> v{self["version"]} &rarr; '
            f"<code>{escape(self['model'])}</code>"
            + (f" with <code>{escape(self['entry_script'])}</code>" if self.get("entry_script") else "")
            + f'<div class="mh-muted">{escape(_settings_text(self["settings"]))}</div>'
            f'<div class="mh-muted">%batch {escape(self["name"])} INPUTS runs it</div></div>'
        )


class BatchEndpointList(Listing):
    items = "batch_endpoints"

    def text(self) -> str:
        if not self["batch_endpoints"]:
            return "No batch endpoints."
        return "\n".join(
            f"{e['name']:<24} v{e['version']:<4} {e['model']:<20} {_settings_text(e['settings'])}"
            for e in self["batch_endpoints"]
        )

    def _repr_html_(self) -> str:
        if not self["batch_endpoints"]:
            return (
                f'{STYLE}<div class="mh-card mh-muted">No batch endpoints. %batch-endpoint NAME MODEL creates '
                "one.</div>"
            )
        rows = "".join(
            f"<tr><td><b>{escape(e['name'])}</b></td><td>{e['version']}</td>"
            f"<td><code>{escape(e['model'])}</code></td><td>{escape(_settings_text(e['settings']))}</td></tr>"
            for e in self["batch_endpoints"]
        )
        return (
            f'{STYLE}<div class="mh-card"><table><tr><th>name</th><th>version</th><th>model</th><th>settings</th>'
            f"</tr>{rows}</table></div>"
        )
