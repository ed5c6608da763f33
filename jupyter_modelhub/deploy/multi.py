"""Many versions on one deployment (``%deploy EP --multi --models churn,fraud:2``): which versions,
under which memory budget, and the repository file the scoring runtime reads them from.

``models`` lists references: ``NAME:VERSION`` and ``NAME@ALIAS`` are that one version (an alias
resolved now), a bare ``NAME`` is every version of the model registered now (archived ones
left out). The list is fixed at deploy time: deploy again to serve versions registered since.
The runtime (``serving/repository.py``) loads each version on its first request and unloads the
least recently used to stay within ``memory_budget`` (default 1G), and answers over REST and
gRPC alike; the endpoint's host routes both by the model a request names.

Only the process target, and only built-in scorers (no entry script, no batching): each version
is served by its flavor's scorer.

Not here: loading, unloading, routes (``serving/``); routing to the deployment (``host``).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InvalidInput
from ..flavors import BUILTIN_FLAVORS
from ..serving.repository import DEFAULT_BUDGET, describe_size, parse_size

MAX_VERSIONS = 1000
FIELDS = ("multi", "models", "memory_budget")


def take(fields: dict, target: str) -> dict | None:
    """The deploy request's multi-model fields (taken out of ``fields``), checked; None without ``multi``."""
    multi, models, budget = fields.pop("multi", False), fields.pop("models", None), fields.pop("memory_budget", None)
    if not multi:
        if models or budget:
            raise InvalidInput("--models and --memory-budget apply with --multi (many versions on one deployment).")
        return None
    refs = ([fields["model"]] if fields.get("model") else []) + list(models or [])
    if not refs:
        raise InvalidInput(
            "--multi needs the models to serve: --models churn,fraud:2 (a NAME alone: all its versions)."
        )
    if target != "process":
        raise InvalidInput(f"--multi runs the versions in one local process: not with --target {target}.")
    given = [f"--{k.replace('_', '-')}" for k in ("entry_script", "max_batch_size", "reload") if fields.get(k)]
    if given:
        raise InvalidInput(f"--multi serves each version with its flavor's scorer: {', '.join(given)} do not apply.")
    try:
        size = parse_size(budget) if budget is not None else DEFAULT_BUDGET
    except ValueError as exc:
        raise InvalidInput(f"{exc} (--memory-budget)") from None
    return {"refs": list(dict.fromkeys(refs)), "memory_budget": size}


def resolve(registry, refs: list[str]) -> list[str]:
    """The versions (``NAME:VERSION``) the references name, in order, each once; a 400 for a flavor
    that needs an entry script, a 404 for an unknown model or version."""
    chosen: dict[str, dict] = {}
    for ref in refs:
        if ":" in ref or "@" in ref:
            found = [registry.get_version(ref)]
        else:
            found = [v.as_dict() for v in sorted(registry.model(ref).versions, key=lambda v: v.version)]
            if not found:
                raise InvalidInput(f"Model {ref!r} has no versions to serve (archived ones are left out).")
        for version in found:
            chosen.setdefault(version["ref"], version)
    wrong = [ref for ref, v in chosen.items() if v["flavor"] not in BUILTIN_FLAVORS]
    if wrong:
        raise InvalidInput(
            f"--multi serves {', '.join(BUILTIN_FLAVORS)} versions with their built-in scorers; "
            f"{', '.join(wrong[:5])} need an entry script: deploy them on endpoints of their own."
        )
    if len(chosen) > MAX_VERSIONS:
        raise InvalidInput(f"--multi serves at most {MAX_VERSIONS} versions; the models given have {len(chosen)}.")
    return list(chosen)


def write_repository(path: Path, versions: list[dict], budget: int) -> None:
    """The runtime's ``--repository`` file: each version's name, number, folder, flavor, signature."""
    path.write_text(json.dumps({"models": versions, "memory_budget": budget}))


def describe(settings: dict) -> str:
    multi = settings["multi"]
    return f"{len(multi['versions'])} versions, memory budget {describe_size(multi['memory_budget'])}"
