"""The monitoring part of the client: reference profiles and monitors (mixed into ModelHubClient).

The data is in the kernel, so the kernel does what needs it: it runs the model for predictions
(the server never loads a pickle), checks the columns against the version's signature before
sending anything, and computes a monitor of a DataFrame against the version's stored profile
(``monitoring.monitor_frames``) without sending the rows anywhere. A reference is profiled by the
server, from rows sent as JSON or, beyond ``JSON_ROWS``, uploaded as Parquet.

An endpoint's traffic is the other way round: its requests were collected on the server, so the
server computes the report (``GET endpoints/{name}/monitor``) and the kernel only shows it; labels
go to the server (``POST endpoints/{name}/labels``, in batches of ``LABELS_PER_REQUEST``), and a
replay is an operation there (``POST endpoints/{name}/replay``).
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

import orjson

from .. import display
from ..errors import InvalidInput, ModelHubError

JSON_ROWS = 20_000  # up to this many rows go as JSON; more as a Parquet upload
LABELS_PER_REQUEST = 100_000
# pandas and scipy are imported when monitoring is used, not with the client (the CLI starts faster)


class MonitoringMethods:
    """``reference`` and ``monitor``."""

    def reference(
        self,
        ref: str,
        data: object = None,
        *,
        model: object = None,
        predictions: object = None,
        source: str = "",
    ) -> display.ReferenceInfo:
        """The version's reference profile; with ``data`` (inputs such as ``X_train``), first make
        it from them and keep it with the version, replacing the one it had.

        ``model`` (an object with ``predict``) or ``predictions`` adds the prediction
        distribution. At least ``MIN_ROWS`` rows are needed.
        """
        from ..monitoring.features import feature_names, input_frame, prediction_frame
        from ..monitoring.profile import MIN_ROWS

        path = self._version_path(ref) + "/reference"
        if data is None:
            return display.ReferenceInfo(self._call("GET", path), ref=str(ref))
        version = self._call("GET", self._version_path(ref))
        signature = version.get("signature")
        frame = input_frame(data, feature_names(signature), "the reference data")
        if len(frame) < MIN_ROWS:
            raise InvalidInput(
                f"A reference profile needs at least {MIN_ROWS} rows; the data has {len(frame)}. "
                "Profile the training set (or a larger sample) instead."
            )
        outputs = prediction_frame(model_predictions(model, data, signature) if model is not None else predictions)
        source = source[:200]
        if len(frame) <= JSON_ROWS:
            body = {"inputs": _rows(frame), "source": source}
            if outputs is not None:
                body["predictions"] = _rows(outputs)
            profile = self._call("PUT", path, json=body)
        else:
            upload = self._upload_frames(frame, outputs)
            profile = self._call("PUT", path, json={"upload_id": upload["upload_id"], "source": source})
        return display.ReferenceInfo(profile, ref=version["ref"])

    def monitor(
        self,
        current: object,
        against: object = None,
        *,
        predictions: object = None,
        model: object = None,
        baseline_predictions: object = None,
        thresholds: dict | None = None,
        window: str | None = None,
        deployment: str | None = None,
    ) -> display.MonitorResult:
        """Drift and data quality of ``current`` (a DataFrame or array of inputs) against a
        version's reference profile (``against="churn:3"``) or a baseline window (``against=`` a
        DataFrame of earlier inputs, with ``baseline_predictions``).

        ``current`` may be an endpoint's name: its collected traffic of the last ``window``
        (``1h`` by default) answered by ``deployment`` (the one with the most traffic by default)
        is compared, on the server, with the reference of the version it serves, another
        version's (``against="churn:3"``) or an earlier window (``against="window:1d"``, the day
        before; ``"window:2h-1h"``); the report adds performance where labels came back
        (``labels``) and the endpoint's deployments compared.

        ``predictions`` (or a ``model`` to compute them) adds the predictions' drift;
        ``thresholds`` changes which statistic decides and where (``monitoring.Thresholds``:
        ``{"numeric_threshold": 0.1, "features": {"age": {"statistic": "ks", "threshold": 0.1}}}``).
        """
        from ..monitoring.drift import compare_frames, monitor_frames

        if isinstance(current, str):
            if predictions is not None or model is not None or baseline_predictions is not None:
                raise InvalidInput(
                    "An endpoint's monitor uses the answers it collected: predictions and model go with a DataFrame."
                )
            if against is not None and not isinstance(against, str):
                raise InvalidInput(
                    "An endpoint's traffic is compared with a version (against='churn:3') or an earlier window "
                    "(against='window:1d'), not with a DataFrame."
                )
            params = {"window": window, "against": against, "deployment": deployment}
            if thresholds:
                params["thresholds"] = orjson.dumps(thresholds).decode()
            report = self._call(
                "GET",
                f"endpoints/{_segment(current)}/monitor",
                params={k: v for k, v in params.items() if v is not None},
            )
            return display.EndpointMonitorResult(report)
        if deployment is not None:
            raise InvalidInput("deployment= chooses an endpoint's deployment; a DataFrame has none.")
        if window is not None:
            raise InvalidInput(
                "--window chooses a time window of an endpoint's collected traffic; a DataFrame has none."
            )
        if against is None:
            raise InvalidInput("Say what to compare with: against='churn:3' (a version's reference) or a DataFrame.")
        if isinstance(against, str):
            version = self._call("GET", self._version_path(against))
            signature = version.get("signature")
            profile = self._call("GET", self._version_path(against) + "/reference")
            if model is not None:
                predictions = model_predictions(model, current, signature)
            report = monitor_frames(current, predictions, profile, signature, thresholds, against=version["ref"])
        else:
            if model is not None:
                predictions = model_predictions(model, current, None)
                baseline_predictions = model_predictions(model, against, None)
            report = compare_frames(current, predictions, against, baseline_predictions, None, thresholds)
        return display.MonitorResult(report.model_dump(mode="json"))

    def labels(
        self,
        endpoint: str,
        data: object,
        *,
        id_column: str = "request_id",
        label_column: str | None = None,
        row_column: str | None = None,
    ) -> display.LabelsStored:
        """Send labels for an endpoint's requests: ``data`` is a DataFrame or a CSV/Parquet file
        with the request ids (the ``x-request-id`` the endpoint answered with) in ``id_column`` and
        the labels in ``label_column`` (by default the one other column, or ``label``);
        ``row_column`` says which row of a request that scored several."""
        frame = _label_frame(data)
        columns = [str(c) for c in frame.columns]
        frame.columns = columns
        label_column = label_column or _label_column(columns, id_column, row_column)
        for name, what in ((id_column, "--id-column"), (label_column, "--label-column"), (row_column, "--row-column")):
            if name is not None and name not in columns:
                raise InvalidInput(f"The labels have no column {name!r} ({what}); they have {', '.join(columns)}.")
        if frame[label_column].isna().any():
            missing = int(frame[label_column].isna().sum())
            raise InvalidInput(f"{missing} rows have no label in {label_column!r}: leave them out or fill them.")
        totals = {"stored": 0, "replaced": 0, "matched": 0, "total": 0, "endpoint": endpoint}
        for start in range(0, len(frame), LABELS_PER_REQUEST):
            part = frame.iloc[start : start + LABELS_PER_REQUEST]
            body = {
                "request_ids": [str(v) for v in part[id_column]],
                "labels": orjson.loads(part[label_column].to_json(orient="values")),
            }
            if row_column is not None:
                body["rows"] = [int(v) for v in part[row_column]]
            answer = self._call("POST", f"endpoints/{_segment(endpoint)}/labels", json=body)
            for key in ("stored", "replaced", "matched"):
                totals[key] += answer[key]
            totals["total"] = answer["total"]
        return display.LabelsStored(totals)

    def replay(
        self,
        endpoint: str,
        to: str | None = None,
        *,
        deployment: str | None = None,
        window: str = "1d",
        limit: int | None = None,
        wait: bool = True,
        progress=None,
    ) -> display.ReplayResult | display.Operation:
        """Send the endpoint's collected requests of the last ``window`` again, to a version
        (``to="churn:4"``: deployed for the replay with no traffic, removed after) or to one of
        its deployments, and compare the answers with those the clients got: agreement, the rows
        that changed, latency side by side. An operation: ``wait=False`` returns it at once."""
        body = {"to": to, "deployment": deployment, "window": window, "limit": limit}
        operation = display.Operation(
            self._call(
                "POST", f"endpoints/{_segment(endpoint)}/replay", json={k: v for k, v in body.items() if v is not None}
            ),
            client=self,
        )
        if not wait:
            return operation
        return display.ReplayResult(self.wait_for(operation["id"], progress=progress).outcome())

    def save_monitor(
        self,
        endpoint: str,
        cron: str,
        alerts: list[str],
        *,
        window: str = "1h",
        against: str | None = None,
        deployment: str | None = None,
        name: str | None = None,
        timezone: str = "UTC",
    ) -> display.Schedule:
        """Run the endpoint's monitor at the times of ``cron`` and alert when a rule of ``alerts``
        is crossed (``["psi>0.2", "drifted>2"]``): a history entry ``monitor.alert`` (the
        webhooks send it) and a notification in the panel. Saved as schedule ``name`` (default
        ``ENDPOINT-monitor``); saving again under that name changes it."""
        inputs = {
            "endpoint": endpoint,
            "window": window,
            "against": against,
            "deployment": deployment,
            "alerts": alerts,
        }
        target = {"kind": "monitor", "inputs": {k: v for k, v in inputs.items() if v is not None}}
        return self.save_schedule(name or monitor_name(endpoint), cron, target, timezone=timezone, replace=True)

    def monitors(self) -> display.ScheduleList:
        """The saved monitors: the schedules that run a monitor."""
        listed = self.schedules()
        return display.ScheduleList(
            {**listed, "schedules": [s for s in listed["schedules"] if s["target"]["kind"] == "monitor"]}
        )

    def _reference_from_sample(self, version: display.VersionInfo, sample: object, model: object):
        """At registration: a sample of at least MIN_ROWS rows becomes the version's reference
        (a smaller one describes noise). A sample that cannot be profiled leaves a warning, not a
        failed registration."""
        from ..monitoring.profile import MIN_ROWS

        if version.get("existing") or _rows_in(sample) < MIN_ROWS:
            return version
        try:
            self.reference(version["ref"], sample, model=model, source="registration sample")
        except ModelHubError as exc:
            warnings.warn(f"{version['ref']} was registered without a reference profile: {exc.message}", stacklevel=3)
            return version
        return display.VersionInfo(self._call("GET", self._version_path(version["ref"])))

    def _upload_frames(self, inputs, outputs) -> dict:
        folder = Path(tempfile.mkdtemp(prefix="modelhub-reference-"))
        try:
            paths = [_parquet(inputs, folder / "inputs.parquet")]
            if outputs is not None:
                paths.append(_parquet(outputs, folder / "predictions.parquet"))
            return self.upload(paths)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def model_predictions(model: object, data: object, signature: dict | None) -> dict:
    """What the model answers for ``data``: ``predict``, and ``predict_proba`` when it has one,
    named as the signature's outputs (``predictions`` and ``probabilities`` by default)."""
    if not hasattr(model, "predict"):
        raise InvalidInput(f"--model gave a {type(model).__name__}, which has no predict(); pass a fitted model.")
    names = [o["name"] for o in (signature or {}).get("outputs") or []] + ["predictions", "probabilities"]
    names = list(dict.fromkeys(names))
    try:
        out = {names[0]: model.predict(data)}
        if hasattr(model, "predict_proba"):
            out[names[1]] = model.predict_proba(data)
    except Exception as exc:  # the user's model on the user's data: its own words
        raise InvalidInput(f"The model could not predict on the data: {type(exc).__name__}: {exc}") from None
    return out


