"""ONNX conversion figures: equivalence and speed-ups of a suite of scikit-learn models.

Each suite model is trained on generated data, registered as a client would register it (model
file, signature and input example from ``describe_sample``), and converted by the real
``ModelConverter`` against a throw-away SQLite registry, with held-out rows as the sample. The
table shows the equivalence check and the speed report the user sees in the notebook.

    .venv/bin/python bench/onnx.py [--rows 4000] [--budget 1.5] [--dtype float32] [--only NAME ...]

Targets: every model equivalent within the default tolerance; median single-row speed-up >= 10x;
no model slower than its original on the 10,000-row batch. Exits 1 when a target is missed.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, this file's folder comes first on sys.path and this file would shadow the
    # ``onnx`` package that skl2onnx imports.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

SAMPLE_ROWS = 200


@dataclass
class SuiteModel:
    name: str
    model: object
    sample: object  # held-out rows (DataFrame or array) in the format the model was trained on


def suite(rows: int = 4000, seed: int = 0, only: list[str] | None = None) -> list[SuiteModel]:
    """The benchmark's models, fitted on ``rows`` generated rows; each has held-out sample rows."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.datasets import make_classification, make_regression
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC

    total = rows + SAMPLE_ROWS
    X, y = make_classification(total, 20, n_informative=10, n_redundant=4, random_state=seed)
    Xr, yr = make_regression(total, 20, n_informative=12, noise=10.0, random_state=seed)
    yr = yr + 1000.0  # predictions far from 0, so the relative part of the tolerance matters
    frame, churned, spend = _customers(total, seed)

    def mixed_columns(numbers: list[str]):
        return ColumnTransformer(
            [
                ("numbers", StandardScaler(), numbers),
                ("categories", OneHotEncoder(handle_unknown="ignore"), ["plan", "region", "payment"]),
            ]
        )

    recipes = {
        "linear_regression": lambda: (LinearRegression(), Xr, yr),
        "logistic_regression": lambda: (LogisticRegression(max_iter=1000), X, y),
        "churn_pipeline": lambda: (
            Pipeline(
                [
                    ("prepare", mixed_columns(["age", "tenure_months", "monthly_spend", "support_calls"])),
                    ("classify", LogisticRegression(max_iter=1000)),
                ]
            ),
            frame,
            churned,
        ),
        "spend_pipeline": lambda: (
            Pipeline([("prepare", mixed_columns(["age", "tenure_months", "support_calls"])), ("regress", Ridge())]),
            frame.drop(columns=["monthly_spend"]),
            spend,
        ),
        "random_forest": lambda: (RandomForestClassifier(n_estimators=100, max_depth=12, random_state=seed), X, y),
        "gradient_boosting": lambda: (GradientBoostingClassifier(n_estimators=100, random_state=seed), X, y),
        "hist_gradient_boosting": lambda: (HistGradientBoostingClassifier(max_iter=100, random_state=seed), X, y),
        "hist_gradient_boosting_regressor": lambda: (
            HistGradientBoostingRegressor(max_iter=100, random_state=seed),
            Xr,
            yr,
        ),
        # No probability=True: it is deprecated in scikit-learn 1.9; the scores are compared instead.
        "svm": lambda: (make_pipeline(StandardScaler(), SVC()), X, y),
        "k_nearest_neighbours": lambda: (KNeighborsClassifier(n_neighbors=5), X, y),
        "mlp": lambda: (
            make_pipeline(StandardScaler(), MLPClassifier((64, 32), max_iter=300, random_state=seed)),
            X,
            y,
        ),
    }
    models = []
    for name, recipe in recipes.items():
        if only and name not in only:
            continue
        estimator, data, target = recipe()
        rows_of = data.iloc if isinstance(data, pd.DataFrame) else data
        train, held_out = rows_of[:rows], rows_of[rows:]
        with _quiet():
            estimator.fit(train, target[:rows])
        models.append(SuiteModel(name, estimator, held_out))
    return models


def _customers(total: int, seed: int):
    """A churn-like table: integer, float and string columns; churn (a class) and spend (a number)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, total),
            "tenure_months": rng.integers(0, 120, total),
            "monthly_spend": rng.gamma(3.0, 20.0, total).round(2),
            "support_calls": rng.poisson(1.5, total),
            "plan": rng.choice(["basic", "plus", "pro"], total, p=[0.5, 0.3, 0.2]),
            "region": rng.choice(["emea", "americas", "apac"], total),
            "payment": rng.choice(["card", "transfer", "invoice"], total),
        }
    )
    logit = (
        0.4 * frame.support_calls
        - 0.03 * frame.tenure_months
        + 0.01 * frame.monthly_spend
        + (frame.plan == "basic") * 0.8
        + rng.normal(0, 1, total)
    )
    return frame, (logit > 0.5).astype(int).to_numpy(), frame.monthly_spend.to_numpy()


class _quiet:
    """Silence convergence warnings while fitting: the suite is about conversion, not fit quality."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)


