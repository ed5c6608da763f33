"""``jupyter modelhub storage migrate s3://BUCKET/PREFIX``: copy a local registry's files to a
bucket, so that servers with no shared disk can use it (``c.ModelHubApp.artifact_uri``).

Unlike the other commands it is not a client of the REST API: it reads the root folder's files
(``--root``, or the root of the server at ``--url``/``$MODELHUB_URL``, or the default root) and writes the bucket, verifying each file, and
never changes the local files or the database. A server may keep running on the local folder
meanwhile; switch its ``artifact_uri`` (the line this prints) and restart it once the copy is done.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .base import REFUSED, USAGE, CommandError, Commands, Parser


def default_root() -> str:
    from jupyter_core.paths import jupyter_data_dir

    return os.path.join(jupyter_data_dir(), "modelhub")


def server_root(url: str, token: str | None) -> str:
    """The root_dir of the server at ``url`` (this machine's: the files are read from its disk)."""
    from ..client.discovery import connect

    return connect(url, token).info()["root_dir"]


def migrate(args: argparse.Namespace) -> None:
    from ..store.artifacts import is_remote_uri
    from ..store.artifacts.migrate import migrate as copy_versions
    from ..store.artifacts.s3 import S3ArtifactStore

    if not is_remote_uri(args.target):
        raise CommandError(f"Expected s3://BUCKET/PREFIX as the target, got {args.target!r}.", USAGE)
    url = args.url or os.environ.get("MODELHUB_URL")
    root = Path(
        args.root or (server_root(url, args.token or os.environ.get("MODELHUB_TOKEN")) if url else default_root())
    )
    root = root.expanduser()
    if not (root / "artifacts").is_dir():
        raise CommandError(f"No artifacts folder in {root}: give the server's root_dir with --root.", USAGE)
    try:
        options = json.loads(args.storage_options) if args.storage_options else {}
    except ValueError:
        raise CommandError(
            '--storage-options must be a JSON object, e.g. \'{"endpoint_url": "http://..."}\'.'
        ) from None
    if not isinstance(options, dict):
        raise CommandError('--storage-options must be a JSON object, e.g. \'{"endpoint_url": "http://..."}\'.')
    try:
        store = S3ArtifactStore(root, args.target, storage_options=options, cache_dir=root / "cache")
    except ModuleNotFoundError as exc:
        raise CommandError(str(exc), USAGE) from None
    progress = sys.stderr if args.json else sys.stdout
    outcome = copy_versions(root / "artifacts", store, lambda line: print(line, file=progress, flush=True))
    summary = outcome.as_dict()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{outcome.versions} versions are in {outcome.target} ({outcome.skipped_versions} were already; "
            f"{outcome.uploaded_files} files uploaded, {outcome.uploaded_bytes} bytes; "
            f"{outcome.present_files} files already there, verified). Local files are unchanged."
        )
    if outcome.damaged:
        raise CommandError(
            f"{len(outcome.damaged)} versions were not copied because their local files do not match their "
            f"manifest: {', '.join(outcome.damaged)}. Restore them and run the command again.",
            REFUSED,
        )
    if not args.json:
        print(f"Then set, and restart the server(s):\n  {summary['config']}")


def add_commands(commands: Commands) -> None:
    p = commands.add("storage", None, "move the registry's files to a bucket (storage migrate)", common=False)
    sub = p.add_subparsers(dest="storage_command", metavar="ACTION", required=True, parser_class=Parser)
    m = sub.add_parser(
        "migrate",
        prog="jupyter modelhub storage migrate",
        description="Copy every version's files and manifest from a local root to s3://BUCKET/PREFIX, "
        "verifying each file; idempotent and resumable; never deletes local files. The endpoint and "
        "credentials come from the AWS environment variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY), ~/.aws, or --storage-options.",
    )
    m.add_argument("target", metavar="s3://BUCKET/PREFIX", help="where the server's artifact_uri will point")
    m.add_argument(
        "--root",
        help=f"the server's root_dir (default: that of the server at --url or $MODELHUB_URL, else {default_root()})",
    )
    m.add_argument("--url", help="a Model Hub server on this machine whose root_dir to migrate")
    m.add_argument("--token", help="its token (default: $MODELHUB_TOKEN)")
    m.add_argument("--storage-options", help="s3fs options as JSON, as c.ModelHubApp.storage_options")
    m.add_argument("--json", action="store_true", help="print the summary as JSON (progress goes to stderr)")
    m.set_defaults(run=migrate)
