"""Helpers of the operation tests: a package index that never answers (so an environment build
runs until cancelled), and a look at the processes an operation left behind."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from helpers.servers import ServerProcess


def processes_in_group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def worker_pid(server: ServerProcess, operation_id: int) -> int | None:
    """The live worker of an operation: started for it, or the standby worker it was handed to."""
    claim = server.root / "operations" / str(operation_id) / "standby.pid"
    if claim.exists():
        pid = int(claim.read_text())
        return pid if Path(f"/proc/{pid}").exists() else None
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if f"--operation={operation_id}".encode() in words and str(server.root).encode() in words:
            return int(cmdline.parent.name)
    return None


def standby_pid(log: Path) -> int | None:
    """The pid of the last standby worker that said it is ready (in ``log``, the runner's
    standby log), if it still waits for a job."""
    try:
        lines = [line for line in log.read_text().splitlines() if "standby worker" in line and "ready" in line]
    except OSError:
        return None
    pid = int(lines[-1].split("standby worker ")[1].split()[0]) if lines else None
    claimed = {int(claim.read_text()) for claim in log.parent.glob("*/standby.pid")}
    return pid if pid and pid not in claimed and _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def environments(server: ServerProcess) -> list[str]:
    return sorted(p.name for p in (server.root / "envs").iterdir() if p.is_dir() and ".partial-" not in p.name)


class StallingIndex:
    """A package index on 127.0.0.1 that never answers until released: an environment build
    pointed at it is running (uv waits on it) for as long as a test needs to cancel it."""

    def __init__(self):
        self.release = threading.Event()
        self.asked = threading.Event()
        stall = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stall.asked.set()
                stall.release.wait(120)
                self.send_error(404)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the client (uv) gave up or was killed: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def requirements(self, *packages: str) -> str:
        """A requirements file that installs ``packages`` (six by default) from this index."""
        return "\n".join([f"--index-url {self.url}", *(packages or ["six==1.16.0"])]) + "\n"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "StallingIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
