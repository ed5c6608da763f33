"""Packaging never loses a user's file and no requirements text can freeze the server.

Through a real Jupyter server (no Docker engine: ``--context`` builds need none):

- ``POST images`` / ``%package --context DIR`` writes into an empty or new folder, or rewrites a
  previous context of ours (it carries a marker file), replacing only what it wrote there; any
  other non-empty folder is refused with a 400 and nothing in it changes;
- a requirements text is parsed in linear time and bounded: a hostile body is a quick 400 while
  the server goes on answering, whichever route it enters by (environments, images, deploys);
- index URLs with credentials are refused (they would be stored in the lock).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.docker import BASE_IMAGE
from helpers.kernels import Kernel
from helpers.servers import ServerProcess

X, y = make_classification(60, 4, random_state=0)
CLF = LogisticRegression().fit(X, y)
HOSTILE = "a==1" + " " * 30_000 + "!"  # froze the server for 77 s with the old regex


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ServerProcess(
        tmp_path_factory.mktemp("pack-safety"),
        extra_env={"DOCKER_HOST": "tcp://127.0.0.1:9"},
        args=[f"--Packager.base_image={BASE_IMAGE}"],
    )
    s.client().register("churn", CLF, sample=X[:2])
    yield s
    s.stop()


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` with its bytes (None for a folder)."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def users_project(folder: Path) -> Path:
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "model.joblib").write_bytes(b"the user's only copy of the model")
    (folder / "Dockerfile").write_text("FROM python:3.11\n# the user's own\n")
    (folder / "app").mkdir()
    (folder / "app" / "main.py").write_text("print('mine')\n")
    return folder


def post_image(server: ServerProcess, body: dict, timeout: float = 300):
    return server.session.post(server.url + "modelhub/api/images", json=body, timeout=timeout)


def test_a_context_into_a_folder_of_the_users_files_is_refused_and_changes_nothing(server):
    project = users_project(server.folder / "notebooks" / "project")
    before = snapshot(project)
    response = post_image(server, {"model": "churn:1", "context": str(project)})
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert str(project) in message and "empty or new folder" in message and "churn-1-context" in message, message
    assert snapshot(project) == before, "nothing in the user's folder was removed or overwritten"
    assert not [p for p in project.parent.iterdir() if p.name.startswith(".")], "no partial context is left"


@pytest.mark.kernel
def test_package_magic_with_context_dot_in_a_notebook_folder_keeps_the_model(server):
    project = users_project(server.folder / "notebooks" / "notebook-folder")
    before = snapshot(project)
    kernel = Kernel(server, "notebook-folder/train.ipynb")
    try:
        out = kernel.run("%load_ext jupyter_modelhub\n%package churn:1 --context .")
        assert out["error"].startswith("UsageError") and "empty or new folder" in out["error"], out
        assert snapshot(project) == before
        out = kernel.run("%package churn:1 --context churn-1-context")
        assert not out["error"], out
        assert (project / "churn-1-context" / "Dockerfile").exists()
        assert {k: v for k, v in snapshot(project).items() if not k.startswith("churn-1-context")} == before
    finally:
        kernel.stop()


def test_an_empty_folder_is_written_and_a_previous_context_is_rewritten(server):
    hub = server.client()
    empty = server.folder / "notebooks" / "empty-context"
    empty.mkdir()
    written = hub.package("churn:1", context=empty)
    assert written["context"] == str(empty) and (empty / "model" / "model.joblib").exists()
    assert (empty / ".modelhub-context").exists(), "a marker says the folder is ours"
    # the user adds a file of their own; a new run replaces only what the previous one wrote
    (empty / "NOTES.md").write_text("build on the GPU host\n")
    (empty / "Dockerfile").write_text("stale\n")
    again = hub.package("churn:1", context=empty)
    assert again["context"] == str(empty) and "FROM" in (empty / "Dockerfile").read_text()
    assert (empty / "NOTES.md").read_text() == "build on the GPU host\n", "a file we did not write is kept"
    new = server.folder / "notebooks" / "new" / "churn-context"
    assert hub.package("churn:1", context=new)["context"] == str(new) and (new / "Dockerfile").exists()
    leftovers = [p.name for folder in (empty.parent, new.parent) for p in folder.iterdir() if p.name.startswith(".")]
    assert not leftovers, leftovers


def test_a_failed_write_leaves_no_half_context(tmp_path):
    from jupyter_modelhub.packaging.context import ContextInputs, write_context

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "requirements.lock").write_text("six==1.16.0\n")
    inputs = ContextInputs(
        base_image=BASE_IMAGE,
        wheelhouse=wheels,
        model_files=[(tmp_path / "gone.onnx", "m.onnx")],
        model_name="churn",
        model_version=1,
        flavor="onnx",
    )
    with pytest.raises(FileNotFoundError):
        write_context(tmp_path / "ctx", inputs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wheels"], "no context and no partial folder"


def test_a_hostile_requirement_is_refused_quickly_while_the_server_answers(server):
    answers: dict = {}

    def hostile():
        answers["hostile"] = server.session.post(
            server.url + "modelhub/api/environments", timeout=30, json={"name": "hostile", "requirements": HOSTILE}
        )

    thread = threading.Thread(target=hostile)
    thread.start()
    try:
        listing = server.session.get(server.url + "modelhub/api/models", timeout=5)
        assert listing.ok, listing.text
    finally:
        thread.join(60)
    response = answers["hostile"]
    assert response.status_code == 400 and "requirement" in response.json()["message"], response.text


@pytest.mark.parametrize(
    "route,body",
    [
        ("environments", {"name": "hostile"}),
        ("images", {"model": "churn:1"}),
        ("endpoints/hostile-ep/deployments", {"model": "churn:1"}),
    ],
)
def test_every_route_that_takes_requirements_refuses_a_hostile_one(server, route, body):
    response = server.session.post(
        server.url + f"modelhub/api/{route}", json={**body, "requirements": HOSTILE}, timeout=10
    )
    assert response.status_code == 400 and "requirement" in response.json()["message"].lower(), response.text


@pytest.mark.parametrize(
    "requirements,words",
    [
        ("numpy; os_name == 'posix' --index-url x\n", "Unsupported requirement"),
        ("numpy; rm -rf /\n", "Unsupported requirement"),
        ("six @ https://example.com/six-1.16.0-py2.py3-none-any.whl\n", "direct URL"),
        ("--index-url https://user:token@pypi.example.com/simple\nsix\n", "credentials"),
        ("--extra-index-url=https://token@pypi.example.com/simple\nsix\n", "credentials"),
        ("--trusted-host pypi.example.com\nsix\n", "the only options accepted are --index-url"),
        ("six\n" * 2_001, "at most 2000"),
    ],
)
def test_bad_requirements_are_400s_that_say_what_to_do(server, requirements, words):
    response = server.session.post(
        server.url + "modelhub/api/environments",
        timeout=30,
        json={"name": "bad", "requirements": requirements, "base_image": BASE_IMAGE},
    )
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert words in message, message
    if words == "credentials":
        assert "token" not in message, "the secret is not echoed back"
        assert "PIP_INDEX_URL" in message and "UV_INDEX_URL" in message, message


@pytest.fixture
def recording_index():
    """A package index on loopback that knows no package and records the credentials it is asked with."""
    import http.server

    seen: list[tuple[str, str]] = []

    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization", "")))
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    index = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    thread = threading.Thread(target=index.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{index.server_address[1]}", seen
    index.shutdown()
    index.server_close()


@pytest.mark.parametrize("variable", ["PIP_INDEX_URL", "UV_INDEX_URL"])
def test_index_credentials_from_the_servers_environment_reach_the_lock_and_the_wheel_download(
    tmp_path, monkeypatch, recording_index, variable
):
    """Credentials are refused in requirements and taken from the environment at build time:
    either variable serves the lock (uv) and the wheelhouse (pip)."""
    import base64

    from jupyter_modelhub.errors import InvalidInput
    from jupyter_modelhub.packaging.environments import SERVER_PYTHON, EnvironmentStore
    from jupyter_modelhub.packaging.wheelhouse import Wheelhouse
    from jupyter_modelhub.store.database import Database

    address, seen = recording_index
    for name in (
        "PIP_INDEX_URL",
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "PIP_EXTRA_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "UV_INDEX",
        "PIP_FIND_LINKS",
        "UV_FIND_LINKS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")  # this machine's pip.conf names other indexes
    monkeypatch.setenv(variable, f"http://reader:s3cret@{address}/simple/")
    wanted = base64.b64encode(b"reader:s3cret").decode()

    store = EnvironmentStore(Database(f"sqlite:///{tmp_path / 'hub.db'}"), tmp_path)
    with pytest.raises(InvalidInput):
        store.lock(["modelhub-private-package==1.0"], SERVER_PYTHON)
    assert ("/simple/modelhub-private-package/", f"Basic {wanted}") in seen, seen

    seen.clear()
    with pytest.raises(InvalidInput):
        Wheelhouse(tmp_path).ensure("ab" * 32, "modelhub-private-package==1.0\n", SERVER_PYTHON)
    assert any(
        path.startswith("/simple/modelhub-private-package") and auth == f"Basic {wanted}" for path, auth in seen
    ), seen
