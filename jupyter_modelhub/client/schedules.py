"""The schedules part of the client (mixed into ModelHubClient): list, show, save, change, pause,
resume and delete schedules, and schedule a batch endpoint's runs.

Paths in a batch schedule's inputs are taken from the caller's working folder and sent
absolute, as ``batch`` sends them; the server checks them against its folders when it saves
the schedule and again at every run.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from .. import display
from ..errors import Conflict
from .batch import _absolute


class ScheduleMethods:
    """``schedules``, ``schedule``, ``save_schedule``, ``schedule_batch``, ``change_schedule``,
    ``pause_schedule``, ``resume_schedule`` and ``delete_schedule``."""

    def schedules(self) -> display.ScheduleList:
        listed = self._call("GET", "schedules")
        return display.ScheduleList({**listed, "schedules": [display.Schedule(s) for s in listed["schedules"]]})

    def schedule(self, name: str | int) -> display.Schedule:
        """A schedule by name (or id)."""
        return display.Schedule(self._call("GET", self._schedule_path(name)))

    def save_schedule(
        self,
        name: str,
        cron: str,
        target: dict,
        *,
        timezone: str = "UTC",
        enabled: bool = True,
        missed_policy: str = "skip",
        replace: bool = False,
    ) -> display.Schedule:
        """Save schedule ``name``: ``cron`` (five fields, e.g. ``"0 2 * * *"``) read in ``timezone``
        (an IANA name, e.g. ``"Europe/Paris"``) starts ``target`` (``{"kind": "batch", "inputs":
        {...}}``) at its times. A name in use is a Conflict, unless ``replace``: then that
        schedule takes these times and this target."""
        body = {
            "name": name,
            "cron": cron,
            "timezone": timezone,
            "target": target,
            "enabled": enabled,
            "missed_policy": missed_policy,
        }
        try:
            return display.Schedule(self._call("POST", "schedules", json=body))
        except Conflict:
            if not replace:
                raise
        changes = {k: v for k, v in body.items() if k != "name"}
        return display.Schedule(self._call("PATCH", self._schedule_path(name), json=changes))

    def schedule_batch(
        self,
        name: str,
        endpoint: str,
        inputs,
        cron: str,
        *,
        timezone: str = "UTC",
        output=None,
        missed_policy: str = "skip",
        replace: bool = True,
    ) -> display.Schedule:
        """Run batch endpoint ``endpoint`` over ``inputs`` (files, folders or globs, as ``batch``
        takes them) at the times of ``cron`` in ``timezone``, as schedule ``name``. Each run is
        a job of its own (default output: ``batch-outputs/<endpoint>-<job>`` in this folder)."""
        inputs = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
        request = {"endpoint": endpoint, "inputs": [_absolute(p) for p in inputs], "cwd": os.getcwd()}
        if output is not None:
            request["output"] = _absolute(output)
        target = {"kind": "batch", "inputs": request}
        return self.save_schedule(name, cron, target, timezone=timezone, missed_policy=missed_policy, replace=replace)

    def change_schedule(self, name: str | int, **changes) -> display.Schedule:
        """Change ``cron``, ``timezone``, ``target``, ``missed_policy`` or ``enabled``."""
        body = {k: v for k, v in changes.items() if v is not None}
        return display.Schedule(self._call("PATCH", self._schedule_path(name), json=body))

    def pause_schedule(self, name: str | int) -> display.Schedule:
        """Stop firing it; its times while paused are neither run nor counted as missed."""
        return self.change_schedule(name, enabled=False)

    def resume_schedule(self, name: str | int) -> display.Schedule:
        """Fire it again, from its next time after now."""
        return self.change_schedule(name, enabled=True)

    def delete_schedule(self, name: str | int) -> display.Deleted:
        return display.Deleted(self._call("DELETE", self._schedule_path(name)))

    @staticmethod
    def _schedule_path(name: str | int) -> str:
        return f"schedules/{quote(str(name), safe='')}"
