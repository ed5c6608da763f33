"""ModelConverter: a registered scikit-learn version in, a verified ONNX version out.

The steps: load the version's pickled model, convert it (``onnx``), check the result against the
original on the stored input example and the caller's sample (``equivalence``), time both
(``speed``), and register the ONNX file as a new version of the same model with the reports as
properties and ``derived_from`` pointing at the original. A conversion that does not compute the
same thing registers nothing unless forced, and is then tagged ``equivalence=failed``.

The ONNX version's signature is the original's, outputs included (recorded here from the
original model when its signature names none): the scoring runtime answers with those names and
dtypes, so the two versions are interchangeable behind one endpoint.

Everything here blocks (conversion and timing take seconds) and unpickles the user's model, so
it runs in an operation's worker process (the ``convert`` kind, ``convert.contributions``), never in the server.
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

import numpy as np
from traitlets import Enum, Float, Integer
from traitlets.config import LoggingConfigurable

from ..errors import InvalidInput
from ..flavors import PICKLE_SUFFIXES
from ..progress import Progress
from . import equivalence, inputs, onnx, speed
from .errors import NotEquivalent, UnsupportedModel

MODEL_FILE = "model.onnx"
EXAMPLE_ROWS = 5


class ModelConverter(LoggingConfigurable):
    """Converts registered scikit-learn models to ONNX, verified and timed."""

    tolerance_float32 = Float(
        1e-4,
        config=True,
        help="Default tolerance with float32 inputs: allowed |onnx - original|, absolute for values up to 1 "
        "(probabilities), relative above. float32 carries about 7 significant digits, and a model "
        "sums hundreds of rounded terms (trees, kernels, layers): 1e-5 fails honest conversions.",
    )
    tolerance_float64 = Float(
        1e-6,
        config=True,
        help="Default tolerance with float64 inputs (same rule). Not much tighter than float32's: skl2onnx "
        "keeps tree leaves and SVM coefficients in float32 even in a float64 graph (differences ~1e-7).",
    )
    dtype = Enum(
        list(onnx.DTYPES),
        "float32",
        config=True,
        help="Default float type of the ONNX inputs; float64 where skl2onnx supports it for the model.",
    )
    opset = Integer(
        None,
        allow_none=True,
        config=True,
        help="Default ONNX opset; None takes the newest one the installed skl2onnx has tested.",
    )
    timing_budget = Float(1.5, config=True, help="Seconds the speed report may spend timing one conversion.")
    batch_rows = Integer(10_000, config=True, help="Rows in the batch the throughput is measured on.")
    onnx_threads = Integer(
        1,
        config=True,
        help="onnxruntime intra-op threads for single rows (a scoring server answers one request per "
        "thread; 1 gives the lowest single-row latency).",
    )
    onnx_batch_threads = Integer(
        0,
        config=True,
        help="onnxruntime intra-op threads for the 10,000-row batch; 0 means one per CPU.",
    )
    max_sample_rows = Integer(10_000, config=True, help="Most rows a caller's sample may have.")

    def __init__(self, registry, **kwargs):
        super().__init__(**kwargs)
        self.registry = registry

    def convert(
        self,
        ref: str,
        *,
        to: str = "onnx",
        sample: object = None,
        opset: int | None = None,
        dtype: str | None = None,
        tolerance: float | None = None,
        force: bool = False,
        user: str = "",
        progress: Progress | None = None,
    ) -> dict:
        """Convert version ``ref``; returns ``{"version", "equivalence", "speed", "conversion"}``.

        ``sample`` is rows in the input example's format (JSON lists, or a split-DataFrame dict).
        Raises ``UnsupportedModel`` (flavor or estimator that cannot be converted),
        ``NotEquivalent`` (outputs differ beyond ``tolerance``; carries ``report``; nothing is
        registered unless ``force``), ``InvalidInput`` and ``NotFound`` as the registry does.
        """
        started = time.perf_counter()
        progress = progress or Progress()
        version, model_path, (dtype, tolerance, opset) = self.check(ref, to, dtype, tolerance, opset)
        proof = self._prove(version, str(model_path), sample, dtype, tolerance, opset, progress)
        report, timing, conversion = proof["equivalence"], proof["speed"], proof["conversion"]
        if not report["passed"] and not force:
            raise NotEquivalent(proof["refusal"], report)
        progress.step("registering the ONNX version", 4)
        with progress.final():
            registered = self._register(
                version, proof["model_bytes"], proof["signature"], proof["example"], report, timing, conversion, user
            )
        self.log.info(
            "converted %s -> %s (%s, equivalence %s, %.0fx single-row, %.1fx batch) in %.1f s",
            version["ref"],
            registered["ref"],
            dtype,
            "passed" if report["passed"] else "FAILED (forced)",
            timing["speedup"]["latency"] or 0,
            timing["speedup"]["throughput"] or 0,
            time.perf_counter() - started,
        )
        return {"version": registered, "equivalence": report, "speed": timing, "conversion": conversion}

    def check(
        self,
        ref: str,
        to: str = "onnx",
        dtype: str | None = None,
        tolerance: float | None = None,
        opset: int | None = None,
    ) -> tuple[dict, Path, tuple[str, float, int | None]]:
        """What can be checked before converting (the options, the version, its model file):
        the REST API calls this so that a bad request is a 400 at once, not a failed operation."""
        options = self._options(to, dtype, tolerance, opset)
        version = self.registry.get_version(ref)
        return version, self._model_file(version), options

    def _prove(
        self,
        version: dict,
        model_path: str,
        sample: object,
        dtype: str,
        tolerance: float,
        opset: int | None,
        progress: Progress,
    ) -> dict:
        """Load, convert, check and time: everything but registering."""
        source = version["ref"]
        progress.step(f"loading {source}", 0, 5)
        model = onnx.load_sklearn(Path(model_path), source)
        spec, datasets = self._datasets(version, sample)
        spec = onnx.input_layout(model, spec)
        progress.step("converting to ONNX", 1, 5)
        model_bytes = onnx.convert(model, spec, dtype=dtype, opset=opset, name=source)
        session = onnx.session(model_bytes, threads=self.onnx_threads, dtype=dtype)
        progress.step("checking equivalence", 2, 5)
        report = self._compare(model, session, spec, datasets, dtype, tolerance)
        refusal = None
        if not report["passed"]:
            refusal = (
                f"The ONNX conversion of {source} does not match the original within tolerance {tolerance:g} "
                f"({dtype}): {equivalence.summary(report)}. Nothing was registered. Try "
                + ("dtype float64, " if dtype == "float32" else "")
                + "a larger tolerance, or force to register it tagged equivalence=failed."
            )
        progress.step("timing the original and the ONNX model", 3, 5)
        timing = self._speed(model, model_bytes, session, spec, datasets, dtype)
        signature = dict(version["signature"] or spec.signature())
        signature["outputs"] = signature.get("outputs") or original_outputs(model, datasets[0][1])
        if len(signature["outputs"]) > len(session.get_outputs()):
            raise UnsupportedModel(
                f"{source}'s signature names outputs {[o['name'] for o in signature['outputs']]}, but its ONNX "
                f"conversion has only {[o.name for o in session.get_outputs()]}; register the original with a "
                "signature of its predictions (--sample) or without outputs."
            )
        return {
            "model_bytes": model_bytes,
            "equivalence": report,
            "speed": timing,
            "refusal": refusal,
            "conversion": self._conversion_info(model_bytes, source, dtype, session, spec),
            "signature": signature,
            "example": version["input_example"]
            if version["input_example"] is not None
            else _example_rows(datasets[-1][1]),  # registered without one: the sample's first rows
        }

    # -- steps -----------------------------------------------------------------------------

    def _options(self, to: str, dtype: str | None, tolerance: float | None, opset: int | None):
        if to != "onnx":
            raise InvalidInput(f"Cannot convert to {to!r}: the only target is 'onnx'.")
        dtype = dtype or self.dtype
        if dtype not in onnx.DTYPES:
            raise InvalidInput(f"Invalid dtype {dtype!r}: expected float32 or float64.")
        if tolerance is None:
            tolerance = self.tolerance_float32 if dtype == "float32" else self.tolerance_float64
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < np.inf:
            raise InvalidInput(f"Invalid tolerance {tolerance!r}: expected a number such as 1e-4, 0 or more.")
        opset = opset if opset is not None else self.opset
        low, high = onnx.MIN_OPSET, onnx.MAX_OPSET
        valid_opset = isinstance(opset, int) and not isinstance(opset, bool) and low <= opset <= high
        if opset is not None and not valid_opset:
            raise InvalidInput(f"Invalid opset {opset!r}: expected a number from {low} to {high}.")
        return dtype, float(tolerance), opset

    def _model_file(self, version: dict):
        flavor = version["flavor"]
        if flavor == "onnx":
            origin = f", converted from {version['derived_from']}" if version["derived_from"] else ""
            raise UnsupportedModel(f"{version['ref']} is already an ONNX model (flavor 'onnx'{origin}).")
        if flavor != "sklearn":
            raise UnsupportedModel(
                f"Converting {flavor!r} models to ONNX is not supported yet; {version['ref']} has flavor "
                f"{flavor!r}. Only scikit-learn models (flavor 'sklearn') can be converted."
            )
        paths = [f["path"] for f in version["files"]]
        pickles = [p for p in paths if p.endswith(PICKLE_SUFFIXES)]
        named = [p for p in pickles if p.rsplit("/", 1)[-1] == "model.joblib"]  # in a registered folder too
        name = named[0] if len(named) == 1 else (pickles[0] if len(pickles) == 1 else None)
        if name is None:
            raise UnsupportedModel(
                f"{version['ref']} has no single model file to convert: expected model.joblib or one "
                f".joblib/.pkl file, found {', '.join(paths[:10])}."
            )
        path, _ = self.registry.file_path(version["ref"], name)
        return path

    def _datasets(self, version: dict, sample: object) -> tuple[inputs.InputSpec, list[tuple[str, object]]]:
        """The input description and the rows to check on: (name, DataFrame or array) pairs."""
        if version["signature"]:
            spec = inputs.spec_from_signature(version["signature"])
        elif sample is not None:
            spec = inputs.spec_from_rows(sample)
        else:
            raise InvalidInput(
                f"{version['ref']} has no signature or input example, so there is nothing to check the "
                "conversion on: pass a sample of inputs (e.g. --sample X_test[:100])."
            )
        datasets = []
        if version["input_example"] is not None:
            datasets.append(("input_example", inputs.parse_rows(version["input_example"], spec, "input example")))
        if sample is not None:
            rows = inputs.parse_rows(sample, spec, "sample")
            if inputs.row_count(rows) > self.max_sample_rows:
                raise InvalidInput(
                    f"The sample has {inputs.row_count(rows)} rows; at most {self.max_sample_rows} are used "
                    "to check a conversion. Pass fewer rows."
                )
            datasets.append(("sample", rows))
        if not datasets:
            raise InvalidInput(
                f"{version['ref']} has no input example to check the conversion on: pass a sample of "
                "inputs (e.g. --sample X_test[:100])."
            )
        if spec.width is None and not spec.is_table:  # a signature with an unknown width [-1, -1]
            spec = inputs.InputSpec(width=datasets[0][1].shape[1], dtype=spec.dtype)
        return spec, datasets

    def _compare(self, model, session, spec, datasets, dtype: str, tolerance: float) -> dict:
        names = [o.name for o in session.get_outputs()]
        feed_names = [i.name for i in session.get_inputs()]
        comparison = equivalence.Comparison(tolerance, dtype)
        for name, native in datasets:
            try:
                expected = equivalence.expected_outputs(model, native, names)
            except Exception as exc:
                raise InvalidInput(
                    f"The original model fails on the {name.replace('_', ' ')} ({type(exc).__name__}: {exc}); "
                    "the rows must be in the format the model was trained on."
                ) from None
            try:
                actual = session.run(None, inputs.onnx_feeds(native, spec, dtype, feed_names))
            except Exception as exc:
                raise UnsupportedModel(
                    f"onnxruntime cannot run the converted model on the {name.replace('_', ' ')}: "
                    f"{onnx.first_line(exc)}."
                ) from None
            comparison.add(name, expected, dict(zip(names, actual)))
        return comparison.report()

    def _speed(self, model, model_bytes, session, spec, datasets, dtype: str) -> dict:
        import onnxruntime
        import sklearn

        batch_threads = self.onnx_batch_threads or os.cpu_count() or 1
        batch_session = (
            session
            if batch_threads == self.onnx_threads
            else onnx.session(model_bytes, threads=batch_threads, dtype=dtype)
        )
        feed_names = [i.name for i in session.get_inputs()]
        first = datasets[0][1]
        pooled = _concat([native for _, native in datasets])
        row = inputs.take(first, slice(0, 1))
        rows = inputs.batch(pooled, self.batch_rows)
        row_feeds = inputs.onnx_feeds(row, spec, dtype, feed_names)
        batch_feeds = inputs.onnx_feeds(rows, spec, dtype, feed_names)
        return speed.measure(
            original_row=lambda: model.predict(row),
            onnx_row=lambda: session.run(None, row_feeds),
            original_batch=lambda: model.predict(rows),
            onnx_batch=lambda: batch_session.run(None, batch_feeds),
            batch_rows=self.batch_rows,
            budget_s=self.timing_budget,
            runtimes={
                "original": {"runtime": f"scikit-learn {sklearn.__version__}", "method": "predict"},
                "onnx": {
                    "runtime": f"onnxruntime {onnxruntime.__version__}",
                    "graph_optimization": "ORT_ENABLE_ALL",
                    "threads": {"latency": self.onnx_threads, "batch": batch_threads},
                },
            },
        )

    @staticmethod
    def _conversion_info(model_bytes: bytes, source: str, dtype: str, session, spec: inputs.InputSpec) -> dict:
        import skl2onnx

        def describe(values) -> list[dict]:
            return [
                {"name": v.name, "type": v.type, "shape": [d if isinstance(d, int) else -1 for d in v.shape]}
                for v in values
            ]

        return {
            "from": source,
            "converter": f"skl2onnx {skl2onnx.__version__}",
            "opsets": onnx.opsets(model_bytes),
            "dtype": dtype,
            "onnx_inputs": describe(session.get_inputs()),
            "onnx_outputs": describe(session.get_outputs()),
            "size": len(model_bytes),
            # a stacked table: the columns that make the graph's one input, in order (the signature,
            # what clients send, keeps them as columns)
            **({"input_columns": [c.name for c in spec.columns]} if spec.stacked else {}),
        }

    def _register(self, version, model_bytes, signature, example, report, timing, conversion, user) -> dict:
        upload_id, path = self.registry.artifacts.new_upload()
        info = tarfile.TarInfo(MODEL_FILE)
        info.size = len(model_bytes)
        info.mode = 0o644
        with tarfile.open(path, "w") as tar:
            tar.addfile(info, io.BytesIO(model_bytes))
        passed = report["passed"]
        description = (
            f"ONNX conversion of {conversion['from']} ({conversion['converter']}, opset "
            f"{conversion['opsets'].get('ai.onnx')}, {conversion['dtype']}): "
            + (
                f"equivalent within {report['tolerance']:g} on {report['rows']} rows"
                if passed
                else f"NOT equivalent within {report['tolerance']:g} ({equivalence.summary(report)}); registered by force"
            )
        )
        try:
            return self.registry.register(
                version["name"],
                upload_id,
                flavor="onnx",
                derived_from=version["ref"],
                signature=signature,
                input_example=example,
                tags={"equivalence": "passed" if passed else "failed"},
                properties={"equivalence": report, "speed": timing, "conversion": conversion},
                description=description,
                created_by=user,
            )
        finally:
            self.registry.artifacts.discard_upload(upload_id)


def original_outputs(model, rows) -> list[dict]:
    """The outputs the original answers with when its signature names none, as the scoring
    runtime serves it: its names, and dtypes and shapes from its predictions on ``rows``."""
    from ..serving.scorers import sklearn_output_names

    if not hasattr(model, "predict"):  # a transformer: no scorer serves it, so no contract to keep
        return []
    head = inputs.take(rows, slice(0, EXAMPLE_ROWS))
    names = sklearn_output_names(model)
    values = [np.asarray(model.predict(head))]
    if len(names) > 1:
        values.append(np.asarray(model.predict_proba(head)))
    return [
        {
            "name": name,
            "dtype": "string" if value.dtype.kind in "OUS" else value.dtype.name,
            "shape": [-1, *value.shape[1:]],
        }
        for name, value in zip(names, values)
    ]


def _concat(natives: list):
    if len(natives) == 1:
        return natives[0]
    if hasattr(natives[0], "iloc"):
        import pandas as pd

        return pd.concat(natives, ignore_index=True)
    return np.vstack(natives)


def _example_rows(native) -> object:
    head = inputs.take(native, slice(0, EXAMPLE_ROWS))
    if hasattr(head, "iloc"):
        import orjson

        return {"columns": [str(c) for c in head.columns], "data": orjson.loads(head.to_json(orient="values"))}
    return np.where(np.isfinite(head), head, None).tolist() if head.dtype.kind == "f" else head.tolist()
