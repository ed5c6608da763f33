"""The endpoint magics (%deploy, %invoke, %endpoints, %logs, %traffic, %undeploy, %env) in an
in-process IPython shell on a real Jupyter server, whose endpoints answer over HTTP; ``%invoke
--local`` runs the entry script in this process, as it runs in a notebook's kernel."""

from __future__ import annotations

import textwrap

import pytest

from helpers.servers import wait_until

SCORE_PY = textwrap.dedent("""
    import json, os, joblib
    def init():
        global model
        model = joblib.load(os.path.join(os.environ["MODELHUB_MODEL_DIR"], "model.joblib"))
    def run(raw_data):
        rows = json.loads(raw_data)["data"]
        if not rows:
            raise ValueError("no rows to score")
        return {"labels": model.predict(rows).tolist(), "rows": len(rows)}
""")


@pytest.fixture(scope="module", autouse=True)
def churn_in_production(shell):
    registered = shell.run("%register churn clf --sample X[:5]\n%alias churn:1 production")
    assert not registered["error"], registered
    yield
    shell.run("%undeploy churn-ep")


def test_deploy_shows_status_url_key_and_examples(shell):
    out = shell.run("ep = %deploy churn-ep churn@production\nep")
    assert not out["error"], out
    assert "endpoint churn-ep: healthy" in out["text"] and "key: " in out["text"]
    assert "curl -s http://127.0.0.1:" in out["text"] and "/score" in out["text"]
    key = shell.run("print(ep.key)")["text"].strip()
    assert len(key) > 20 and key not in out["text"] and key not in out["html"], "the key is not saved in outputs"
    assert "$MODELHUB_KEY" in out["text"] and key[-4:] in out["text"]
    assert "mlflow protocol" in out["html"] and "/v2/models/churn/versions/1/infer" in out["html"]
    assert "(churn@production)" in out["html"], "the alias asked for is shown beside the version it resolved to"


def test_invoke_and_predict_match_the_model(shell):
    out = shell.run(
        "r = %invoke churn-ep X[:3]\nassert r['predictions'] == clf.predict(X[:3]).tolist(), r\n"
        "assert ep.predict(X[:2])['predictions'] == clf.predict(X[:2]).tolist()\n"
        "%invoke churn-ep X[:2] --protocol v2"
    )
    assert not out["error"], out
    assert "model_name: churn" in out["text"] and "predictions" in out["text"]
    out = shell.run('%invoke churn-ep {"data": [[1, 2]]}')
    assert out["error"].startswith("UsageError: Endpoint 'churn-ep' answered 400") and "20" in out["error"]


def test_invoke_shows_a_table_at_float32_precision(shell):
    out = shell.run("r = %invoke churn-ep X[:3]\nr")
    assert not out["error"], out
    header, *rows = out["text"].splitlines()
    assert header.split() == ["predictions", "probabilities_0", "probabilities_1"] and len(rows) == 3
    full = shell.run("print(repr(r['probabilities'][0][0]), r == dict(r), type(r).__mro__[-2].__name__)")["text"]
    value, same, base = full.split()
    assert same == "True" and base == "dict", "the result is still the endpoint's dict"
    shown = rows[0].split()[1]
    assert float(shown) == pytest.approx(float(value), rel=1e-6) and len(shown) <= 11, (shown, value)
    assert "<table>" in out["html"] and "<th>probabilities_0</th>" in out["html"]


def test_endpoints_logs_traffic_and_errors(shell, hub_server):
    assert "churn-ep" in shell.run("%endpoints")["text"]
    # the runtime writes access lines in batches (every quarter second): wait for them to land
    wait_until(lambda: '"POST /score" 200' in hub_server.client().logs("churn-ep", "blue"), 10, "the access lines")
    assert '"POST /score" 200' in shell.run("%logs churn-ep --tail 20")["text"]
    out = shell.run("%traffic churn-ep blue=50,green=50")
    assert "unknown deployments green" in out["error"]
    out = shell.run("%deploy churn-ep churn:1 --deployment green --traffic blue=80,green=20")
    assert not out["error"] and "80% traffic" in out["text"] and "20% traffic" in out["text"]
    assert "100% traffic" in shell.run("%traffic churn-ep blue=100,green=0")["text"]
    assert "Deleted" not in shell.run("%undeploy churn-ep --deployment green")["text"]
    assert "No endpoint named 'nope'" in shell.run("%endpoint nope")["error"]


def test_invoke_local_runs_the_entry_script_in_the_kernel(shell, tmp_path):
    script = tmp_path / "score.py"
    script.write_text(SCORE_PY)
    out = shell.run(
        f"%deploy script-ep churn:1 --entry-script {script} --auth none\n"
        "remote = %invoke script-ep X[:2]\n"
        "local = %invoke script-ep X[:2] --local\n"
        "assert remote == local == {'labels': clf.predict(X[:2]).tolist(), 'rows': 2}, (remote, local)"
    )
    assert not out["error"], out
    remote = shell.run('%invoke script-ep {"data": []}')
    assert "answered 500" in remote["error"] and "no rows to score" in remote["error"]
    local = shell.run('%invoke script-ep {"data": []} --local')
    assert local["error"] == "ValueError: no rows to score", (
        "the script's own exception, with its traceback, in the notebook"
    )
    shell.run("%undeploy script-ep")


def test_a_handle_used_after_undeploy_says_the_endpoint_is_gone(shell):
    out = shell.run(
        "gone = %deploy gone-ep churn:1 --auth none\n"
        "assert gone.predict(X[:1])['predictions'] == clf.predict(X[:1]).tolist()\n"
        "%undeploy gone-ep\n"
        "gone.predict(X[:1])"
    )
    assert out["error"].startswith("NotFound: Endpoint 'gone-ep' no longer exists: it was deleted (%undeploy)"), out
    assert "%deploy gone-ep MODEL" in out["error"] and "healthy" not in out["error"]


def test_deploy_env_runs_in_a_registered_environment_and_shows_it(shell, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.16.0\n")
    out = shell.run(f"%env create six-env --requirements {requirements}")
    assert not out["error"] and "six-env:1" in out["text"], out
    script = tmp_path / "score.py"
    script.write_text(
        "import sys\ndef init():\n    pass\ndef run(raw_data):\n    import six\n"
        "    return {'prefix': sys.prefix, 'six': six.__version__}\n"
    )
    out = shell.run(
        f"%deploy six-ep churn:1 --env six-env --entry-script {script} --auth none\n"
        'r = %invoke six-ep {"data": []}\nprint(r["six"], r["prefix"])'
    )
    assert not out["error"], out
    assert "1.16.0 " in out["text"] and "/envs/" in out["text"], "it runs in the environment's venv"
    shown = shell.run("%endpoint six-ep")
    assert "env six-env:1" in shown["text"] and "env six-env:1" in shown["html"], shown
    out = shell.run(f"%deploy six-ep churn:1 --env {requirements}")
    assert "--requirements" in out["error"] and "is a file" in out["error"], out
    assert "No environment 'nope'" in shell.run("%deploy six-ep churn:1 --env nope")["error"]
    shell.run("%undeploy six-ep")
