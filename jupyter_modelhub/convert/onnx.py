"""scikit-learn -> ONNX with skl2onnx, and the onnxruntime session that runs the result.

What is here: loading a version's pickled model, finding the step skl2onnx cannot convert (so the
error names it), the conversion itself with plain-tensor classifier outputs (no ZipMap), and one
place that sets onnxruntime's session options. What is not: comparing outputs (``equivalence``),
timing (``speed``), the registry (``service``).

This module is named after the format; it imports the ``onnx`` package absolutely, so there is
no clash inside the package (but see bench/onnx.py, a script, for the one place there is).
"""

from __future__ import annotations

import functools
from pathlib import Path

from .errors import UnsupportedModel
from .inputs import InputSpec, onnx_input_types, stackable, stacked

# Conversions with float64 inputs that skl2onnx accepts but cannot build consistently (it mixes
# float and double inside the graph) fail when the session is created; the error says so.
DTYPES = ("float32", "float64")
# The opsets a conversion may ask for: from the first skl2onnx supports to the newest the oldest
# supported skl2onnx (1.20, see pyproject.toml) has tested. The REST schema and the converter
# check these same bounds.
MIN_OPSET = 7
MAX_OPSET = 22
CDIST_ESTIMATORS = (
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "RadiusNeighborsClassifier",
    "RadiusNeighborsRegressor",
    "NearestNeighbors",
    "KNeighborsTransformer",
)


def load_sklearn(path: Path, ref: str) -> object:
    """Unpickle a registered scikit-learn model; failures say which package is missing."""
    import joblib

    try:
        model = joblib.load(path)
    except ModuleNotFoundError as exc:
        raise UnsupportedModel(
            f"Cannot load {ref}'s {path.name}: the server's Python lacks the module {exc.name!r} it was "
            "pickled with. Install it where the Jupyter server runs, then convert again."
        ) from None
    except Exception as exc:
        raise UnsupportedModel(
            f"Cannot load {ref}'s {path.name} with joblib ({type(exc).__name__}: {exc}); "
            "it may have been written by other versions of scikit-learn or joblib than the server's."
        ) from None
    from sklearn.base import BaseEstimator

    if not isinstance(model, BaseEstimator):
        raise UnsupportedModel(
            f"{ref}'s {path.name} holds a {_class_name(model)}, not a scikit-learn estimator or pipeline; "
            "only scikit-learn models can be converted to ONNX."
        )
    return model


