"""Online endpoints from the shell: ``deploy``, ``endpoints``, ``endpoint``, ``invoke``, ``logs``,
``traffic``, ``undeploy``, with the flags of the endpoint magics. ``invoke`` sends a JSON or CSV
file (or JSON text, or ``-`` for JSON on stdin) where ``%invoke`` takes a Python expression."""

from __future__ import annotations

import argparse

from ..display import Operation
from ..magics.collection import CollectedTable, CollectionMagics, collect_change
from ..magics.endpoints import EndpointMagics, deploy_options, traffic_change
from .base import REFUSED, CommandError, Commands, follow, hub, log_lines, read_data, show, wait


def deploy(args: argparse.Namespace) -> None:
    client = hub(args)
    answer = client.deploy(args.endpoint, args.model, **deploy_options(args))
    if isinstance(answer, Operation) and not args.no_wait:
        wait(answer, f"deploy {args.model} to {args.endpoint}/{args.deployment}")
        answer = client.deployed(answer)
    show(args, answer)


def endpoints(args: argparse.Namespace) -> None:
    show(args, hub(args).endpoints())


def endpoint(args: argparse.Namespace) -> None:
    found = hub(args).endpoint(args.endpoint)
    if args.key:  # for `export MODELHUB_KEY=$(jupyter modelhub endpoint NAME --key)`, which the examples read
        if found.key is None:
            raise CommandError(f"Endpoint {args.endpoint!r} has no key: it was deployed with --auth none.", REFUSED)
        return show(args, {"key": found.key} if args.json else found.key)
    show(args, found)


def invoke(args: argparse.Namespace) -> None:
    data = read_data(args.payload, "The payload")
    answer = hub(args).invoke(args.endpoint, data, protocol=args.protocol, deployment=args.deployment)
    show(args, answer if args.json else _answer_text(answer))


def _answer_text(answer) -> str:
    import json

    return answer if isinstance(answer, str) else json.dumps(answer, indent=2)


def logs(args: argparse.Namespace) -> None:
    client = hub(args)
    if args.follow:
        return follow(client.follow_logs(args.endpoint, args.deployment, args.tail), args.json)
    log_lines(client.logs(args.endpoint, args.deployment, args.tail), args.json)


def traffic(args: argparse.Namespace) -> None:
    client = hub(args)
    if args.rollback:
        return show(args, client.rollback_traffic(args.endpoint))
    split, mirror = traffic_change(args)
    show(
        args,
        client.endpoint(args.endpoint)
        if split is None and mirror is None
        else client.set_traffic(args.endpoint, split, mirror),
    )


def collect(args: argparse.Namespace) -> None:
    change, client = collect_change(args), hub(args)
    show(args, client.collect(args.endpoint, **change) if change else client.endpoint(args.endpoint).get("collect"))


def collected(args: argparse.Namespace) -> None:
    frame = hub(args).collected(args.endpoint, since=args.since, until=args.until, limit=args.limit)
    if args.json:
        from ..monitoring.collected import records

        return show(args, records(frame, len(frame))[0])
    show(args, CollectedTable(args.endpoint, frame))


def undeploy(args: argparse.Namespace) -> None:
    show(args, hub(args).undeploy(args.endpoint, args.deployment, force=args.force))


def add_commands(commands: Commands) -> None:
    magics = EndpointMagics
    commands.add(
        "deploy",
        deploy,
        "deploy a model as a local online endpoint: deploy churn-ep churn@production",
        magic=magics.deploy,
    )
    commands.add("endpoints", endpoints, "list endpoints with their state, URL, deployments and traffic")
    p = commands.add(
        "endpoint", endpoint, "one endpoint: state, URL, deployments, a ready-to-paste call", magic=magics.endpoint
    )
    p.add_argument("--key", action="store_true", help="print only its key (shown masked otherwise)")
    commands.add(
        "invoke",
        invoke,
        "score data on an endpoint: invoke churn-ep rows.csv",
        magic=magics.invoke,
        drop=("--local",),
        change={"payload": {"nargs": None, "help": "a .json or .csv file, JSON text, or - for JSON on stdin"}},
    )
    commands.add("logs", logs, "a deployment's log; --follow streams it until Ctrl-C", magic=magics.logs)
    commands.add(
        "traffic", traffic, "split traffic between deployments: traffic churn-ep blue=90,green=10", magic=magics.traffic
    )
    commands.add(
        "collect",
        collect,
        "payload collection on a live endpoint: collect churn-ep on --sample-rate 0.1, collect churn-ep off",
        magic=CollectionMagics.collect,
    )
    commands.add(
        "collected",
        collected,
        "an endpoint's collected requests: collected churn-ep --since 1h",
        magic=CollectionMagics.collected,
    )
    commands.add("undeploy", undeploy, "stop and delete an endpoint, or one of its deployments", magic=magics.undeploy)
