"""How schedules show in the notebook and the terminal (``%schedules``, ``%schedule NAME``):
when each fires next, what its last run started, and the runs it missed."""

from __future__ import annotations

from html import escape

from .base import STYLE, Listing, Result
from .registry import shown_time


def _when(schedule: dict) -> str:
    if not schedule["enabled"]:
        return "paused"
    return f"next {shown_time(schedule['next_run_at'])}"


def _last(schedule: dict) -> str:
    if schedule.get("last_error"):
        return (
            f"last run {shown_time(schedule['last_error']['at'])} could not start: {schedule['last_error']['message']}"
        )
    if schedule.get("last_operation"):
        return f"last run {shown_time(schedule['last_run_at'])}: operation {schedule['last_operation']}"
    return "not run yet"


def _missed(schedule: dict) -> str:
    if not schedule["missed"]:
        return ""
    return f"missed {schedule['missed']} (last {shown_time(schedule['last_missed_at'])}: no server was running)"


class Schedule(Result):
    """One schedule: ``s.next_run_at``, ``s.last_operation``, ``s.missed``..."""

    def text(self) -> str:
        target = self["target"]
        lines = [
            f"schedule {self['name']}: {self['cron']} ({self['timezone']}) -> {target['kind']} {target['subject']}",
            f"  {self['description'] or self['cron']}; {_when(self)}",
            f"  {_last(self)}",
        ]
        if _missed(self):
            lines.append(f"  {_missed(self)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f'{STYLE}<div class="mh-card">{_table([self])}</div>'


class ScheduleList(Listing):
    items = "schedules"

    def text(self) -> str:
        if not self["schedules"]:
            return "No schedules. %batch-endpoint NAME MODEL --schedule CRON --inputs FILES... makes one."
        return "\n".join(
            f"{s['name']:<24} {s['cron']:<16} {s['timezone']:<16} {s['target']['kind']} {s['target']['subject']}  "
            f"{_when(s)}; {_last(s)}" + (f"; {_missed(s)}" if _missed(s) else "")
            for s in self["schedules"]
        )

    def _repr_html_(self) -> str:
        if not self["schedules"]:
            return f'{STYLE}<div class="mh-card mh-muted">{escape(self.text())}</div>'
        return f'{STYLE}<div class="mh-card">{_table(self["schedules"])}</div>'


def _table(schedules: list[dict]) -> str:
    rows = "".join(
        f"<tr><td><b>{escape(s['name'])}</b></td>"
        f"<td title='{escape(s['description'])}'><code>{escape(s['cron'])}</code> "
        f"<span class='mh-muted'>{escape(s['timezone'])}</span></td>"
        f"<td>{escape(s['target']['kind'])} {escape(s['target']['subject'])}</td>"
        f"<td>{escape(_when(s))}</td><td>{escape(_last(s))}</td>"
        f"<td class='mh-muted'>{escape(_missed(s))}</td></tr>"
        for s in schedules
    )
    return (
        "<table><tr><th>schedule</th><th>when</th><th>starts</th><th>next</th><th>last run</th>"
        f"<th>missed</th></tr>{rows}</table>"
    )
