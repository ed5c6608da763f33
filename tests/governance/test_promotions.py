"""Promotions that need evidence (issue 21): under ``c.ModelHubApp.promotion_rules`` an alias
moves only to a version with an evaluation against the current one within the thresholds and an
approval by someone other than its registrant; the refusal names each missing or failed check;
the move records its evidence; a rollback returns without the checks. Real server, real users
(``helpers.identities``), real scikit-learn models evaluated through the runtime's scorer, a
real kernel for the magics.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.identities import PROVIDER, team
from helpers.kernels import Kernel
from helpers.servers import ServerProcess
from jupyter_modelhub.client import ModelHubClient
from jupyter_modelhub.errors import Conflict, Forbidden, InvalidInput

RULES = {"production": {"equivalence": True, "evaluation": {"accuracy": -0.01}, "approval": True}}

X, y = make_classification(600, 5, n_informative=4, n_redundant=0, random_state=7)
COLUMNS = [f"f{i}" for i in range(5)]
TRAIN = pd.DataFrame(X[:400], columns=COLUMNS)
HOLDOUT = pd.DataFrame(X[400:], columns=COLUMNS).assign(y=y[400:])


@pytest.fixture
def hub(tmp_path):
    tokens, env = team(alice=[], bob=[])
    (tmp_path / "config").mkdir(parents=True)
    (tmp_path / "config" / "jupyter_server_config.json").write_text(
        json.dumps({"ModelHubApp": {"promotion_rules": RULES}})
    )
    server = ServerProcess(tmp_path, extra_env=env, args=[PROVIDER])
    yield server, ModelHubClient(server.url, tokens["alice"]), ModelHubClient(server.url, tokens["bob"])
    server.stop()


def test_an_alias_under_rules_moves_only_with_evidence_and_says_what_is_missing(hub, tmp_path):
    server, alice, bob = hub
    good = LogisticRegression().fit(TRAIN, y[:400])
    bad = LogisticRegression().fit(TRAIN, np.random.default_rng(0).permutation(y[:400]))  # labels shuffled
    for model in (good, bad, LogisticRegression(C=0.5).fit(TRAIN, y[:400])):
        alice.register("churn", model, sample=TRAIN[:3])

    # No evidence: the refusal names every check missing, and what to run.
    with pytest.raises(Conflict) as refused:
        alice.set_alias("churn", "production", 1)
    message = refused.value.message
    assert "promotion rules of 'production' are not met" in message
    assert "evaluation: missing" in message and "%evaluate churn:1 --data DATA --target COLUMN" in message
    assert "approval: missing" in message and "someone other than alice" in message
    assert "equivalence" not in message  # not a conversion: not needed

    # Evidence: an evaluation (in this process, through the runtime's scorer), an approval by bob.
    evaluated = alice.evaluate("churn:1", HOLDOUT, "y")
    assert evaluated["metrics"]["accuracy"] > 0.8 and set(evaluated["metrics"]) == {"accuracy", "f1", "roc_auc"}
    with pytest.raises(Forbidden, match="alice registered churn:1 and so cannot approve it"):
        alice.approve("churn:1", "production")
    checks = bob.approve("churn:1", "production")["aliases"][0]
    assert checks["allowed"] and {c["name"]: c["status"] for c in checks["checks"]} == {
        "equivalence": "not needed",
        "evaluation": "passed",
        "approval": "passed",
    }
    assert alice.set_alias("churn", "production", 1)["version"] == 1

    # A worse candidate: evaluated against production on a file, approved, still refused.
    holdout = tmp_path / "holdout.parquet"
    HOLDOUT.to_parquet(holdout)
    worse = alice.evaluate("churn:2", str(holdout), "y", against="churn@production")
    assert worse["against"] == "churn@production" and worse["data"]["name"] == "holdout.parquet"
    assert worse["metrics"]["accuracy"] < worse["against_metrics"]["accuracy"] - 0.1
    properties = alice.version("churn:2")["properties"]  # the newest evaluation's metrics, as properties
    assert properties["metrics"] == worse["metrics"]
    assert properties["evaluation"]["against"] == "churn:1" and properties["evaluation"]["data"]["rows"] == 200
    bob.approve("churn:2", "production")
    with pytest.raises(Conflict) as refused:
        alice.set_alias("churn", "production", 2)
    assert (
        "evaluation: failed: accuracy" in refused.value.message and "(churn:1): needs at least" in refused.value.message
    )
    assert "approval" not in refused.value.message  # only what is missing or failed
    assert alice.version("churn@production")["version"] == 1

    # An evaluation against another version does not count for this move.
    alice.evaluate("churn:3", HOLDOUT, "y", against="churn:2")
    bob.approve("churn:3", "production")
    shown = alice.promotion("churn:3")
    check = next(c for c in shown["aliases"][0]["checks"] if c["name"] == "evaluation")
    assert check["status"] == "missing" and "against churn:1 (churn@production now)" in check["detail"]
    alice.evaluate("churn:3", HOLDOUT, "y", against="churn@production")
    assert alice.set_alias("churn", "production", 3)["version"] == 3

    # The move recorded its evidence; a rollback goes back without the checks, recorded too.
    entries = alice.history("churn", action="promotion.checked,alias.moved")["entries"]
    assert [e["action"] for e in entries[:2]] == ["alias.moved", "promotion.checked"]
    assert {c["name"]: c["status"] for c in entries[1]["new"]["checks"]}["evaluation"] == "passed"
    assert alice.rollback_alias("churn", "production")["version"] == 1

    # Bad evidence is a 400 that records nothing.
    with pytest.raises(InvalidInput):
        alice._call("POST", "models/churn/versions/2/evidence", json={"kind": "evaluation", "metrics": {}})
    with pytest.raises(InvalidInput, match="no column 'label'"):
        alice.evaluate("churn:2", HOLDOUT, "label")
    assert len(alice.promotion("churn:2")["evidence"]) == 2  # the evaluation and bob's approval

    # The magics, in a real kernel: the checks of a version, and an evaluation of a DataFrame.
    kernel = Kernel(server)
    try:
        assert not kernel.run("%load_ext jupyter_modelhub")["error"]
        shown = kernel.run("%promotion churn:2")
        assert "✗ evaluation: failed" in shown["text"] and "@production (now churn:1): not yet" in shown["text"]
        holdout_path = str(holdout)
        kernel.run(f"import pandas as pd; holdout = pd.read_parquet({holdout_path!r})")
        shown = kernel.run("%evaluate churn:3 --data holdout --target y --against churn@production")
        assert not shown["error"], shown["error"]
        assert "accuracy" in shown["html"] and "churn:3 vs churn@production on DataFrame" in shown["text"]
    finally:
        kernel.stop()
