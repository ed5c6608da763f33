"""Saved monitors: an endpoint's monitor run at the times of a schedule, with alert rules.

A saved monitor is a schedule (``operations.schedules``) whose target is an operation of the
``monitor`` kind, with inputs ``{endpoint, window, against, deployment, alerts}``; so listing,
pausing, changing and deleting it are the schedules' own, and each run is an operation with
its report as the result (``%operation ID`` shows it). Saving checks what a run needs (the
endpoint, the window, what it is compared with, each rule), so a monitor that cannot work is
refused when it is saved, not at its first time.

Each run that crosses a rule (``alerts``) records, in one transaction, one history entry
``monitor.alert`` per rule crossed (subject the endpoint; new = rule, value, feature, window,
operation), which the webhooks deliver, and one ``monitor_alert`` event on the feed, which the
panel turns into a notification. A run that crosses nothing records nothing: a monitor that is
quiet is quiet.

Not here: the report (``endpoint``), the rules (``alerts``), firing schedules (``operations``).
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..progress import Progress
from . import alerts
from .endpoint import WINDOW, EndpointMonitor, baseline_bounds, window_bounds

KIND = "monitor"
ALERT = "monitor.alert"  # the history's action (and the webhooks' event)
EVENT = "monitor_alert"  # the events feed's kind
FIELDS = ("endpoint", "window", "against", "deployment", "alerts")


def check(services, inputs: dict) -> dict:
    """The inputs as saved, once a run could use them (``ScheduleTarget.check``)."""
    unknown = sorted(set(inputs) - set(FIELDS))
    if unknown:
        raise InvalidInput(
            f"Unknown field {unknown[0][:40]!r} in a monitor schedule's inputs: expected {', '.join(FIELDS)}."
        )
    endpoint = inputs.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidInput("A saved monitor names the endpoint it watches: endpoint.")
    window = inputs.get("window") or WINDOW
    since, until = window_bounds(window)
    against = inputs.get("against") or None
    if against is not None:
        if not isinstance(against, str):
            raise InvalidInput("against is a version (churn:3) or an earlier window (window:1d).")
        if baseline_bounds(against, since, until) is None:
            against = services.registry.get_version(against)["ref"]
    deployment = inputs.get("deployment") or None
    info = services.deployments.endpoint(endpoint)  # a 404 for an unknown endpoint
    names = [d.name for d in info.deployments]
    if deployment is not None and deployment not in names:
        raise InvalidInput(
            f"Endpoint {endpoint!r} has no deployment {str(deployment)[:64]!r} (it has {', '.join(names) or 'none'})."
        )
    served = sorted({d.model for d in info.deployments})
    if against is not None and not against.lower().startswith("window:") and against.split(":")[0] not in served:
        # saving needs write on the endpoint's models only: a reference of another model would be read unchecked
        raise InvalidInput(
            f"A saved monitor compares with a version of a model its endpoint serves ({', '.join(served) or 'none'}), "
            f"or an earlier window; {against} is not one."
        )
    rules = alerts.parse_rules(inputs.get("alerts"))
    saved = {
        "endpoint": endpoint,
        "window": window,
        "against": against,
        "deployment": deployment,
        "alerts": [r.text for r in rules],
    }
    return {"inputs": saved, "subject": endpoint, "local": False}


def start(services, inputs: dict, user: str) -> dict:
    """Queue one run (``ScheduleTarget.start``)."""
    return services.operations.submit(KIND, inputs["endpoint"], inputs, user=user)


def guard(services, inputs: dict) -> tuple[str, str] | None:
    """Saving a monitor needs write on the models the endpoint serves, as changing it does."""
    return "endpoint", str(inputs.get("endpoint") or "")


def run(services, inputs: dict, progress: Progress) -> tuple[dict, dict]:
    """The operation's work, in its worker: the report, and what it crossed recorded."""
    endpoint, window = inputs["endpoint"], inputs.get("window") or WINDOW
    rules = alerts.parse_rules(inputs.get("alerts") or [])
    progress.step(f"monitoring {endpoint!r} over the last {window}")
    report = EndpointMonitor(services.deployments, services.registry).monitor(
        endpoint, window=window, against=inputs.get("against"), deployment=inputs.get("deployment")
    )
    result = report.model_dump(mode="json")
    crossed = alerts.crossings(rules, result)
    operation = getattr(progress, "id", None)
    if crossed:
        progress.step(f"{len(crossed)} alert(s): {', '.join(c.rule.text for c in crossed)}")
        record(services, endpoint, report.version, window, crossed, operation, inputs.get("user", ""))
    result["alerts"] = [alert_of(c, window, operation) for c in crossed]
    return result, {"type": "endpoint", "endpoint": endpoint}


def alert_of(crossing: alerts.Crossing, window: str, operation: int | None) -> dict:
    return {
        "rule": crossing.rule.text,
        "value": crossing.value,
        "feature": crossing.feature,
        "window": window,
        "operation": operation,
    }


def record(services, endpoint: str, version: str, window: str, crossed, operation, user: str) -> None:
    """One history entry per rule crossed and one event, committed together."""
    from ..refs import parse_ref
    from ..registry import history
    from ..registry.events import record_event

    ref = parse_ref(version)

    def write(session) -> None:
        for crossing in crossed:
            history.record(
                session,
                ALERT,
                endpoint,
                model=ref.name,
                version=ref.version,
                endpoint=endpoint,
                new=alert_of(crossing, window, operation),
                user=user,
            )
        record_event(session, EVENT, endpoint, user=user, operation=operation)

    services.db.write(write)