def _rows(frame) -> dict:
    """A frame as ``{"columns", "data"}`` JSON (NaN as null, numpy types as JSON numbers)."""
    return {"columns": [str(c) for c in frame.columns], "data": orjson.loads(frame.to_json(orient="values"))}


def _parquet(frame, path: Path) -> Path:
    frame = frame.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    try:
        frame.to_parquet(path, index=False)
    except Exception as exc:  # pyarrow refuses mixed-type columns: say which
        raise InvalidInput(f"The data cannot be written as Parquet to send it: {exc}") from None
    return path


def _rows_in(sample: object) -> int:
    try:
        return len(sample)
    except TypeError:
        return 0


def _label_frame(data: object):
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data.copy(deep=False)
    if isinstance(data, (str, Path)):
        path = Path(data).expanduser()
        if not path.is_file():
            raise InvalidInput(f"No labels file {str(data)!r} (relative paths start at the working directory).")
        try:
            return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
        except Exception as exc:  # the reader's own words: a file that is not what its name says
            raise InvalidInput(f"{path.name} cannot be read as {path.suffix or 'CSV'}: {exc}") from None
    raise InvalidInput(f"Labels are a DataFrame or a CSV/Parquet file, not a {type(data).__name__}.")


def _label_column(columns: list[str], id_column: str, row_column: str | None) -> str:
    others = [c for c in columns if c not in (id_column, row_column)]
    if len(others) == 1:
        return others[0]
    if "label" in others:
        return "label"
    raise InvalidInput(
        f"Say which column holds the labels (--label-column): the file has {', '.join(others) or 'no other column'}."
    )


def monitor_name(endpoint: str) -> str:
    """The schedule a saved monitor of ``endpoint`` is by default."""
    return f"{endpoint}-monitor"


def _segment(text: str) -> str:
    """A name as one URL path segment (``client.http``'s: that module imports this one, so not at the top)."""
    from .http import _segment as segment

    return segment(text)
