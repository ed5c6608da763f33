"""Where an image is pushed: ``REGISTRY/REPO[:TAG]`` against the Docker reference grammar, checked
before any work starts (no engine, no server: the parser alone)."""

from __future__ import annotations

import time

import pytest

from jupyter_modelhub.errors import InvalidInput
from jupyter_modelhub.packaging.references import parse_push_reference, tag_of


@pytest.mark.parametrize(
    "text, repository, tag",
    [
        ("127.0.0.1:5000/churn", "127.0.0.1:5000/churn", "2"),
        ("127.0.0.1:5000/team/churn:prod", "127.0.0.1:5000/team/churn", "prod"),
        ("registry.example.com/a/b/c-d_e.f:v1.2-rc_3", "registry.example.com/a/b/c-d_e.f", "v1.2-rc_3"),
        ("localhost/churn__x", "localhost/churn__x", "2"),
        ("docker.io/someone/churn:2", "docker.io/someone/churn", "2"),
        ("[::1]:5000/churn:LATEST", "[::1]:5000/churn", "LATEST"),
        ("My-Registry.example.com/churn", "My-Registry.example.com/churn", "2"),
    ],
)
def test_valid_references(text, repository, tag):
    reference = parse_push_reference(text, "2")
    assert (reference.repository, reference.tag) == (repository, tag)
    assert reference.tagged == f"{repository}:{tag}"
    assert reference.pinned("sha256:" + "0" * 64) == f"{repository}@sha256:" + "0" * 64


@pytest.mark.parametrize(
    "text, words",
    [
        ("churn", "name the registry first"),
        ("team/churn:2", "name the registry first"),
        ("127.0.0.1:5000/", "repository part ''"),
        ("127.0.0.1:5000/churn/", "repository part ''"),
        ("127.0.0.1:5000/Churn", "repository part 'Churn'"),
        ("127.0.0.1:5000/churn-", "repository part 'churn-'"),
        ("127.0.0.1:5000/churn:", "tag ''"),
        ("127.0.0.1:5000/churn:.x", "tag '.x'"),
        ("127.0.0.1:5000/churn:" + "x" * 129, "tag"),
        ("127.0.0.1:5000/churn@sha256:" + "a" * 64, "not a digest"),
        ("-bad.example.com/churn", "is not a registry host"),
        ("127.0.0.1:5000/churn $(reboot)", "repository part"),
        ("127.0.0.1:5000/" + "a" * 260, "over 255"),
        ("127.0.0.1:5000/" + "a" * 400, "at most"),
        ("   ", "Give where to push"),
        (None, "Give where to push"),
    ],
)
def test_invalid_references_say_what_is_wrong(text, words):
    with pytest.raises(InvalidInput) as error:
        parse_push_reference(text, "2")
    assert words in error.value.message and "\n" not in error.value.message


def test_parsing_is_linear_on_hostile_input():
    started = time.perf_counter()
    for text in ("127.0.0.1:5000/" + "a-" * 150 + "!", "a." * 190 + "!/x", "127.0.0.1:5000/" + "a_" * 180):
        with pytest.raises(InvalidInput):
            parse_push_reference(text, "2")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "image, tag",
    [("modelhub/churn:2", "2"), ("modelhub/churn", "latest"), ("localhost:5000/churn", "latest"), ("a:b", "b")],
)
def test_the_default_tag_is_the_images_own(image, tag):
    assert tag_of(image) == tag
