"""Hardening of the REST API, uploads and the artifact store (issue 12), against real servers.

Each test names the defect it guards against: numbers the database cannot hold, filters too
large for one query, malformed bodies, archives that expand past the limits or that the file
system cannot hold, uploads registered twice at once or by someone else, leftovers, stalls,
files changed after registration, and a registry readable by other users.
"""

from __future__ import annotations

import getpass
import io
import json
import os
import socket
import stat
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import pytest
import requests
from jupyter_server.auth.identity import IdentityProvider, User

from helpers.servers import ServerProcess, wait_until
from helpers.uploads import tar_bytes
from jupyter_modelhub.client import ModelHubClient
from jupyter_modelhub.errors import Damaged, TooLarge
from jupyter_modelhub.registry import ModelRegistry
from jupyter_modelhub.store.artifacts import ArtifactStore
from jupyter_modelhub.store.database import Database

MAX_BYTES = 8 * 1024 * 1024
MAX_FILES = 20
TAR = {"Content-Type": "application/x-tar"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One real server with small limits: 8 MiB per upload, 20 files, 1 s stall timeout."""
    process = ServerProcess(
        tmp_path_factory.mktemp("hardening"),
        args=[
            f"--ModelHubApp.max_upload_size={MAX_BYTES}",
            f"--ModelHubApp.max_files_per_version={MAX_FILES}",
            "--ModelHubApp.upload_timeout=1",
            "--ModelHubApp.upload_ttl=600",
        ],
    )
    yield process
    process.stop()


def call(server, method: str, path: str, **kwargs) -> requests.Response:
    return server.session.request(method, server.url + "modelhub/api/" + path, timeout=60, **kwargs)


def upload(server, data: bytes) -> requests.Response:
    return call(server, "POST", "uploads", data=data, headers=TAR)


def register(server, name: str, files: dict[str, bytes]) -> dict:
    response = upload(server, tar_bytes(files))
    assert response.status_code == 201, response.text
    response = call(server, "POST", f"models/{name}/versions", json={"upload_id": response.json()["upload_id"]})
    assert response.status_code in (200, 201), response.text
    return response.json()


def leftovers(server) -> list[str]:
    return sorted(
        str(p.relative_to(server.root)) for folder in ("uploads", "staging") for p in (server.root / folder).iterdir()
    )


def assert_clear_error(response: requests.Response, status: int, *words: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) >= {"message", "reason"}
    for word in words:
        assert word in body["message"], body["message"]
    assert "Traceback" not in body["message"] and "\n" not in body["message"]
    return body


# -- numbers, filters and bodies that answered 500 --------------------------------------------


@pytest.mark.parametrize(
    "method, path, body, words",
    [
        ("GET", "models/num/versions/9223372036854775808", None, ["Invalid version", "2147483647"]),
        ("GET", "models/num/versions/²", None, ["Invalid version"]),
        ("GET", "models/num/versions/١", None, ["Invalid version"]),  # was read as version 1
        ("PUT", "models/num/aliases/production", {"version": 2**63}, ["version"]),
        ("GET", f"models?page={2**62}", None, ["page", "2147483647"]),
        ("GET", f"versions?per_page={2**70}", None, ["per_page"]),
        ("GET", f"events?after={10**29}", None, ["after"]),
        ("GET", "events?after=١", None, ["after"]),
        ("GET", "models?filter=" + "+".join(f"k{i}=v" for i in range(500)), None, ["more than 50 terms"]),
        ("GET", "models?q=%00", None, ["NUL"]),
        ("PATCH", "models/num/versions/1", {"description": "a\u0000b"}, ["NUL"]),
        (
            "PATCH",
            "models/num/versions/1",
            {
                "properties": {
                    "deep": [
                        [
                            [
                                [
                                    [
                                        [
                                            [
                                                [
                                                    [
                                                        [
                                                            [
                                                                [
                                                                    [
                                                                        [
                                                                            [
                                                                                [
                                                                                    [
                                                                                        [
                                                                                            [
                                                                                                [
                                                                                                    [
                                                                                                        [
                                                                                                            [
                                                                                                                [
                                                                                                                    [
                                                                                                                        [
                                                                                                                            [
                                                                                                                                [
                                                                                                                                    [
                                                                                                                                        [
                                                                                                                                            [
                                                                                                                                                [
                                                                                                                                                    [
                                                                                                                                                        [
                                                                                                                                                            [
                                                                                                                                                                [
                                                                                                                                                                    [
                                                                                                                                                                        [
                                                                                                                                                                            [
                                                                                                                                                                                [
                                                                                                                                                                                    [
                                                                                                                                                                                        [
                                                                                                                                                                                            [
                                                                                                                                                                                                [
                                                                                                                                                                                                    [
                                                                                                                                                                                                        [
                                                                                                                                                                                                            [
                                                                                                                                                                                                                [
                                                                                                                                                                                                                    [
                                                                                                                                                                                                                        [
                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                [
                                                                                                                                                                                                                                    [
                                                                                                                                                                                                                                        [
                                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                                [
                                                                                                                                                                                                                                                    [
                                                                                                                                                                                                                                                        [
                                                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                                                [
                                                                                                                                                                                                                                                                    [
                                                                                                                                                                                                                                                                        [
                                                                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                                                                [
                                                                                                                                                                                                                                                                                    [
                                                                                                                                                                                                                                                                                        [
                                                                                                                                                                                                                                                                                            [
                                                                                                                                                                                                                                                                                                []
                                                                                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                                                                                ]
                                                                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                                                                ]
                                                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                                                ]
                                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                                ]
                                                                                                                                                                                                                            ]
                                                                                                                                                                                                                        ]
                                                                                                                                                                                                                    ]
                                                                                                                                                                                                                ]
                                                                                                                                                                                                            ]
                                                                                                                                                                                                        ]
                                                                                                                                                                                                    ]
                                                                                                                                                                                                ]
                                                                                                                                                                                            ]
                                                                                                                                                                                        ]
                                                                                                                                                                                    ]
                                                                                                                                                                                ]
                                                                                                                                                                            ]
                                                                                                                                                                        ]
                                                                                                                                                                    ]
                                                                                                                                                                ]
                                                                                                                                                            ]
                                                                                                                                                        ]
                                                                                                                                                    ]
                                                                                                                                                ]
                                                                                                                                            ]
                                                                                                                                        ]
                                                                                                                                    ]
                                                                                                                                ]
                                                                                                                            ]
                                                                                                                        ]
                                                                                                                    ]
                                                                                                                ]
                                                                                                            ]
                                                                                                        ]
                                                                                                    ]
                                                                                                ]
                                                                                            ]
                                                                                        ]
                                                                                    ]
                                                                                ]
                                                                            ]
                                                                        ]
                                                                    ]
                                                                ]
                                                            ]
                                                        ]
                                                    ]
                                                ]
                                            ]
                                        ]
                                    ]
                                ]
                            ]
                        ]
                    ]
                }
            },
            ["nested"],
        ),
        ("GET", "endpoints/none/deployments/blue/logs?timeout=abc", None, ["timeout"]),
        ("GET", "endpoints/none/deployments/blue/logs?tail=99999999999999999999", None, ["tail"]),
        ("GET", "operations?page=-1", None, ["page"]),
    ],
)
def test_numbers_filters_and_bodies_the_database_cannot_take_are_a_400(server, method, path, body, words):
    register(server, "num", {"m.bin": b"1"})
    response = call(server, method, path, json=body) if body is not None else call(server, method, path)
    assert_clear_error(response, 400, *words)
    assert call(server, "GET", "models/num/versions/1").json()["description"] == ""


def test_a_100000_character_filter_is_answered_not_dropped(server):
    response = call(server, "GET", "models", params={"filter": "team=" + "x" * 100_000})
    assert_clear_error(response, 400, "'filter'", "limit is 4096")


# -- uploads refused at upload, with the path named -------------------------------------------


@pytest.mark.parametrize(
    "files, words",
    [
        ({"a" * 300: b"x"}, ["is 300 bytes long", "at most 255"]),
        ({"a": b"1", "a/b": b"2"}, ["'a' is both a file and a folder"]),
        ({"a/b": b"2", "a": b"1"}, ["'a' is both a file and a folder"]),
        ({"d/" + "x/" * 600 + "f": b"1"}, ["the limit is 1024"]),
        ({"bad\nname": b"1"}, ["control characters"]),
    ],
)
def test_uploads_the_file_system_cannot_hold_are_refused_at_upload(server, files, words):
    assert_clear_error(upload(server, tar_bytes(files)), 400, *words)
    assert leftovers(server) == []


def test_a_tar_made_with_tar_c_dot_is_accepted(server, tmp_path):
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"weights")
    (folder / "sub" / "conf.json").write_bytes(b"{}")
    subprocess.run(["tar", "-cf", str(tmp_path / "x.tar"), "-C", str(folder), "."], check=True)
    response = upload(server, (tmp_path / "x.tar").read_bytes())
    assert response.status_code == 201, response.text
    assert sorted(f["path"] for f in response.json()["files"]) == ["model.onnx", "sub/conf.json"]
    version = call(server, "POST", "models/dotted/versions", json={"upload_id": response.json()["upload_id"]}).json()
    assert sorted(f["path"] for f in version["files"]) == ["model.onnx", "sub/conf.json"]


# -- archives that expand past the limits --------------------------------------------------------


def gzip_tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def sparse_tar(tmp_path: Path, size: int) -> bytes:
    folder = tmp_path / "sparse"
    folder.mkdir()
    with open(folder / "holes.bin", "wb") as f:
        f.truncate(size)
    subprocess.run(["tar", "--sparse", "-cf", str(tmp_path / "s.tar"), "-C", str(folder), "holes.bin"], check=True)
    return (tmp_path / "s.tar").read_bytes()


def test_compressed_and_sparse_tars_are_limited_by_what_they_unpack_to(server, tmp_path):
    bomb = gzip_tar({"zeros.bin": bytes(4 * MAX_BYTES)})
    assert len(bomb) < MAX_BYTES // 100
    assert_clear_error(upload(server, bomb), 413, "unpacks to more than", "max_upload_size")
    sparse = sparse_tar(tmp_path, 200 * 1024 * 1024)
    assert len(sparse) < 100_000
    assert_clear_error(upload(server, sparse), 413, "unpacks to more than")
    assert_clear_error(
        upload(server, tar_bytes({f"f{i}": b"x" for i in range(MAX_FILES + 1)})),
        413,
        f"more than {MAX_FILES} files",
        "max_files_per_version",
    )
    assert leftovers(server) == []


def test_the_store_counts_written_bytes_whatever_the_headers_say(tmp_path):
    """The upload check reads headers; extraction counts what it writes, so a registry that
    stages an archive itself (conversions do) is held to the same limit."""
    store = ArtifactStore(tmp_path / "hub", max_size=1000, max_files=3)
    upload_id, path = store.new_upload()
    path.write_bytes(tar_bytes({"a": b"x" * 600, "b": b"y" * 600}))
    with pytest.raises(TooLarge, match="more than 1000 bytes"):
        store.stage(path)
    assert list(store.staging.iterdir()) == []


# -- one upload, one version ------------------------------------------------------------------


def test_one_upload_registered_from_8_threads_makes_exactly_one_version(server):
    upload_id = upload(server, tar_bytes({"model.bin": os.urandom(200_000)})).json()["upload_id"]
    barrier = threading.Barrier(8)
    answers: list[requests.Response] = []

    def register_it():
        session = requests.Session()
        session.headers.update(server.session.headers)
        barrier.wait()
        answers.append(
            session.post(server.url + "modelhub/api/models/once/versions", json={"upload_id": upload_id}, timeout=60)
        )

    threads = [threading.Thread(target=register_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201] + [404] * 7, [a.text for a in answers]
    assert all("used already" in a.json()["message"] for a in answers if a.status_code == 404)
    assert [v["version"] for v in call(server, "GET", "models/once/versions").json()["versions"]] == [1]
    assert leftovers(server) == []


def test_identical_content_and_failed_registrations_leave_nothing_behind(server):
    register(server, "same", {"m.bin": b"same bytes"})
    again = register(server, "same", {"m.bin": b"same bytes"})
    assert again["existing"] is True and again["ref"] == "same:1"
    assert leftovers(server) == [], "the staging copy of a duplicate is removed at once"
    for body in ({"tags": {"team": 3}}, {"derived_from": "missing:1"}, {"flavor": "tensorflow"}):
        upload_id = upload(server, tar_bytes({"m.bin": b"other"})).json()["upload_id"]
        response = call(server, "POST", "models/same/versions", json={"upload_id": upload_id, **body})
        assert response.status_code in (400, 404), response.text
        assert leftovers(server) == [], f"a refused registration ({body}) leaves its upload behind"


def test_a_stalled_upload_is_abandoned_and_deleted(server):
    body = tar_bytes({"model.bin": os.urandom(500_000)})
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        head = (
            f"POST /modelhub/api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {server.token}\r\n"
            f"Content-Type: application/x-tar\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[:100_000])
        wait_until(lambda: any((server.root / "uploads").glob("*.tar")), 10, "the upload to start")
        sock.settimeout(20)
        try:
            answer = sock.recv(1000)
        except ConnectionResetError:
            answer = b""
        assert answer == b"", "the server closes the connection when it gives up"
        wait_until(lambda: leftovers(server) == [], 10, "the stalled upload to be deleted")


def test_error_bodies_do_not_show_the_servers_paths(server):
    version = register(server, "paths", {"m.bin": b"1"})
    stored = next((server.root / "artifacts" / "paths").glob("*/files/m.bin"))
    stored.chmod(0o644)
    stored.write_bytes(b"2")
    responses = [
        call(server, "GET", "models/paths/versions/1/files/m.bin"),
        call(server, "POST", "models/paths/versions", json={"upload_id": "0" * 32}),
        upload(server, b"not a tar" * 100),
    ]
    for response in responses:
        assert response.status_code >= 400
        assert str(server.root) not in response.text and str(server.folder) not in response.text, response.text
    assert version["ref"] == "paths:1"


# -- who may register an upload ------------------------------------------------------------------


class TwoUsers(IdentityProvider):
    """Tokens 'alice' and 'bob' are two users, as JupyterHub would make them."""

    def get_user(self, handler):
        scheme, _, token = handler.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "token" and token in ("alice", "bob"):
            handler._token_authenticated = True
            return User(username=token)
        return None


class TestTwoUsers:
    @pytest.fixture
    def jp_server_config(self, hub_root):
        return {
            "ServerApp": {"jpserver_extensions": {"jupyter_modelhub": True}, "identity_provider_class": TwoUsers},
            "ModelHubApp": {"root_dir": str(hub_root)},
        }

    async def test_another_users_upload_cannot_be_registered(self, jp_fetch):
        code, made = await _fetch(jp_fetch, "alice", "POST", "uploads", body=tar_bytes({"m.bin": b"alice's"}))
        assert code == 201, made
        body = json.dumps({"upload_id": made["upload_id"]}).encode()
        code, error = await _fetch(jp_fetch, "bob", "POST", "models", "stolen", "versions", body=body)
        assert code == 404 and "another user" in error["message"]
        code, version = await _fetch(jp_fetch, "alice", "POST", "models", "mine", "versions", body=body)
        assert code == 201 and version["created_by"] == "alice"


async def _fetch(jp_fetch, token: str, method: str, *path: str, body: bytes = b""):
    response = await jp_fetch(
        "modelhub",
        "api",
        *path,
        method=method,
        body=body if method == "POST" else None,
        headers={"Authorization": f"token {token}"},
        raise_error=False,
    )
    return response.code, json.loads(response.body or b"null")


async def test_the_kernel_token_and_the_users_token_are_one_identity(jp_serverapp, jp_fetch):
    app = jp_serverapp.extension_manager.extension_apps["jupyter_modelhub"]
    kernel_token = next(iter(app)).kernel_token
    made = await jp_fetch("modelhub", "api", "uploads", method="POST", body=tar_bytes({"m.bin": b"1"}))
    upload_id = json.loads(made.body)["upload_id"]
    response = await jp_fetch(
        "modelhub",
        "api",
        "models",
        "shared",
        "versions",
        method="POST",
        body=json.dumps({"upload_id": upload_id}),
        headers={"Authorization": f"token {kernel_token}"},
    )
    assert response.code == 201 and json.loads(response.body)["created_by"] == getpass.getuser()


# -- expiry --------------------------------------------------------------------------------------


def test_unused_uploads_expire_at_start_and_while_running(tmp_path):
    folder = tmp_path / "expiry"
    stale = folder / "hub" / "uploads" / ("a" * 32 + ".tar")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by a server that died")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    process = ServerProcess(folder, args=["--ModelHubApp.upload_ttl=1800"])
    try:
        assert not stale.exists(), "an upload older than upload_ttl is removed at start"
    finally:
        process.stop()
    process = ServerProcess(tmp_path / "expiry2", args=["--ModelHubApp.upload_ttl=2"])
    try:
        made = upload(process, tar_bytes({"m.bin": b"1"})).json()
        wait_until(lambda: not list((process.root / "uploads").iterdir()), 20, "the unused upload to expire")
        response = call(process, "POST", "models/late/versions", json={"upload_id": made["upload_id"]})
        assert_clear_error(response, 404, "expired")
    finally:
        process.stop()


# -- integrity -------------------------------------------------------------------------------------


def test_a_file_changed_after_registration_is_refused_not_served(server, tmp_path):
    version = register(server, "tampered", {"model.bin": b"original", "other.bin": b"fine"})
    assert call(server, "GET", "models/tampered/versions/1/files/model.bin").content == b"original"
    stored = next((server.root / "artifacts" / "tampered").glob("*/files/model.bin"))
    before = stored.stat()
    stored.chmod(0o644)
    stored.write_bytes(b"modified")  # same length, and the modification time put back
    os.utime(stored, ns=(before.st_atime_ns, before.st_mtime_ns))
    response = call(server, "GET", "models/tampered/versions/1/files/model.bin")
    assert_clear_error(response, 500, "'model.bin' of tampered:1 does not match its manifest")
    assert response.json()["reason"] == "damaged"
    assert call(server, "GET", "models/tampered/versions/1/files/other.bin").content == b"fine"

    client = server.client()
    with pytest.raises(Damaged, match="does not match its manifest") as error:
        client.download(version["ref"], to=tmp_path / "out")
    assert "\n" not in str(error.value)
    assert not list((tmp_path / "out").rglob("*.part")) and not (tmp_path / "out" / "model.bin").exists()


def test_download_magic_of_a_damaged_file_is_one_line_and_leaves_no_part_file(server, tmp_path, monkeypatch):
    from IPython.core.error import UsageError
    from IPython.testing.globalipapp import get_ipython

    register(server, "damaged", {"model.bin": b"original"})
    stored = next((server.root / "artifacts" / "damaged").glob("*/files/model.bin"))
    stored.chmod(0o644)
    stored.write_bytes(b"changed!")
    monkeypatch.setenv("MODELHUB_URL", server.url)
    monkeypatch.setenv("MODELHUB_TOKEN", server.token)
    shell = get_ipython()
    shell.run_line_magic("load_ext", "jupyter_modelhub")
    with pytest.raises(UsageError) as error:
        shell.run_line_magic("download", f"damaged:1 --to {tmp_path / 'out'}")
    assert "does not match its manifest" in str(error.value) and "\n" not in str(error.value)
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("model.bin"))


def test_a_mirror_that_is_not_a_deployment_name_is_a_400(server):
    """It reached the endpoint's checks as a list and failed there with a 500."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    model = server.root.parent / "model.joblib"
    joblib.dump(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), model)
    client = server.client()
    client.register("mirrored", str(model))
    client.deploy("mirror-ep", "mirrored:1")
    try:
        for mirror in ({"deployment": ["blue"], "percent": 10}, ["blue"], {"deployment": "blue", "percent": "10"}):
            response = call(server, "PUT", "endpoints/mirror-ep/traffic", json={"mirror": mirror})
            assert_clear_error(response, 400, "mirror")
    finally:
        client.undeploy("mirror-ep")


