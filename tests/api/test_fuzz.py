"""The whole REST API fuzzed with schemathesis against a real server: every check, on every
operation, with the stateful phase following the OpenAPI document's links (upload -> register ->
version -> file, alias, operations...). Zero server errors, and answers that match the document.

It runs on SQLite and on a real PostgreSQL (which refuses what SQLite lets by: NUL characters,
over-long text). Configuration and hooks are in tests/api/fuzz/ (what is not run, and why). Each run
is bounded (``--max-examples``, a fixed seed for a reproducible run) to well under a minute.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.components import require
from helpers.postgres import fresh_postgres_database
from helpers.servers import ServerProcess
from helpers.uploads import tar_bytes

pytestmark = pytest.mark.slow  # minutes of generated requests: make test, not make test-fast

FUZZ = Path(__file__).with_name("fuzz")
MAX_EXAMPLES = 10


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(backend, tmp_path, request):
    require(importlib.util.find_spec("schemathesis") is not None, "schemathesis is not installed (the test extra)")
    args = []
    if backend == "postgresql":
        args.append(f"--ModelHubApp.db_url={fresh_postgres_database(request.getfixturevalue('postgres_server'))}")
    # UV_OFFLINE: a deployment with an environment must not reach a package index
    server = ServerProcess(tmp_path / "server", extra_env={"UV_OFFLINE": "1"}, args=args)
    try:
        client = server.client()
        for name in ("fuzz-a", "fuzz-b"):
            upload = client._call("POST", "uploads", data=tar_bytes({"model.bin": name.encode(), "conf/x.json": b"{}"}))
            client._call(
                "POST", f"models/{name}/versions", json={"upload_id": upload["upload_id"], "tags": {"team": "x"}}
            )
        client.set_alias("fuzz-a", "production", 1)

        har = tmp_path / "run.har"
        # one worker: hypothesis parses lambdas' source with ast.parse, which is not thread-safe on
        # Python 3.11 ("AST constructor recursion depth mismatch" with two)
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("st")),
                "--config-file",
                str(FUZZ / "schemathesis.toml"),
                "run",
                server.url + "modelhub/api/openapi.json",
                "-H",
                f"Authorization: token {server.token}",
                "--checks",
                "all",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                "12",
                "--workers",
                "1",
                "--report",
                "har",
                "--report-har-path",
                str(har),
                "--no-color",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": str(FUZZ)},
        )
        summary = (
            result.stdout[result.stdout.find("SUMMARY") :] if "SUMMARY" in result.stdout else result.stdout[-5000:]
        )
        assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-3000:]
        assert "Test cases:" in summary and " passed" in summary, summary

        server_log = Path(server.log.name).read_text()
        assert " 500 " not in server_log and "Traceback" not in server_log, server_log[-5000:]
        entries = json.loads(har.read_text())["log"]["entries"]
        assert len(entries) > 1000, f"only {len(entries)} requests were made"
        errors = [e["response"]["content"].get("text", "") for e in entries if e["response"]["status"] >= 400]
        leaks = [body for body in errors if str(server.root) in body or str(tmp_path) in body]
        assert not leaks, f"{len(leaks)} error bodies show the server's paths, e.g. {leaks[0][:500]}"
    finally:
        server.stop()
