"""Packaging models as Docker images on a real engine, through a real Jupyter server.

An ONNX and a scikit-learn model are packaged (an operation with progress and a build log) and
run as containers answering the three protocols like a process deployment; a model-only change
reuses every dependency layer (from the build report); builds run with the network off; bad
requests are 400s with nothing built; --context works without an engine.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from helpers.docker import BASE_IMAGE, run_container
from helpers.kernels import Kernel
from helpers.servers import ServerProcess, wait_until

X, y = make_classification(300, 20, random_state=0)
CLF = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
# new weights every run: the engine's build cache outlives test runs, and a model-only change must be new
CLF2 = make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(
    X + np.random.default_rng().normal(0, 1e-3, X.shape), y
)


@pytest.fixture(scope="module")
def server(tmp_path_factory, docker_client):
    s = ServerProcess(
        tmp_path_factory.mktemp("pack"),
        args=[
            f"--Packager.base_image={BASE_IMAGE}",
            "--ModelConverter.timing_budget=0.1",
            "--ModelConverter.batch_rows=500",
        ],
    )
    hub = s.client()
    hub.register("churn", CLF, sample=X[:5])
    hub.convert("churn:1")  # churn:2, onnx
    yield s
    s.stop()


@pytest.fixture(scope="module")
def onnx_image(server):
    started = time.perf_counter()
    image = server.client().package("churn:2")
    return image, time.perf_counter() - started


def ready(url: str) -> bool:
    try:
        return requests.get(url + "/v2/health/ready", timeout=2).ok
    except requests.RequestException:
        return False


def answers(url: str, rows, name: str, version: int) -> dict:
    """What a client gets from each protocol for ``rows``."""
    score = requests.post(url + "/score", json={"data": rows}, timeout=10)
    mlflow = requests.post(url + "/invocations", json={"inputs": rows}, timeout=10)
    v2 = requests.post(
        url + f"/v2/models/{name}/versions/{version}/infer",
        timeout=10,
        json={
            "inputs": [
                {
                    "name": "input",
                    "shape": [len(rows), len(rows[0])],
                    "datatype": "FP64",
                    "data": [v for row in rows for v in row],
                }
            ]
        },
    )
    assert score.ok and mlflow.ok and v2.ok, (score.text, mlflow.text, v2.text)
    return {"score": score.json(), "mlflow": mlflow.json(), "v2": v2.json()["outputs"]}


def test_an_onnx_model_packaged_runs_as_a_container_like_a_process_deployment(server, onnx_image, docker_client):
    image, seconds = onnx_image
    assert image["tag"] == "modelhub/churn:2" and image["ref"] == "churn:2"
    assert image["size"] <= 300 * 1024**2, f"{image['size'] / 1024**2:.0f} MB"
    engine_image = docker_client.images.get(image["tag"])
    labels = engine_image.labels
    assert labels["org.modelhub.model"] == "churn:2" and labels["org.modelhub.environment"] == image["environment_hash"]
    assert labels["org.modelhub.runtime"].startswith("0.1.0+")
    config = engine_image.attrs["Config"]
    assert config["User"] == "10001:10001" and "8080/tcp" in config["ExposedPorts"] and config["Healthcheck"]
    assert any(e.startswith("AZUREML_MODEL_DIR=") for e in config["Env"])
    operation = server.client().operations(kind="image_build", subject="churn:2")["operations"][0]
    assert operation["status"] == "succeeded" and operation["link"]["tag"] == "modelhub/churn:2"
    log = server.client().operation_log(operation["id"], 400)
    assert "Step 1/" in log and "downloading" in log, "the build log is the operation's log"

    rows = X[:3].astype(np.float32).tolist()
    container, url = run_container(docker_client, image["tag"])
    deployed = server.client().deploy("pack-ep", "churn:2", auth="none")
    try:
        wait_until(lambda: ready(url), 30, "the container to be ready")
        from_container = answers(url, rows, "churn", 2)
        from_process = answers(deployed["url"], rows, "churn", 2)
        assert from_container == from_process
        assert from_container["score"]["predictions"] == CLF.predict(X[:3]).tolist()
        assert container.exec_run("id -u").output.decode().strip() == "10001", "runs as a non-root user"
    finally:
        container.remove(force=True)
        server.client().undeploy("pack-ep")


def test_a_model_only_change_rebuilds_one_thin_layer(server, onnx_image):
    hub = server.client()
    hub.register("churn", CLF2, sample=X[:5])
    converted = hub.convert("churn:3")["version"]["ref"]  # churn:4, same environment
    started = time.perf_counter()
    image = hub.package(converted)
    seconds = time.perf_counter() - started
    steps = {
        s["instruction"].split(" ", 2)[1] if s["instruction"].startswith("COPY") else s["instruction"][:20]: s
        for s in image["report"]["steps"]
    }
    rebuilt = [s for s in image["report"]["steps"] if not s["reused"] and "why" in s]
    assert image["environment"] == onnx_image[0]["environment"], "the model never enters the environment"
    assert all(
        s["reused"]
        for s in image["report"]["steps"]
        if "wheelhouse" in s["instruction"]
        or "pip install" in s["instruction"]
        or "--from=dependencies" in s["instruction"]
        or "runtime/" in s["instruction"]
    ), image["report"]["steps"]
    assert [s["why"] for s in rebuilt] and all(s["why"] == "model files changed" for s in rebuilt), rebuilt
    assert image["report"]["wheelhouse_reused"] is True
    environment = image["report"]["steps"][0]
    assert environment["stage"] == "environment" and environment["reused"] and environment["size"] > 50 * 1024**2
    assert "model/" in steps or any("model/" in s["instruction"] for s in rebuilt)
    assert seconds < 30, f"model-only rebuild took {seconds:.1f} s"


def test_a_scikit_learn_model_packaged_answers_like_the_notebook(server, docker_client):
    image = server.client().package("churn:1")
    assert "scikit-learn" in " ".join(server.client().environment(image["environment"])["lock"])
    container, url = run_container(docker_client, image["tag"])
    try:
        wait_until(lambda: ready(url), 60, "the container to be ready")
        answer = requests.post(url + "/score", json={"data": X[:4].tolist()}, timeout=10).json()
        assert answer["predictions"] == CLF.predict(X[:4]).tolist()
    finally:
        container.remove(force=True)


def test_bad_package_requests_are_400s_and_build_nothing(server, tmp_path):
    images_before = len(server.client().images())
    operations_before = server.client().operations(kind="image_build")["total"]
    outside = tmp_path / "score.py"
    outside.write_text("def init(): pass\ndef run(raw): return raw\n")
    cases = [
        ({"model": "churn:2", "requirements": "definitely-not-a-package-modelhub==1.0\n"}, 400, "cannot be installed"),
        ({"model": "churn:2", "requirements": "numpy; rm -rf /\n"}, 400, "Unsupported requirement"),
        ({"model": "churn:2", "requirements": "numpy\n$(reboot)\n"}, 400, "Unsupported requirement"),
        ({"model": "churn:2", "entry_script": str(outside)}, 400, "outside the server's folders"),
        ({"model": "churn:2", "tag": "Bad Tag!"}, 400, "Invalid image tag"),
        ({"model": "churn:2", "base_image": "UPPER/case"}, 400, "Invalid base image"),
        ({"model": "churn:9"}, 404, "no version 9"),
        ({"model": "churn:2", "environment": "nope"}, 404, "No environment 'nope'"),
    ]
    for body, code, words in cases:
        response = server.session.post(server.url + "modelhub/api/images", json=body, timeout=120)
        assert response.status_code == code and words in response.json()["message"], (body, response.text)
    assert len(server.client().images()) == images_before
    assert server.client().operations(kind="image_build")["total"] == operations_before, "no build was started"


def test_a_package_without_a_wheel_for_the_image_is_named(server, tmp_path):
    from jupyter_modelhub.errors import ModelHubError

    (tmp_path / "requirements.txt").write_text("docopt==0.6.2\n")  # published as a source archive only
    with pytest.raises(ModelHubError) as failure:
        server.client().package("churn:2", requirements=tmp_path / "requirements.txt", tag="modelhub/nowheel:1")
    assert "docopt" in failure.value.message and "no wheel" in failure.value.message, failure.value.message
    assert not [i for i in server.client().images() if i["tag"] == "modelhub/nowheel:1"]


def test_a_version_with_an_image_cannot_be_deleted(server, onnx_image):
    response = server.session.delete(server.url + "modelhub/api/models/churn/versions/2", timeout=30)
    assert response.status_code == 409 and "image" in response.json()["message"], response.text


def test_environments_are_versioned_by_content(server, tmp_path):
    hub = server.client()
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    first = hub.create_environment("extras", requirements=tmp_path / "requirements.txt", base_image=BASE_IMAGE)
    again = hub.create_environment("extras", requirements=tmp_path / "requirements.txt", base_image=BASE_IMAGE)
    assert first["ref"] == again["ref"] == "extras:1" and "six==1.16.0" in first["lock"]
    (tmp_path / "requirements.txt").write_text("six==1.17.0\n")
    assert (
        hub.create_environment("extras", requirements=tmp_path / "requirements.txt", base_image=BASE_IMAGE)["ref"]
        == "extras:2"
    )
    assert [e["ref"] for e in hub.environments("extras")] == ["extras:2", "extras:1"]
    assert hub.environment("extras:1")["hash"] == first["hash"]


def test_a_build_context_is_written_for_an_engine_elsewhere(tmp_path):
    server = ServerProcess(
        tmp_path, extra_env={"DOCKER_HOST": "tcp://127.0.0.1:9"}, args=[f"--Packager.base_image={BASE_IMAGE}"]
    )
    try:
        hub = server.client()
        hub.register("ctx", CLF, sample=X[:2])
        response = server.session.post(server.url + "modelhub/api/images", json={"model": "ctx:1"}, timeout=60)
        assert response.status_code == 503
        assert "DOCKER_HOST" in response.json()["message"] and "--context" in response.json()["message"]
        context = tmp_path / "notebooks" / "ctx-image"
        written = hub.package("ctx:1", context=context)
        assert written["command"] == f"docker build --network none -t modelhub/ctx:1 {context}"
        dockerfile = (context / "Dockerfile").read_text()
        assert dockerfile.index("requirements.lock") < dockerfile.index("runtime/") < dockerfile.index("model/")
        assert (context / "wheelhouse" / "requirements.lock").exists() and list((context / "wheelhouse").glob("*.whl"))
        assert (context / "model" / "model.joblib").exists() and (
            context / "runtime" / "jupyter_modelhub" / "serving"
        ).is_dir()
        response = server.session.post(
            server.url + "modelhub/api/images",
            json={"model": "ctx:1", "context": str(tmp_path / "elsewhere")},
            timeout=60,
        )
        assert response.status_code == 400 and "outside the server's folders" in response.json()["message"]
    finally:
        server.stop()


@pytest.mark.kernel
def test_package_magic_shows_the_build_and_its_report(server):
    kernel = Kernel(server, "package.ipynb")
    try:
        out = kernel.run("%load_ext jupyter_modelhub\nimage = %package churn:2 --tag modelhub/churn-magic:2\nimage")
        assert not out["error"], out
        assert out["widgets"] == 1 and "package churn:2 [########################] succeeded" in out["updates"]
        assert "image modelhub/churn-magic:2" in out["text"] and "steps reused" in out["text"]
        assert "<table>" in out["html"] and "reused" in out["html"]
        assert "modelhub/churn-magic:2" in kernel.run("%images --model churn")["text"]
        assert "steps reused" in kernel.run("%image modelhub/churn-magic:2")["text"]
        assert "modelhub-onnx:1" in kernel.run("%envs")["text"]
        out = kernel.run("%package churn:2 --tag 'Not A Tag'")
        assert out["error"].startswith("UsageError") and "Invalid image tag" in out["error"], out
    finally:
        kernel.stop()


def test_parity_of_an_image_and_an_endpoint_that_agree(server, onnx_image):
    hub = server.client()
    report = hub.parity("modelhub/churn:2")
    assert report["same"] is True and report["kind"] == "image" and report["ref"] == "churn:2", report.text()
    versions = {row["name"]: row for row in report["versions"]}
    assert versions["python"]["remote"].startswith("3.11") and versions["onnxruntime"]["same"]
    assert "same answers" in report.text() and "<table>" in report._repr_html_()
    hub.deploy("parity-ep", "churn:2", auth="none")
    try:
        assert hub.parity("parity-ep")["same"] is True
    finally:
        hub.undeploy("parity-ep")


def test_parity_reports_a_container_that_pins_another_scikit_learn(server, tmp_path):
    import sklearn

    other = "1.9.0" if sklearn.__version__ != "1.9.0" else "1.9.1"
    (tmp_path / "requirements.txt").write_text(f"scikit-learn=={other}\n")
    image = server.client().package("churn:1", requirements=tmp_path / "requirements.txt", tag="modelhub/churn:other")
    report = server.client().parity(image["tag"])
    row = next(r for r in report["versions"] if r["name"] == "scikit-learn")
    assert row == {"name": "scikit-learn", "kernel": sklearn.__version__, "remote": other, "same": False}
    assert "<- differs" in report.text(), "the difference is shown, not hidden"


def test_a_process_venv_installs_from_the_environments_wheelhouse_with_no_index(tmp_path):
    """With a wheelhouse for the environment's hash, the venv of a process deployment needs no
    index (the one the lock names here is closed); without one, it asks that index."""
    import subprocess
    import sys

    from jupyter_modelhub.errors import InvalidInput
    from jupyter_modelhub.packaging.environments import SERVER_PYTHON
    from jupyter_modelhub.packaging.venvs import EnvironmentBuilder

    builder = EnvironmentBuilder(tmp_path, None)
    env = {
        "ref": "six-env:1",
        "hash": "a1" * 32,
        "python": SERVER_PYTHON,
        "lock": ["--index-url http://127.0.0.1:9/simple/", "six==1.16.0"],
    }
    with pytest.raises(InvalidInput) as failure:
        builder.python_for(env)
    assert "127.0.0.1:9" in failure.value.message or "onnect" in failure.value.message, failure.value.message
    assert not builder.is_built(env) and not list(builder.folder.glob("*.partial-*")), "nothing half-made is left"

    wheels = tmp_path / "wheelhouses" / env["hash"]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "six==1.16.0",
            "--dest",
            str(wheels),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheels / ".complete").write_text("")
    python = builder.python_for(env)
    assert python == str(builder.folder / env["hash"][:16] / "bin" / "python"), "keyed by the environment's hash"
    probe = subprocess.run(
        [python, "-c", "import six, jupyter_modelhub.serving as s, sys; print(six.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "1.16.0", probe.stderr
