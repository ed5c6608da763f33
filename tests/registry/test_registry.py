"""The registry service on SQLite and on a real PostgreSQL server (``db_url`` is parametrized)."""

from __future__ import annotations

import os

import pytest

from helpers.uploads import tar_bytes
from jupyter_modelhub.errors import Conflict, InvalidInput, NotFound


def upload(registry, files: dict[str, bytes], links=None) -> str:
    upload_id, path = registry.artifacts.new_upload()
    path.write_bytes(tar_bytes(files, links))
    return upload_id


def register(registry, name="churn", files=None, **kwargs) -> dict:
    return registry.register(name, upload(registry, files or {"model.onnx": b"onnx-bytes"}), **kwargs)


def stored_folders(registry) -> list[str]:
    root = registry.artifacts.artifacts
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*"))


def test_versions_are_numbered_from_one_and_files_are_immutable(registry):
    first = register(registry, files={"model.onnx": b"a"})
    second = register(registry, files={"model.onnx": b"b", "extra/notes.txt": b"hello"})
    assert (first["ref"], second["ref"]) == ("churn:1", "churn:2")
    assert second["files"] == [
        {
            "path": "extra/notes.txt",
            "size": 5,
            "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        },
        {"path": "model.onnx", "size": 1, "sha256": "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"},
    ]
    stored, _ = registry.file_path("churn:2", "extra/notes.txt")
    assert stored.read_bytes() == b"hello"
    with pytest.raises(PermissionError):
        stored.write_bytes(b"changed") if os.geteuid() != 0 else _raise_if_writable(stored)


def _raise_if_writable(path):
    # root bypasses permission bits, so check the bits themselves
    if path.stat().st_mode & 0o222 == 0:
        raise PermissionError("read-only")


def test_identical_content_returns_the_existing_version_unless_forced(registry):
    first = register(registry, files={"m.onnx": b"same"})
    again = register(registry, files={"m.onnx": b"same"})
    assert again["ref"] == "churn:1" and again["existing"] is True and first["existing"] is False
    forced = register(registry, files={"m.onnx": b"same"}, new_version=True)
    assert forced["ref"] == "churn:2" and forced["existing"] is False
    assert len(stored_folders(registry)) == 2
    assert not list(registry.artifacts.uploads.iterdir()), "used uploads are removed"


def test_flavor_is_detected_from_the_files(registry):
    assert register(registry, "a", {"model.onnx": b"x"})["flavor"] == "onnx"
    assert register(registry, "b", {"model.joblib": b"x"})["flavor"] == "sklearn"
    mlmodel = (
        b'flavors:\n  python_function: {}\nsignature:\n  inputs: \'[{"type": "double", "name": "age"}]\'\n'
        b'  outputs: \'[{"type": "long"}]\'\n'
    )
    mlflow = register(registry, "c", {"MLmodel": mlmodel, "model.pkl": b"x"})
    assert mlflow["flavor"] == "mlflow"
    assert mlflow["signature"]["inputs"] == [{"name": "age", "dtype": "float64", "shape": [-1]}]
    assert register(registry, "d", {"weights.bin": b"x", "score.py": b"x"})["flavor"] == "custom"
    assert register(registry, "e", {"model.joblib": b"y"}, flavor="custom")["flavor"] == "custom"


def test_metadata_is_stored_and_properties_are_add_only(registry):
    signature = {"inputs": [{"name": "input", "dtype": "float64", "shape": [-1, 3]}], "outputs": []}
    v = register(
        registry,
        description="first try",
        tags={"team": "growth"},
        properties={"auc": 0.91},
        signature=signature,
        input_example=[[1.0, 2.0, 3.0]],
        created_by="ana",
        source_notebook="notebooks/train.ipynb",
    )
    assert (v["description"], v["tags"], v["properties"]) == ("first try", {"team": "growth"}, {"auc": 0.91})
    assert (v["signature"], v["input_example"]) == (signature, [[1.0, 2.0, 3.0]])
    assert (v["created_by"], v["source_notebook"]) == ("ana", "notebooks/train.ipynb")
    updated = registry.update_version("churn:1", properties={"f1": 0.8}, tags={"stage": "dev"})
    assert updated["properties"] == {"auc": 0.91, "f1": 0.8}
    assert updated["tags"] == {"stage": "dev", "team": "growth"}
    with pytest.raises(Conflict, match="add-only"):
        registry.update_version("churn:1", properties={"auc": 0.5})
    assert registry.get_version("churn:1")["properties"]["auc"] == 0.91
    assert registry.update_version("churn:1", tags={"team": None})["tags"] == {"stage": "dev"}


def test_lineage_is_recorded_and_checked(registry):
    register(registry, files={"m.joblib": b"1"})
    child = register(registry, files={"m.onnx": b"2"}, derived_from="churn")
    assert child["derived_from"] == "churn:1"
    with pytest.raises(NotFound, match="no version 9"):
        register(registry, files={"m.onnx": b"3"}, derived_from="churn:9")
    assert registry.get_model("churn")["version_count"] == 2


def test_references_resolve_latest_version_and_alias(registry):
    for content in (b"1", b"2", b"3"):
        register(registry, files={"m.onnx": content})
    assert registry.get_version("churn")["version"] == 3
    registry.set_alias("churn", "production", 2)
    assert registry.get_version("churn@production")["version"] == 2
    registry.set_alias("churn", "production", 3)  # moving is one update, never two aliases
    assert registry.get_version("churn@production")["version"] == 3
    assert registry.get_model("churn")["aliases"] == {"production": 3}
    registry.update_version("churn:3", archived=False)
    registry.delete_alias("churn", "production")
    registry.update_version("churn:3", archived=True)
    assert registry.get_version("churn")["version"] == 2, "latest skips archived versions"
    assert registry.get_version("churn:3")["archived"] is True, "archived versions stay usable by reference"
    with pytest.raises(NotFound, match="no alias 'staging'"):
        registry.get_version("churn@staging")
    with pytest.raises(NotFound, match=r"no version 7 \(latest is 3\)"):
        registry.get_version("churn:7")
    with pytest.raises(NotFound, match="No model named 'nope'"):
        registry.get_version("nope")


def test_search_by_name_tags_and_flavor_newest_first(registry):
    register(registry, "churn", {"m.onnx": b"1"}, tags={"team": "growth", "stage": "dev"})
    register(registry, "churn-eu", {"m.joblib": b"2"}, tags={"team": "growth", "stage": "prod"})
    register(registry, "fraud", {"m.onnx": b"3"}, tags={"team": "risk", "owner": "li"})
    names = lambda **kw: [m["name"] for m in registry.list_models(**kw)["models"]]  # noqa: E731
    assert names() == ["fraud", "churn-eu", "churn"]
    assert names(filter="team=growth") == ["churn-eu", "churn"]
    assert names(filter="team=growth stage!=dev") == ["churn-eu"]
    assert names(filter="owner") == ["fraud"]
    assert names(filter="team!=growth") == ["fraud"]
    assert names(q="churn") == ["churn-eu", "churn"]
    assert names(flavor="onnx") == ["fraud", "churn"]
    assert names(q="%") == [], "the name search is a literal substring"
    page = registry.list_models(per_page=2, page=2)
    assert (page["total"], [m["name"] for m in page["models"]]) == (3, ["churn"])
    versions = registry.list_versions(filter="team=growth")
    assert [v["ref"] for v in versions["versions"]] == ["churn-eu:1", "churn:1"]


@pytest.mark.parametrize(
    "bad, where",
    [
        ("team=", "character 6"),
        ("=growth", "character 1"),
        ('team="growth', "closing"),
        ("team==x", "character 6"),
        ("a b ,c", "character 5"),
    ],
)
def test_malformed_filters_say_where_and_what_was_expected(registry, bad, where):
    with pytest.raises(InvalidInput, match="expected") as error:
        registry.list_models(filter=bad)
    assert where in error.value.message


def test_archive_hides_and_restore_shows(registry):
    register(registry, files={"m.onnx": b"1"})
    register(registry, files={"m.onnx": b"2"})
    registry.update_version("churn:2", archived=True)
    assert [v["version"] for v in registry.list_versions("churn")["versions"]] == [1]
    assert [v["version"] for v in registry.list_versions("churn", archived=True)["versions"]] == [2, 1]
    assert registry.list_models()["models"][0]["latest_version"] == 1
    registry.update_version("churn:2", archived=False)
    assert registry.list_models()["models"][0]["latest_version"] == 2


def test_deletion_is_refused_while_an_alias_refers_to_the_version(registry):
    register(registry, files={"m.onnx": b"1"})
    register(registry, files={"m.onnx": b"2"})
    registry.set_alias("churn", "production", 1)
    with pytest.raises(Conflict, match="alias churn@production"):
        registry.delete_version("churn:1")
    with pytest.raises(Conflict, match="alias churn@production"):
        registry.update_version("churn:1", archived=True)
    with pytest.raises(Conflict, match="churn:1 is used by alias churn@production"):
        registry.delete_model("churn")
    assert len(stored_folders(registry)) == 2, "a refused delete removes nothing"
    assert registry.delete_version("churn:2") == {"deleted": ["churn:2"]}
    assert len(stored_folders(registry)) == 1
    registry.delete_alias("churn", "production")
    assert registry.delete_model("churn") == {"deleted": ["churn:1"]}
    assert stored_folders(registry) == []
    with pytest.raises(NotFound):
        registry.get_model("churn")


def test_later_services_can_plug_in_references(registry):
    register(registry, files={"m.onnx": b"1"})
    registry.references.append(lambda session: {"churn:1": ["endpoint churn-ep"]})
    with pytest.raises(Conflict, match="endpoint churn-ep"):
        registry.delete_version("churn:1")


@pytest.mark.parametrize("name", ["has space", "a/b", "..", "../x", "", "-lead", "x" * 200])
def test_bad_names_are_refused_and_nothing_is_stored(registry, name):
    upload_id = upload(registry, {"m.onnx": b"1"})
    with pytest.raises(InvalidInput, match="Invalid model name"):
        registry.register(name, upload_id)
    assert stored_folders(registry) == [] and not list(registry.artifacts.staging.iterdir())


@pytest.mark.parametrize(
    "files, links, message",
    [
        ({"../escape.txt": b"x"}, None, "stay inside"),
        ({"/etc/passwd": b"x"}, None, "stay inside"),
        ({"ok.txt": b"x"}, {"link": "/etc/passwd"}, "links are refused"),
        ({}, None, "Empty registration"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(registry, files, links, message):
    upload_id = upload(registry, files, links)
    with pytest.raises(InvalidInput, match=message):
        registry.register("churn", upload_id)
    assert stored_folders(registry) == [] and not list(registry.artifacts.staging.iterdir())
    with pytest.raises(NotFound):
        registry.get_model("churn")


def test_a_truncated_archive_is_refused(registry):
    upload_id, path = registry.artifacts.new_upload()
    path.write_bytes(tar_bytes({"model.onnx": b"x" * 50_000})[:20_000])
    with pytest.raises(InvalidInput, match="incomplete or damaged"):
        registry.register("churn", upload_id)
    assert stored_folders(registry) == []


def test_invalid_metadata_is_refused_before_anything_is_written(registry):
    for fields, message in [
        ({"tags": {"team": 3}}, "Tag 'team' must have a string value"),
        ({"flavor": "tensorflow"}, "Unknown flavor 'tensorflow'"),
        ({"input_example": [[0.0] * 100_000]}, "input example is"),
    ]:
        upload_id = upload(registry, {"m.onnx": b"1"})
        with pytest.raises(InvalidInput, match=message):
            registry.register("churn", upload_id, **fields)
        with pytest.raises(NotFound, match="used already"):
            registry.register("churn", upload_id)  # a failed registration uses the upload up
    assert stored_folders(registry) == []
    assert not list(registry.artifacts.uploads.iterdir()) and not list(registry.artifacts.staging.iterdir())


def test_a_failed_database_write_removes_the_published_files(registry):
    def broken(work, attempts=30):
        raise RuntimeError("database went away")

    registry.db.write = broken
    with pytest.raises(RuntimeError):
        register(registry)
    assert stored_folders(registry) == [] and not list(registry.artifacts.staging.iterdir())


def test_events_record_changes_in_order(registry):
    start = registry.events()["last_id"]
    register(registry, files={"m.onnx": b"1"})
    registry.set_alias("churn", "production", 1)
    events = registry.events(after=start)
    assert [(e["kind"], e["model"], e["version"]) for e in events["events"]] == [
        ("version_registered", "churn", 1),
        ("alias_set", "churn", 1),
    ]
    assert registry.events(after=events["last_id"])["events"] == []
