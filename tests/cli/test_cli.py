"""``jupyter modelhub ...`` run as a user runs it (the real ``jupyter`` command, a subprocess)
against a real Jupyter server: the whole loop from a shell, ``--json`` for scripts, exit codes,
one-line errors, progress on a terminal and in a pipe, and the standalone server."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from helpers.operations import StallingIndex
from helpers.servers import free_port, wait_until
from jupyter_modelhub.magics import (
    EndpointMagics,
    OperationMagics,
    PackagingMagics,
    RegistryMagics,
)

JUPYTER = Path(sys.executable).with_name("jupyter")


def cli_env(server) -> dict:
    return {
        **server.env,
        "MODELHUB_URL": server.url,
        "MODELHUB_TOKEN": server.token,
        "PATH": f"{JUPYTER.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def cli(server, *args, stdin: str | None = None, cwd=None, env=None, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(JUPYTER), "modelhub", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env or cli_env(server),
        cwd=cwd,
        timeout=timeout,
    )


def ok(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 0, f"exit {run.returncode}\nstdout: {run.stdout}\nstderr: {run.stderr}"
    assert "Traceback" not in run.stderr, run.stderr
    return run.stdout


def as_json(run: subprocess.CompletedProcess):
    return json.loads(ok(run))


def failed(run: subprocess.CompletedProcess, code: int) -> str:
    """The one error line of a command that had to fail with ``code``."""
    assert run.returncode == code, f"exit {run.returncode}, wanted {code}\nstdout: {run.stdout}\nstderr: {run.stderr}"
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert run.stdout == "", "nothing on stdout a script could take for a result"
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A fitted scikit-learn pipeline saved with joblib, three of its rows as CSV, and its predictions."""
    import joblib
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folder = tmp_path_factory.mktemp("cli")
    X, y = make_classification(200, 20, random_state=0)
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    joblib.dump(clf, folder / "model.joblib")
    np.savetxt(folder / "rows.csv", X[:3], delimiter=",")
    (folder / "request.json").write_text(json.dumps({"data": X[3:5].tolist()}))
    return {
        "folder": folder,
        "model": folder / "model.joblib",
        "rows": folder / "rows.csv",
        "request": folder / "request.json",
        "predicted": clf.predict(X[:3]).tolist(),
        "predicted_request": clf.predict(X[3:5]).tolist(),
    }


@pytest.fixture(scope="module")
def churn(hub_server, files):
    return as_json(
        cli(
            hub_server,
            "register",
            "churn",
            files["model"],
            "--sample",
            files["rows"],
            "--tag",
            "team=growth",
            "-d",
            "baseline model",
            "--json",
        )
    )


def labels(answer: dict) -> list:
    return answer.get("label", answer.get("predictions"))


def test_help_lists_the_commands_by_resource_with_the_exit_codes():
    run = subprocess.run([str(JUPYTER), "modelhub", "--help"], capture_output=True, text=True, timeout=60)
    text = ok(run)
    groups = ["Models and versions:", "Endpoints:", "Images and environments:", "Operations:", "The standalone server:"]
    positions = [text.index(g) for g in groups]
    assert positions == sorted(positions), text
    sections = dict(zip(groups, (text[a:b] for a, b in zip(positions, positions[1:] + [text.index("exit codes:")]))))
    for group, commands in {
        "Models and versions:": ["models", "show", "register", "download", "convert", "tag"],
        "Endpoints:": ["deploy", "endpoints", "invoke", "logs", "traffic", "undeploy"],
        "Images and environments:": ["package", "images", "envs", "parity"],
        "Operations:": ["operations", "operation"],
        "The standalone server:": ["serve", "stop"],
    }.items():
        for command in commands:
            assert f"\n  {command} " in sections[group], (command, group, text)
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"\n  {code}" in text[text.index("exit codes:") :], text
    assert "--json" in text


