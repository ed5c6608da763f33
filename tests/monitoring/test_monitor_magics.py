"""%reference and %monitor in a notebook's shell against a real server: a version registered with
a training sample gets its reference profile; a drifted stream flags exactly the drifted
features (numbers by PSI, categories by chi-square), data quality counts what is broken, the
report reads as a table with a chart per feature, and bad input is a one-line error that changes
nothing."""

from __future__ import annotations

import textwrap

import pytest

SETUP = textwrap.dedent("""
    import numpy as np, pandas as pd
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(7)
    def draw(n, shift=False):
        frame = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(6)})
        if shift:
            frame["f2"] = frame["f2"] + 1.0
            frame["f4"] = frame["f4"] * 2.5
        return frame
    train = draw(3000)
    six = LogisticRegression().fit(train, (train.f0 + train.f1 > 0).astype(int))
""")


@pytest.fixture(scope="module")
def six(shell):
    out = shell.run(SETUP + "v = %register six six --sample train\nv.ref")
    assert not out["error"], out
    return out["text"].strip().strip("'")


def test_registering_with_a_large_sample_keeps_its_reference_profile(shell, six):
    out = shell.run(
        f"r = %reference {six}\nprint(r.text())\nprint((r['source'], r['rows'], [p['name'] for p in r['predictions']]))"
    )
    assert not out["error"], out
    assert "('registration sample', 3000, ['predictions', 'probabilities[0]', 'probabilities[1]'])" in out["text"]
    assert "f0" in out["text"] and "Reference profile of six:1: 3,000 rows" in out["text"]
    small = shell.run("w = %register tiny six --sample train[:5]\nw.get('properties', {}).get('reference')")
    assert not small["error"] and small["text"].strip() in ("", "None"), "5 rows make no profile"


def test_a_stream_with_two_shifted_features_flags_exactly_those(shell, six):
    out = shell.run(f"new = draw(2000, shift=True)\nm = %monitor --data new --against {six} --model six\nm")
    assert not out["error"], out
    result = shell.run("print((m['drifted'], [f['name'] for f in m['features']], m['predictions']['drifted']))")
    assert "(['f2', 'f4'], ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'], [])" in result["text"], result
    values = shell.run("print({f['name']: (f['statistic'], round(f['value'], 2)) for f in m['features']})")
    assert "'f2': ('psi'" in values["text"]
    assert out["html"].count("<svg") == 6 + 3, "a chart per feature and per prediction column"
    assert out["html"].count(">drifted<") == 2
    assert "f2" in out["html"] and "reference vs current" in out["html"]
    text = shell.run("print(m.text())")["text"]
    assert "2 of 6 features drifted (f2, f4)" in text
    assert [line.split()[0] for line in text.splitlines() if line.rstrip().endswith("DRIFTED")] == ["f2", "f4"]


def test_no_drift_is_reported_for_data_from_the_same_distribution(shell, six):
    out = shell.run(
        f"same = %monitor --data draw(2000) --against {six} --model six\nprint((same['drifted'], same['quality']['flagged']))"
    )
    assert not out["error"], out
    assert "([], [])" in out["text"]


def test_a_baseline_window_is_compared_like_a_reference(shell, six):
    out = shell.run(
        "b = %monitor --data draw(1500, shift=True) --baseline draw(1500)\nprint((b['against'], b['drifted']))"
    )
    assert not out["error"], out
    assert "('baseline', ['f2', 'f4'])" in out["text"]


