"""A version whose stored files no longer match their manifest is refused, by file, when it is
deployed or packaged: the changed model is never served or shipped."""

from __future__ import annotations

import os
import stat

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from jupyter_modelhub.errors import ModelHubError

X, y = make_classification(100, 4, random_state=0)


def tamper(server, ref: str) -> None:
    version = server.client().version(ref)
    (path,) = [p for p in (server.root / "artifacts" / version["name"]).rglob("model.joblib")]
    os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
    with open(path, "ab") as f:
        f.write(b"changed after registration")


def test_a_changed_file_is_not_deployed(hub_server):
    hub = hub_server.client()
    hub.register("tampered", LogisticRegression().fit(X, y), sample=X[:2])
    tamper(hub_server, "tampered:1")
    with pytest.raises(ModelHubError) as refused:
        hub.deploy("tampered-ep", "tampered:1", auth="none")
    assert "model.joblib" in refused.value.message, refused.value.message
    assert "tampered-ep" not in [e["name"] for e in hub.endpoints()], "nothing was deployed"


def test_a_changed_file_is_not_packaged(hub_server):
    hub = hub_server.client()
    hub.register("tampered2", LogisticRegression().fit(X, y), sample=X[:2])
    tamper(hub_server, "tampered2:1")
    response = hub_server.session.post(
        hub_server.url + "modelhub/api/images", json={"model": "tampered2:1"}, timeout=60
    )
    assert response.status_code == 500 and response.json()["reason"] == "damaged", response.text
    assert "model.joblib" in response.json()["message"]
    assert hub.operations(kind="image_build", subject="tampered2:1")["total"] == 0, "no build was started"
