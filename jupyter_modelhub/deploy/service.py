"""The deploy service: what ``POST endpoints/{name}/deployments`` does, for every target.

A deploy request is checked by its target (a 4xx at once, never a failed operation), its model
reference is resolved once (``churn@production`` becomes the version it names now, in one read,
and that version is what deploys, even if the alias moves while an image builds), and then it
is either deployed in the request (the endpoint, created or updated) or, when its target needs
something long first (an environment, an image, manifests), an operation of the ``deploy``
kind whose worker runs ``run``: the target prepares, then deploys.

With ``multi`` one deployment serves many versions in one runtime (``deploy.multi``).

With ``optimize`` a scikit-learn version is served through its ONNX form (``optimizing``): a
proven one that exists is deployed in its place at once; otherwise the deploy is an operation
that converts first and serves the conversion only if its equivalence proof passes.

Not here: endpoints, traffic and keys (``manager``); what runs a deployment (``targets``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidInput
from ..progress import Progress
from . import collecting, optimizing
from . import multi as multi_model
from .targets.base import Target
from .targets.docker import DockerTarget
from .targets.kubernetes import OPTIONS, KubernetesTarget
from .targets.process import ProcessTarget

KIND = "deploy"  # the operation kind (deploy.contributions declares it)


@dataclass(frozen=True)
class Deployed:
    """What a deploy request gives: the endpoint now serving (``created`` if this request made
    it), or the operation that will deploy."""

    endpoint: dict | None = None
    created: bool = False
    operation: dict | None = None

    @property
    def status(self) -> int:
        return 201 if self.created else 200


class DeployService:
    """Deploys to the process, docker and kubernetes targets through one path."""

    def __init__(self, deployments, packager, registry, submit: Callable[..., dict], convert: Callable[..., dict]):
        self.registry, self._submit = registry, submit  # submit: OperationRunner.submit, given by the root
        self._convert = convert  # ModelConverter.convert, given by the root (built only where it runs)
        self.targets: dict[str, Target] = {
            target.name: target
            for target in (
                ProcessTarget(deployments),
                DockerTarget(deployments, packager),
                KubernetesTarget(deployments, packager),
            )
        }

    def submit(self, endpoint: str, request: dict, user: str = "") -> Deployed:
        """Check and deploy ``request`` (the REST body's fields), or queue it as an operation."""
        fields = dict(request)
        target = self.targets[fields.pop("target", None) or "process"]
        optimize = fields.pop("optimize", False)
        options = {key: fields.pop(key, None) for key in OPTIONS}
        multi = multi_model.take(fields, target.name)
        if multi is not None:  # many versions in one runtime: the first is the deployment's own
            if optimize:
                raise InvalidInput("--optimize chooses how one version serves: not with --multi.")
            versions = multi_model.resolve(self.registry, multi["refs"])
            fields.update(model=versions[0], allow_contract_change=True)  # many contracts: none is the endpoint's
            fields["multi"] = {"versions": versions, "memory_budget": multi["memory_budget"]}
        collect = collection_change(fields, target.name)
        inputs = target.check(endpoint, fields, options)
        if collect is not None:
            inputs["collect"] = collect
        requested = inputs["model"]
        version = self.registry.get_version(requested)
        inputs.update(target=target.name, model=version["ref"], requested=requested)
        convert_first = optimize and self._optimize(inputs, version, fields)
        if target.needs_operation(inputs) or convert_first:
            return Deployed(operation=self._submit(KIND, endpoint, inputs, user=user))
        endpoint_, created = target.deploy(_without(inputs, "target"), user=user, progress=Progress())
        return Deployed(endpoint=endpoint_, created=created)

    def run(self, inputs: dict, progress: Progress) -> tuple[dict, dict]:
        """The operation's work, in its worker: the target prepares (builds), then deploys."""
        options = dict(inputs)
        # an operation queued before targets were named carries a container for docker, nothing for process
        name = options.pop("target", None) or ("docker" if options.get("container") is not None else "process")
        target = self.targets[name]
        if options.pop("optimize", False):  # no proven ONNX form when asked: convert, then choose
            chosen = optimizing.convert_then_choose(self._convert, options["model"], options.get("user", ""), progress)
            options["model"] = chosen["serves"]
            if name != "kubernetes":  # manifests keep no deployment record
                options["optimization"] = chosen
        prepared = dict(target.prepare(options, progress))
        user = prepared.pop("user", "")
        result, _created = target.deploy(prepared, user=user, progress=progress)
        return result, target.link(result)

    def _optimize(self, inputs: dict, version: dict, fields: dict) -> bool:
        """Serve the proven ONNX form of ``version`` in its place when one exists (recorded in
        ``inputs``); True when a conversion must be made first (then the deploy is an operation)."""
        optimizing.check(version, fields)
        chosen = optimizing.existing(self.registry, version)
        if chosen is None:
            inputs["optimize"] = True
            return True
        inputs["model"] = chosen["serves"]
        if inputs["target"] != "kubernetes":
            inputs["optimization"] = chosen
        return False


def collection_change(fields: dict, target: str) -> dict | None:
    """The deploy request's payload collection fields (taken out of ``fields``), checked; None when
    it has none. The endpoint's host collects, so Kubernetes deployments (no host) cannot."""
    change = {key: fields.pop(key, None) for key in COLLECTION_FIELDS}
    if all(value is None for value in change.values()):
        return None
    if target == "kubernetes":
        raise InvalidInput(
            "Payload collection (--collect) is done by the endpoint's host: not with --target kubernetes."
        )
    collecting.merge({"enabled": True}, **change)  # a bad value is a 400 now
    return change


COLLECTION_FIELDS = ("collect", "sample_rate", "collect_retention", "collect_max_bytes")


def _without(inputs: dict, *keys: str) -> dict:
    return {k: v for k, v in inputs.items() if k not in keys}
