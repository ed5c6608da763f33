"""The monitoring magics: ``%reference`` (a version's reference profile), ``%monitor`` (drift and
data quality of new data, or of an endpoint's collected traffic, against it or an earlier
window), ``%labels`` (the truth for an endpoint's requests, for performance) and ``%replay`` (an
endpoint's requests sent to a candidate, the answers compared).

Expressions (``X_train``, ``df_new``) are evaluated in the user's namespace and the work is done
by the client (``client.monitoring``), so the rows stay in the kernel except what a reference
profile is made from; an endpoint's traffic is on the server, which computes its reports. Errors
are one line (``UsageError``).
"""

from __future__ import annotations

import re
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..display import ReplayResult
from .base import ModelHubMagics, pairs

STATISTICS = ("psi", "jensen_shannon", "wasserstein", "ks", "chi_square")
EVERY = re.compile(r"(\d{1,3})\s*([mhd])")


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
    @argument(
        "--against",
        help="the version whose reference profile to compare with (churn:3, churn@production); for an endpoint, "
        "also an earlier window of its traffic: window:1d (the day before --window), window:2h-1h",
    )
    @argument("--baseline", help="expression giving earlier inputs to compare with instead of a reference")
    @argument("--predictions", help="expression giving the model's predictions for the current rows")
    @argument("--model", help="expression giving the fitted model, to compare its predictions too")
    @argument("--window", help="the endpoint's collected traffic of that long ago until now (default 1h)")
    @argument("--deployment", help="the endpoint's deployment whose answers to monitor (default: the most traffic)")
    @argument(
        "--threshold",
        action="append",
        default=[],
        help="STATISTIC=VALUE for every feature of its kind (psi=0.1, chi_square=0.05), or FEATURE:STATISTIC=VALUE",
    )
    @argument("--every", help="save the monitor, run every 15m, 1h, 6h, 1d ... (with --alert)")
    @argument("--cron", help="save the monitor, run at the times of this cron expression (with --alert)")
    @argument(
        "--alert",
        action="append",
        default=[],
        help="a saved monitor's rule: psi>0.2, chi2<0.01, drifted>2, null_rate>0.1, accuracy<0.8, age:ks>0.1",
    )
    @argument("--name", help="the saved monitor's (schedule's) name (default ENDPOINT-monitor)")
    @line_magic
    def monitor(self, line: str):
        """Drift and data quality: ``%monitor --data df_new --against churn:3`` compares each
        feature (PSI for numbers, chi-square for categories; Jensen-Shannon, Wasserstein and KS
        reported too) and the predictions with the version's reference profile; ``--baseline
        df_old`` compares with earlier data instead.

        ``%monitor churn-ep --window 1h`` does it for an endpoint's collected traffic, against the
        reference of the version its primary deployment serves (or ``--against churn:3``, or an
        earlier window: ``--against window:1d``), with accuracy or error over time where labels
        came back (``%labels``) and its deployments compared (split, mirror).

        ``%monitor churn-ep --every 1h --alert "psi>0.2"`` saves it instead: the server runs it
        every hour and, when a rule is crossed, records a ``monitor.alert`` (``%history
        churn-ep``; webhooks send it) and notifies the panel. Again with the same name changes
        it; ``%monitors`` lists them, ``%schedule NAME --delete`` removes one."""
        args = self._parse(self.monitor, line)
        if args.every or args.cron or args.alert or args.name:
            return self._call(save_monitor, self.hub, args, self._ref)
        if args.endpoint is not None:
            if args.data or args.baseline or args.predictions or args.model:
                raise UsageError(
                    "An endpoint's monitor uses its collected requests and answers: --data, --baseline, --predictions "
                    "and --model go without an endpoint."
                )
            return self._call(
                self.hub.monitor,
                args.endpoint,
                str(self._ref(args.against))
                if args.against and not args.against.startswith("window:")
                else args.against,
                window=args.window,
                deployment=args.deployment,
                thresholds=thresholds(args.threshold),
            )
        if args.deployment:
            raise UsageError("--deployment chooses an endpoint's deployment: %monitor ENDPOINT --deployment green")
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

    @magic_arguments()
    @line_magic
    def monitors(self, line: str = ""):
        """The saved monitors (schedules that run an endpoint's monitor, ``%monitor ENDPOINT
        --every 1h --alert ...``): when each runs next and what its last run started."""
        self._parse(self.monitors, line)
        return self._call(self.hub.monitors)

    @magic_arguments()
    @argument("endpoint", help="the endpoint whose requests were labelled")
    @argument("data", help="a CSV or Parquet file, or an expression giving a DataFrame, of request ids and labels")
    @argument("--id-column", default="request_id", help="the column of request ids (default request_id)")
    @argument("--label-column", help="the column of labels (default: the one other column, or 'label')")
    @argument("--row-column", help="the column saying which row of a multi-row request (default: row 0)")
    @line_magic
    def labels(self, line: str):
        """The truth for an endpoint's requests, arrived later: ``%labels churn-ep labels.csv
        --id-column request_id``. Joined on request id (the ``x-request-id`` the endpoint answered
        with), it gives ``%monitor churn-ep`` accuracy or error over time."""
        args = self._parse(self.labels, line)
        data = args.data if _is_file(args.data) else self._eval(args.data, "data")
        return self._call(
            self.hub.labels,
            args.endpoint,
            data,
            id_column=args.id_column,
            label_column=args.label_column,
            row_column=args.row_column,
        )

    @magic_arguments()
    @argument("endpoint", help="the endpoint whose collected requests to replay")
    @argument("--to", help="a version to replay to (churn:4), deployed for the replay with no traffic, then removed")
    @argument("--deployment", help="an existing deployment of the endpoint to replay to, instead of --to")
    @argument("--window", default="1d", help="the requests of that long ago until now (default 1d)")
    @argument("--limit", type=int, help="replay at most this many (default 2000, a sample beyond; at most 20000)")
    @argument("--no-wait", action="store_true", help="return the operation at once instead of waiting for it")
    @line_magic
    def replay(self, line: str):
        """Replay an endpoint's collected requests to a candidate: ``%replay churn-ep --to churn:4
        --window 1d``. Shows the agreement with the answers the clients got, the rows that
        changed and latency side by side. Runs as an operation with a progress bar."""
        args = self._parse(self.replay, line)
        if (args.to is None) == (args.deployment is None):
            raise UsageError("Replay to one of --to VERSION (deployed for the replay) or --deployment NAME.")
        operation = self._call(
            self.hub.replay,
            args.endpoint,
            str(self._ref(args.to)) if args.to else None,
            deployment=args.deployment,
            window=args.window,
            limit=args.limit,
            wait=False,
        )
        if args.no_wait:
            return operation
        result = self._wait(operation, f"replay {args.endpoint}")
        return ReplayResult(result) if result is not operation else operation


