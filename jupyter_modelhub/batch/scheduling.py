"""What a schedule of batch scoring starts (``contributions.ScheduleTarget`` of kind ``batch``).

A schedule's inputs are a job request (``POST jobs``): a batch endpoint (``endpoint``) or a
model (``model``), the files to score, and optionally an output, overwrite, settings and the
folder a default output goes in (``cwd``). At each time the request is submitted as any job is:
the batch endpoint's newest version, the alias as it points then, the files that match then.
Saving the schedule checks the request as a job would be checked, so a schedule that cannot
work is refused when it is saved.

Not here: the schedules and firing them (``operations.schedules``, ``operations.scheduler``).
"""

from __future__ import annotations

from ..errors import InvalidInput, NotFound
from . import locations

FIELDS = ("endpoint", "model", "inputs", "output", "overwrite", "entry_script", "settings", "cwd")


def check(services, inputs: dict) -> dict:
    """The request as saved, once it passed the checks of a job."""
    unknown = sorted(set(inputs) - set(FIELDS))
    if unknown:
        raise InvalidInput(
            f"Unknown field {unknown[0]!r} in a batch schedule's inputs: expected {', '.join(FIELDS)} "
            "(as POST jobs takes them)."
        )
    if not inputs.get("endpoint") and not inputs.get("model"):
        raise InvalidInput("A batch schedule names what to score with: a batch endpoint (endpoint) or a model (model).")
    request = {k: v for k, v in inputs.items() if v is not None}
    prepared = services.batch.prepare(request)
    urls = [*request.get("inputs", []), request.get("output")]
    local = not all(isinstance(u, str) and locations.is_url(u) for u in urls) or bool(prepared.get("entry_script"))
    return {"inputs": request, "subject": request.get("endpoint") or request["model"], "local": local}


def start(services, inputs: dict, user: str) -> dict:
    """Queue the job (checked again now: the files, the model version, the output)."""
    return services.batch.submit(inputs, user=user)


def guard(services, inputs: dict) -> tuple[str, str] | None:
    """Saving it needs write on the model it scores with (a batch endpoint's: its newest version's)."""
    if inputs.get("endpoint"):
        return "model", services.batch.endpoints.get(str(inputs["endpoint"])).model
    target = str(inputs.get("model") or "")
    if target and ":" not in target and "@" not in target:  # a bare name is a batch endpoint's when one has it
        try:
            return "model", services.batch.endpoints.get(target).model
        except NotFound:
            pass
    return ("model", target) if target else None


def shown(inputs: dict) -> dict:
    """Environment variables by name only (their values may be secrets)."""
    settings = inputs.get("settings")
    if not isinstance(settings, dict) or not settings.get("env_vars"):
        return inputs
    return {**inputs, "settings": {**settings, "env_vars": sorted(settings["env_vars"])}}