@pytest.mark.parametrize(
    "command, magic, left_out",
    [
        ("deploy", EndpointMagics.deploy, set()),
        ("invoke", EndpointMagics.invoke, {"--local"}),
        ("logs", EndpointMagics.logs, set()),
        ("traffic", EndpointMagics.traffic, set()),
        ("register", RegistryMagics.register, set()),
        ("package", PackagingMagics.package, set()),
        ("operation", OperationMagics.operation, set()),
    ],
)
def test_a_command_takes_the_flags_of_its_magic(command, magic, left_out):
    run = subprocess.run([str(JUPYTER), "modelhub", command, "--help"], capture_output=True, text=True, timeout=60)
    text = ok(run)
    flags = {flag for action in magic.parser._actions for flag in action.option_strings} - left_out
    assert flags and all(f" {flag}" in text for flag in flags), sorted(f for f in flags if f" {f}" not in text)
    assert all(f" {flag}" not in text for flag in left_out)
    assert "exit codes:" in text


def test_register_find_and_show_a_version_as_text_and_json(hub_server, churn, files):
    assert churn["ref"] == "churn:1" and churn["tags"] == {"team": "growth"}
    assert churn["signature"]["inputs"][0]["shape"] == [-1, 20], "--sample rows.csv recorded the signature"
    listed = as_json(cli(hub_server, "models", "team=growth", "--json"))
    assert [m["name"] for m in listed["models"]] == ["churn"]
    assert as_json(cli(hub_server, "models", "team=nobody", "--json"))["models"] == []
    assert as_json(cli(hub_server, "--json", "models", "team=growth")) == listed, "--json before the command too"
    text = ok(cli(hub_server, "show", "churn:1"))
    assert text.startswith("churn:1") and "team=growth" in text
    assert as_json(cli(hub_server, "show", "churn", "--json"))["name"] == "churn"
    tagged = as_json(cli(hub_server, "tag", "churn:1", "stage=dev", "--json"))
    assert tagged["tags"] == {"team": "growth", "stage": "dev"}
    ok(cli(hub_server, "alias", "churn:1", "production"))
    assert as_json(cli(hub_server, "show", "churn@production", "--json"))["version"] == 1
    out = files["folder"] / "downloaded"
    assert "sha256 verified" in ok(cli(hub_server, "download", "churn@production", "--to", out))
    assert (out / "model.joblib").read_bytes() == files["model"].read_bytes()


def test_convert_shows_a_line_per_step_on_stderr_and_the_proof_as_json(hub_server, churn):
    run = cli(hub_server, "convert", "churn:1", "--tolerance", "1e-3", "--json")
    result = as_json(run)  # stdout is the result alone, whatever the progress said
    assert result["version"]["ref"] == "churn:2" and result["equivalence"]["passed"] is True
    bars = [line for line in run.stderr.splitlines() if line.startswith("convert churn:1 [")]
    assert len(bars) >= 3 and bars[-1].startswith("convert churn:1 [" + "#" * 24 + "] succeeded"), run.stderr
    listed = as_json(cli(hub_server, "operations", "--kind", "convert", "--json"))["operations"]
    done = next(o for o in listed if o["subject"] == "churn:1")
    assert done["status"] == "succeeded"
    assert "converting to ONNX" in ok(cli(hub_server, "operation", done["id"], "--log"))
    assert "already succeeded" in failed(cli(hub_server, "operation", done["id"], "--cancel"), 1)
    assert as_json(cli(hub_server, "operation", done["id"], "--wait", "--json"))["status"] == "succeeded"


def test_progress_is_one_bar_redrawn_in_place_on_a_terminal(hub_server, files):
    ok(cli(hub_server, "register", "tty-model", files["model"]))
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(JUPYTER), "modelhub", "convert", "tty-model:1", "--tolerance", "1e-3", "--sample", files["rows"]],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=cli_env(hub_server),
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(60) == 0, seen
    text = seen.decode()
    bar = text[: text.index("succeeded")]
    assert bar.count("convert tty-model:1 [") >= 2 and "\r" in bar and "\n" not in bar.strip("\r\n"), (
        f"one line redrawn with carriage returns: {text!r}"
    )
    assert "tty-model:2 (onnx) from tty-model:1: equivalent" in text