def register_original(registry, name: str, entry: SuiteModel) -> dict:
    """Register a suite model as the client does: model.joblib, signature and input example."""
    import io
    import tarfile

    from jupyter_modelhub.client.packing import describe_sample, save_sklearn

    folder = save_sklearn(entry.model)
    signature, example = describe_sample(entry.sample, entry.model)
    upload_id, path = registry.artifacts.new_upload()
    data = (folder / "model.joblib").read_bytes()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (folder / "model.joblib").unlink()
    folder.rmdir()
    return registry.register(
        name, upload_id, flavor="sklearn", signature=signature, input_example=example, created_by="bench"
    )


def sample_rows(entry: SuiteModel) -> object:
    """The held-out rows as the magic sends them: a split-DataFrame dict or a list of rows."""
    if hasattr(entry.sample, "columns"):
        import orjson

        return {
            "columns": [str(c) for c in entry.sample.columns],
            "data": orjson.loads(entry.sample.to_json(orient="values")),
        }
    return entry.sample.tolist()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000, help="training rows per model")
    parser.add_argument("--budget", type=float, default=None, help="timing budget per model (s)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--only", nargs="*", help="suite models to run")
    args = parser.parse_args()

    import onnxruntime
    import skl2onnx
    import sklearn

    from jupyter_modelhub.convert import ModelConverter, NotEquivalent, UnsupportedModel
    from jupyter_modelhub.registry import ModelRegistry
    from jupyter_modelhub.store.artifacts import ArtifactStore
    from jupyter_modelhub.store.database import Database

    print(
        f"scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}, onnxruntime "
        f"{onnxruntime.__version__}, {__import__('os').cpu_count()} CPUs; dtype {args.dtype}"
    )
    models = suite(args.rows, only=args.only)
    header = (
        f"{'model':34} {'equivalent':>10} {'max diff':>9} {'sklearn 1 row':>13} {'onnx 1 row':>10} "
        f"{'p99 x':>6} {'1-row x':>8} {'sklearn 10k':>11} {'onnx 10k':>9} {'10k x':>6} {'time':>5}"
    )
    print(header)
    print("-" * len(header))
    latency_speedups, failures = [], []
    with tempfile.TemporaryDirectory(prefix="modelhub-bench-") as root:
        database = Database(f"sqlite:///{root}/registry.db")
        registry = ModelRegistry(database, ArtifactStore(Path(root) / "hub"))
        converter = ModelConverter(registry)
        if args.budget is not None:
            converter.timing_budget = args.budget
        for entry in models:
            original = register_original(registry, entry.name, entry)
            started = time.perf_counter()
            try:
                result = converter.convert(original["ref"], sample=sample_rows(entry), dtype=args.dtype, user="bench")
            except (NotEquivalent, UnsupportedModel) as exc:
                print(f"{entry.name:34} FAILED: {exc.message}")
                failures.append(entry.name)
                continue
            elapsed = time.perf_counter() - started
            eq, sp = result["equivalence"], result["speed"]
            worst = max((o.get("max_scaled_diff") or 0.0) for o in eq["outputs"])
            o, n = sp["original"], sp["onnx"]
            latency_speedups.append(sp["speedup"]["latency"])
            if not eq["passed"]:
                failures.append(entry.name)
            if sp["speedup"]["throughput"] < 1.0:
                failures.append(f"{entry.name} (slower on the batch)")
            print(
                f"{entry.name:34} {'yes' if eq['passed'] else 'NO':>10} {worst:9.1e} "
                f"{o['latency']['median_ms']:10.3f} ms {n['latency']['median_ms']:7.3f} ms "
                f"{sp['speedup']['latency_p99']:5.1f}x {sp['speedup']['latency']:7.1f}x "
                f"{o['batch']['median_s'] * 1000:8.1f} ms {n['batch']['median_s'] * 1000:6.1f} ms "
                f"{sp['speedup']['throughput']:5.1f}x {elapsed:4.1f}s"
            )
        database.dispose()
    median = float(np.median(latency_speedups)) if latency_speedups else 0.0
    print(
        f"\nmedian single-row speed-up {median:.1f}x (target >= 10x); "
        f"equivalent {len(models) - len([f for f in failures if '(' not in f])}/{len(models)}; "
        f"slower on the batch: {', '.join(f for f in failures if '(' in f) or 'none'}"
    )
    return 0 if not failures and median >= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
