"""The magics where only a real kernel or process shows the behaviour: a kernel started by a
Jupyter server finds it (token or password auth) and records its notebook from its session,
after a rename too; a plain IPython process finds or starts a standalone server by itself.
(Everything else the magics do: in_process/, on an in-process shell.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers.kernels import TRAIN, Kernel
from helpers.servers import ServerProcess


def test_kernels_of_a_password_protected_server_still_connect(tmp_path):
    server = ServerProcess(tmp_path, password="secret")
    try:
        k = Kernel(server)
        out = k.run("import jupyter_modelhub\njupyter_modelhub.connect().models().text()")
        assert not out["error"] and "No models match" in out["text"], out
        k.stop()
    finally:
        server.stop()


def test_plain_ipython_starts_then_reuses_a_standalone_server(tmp_path):
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    for key in ("MODELHUB_URL", "MODELHUB_TOKEN"):
        env.pop(key, None)
    script = (
        "from IPython.testing.globalipapp import start_ipython\nip = start_ipython()\n"
        "ip.run_cell('%load_ext jupyter_modelhub')\n"
        "open('m.onnx','wb').write(b'x')\n"
        "print(ip.run_cell('%register standalone m.onnx').result.text())\n"
    )
    try:
        first = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert "standalone:1" in first.stdout, first.stderr
        info = json.loads((tmp_path / "runtime" / "modelhub-server.json").read_text())
        second = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert "identical to an existing version" in second.stdout, second.stderr
        assert json.loads((tmp_path / "runtime" / "modelhub-server.json").read_text())["pid"] == info["pid"]
        assert (tmp_path / "data" / "modelhub" / "registry.db").exists()
    finally:
        stopped = subprocess.run(
            [sys.executable, "-m", "jupyter_modelhub.cli", "stop"], env=env, capture_output=True, text=True
        )
    assert "Stopped" in stopped.stdout


def test_a_kernel_finds_its_server_and_records_its_notebook_after_a_rename(hub_server):
    k = Kernel(hub_server, "before-rename.ipynb")
    try:
        k.run("%load_ext jupyter_modelhub\n" + TRAIN)
        assert not k.run("%register renamed clf")["error"]
        assert hub_server.client().version("renamed:1")["source_notebook"].endswith("notebooks/before-rename.ipynb")
        k.rename("after-rename.ipynb")
        assert not k.run("%register renamed clf --new-version")["error"]
        assert hub_server.client().version("renamed:2")["source_notebook"].endswith("notebooks/after-rename.ipynb")
    finally:
        k.stop()
