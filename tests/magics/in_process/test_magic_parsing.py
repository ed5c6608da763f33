"""Magic lines parse like a shell, the same way in every magic, in an in-process IPython shell on
a real Jupyter server: quoted values lose their quotes, '=' and spaces inside values survive,
brackets keep expressions whole; names with spaces are refused with the valid form; models are
saved so that they deploy (what the notebook defined, by value) or refused in one line. (The
notebook recorded is the kernel session's: tests/magics/test_magics.py.)"""

from __future__ import annotations

import textwrap

import joblib
import pytest

from jupyter_modelhub.client import pickling
from jupyter_modelhub.errors import InvalidInput


def test_quoted_values_are_stored_without_their_quotes(shell, hub_server):
    out = shell.run(
        '%register quoted clf -d "baseline model" --tag note="two words" --tag \'formula=a=b+c\' '
        "--property threshold=0.5 --property 'owner=\"data team\"'"
    )
    assert not out["error"], out
    version = hub_server.client().version("quoted:1")
    assert version["description"] == "baseline model"
    assert version["tags"] == {"note": "two words", "formula": "a=b+c"}
    assert version["properties"].pop("pickle_scan")["safe"]  # the registration's scan of model.joblib
    assert version["properties"] == {"threshold": 0.5, "owner": "data team"}

    out = shell.run('%tag quoted:1 note="three more words" stage=dev --remove formula')
    assert not out["error"], out
    assert hub_server.client().version("quoted:1")["tags"] == {"note": "three more words", "stage": "dev"}
    assert "quoted" in shell.run('%models note="three more words"')["text"]
    assert "No models match" in shell.run("%models note=three")["text"]


def test_brackets_keep_expressions_and_json_whole(shell, hub_server):
    out = shell.run("%register brackets clf --sample X[:5, :] -d 'rows [0, 5)'")
    assert not out["error"], out
    version = hub_server.client().version("brackets:1")
    assert version["signature"]["inputs"] == [{"name": "input", "dtype": "float64", "shape": [-1, 20]}]
    assert version["description"] == "rows [0, 5)", "brackets inside quotes are plain text"
    out = shell.run('%register brackets clf --sample "X[:5"')
    assert out["error"].startswith("UsageError: --sample 'X[:5' failed: SyntaxError"), out


@pytest.mark.parametrize(
    "line, written",
    [
        ('%register "my model" clf', "my model"),
        ("%register my model clf", "my model"),
        ("%register my big model clf --sample X[:5]", "my big model"),
    ],
)
def test_names_with_spaces_are_refused_with_the_valid_form(shell, line, written):
    out = shell.run(line)
    assert out["error"].startswith(f"UsageError: Invalid model name {written!r}: names cannot contain spaces"), out
    assert f"e.g. %register {written.replace(' ', '-')} clf" in out["error"]
    assert '"' not in out["error"].split(":")[1], "no quotes of the line in the name"


def test_a_line_with_an_unclosed_quote_says_so(shell):
    out = shell.run('%register churn clf -d "baseline')
    assert out["error"].startswith('UsageError: Unclosed " in'), out


def test_an_unpicklable_step_is_one_line_naming_it(shell):
    out = shell.run(
        textwrap.dedent("""
        import threading
        from sklearn.preprocessing import FunctionTransformer
        def shift(Z, guard=None):
            return Z + 1
        locked = make_pipeline(FunctionTransformer(shift, kw_args={"guard": threading.Lock()}),
                               LogisticRegression()).fit(X, y)
        %register locked locked
    """)
    )
    assert out["error"].startswith("UsageError: Cannot register step 'functiontransformer' (FunctionTransformer)"), out
    assert "'kw_args'" in out["error"] and "cannot pickle '_thread.lock' object" in out["error"]
    assert "\n" not in out["error"].strip() and "Traceback" not in out["error"]


def test_classes_and_lambdas_of_the_notebook_are_saved_by_value_and_deploy(shell, hub_server):
    out = shell.run(
        textwrap.dedent("""
        from sklearn.base import BaseEstimator, TransformerMixin
        from sklearn.preprocessing import FunctionTransformer

        class Doubler(BaseEstimator, TransformerMixin):
            def fit(self, Z, y=None):
                return self
            def transform(self, Z):
                return Z * 2

        notebook_model = make_pipeline(Doubler(), FunctionTransformer(lambda Z: Z + 1), LogisticRegression()).fit(X, y)
        v = %register notebook-classes notebook_model --sample X[:5]
        ep = %deploy notebook-ep notebook-classes:1 --auth none
        answer = ep.predict(X[:4])
        assert answer["predictions"] == notebook_model.predict(X[:4]).tolist(), answer
    """)
    )
    assert not out["error"], out
    serialization = hub_server.client().version("notebook-classes:1")["properties"]["serialization"]
    assert serialization["format"] == "cloudpickle" and serialization["by_value"] == ["Doubler", "<lambda>"]
    shell.run("%undeploy notebook-ep")


def test_a_model_holding_large_arrays_registers_and_reloads(shell, hub_server, tmp_path):
    """Arrays over 64 kB reach the pickler as out-of-band buffers; registering once failed on them."""
    out = shell.run(
        textwrap.dedent("""
        import numpy as np
        from sklearn.neighbors import KNeighborsClassifier
        big_X = np.random.default_rng(0).random((2000, 20))
        knn = KNeighborsClassifier(algorithm="brute").fit(big_X, np.arange(2000) % 2)
        %register large-arrays knn --sample big_X[:3]
    """)
    )
    assert not out["error"], out
    downloaded = hub_server.client().download("large-arrays:1", to=tmp_path)
    model_file = next(path for path in downloaded["files"] if path.endswith(pickling.MODEL_FILE))
    knn, big_X = joblib.load(model_file), shell.ipython.user_ns["big_X"]
    assert (knn.predict(big_X[:50]) == shell.ipython.user_ns["knn"].predict(big_X[:50])).all()


def test_plain_models_are_still_written_with_joblib(shell, hub_server):
    assert not shell.run("%register plain clf")["error"]
    assert "serialization" not in hub_server.client().version("plain:1")["properties"]


def test_code_saved_by_value_is_refused_for_a_server_on_another_python():
    saved = {"format": "cloudpickle", "by_value": ["Doubler"], "python": "3.11", "cloudpickle": "3.1.0"}
    with pytest.raises(InvalidInput) as refused:
        pickling.check_loadable(saved, object(), "3.12.4")
    assert "Doubler, defined in this notebook, which is saved by value as Python 3.11 code" in str(refused.value)
    assert "the Model Hub server runs Python 3.12" in str(refused.value)
    assert "Move it into a module installed where the server runs" in str(refused.value)
    pickling.check_loadable(saved, object(), "3.11.9")  # the same minor version loads
