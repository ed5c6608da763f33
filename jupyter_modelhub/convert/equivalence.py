"""Does the ONNX model compute what the original computes? The comparison and its report.

Each ONNX output is paired with the original method that produces the same thing: for a
classifier the labels with ``predict`` and the probability matrix with ``predict_proba`` (or
``decision_function`` when there are no probabilities); otherwise the first output with
``predict`` (or ``transform``). Numbers pass when ``|onnx - original| <= tolerance * max(1,
|original|)``: an absolute tolerance for values up to 1 (probabilities), a relative one above
(a regression predicting prices in the thousands). Labels must be equal, except on a tie: a row
whose two best original scores are within the tolerance, where rounding legitimately decides.

The report is a JSON-ready dict (see ``report``); a notebook renders it as a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import UnsupportedModel

MAX_LISTED = 20  # rows listed per output in a report; the counts cover every row


@dataclass
class Expected:
    """One ONNX output and the original model's version of it."""

    name: str
    kind: str  # "label", "probabilities", "scores" or "values"
    method: str  # the original's method that produced ``values``
    values: np.ndarray


@dataclass
class _Output:
    name: str
    kind: str
    method: str
    rows: int = 0
    failing: list[str] = field(default_factory=list)
    ties: list[str] = field(default_factory=list)
    max_abs: float = 0.0
    max_rel: float = 0.0
    max_scaled: float = 0.0
    worst_row: str | None = None
    examples: list[dict] = field(default_factory=list)


def expected_outputs(model: object, native, output_names: list[str]) -> list[Expected]:
    """The original model's outputs for ``native`` rows, paired with the ONNX output names."""
    from sklearn.base import is_classifier

    if is_classifier(model):
        label = Expected(output_names[0], "label", "predict", np.asarray(model.predict(native)))
        if len(output_names) < 2:
            return [label]
        if hasattr(model, "predict_proba"):
            return [
                label,
                Expected(output_names[1], "probabilities", "predict_proba", np.asarray(model.predict_proba(native))),
            ]
        return [
            label,
            Expected(output_names[1], "scores", "decision_function", np.asarray(model.decision_function(native))),
        ]
    if hasattr(model, "predict"):
        found = [Expected(output_names[0], "values", "predict", np.asarray(model.predict(native)))]
        if len(output_names) > 1 and hasattr(model, "transform"):  # clusterers: labels and distances
            found.append(Expected(output_names[1], "values", "transform", np.asarray(model.transform(native))))
        return found
    return [Expected(output_names[0], "values", "transform", np.asarray(model.transform(native)))]


