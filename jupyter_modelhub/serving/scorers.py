"""What turns a request into predictions: a built-in scorer for the model's flavor, or an entry script.

- :class:`OnnxScorer`: an onnxruntime session using the threads its worker is given.
- :class:`SklearnScorer`: a joblib/pickle estimator; ``predict``, and ``predict_proba`` where the
  model has it (named ``label`` and ``probabilities`` when the signature names no outputs, as
  skl2onnx names them), in one call where the labels follow from the probabilities.
- :class:`MlflowScorer`: ``mlflow.pyfunc``, when mlflow is installed.
- :class:`EntryScript`: Azure ML's contract, ``init()`` once per worker and ``run(raw_data)`` per
  request, with the model folder in ``AZUREML_MODEL_DIR`` and ``MODELHUB_MODEL_DIR``.

Built-in scorers take and return dicts of arrays by name, so protocols and batching never depend
on the flavor; their outputs are the signature's (names, dtypes, order: ``outputs.py``), so a
model and its ONNX conversion answer alike. A registered folder keeps its name, so the model is
looked for in that folder (:func:`model_root`); ``AZUREML_MODEL_DIR`` is the version's folder, as
in Azure ML. Not here: request decoding (``protocols.py``), batching (``batching.py``).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
from pathlib import Path

import numpy as np

from .outputs import OutputMap
from .signature import Signature, TensorSpec, parse_dtype

log = logging.getLogger("jupyter_modelhub.serving")

FLAVORS = ("onnx", "sklearn", "mlflow")
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
SKLEARN_SUFFIXES = (*PICKLE_SUFFIXES, ".skops")
# the modules whose types a skops file may construct: as the registry's default trusted_modules
TRUSTED_ENV = "MODELHUB_TRUSTED_MODULES"


def model_files(model_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in model_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(model_dir).parts)
    )


def model_root(model_dir: Path) -> Path:
    """Where the model is: the one folder a version holds (a registered folder keeps its name,
    ``model/MLmodel``), else the version's folder itself."""
    entries = [p for p in model_dir.iterdir() if not p.name.startswith(".")]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else model_dir


def detect_flavor(model_dir: Path) -> str:
    """mlflow for an MLmodel file, onnx for exactly one .onnx file, sklearn for one pickle."""
    if (model_root(model_dir) / "MLmodel").is_file():
        return "mlflow"
    files = model_files(model_dir)
    if len([p for p in files if p.suffix == ".onnx"]) == 1:
        return "onnx"
    if len([p for p in files if p.suffix in SKLEARN_SUFFIXES]) == 1:
        return "sklearn"
    found = ", ".join(str(p.relative_to(model_dir)) for p in files[:10]) or "no files"
    raise ValueError(
        f"Cannot tell how to load the model in {model_dir}: expected an MLmodel file, exactly one "
        f".onnx file or one .joblib/.pkl/.pickle/.skops file (found {found}). Pass --flavor or --entry-script."
    )


def _single_file(model_dir: Path, suffixes: tuple[str, ...], flavor: str) -> Path:
    matches = [p for p in model_files(model_dir) if p.suffix in suffixes]
    if len(matches) != 1:
        listed = ", ".join(str(p.relative_to(model_dir)) for p in matches) or "none"
        raise ValueError(
            f"A {flavor} model folder holds exactly one {'/'.join(suffixes)} file; {model_dir} has {listed}."
        )
    return matches[0]


class BuiltinScorer:
    """A model called in-process with arrays; ``predict`` maps input arrays to output arrays."""

    platform = "unknown"
    signature: Signature
    output_names: list[str]

    def predict(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError


# -- ONNX --------------------------------------------------------------------------------------

_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint64)": "uint64",
    "tensor(uint32)": "uint32",
    "tensor(uint16)": "uint16",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


