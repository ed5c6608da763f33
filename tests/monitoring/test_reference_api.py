"""A version's reference profile over REST: PUT profiles rows (JSON, or an uploaded Parquet file)
and keeps the profile with the version; GET returns it; a bad request is a 400 or 404 that says
what was wrong and leaves the stored profile as it was."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from helpers.uploads import tar_bytes

FEATURES = ["age", "income", "plan"]
SIGNATURE = {
    "inputs": [
        {"name": "age", "dtype": "int64", "shape": [-1]},
        {"name": "income", "dtype": "float64", "shape": [-1]},
        {"name": "plan", "dtype": "string", "shape": [-1]},
    ],
    "outputs": [{"name": "predictions", "dtype": "int64", "shape": [-1]}],
}


def rows(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    data = [
        [int(a), float(i), str(p)]
        for a, i, p in zip(rng.integers(18, 80, n), rng.lognormal(10, 0.5, n), rng.choice(["basic", "pro"], n))
    ]
    return {"columns": FEATURES, "data": data}


async def upload(api, files: dict[str, bytes]) -> str:
    status, body = await api("POST", "uploads", raw=tar_bytes(files), headers={"Content-Type": "application/x-tar"})
    assert status == 201, body
    return body["upload_id"]


async def register(api) -> str:
    upload_id = await upload(api, {"model.onnx": b"weights"})
    status, body = await api("POST", "models/churn/versions", {"upload_id": upload_id, "signature": SIGNATURE})
    assert status == 201, body
    return body["ref"]


async def test_a_profile_put_as_json_rows_is_kept_with_the_version_and_returned(api):
    await register(api)
    predictions = {"columns": ["predictions"], "data": [[i % 2] for i in range(500)]}
    status, profile = await api(
        "PUT",
        "models/churn/versions/1/reference",
        {"inputs": rows(500), "predictions": predictions, "source": "X_train"},
    )
    assert status == 200, profile
    assert profile["rows"] == 500 and profile["source"] == "X_train"
    assert [f["name"] for f in profile["features"]] == FEATURES  # the signature's order
    age, income, plan = profile["features"]
    assert age["kind"] == income["kind"] == "numeric" and plan["kind"] == "categorical"
    assert 18 <= age["min"] <= age["quantiles"][25] <= age["max"] <= 79
    assert sum(age["counts"]) == 500 and len(age["counts"]) == len(age["edges"]) + 1
    assert sorted(plan["categories"]) == ["basic", "pro"] and sum(plan["counts"]) == 500
    assert [p["name"] for p in profile["predictions"]] == ["predictions"]

    status, again = await api("GET", "models/churn/versions/1/reference")
    assert status == 200 and again == profile
    status, by_alias_free_ref = await api("GET", "models/churn/versions/latest/reference")
    assert by_alias_free_ref == profile
    _, described = await api("GET", "models/churn/versions/1")
    assert described["properties"]["reference"]["rows"] == 500
    _, events = await api("GET", "events", after=0)
    assert "reference_set" in [e["kind"] for e in events["events"]]


async def test_a_new_profile_replaces_the_old_one(api):
    await register(api)
    await api("PUT", "models/churn/versions/1/reference", {"inputs": rows(200), "source": "sample"})
    status, profile = await api(
        "PUT", "models/churn/versions/1/reference", {"inputs": rows(800, 1), "source": "X_train"}
    )
    assert status == 200 and profile["rows"] == 800
    _, stored = await api("GET", "models/churn/versions/1/reference")
    assert stored["source"] == "X_train" and stored["rows"] == 800


async def test_a_training_set_uploaded_as_parquet_is_profiled(api, hub_root):
    await register(api)
    frame = pd.DataFrame(rows(3000)["data"], columns=FEATURES)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    upload_id = await upload(api, {"inputs.parquet": buffer.getvalue()})
    status, profile = await api("PUT", "models/churn/versions/1/reference", {"upload_id": upload_id, "source": "big"})
    assert status == 200, profile
    assert profile["rows"] == 3000 and profile["features"][0]["min"] == frame["age"].min()
    assert not list((hub_root / "uploads").glob(f"{upload_id}*")), "the upload is used up"


async def test_a_version_without_a_profile_says_how_to_make_one(api):
    await register(api)
    status, error = await api("GET", "models/churn/versions/1/reference")
    assert status == 404 and "%reference churn:1 X_train" in error["message"]


@pytest.mark.parametrize(
    "path, body, status, message",
    [
        ("models/churn/versions/7/reference", {"inputs": rows(200)}, 404, "has no version 7 (latest is 1)"),
        ("models/nobody/versions/1/reference", {"inputs": rows(200)}, 404, "nobody"),
        ("models/churn/versions/1/reference", {"inputs": {"columns": FEATURES, "data": []}}, 400, "has no rows"),
        ("models/churn/versions/1/reference", {"inputs": rows(50)}, 400, "at least 100 rows; the data has 50"),
        (
            "models/churn/versions/1/reference",
            {"inputs": {"columns": ["age", "income", "tier"], "data": rows(200)["data"]}},
            400,
            "missing ['plan']; not in the signature ['tier']",
        ),
        (
            "models/churn/versions/1/reference",
            {"inputs": {"columns": FEATURES, "data": [[1, 2.0]] * 200}},
            400,
            "every row must be a list of 3 values",
        ),
        ("models/churn/versions/1/reference", {}, 400, "either as 'inputs'"),
        ("models/churn/versions/1/reference", {"inputs": rows(200), "rows": 3}, 400, "rows: Extra inputs"),
        (
            "models/churn/versions/1/reference",
            {"inputs": rows(200), "predictions": {"columns": ["predictions"], "data": [[1]] * 10}},
            400,
            "10 predictions for 200 rows",
        ),
    ],
)
async def test_bad_requests_are_clear_errors_that_change_nothing(api, path, body, status, message):
    await register(api)
    await api("PUT", "models/churn/versions/1/reference", {"inputs": rows(300), "source": "before"})
    code, error = await api("PUT", path, body)
    assert code == status and message in error["message"], error
    _, stored = await api("GET", "models/churn/versions/1/reference")
    assert stored["source"] == "before" and stored["rows"] == 300


async def test_an_upload_without_inputs_is_refused_and_used_up(api, hub_root):
    await register(api)
    upload_id = await upload(api, {"notes.txt": b"hello"})
    code, error = await api("PUT", "models/churn/versions/1/reference", {"upload_id": upload_id})
    assert code == 400 and "Unexpected file 'notes.txt'" in error["message"]
    code, error = await api("PUT", "models/churn/versions/1/reference", {"upload_id": upload_id})
    assert code == 404 and "does not exist" in error["message"]
