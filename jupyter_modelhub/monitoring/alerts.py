"""Alert rules of saved monitors: ``psi>0.2``, ``drifted>2``, ``null_rate>0.1``, ``accuracy<0.8``,
parsed strictly when a monitor is saved and checked against each report it makes.

A rule is ``[FEATURE:]STAT>VALUE`` or ``[FEATURE:]STAT<VALUE``:

- a drift statistic of any feature (or of the one named): ``psi``, ``js`` (Jensen-Shannon
  distance), ``wasserstein``, ``ks``, and ``chi2`` (the chi-square p-value of a category: low
  means changed, so ``chi2<0.01``);
- ``drifted``: how many features the report flags as drifted (``drifted>2``);
- ``null_rate``: the share of missing values of any feature (or the one named);
- ``accuracy``: the endpoint's accuracy over its labelled rows (``%labels``); ``mae`` likewise
  for a regression.

A rule is crossed when the value on the report's side of the line is strictly beyond it; over
features, the first feature (in the report's order) with the most extreme value is the one
named. A rule whose value the report has not (no labels yet, a statistic a numeric feature has
not) is not crossed: missing evidence raises no alert.

Not here: saving the monitor and recording what was crossed (``saved``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import InvalidInput

MAX_RULES = 20
MAX_RULE = 200
# the name a user writes -> the field of a feature's drift (``drift.ColumnDrift``)
DRIFT = {
    "psi": "psi",
    "js": "jensen_shannon",
    "jensen_shannon": "jensen_shannon",
    "wasserstein": "wasserstein",
    "ks": "ks",
    "chi2": "chi_square_pvalue",
    "chi_square": "chi_square_pvalue",
}
SCALARS = ("drifted", "accuracy", "mae")  # one value per report: no feature
STATISTICS = (*DRIFT, "null_rate", *SCALARS)
_RULE = re.compile(
    r"^(?:(?P<feature>[A-Za-z0-9_.\-\[\] ]{1,128}):)?(?P<stat>[A-Za-z_0-9]{1,32})\s*(?P<op>[<>])\s*"
    r"(?P<value>[-+]?(?:\d{1,12}(?:\.\d{0,12})?|\.\d{1,12})(?:[eE][-+]?\d{1,3})?)$"
)
EXAMPLES = "psi>0.2, chi2<0.01, drifted>2, null_rate>0.1, accuracy<0.8, age:ks>0.1"


@dataclass(frozen=True)
class Rule:
    statistic: str
    op: str  # ">" or "<"
    threshold: float
    feature: str | None = None

    @property
    def text(self) -> str:
        return f"{self.feature + ':' if self.feature else ''}{self.statistic}{self.op}{self.threshold:g}"


@dataclass(frozen=True)
class Crossing:
    """A rule the report crossed: its value, and the feature it was found on (or None)."""

    rule: Rule
    value: float
    feature: str | None


def parse_rule(text) -> Rule:
    """One rule from its text; an ``InvalidInput`` that says what is expected."""
    if not isinstance(text, str) or len(text) > MAX_RULE:
        raise InvalidInput(f"Invalid alert {str(text)[:60]!r}: a rule is STAT>VALUE or STAT<VALUE, e.g. {EXAMPLES}.")
    match = _RULE.match(text.strip())
    if match is None:
        raise InvalidInput(f"Invalid alert {text[:60]!r}: a rule is STAT>VALUE or STAT<VALUE, e.g. {EXAMPLES}.")
    statistic, feature = match["stat"].lower(), match["feature"]
    if statistic not in STATISTICS:
        raise InvalidInput(
            f"Invalid alert {text[:60]!r}: unknown statistic {statistic!r}; use one of {', '.join(STATISTICS)}."
        )
    if feature is not None and statistic in SCALARS:
        raise InvalidInput(f"Invalid alert {text[:60]!r}: {statistic} is one value per report, not per feature.")
    threshold = float(match["value"])
    if not math.isfinite(threshold):
        raise InvalidInput(f"Invalid alert {text[:60]!r}: the value is a finite number.")
    return Rule(statistic=statistic, op=match["op"], threshold=threshold, feature=feature)


def parse_rules(texts) -> list[Rule]:
    """Every rule of a saved monitor (at least one), each checked, duplicates refused."""
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)) or not texts:
        raise InvalidInput(f"A saved monitor has one or more alert rules (a list), e.g. {EXAMPLES}.")
    if len(texts) > MAX_RULES:
        raise InvalidInput(f"A saved monitor has at most {MAX_RULES} alert rules; it was given {len(texts)}.")
    rules = [parse_rule(t) for t in texts]
    seen = set()
    for rule in rules:
        if rule.text in seen:
            raise InvalidInput(f"Alert {rule.text} is given twice.")
        seen.add(rule.text)
    return rules


def crossings(rules: list[Rule], report: dict) -> list[Crossing]:
    """The rules ``report`` (an endpoint monitor report as JSON) crosses, in the rules' order."""
    out = []
    for rule in rules:
        found = _extreme(rule, _values(rule, report))
        if found is not None:
            out.append(Crossing(rule=rule, value=found[1], feature=found[0]))
    return out


def _values(rule: Rule, report: dict) -> list[tuple[str | None, float | None]]:
    if rule.statistic == "drifted":
        return [(None, float(len(report.get("drifted") or [])))]
    if rule.statistic in ("accuracy", "mae"):
        performance = report.get("performance") or {}
        if performance.get("metric") != rule.statistic:
            return []
        return [(None, performance.get("value"))]
    if rule.statistic == "null_rate":
        rows = (report.get("quality") or {}).get("features") or []
        return [(f["name"], f.get("null_rate")) for f in rows if rule.feature in (None, f["name"])]
    field = DRIFT[rule.statistic]
    return [(f["name"], f.get(field)) for f in report.get("features") or [] if rule.feature in (None, f["name"])]


def _extreme(rule: Rule, values) -> tuple[str | None, float] | None:
    """The value furthest beyond the line (the first of equals), or None when none is beyond it."""
    best = None
    for feature, value in values:
        if value is None or not math.isfinite(float(value)):
            continue
        value = float(value)
        beyond = value > rule.threshold if rule.op == ">" else value < rule.threshold
        if not beyond:
            continue
        if best is None or (value > best[1] if rule.op == ">" else value < best[1]):
            best = (feature, value)
    return best
