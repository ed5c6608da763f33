"""``jupyter modelhub``: the standalone server and a few registry commands for the shell.

``serve`` runs the extension without JupyterLab on 127.0.0.1 (kernels outside Jupyter start it
on demand); the other commands are thin clients like the magics.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys

from .client.discovery import connect, info_file
from .errors import ModelHubError


def serve(args: argparse.Namespace) -> None:
    from .app import ModelHubApp

    ModelHubApp.load_other_extensions = False  # a registry server, not a notebook server
    argv = [
        f"--ServerApp.ip={args.ip}", f"--ServerApp.port={args.port}", "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False", f"--IdentityProvider.token={secrets.token_urlsafe(32)}",
        f"--ModelHubApp.info_file={args.info_file}",
    ]
    if os.geteuid() == 0:
        argv.append("--ServerApp.allow_root=True")  # containers and CI run as root
    if args.root_dir:
        argv.append(f"--ModelHubApp.root_dir={args.root_dir}")
    if args.db_url:
        argv.append(f"--ModelHubApp.db_url={args.db_url}")
    ModelHubApp.launch_instance(argv=argv)


def stop(_args: argparse.Namespace) -> None:
    try:
        info = json.loads(info_file().read_text())
    except (OSError, ValueError):
        print("No standalone Model Hub server is running.")
        return
    try:
        os.kill(info["pid"], signal.SIGTERM)
        print(f"Stopped the Model Hub server at {info['url']} (pid {info['pid']}).")
    except ProcessLookupError:
        info_file().unlink(missing_ok=True)
        print("The recorded server was not running; removed its record.")


def models(args: argparse.Namespace) -> None:
    print(connect().models(filter=" ".join(args.filter), q=args.name or "", flavor=args.flavor).text())


def show(args: argparse.Namespace) -> None:
    hub = connect()
    print((hub.version(args.ref) if ":" in args.ref or "@" in args.ref else hub.model(args.ref)).text())


def download(args: argparse.Namespace) -> None:
    print(connect().download(args.ref, to=args.to, path=args.path).text())


def register(args: argparse.Namespace) -> None:
    tags = dict(t.split("=", 1) for t in args.tag)
    print(connect().register(args.name, args.paths, tags=tags, description=args.description,
                             flavor=args.flavor, new_version=args.new_version).text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="jupyter modelhub", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run a standalone Model Hub server")
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--info-file", default=str(info_file()))
    p.add_argument("--root-dir")
    p.add_argument("--db-url")
    p.set_defaults(func=serve)

    commands.add_parser("stop", help="stop the standalone server").set_defaults(func=stop)

    p = commands.add_parser("models", help="list models; FILTER as in %%models (team=growth ...)")
    p.add_argument("filter", nargs="*")
    p.add_argument("--name")
    p.add_argument("--flavor")
    p.set_defaults(func=models)

    p = commands.add_parser("show", help="a model (NAME) or a version (NAME:V, NAME@ALIAS)")
    p.add_argument("ref")
    p.set_defaults(func=show)

    p = commands.add_parser("register", help="register files or folders as a new version")
    p.add_argument("name")
    p.add_argument("paths", nargs="+")
    p.add_argument("--tag", action="append", default=[], help="NAME=VALUE (repeatable)")
    p.add_argument("--description", default="")
    p.add_argument("--flavor")
    p.add_argument("--new-version", action="store_true")
    p.set_defaults(func=register)

    p = commands.add_parser("download", help="download a version's files")
    p.add_argument("ref")
    p.add_argument("--to", default=".")
    p.add_argument("--path")
    p.set_defaults(func=download)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except ModelHubError as exc:
        sys.exit(f"error: {exc.message}")


if __name__ == "__main__":
    main()