class Comparison:
    """Accumulates datasets (the input example, a sample), then makes the report."""

    def __init__(self, tolerance: float, dtype: str):
        self.tolerance = tolerance
        self.dtype = dtype
        self.datasets: list[dict] = []
        self.outputs: dict[str, _Output] = {}

    def add(self, dataset: str, expected: list[Expected], actual: dict[str, np.ndarray]) -> None:
        rows = len(expected[0].values)
        self.datasets.append({"name": dataset, "rows": rows})
        scores = next((e.values for e in expected if e.kind in ("probabilities", "scores")), None)
        for item in expected:
            out = self.outputs.setdefault(item.name, _Output(item.name, item.kind, item.method))
            out.rows += rows
            got = np.asarray(actual[item.name])
            labels = [f"{dataset}[{i}]" for i in range(rows)]
            if item.kind == "label":
                self._labels(out, item.values, got, scores, labels)
            else:
                self._numbers(out, item.values, got, labels)

    def _labels(self, out: _Output, want: np.ndarray, got: np.ndarray, scores, labels: list[str]) -> None:
        got = got.reshape(want.shape)
        if want.dtype.kind in "biuf" and got.dtype.kind in "biuf":
            equal = want == got
        else:
            equal = want.astype(str) == got.astype(str)
        for i in np.flatnonzero(~equal.reshape(len(want), -1).all(axis=1)):
            entry = {"row": labels[i], "output": out.name, "original": _jsonable(want[i]), "onnx": _jsonable(got[i])}
            if scores is not None and self._is_tie(scores[i]):
                out.ties.append(labels[i])
                entry["tie"] = True
            else:
                out.failing.append(labels[i])
            if len(out.examples) < MAX_LISTED:
                out.examples.append(entry)

    def _is_tie(self, row_scores: np.ndarray) -> bool:
        row = np.abs(np.atleast_1d(row_scores).astype(float))
        if row.size == 1:  # binary decision_function: the sign decides, a tie is a score near 0
            return float(row[0]) <= self.tolerance
        top = np.sort(np.atleast_1d(row_scores).astype(float))[::-1]
        return float(top[0] - top[1]) <= 2 * self.tolerance * max(1.0, abs(float(top[0])))

    def _numbers(self, out: _Output, want: np.ndarray, got: np.ndarray, labels: list[str]) -> None:
        want = want.astype(np.float64)
        got = _aligned(want, got.astype(np.float64))
        diff = np.abs(got - want)
        nan_mismatch = np.isnan(got) != np.isnan(want)
        diff = np.where(np.isnan(diff), np.where(nan_mismatch, np.inf, 0.0), diff)
        scaled = diff / np.maximum(1.0, np.abs(np.nan_to_num(want)))
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(want != 0, diff / np.abs(want), np.where(diff > 0, np.inf, 0.0))
        per_row = scaled.reshape(len(want), -1).max(axis=1)
        if per_row.size and float(per_row.max()) >= out.max_scaled:
            out.worst_row = labels[int(per_row.argmax())]
        out.max_abs = max(out.max_abs, float(np.nanmax(diff)) if diff.size else 0.0)
        out.max_rel = max(out.max_rel, float(np.nanmax(relative)) if relative.size else 0.0)
        out.max_scaled = max(out.max_scaled, float(per_row.max()) if per_row.size else 0.0)
        for i in np.flatnonzero(per_row > self.tolerance):
            out.failing.append(labels[i])
            if len(out.examples) < MAX_LISTED:
                out.examples.append(
                    {
                        "row": labels[i],
                        "output": out.name,
                        "original": _jsonable(want[i]),
                        "onnx": _jsonable(got[i]),
                        "abs_diff": float(diff[i].max()),
                    }
                )

    def report(self) -> dict:
        outputs = [self._output_report(o) for o in self.outputs.values()]
        return {
            "passed": all(o["passed"] for o in outputs),
            "tolerance": self.tolerance,
            "dtype": self.dtype,
            "rule": "|onnx - original| <= tolerance * max(1, |original|); labels equal except ties",
            "rows": sum(d["rows"] for d in self.datasets),
            "datasets": self.datasets,
            "outputs": outputs,
            "differences": [e for o in self.outputs.values() for e in o.examples][:MAX_LISTED],
        }

    @staticmethod
    def _output_report(out: _Output) -> dict:
        entry = {
            "name": out.name,
            "kind": out.kind,
            "compared_with": out.method,
            "rows": out.rows,
            "failing_rows": len(out.failing),
            "failing": out.failing[:MAX_LISTED],
            "passed": not out.failing,
        }
        if out.kind == "label":
            entry["agreement"] = 1.0 - len(out.failing) / out.rows if out.rows else 1.0
            entry["ties"] = out.ties[:MAX_LISTED]
        else:
            entry.update(
                max_abs_diff=_finite(out.max_abs),
                max_rel_diff=_finite(out.max_rel),
                max_scaled_diff=_finite(out.max_scaled),
                worst_row=out.worst_row,
            )
        return entry


def summary(report: dict) -> str:
    """One sentence on what differs, for an error message."""
    parts = []
    for out in report["outputs"]:
        if out["passed"]:
            continue
        rows = ", ".join(out["failing"][:5]) + (" ..." if out["failing_rows"] > 5 else "")
        if out["kind"] == "label":
            parts.append(f"{out['name']} differs on {out['failing_rows']} of {out['rows']} rows ({rows})")
        else:
            parts.append(
                f"{out['name']} differs by up to {_fmt(out['max_abs_diff'])} on "
                f"{out['failing_rows']} of {out['rows']} rows ({rows})"
            )
    return "; ".join(parts) if parts else f"all {report['rows']} rows agree"


def _aligned(want: np.ndarray, got: np.ndarray) -> np.ndarray:
    """``got`` in ``want``'s shape: (n, 1) predictions as (n,), and binary decision scores.

    skl2onnx returns a binary classifier's scores as two columns of opposite sign where
    ``decision_function`` returns one; the column matching it is compared.
    """
    if got.shape == want.shape:
        return got
    if got.size == want.size:
        return got.reshape(want.shape)
    if want.ndim == 1 and got.ndim == 2 and got.shape == (len(want), 2):
        return min((got[:, 0], got[:, 1]), key=lambda column: float(np.nanmax(np.abs(column - want))))
    raise UnsupportedModel(
        f"The ONNX output has shape {list(got.shape)} where the original gives {list(want.shape)}; "
        "the conversion does not compute the same thing."
    )


def _jsonable(value) -> object:
    value = np.asarray(value)
    if value.dtype.kind == "f":
        return (
            [None if not np.isfinite(v) else float(v) for v in value.ravel()]
            if value.ndim
            else (float(value) if np.isfinite(value) else None)
        )
    return value.tolist()


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _fmt(value: float | None) -> str:
    return "NaN/inf" if value is None else f"{value:.3g}"
