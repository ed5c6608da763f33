"""A real ``jupyter server`` subprocess: concurrency, streaming, browser auth, cut-off uploads."""

from __future__ import annotations

import multiprocessing
import os
import socket
from pathlib import Path

import pytest
import requests

from helpers.servers import wait_until
from helpers.uploads import tar_bytes
from jupyter_modelhub.client import ModelHubClient
from jupyter_modelhub.errors import InvalidInput


def _register_many(url: str, token: str, worker: int, count: int, folder: str) -> list[int]:
    client = ModelHubClient(url, token)
    numbers = []
    for i in range(count):
        path = Path(folder) / f"w{worker}-{i}.onnx"
        path.write_bytes(f"{worker}-{i}".encode())
        numbers.append(client.register("concurrent", str(path))["version"])
    return numbers


@pytest.mark.slow  # eight client processes, 200 registrations: make test, not make test-fast
def test_eight_processes_registering_at_once_get_versions_1_to_200(hub_server, tmp_path):
    context = multiprocessing.get_context("spawn")
    with context.Pool(8) as pool:
        results = pool.starmap(
            _register_many, [(hub_server.url, hub_server.token, w, 25, str(tmp_path)) for w in range(8)]
        )
    numbers = sorted(n for worker in results for n in worker)
    assert numbers == list(range(1, 201)), "no duplicate, no gap, no failure"
    listed = hub_server.client().versions("concurrent", per_page=500)
    assert sorted(v["version"] for v in listed) == list(range(1, 201))


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_a_large_upload_streams_to_disk_without_filling_memory(hub_server, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(400 * 1024 * 1024)
    before = _peak_rss_mb(hub_server.process.pid)
    version = hub_server.client().register("big-model", str(big))
    assert version["size"] == 400 * 1024 * 1024
    growth = _peak_rss_mb(hub_server.process.pid) - before
    assert growth < 150, f"server peak memory grew by {growth:.0f} MB for a 400 MB upload"


def test_an_upload_cut_off_midway_leaves_nothing(hub_server):
    uploads = hub_server.root / "uploads"
    count_versions = lambda: hub_server.session.get(hub_server.url + "modelhub/api/versions").json()["total"]  # noqa: E731
    before = count_versions()
    body = tar_bytes({"model.onnx": os.urandom(2_000_000)})
    with socket.create_connection(("127.0.0.1", hub_server.port)) as sock:
        head = (
            f"POST /modelhub/api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {hub_server.token}\r\n"
            f"Content-Type: application/x-tar\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[: len(body) // 2])
        wait_until(lambda: any(uploads.iterdir()), 10, "the partial upload to reach disk")
    wait_until(lambda: not any(uploads.iterdir()), 10, "the partial upload to be deleted")
    assert count_versions() == before


def test_a_browser_needs_the_xsrf_token_for_writes(hub_server):
    browser = requests.Session()
    browser.get(hub_server.url + f"lab?token={hub_server.token}")  # logs in: sets the login and _xsrf cookies
    assert browser.get(hub_server.url + "modelhub/api/models").status_code == 200
    tar = tar_bytes({"m.onnx": b"1"})
    # refused before the body is read; the server then closes that connection, so do not reuse it
    refused = browser.post(hub_server.url + "modelhub/api/uploads", data=b"", headers={"Connection": "close"})
    assert refused.status_code == 403
    xsrf = browser.cookies.get("_xsrf")
    response = browser.post(hub_server.url + "modelhub/api/uploads", data=tar, headers={"X-XSRFToken": xsrf})
    assert response.status_code == 201


def test_client_download_refuses_a_file_that_does_not_match_its_manifest(hub_server, tmp_path):
    client = hub_server.client()
    source = tmp_path / "m.onnx"
    source.write_bytes(b"original")
    version = client.register("tampered", str(source))
    stored = next((hub_server.root / "artifacts" / "tampered").glob("*/files/m.onnx"))
    stored.chmod(0o644)
    stored.write_bytes(b"modified")
    with pytest.raises(Exception, match="does not match its manifest"):  # refused by the server now
        client.download(version["ref"], to=tmp_path / "out")
    assert not (tmp_path / "out" / "m.onnx").exists()


def test_client_refuses_links_out_of_a_folder_before_uploading(hub_server, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "ok.txt").write_text("x")
    (folder / "secret").symlink_to("/etc/hostname")
    with pytest.raises(InvalidInput, match="outside"):
        hub_server.client().register("linked", str(folder))
