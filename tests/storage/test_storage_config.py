"""The storage settings as a user meets them (issue 20): the default is the local folder as
before; an ``s3://`` artifact_uri without s3fs installed, or a scheme no store serves, stops the
extension with a 503 that says what to do, never a stack trace; credentials are never shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.servers import ServerProcess, UnreadyServer


def test_the_default_is_the_local_folder(tmp_path):
    server = ServerProcess(tmp_path / "server")
    try:
        info = server.session.get(server.url + "modelhub/api/info").json()
        assert info["artifact_uri"] == str((server.root / "artifacts").resolve())
    finally:
        server.stop()


@pytest.mark.slow  # a server in a fresh interpreter that cannot import s3fs: make test, not make test-fast
def test_a_bucket_without_s3fs_installed_names_the_extra_to_install(tmp_path):
    blocker = tmp_path / "without-s3fs"
    (blocker / "s3fs").mkdir(parents=True)
    (blocker / "s3fs" / "__init__.py").write_text("raise ImportError('s3fs is not installed (test)')\n")
    server = UnreadyServer(
        tmp_path / "server",
        extra_env={"PYTHONPATH": os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")]))},
        args=[
            "--ModelHubApp.artifact_uri=s3://team-models/registry",
            "--ModelHubApp.storage_options={'key': 'AKIDEXAMPLE', 'secret': 'do-not-show-me'}",
        ],
    )
    try:
        response = server.session.get(server.url + "modelhub/api/models")
        assert response.status_code == 503
        message = response.json()["message"]
        assert "pip install 'jupyter_modelhub[s3]'" in message and "Traceback" not in response.text
        assert "do-not-show-me" not in Path(server.log.name).read_text() + response.text
    finally:
        server.stop()


def test_an_artifact_uri_no_store_serves_is_refused_with_the_choices(tmp_path):
    server = UnreadyServer(tmp_path / "server", args=["--ModelHubApp.artifact_uri=gs://team-models/registry"])
    try:
        message = server.session.get(server.url + "modelhub/api/models").json()["message"]
        assert "Unsupported artifact_uri 'gs://team-models/registry'" in message and "s3://BUCKET/PREFIX" in message
    finally:
        server.stop()
