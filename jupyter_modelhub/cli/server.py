"""``jupyter modelhub serve`` and ``stop``: the standalone server, which runs the extension
without JupyterLab on 127.0.0.1 (kernels outside Jupyter start it on demand, and find it in the
runtime folder's record)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal

from ..client.discovery import info_file
from .base import Commands, show


def serve(args: argparse.Namespace) -> None:
    from ..app import ModelHubApp

    ModelHubApp.load_other_extensions = False  # a registry server, not a notebook server
    argv = [
        f"--ServerApp.ip={args.ip}",
        f"--ServerApp.port={args.port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--IdentityProvider.token={secrets.token_urlsafe(32)}",
        f"--ModelHubApp.info_file={args.info_file}",
    ]
    if os.geteuid() == 0:
        argv.append("--ServerApp.allow_root=True")  # containers and CI run as root
    if args.root_dir:
        argv.append(f"--ModelHubApp.root_dir={args.root_dir}")
    if args.db_url:
        argv.append(f"--ModelHubApp.db_url={args.db_url}")
    ModelHubApp.launch_instance(argv=argv)


def stop(args: argparse.Namespace) -> None:
    try:
        info = json.loads(info_file().read_text())
    except (OSError, ValueError):
        return _said(args, {"stopped": False, "message": "No standalone Model Hub server is running."})
    try:
        os.kill(info["pid"], signal.SIGTERM)
    except ProcessLookupError:
        info_file().unlink(missing_ok=True)
        return _said(args, {"stopped": False, "message": "The recorded server was not running; removed its record."})
    _said(
        args,
        {
            "stopped": True,
            "url": info["url"],
            "pid": info["pid"],
            "message": f"Stopped the Model Hub server at {info['url']} (pid {info['pid']}).",
        },
    )


def _said(args: argparse.Namespace, outcome: dict) -> None:
    show(args, outcome if args.json else outcome["message"])


def add_commands(commands: Commands) -> None:
    p = commands.add("serve", serve, "run a standalone Model Hub server (in the foreground)", common=False)
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--info-file", default=str(info_file()), help="where to record its URL, token and pid")
    p.add_argument("--root-dir", help="the registry's folder (default <jupyter data dir>/modelhub)")
    p.add_argument("--db-url", help="a SQLAlchemy URL, e.g. postgresql://... (default SQLite in the root)")

    p = commands.add("stop", stop, "stop the standalone server", common=False)
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the outcome as JSON")