def test_files_are_hashed_once_per_state_on_disk(tmp_path, monkeypatch):
    database = Database(f"sqlite:///{tmp_path}/registry.db")
    registry = ModelRegistry(database, ArtifactStore(tmp_path / "hub"))
    upload_id, path = registry.artifacts.new_upload()
    path.write_bytes(tar_bytes({"a.bin": b"a", "b.bin": b"b"}))
    registry.register("hashed", upload_id)
    hashed = []
    original = ArtifactStore.hash_file
    monkeypatch.setattr(ArtifactStore, "hash_file", staticmethod(lambda p: hashed.append(p.name) or original(p)))
    for _ in range(3):
        registry.file_path("hashed:1", "a.bin")
        assert registry.verify_files("hashed:1")["files"] == 2
    assert sorted(hashed) == ["a.bin", "b.bin"]
    stored = next((registry.artifacts.artifacts / "hashed").glob("*/files/b.bin"))
    stored.chmod(0o644)
    stored.write_bytes(b"B")
    with pytest.raises(Damaged, match="'b.bin' of hashed:1 does not match its manifest"):
        registry.verify_files("hashed:1")
    stored.unlink()
    with pytest.raises(Damaged, match="b.bin"):
        registry.verify_files("hashed:1")
    database.dispose()


