"""Promotions that need evidence: an alias under ``c.ModelHubApp.promotion_rules`` (for example
``production``) moves only to a version that passes the alias's checks, and the move records
the evidence it passed with.

The checks, each optional per alias:

- ``equivalence``: a converted version's equivalence report passed (a version that is not a
  conversion does not need one).
- ``parity``: the newest parity report of the version (``%parity`` against its image or
  endpoint, recorded by the kernel) found the same answers.
- ``evaluation``: an evaluation of the version against the version the alias points at now, on
  the same data (``%evaluate churn:4 --data holdout.parquet --target y --against
  churn@production``, computed in the kernel; the newest one's metrics are also the version's
  ``metrics`` property, and what they were measured on its ``evaluation`` property), within the
  rule's thresholds: ``{"accuracy":
  -0.01}`` lets accuracy be at most 0.01 worse than now; for error metrics (rmse, mae...) lower
  is better and the sign is turned. ``true``: an evaluation is needed, with no thresholds.
- ``approval``: approved for the alias by someone other than the version's registrant
  (``%approve churn:4 production``).

A rollback (``%alias churn@production --rollback``) returns the alias to the version it held
before, without the checks: that version was promoted once already, and a rollback is what one
does when the new one misbehaves.

Not here: computing an evaluation (the kernel's, ``client.evaluation``), the REST handlers.
"""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict, Forbidden, InvalidInput
from ..refs import check_alias
from ..store.database import Database
from ..store.orm import Alias, Evidence, ModelVersion
from ..timestamps import iso
from . import history, views

CHECKS = ("equivalence", "parity", "evaluation", "approval")
KINDS = ("evaluation", "parity", "approval")
LOWER_IS_BETTER = frozenset({"rmse", "mse", "mae", "mape", "log_loss", "max_error", "median_absolute_error"})
MAX_METRICS = 64


def check_rules(rules: dict) -> dict:
    """The promotion rules as configured, or a ValueError that says what is wrong with them."""
    checked = {}
    for alias, rule in (rules or {}).items():
        check_alias(alias)
        if not isinstance(rule, dict):
            raise ValueError(f"promotion_rules[{alias!r}] must be a dict of checks ({', '.join(CHECKS)}), not {rule!r}")
        unknown = set(rule) - set(CHECKS)
        if unknown:
            raise ValueError(
                f"promotion_rules[{alias!r}] has unknown checks {sorted(unknown)}; the checks are {', '.join(CHECKS)}"
            )
        evaluation = rule.get("evaluation", False)
        if isinstance(evaluation, dict):
            bad = {m: d for m, d in evaluation.items() if not isinstance(d, (int, float)) or isinstance(d, bool)}
            if bad:
                raise ValueError(
                    f"promotion_rules[{alias!r}]['evaluation'] maps metrics to the change allowed against the "
                    f"current version (e.g. {{'accuracy': -0.01}}); these are not numbers: {bad}"
                )
        checked[alias] = {name: rule[name] for name in CHECKS if rule.get(name)}
    return checked