def test_a_category_whose_mix_changed_is_flagged_by_chi_square(shell, tmp_path):
    model = tmp_path / "plans.onnx"
    model.write_bytes(b"weights")
    code = textwrap.dedent(f"""
        import numpy as np, pandas as pd
        rng = np.random.default_rng(11)
        def plans(n, p):
            return pd.DataFrame({{
                "plan": rng.choice(["basic", "pro", "team"], size=n, p=p),
                "region": rng.choice(["eu", "us"], size=n),
                "spend": rng.gamma(2.0, 10.0, size=n),
            }})
        base = plans(4000, [0.6, 0.3, 0.1])
        pv = %register plans {model} --sample base
        pm = %monitor --data plans(3000, [0.4, 0.3, 0.3]) --against plans:1
        print([(f['name'], f['kind'], f['statistic'], f['drifted']) for f in pm['features']])
    """)
    out = shell.run(code)
    assert not out["error"], out
    assert (
        "[('plan', 'categorical', 'chi_square', True), ('region', 'categorical', 'chi_square', False), "
        "('spend', 'numeric', 'psi', False)]"
    ) in out["text"]
    p = shell.run("[f['chi_square_pvalue'] < 1e-6 for f in pm['features'][:1]]")
    assert "[True]" in p["text"]


def test_quality_counts_nulls_mistyped_and_out_of_range_values(shell, six):
    code = textwrap.dedent(f"""
        bad = draw(1000)
        bad.loc[:49, "f0"] = np.nan
        bad.loc[:19, "f3"] = 1e6
        bad["f5"] = bad["f5"].astype(object)
        bad.loc[:9, "f5"] = "n/a"
        q = %monitor --data bad --against {six}
        print({{f['name']: (f['nulls'], f['type_errors'], f['above_reference'] >= 20, f['flagged']) for f in q['quality']['features']}})
    """)
    out = shell.run(code)
    assert not out["error"], out
    assert "'f0': (50, 0, False, False)" in out["text"]  # 5% null: under the 10-point margin
    assert "'f3': (0, 0, True, False)" in out["text"]  # 2% beyond the reference's maximum: counted
    assert "'f5': (0, 10, False, True)" in out["text"]
    issues = shell.run("print((q['quality']['flagged'], [i for f in q['quality']['features'] for i in f['issues']]))")
    assert "(['f5'], ['10 values are not float64'])" in issues["text"], issues


def test_a_training_set_replaces_the_sample_profile(shell, six):
    out = shell.run(f"big = draw(25000)\nref = %reference {six} big --model six\nprint((ref['rows'], ref['source']))")
    assert not out["error"], out
    assert "(25000, 'big')" in out["text"]  # more than JSON_ROWS: sent as a Parquet upload
    again = shell.run(f"again = %reference {six}\nprint(again['rows'])")
    assert "25000" in again["text"]


@pytest.mark.parametrize(
    "line, message",
    [
        ("%monitor --data new --against six:9", "Model 'six' has no version 9 (latest is 1)."),
        ("%monitor --data new[['f0', 'f1']] --against six:1", "missing ['f2', 'f3', 'f4', 'f5']"),
        ("%monitor --data new.iloc[:0] --against six:1", "has no rows"),
        ("%monitor --data new", "Compare with one of --against REF"),
        ("%monitor churn-ep --window 1h", "No endpoint named 'churn-ep'"),
        ("%monitor churn-ep --data new", "--data, --baseline, --predictions and --model go without an endpoint"),
        ("%monitor --data new --against six:1 --threshold psi=high", "the value is a number"),
        ("%monitor --data new --against six:1 --threshold f0:chi_square=0.1", "its drift statistic is one of"),
        ("%monitor --data undefined_name --against six:1", "--data 'undefined_name' failed: NameError"),
        ("%reference six:1 train.iloc[:0]", "has no rows"),
        ("%reference six:1 train[:40]", "at least 100 rows; the data has 40"),
        ("%reference six:1 train[['f0']]", "does not match the model's features"),
        ("%reference nothing:1", "nothing"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(shell, six, line, message):
    shell.run("new = draw(500)")
    stored = f"stored = %reference {six}\nprint(stored['created_time'])"
    before = shell.run(stored)["text"]
    assert before.strip(), "a profile is stored"
    out = shell.run(line)
    assert message in out["error"], out
    assert "Traceback" not in out["error"] and len(out["error"].strip().splitlines()) == 1, out["error"]
    assert shell.run(stored)["text"] == before
