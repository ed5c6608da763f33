"""The warm process that test Jupyter servers are forked from (run as a script by ``forked``).

It imports Jupyter Server, JupyterLab, the server extensions installed beside them and
``jupyter_modelhub`` once, then forks a server for each request it reads on stdin, one JSON line
``{"argv": [...], "env": {...}, "cwd": "...", "log": "..."}``; it answers ``{"started": PID}`` and,
when a server ends, ``{"exited": PID, "code": RETURNCODE}`` (negative for a signal, as
``subprocess.Popen.returncode``). Each server is a real, separate process: its own pid,
environment, arguments, log and ports; only the import work is shared.

Single-threaded on purpose: a fork copies only the calling thread, so a thread holding a lock
here would leave the child deadlocked.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import sys
import traceback

# What every test server imports before it can answer: the applications and the enabled server
# extensions (jupyter_server imports each extension's module while it starts).
PRELOAD = (
    "jupyter_server.serverapp",
    "jupyterlab.labapp",
    "jupyter_lsp",
    "jupyter_server_terminals",
    "notebook_shim",
    "jupyter_modelhub.app",
)
MAINS = {"server": ("jupyter_server.serverapp", "launch_new_instance"), "lab": ("jupyterlab.labapp", "main")}


def serve_forever() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # an extension not installed here is simply not preloaded
    out = sys.stdout
    say = lambda message: (out.write(json.dumps(message) + "\n"), out.flush())  # noqa: E731
    say({"ready": os.getpid()})
    pending = b""
    while True:
        readable, _, _ = select.select([sys.stdin.fileno()], [], [], 0.05)
        if readable:
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                return  # the test session ended; servers still running are its to stop
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                say({"started": start(json.loads(line))})
        reap(say)


def reap(say) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        say({"exited": pid, "code": os.waitstatus_to_exitcode(status)})


def start(request: dict) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        run_server(request)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def run_server(request: dict) -> None:
    """In the child: become the server a ``python -m jupyter_server ARGS`` would have been."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    # new stream objects: the zygote's own may hold a buffer lock copied mid-write
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.path.insert(0, request["cwd"])  # as ``python -m`` puts it
    sys.argv = request["argv"]
    module, function = MAINS[request["app"]]
    getattr(importlib.import_module(module), function)()


if __name__ == "__main__":
    serve_forever()