class Lines:
    """Lines a child prints, read as they come with a deadline (no sleeps)."""

    def __init__(self, stream):
        self.stream, self.buffer = stream, b""

    def next(self, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.stream], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"no line within {timeout} s; so far {self.buffer!r}")
            chunk = os.read(self.stream.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"the stream ended; so far {self.buffer!r}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


def test_ctrl_c_stops_waiting_not_the_operation(hub_server, churn, tmp_path):
    """The operation must still run when Ctrl-C comes: a deploy whose environment build waits on a
    package index that does not answer (a conversion could finish before the signal)."""
    index = StallingIndex()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(index.requirements())
    process = subprocess.Popen(
        [str(JUPYTER), "modelhub", "deploy", "stalled-ep", "churn:1", "--requirements", str(requirements)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(hub_server),
    )
    try:
        assert Lines(process.stderr).next(60).startswith("deploy churn:1 to stalled-ep/blue ["), (
            "waiting, with progress"
        )
        assert index.asked.wait(60), "the build is under way"
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 130
    finally:
        process.kill()
        process.wait()
    said = process.stderr.read().decode().splitlines()
    assert said and said[-1].startswith("Stopped waiting; operation ") and "--cancel stops it" in said[-1], said
    number = int(said[-1].split()[3])
    assert as_json(cli(hub_server, "operation", number, "--json"))["status"] == "running", "the work goes on"
    cancelled = as_json(cli(hub_server, "operation", number, "--cancel", "--json"))
    assert cancelled["status"] == "cancelled"
    index.release.set()


def test_deploy_invoke_files_follow_logs_route_traffic_and_undeploy(hub_server, churn, files):
    endpoint = as_json(cli(hub_server, "deploy", "cli-ep", "churn:1", "--json"))
    assert endpoint["state"] == "healthy" and [d["name"] for d in endpoint["deployments"]] == ["blue"]
    assert "key" not in endpoint, "the key is not printed (it would end up in CI logs)"
    assert "cli-ep" in [e["name"] for e in as_json(cli(hub_server, "endpoints", "--json"))["endpoints"]]
    key = ok(cli(hub_server, "endpoint", "cli-ep", "--key")).strip()
    assert key not in ok(cli(hub_server, "endpoint", "cli-ep")), "shown masked"
    scored = requests.post(
        endpoint["url"] + "/score",
        json={"data": json.loads(files["request"].read_text())["data"]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert scored.status_code == 200, "the key a script exports as $MODELHUB_KEY opens the endpoint"

    assert labels(as_json(cli(hub_server, "invoke", "cli-ep", files["rows"], "--json"))) == files["predicted"]
    assert (
        labels(as_json(cli(hub_server, "invoke", "cli-ep", files["request"], "--json"))) == files["predicted_request"]
    )
    piped = cli(hub_server, "invoke", "cli-ep", "-", "--json", stdin=files["request"].read_text())
    assert labels(as_json(piped)) == files["predicted_request"]
    assert (
        as_json(cli(hub_server, "invoke", "cli-ep", files["rows"], "--protocol", "v2", "--json"))["model_name"]
        == "churn"
    )
    assert "answered 400" in failed(cli(hub_server, "invoke", "cli-ep", '{"data": [[1, 2]]}'), 1)
    assert as_json(cli(hub_server, "parity", "cli-ep", "--json"))["same"] is True, "this Python answers as the endpoint"

    client = hub_server.client()
    wait_until(lambda: '"POST /score" 200' in client.logs("cli-ep", "blue"), 10, "the access lines")
    lines = as_json(cli(hub_server, "logs", "cli-ep", "--tail", "20", "--json"))
    assert any('"POST /score" 200' in line for line in lines), lines

    following = subprocess.Popen(
        [str(JUPYTER), "modelhub", "logs", "cli-ep", "--follow", "--tail", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(hub_server),
    )
    try:
        stream = Lines(following.stdout)
        assert "POST" in stream.next(), "the last line first"
        client.invoke("cli-ep", json.loads(files["request"].read_text())["data"], protocol="mlflow")
        assert '"POST /invocations" 200' in stream.next(), "a line written after the command started"
        following.send_signal(signal.SIGINT)
        assert following.wait(20) == 130
        assert b"Traceback" not in following.stderr.read()
    finally:
        following.kill()
        following.wait()

    assert "unknown deployments green" in failed(cli(hub_server, "traffic", "cli-ep", "blue=50,green=50"), 1)
    both = as_json(
        cli(hub_server, "deploy", "cli-ep", "churn:1", "-d", "green", "--traffic", "blue=80,green=20", "--json")
    )
    assert both["traffic"] == {"blue": 80, "green": 20}
    assert as_json(cli(hub_server, "traffic", "cli-ep", "blue=100,green=0", "--json"))["traffic"]["blue"] == 100
    mirrored = as_json(cli(hub_server, "traffic", "cli-ep", "--mirror", "green=10", "--json"))
    assert mirrored["mirror"] == {"deployment": "green", "percent": 10}
    left = as_json(cli(hub_server, "undeploy", "cli-ep", "--deployment", "green", "--json"))
    assert [d["name"] for d in left["deployments"]] == ["blue"]
    ok(cli(hub_server, "undeploy", "cli-ep"))
    assert "No endpoint named 'cli-ep'" in failed(cli(hub_server, "endpoint", "cli-ep"), 1)


def test_package_writes_a_build_context_and_images_and_envs_list(hub_server, churn, files):
    context = hub_server.folder / "notebooks" / "cli-context"  # under the server's folders, as it requires
    built = as_json(cli(hub_server, "package", "churn:1", "--context", context, "--json"))
    assert built["context"] == str(context) and (context / "Dockerfile").is_file()
    assert "docker build" in built["command"]
    assert as_json(cli(hub_server, "images", "--json"))["images"] == []
    environments = as_json(cli(hub_server, "envs", "--json"))["environments"]
    assert environments and ok(cli(hub_server, "env", environments[0]["ref"])).startswith("environment ")


def test_bad_input_is_one_line_on_stderr_and_an_exit_code(hub_server, churn, files):
    bad_json = files["folder"] / "bad.json"
    bad_json.write_text("{not json")
    usage = [
        (["deploy"], "required: endpoint"),
        (["deploy", "some-ep"], "Give the model to deploy: NAME, NAME:VERSION or NAME@ALIAS"),
        (["models", "--bogus"], "unrecognized arguments: --bogus"),
        (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
        (["register", "x", "missing.onnx"], "No file or folder 'missing.onnx'"),
        (["register", "x", files["model"], "--tag", "novalue"], "Invalid --tag 'novalue': expected NAME=VALUE"),
        (["invoke", "cli-ep", "nofile.csv"], "is not a file"),
        (["invoke", "cli-ep", bad_json], "is not valid JSON"),
        (["traffic", "cli-ep", "blue=ninety"], "Invalid --traffic"),
        (["show", "churn:"], "Invalid version"),
        (["operations", "--limit", "0"], "--limit takes 1 to 500"),
        (["delete", "churn"], "Name a version (churn:3) or pass --all"),
    ]
    for args, message in usage:
        assert message in failed(cli(hub_server, *args), 2), args
    refused = [
        (["show", "nope:1"], "nope"),
        (["operation", "99999"], "99999"),
        (["alias", "churn@nope", "--delete"], "nope"),
        (["models", "--token", "wrong"], "check the token"),
    ]
    for args, message in refused:
        assert message in failed(cli(hub_server, *args), 1), args
    unreachable = cli(hub_server, "models", "--url", f"http://127.0.0.1:{free_port()}/")
    assert "Cannot reach the Model Hub server" in failed(unreachable, 3)


@pytest.mark.slow  # starts a standalone server from a fresh interpreter: make test, not make test-fast
def test_the_standalone_server_is_found_and_stopped_from_the_shell(tmp_path):
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
    }
    for key in ("MODELHUB_URL", "MODELHUB_TOKEN"):
        env.pop(key, None)
    run = lambda *args: subprocess.run(
        [str(JUPYTER), "modelhub", *args],
        capture_output=True,
        text=True,  # noqa: E731
        env=env,
        timeout=120,
    )
    assert as_json(run("stop", "--json")) == {"stopped": False, "message": "No standalone Model Hub server is running."}
    try:
        assert as_json(run("models", "--json"))["models"] == [], "the first command starts the standalone server"
        info = json.loads((tmp_path / "runtime" / "modelhub-server.json").read_text())
        stopped = as_json(run("stop", "--json"))
        assert stopped["stopped"] is True and stopped["pid"] == info["pid"]
        wait_until(lambda: not Path(f"/proc/{info['pid']}").exists(), 30, "the server to exit")
    finally:
        run("stop")
