"""Run a demo notebook headless (``make demo``), print what each step did, and leave nothing running.

The demo gets a Model Hub server of its own: a standalone server on 127.0.0.1 whose registry is
``notebooks/output/hub/`` (fresh on every run, so the version numbers the notebook talks about
hold), unless ``MODELHUB_URL`` names a server to use instead. The notebook runs with papermill
in ``notebooks/output/``; every code cell's first line is printed with what it showed and how
long it took. Afterwards the endpoints the demo deployed are removed and the server it started
is stopped; anything of the demo that still runs is named with the command that stops it.
``--keep-server`` leaves the server (and the endpoints) running to explore, and says how to
stop it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


class DemoServer:
    """The standalone server the demo starts (and stops) in its own session."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.info_file = folder / "server.json"
        self.process: subprocess.Popen | None = None
        self.url = self.token = ""

    def stop_leftover(self) -> None:
        """A server a previous ``--keep-server`` demo left on this folder: stopped before its files go."""
        try:
            pid = json.loads(self.info_file.read_text())["pid"]
        except (OSError, ValueError, KeyError):
            return
        if _owns(pid, self.folder):
            print(f"Stopping the previous demo's server (pid {pid}).")
            _terminate(pid)

    def start(self) -> None:
        self.folder.mkdir(parents=True)
        log = open(self.folder / "server.log", "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_modelhub.cli",
                "serve",
                "--info-file",
                str(self.info_file),
                "--root-dir",
                str(self.folder / "registry"),
            ],
            cwd=self.folder.parent,  # its root: where the notebook runs (--context, entry scripts)
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"The demo's Model Hub server exited at start; see {log.name}.")
            if self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"The demo's Model Hub server did not start within {START_TIMEOUT:.0f} s; see {log.name}.")

    def _answers(self) -> bool:
        try:
            info = json.loads(self.info_file.read_text())
            response = requests.get(
                info["url"] + "modelhub/api/info", timeout=5, headers={"Authorization": f"token {info['token']}"}
            )
        except (OSError, ValueError, KeyError, requests.RequestException):
            return False
        self.url, self.token = info["url"], info["token"]
        return response.ok

    def stop(self) -> None:
        """SIGTERM (the server stops its endpoints as it goes), then the whole session if it lingers."""
        if self.process is not None and self.process.poll() is None:
            _terminate(self.process.pid)
            self.process.wait()


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.1)
    if _running(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _owns(pid: int, folder: Path) -> bool:
    """True if ``pid`` is a live process working on ``folder`` (a recycled pid is not ours)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return _running(pid) and str(folder).encode() in cmdline


def processes_using(folder: Path) -> list[tuple[int, str]]:
    """Live processes whose command line names ``folder`` (the server, endpoint hosts, scorers)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid != os.getpid() and _owns(pid, folder):
            words = (entry / "cmdline").read_bytes().split(b"\0")
            found.append((pid, " ".join(w.decode(errors="replace") for w in words if w)[:120]))
    return found


def print_steps(notebook) -> None:
    """Each code cell's first line, what it printed or showed (a few lines), and its time."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        seconds = cell.get("metadata", {}).get("papermill", {}).get("duration")
        took = f"  [{seconds:.1f} s]" if isinstance(seconds, (int, float)) else ""
        print(f">>> {cell.source.strip().splitlines()[0]}{took}")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                text = f"{output.get('ename')}: {output.get('evalue')}"
            else:
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
            lines = str(text).rstrip().splitlines()
            for line in lines[:12]:
                print(f"    {line}")
            if len(lines) > 12:
                print(f"    ... ({len(lines) - 12} more lines in the executed notebook)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", nargs="?", default=str(Path(__file__).with_name("01-quickstart.ipynb")))
    parser.add_argument(
        "--keep-server",
        action="store_true",
        help="leave the demo's server and endpoints running (it says how to stop them)",
    )
    args = parser.parse_args(argv)

    import papermill

    import jupyter_modelhub

    source = Path(args.notebook).resolve()
    output_dir = source.parent / "output"
    output_dir.mkdir(exist_ok=True)
    server = None
    if os.environ.get("MODELHUB_URL"):
        print(f"Using the Model Hub server at {os.environ['MODELHUB_URL']} (MODELHUB_URL); it keeps running.")
    else:
        server = DemoServer(output_dir / "hub")
        server.stop_leftover()
        shutil.rmtree(server.folder, ignore_errors=True)
        server.start()
        os.environ.update(MODELHUB_URL=server.url, MODELHUB_TOKEN=server.token)  # the notebook's kernel inherits them
        print(
            f"Started a Model Hub server for the demo at {server.url} (pid {server.process.pid}), "
            f"registry in {server.folder / 'registry'}"
        )
    hub = jupyter_modelhub.connect(os.environ["MODELHUB_URL"], os.environ.get("MODELHUB_TOKEN"))
    endpoints_before = {e["name"] for e in hub.endpoints()}
    status = 0
    started = time.perf_counter()
    print(f"Running {source.name}...\n")
    try:
        executed = papermill.execute_notebook(
            str(source), str(output_dir / source.name), cwd=str(output_dir), progress_bar=False, kernel_name="python3"
        )
    except papermill.PapermillExecutionError as failure:
        import nbformat

        executed = nbformat.read(output_dir / source.name, as_version=4)
        print_steps(executed)
        print(f"\nThe demo stopped at cell {failure.exec_count}: {failure.ename}: {failure.evalue}")
        status = 1
    else:
        print_steps(executed)
        print(
            f"\n{source.name} ran in {time.perf_counter() - started:.0f} s; executed notebook: "
            f"{output_dir / source.name}"
        )
    finally:
        status = _clean_up(hub, endpoints_before, server, args.keep_server) or status
    return status


def _clean_up(hub, endpoints_before: set[str], server: DemoServer | None, keep: bool) -> int:
    """Remove what the demo deployed, stop what it started; say what still runs and how to stop it."""
    if keep and server is not None:
        print(
            f"\nThe demo's server still runs at {server.url} (pid {server.process.pid}) with its endpoints: "
            f"stop it with `kill {server.process.pid}` (or run make demo again, which stops it first)."
        )
        return 0
    deployed = sorted({e["name"] for e in hub.endpoints()} - endpoints_before)
    for name in deployed:
        hub.undeploy(name)
    if deployed:
        print(f"\nRemoved the endpoints the demo deployed: {', '.join(deployed)}.")
    if server is None:
        return 0
    server.stop()
    left = processes_using(server.folder)
    if left:
        print("Still running after the demo (stop them with the command shown):")
        for pid, command in left:
            print(f"    kill {pid}    # {command}")
        return 1
    print(f"Stopped the demo's server (pid {server.process.pid}); nothing of the demo is left running.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
