"""The scikit-learn scorer answers exactly what the estimator's ``predict`` and ``predict_proba``
answer, across classifiers, on data with ties, with NaN, and with DataFrame columns sent in any
order, while calling the model once per request where the labels follow from the probabilities.

The scorer is the runtime's own (``serving.scorers``), loading a real pickled estimator from a
folder as a deployment does; the end-to-end path through HTTP is in ``test_serving.py``.
"""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from jupyter_modelhub.serving.scorers import SklearnScorer
from jupyter_modelhub.serving.signature import Signature

RNG = np.random.default_rng(3)
# Few distinct values and duplicated rows with conflicting labels: trees, forests and neighbours
# meet exact ties between classes (probabilities of 0.5), where the argmax picks the first class.
X = RNG.integers(0, 3, size=(240, 4)).astype(float)
Y3 = np.array(["ant", "bee", "cat"])[RNG.integers(0, 3, size=240)]
Y2 = (X[:, 0] + RNG.integers(0, 2, size=240) > 1.5).astype(int)
ZEROS = np.zeros((6, 4))  # where a linear model without intercept gives each of two classes exactly 0.5

ONE_CALL = [
    make_pipeline(StandardScaler(), LogisticRegression()),
    # nested, with steps left out: called step by step as Pipeline calls them
    make_pipeline(make_pipeline(StandardScaler(), "passthrough"), "passthrough", None, GaussianNB()),
    RandomForestClassifier(n_estimators=7, random_state=0),
    ExtraTreesClassifier(n_estimators=7, random_state=0),
    GradientBoostingClassifier(n_estimators=10, random_state=0),
    HistGradientBoostingClassifier(max_iter=10),
    BaggingClassifier(n_estimators=5, random_state=0),
    DecisionTreeClassifier(max_depth=2, random_state=0),
    KNeighborsClassifier(n_neighbors=4),
    KNeighborsClassifier(n_neighbors=4, weights="distance"),
    GaussianNB(),
    MultinomialNB(),
    BernoulliNB(),
    LinearDiscriminantAnalysis(),
    QuadraticDiscriminantAnalysis(reg_param=0.5),
    MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0),
    CalibratedClassifierCV(LogisticRegression(), cv=3),
    VotingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())], voting="soft"),
]
TWO_CALLS = [
    SVC(probability=True, random_state=0),  # Platt scaling: its probabilities may disagree with predict
    VotingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())], voting="hard"),
]


def scorer_of(estimator, folder, signature: dict | None = None) -> SklearnScorer:
    joblib.dump(estimator, folder / "model.joblib")
    return SklearnScorer(folder / "model.joblib", Signature.from_json(signature) if signature else None)


def name_of(estimator) -> str:
    return type(estimator[-1] if hasattr(estimator, "steps") else estimator).__name__


def case_id(estimator) -> str:
    extra = getattr(estimator, "weights", None) or getattr(estimator, "voting", None)
    return name_of(estimator) + (f"-{extra}" if isinstance(extra, str) else "")


@pytest.mark.parametrize("labels", [Y2, Y3], ids=["two-classes", "three-classes"])
@pytest.mark.parametrize("estimator", ONE_CALL + TWO_CALLS, ids=case_id)
def test_answers_are_predict_and_predict_proba_on_every_row(estimator, labels, tmp_path):
    estimator.fit(X, labels)
    scorer = scorer_of(estimator, tmp_path)
    rows = np.vstack([X, ZEROS])
    answer = scorer.predict({"input": rows})
    assert answer["label"].tolist() == estimator.predict(rows).tolist()
    if hasattr(estimator, "predict_proba"):  # not hard voting
        np.testing.assert_array_equal(answer["probabilities"], estimator.predict_proba(rows))
    assert answer["label"].dtype == estimator.predict(rows).dtype
    one_by_one = [scorer.predict({"input": row[None, :]})["label"][0] for row in rows[::7]]
    assert one_by_one == estimator.predict(rows[::7]).tolist(), "single-row requests, as a server gets them"
    assert scorer.one_call == (not any(estimator is e for e in TWO_CALLS))


def test_exact_ties_answer_what_predict_answers(tmp_path):
    # No intercept and zero rows: decision 0, probabilities [0.5, 0.5]; predict says the first class
    # (decision > 0 is false). Rows just either side of zero must not flip either.
    model = LogisticRegression(fit_intercept=False).fit(X - 1, Y2)
    scorer = scorer_of(model, tmp_path)
    tiny = np.vstack([ZEROS[:1], np.full((1, 4), 1e-300), np.full((1, 4), -1e-300)])
    assert scorer.predict({"input": tiny})["label"].tolist() == model.predict(tiny).tolist()


TRANSFORMS: list[int] = []


def counted(rows):
    """A pipeline step that records each pass of a request through the pipeline."""
    TRANSFORMS.append(len(rows))
    return rows


def test_one_pass_through_the_pipeline_per_request(tmp_path):
    model = make_pipeline(FunctionTransformer(counted), StandardScaler(), LogisticRegression()).fit(X, Y3)
    scorer = scorer_of(model, tmp_path)
    TRANSFORMS.clear()
    answer = scorer.predict({"input": X[:5]})
    assert TRANSFORMS == [5], "labels and probabilities from one predict_proba"
    assert answer["label"].tolist() == model.predict(X[:5]).tolist()


def test_an_unfitted_pipeline_answers_scikit_learns_error(tmp_path):
    from sklearn.exceptions import NotFittedError

    scorer = scorer_of(make_pipeline(StandardScaler(), LogisticRegression()), tmp_path)
    with pytest.raises(NotFittedError):
        scorer.predict({"input": X[:2]})


def test_a_request_with_nan_gets_scikit_learns_own_answer(tmp_path):
    rows = X[:3].copy()
    rows[1, 2] = np.nan
    strict = scorer_of(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y2), tmp_path)
    with pytest.raises(ValueError, match="NaN"):
        strict.predict({"input": rows})
    assert strict.predict({"input": X[:3]})["label"].shape == (3,), "finite requests still answer after it"
    lenient = HistGradientBoostingClassifier(max_iter=5).fit(np.vstack([X, rows]), np.r_[Y2, Y2[:3]])
    answer = scorer_of(lenient, tmp_path).predict({"input": rows})
    assert answer["label"].tolist() == lenient.predict(rows).tolist(), "a model that handles NaN gets it"


def test_dataframe_columns_sent_in_another_order_reach_the_model_in_its_own(tmp_path):
    frame = pd.DataFrame(X, columns=["age", "income", "visits", "tenure"])
    frame["plan"] = np.where(X[:, 0] > 1, "gold", "basic")
    numeric = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame[["age", "income", "visits"]], Y3)
    signature = {"inputs": [{"name": c, "dtype": "float64", "shape": [-1]} for c in ("visits", "age", "income")]}
    scorer = scorer_of(numeric, tmp_path, signature)
    columns = {name: frame[name].to_numpy() for name in ("visits", "age", "income")}
    expected = numeric.predict(frame[["age", "income", "visits"]])
    assert scorer.predict(columns)["label"].tolist() == expected.tolist()
