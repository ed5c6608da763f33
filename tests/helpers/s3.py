"""A real S3 API over HTTP for the bucket tests: moto's server mode as a subprocess on 127.0.0.1
(what s3fs, pandas and Dask test against), or the store ``MODELHUB_TEST_S3_URL`` names (MinIO, a
bucket: ``http://127.0.0.1:9000``, with the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of the
environment). Each test gets a bucket of its own.

moto keeps objects in memory: tests size their files accordingly.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from helpers.servers import free_port, stop_process, wait_until

TEST_KEYS = {"AWS_ACCESS_KEY_ID": "modelhub-test", "AWS_SECRET_ACCESS_KEY": "modelhub-test-secret"}


def s3_available() -> tuple[bool, str]:
    """Whether the bucket tests can run here, and if not why."""
    if importlib.util.find_spec("s3fs") is None:
        return False, "s3fs is not installed: pip install 'jupyter_modelhub[s3]'"
    if os.environ.get("MODELHUB_TEST_S3_URL"):
        return True, ""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        return False, "moto's server mode is not installed: pip install 'moto[server]'"
    return True, ""


class MotoServer:
    """``python -m moto.server`` on a fixed port, which a test may stop (an outage) and start again
    (empty: moto keeps objects in memory)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkdtemp(prefix="modelhub-moto-")) / "moto.log"

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **TEST_KEYS},
        )
        log.close()
        wait_until(self._answers, 60, f"moto's S3 server on port {self.port} (log: {self.log_path})")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"moto exited: {self.log_path.read_text()[-2000:]}")
        try:
            return requests.get(self.url + "/moto-api/", timeout=2).status_code < 500
        except requests.RequestException:
            return False

    def stop(self) -> None:
        stop_process(self.process)


class Bucket:
    """A bucket of one test on an S3 endpoint, with what a server or a store needs to reach it."""

    def __init__(self, endpoint_url: str, keys: dict[str, str], name: str | None = None):
        self.endpoint_url = endpoint_url
        self.keys = keys
        self.name = name or f"modelhub-test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=self.name)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.keys["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )

    def uri(self, prefix: str = "registry") -> str:
        return f"s3://{self.name}/{prefix}" if prefix else f"s3://{self.name}"

    @property
    def storage_options(self) -> dict:
        """For an in-process store: the endpoint and keys as s3fs options."""
        return {
            "endpoint_url": self.endpoint_url,
            "key": self.keys["AWS_ACCESS_KEY_ID"],
            "secret": self.keys["AWS_SECRET_ACCESS_KEY"],
        }

    @property
    def env(self) -> dict:
        """For a server process: the endpoint and keys the standard AWS way (environment variables)."""
        return {**self.keys, "AWS_ENDPOINT_URL": self.endpoint_url, "AWS_DEFAULT_REGION": "us-east-1"}

    def keys_under(self, prefix: str = "") -> dict[str, bytes]:
        """Every object under ``prefix`` and its bytes."""
        client, found = self.client(), {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            for item in page.get("Contents", []):
                found[item["Key"]] = client.get_object(Bucket=self.name, Key=item["Key"])["Body"].read()
        return found

    def names_under(self, prefix: str = "") -> list[str]:
        client, found = self.client(), []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            found += [item["Key"] for item in page.get("Contents", [])]
        return sorted(found)

    def put(self, key: str, data: bytes) -> None:
        self.client().put_object(Bucket=self.name, Key=key, Body=data)

    def empty(self) -> None:
        client = self.client()
        for key in self.names_under():
            client.delete_object(Bucket=self.name, Key=key)


def configured_endpoint() -> tuple[str, dict] | None:
    """The store MODELHUB_TEST_S3_URL names, with the environment's keys; None for moto."""
    url = os.environ.get("MODELHUB_TEST_S3_URL")
    if not url:
        return None
    return url, {name: os.environ.get(name, "") for name in TEST_KEYS}
