"""The monitoring magics: ``%reference`` (a version's reference profile) and ``%monitor`` (drift
and data quality of new data against it, or against a baseline window).

Expressions (``X_train``, ``df_new``) are evaluated in the user's namespace and the work is done
by the client (``client.monitoring``), so the rows stay in the kernel except what a reference
profile is made from. Errors are one line (``UsageError``).
"""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .base import ModelHubMagics, pairs

STATISTICS = ("psi", "jensen_shannon", "wasserstein", "ks", "chi_square")


@magics_class
class MonitoringMagics(ModelHubMagics):
    """Reference profiles of versions; drift and data quality of new data against them."""

    @magic_arguments()
    @argument("ref", help="the version: NAME:VERSION, NAME@ALIAS or NAME")
    @argument("data", nargs="?", help="expression giving the inputs to profile (e.g. X_train); omit to show it")
    @argument("--model", help="expression giving the fitted model, to profile its predictions too")
    @argument("--predictions", help="expression giving the model's predictions for those rows")
    @line_magic
    def reference(self, line: str):
        """A version's reference profile: ``%reference churn:3 X_train --model clf`` makes it from
        the training data (at least 100 rows) and keeps it with the version; ``%reference
        churn:3`` shows it. Monitors compare new data with it."""
        args = self._parse(self.reference, line)
        ref = str(self._ref(args.ref))
        if args.data is None:
            if args.model or args.predictions:
                raise UsageError(
                    "--model and --predictions go with data to profile: %reference REF X_train --model clf"
                )
            return self._call(self.hub.reference, ref)
        data = self._eval(args.data, "data")
        model = self._eval(args.model, "--model") if args.model else None
        predictions = self._eval(args.predictions, "--predictions") if args.predictions else None
        return self._call(self.hub.reference, ref, data, model=model, predictions=predictions, source=args.data)

    @magic_arguments()
    @argument("endpoint", nargs="?", help="an endpoint whose collected traffic to monitor (with payload collection)")
    @argument("--data", help="expression giving the current inputs (e.g. df_new)")
    @argument("--against", help="the version whose reference profile to compare with: churn:3, churn@production")
    @argument("--baseline", help="expression giving earlier inputs to compare with instead of a reference")
    @argument("--predictions", help="expression giving the model's predictions for the current rows")
    @argument("--model", help="expression giving the fitted model, to compare its predictions too")
    @argument("--window", help="a time window of the endpoint's collected traffic, e.g. 1h")
    @argument(
        "--threshold",
        action="append",
        default=[],
        help="STATISTIC=VALUE for every feature of its kind (psi=0.1, chi_square=0.05), or FEATURE:STATISTIC=VALUE",
    )
    @line_magic
    def monitor(self, line: str):
        """Drift and data quality: ``%monitor --data df_new --against churn:3`` compares each
        feature (PSI for numbers, chi-square for categories; Jensen-Shannon, Wasserstein and KS
        reported too) and the predictions with the version's reference profile; ``--baseline
        df_old`` compares with earlier data instead."""
        args = self._parse(self.monitor, line)
        if args.endpoint is not None:
            raise UsageError(
                f"Monitoring an endpoint's traffic ({args.endpoint}) needs its collected requests; for now, pass "
                "the data: %monitor --data df_new --against churn:3"
            )
        if args.data is None:
            raise UsageError("Say which data to monitor: %monitor --data df_new --against churn:3")
        if (args.against is None) == (args.baseline is None):
            raise UsageError("Compare with one of --against REF (a version's reference profile) or --baseline EXPR.")
        if args.window:
            raise UsageError("--window chooses a time window of an endpoint's collected traffic; --data has none.")
        current = self._eval(args.data, "--data")
        against = str(self._ref(args.against)) if args.against else self._eval(args.baseline, "--baseline")
        return self._call(
            self.hub.monitor,
            current,
            against,
            predictions=self._eval(args.predictions, "--predictions") if args.predictions else None,
            model=self._eval(args.model, "--model") if args.model else None,
            thresholds=thresholds(args.threshold),
        )


def thresholds(items: list[str]) -> dict | None:
    """``--threshold`` words as ``monitoring.Thresholds`` fields: ``psi=0.1`` (numbers; any
    statistic but chi_square), ``chi_square=0.05`` (categories), ``categorical:psi=0.3`` or
    ``numeric:ks=0.1`` (a kind), ``age:ks=0.1`` (one feature)."""
    if not items:
        return None
    out: dict = {"features": {}}
    for key, text in pairs(items, "--threshold").items():
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"Invalid --threshold {key}={text}: the value is a number, e.g. psi=0.1.") from None
        scope, _, statistic = key.rpartition(":")
        if statistic not in STATISTICS:
            raise UsageError(f"Invalid --threshold {key}={text}: the statistic is one of {', '.join(STATISTICS)}.")
        kind = scope or ("categorical" if statistic == "chi_square" else "numeric")
        if kind in ("numeric", "categorical"):
            out[f"{kind}_statistic"], out[f"{kind}_threshold"] = statistic, value
        else:
            out["features"][scope] = {"statistic": statistic, "threshold": value}
    return out
