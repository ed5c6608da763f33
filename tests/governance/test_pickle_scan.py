"""Safe model files (issue 21): registration records what a pickle-based file would import,
found without loading it; a malicious pickle (``os.system`` through ``__reduce__``) is listed
under ``warn`` and refused under ``refuse``, and never runs; skops files register and serve as
scikit-learn models. Real servers, real files written by pickle, joblib (every compressor),
cloudpickle and skops.
"""

from __future__ import annotations

import os
import pickle

import cloudpickle
import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers.servers import ServerProcess
from jupyter_modelhub.errors import InvalidInput
from jupyter_modelhub.registry.pickle_scan import Scanner

X, y = make_classification(120, 4, random_state=3)
MODEL = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


class Boom:
    """What an attacker pickles: loading it runs a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    warn = ServerProcess(tmp_path_factory.mktemp("warn"))
    refuse = ServerProcess(tmp_path_factory.mktemp("refuse"), args=["--ModelHubApp.pickle_policy=refuse"])
    yield warn, refuse
    warn.stop()
    refuse.stop()


def files(tmp_path, marker) -> dict:
    """Model files as people save them, and two that run a command when loaded."""
    written = {}
    for protocol in range(6):
        written[f"p{protocol}.pkl"] = pickle.dumps(MODEL, protocol=protocol)
    written["cloud.pkl"] = cloudpickle.dumps(MODEL)
    for compress in (0, "zlib", "gzip", "bz2", "xz", "lzma"):
        path = tmp_path / f"m-{compress}.joblib"
        joblib.dump(
            RandomForestClassifier(3, random_state=0).fit(X, y), path, compress=(compress, 3) if compress else 0
        )
        written[path.name] = path.read_bytes()
    written["evil.pkl"] = pickle.dumps({"model": MODEL, "x": Boom(marker)})
    # an object array's nested pickle, where joblib hides what a plain scan of the outer stream misses
    path = tmp_path / "evil-array.joblib"
    joblib.dump({"model": MODEL, "names": np.array(["a", Boom(marker)], dtype=object)}, path)
    written[path.name] = path.read_bytes()
    return written


def test_the_scan_finds_every_import_of_every_format_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    for name, data in files(tmp_path, marker).items():
        (tmp_path / name).write_bytes(data)
        scan = Scanner().scan(tmp_path, [name])
        found = scan["files"][0]
        assert found["complete"], (name, found["error"])
        assert any(i.startswith("sklearn.") for i in found["imports"]), (name, found["imports"])
        if name.startswith("evil"):
            assert found["untrusted"] == ["posix.system"] and not scan["safe"], name
        else:
            assert found["untrusted"] == [] and scan["safe"], (name, found["untrusted"])
    assert not marker.exists(), "a scanned pickle ran its command"


def test_the_scan_is_bounded_and_says_when_it_stopped(tmp_path):
    (tmp_path / "big.pkl").write_bytes(pickle.dumps([np.zeros(200_000), MODEL], protocol=4))
    scan = Scanner(max_bytes=100_000).scan(tmp_path, ["big.pkl"])
    assert not scan["complete"] and "stopped after 100000 bytes" in scan["files"][0]["error"]
    with pytest.raises(InvalidInput, match="could not be scanned to its end"):
        Scanner(policy="refuse", max_bytes=100_000).check(scan)
    (tmp_path / "cut.pkl").write_bytes(pickle.dumps(MODEL)[:200])
    cut = Scanner().scan(tmp_path, ["cut.pkl"])
    assert not cut["complete"] and cut["files"][0]["error"]
    assert Scanner().scan(tmp_path, ["README.md"]) is None  # no pickle-based file: no scan


def test_registration_lists_untrusted_imports_under_warn_and_refuses_them_under_refuse(servers, tmp_path):
    warn, refuse = servers
    marker = tmp_path / "ran"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"model": MODEL, "x": Boom(marker)}))
    joblib.dump(MODEL, tmp_path / "model.joblib")

    warned = warn.client().register("evil", str(tmp_path / "evil.pkl"))
    assert warned["properties"]["pickle_scan"]["untrusted"] == ["posix.system"]
    assert warned["properties"]["pickle_scan"]["policy"] == "warn"
    assert warn.client().version("evil:1")["properties"]["pickle_scan"]["safe"] is False
    clean = warn.client().register("clean", str(tmp_path / "model.joblib"))
    assert clean["properties"]["pickle_scan"]["safe"] is True and clean["flavor"] == "sklearn"

    hub = refuse.client()
    with pytest.raises(InvalidInput) as refused:
        hub.register("evil", str(tmp_path / "evil.pkl"))
    assert "posix.system" in refused.value.message and "Nothing was registered" in refused.value.message
    assert [m["name"] for m in hub.models()["models"]] == []
    assert hub.register("clean", str(tmp_path / "model.joblib"))["version"] == 1
    assert not marker.exists(), "registration ran the pickle"


def test_skops_registers_and_serves_as_scikit_learn(servers):
    warn, _ = servers
    hub = warn.client()
    forest = RandomForestClassifier(5, random_state=0).fit(X, y)
    version = hub.register("forest", forest, sample=X[:3], format="skops")
    assert [f["path"] for f in version["files"]] == ["model.skops"] and version["flavor"] == "sklearn"
    scan = version["properties"]["pickle_scan"]
    assert scan["files"][0]["format"] == "skops" and scan["safe"]  # skops' own untrusted Tree is sklearn's
    assert version["properties"]["serialization"]["format"] == "skops"
    try:
        hub.deploy("forest-ep", "forest:1")
        answer = hub.invoke("forest-ep", X[:4])
        assert list(np.ravel(answer["predictions"] if isinstance(answer, dict) else answer)) == list(
            forest.predict(X[:4])
        )
    finally:
        hub.undeploy("forest-ep")