class Promotions:
    """The rules, the evidence of versions, and the check an alias move goes through."""

    def __init__(self, database: Database, registry, rules: dict):
        self.db = database
        self.registry = registry
        self.rules = check_rules(rules)

    # -- evidence --------------------------------------------------------------------------

    def record(self, ref: str, kind: str, payload: dict, user: str, alias: str | None = None) -> views.Promotion:
        """Keep one piece of evidence for version ``ref``: an evaluation (``metrics``, ``against``,
        ``against_metrics``, ``data``), a parity report (``passed``, ``target``, ``summary``) or an
        approval for ``alias``, which its registrant cannot give."""
        if kind not in KINDS:
            raise InvalidInput(f"Invalid evidence kind {kind!r}: give one of {', '.join(KINDS)}.")
        if kind == "approval":
            if not alias:
                raise InvalidInput("An approval names the alias it approves the version for, e.g. production.")
            check_alias(alias)
        if kind == "evaluation":
            _check_metrics(payload.get("metrics"), "metrics")
            if payload.get("against") is not None:
                _check_metrics(payload.get("against_metrics"), "against_metrics")

        def write(session: Session) -> str:
            row = self.registry.resolve(session, ref)
            label = f"{row.model.name}:{row.version}"
            if kind == "approval" and row.created_by and row.created_by == user:
                raise Forbidden(
                    f"{user} registered {label} and so cannot approve it: an approval is someone else's "
                    f"look at it. Ask another member of the team to run %approve {label} {alias}."
                )
            if kind == "evaluation" and payload.get("against") is not None:
                payload["against"] = _label(self.registry.resolve(session, payload["against"]))
            passed = bool(payload.get("passed", True)) if kind == "parity" else True
            if kind == "evaluation":  # the newest evaluation's metrics are the version's too, as properties
                row.properties = {
                    **(row.properties or {}),
                    "metrics": payload["metrics"],
                    "evaluation": {k: payload.get(k) for k in ("data", "against", "against_metrics")},
                }
            session.add(Evidence(version_id=row.id, kind=kind, alias=alias, passed=passed, payload=payload, user=user))
            action = {"evaluation": "version.evaluated", "parity": "version.parity", "approval": "version.approved"}
            new = {"alias": alias} if kind == "approval" else payload
            history.record(session, action[kind], label, model=row.model.name, version=row.version, new=new, user=user)
            return label

        return self.promotion(self.db.write(write))

    # -- checks ----------------------------------------------------------------------------

    def promotion(self, ref: str) -> views.Promotion:
        """The checks of every alias under rules for version ``ref`` (what the panel shows per
        version), and its evidence."""
        with self.db.read() as session:
            row = self.registry.resolve(session, ref)
            return views.Promotion(
                ref=_label(row),
                aliases=[self._alias_checks(session, row, alias) for alias in self.rules],
                evidence=[_evidence_view(e) for e in self._evidence(session, row)],
            )

    def guard(self, session: Session, row: ModelVersion, alias: str, user: str) -> None:
        """Refuse (409) a move of ``alias`` to ``row`` that fails the alias's rules, naming every
        check missing or failed; a move that passes records the evidence in the history."""
        if alias not in self.rules:
            return
        checks = self._alias_checks(session, row, alias)
        if not checks.allowed:
            lines = [f"- {c.name}: {c.status}: {c.detail}" for c in checks.checks if c.status in ("missing", "failed")]
            raise Conflict(
                f"Cannot point {row.model.name}@{alias} at {_label(row)}: the promotion rules of {alias!r} are not met:\n"
                + "\n".join(lines)
            )
        history.record(
            session,
            "promotion.checked",
            f"{row.model.name}@{alias}",
            model=row.model.name,
            version=row.version,
            new={"alias": alias, "version": row.version, "checks": [c.model_dump() for c in checks.checks]},
            user=user,
        )

    def _alias_checks(self, session: Session, row: ModelVersion, alias: str) -> views.AliasChecks:
        rule = self.rules[alias]
        current = session.get(Alias, (row.model_id, alias))
        current_row = current.version if current is not None else None
        evidence = self._evidence(session, row)
        checks = []
        if "equivalence" in rule:
            checks.append(self._equivalence(row))
        if "parity" in rule:
            checks.append(self._parity(row, evidence))
        if "evaluation" in rule:
            checks.append(self._evaluation(row, current_row, rule["evaluation"], evidence, alias))
        if "approval" in rule:
            checks.append(self._approval(row, alias, evidence))
        return views.AliasChecks(
            alias=alias,
            current=_label(current_row) if current_row is not None else None,
            allowed=all(c.status in ("passed", "not needed") for c in checks),
            checks=checks,
        )

    @staticmethod
    def _equivalence(row: ModelVersion) -> views.PromotionCheck:
        report = (row.properties or {}).get("equivalence")
        if not row.derived_from:
            return views.PromotionCheck(name="equivalence", status="not needed", detail="not a conversion")
        if not isinstance(report, dict):
            return views.PromotionCheck(
                name="equivalence", status="missing", detail=f"no equivalence report with {_label(row)}"
            )
        if report.get("passed"):
            return views.PromotionCheck(name="equivalence", status="passed", detail=f"equivalent to {row.derived_from}")
        return views.PromotionCheck(
            name="equivalence",
            status="failed",
            detail=f"not equivalent to {row.derived_from} (registered by force); convert again with a tolerance it meets",
        )

    @staticmethod
    def _parity(row: ModelVersion, evidence: list[Evidence]) -> views.PromotionCheck:
        report = next((e for e in evidence if e.kind == "parity"), None)
        if report is None:
            return views.PromotionCheck(
                name="parity",
                status="missing",
                detail=f"no parity report: %parity an image or endpoint of {_label(row)} (e.g. %parity churn-ep)",
            )
        target = report.payload.get("target", "?")
        if report.passed:
            return views.PromotionCheck(name="parity", status="passed", detail=f"same answers from {target}")
        return views.PromotionCheck(
            name="parity", status="failed", detail=f"{target} answered differently: {report.payload.get('summary', '')}"
        )

    @staticmethod
    def _approval(row: ModelVersion, alias: str, evidence: list[Evidence]) -> views.PromotionCheck:
        approval = next((e for e in evidence if e.kind == "approval" and e.alias == alias), None)
        if approval is None:
            by = f"someone other than {row.created_by}" if row.created_by else "a member of the team"
            return views.PromotionCheck(
                name="approval",
                status="missing",
                detail=f"not approved for {alias}: {by} runs %approve {_label(row)} {alias}",
            )
        return views.PromotionCheck(
            name="approval", status="passed", detail=f"approved by {approval.user} at {iso(approval.time)}"
        )

    @staticmethod
    def _evaluation(
        row: ModelVersion, current: ModelVersion | None, rule, evidence: list[Evidence], alias: str
    ) -> views.PromotionCheck:
        label = _label(row)
        against = _label(current) if current is not None and current.id != row.id else None
        evaluations = [e for e in evidence if e.kind == "evaluation"]
        if against is not None:
            evaluations = [e for e in evaluations if e.payload.get("against") == against]
        if not evaluations:
            versus = f" --against {row.model.name}@{alias}" if against else ""
            return views.PromotionCheck(
                name="evaluation",
                status="missing",
                detail=f"no evaluation of {label}"
                + (f" against {against} ({row.model.name}@{alias} now)" if against else "")
                + f": %evaluate {label} --data DATA --target COLUMN{versus}",
            )
        evaluation = evaluations[0].payload
        metrics, theirs = evaluation.get("metrics", {}), evaluation.get("against_metrics") or {}
        if against is None or not isinstance(rule, dict):
            shown = ", ".join(f"{m} {v:.4g}" for m, v in sorted(metrics.items()))
            return views.PromotionCheck(name="evaluation", status="passed", detail=f"evaluated: {shown}")
        failures, passes = [], []
        for metric, allowed in rule.items():
            if metric not in metrics or metric not in theirs:
                failures.append(f"{metric} was not measured (the evaluation has {', '.join(sorted(metrics))})")
                continue
            mine, base = metrics[metric], theirs[metric]
            gain = (base - mine) if metric in LOWER_IS_BETTER else (mine - base)
            line = f"{metric} {mine:.4g} vs {base:.4g} ({against})"
            if gain + 1e-12 >= allowed:
                passes.append(line)
            else:
                bound = base - allowed if metric in LOWER_IS_BETTER else base + allowed
                worse = "at most" if metric in LOWER_IS_BETTER else "at least"
                failures.append(f"{line}: needs {worse} {bound:.4g}")
        if failures:
            return views.PromotionCheck(name="evaluation", status="failed", detail="; ".join(failures))
        return views.PromotionCheck(name="evaluation", status="passed", detail="; ".join(passes))

    @staticmethod
    def _evidence(session: Session, row: ModelVersion) -> list[Evidence]:
        return list(
            session.scalars(select(Evidence).where(Evidence.version_id == row.id).order_by(Evidence.id.desc())).all()
        )


def _label(row: ModelVersion) -> str:
    return f"{row.model.name}:{row.version}"


def _check_metrics(metrics, what: str) -> None:
    if not isinstance(metrics, dict) or not metrics or len(metrics) > MAX_METRICS:
        raise InvalidInput(f"An evaluation's {what} is a mapping of 1 to {MAX_METRICS} metric names to numbers.")
    for name, value in metrics.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise InvalidInput(f"Metric {name!r} in {what} must be a finite number, not {value!r}.")


def _evidence_view(e: Evidence) -> views.EvidenceEntry:
    return views.EvidenceEntry(
        id=e.id, kind=e.kind, alias=e.alias, passed=e.passed, payload=e.payload, user=e.user, at=iso(e.time)
    )
