"""The registry magics (%register, %models, %model, %tag, %alias, %archive, %restore, %download,
%delete) in an in-process IPython shell on a real Jupyter server: what they show, what the
registry records, and errors in one readable line."""

from __future__ import annotations

import getpass

import pytest


def test_register_records_an_estimator_and_shows_its_version(shell, hub_server):
    out = shell.run("v = %register churn clf --sample X[:5] --tag team=growth --description 'first model'\nv")
    assert not out["error"], out
    assert "churn:1" in out["text"] and "<b>churn:1</b>" in out["html"]
    version = hub_server.client().version("churn:1")
    assert version["flavor"] == "sklearn" and version["tags"] == {"team": "growth"}
    assert version["signature"]["inputs"] == [{"name": "input", "dtype": "float64", "shape": [-1, 20]}]
    assert len(version["input_example"]) == 5 and len(version["input_example"][0]) == 20
    assert version["source_notebook"] is None, "plain IPython has no notebook (a kernel's: tests/magics/test_magics.py)"
    assert version["created_by"] == getpass.getuser(), "the account the server runs as"


def test_registering_again_returns_the_existing_version(shell):
    out = shell.run("%register churn clf")
    assert "identical to an existing version" in out["text"] and "churn:1" in out["text"]


def test_magics_list_show_tag_alias_archive_download_delete(shell, tmp_path):
    shell.run(
        "clf2 = make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(X, y)\n"
        "%register churn clf2 --derived-from churn:1"
    )
    assert "churn" in shell.run("%models team=growth")["text"]
    assert "No models match" in shell.run("%models team=nobody")["text"]
    assert "@production" in shell.run("%alias churn:2 production")["text"]
    shown = shell.run("%model churn")
    assert "churn:1 -> churn:2".replace(" -> ", " → ") in shown["html"] and "churn:2" in shown["text"]
    assert "stage=prod" in shell.run("%tag churn:2 stage=prod")["text"]
    assert "stage" not in shell.run("%tag churn:2 --remove stage")["text"]
    out = shell.run("%delete churn:2")
    assert out["error"].startswith("UsageError: Cannot delete churn:2: it is used by alias churn@production")
    assert "archived" in shell.run("%archive churn:1")["text"]
    assert "archived" not in shell.run("%restore churn:1")["text"]
    out = shell.run(f"%download churn@production --to {tmp_path}")
    assert "sha256 verified" in out["text"] and (tmp_path / "model.joblib").exists()
    shell.run("%alias churn@production --delete")
    assert "Deleted churn:2" in shell.run("%delete churn:2")["text"]


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
def test_errors_are_one_readable_line(shell, line, message):
    out = shell.run(line)
    assert out["error"].startswith("UsageError: ") and message in out["error"], out
    assert "Traceback" not in out["error"]


def test_magic_help_shows_usage(shell):
    out = shell.run("%register?")
    assert "%register [--sample SAMPLE]" in out["text"] and "Register a model version" in out["text"]


def test_a_dataframe_sample_records_one_input_per_column(shell, hub_server):
    out = shell.run(
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
