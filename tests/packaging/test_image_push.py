"""Images pushed to a real registry (issue 20, "Images pushed to a registry").

A real Jupyter server, the real Docker engine, and Debian's docker-registry on 127.0.0.1 (the
``oci_registry`` fixture). An image is pushed through REST, ``%image --push``, ``%package --push``
and the CLI; the registry then serves it by digest (its manifest and every blob, as an OCI client
reads them, and a ``docker pull`` by digest of the image after it left the engine gives back the
same image). Bad references are refused before any operation starts; an unreachable registry,
or one that refuses the push, fails the operation with one line naming it, and records nothing. Kubernetes manifests pin the
pushed digest, and say plainly when the image was never pushed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import docker
import pytest
import requests
import yaml
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.docker import BASE_IMAGE
from helpers.servers import ServerProcess
from helpers.shell import Shell
from jupyter_modelhub.errors import ModelHubError

pytestmark = [pytest.mark.docker, pytest.mark.registry]

X, y = make_classification(120, 5, random_state=3)
JUPYTER = Path(sys.executable).with_name("jupyter")


@pytest.fixture(scope="module")
def server(tmp_path_factory, docker_client, oci_registry):
    s = ServerProcess(tmp_path_factory.mktemp("push"), args=[f"--Packager.base_image={BASE_IMAGE}"])
    s.client().register("pushme", LogisticRegression().fit(X, y), sample=X[:3])
    yield s
    for image in s.client().images():
        s.client().delete_image(image["id"])
    s.stop()


@pytest.fixture(scope="module")
def image(server):
    """The image every test pushes (built once)."""
    return server.client().package("pushme:1")


@pytest.fixture(scope="module")
def shell(server):
    s = Shell(server)
    assert not s.run("%load_ext jupyter_modelhub")["error"]
    yield s
    s.close()


def operations_count(server) -> int:
    return server.client().operations()["total"]


def test_push_records_the_digest_the_registry_serves(server, image, oci_registry, docker_client):
    hub = server.client()
    pushed = hub.push_image(image["id"], f"{oci_registry.host}/team/pushme")
    (push,) = pushed["pushes"]
    repository = f"{oci_registry.host}/team/pushme"
    assert push["reference"] == f"{repository}:1", "the default tag is the image's own"
    assert push["digest"].startswith("sha256:") and push["pinned"] == f"{repository}@{push['digest']}"
    assert push["pushed_by"] and push["pushed_time"]
    assert oci_registry.tags("team/pushme") == ["1"]

    # the registry serves the manifest by digest, and it is that digest's content, with every blob
    manifest = oci_registry.manifest("team/pushme", push["digest"])
    assert manifest.status_code == 200 and manifest.headers["Docker-Content-Digest"] == push["digest"]
    assert "sha256:" + hashlib.sha256(manifest.content).hexdigest() == push["digest"]
    body = manifest.json()
    assert body["config"]["digest"] == image["image_id"], "the manifest's config is the built image"
    for blob in [body["config"], *body["layers"]]:
        answer = requests.head(f"{oci_registry.url}/v2/team/pushme/blobs/{blob['digest']}", timeout=10)
        assert answer.status_code == 200, blob

    # the engine keeps only the product's tags; the record shows the push; GET answers it too
    assert f"{repository}:1" not in docker_client.images.get(image["image_id"]).tags
    assert hub.image(image["id"])["pushes"] == pushed["pushes"]
    assert "pushed " + f"{repository}:1" in pushed.text() and push["pinned"] in pushed.text()
    assert push["pinned"] in pushed._repr_html_()

    # the same reference again: one row, the same digest
    again = hub.push_image(image["tag"], f"{repository}:1")
    assert [p["digest"] for p in again["pushes"]] == [push["digest"]]
    log = hub.operation_log(hub.operations(kind=None)["operations"][0]["id"], 1000)
    assert f"pushed {repository}:1: {push['pinned']}" in log


@pytest.mark.parametrize(
    "reference, words",
    [
        ("pushme", "name the registry first"),
        ("team/pushme:1", "name the registry first"),
        ("127.0.0.1:5000/Team/pushme", "repository part 'Team'"),
        ("127.0.0.1:5000/pushme:-1", "tag '-1'"),
        ("127.0.0.1:5000/pushme@sha256:" + "a" * 64, "not a digest"),
        ("127.0.0.1:5000/pushme; rm -rf /", "repository part"),
        ("", "Give where to push"),
        ("x" * 500, "at most"),
    ],
)
def test_a_bad_reference_is_a_400_before_any_work(server, image, reference, words):
    before = operations_count(server)
    response = server.session.post(
        f"{server.url}modelhub/api/images/{image['id']}/push", json={"reference": reference}, timeout=30
    )
    assert response.status_code == 400 and words in response.json()["message"], response.text
    assert "\n" not in response.json()["message"] and "Traceback" not in response.text
    assert operations_count(server) == before, "nothing started"


def test_a_push_of_no_such_image_is_a_404(server, oci_registry):
    response = server.session.post(
        f"{server.url}modelhub/api/images/9999/push", json={"reference": f"{oci_registry.host}/x"}, timeout=30
    )
    assert response.status_code == 404 and "No image '9999'" in response.json()["message"]
    wrong = server.session.post(f"{server.url}modelhub/api/images/1/push", json={"ref": "x"}, timeout=30)
    assert wrong.status_code == 400


def test_an_unreachable_registry_fails_the_operation_in_one_line_and_records_nothing(server, image, shell):
    out = shell.run(f"%image {image['id']} --push 127.0.0.1:1/team/pushme")
    error = out["error"].strip().splitlines()
    assert len(error) == 1 and "UsageError: The registry 127.0.0.1:1 cannot be reached" in error[0], out
    assert "Traceback" not in out["error"]
    assert all(not p["reference"].startswith("127.0.0.1:1/") for p in server.client().image(image["id"])["pushes"])
    failed = server.client().operations(kind="image_push", status="failed")["operations"][0]
    assert failed["subject"] == "127.0.0.1:1/team/pushme:1" and "cannot be reached" in failed["error"]["message"]


def test_a_refused_push_fails_the_operation_in_one_line_and_records_nothing(server, image, tmp_path):
    from helpers.oci_registry import OciRegistry

    readonly = OciRegistry(tmp_path / "readonly", readonly=True).start()
    try:
        with pytest.raises(ModelHubError) as error:
            server.client().push_image(image["id"], f"{readonly.host}/team/pushme")
    finally:
        readonly.stop()
    message = error.value.message
    assert message.startswith(f"The push of {readonly.host}/team/pushme:1 failed: ") and "\n" not in message
    assert all(readonly.host not in p["reference"] for p in server.client().image(image["id"])["pushes"])


def test_image_push_magic_shows_progress_and_the_pushed_reference(server, image, oci_registry, shell):
    out = shell.run(f"info = %image {image['id']} --push {oci_registry.host}/magic/pushme:v1\ninfo")
    assert not out["error"], out
    assert f"push {image['id']} [" in out["text"] and "layers" in out["text"], "a progress bar while it pushes"
    assert f"pushed {oci_registry.host}/magic/pushme:v1" in out["text"]
    assert f"{oci_registry.host}/magic/pushme@sha256:" in out["html"]
    assert oci_registry.tags("magic/pushme") == ["v1"]


def test_package_push_builds_then_pushes(server, image, oci_registry, shell):
    out = shell.run(f"built = %package pushme:1 --tag modelhub/pushme:again --push {oci_registry.host}/pkg/pushme")
    assert not out["error"], out
    built = shell.ipython.user_ns["built"]
    assert built["tag"] == "modelhub/pushme:again" and built["image_id"] == image["image_id"]
    (push,) = built["pushes"]
    assert push["reference"] == f"{oci_registry.host}/pkg/pushme:again", "default tag: the built image's"
    assert oci_registry.manifest("pkg/pushme", push["digest"]).status_code == 200


def test_package_push_with_a_bad_reference_builds_nothing(server, shell):
    before = operations_count(server)
    out = shell.run("%package pushme:1 --push pushme:latest")
    assert "name the registry first" in out["error"] and len(out["error"].strip().splitlines()) == 1
    assert operations_count(server) == before


def test_a_tag_the_engine_gives_another_image_is_never_moved(server, image, oci_registry, docker_client):
    other = docker_client.images.get(BASE_IMAGE)
    taken = f"{oci_registry.host}/taken/pushme"
    other.tag(taken, "1")
    try:
        response = server.session.post(
            f"{server.url}modelhub/api/images/{image['id']}/push", json={"reference": taken}, timeout=30
        )
        assert response.status_code == 409, response.text
        assert f"{taken}:1 already names another image in the Docker engine" in response.json()["message"]
        assert docker_client.images.get(f"{taken}:1").id == other.id
    finally:
        docker_client.images.remove(f"{taken}:1")


def test_cli_image_push(server, image, oci_registry):
    env = {**server.env, "MODELHUB_URL": server.url, "MODELHUB_TOKEN": server.token}
    run = subprocess.run(
        [str(JUPYTER), "modelhub", "image", str(image["id"]), "--push", f"{oci_registry.host}/cli/pushme"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert f"pushed {oci_registry.host}/cli/pushme:1" in run.stdout and "Traceback" not in run.stderr
    bad = subprocess.run(
        [str(JUPYTER), "modelhub", "image", str(image["id"]), "--push", "nope"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode != 0 and bad.stderr.strip().startswith("error: Invalid push reference 'nope'")
    package = subprocess.run(
        [str(JUPYTER), "modelhub", "package", "pushme:1", "--tag", "modelhub/pushme:cli", "--push"]
        + [f"{oci_registry.host}/cli/pushme"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert package.returncode == 0, package.stderr
    assert f"pushed {oci_registry.host}/cli/pushme:cli" in package.stdout
    assert set(oci_registry.tags("cli/pushme")) == {"1", "cli"}


def test_kubernetes_manifests_pin_the_pushed_digest(server, image):
    hub = server.client()
    record = hub.image(image["id"])
    assert record["pushes"], "pushed by the tests above"
    result = hub.deploy("push-ep", "pushme:1", target="kubernetes")
    documents = list(yaml.safe_load_all(open(result["manifests"])))
    pinned = {p["pinned"] for p in hub.images()["images"][0]["pushes"]} | {p["pinned"] for p in record["pushes"]}
    container = documents[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] in pinned and "@sha256:" in container["image"]
    assert result["image"] == container["image"] and result["pushed"] is True
    assert "by its digest" in result.text() and "cannot pull a local image" not in result.text()


def test_the_image_comes_back_from_the_registry_by_digest(server, image, oci_registry, docker_client):
    """Last: the image leaves the engine, and a pull by digest gives back the very same image."""
    hub = server.client()
    pinned = next(p["pinned"] for p in hub.image(image["id"])["pushes"] if "/team/" in p["reference"])
    for record in hub.images()["images"]:
        if record["image_id"] == image["image_id"]:
            hub.delete_image(record["id"])
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image["image_id"])
    pulled = docker_client.images.pull(pinned)
    try:
        assert pulled.id == image["image_id"]
    finally:
        docker_client.images.remove(pinned)
    with pytest.raises(ModelHubError):
        hub.push_image(image["id"], f"{oci_registry.host}/team/pushme")
