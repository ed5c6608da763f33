"""The magics in real kernels: started by a Jupyter server (token or password auth), and in a
plain IPython process that finds or starts a standalone server by itself."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys

import pytest

from helpers.kernels import TRAIN, Kernel
from helpers.servers import ServerProcess


@pytest.fixture(scope="module")
def kernel(hub_server):
    k = Kernel(hub_server)
    k.run("%load_ext jupyter_modelhub\n" + TRAIN)
    yield k
    k.stop()


def test_kernel_finds_its_server_and_registers_an_estimator(kernel, hub_server):
    out = kernel.run("v = %register churn clf --sample X[:5] --tag team=growth --description 'first model'\nv")
    assert not out["error"], out
    assert "churn:1" in out["text"] and "<b>churn:1</b>" in out["html"]
    version = hub_server.client().version("churn:1")
    assert version["flavor"] == "sklearn" and version["tags"] == {"team": "growth"}
    assert version["signature"]["inputs"] == [{"name": "input", "dtype": "float64", "shape": [-1, 20]}]
    assert len(version["input_example"]) == 5 and len(version["input_example"][0]) == 20
    assert version["source_notebook"].endswith("notebooks/train.ipynb"), (
        "the notebook the kernel belongs to is recorded"
    )
    assert version["created_by"] == getpass.getuser(), "the account the server runs as"


def test_registering_again_returns_the_existing_version(kernel):
    out = kernel.run("%register churn clf")
    assert "identical to an existing version" in out["text"] and "churn:1" in out["text"]


def test_magics_list_show_tag_alias_archive_download_delete(kernel, hub_server, tmp_path):
    kernel.run(
        "clf2 = make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(X, y)\n"
        "%register churn clf2 --derived-from churn:1"
    )
    assert "churn" in kernel.run("%models team=growth")["text"]
    assert "No models match" in kernel.run("%models team=nobody")["text"]
    assert "@production" in kernel.run("%alias churn:2 production")["text"]
    shown = kernel.run("%model churn")
    assert "churn:1 -> churn:2".replace(" -> ", " → ") in shown["html"] and "churn:2" in shown["text"]
    assert "stage=prod" in kernel.run("%tag churn:2 stage=prod")["text"]
    assert "stage" not in kernel.run("%tag churn:2 --remove stage")["text"]
    out = kernel.run("%delete churn:2")
    assert out["error"].startswith("UsageError: Cannot delete churn:2: it is used by alias churn@production")
    assert "archived" in kernel.run("%archive churn:1")["text"]
    assert "archived" not in kernel.run("%restore churn:1")["text"]
    out = kernel.run(f"%download churn@production --to {tmp_path}")
    assert "sha256 verified" in out["text"] and (tmp_path / "model.joblib").exists()
    kernel.run("%alias churn@production --delete")
    assert "Deleted churn:2" in kernel.run("%delete churn:2")["text"]


@pytest.mark.parametrize(
    "line, message",
    [
        ("%register 'bad name' clf", "Invalid model name"),
        ("%register churn not_a_variable_or_file", "neither a variable nor an existing file"),
        ("%register churn clf --sample undefined_name[:5]", "--sample 'undefined_name[:5]' failed: NameError"),
        ("%register churn StandardScaler()", "not fitted yet"),
        ("%models team=", "expected a value for tag 'team'"),
        ("%model churn:99", "no version 99"),
        ("%model churn@nope", "no alias 'nope'"),
        ("%delete churn", "Name a version (churn:3) or pass --all"),
        ("%tag churn:1", "Nothing to change"),
    ],
)
def test_errors_are_one_readable_line(kernel, line, message):
    out = kernel.run(line)
    assert out["error"].startswith("UsageError: ") and message in out["error"], out
    assert "Traceback" not in out["error"]


def test_magic_help_shows_usage(kernel):
    out = kernel.run("%register?")
    assert "%register [--sample SAMPLE]" in out["text"] and "Register a model version" in out["text"]


def test_kernels_of_a_password_protected_server_still_connect(tmp_path):
    server = ServerProcess(tmp_path, password="secret")
    try:
        k = Kernel(server)
        out = k.run("import jupyter_modelhub\njupyter_modelhub.connect().models().text()")
        assert not out["error"] and "No models match" in out["text"], out
        k.stop()
    finally:
        server.stop()


def test_plain_ipython_starts_then_reuses_a_standalone_server(tmp_path):
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    for key in ("MODELHUB_URL", "MODELHUB_TOKEN"):
        env.pop(key, None)
    script = (
        "from IPython.testing.globalipapp import start_ipython\nip = start_ipython()\n"
        "ip.run_cell('%load_ext jupyter_modelhub')\n"
        "open('m.onnx','wb').write(b'x')\n"
        "print(ip.run_cell('%register standalone m.onnx').result.text())\n"
    )
    try:
        first = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert "standalone:1" in first.stdout, first.stderr
        info = json.loads((tmp_path / "runtime" / "modelhub-server.json").read_text())
        second = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert "identical to an existing version" in second.stdout, second.stderr
        assert json.loads((tmp_path / "runtime" / "modelhub-server.json").read_text())["pid"] == info["pid"]
        assert (tmp_path / "data" / "modelhub" / "registry.db").exists()
    finally:
        stopped = subprocess.run(
            [sys.executable, "-m", "jupyter_modelhub.cli", "stop"], env=env, capture_output=True, text=True
        )
    assert "Stopped" in stopped.stdout


def test_a_dataframe_sample_records_one_input_per_column(kernel, hub_server):
    out = kernel.run(
        "import pandas as pd\n"
        "df = pd.DataFrame({'age': [31, 45, 22], 'plan': ['basic', 'pro', 'basic'], 'spend': [9.5, 30.0, 1.25]})\n"
        "from sklearn.compose import make_column_transformer\n"
        "from sklearn.preprocessing import OneHotEncoder\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "pipe = make_pipeline(make_column_transformer((OneHotEncoder(), ['plan']), remainder='passthrough'),\n"
        "                     DecisionTreeClassifier()).fit(df, [0, 1, 0])\n"
        "%register churn-frame pipe --sample df"
    )
    assert not out["error"], out
    version = hub_server.client().version("churn-frame")
    assert version["signature"]["inputs"] == [
        {"name": "age", "dtype": "int64", "shape": [-1]},
        {"name": "plan", "dtype": "string", "shape": [-1]},
        {"name": "spend", "dtype": "float64", "shape": [-1]},
    ]
    assert version["input_example"] == {
        "columns": ["age", "plan", "spend"],
        "data": [[31, "basic", 9.5], [45, "pro", 30.0], [22, "basic", 1.25]],
    }