def steps(model: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every (path, estimator) inside pipelines, column transformers and feature unions."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    found = [(path, model)]
    if isinstance(model, Pipeline):
        children = [(name, step) for name, step in model.steps]
    elif isinstance(model, ColumnTransformer):
        children = [(name, step) for name, step, _ in getattr(model, "transformers_", model.transformers)]
    elif isinstance(model, FeatureUnion):
        children = list(model.transformer_list)
    else:
        children = []
    for name, child in children:
        if child is not None and not isinstance(child, str):  # "passthrough", "drop", None
            found.extend(steps(child, (*path, name)))
    return found


def input_layout(model: object, spec: InputSpec) -> InputSpec:
    """How the graph takes a table: one input per column when the model picks its columns by
    name (a ColumnTransformer, which skl2onnx maps to inputs of those names); numeric columns
    stacked into one matrix otherwise, which is what scikit-learn feeds every other estimator
    (and all skl2onnx accepts for them: "at most 1 input(s)"). Text columns without a
    ColumnTransformer stay columns, and skl2onnx says what it cannot do with them."""
    from sklearn.compose import ColumnTransformer

    if not stackable(spec) or any(isinstance(step, ColumnTransformer) for _, step in steps(model)):
        return spec
    return stacked(spec)


def supported_estimators() -> list[str]:
    """Names of the scikit-learn classes the installed skl2onnx can convert."""
    from skl2onnx._supported_operators import sklearn_operator_name_map

    return sorted({cls.__name__ for cls in sklearn_operator_name_map if not cls.__name__.startswith("_")})


def check_supported(model: object) -> None:
    """Refuse, naming the step and its class, a model with a part skl2onnx has no converter for."""
    from skl2onnx._supported_operators import sklearn_operator_name_map

    for path, estimator in steps(model):
        if type(estimator) not in sklearn_operator_name_map:
            raise UnsupportedModel(_unsupported_message(path, estimator))


def convert(
    model: object,
    spec: InputSpec,
    *,
    dtype: str = "float32",
    opset: int | None = None,
    name: str = "model",
) -> bytes:
    """The serialised ONNX model: labels and a probability matrix for classifiers, no ZipMap.

    The graph gets ``name`` instead of skl2onnx's random one, so converting the same model the
    same way gives the same bytes (and the registry returns the existing version).
    """
    from skl2onnx import convert_sklearn

    _fix_hist_gradient_boosting_attributes()
    _ignore_svc_probability_warning()
    check_supported(model)
    try:
        proto = convert_sklearn(
            model,
            name=name,
            initial_types=onnx_input_types(spec, dtype),
            options=conversion_options(model),
            target_opset=opset,
        )
    except Exception as exc:
        raise UnsupportedModel(_conversion_failure(model, dtype, exc)) from None
    return proto.SerializeToString()


def conversion_options(model: object) -> dict:
    """skl2onnx options by estimator id.

    - ``zipmap: False`` on a classifier (or a pipeline ending in one): labels and a probability
      matrix as plain tensors, which every runtime and the equivalence check read directly.
    - ``optim: "cdist"`` on nearest-neighbour models: one CDist node (an onnxruntime contrib op)
      instead of a broadcast subtraction; 10x faster on a 10,000-row batch, 100x on one row.
    """
    from sklearn.base import is_classifier

    options: dict[int, dict] = {}
    if is_classifier(model):
        options[id(model)] = {"zipmap": False}
    for _, estimator in steps(model):
        if type(estimator).__name__ in CDIST_ESTIMATORS:
            options.setdefault(id(estimator), {})["optim"] = "cdist"
    return options


def opsets(model_bytes: bytes) -> dict[str, int]:
    import onnx

    proto = onnx.load_from_string(model_bytes)
    return {entry.domain or "ai.onnx": entry.version for entry in proto.opset_import}


def session(model_bytes: bytes, *, threads: int = 1, dtype: str = "float32"):
    """An onnxruntime CPU session.

    ``threads`` is onnxruntime's intra-op pool: 1 for single rows (a scoring server answers one
    request per thread, and waking a pool costs more than these models take to run one row),
    all cores for batches (tree ensembles, SVMs and neighbours split rows across threads, about
    2x on 2 cores). Pool threads do not spin while waiting: spinning bought ~5 % on batches
    but burns the cores the Jupyter server shares with kernels. The graph optimisations
    (``ORT_ENABLE_ALL``: constant folding, fusions) are kept: they never slowed a suite model.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        hint = (
            " skl2onnx cannot build a consistent float64 graph for this model; use dtype float32."
            if dtype == "float64"
            else ""
        )
        raise UnsupportedModel(f"onnxruntime cannot load the converted model: {first_line(exc)}.{hint}") from None


def _unsupported_message(path: tuple[str, ...], estimator: object) -> str:
    where = "The model" if not path else "Step " + " > ".join(repr(p) for p in path)
    supported = supported_estimators()
    known = (
        "LogisticRegression",
        "RandomForestClassifier",
        "HistGradientBoostingClassifier",
        "StandardScaler",
        "OneHotEncoder",
        "ColumnTransformer",
        "Pipeline",
    )
    examples = ", ".join(n for n in known if n in supported)
    return (
        f"{where} is a {_class_name(estimator)}, which skl2onnx cannot convert to ONNX. Supported are "
        f"{len(supported)} scikit-learn classes (e.g. {examples}); a custom class needs a converter "
        "registered with skl2onnx.update_registered_converter, or replace that step."
    )


def _conversion_failure(model: object, dtype: str, exc: Exception) -> str:
    message = first_line(exc)
    for path, estimator in reversed(steps(model)):
        if type(estimator).__name__ in str(exc):
            return (
                f"skl2onnx failed on step {' > '.join(map(repr, path)) or 'the model'} "
                f"({_class_name(estimator)}) with {dtype} inputs: {message}"
            )
    return f"skl2onnx failed to convert this {_class_name(model)} with {dtype} inputs: {message}"


def _class_name(obj: object) -> str:
    cls = type(obj)
    if cls.__module__.startswith(("sklearn.", "builtins")):
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def first_line(exc: Exception) -> str:
    """skl2onnx errors can hold a whole tree's attributes (megabytes); the first line says it."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:400].rstrip(". ")


def _ignore_svc_probability_warning() -> None:
    """skl2onnx reads SVC's ``probA_`` even when ``probability=False``; scikit-learn 1.9 warns
    about that attribute on every conversion of an SVC, about a choice the user did not make.
    A filter (process-wide, narrowed to that message; adding it again replaces it) rather than
    ``catch_warnings``, which is not thread-safe, and conversions run in threads."""
    import warnings

    warnings.filterwarnings("ignore", message=r"Attribute `prob[AB]_` was deprecated", category=FutureWarning)


@functools.cache
def _fix_hist_gradient_boosting_attributes() -> None:
    """Work around skl2onnx 1.20 + onnx >= 1.23 failing on every HistGradientBoosting model.

    skl2onnx writes ``nodes_missing_value_tracks_true`` as a mix of numpy integers and Python
    booleans (``False`` for leaves); onnx 1.23 refuses booleans in an integer list attribute.
    The wrapper casts the list to ints after each tree, which is what skl2onnx does for every
    other tree model. It is applied only when the installed onnx refuses booleans.
    """
    import numpy as np
    from onnx import helper

    try:
        helper.make_attribute("probe", [np.uint8(0), False])
        return
    except TypeError:
        pass
    from skl2onnx.operator_converters import random_forest

    original = random_forest.add_tree_to_attribute_pairs_hist_gradient_boosting

    def add_tree(attr_pairs, *args, **kwargs):
        original(attr_pairs, *args, **kwargs)
        key = "nodes_missing_value_tracks_true"
        attr_pairs[key] = [int(v) for v in attr_pairs[key]]

    random_forest.add_tree_to_attribute_pairs_hist_gradient_boosting = add_tree
