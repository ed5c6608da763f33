"""The magics of online endpoints: ``%deploy``, ``%endpoints``, ``%endpoint``, ``%invoke``,
``%logs``, ``%traffic``, ``%undeploy``.

Like the registry magics: parse, call the client, return a result object; errors are one line.
A deploy that builds an environment is an operation, shown with a progress bar.
``%invoke --local`` is the exception that runs code here: it calls the entry script's ``init()``
and ``run()`` inside the kernel, so a failing script's traceback and breakpoints are in the
notebook.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..client.invoking import request_for
from ..display import Operation
from ..display.endpoints import Prediction
from .base import ModelHubMagics


def parse_split(text: str, what: str = "--traffic") -> dict[str, int]:
    """``blue=90,green=10`` -> {"blue": 90, "green": 10}."""
    split = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not value.strip().isdigit():
            raise UsageError(f"Invalid {what} {text!r}: expected NAME=PERCENT pairs such as blue=90,green=10.")
        split[name.strip()] = int(value)
    return split


def deploy_options(args) -> dict:
    """What %deploy's (and the CLI's) arguments ask ``ModelHubClient.deploy`` for, not waiting."""
    options = {
        k: v
        for k, v in {
            "max_batch_size": args.max_batch_size,
            "max_batch_wait_ms": args.max_batch_wait_ms,
            "cpu": args.cpu,
            "memory": args.memory,
            "max_instances": args.max_instances,
            "kube_context": args.kube_context,
            "namespace": args.namespace,
            "image": args.image,
        }.items()
        if v is not None
    }
    if args.target != "process":
        options.update(target=args.target, gpu=args.gpu, kserve=args.kserve)
    return {
        "deployment": args.deployment,
        "entry_script": args.entry_script,
        "reload": args.reload,
        "env": args.env,
        "requirements": args.requirements,
        "instances": args.instances,
        "auth": args.auth,
        "port": args.port,
        "traffic": parse_split(args.traffic) if args.traffic else None,
        "wait": False,
        "allow_contract_change": args.allow_contract_change,
        **({"optimize": True} if args.optimize else {}),
        **multi_options(args),
        **collection_options(args),
        **options,
    }


def multi_options(args) -> dict:
    """The multi-model fields of %deploy's (and the CLI's) arguments."""
    if not getattr(args, "multi", False):
        if getattr(args, "models", None) or getattr(args, "memory_budget", None):
            raise UsageError("--models and --memory-budget apply with --multi (many versions on one deployment).")
        if args.model is None:
            raise UsageError("Give the model to deploy: NAME, NAME:VERSION or NAME@ALIAS (or --multi --models ...).")
        return {}
    models = [m.strip() for m in (args.models or "").split(",") if m.strip()]
    if args.model is None and not models:
        raise UsageError("--multi needs the models to serve: --models churn,fraud:2 (a NAME alone: all its versions).")
    options = {"multi": True, "models": models}
    if args.memory_budget:
        options["memory_budget"] = args.memory_budget
    return options


def collection_options(args) -> dict:
    """The payload collection fields of %deploy's, %collect's (and the CLI's) arguments."""
    options = {
        "sample_rate": args.sample_rate,
        "collect_retention": args.collect_retention,
        "collect_max_bytes": args.collect_max_bytes,
    }
    if getattr(args, "collect", None) is not None:
        options["collect"] = what_to_collect(args.collect)
    return {k: v for k, v in options.items() if v is not None}


def what_to_collect(text: str) -> list[str]:
    what = [part.strip() for part in text.split(",") if part.strip()]
    if not what or any(w not in ("requests", "responses") for w in what):
        raise UsageError(f"Invalid --collect {text!r}: expected requests, responses or requests,responses.")
    return what


def traffic_change(args) -> tuple[dict | None, dict | None]:
    """The split and mirror that %traffic's (and the CLI's) arguments ask for; None: unchanged."""
    mirror = None
    if args.no_mirror:
        mirror = {}
    elif args.mirror:
        pairs = parse_split(args.mirror, "--mirror")
        if len(pairs) != 1:
            raise UsageError("--mirror takes one deployment and a percentage, e.g. --mirror green=10.")
        ((target, percent),) = pairs.items()
        mirror = {"deployment": target, "percent": percent}
    return (parse_split(args.split) if args.split else None), mirror


@magics_class
class EndpointMagics(ModelHubMagics):
    """Deploy, call, watch, route and remove local online endpoints."""

    @magic_arguments()
    @argument("endpoint", help="endpoint name (letters, digits, '_', '-')")
    @argument(
        "model",
        nargs="?",
        help="NAME, NAME:VERSION or NAME@ALIAS (an alias is resolved now and recorded); with --multi, optional",
    )
    @argument("--deployment", "-d", default="blue", help="deployment name (default blue)")
    @argument("--entry-script", help="an Azure-style score.py with init() and run(raw_data)")
    @argument("--env", help="an environment NAME or NAME:VERSION (see %%envs) to run in (a venv built with uv, cached)")
    @argument("--requirements", "-r", help="a requirements file: run in the environment made of it (or reused)")
    @argument("--instances", type=int, help="worker processes sharing the deployment's port")
    @argument("--traffic", help="split after deploying, e.g. blue=90,green=10")
    @argument("--auth", choices=["key", "none"], default="key", help="key auth (default) or none")
    @argument("--port", type=int, help="the endpoint's port (a free one by default)")
    @argument("--reload", action="store_true", help="restart the deployment when the entry script changes")
    @argument("--max-batch-size", type=int, help="adaptive batching: most requests scored in one call")
    @argument("--max-batch-wait-ms", type=float, help="adaptive batching: longest wait for a batch to fill")
    @argument(
        "--target",
        choices=["process", "docker", "kubernetes"],
        default="process",
        help="process (default), docker: a container of the model's image, kubernetes: manifests for it",
    )
    @argument("--cpu", type=float, help="docker, kubernetes: CPU cores")
    @argument("--memory", help="docker, kubernetes: memory, e.g. 512M")
    @argument("--max-instances", type=int, help="kubernetes: autoscale up to this many")
    @argument("--gpu", action="store_true", help="docker, kubernetes: request a GPU")
    @argument("--kserve", action="store_true", help="kubernetes: a KServe InferenceService instead")
    @argument("--kube-context", help="kubernetes: apply the manifests with this kubeconfig context")
    @argument("--namespace", help="kubernetes: namespace (default 'default')")
    @argument("--image", help="docker, kubernetes: deploy this image instead of packaging the model")
    @argument(
        "--optimize",
        action="store_true",
        help="a scikit-learn version: serve its ONNX form, converted now if need be, when its equivalence proof passes",
    )
    @argument(
        "--collect",
        nargs="?",
        const="requests,responses",
        help="record sampled requests and answers (requests,responses by default; see %%collected)",
    )
    @argument("--sample-rate", type=float, help="payload collection: the share of requests recorded, e.g. 0.1")
    @argument("--collect-retention", help="payload collection: delete records older than this, e.g. 7d (default)")
    @argument("--collect-max-bytes", help="payload collection: keep at most this much, e.g. 1GB (default)")
    @argument(
        "--multi",
        action="store_true",
        help="many versions in one runtime: the model and --models (a bare NAME: all its versions now; NAME:V, "
        "NAME@ALIAS: that one); each loads on its first request, the least recently used unload to stay within "
        "--memory-budget; call /v2/models/NAME[/versions/V]/infer; POST /v2/repository/index lists them",
    )
    @argument("--models", help="with --multi: the models or versions to serve, e.g. churn,fraud:2,risk@production")
    @argument("--memory-budget", help="with --multi: memory the loaded versions may take, e.g. 512M or 1G (default 1G)")
    @argument("--no-wait", action="store_true", help="when an environment must be built, return that operation at once")
    @argument(
        "--allow-contract-change",
        action="store_true",
        help="deploy even if the model's inputs or outputs differ from what the endpoint answers now",
    )
    @line_magic
    def deploy(self, line: str):
        """Deploy a model as a local online endpoint: ``%deploy churn-ep churn@production``.

        With ``--env NAME[:VERSION]`` (or ``--requirements FILE``, which makes or reuses the
        environment ``MODEL-env`` of that file) the first deploy builds the environment as an
        operation, with a progress bar (interrupting stops waiting, not the build); later deploys
        reuse it. A model whose
        inputs or outputs differ from what the endpoint answers now is refused, with the
        differences, unless ``--allow-contract-change``. With ``--optimize`` a scikit-learn version
        serves through its ONNX form when that is proven to answer the same (converted now, as an
        operation, if no such form exists); the result says what serves, or why the original does.

        With ``--multi`` one runtime serves many versions: ``%deploy ep --multi --models
        churn,fraud:2`` serves every version of churn registered now and version 2 of fraud. Each
        loads on its first request (``/v2/models/churn/versions/3/infer``; without ``versions/V``
        the latest) and the least recently used are unloaded to keep within ``--memory-budget``
        (default 1G); ``POST /v2/repository/index`` lists them with their state.
        """
        args = self._parse(self.deploy, line)
        options = deploy_options(args)
        answer = self._call_with_status(
            f"Deploying {args.model or args.models} to {args.endpoint}/{args.deployment}...",
            self.hub.deploy,
            args.endpoint,
            args.model,
            **options,
        )
        if not isinstance(answer, Operation) or args.no_wait:
            return answer
        result = self._wait(answer, f"deploy {args.model} to {args.endpoint}/{args.deployment}")
        return answer if result is answer else self._call(self.hub.deployed, answer)

    @line_magic
    def endpoints(self, line: str = ""):
        """List endpoints with their state, URL, deployments and traffic."""
        return self._call(self.hub.endpoints)

    @magic_arguments()
    @argument("endpoint")
    @line_magic
    def endpoint(self, line: str):
        """One endpoint: state, URL, key, deployments, and ready-to-paste calls for each protocol."""
        return self._call(self.hub.endpoint, self._parse(self.endpoint, line).endpoint)

    @magic_arguments()
    @argument("endpoint")
    @argument("payload", nargs="+", help="JSON text, or a Python expression such as X_test[:3]")
    @argument("--deployment", "-d", help="send to this deployment, whatever the traffic split")
    @argument("--protocol", choices=["azure", "mlflow", "v2"], default="azure")
    @argument("--local", action="store_true", help="run the entry script's init()/run() here, in the kernel")
    @line_magic
    def invoke(self, line: str):
        """Score data on an endpoint: ``%invoke churn-ep X_test[:3]`` or ``%invoke churn-ep {"data": [[...]]}``."""
        args = self._parse(self.invoke, line)
        text = " ".join(args.payload)
        data = self._payload(text)
        if args.local:
            return self._invoke_local(args.endpoint, data, args.deployment)
        answer = self._call(self.hub.invoke, args.endpoint, data, protocol=args.protocol, deployment=args.deployment)
        return Prediction(answer) if isinstance(answer, dict) else answer  # a table in the notebook, still a dict

    def _payload(self, text: str):
        if text.lstrip()[:1] in '{["':
            try:
                json.loads(text)
                return text
            except ValueError:
                pass
        return self._eval(text, "payload")

    def _invoke_local(self, name: str, data, deployment: str | None):
        endpoint = self._call(self.hub.endpoint, name)
        chosen = (
            next((d for d in endpoint["deployments"] if d["name"] == deployment), None)
            if deployment
            else endpoint.live_deployment()
        )
        if chosen is None:
            raise UsageError(f"Endpoint {name!r} has no deployment {deployment!r}.")
        script = chosen.get("entry_script")
        if not script or not Path(script).is_file():
            raise UsageError(
                f"--local runs an entry script in the kernel; deployment {chosen['name']!r} uses the "
                "built-in scorer (deploy with --entry-script score.py)."
            )
        model_dir = Path(tempfile.gettempdir()) / "modelhub-local" / chosen["ref"].replace(":", "-")
        if not model_dir.exists():
            self._call(self.hub.download, chosen["ref"], to=model_dir)
        os.environ["AZUREML_MODEL_DIR"] = os.environ["MODELHUB_MODEL_DIR"] = str(model_dir)
        spec = importlib.util.spec_from_file_location(f"modelhub_local_{chosen['name']}", script)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(Path(script).parent))
        try:
            spec.loader.exec_module(module)
            module.init()
            _, body = request_for(data, "azure")
            return module.run(body.decode())  # an exception here shows its traceback in the notebook
        finally:
            sys.path.remove(str(Path(script).parent))

    @magic_arguments()
    @argument("endpoint")
    @argument("--deployment", "-d", default="blue")
    @argument("--tail", "-n", type=int, default=50, help="how many last lines")
    @argument("--follow", "-f", action="store_true", help="keep printing new lines (interrupt to stop)")
    @line_magic
    def logs(self, line: str):
        """Show a deployment's log; ``--follow`` streams it until interrupted."""
        args = self._parse(self.logs, line)
        if not args.follow:
            print(self._call(self.hub.logs, args.endpoint, args.deployment, args.tail), end="")
            return None
        try:
            for text in self._call(self.hub.follow_logs, args.endpoint, args.deployment, args.tail):
                print(text, flush=True)
        except KeyboardInterrupt:
            pass
        return None

    @magic_arguments()
    @argument("endpoint")
    @argument("split", nargs="?", help="blue=90,green=10 (must add up to 100)")
    @argument("--mirror", help="copy a share of requests to a deployment, e.g. green=10 (answers discarded)")
    @argument("--no-mirror", action="store_true", help="stop mirroring")
    @argument("--rollback", action="store_true", help="return to the split and mirror before the last change")
    @line_magic
    def traffic(self, line: str):
        """Split an endpoint's traffic between deployments: ``%traffic churn-ep blue=90,green=10``;
        ``%traffic churn-ep --rollback`` undoes the last change."""
        args = self._parse(self.traffic, line)
        if args.rollback:
            return self._call(self.hub.rollback_traffic, args.endpoint)
        split, mirror = traffic_change(args)
        if split is None and mirror is None:
            return self._call(self.hub.endpoint, args.endpoint)
        return self._call(self.hub.set_traffic, args.endpoint, split, mirror)

    @magic_arguments()
    @argument("endpoint")
    @argument("--deployment", "-d", help="remove only this deployment (refused while it has traffic)")
    @argument(
        "--force",
        action="store_true",
        help="with --deployment: remove the endpoint's last deployment, keeping the endpoint (URL, keys)",
    )
    @line_magic
    def undeploy(self, line: str):
        """Stop and delete an endpoint (or one of its deployments)."""
        args = self._parse(self.undeploy, line)
        return self._call(self.hub.undeploy, args.endpoint, args.deployment, force=args.force)