class OnnxScorer(BuiltinScorer):
    platform = "onnx_onnxv1"

    def __init__(self, path: Path, signature: Signature | None, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        # The worker's share of the cores, not all of them: workers and the load side share a host.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads sleep instead of spinning between requests: spinning only pays off
        # for back-to-back large batches, and it takes CPU from the event loop and other workers.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=_providers(ort))
        if gpu_requested() and "CUDAExecutionProvider" not in self.session.get_providers():
            raise ValueError(
                "--gpu: onnxruntime has its CUDA provider but could not use a GPU here (no device, or "
                "no driver); the model is not served on the CPU instead. Deploy without --gpu."
            )
        model_inputs = self.session.get_inputs()
        self._feeds = [(i.name, np.dtype(_ORT_TYPES.get(i.type, "float32")), len(i.shape)) for i in model_inputs]
        own = Signature([_ort_spec(i) for i in model_inputs], [_ort_spec(o) for o in self.session.get_outputs()])
        self._stack: list[str] | None = None  # columns stacked into the graph's one matrix, in order
        if signature is not None:
            missing = [name for name, _, _ in self._feeds if name not in signature.by_name]
            if missing and _takes_columns_as_one_matrix(signature, model_inputs):
                self._stack = signature.names
            elif missing:
                raise ValueError(
                    f"The signature names inputs {signature.names}, but the ONNX graph {path.name} "
                    f"takes {[name for name, _, _ in self._feeds]}."
                )
        self.outputs = OutputMap(own.outputs, signature.outputs if signature else [], f"the ONNX graph {path.name}")
        self._output_names = [o.name for o in self.session.get_outputs()]  # given, not listed again per call
        self.output_names = self.outputs.names
        self.signature = Signature((signature or own).inputs, self.outputs.specs)
        # A GPU deployment never falls back to the CPU, also not when a run fails (onnxruntime's
        # default is to retry on the CPU and keep serving there).
        self.session.disable_fallback()
        self._run = _direct_run(self.session)
        self._warm_up()

    def predict(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._stack is not None:  # a DataFrame's columns for a graph of one [n, k] input
            name, dtype, _ = self._feeds[0]
            inputs = {name: np.column_stack([inputs[column] for column in self._stack]).astype(dtype, copy=False)}
        if len(self._feeds) == 1:  # the usual case, with the array already as the graph wants it
            name, dtype, rank = self._feeds[0]
            array = inputs[name]
            if (array.dtype is dtype or array.dtype == dtype) and array.ndim == rank:
                values = self._run(self._output_names, inputs if len(inputs) == 1 else {name: array}, None)
                outputs = self.outputs
                return dict(zip(outputs.names, values)) if outputs.identity else outputs(values)
        feeds = {}
        for name, dtype, rank in self._feeds:
            array = inputs[name]
            if array.dtype != dtype:
                array = array.astype(dtype)
            if array.ndim == 1 and rank == 2:  # a DataFrame column fed to a [-1, 1] input
                array = array.reshape(-1, 1)
            feeds[name] = array
        return self.outputs(self._run(self._output_names, feeds, None))

    def _warm_up(self) -> None:
        """One call with zeros, so the first request does not pay for allocations."""
        feeds = {}
        for i in self.session.get_inputs():
            dtype = np.dtype(_ORT_TYPES.get(i.type, "object"))
            if dtype.kind == "O":
                return
            feeds[i.name] = np.zeros([d if isinstance(d, int) and d > 0 else 1 for d in i.shape], dtype)
        try:
            self._run(self._output_names, feeds, None)
        except TypeError:  # a binding that takes other arguments than the public run
            self._run = self.session.run
        except Exception as exc:  # a graph that rejects zeros still serves real inputs
            log.debug("ONNX warm-up skipped: %s", exc)


def _takes_columns_as_one_matrix(signature: Signature, model_inputs) -> bool:
    """A columnar signature (what clients send: a DataFrame's columns) for a graph of one numeric
    [n, k] input with k those columns: a scikit-learn model of a DataFrame converted to ONNX
    (``convert.inputs``, a stacked table), which takes the columns in signature order."""
    if not signature.columnar or len(model_inputs) != 1 or len(model_inputs[0].shape) != 2:
        return False
    width = model_inputs[0].shape[1]
    numeric = _ORT_TYPES.get(model_inputs[0].type, "object") not in ("object", "bool")
    return numeric and (not isinstance(width, int) or width < 0 or width == len(signature.names))


def _direct_run(session):
    """The session's run without its Python wrapper, which costs about a third of a small model's
    call: it checks that every input is fed (done once, at load: ``_feeds`` is the graph's
    inputs), that no OrtValue belongs to another session (only numpy arrays are fed) and that no
    WebGPU graph capture is on (CPU and CUDA only), and retries on another provider after a failure
    (disabled above). The binding is onnxruntime's own; where a release lacks it, the public
    ``run`` serves (and the warm-up falls back to it if the binding takes other arguments)."""
    run = getattr(getattr(session, "_sess", None), "run", None)
    return run if callable(run) else session.run


def gpu_requested() -> bool:
    """``--gpu`` (or MODELHUB_GPU=1, as containers and pods are given it)."""
    return os.environ.get("MODELHUB_GPU", "") in ("1", "true", "yes")


def _providers(ort) -> list[str]:
    """CPU, or with --gpu CUDA only: a GPU deployment that cannot have one fails, never runs on the CPU."""
    if not gpu_requested():
        return ["CPUExecutionProvider"]
    available = ort.get_available_providers()
    if "CUDAExecutionProvider" not in available:
        raise ValueError(
            f"--gpu asks for onnxruntime's CUDA provider, but this onnxruntime has only "
            f"{', '.join(available)}: install onnxruntime-gpu where the model is served and run it where "
            "a GPU is, or deploy without --gpu."
        )
    return ["CUDAExecutionProvider"]


def _ort_spec(value) -> TensorSpec:
    shape = tuple(d if isinstance(d, int) and d >= 0 else -1 for d in value.shape)
    return TensorSpec(value.name, parse_dtype(_ORT_TYPES.get(value.type)), shape)


# -- scikit-learn ------------------------------------------------------------------------------


def sklearn_output_names(model) -> list[str]:
    """The outputs of a scikit-learn model whose signature names none: skl2onnx's names."""
    from sklearn.base import is_classifier

    if hasattr(model, "predict_proba"):
        return ["label", "probabilities"]
    return ["label" if is_classifier(model) else "variable"]


def load_skops(path: Path):
    """A skops file, constructing only types of trusted modules ($MODELHUB_TRUSTED_MODULES,
    comma-separated; default sklearn, numpy, scipy): any other type its schema names is refused
    before anything is loaded."""
    try:
        from skops.io import get_untrusted_types
        from skops.io import load as skops_load
    except ImportError:
        raise ValueError(
            f"Cannot load {path.name}: it is a skops file and skops is not installed here; add skops to the deployment's requirements."
        ) from None
    modules = [m.strip() for m in os.environ.get(TRUSTED_ENV, "sklearn,numpy,scipy").split(",") if m.strip()]
    types = get_untrusted_types(file=path)
    refused = [t for t in types if not any(t == m or t.startswith(m + ".") for m in modules)]
    if refused:
        raise ValueError(
            f"Refusing to load {path.name}: it would construct {', '.join(refused[:10])}, outside the trusted "
            f"modules ({', '.join(modules)}). If you trust them, add their modules to ${TRUSTED_ENV} where the model is served."
        )
    return skops_load(path, trusted=types)


class SklearnScorer(BuiltinScorer):
    """A pickled estimator, called as cheaply as scikit-learn allows for one small request.

    - One model call per request: a classifier whose ``predict`` is the argmax of what its
      ``predict_proba`` answers (:func:`labels_follow_proba`) has its labels read off the
      probabilities, instead of a second pass through the whole pipeline. Rows whose top
      probability is shared (a tie, where the argmax takes the first class and ``predict`` may
      not) are asked of ``predict``, so the answers are ``predict``'s on every row.
    - No finiteness scan in every step of the pipeline: the signature already made the request
      a numeric array, so scikit-learn's ``assume_finite`` is on in the threads that call the
      model, and a request holding NaN or infinity (JSON null, binary tensors) is scored with
      scikit-learn's checks as before (its error, or its handling of missing values).
    - Features as the model was fitted: a plain array for a model fitted on an array; for one
      fitted on a DataFrame, a DataFrame in its fitted column order, built in one block when the
      columns share a dtype.
    """

    def __init__(self, path: Path, signature: Signature | None):
        import joblib

        self.platform = "sklearn_" + path.suffix.lstrip(".")
        try:
            self.model = load_skops(path) if path.suffix == ".skops" else joblib.load(path)
        except ModuleNotFoundError as exc:  # e.g. cloudpickle, for a model saved with what a notebook defined
            raise ValueError(
                f"Cannot load {path.name}: it was pickled with the module {exc.name!r}, which this "
                f"environment lacks; add {exc.name} to the deployment's requirements."
            ) from None
        self._feature_names = getattr(self.model, "feature_names_in_", None)
        signature = signature or self._own_signature()
        if len(signature.inputs) > 1 and not signature.columnar:
            raise ValueError(
                f"A scikit-learn model takes one matrix or DataFrame; the signature has "
                f"{len(signature.inputs)} tensor inputs {signature.names}."
            )
        self.outputs = OutputMap(self._own_outputs(), signature.outputs, f"this {type(self.model).__name__}")
        self.has_proba = self.outputs.uses(1)
        self.output_names = self.outputs.names
        self.signature = Signature(signature.inputs, self.outputs.specs)
        self._columns = self.signature.names
        if self._feature_names is not None and set(map(str, self._feature_names)) == set(self._columns):
            self._columns = [str(name) for name in self._feature_names]  # scikit-learn wants the fitted order
        self.one_call = self.has_proba and labels_follow_proba(self.model)
        self._transforms, self._final = unrolled(self.model)
        self._classes = getattr(self.model, "classes_", None)
        self._configured = threading.local()

    def _own_signature(self) -> Signature:
        if self._feature_names is not None:
            return Signature([TensorSpec(str(name), None, (-1,)) for name in self._feature_names])
        width = getattr(self.model, "n_features_in_", None)
        if width is not None:
            return Signature([TensorSpec("input", np.dtype("float64"), (-1, int(width)))])
        return Signature([TensorSpec("input")])

    def _own_outputs(self) -> list[TensorSpec]:
        names = sklearn_output_names(self.model)
        label_dtype = getattr(getattr(self.model, "classes_", None), "dtype", None)
        outputs = [TensorSpec(names[0], parse_dtype(str(label_dtype)) if label_dtype else None, (-1,))]
        if len(names) > 1:
            classes = len(getattr(self.model, "classes_", [])) or -1
            outputs.append(TensorSpec(names[1], np.dtype("float64"), (-1, classes)))
        return outputs

    def predict(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not getattr(self._configured, "done", False):
            self._assume_finite()
        features, finite = self._features(inputs)
        if finite:
            return self.outputs(self._call(features))
        import sklearn

        with sklearn.config_context(assume_finite=False):  # NaN or infinity: scikit-learn's own checks decide
            return self.outputs(self._call(features))

    def _call(self, features) -> list:
        if not self.has_proba:
            return [self._predict(features)]
        if not self.one_call:
            return [self._predict(features), self._predict_proba(features)]
        proba = self._predict_proba(features)
        labels = self._classes.take(proba.argmax(axis=1))
        top = proba.max(axis=1, keepdims=True)
        # one class at the top of every row (no tie, no NaN): the usual case, checked at once
        if np.count_nonzero(proba == top) != len(proba) or np.isnan(top).any():
            unsure = np.count_nonzero(proba == top, axis=1) != 1  # a tie or NaN: predict's own choice there
            labels[unsure] = self._predict(features[unsure])
        return [labels, proba]

    def _predict(self, features):
        for step in self._transforms:
            features = step.transform(features)
        return self._final.predict(features)

    def _predict_proba(self, features):
        for step in self._transforms:
            features = step.transform(features)
        return self._final.predict_proba(features)

    def _assume_finite(self) -> None:
        """scikit-learn's configuration is per thread: set it in each thread that calls the model
        (once; a config_context per call would cost more than the scan it saves)."""
        import sklearn

        sklearn.set_config(assume_finite=True)
        self._configured.done = True

    def _features(self, inputs: dict[str, np.ndarray]):
        """The model's input, and whether it is known to hold only finite numbers."""
        if not self.signature.columnar:
            array = inputs[self.signature.names[0]]
            return array, _finite(array)
        arrays = [inputs[name] for name in self._columns]
        finite = all(_finite(a) for a in arrays)
        if self._feature_names is None:
            return np.column_stack(arrays), finite
        import pandas  # fitted on a DataFrame: give it one, names and all

        first = arrays[0].dtype
        if first.kind in "fiub" and all(a.dtype == first for a in arrays):
            return pandas.DataFrame(np.column_stack(arrays), columns=self._columns, copy=False), finite
        return pandas.DataFrame(dict(zip(self._columns, arrays))), finite


def unrolled(model) -> tuple[list, object]:
    """A fitted Pipeline as its transformers and final estimator, called in turn as
    ``Pipeline.predict``/``predict_proba`` call them (without metadata routing, which the runtime
    never turns on), so that the pipeline's fitted check and tags are not worked out again on every
    request (a sixth of a small pipeline's call). Anything else, or a pipeline not fitted (whose
    error each request gets from scikit-learn), is called as it is."""
    pipeline = getattr(sys.modules.get("sklearn.pipeline"), "Pipeline", None)
    if pipeline is None or type(model) is not pipeline:
        return [], model
    import sklearn
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if sklearn.get_config().get("enable_metadata_routing"):
        return [], model
    try:
        check_is_fitted(model)
    except NotFittedError:
        return [], model
    transforms: list = []
    for _, step in model.steps[:-1]:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        inner, last = unrolled(step)
        transforms += inner if last is None or (isinstance(last, str) and last == "passthrough") else [*inner, last]
    inner, final = unrolled(model.steps[-1][1])
    return transforms + inner, final


def _finite(array: np.ndarray) -> bool:
    """No NaN or infinity, for numbers (one sum: NaN and infinities survive it, and an overflow only
    sends the request to the checked path); unknown for text and objects."""
    kind = array.dtype.kind
    if kind in "iub":
        return True
    if kind in "fc":
        return bool(np.isfinite(array.sum()))
    return False


# Classifiers whose ``predict`` is, row by row, the class of the largest of what their
# ``predict_proba`` answers (an argmax over scores the probabilities are an order-keeping function
# of: a softmax or sigmoid of the decision values, normalised votes or counts), by public module.
LABELS_FOLLOW_PROBA = {
    "sklearn.linear_model": ("LogisticRegression", "LogisticRegressionCV"),
    "sklearn.ensemble": (
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "GradientBoostingClassifier",
        "HistGradientBoostingClassifier",
        "BaggingClassifier",
        "VotingClassifier",  # soft voting only (below)
    ),
    "sklearn.tree": ("DecisionTreeClassifier", "ExtraTreeClassifier"),
    "sklearn.neighbors": ("KNeighborsClassifier",),
    "sklearn.naive_bayes": ("GaussianNB", "MultinomialNB", "BernoulliNB"),
    "sklearn.discriminant_analysis": ("LinearDiscriminantAnalysis", "QuadraticDiscriminantAnalysis"),
    "sklearn.neural_network": ("MLPClassifier",),  # one sigmoid output or a softmax (below)
    "sklearn.calibration": ("CalibratedClassifierCV",),
}


def labels_follow_proba(model) -> bool:
    """Whether ``model.predict`` answers the class of ``predict_proba``'s largest value on every
    row, for one list of classes (``LABELS_FOLLOW_PROBA``). Exact types only: a subclass may
    predict otherwise. Not SVC: its probabilities come from a separate (Platt) fit and can disagree
    with its ``predict``. Imports nothing: unpickling the model imported what it is made of, and
    loading the rest of scikit-learn would add a second to the start."""
    final = model
    pipeline = getattr(sys.modules.get("sklearn.pipeline"), "Pipeline", None)
    while pipeline is not None and type(final) is pipeline:
        final = final.steps[-1][1]
    classes = getattr(model, "classes_", None)
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or len(classes) < 2:
        return False  # several outputs (a list of class arrays), or nothing to choose between
    kind = type(final)
    listed = any(
        kind.__name__ in names and getattr(sys.modules.get(module), kind.__name__, None) is kind
        for module, names in LABELS_FOLLOW_PROBA.items()
    )
    if not listed:
        return False
    if kind.__name__ == "VotingClassifier":
        return final.voting == "soft"
    if kind.__name__ == "MLPClassifier":  # not several labels at once (one sigmoid each)
        return final.n_outputs_ == 1 or final.out_activation_ == "softmax"
    return True


# -- MLflow ------------------------------------------------------------------------------------


class MlflowScorer(BuiltinScorer):
    platform = "mlflow_pyfunc"

    def __init__(self, model_dir: Path, signature: Signature | None):
        try:
            import mlflow.pyfunc
        except ImportError:
            raise ValueError(
                "This is an MLflow model, but mlflow is not installed in this environment: "
                "pip install mlflow, or deploy it with an entry script."
            ) from None
        self.model = mlflow.pyfunc.load_model(str(model_dir))
        self.signature = signature or _mlflow_signature(self.model) or Signature([TensorSpec("input")])
        self.output_names = [spec.name for spec in self.signature.outputs]

    def predict(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.signature.columnar:
            import pandas

            data = pandas.DataFrame(inputs)
        elif len(inputs) == 1:
            data = next(iter(inputs.values()))
        else:
            data = inputs
        return _named_outputs(self.model.predict(data))


def _mlflow_signature(model) -> Signature | None:
    try:
        schema = model.metadata.get_input_schema()
        if schema is None:
            return None
        if schema.is_tensor_spec():
            return Signature([TensorSpec(spec.name or "input", spec.type, tuple(spec.shape)) for spec in schema.inputs])
        return Signature(
            [
                TensorSpec(name, parse_dtype(np.dtype(dtype).name), (-1,))
                for name, dtype in zip(schema.input_names(), schema.numpy_types())
            ]
        )
    except Exception as exc:  # an unusual schema: serve without checks rather than not at all
        log.warning("could not read the MLflow signature: %s", exc)
        return None


def _named_outputs(result) -> dict:
    if hasattr(result, "columns"):  # DataFrame: one output per column
        return {str(column): result[column].to_numpy() for column in result.columns}
    if isinstance(result, dict):
        return {str(name): np.asarray(value) for name, value in result.items()}
    if hasattr(result, "to_numpy"):
        result = result.to_numpy()
    return {"predictions": np.asarray(result)}


# -- entry scripts -----------------------------------------------------------------------------


class EntryScript:
    """A scoring script with Azure ML's contract: ``init()`` once, ``run(raw_data)`` per request."""

    platform = "python_entryscript"

    def __init__(self, path: Path, signature: Signature | None):
        self.path = path
        self.signature = signature
        # As Azure ML does: the script's folder is importable, so it can import its neighbours.
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"Cannot import the entry script {path}: it must be a Python file.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        self._init = getattr(module, "init", None)
        self._run = getattr(module, "run", None)
        if not callable(self._run):
            raise ValueError(
                f"The entry script {path.name} defines no run(raw_data) function; "
                "Azure ML entry scripts define init() and run(raw_data)."
            )

    def init(self) -> None:
        if callable(self._init):
            self._init()

    def run(self, raw_data: str):
        return self._run(raw_data)


def load(
    model_dir: Path, flavor: str | None, entry_script: Path | None, signature: Signature | None, threads: int
) -> BuiltinScorer | EntryScript:
    """Load the model as the options say; blocking, and raising ValueError on a wrong setup."""
    os.environ["AZUREML_MODEL_DIR"] = os.environ["MODELHUB_MODEL_DIR"] = str(model_dir)
    if entry_script is not None:
        script = EntryScript(entry_script, signature)
        script.init()
        return script
    flavor = flavor or detect_flavor(model_dir)
    if gpu_requested() and (entry_script is not None or flavor != "onnx"):
        raise ValueError(
            f"--gpu serves ONNX models on onnxruntime's CUDA provider; this is a {flavor} model"
            + (" with an entry script" if entry_script is not None else "")
            + ": convert it to ONNX first (%convert), or deploy without --gpu."
        )
    if flavor == "onnx":
        return OnnxScorer(_single_file(model_dir, (".onnx",), "onnx"), signature, threads)
    if flavor == "sklearn":
        return SklearnScorer(_single_file(model_dir, SKLEARN_SUFFIXES, "sklearn"), signature)
    if flavor == "mlflow":
        return MlflowScorer(model_root(model_dir), signature)
    raise ValueError(
        f"Unknown flavor {flavor!r}: the built-in scorers are {', '.join(FLAVORS)}; other models need an entry script."
    )
