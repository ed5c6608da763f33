"""A model and traffic for the monitoring tests: six normal features, a classifier of f0 + f1, a
candidate that also weighs f3, a stream in which f2 and f4 drift, and waiting for an endpoint's
host to commit what it collected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import requests
from sklearn.linear_model import LogisticRegression

from helpers.servers import wait_until

FEATURES = [f"f{i}" for i in range(6)]
RNG = np.random.default_rng(22)


def draw(n: int, shift: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame({name: RNG.normal(size=n) for name in FEATURES})
    if shift:
        frame["f2"] = frame["f2"] + 1.0
        frame["f4"] = frame["f4"] * 2.5
    return frame


def truth(frame: pd.DataFrame) -> np.ndarray:
    return (frame.f0 + frame.f1 > 0).astype(int).to_numpy()


TRAIN = draw(3000)
CLF = LogisticRegression().fit(TRAIN, truth(TRAIN))
# the candidate: a model that also weighs f3, so some answers change
CANDIDATE = LogisticRegression().fit(TRAIN, (TRAIN.f0 + TRAIN.f1 + 1.5 * TRAIN.f3 > 0).astype(int))


def score(endpoint, rows: pd.DataFrame, deployment: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {endpoint.key}"}
    answer = requests.post(endpoint["url"] + "/score", json={"data": rows.to_numpy().tolist()}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


def settled(hub, name: str, sampled: int) -> dict:
    def done():
        now = hub.endpoint(name)["collect"]
        return now if now["sampled"] >= sampled and now["committed"] == now["sampled"] else None

    return wait_until(done, 60, f"{name}'s host to commit {sampled} records")
