"""Image builds on a real engine leave nothing behind and never collide (issue 18, points 7, 10, 17).

- Every image a build makes (the build log names each step's image) ends as a layer of a tagged
  image or is removed: a finished build and a cancelled one (whose leftovers the next build of the
  same server removes). Nothing without the product's build label is touched.
- ``%image --delete`` removes the engine image with the record, unless another record uses it,
  and says which it did.
- Two identical ``POST images`` at once are one build (the second joins the first's operation);
  image record ids are never reused after a delete.
- A base image the engine does not have and cannot pull fails the build with a message that says
  so and how to choose a local one.
"""

from __future__ import annotations

import re
import threading

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.docker import BASE_IMAGE
from helpers.notebooks import QUICKSTART, errors_in, execute, text_of
from helpers.servers import ServerProcess, wait_until
from jupyter_modelhub.errors import ModelHubError
from jupyter_modelhub.words import size_text

X, y = make_classification(200, 6, random_state=1)
BUILD_LABEL = "org.modelhub.build"
# an environment of its own (the onnx flavor's packages + six), so that these builds never touch
# the environment images other test modules build and use at the same time
REQUIREMENTS = "six\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory, docker_client):
    s = ServerProcess(
        tmp_path_factory.mktemp("imagebuilds"),
        args=[f"--Packager.base_image={BASE_IMAGE}", "--ModelConverter.timing_budget=0.1"],
    )
    hub = s.client()
    hub.register("leftover", LogisticRegression().fit(X, y), sample=X[:5])
    hub.convert("leftover:1")  # leftover:2, onnx
    (s.folder / "notebooks").mkdir(exist_ok=True)
    (s.folder / "notebooks" / "requirements.txt").write_text(REQUIREMENTS)
    yield s
    for image in s.client().images():  # their engine images go with the records
        s.client().delete_image(image["id"])
    s.stop()


def requirements(server) -> str:
    return str(server.folder / "notebooks" / "requirements.txt")


def images_named_in(log: str) -> set[str]:
    """The short ids of the images a legacy-builder log says each step made (' ---> 1a2b3c4d5e6f')."""
    return set(re.findall(r"^ ---> ([0-9a-f]{12})$", log, re.M))


def dangling(client) -> dict[str, dict]:
    """Untagged images nothing builds on, by short id, with their labels."""
    return {i["Id"].split(":")[1][:12]: i.get("Labels") or {} for i in client.api.images(filters={"dangling": True})}


def build_log(server, operation_id: int) -> str:
    return server.client().operation_log(operation_id, 100000)


def last_build(server, subject: str) -> dict:
    return server.client().operations(kind="image_build", subject=subject)["operations"][0]


def test_a_build_leaves_no_untagged_image_of_its_own(server, docker_client):
    image = server.client().package(
        "leftover:2", requirements=requirements(server), no_cache=True, tag="modelhub-test/leftover:clean"
    )
    log = build_log(server, last_build(server, "leftover:2")["id"])
    made = images_named_in(log)
    assert len(made) > 5 and "Step 1/" in log, log[-3000:]
    left = dangling(docker_client)
    assert not made & left.keys(), f"untagged images this build left: {made & left.keys()}"
    environment = docker_client.images.get(image["report"]["environment_image"])
    key = environment.labels[BUILD_LABEL]
    assert key, "every stage carries the build label"
    assert not [i for i, labels in left.items() if labels.get(BUILD_LABEL) == key]
    assert docker_client.images.get(image["tag"]).labels[BUILD_LABEL], "the model stage is labelled too"


def test_a_cancelled_build_leaves_nothing_once_the_next_build_ran(server, docker_client):
    hub = server.client()
    operation = hub.package(
        "leftover:2",
        requirements=requirements(server),
        no_cache=True,
        wait=False,
        tag="modelhub-test/leftover:cancelled",
    )
    # cancel while the dependencies install: the stage's first images exist, its last does not
    running = wait_until(
        lambda: re.search(
            r"Step \d+/\d+ : RUN .*\n(?:.*\n)*? ---> Running in ([0-9a-f]{12})", build_log(server, operation["id"])
        ),
        120,
        "the install step to run",
    )
    hub.cancel_operation(operation["id"])
    assert hub.operation(operation["id"])["status"] == "cancelled"
    container = running.group(1)

    def gone() -> bool:  # the engine stops the build when its client goes; the step's container goes with it
        return not docker_client.api.containers(all=True, filters={"id": container})

    wait_until(gone, 60, "the engine to stop the cancelled build")
    made = images_named_in(build_log(server, operation["id"]))
    assert made, "the cancelled build made images before the cancel"

    image = hub.package("leftover:2", requirements=requirements(server), tag="modelhub-test/leftover:after")
    left = dangling(docker_client)
    assert not made & left.keys(), f"untagged images the cancelled build left: {made & left.keys()}"
    key = docker_client.images.get(image["report"]["environment_image"]).labels[BUILD_LABEL]
    assert not [i for i, labels in left.items() if labels.get(BUILD_LABEL) == key]


