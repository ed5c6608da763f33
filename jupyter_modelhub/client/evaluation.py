"""Evaluating versions in the kernel (``%evaluate``): each version's files are downloaded and
loaded with the serving runtime's own scorer, as an endpoint would answer, and scored on the
same rows; the metrics go to the server as evidence for promotions (``registry.promotions``).

Done here, not on the server: loading a version runs its pickle, which the server never does,
and the data is the user's, in the kernel already.

Metrics: for a classifier (labels of a few distinct values), ``accuracy``, ``f1`` (macro) and,
with probabilities of two classes, ``roc_auc``; for a regressor, ``rmse``, ``mae`` and ``r2``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import InvalidInput

MAX_CLASSES = 50  # a float target with more distinct values than this is a regression's


def read_data(data, target: str):
    """The rows to evaluate on: a DataFrame, or a CSV, Parquet or JSON file's path; with the
    target column. Returns (features, labels, name, sha256 of the rows)."""
    import pandas as pd

    if isinstance(data, (str, os.PathLike)):
        path = Path(data).expanduser()
        if not path.is_file():
            raise InvalidInput(f"No data file {str(data)!r} (relative paths start at {os.getcwd()}).")
        readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".json": pd.read_json}
        if path.suffix.lower() not in readers:
            raise InvalidInput(f"Cannot read {path.name}: give a .csv, .parquet or .json file, or a DataFrame.")
        frame, name = readers[path.suffix.lower()](path), path.name
    elif isinstance(data, pd.DataFrame):
        frame, name = data, "DataFrame"
    else:
        raise InvalidInput(f"--data is a DataFrame or a file's path, not a {type(data).__name__}.")
    if target not in frame.columns:
        raise InvalidInput(
            f"The data has no column {target!r} (its columns: {', '.join(map(str, frame.columns[:20]))})."
        )
    if frame.empty:
        raise InvalidInput("The data has no rows to evaluate on.")
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()
    return frame.drop(columns=[target]), frame[target].to_numpy(), name, digest


def predict(client, ref: str, features) -> dict[str, np.ndarray]:
    """What version ``ref`` answers for ``features``, through the runtime's scorer for its flavor."""
    from ..flavors import BUILTIN_FLAVORS
    from ..serving import scorers
    from ..serving.signature import Signature, inputs_from_json

    version = client.version(ref)
    with tempfile.TemporaryDirectory(prefix="modelhub-evaluate-") as folder:
        client.download(version["ref"], to=folder)
        signature = Signature.from_json(version["signature"]) if version.get("signature") else None
        flavor = version["flavor"] if version["flavor"] in BUILTIN_FLAVORS else None
        try:
            scorer = scorers.load(Path(folder), flavor, None, signature, 1)
        except (ValueError, RuntimeError) as exc:
            raise InvalidInput(f"Cannot load {version['ref']} to evaluate it: {exc}") from None
        if not hasattr(scorer, "predict"):
            raise InvalidInput(
                f"{version['ref']} is served by an entry script: evaluate it by hand and record metrics."
            )
        columns = scorer.signature.names
        if scorer.signature.columnar:
            data = {name: features[name].tolist() for name in columns if name in features}
        else:
            data = features.to_numpy().tolist()
        try:
            return scorer.predict(inputs_from_json(scorer.signature, data))
        except Exception as exc:  # the runtime's own message (a bad request) says what does not fit
            message = getattr(exc, "message", None) or str(exc)
            raise InvalidInput(f"{version['ref']} cannot score this data: {message}") from None


def metrics(labels: np.ndarray, outputs: dict[str, np.ndarray]) -> dict[str, float]:
    """The metrics of one version's answers against the labels."""
    from sklearn import metrics as m

    arrays = list(outputs.values())
    predicted = np.asarray(arrays[0]).reshape(len(labels), -1)[:, 0] if arrays[0].ndim > 1 else np.asarray(arrays[0])
    regression = labels.dtype.kind == "f" and len(np.unique(labels)) > MAX_CLASSES
    if regression:
        error = predicted.astype(float) - labels.astype(float)
        return {
            "rmse": float(np.sqrt(np.mean(error**2))),
            "mae": float(np.mean(np.abs(error))),
            "r2": float(m.r2_score(labels, predicted)),
        }
    truth = labels.astype(str) if labels.dtype.kind in "OUS" or predicted.dtype.kind in "OUS" else labels
    guess = predicted.astype(str) if truth.dtype.kind in "OUS" else predicted
    result = {
        "accuracy": float(m.accuracy_score(truth, guess)),
        "f1": float(m.f1_score(truth, guess, average="macro")),
    }
    proba = next((np.asarray(a) for a in arrays[1:] if np.asarray(a).ndim == 2 and np.asarray(a).shape[1] == 2), None)
    if proba is not None and len(np.unique(truth)) == 2:
        positive = np.sort(np.unique(truth))[1]
        result["roc_auc"] = float(m.roc_auc_score(truth == positive, proba[:, 1]))
    return result