def test_download_cut_short_leaves_no_part_file(tmp_path):
    """A server that promises 100 bytes and closes after 10: one-line error, nothing written."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve():
        # Each answer says "Connection: close": the client must not reuse a connection this
        # one-shot server is about to close (under load that race reads as "Cannot reach").
        for _ in range(2):
            conn, _ = listener.accept()
            request = conn.recv(65536).decode()
            if "/files/" in request:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100\r\n"
                    b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 10
                )
            else:
                body = (
                    b'{"name": "cut", "version": 1, "ref": "cut:1", "files": '
                    b'[{"path": "m.bin", "size": 100, "sha256": "00"}]}'
                )
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = ModelHubClient(f"http://127.0.0.1:{port}/", "token")
    with pytest.raises(Exception) as error:
        client.download("cut:1", to=tmp_path / "out")
    assert "m.bin" in str(error.value) and "\n" not in str(error.value)
    assert list((tmp_path / "out").iterdir()) == []
    listener.close()


# -- private files -------------------------------------------------------------------------------


def test_the_root_and_the_database_are_private_to_the_user(tmp_path):
    root = tmp_path / "new-root"
    ArtifactStore(root)
    database = Database(f"sqlite:///{root}/registry.db")
    with database.read() as session:
        from sqlalchemy import text

        session.execute(text("SELECT 1"))
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    for path in root.iterdir():
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.name} is {oct(mode)}"
    database.dispose()
    (root / "registry.db").chmod(0o644)  # made by an older release
    Database(f"sqlite:///{root}/registry.db").dispose()
    assert stat.S_IMODE((root / "registry.db").stat().st_mode) == 0o600