def test_deleting_an_image_removes_it_from_the_engine(server, docker_client):
    import docker

    hub = server.client()
    script = server.folder / "notebooks" / "score.py"  # content no other record of this module has
    script.write_text("def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data  # deleted\n")
    image = hub.package(
        "leftover:2", requirements=requirements(server), entry_script=script, tag="modelhub-test/leftover:deleted"
    )
    deleted = hub.delete_image(image["id"])
    assert f"({size_text(image['size'])}) removed from the Docker engine" in deleted.text(), deleted.text()
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image["tag"])


def test_deleting_one_of_two_records_of_one_image_keeps_it_and_says_so(server, docker_client):
    hub = server.client()
    script = server.folder / "notebooks" / "shared.py"  # content no other record of this module has
    script.write_text("def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data  # shared\n")
    first, second = (
        hub.package(
            "leftover:2", requirements=requirements(server), entry_script=script, tag="modelhub-test/leftover:shared"
        )
        for _ in range(2)
    )
    assert first["image_id"] == second["image_id"] and first["id"] != second["id"]
    deleted = hub.delete_image(second["id"])
    text = deleted.text()
    assert "kept" in text and f"image {first['id']}" in text and size_text(second["size"]) in text, text
    assert docker_client.images.get(first["tag"]).id == first["image_id"]
    assert "removed from the Docker engine" in hub.delete_image(first["id"]).text()


def test_two_identical_builds_at_once_are_one_build(server):
    body = {"model": "leftover:2", "requirements": REQUIREMENTS, "no_cache": True, "tag": "modelhub-test/leftover:once"}
    before = [i["id"] for i in server.client().images() if i["tag"] == body["tag"]]
    answers: list[requests.Response] = []

    def post() -> None:
        answers.append(server.session.post(server.url + "modelhub/api/images", json=body, timeout=120))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"], "the second request joins the first's build"
    server.client().wait_for(answers[0].json()["id"])
    records = [i for i in server.client().images() if i["tag"] == body["tag"] and i["id"] not in before]
    assert len(records) == 1, records


def test_image_ids_are_never_reused(server):
    hub = server.client()
    newest = hub.package("leftover:2", requirements=requirements(server), tag="modelhub-test/leftover:ids")
    hub.delete_image(newest["id"])
    again = hub.package("leftover:2", requirements=requirements(server), tag="modelhub-test/leftover:ids")
    assert again["id"] > newest["id"], (newest["id"], again["id"])
    hub.delete_image(again["id"])


def test_a_base_image_the_engine_cannot_pull_is_named_with_what_to_do(server, docker_client):
    absent = "modelhub-test-absent:1"
    with pytest.raises(ModelHubError) as failure:
        server.client().package("leftover:2", base_image=absent, tag="modelhub-test/leftover:absent")
    message = failure.value.message
    assert absent in message and "cannot be pulled" in message, message
    assert "--base-image" in message and "c.Packager.base_image" in message, message
    assert "registry-1.docker.io" not in message.split("(")[0], "the cause comes after what to do"


@pytest.mark.timeout(400)
def test_the_quickstart_writes_the_build_context_when_the_base_image_cannot_be_pulled(tmp_path_factory, docker_client):
    absent = "modelhub-test-absent:1"  # as make demo on an engine that cannot pull python:3.11-slim
    server = ServerProcess(tmp_path_factory.mktemp("offline-demo"), args=[f"--Packager.base_image={absent}"])
    try:
        executed, folder, _ = execute(QUICKSTART, server)
    finally:
        server.stop()
    assert errors_in(executed) == []
    text = text_of(executed)
    assert f"The base image {absent} is not in the Docker engine and cannot be pulled" in text, text[-3000:]
    assert "writes the image's build context" in text and "docker build" in text, text[-3000:]
    assert (folder / "churn-image" / "Dockerfile").is_file(), "the build context is written"
