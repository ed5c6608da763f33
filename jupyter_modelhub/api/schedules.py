"""REST handlers of schedules: list and save (``schedules``), show, change, pause or resume, and
delete one (``schedules/{name or id}``).

Saving or changing a schedule needs what starting its operation by hand needs: for a batch
job, write on the model it scores with (a batch endpoint's: its newest version's model). A
listing shows the schedules of the models the user may read.
"""

from __future__ import annotations

from . import schemas
from .base import ModelHubHandler, route


class ScheduleHandlerBase(ModelHubHandler):
    @property
    def schedules(self):
        return self.settings["modelhub_schedules"]

    async def require_guard(self, guard: tuple[str, str] | None, action: str) -> None:
        """The permission a schedule's target asks for (``ScheduleTarget.guard``)."""
        if guard is None:
            return
        what, name = guard
        if what == "endpoint":
            await self.require_endpoint(name, "write", action)
        else:
            await self.require_ref(name, "write", action)


class SchedulesHandler(ScheduleHandlerBase):
    @route
    async def get(self):
        """Every schedule the user may see, by name."""
        listed = await self.run(self.schedules.list)
        models = {s.model.split("@")[0].split(":")[0] for s in listed.schedules if s.model}
        if models:
            shown = await self.run(self.permissions.readable_names, self.actor, models)
            listed.schedules = [
                s for s in listed.schedules if not s.model or s.model.split("@")[0].split(":")[0] in shown
            ]
        self.reply(listed)

    @route
    async def post(self):
        """Save a schedule (201); a name in use is a 409."""
        request = self.body(schemas.ScheduleRequest).model_dump()
        guard = await self.run(self.schedules.guard, target=request["target"])
        await self.require_guard(guard, f"schedule {request['target']['kind']} runs with it")
        self.reply(await self.run(self.schedules.create, request, user=self.user_name), status=201)


class ScheduleHandler(ScheduleHandlerBase):
    @route
    async def get(self, key: str):
        guard = await self.run(self.schedules.guard, key)
        if guard is not None and guard[0] == "model":
            await self.require_ref(guard[1], "read", "see its schedule")
        self.reply(await self.run(self.schedules.get, key))

    @route
    async def patch(self, key: str):
        """Change the cron, zone, target or missed policy; ``enabled`` false pauses it, true resumes."""
        changes = self.body(schemas.ScheduleUpdate).model_dump(exclude_none=True)
        await self.require_guard(await self.run(self.schedules.guard, key), "change its schedule")
        if "target" in changes:
            guard = await self.run(self.schedules.guard, target=changes["target"])
            await self.require_guard(guard, f"schedule {changes['target']['kind']} runs with it")
        self.reply(await self.run(self.schedules.update, key, changes, user=self.user_name))

    @route
    async def delete(self, key: str):
        """Delete the schedule; the operations it started stay."""
        await self.require_guard(await self.run(self.schedules.guard, key), "delete its schedule")
        self.reply(await self.run(self.schedules.delete, key, user=self.user_name))