def save_monitor(hub, args, ref):
    """What ``%monitor ENDPOINT --every|--cron ... --alert ...`` does: save (or change) the monitor."""
    if args.endpoint is None:
        raise UsageError('A saved monitor watches an endpoint: %monitor ENDPOINT --every 1h --alert "psi>0.2"')
    if (args.every is None) == (args.cron is None):
        raise UsageError('Say when a saved monitor runs with one of --every 1h or --cron "0 * * * *".')
    if not args.alert:
        raise UsageError('A saved monitor alerts on rules: --alert "psi>0.2" (several allowed).')
    if args.data or args.baseline or args.predictions or args.model or args.threshold:
        raise UsageError("A saved monitor watches the endpoint's traffic: --data, --baseline, --predictions, --model "
                         "and --threshold go without --every/--cron.")  # fmt: skip
    against = args.against
    if against and not against.startswith("window:"):
        against = str(ref(against))
    return hub.save_monitor(
        args.endpoint,
        args.cron or every(args.every),
        args.alert,
        window=args.window or "1h",
        against=against,
        deployment=args.deployment,
        name=args.name,
    )


def every(text: str) -> str:
    """``15m`` -> ``*/15 * * * *``, ``1h`` -> ``0 * * * *``, ``6h`` -> ``0 */6 * * *``, ``1d`` -> ``0 0 * * *``."""
    match = EVERY.fullmatch(text.strip()) if len(text) < 16 else None
    count, unit = (int(match[1]), match[2]) if match else (0, "")
    if unit == "m" and count in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30):
        return "* * * * *" if count == 1 else f"*/{count} * * * *"
    if unit == "h" and count in (1, 2, 3, 4, 6, 8, 12):
        return "0 * * * *" if count == 1 else f"0 */{count} * * *"
    if unit == "d" and count == 1:
        return "0 0 * * *"
    raise UsageError(
        f"Invalid --every {text[:20]!r}: use minutes that divide an hour (15m, 30m), hours that divide a day (1h, 6h) "
        'or 1d; for other times give --cron "EXPR".'
    )


def _is_file(text: str) -> bool:
    return text.lower().endswith((".csv", ".parquet")) and Path(text).expanduser().is_file()


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
