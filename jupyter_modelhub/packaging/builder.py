"""Building an image on a Docker engine through the Docker SDK, and reporting what happened.

The build streams into the operation's log and progress (step N of M). The report lists every
step with whether the engine reused it from its cache or rebuilt it, the size of each layer of
the final image, and why a rebuilt step was rebuilt: what changed since the last image of the
same model ("requirements changed", "model files changed", ...), or that the engine simply did
not have it cached.

Not here: what goes into the image (``context``), the records (``images``).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from ..errors import InvalidInput, ModelHubError
from ..progress import Progress
from .context import BUILD_ARG

STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
# Which input each kind of step depends on; the label holding that input's key.
LAYER_INPUTS = [
    ("wheelhouse/", "org.modelhub.environment", "requirements changed"),
    ("pip install", "org.modelhub.environment", "requirements changed"),
    ("--from=dependencies", "org.modelhub.environment", "requirements changed"),
    ("runtime/", "org.modelhub.runtime", "runtime version changed"),
    ("app/", "org.modelhub.entry-script", "entry script changed"),
    ("model/", "org.modelhub.model-content", "model files changed"),
    ("signature.json", "org.modelhub.model-content", "model files changed"),
]


class EngineUnavailable(ModelHubError):
    """No Docker engine answers where the client looks for one."""

    status = 503
    reason = "unavailable"


def engine():
    """A client of the Docker engine at DOCKER_HOST (or the local socket), checked to answer."""
    try:
        import docker
    except ImportError:
        raise EngineUnavailable("Building images needs the Docker SDK: pip install docker.") from None
    try:
        client = docker.from_env(timeout=600)
        client.ping()
        return client
    except Exception as exc:  # the SDK raises several kinds for "no engine there"
        raise EngineUnavailable(
            f"No Docker engine answers ({type(exc).__name__}). Start one, or point DOCKER_HOST at one; or pass "
            "--context DIR to write the build context and build it elsewhere."
        ) from None


def build(
    client,
    context: Path,
    tag: str,
    labels: dict,
    network: str,
    progress: Progress,
    no_cache: bool = False,
    build_key: str = "",
) -> dict:
    """Build ``context`` as ``tag`` (``no_cache``: every layer anew), its stages labelled with
    ``build_key``; returns ``{"image_id", "steps", "seconds"}``."""
    started = time.perf_counter()
    steps: list[dict] = []
    image_id = None
    log = progress.log
    try:
        stream = client.api.build(
            path=str(context),
            tag=tag,
            labels=labels,
            rm=True,
            forcerm=True,
            decode=True,
            network_mode=network,
            pull=False,
            nocache=no_cache,
            buildargs={BUILD_ARG: build_key},
        )
        for chunk in stream:
            if "error" in chunk:
                detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
                raise InvalidInput(f"The image build failed: {detail.strip()}")
            text = chunk.get("stream", "")
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            if not text:
                continue
            if log is not None:
                log.write(text.encode())
                log.flush()
            for line in text.splitlines():
                _follow(line.strip(), steps, progress)
    except ModelHubError:
        raise
    except Exception as exc:
        raise InvalidInput(f"The image build failed: {type(exc).__name__}: {exc}") from None
    if image_id is None:
        image_id = client.images.get(tag).id
    return {"image_id": image_id, "steps": steps, "seconds": round(time.perf_counter() - started, 2)}


def _follow(line: str, steps: list[dict], progress: Progress) -> None:
    match = STEP.match(line)
    if match:
        number, total, instruction = int(match.group(1)), int(match.group(2)), match.group(3)
        steps.append({"step": number, "instruction": instruction, "reused": False})
        progress.step(f"step {number}/{total}: {instruction[:60]}", number - 1, total)
    elif line == "---> Using cache" and steps:
        steps[-1]["reused"] = True


def ensure_base_image(client, base_image: str, progress: Progress) -> None:
    """Make sure the engine has ``base_image``, pulling it only when it is absent; a pull that
    fails (offline, a proxy, no such image) is an error that says what to do instead."""
    if has_image(client, base_image):
        return
    progress.step(f"pulling the base image {base_image}")
    try:
        client.images.pull(base_image)  # the SDK splits off the tag or digest
    except Exception as exc:  # docker.errors.APIError / ImageNotFound, or a dropped connection
        cause = getattr(exc, "explanation", None) or str(exc)
        raise InvalidInput(
            f"The base image {base_image} is not in the Docker engine and cannot be pulled ({cause.strip()}). "
            f"Build or load it into the engine (docker build, docker load), or choose a base image the engine has "
            f"(with python3 and venv): --base-image NAME on %package, or c.Packager.base_image = 'NAME' in the "
            f"server's config; docker images lists what the engine has."
        ) from None


def has_image(client, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except Exception:  # docker.errors.ImageNotFound, or an engine that cannot say
        return False


def report(client, built: dict, labels: dict, previous: dict | None, environment: tuple[str, dict | None]) -> dict:
    """The build report: each step (reused or rebuilt, why), each layer's size, totals.

    ``environment`` is (the environment image's tag, its build or None when it was reused).
    """
    env_tag, env_built = environment
    rows: list[dict] = []
    if env_built is None:
        env_image = client.images.get(env_tag)
        base = env_image.labels.get("org.modelhub.base-image")
        size = env_image.attrs.get("Size", 0) - (
            client.images.get(base).attrs.get("Size", 0) if has_image(client, base) else 0
        )
        rows.append(
            {
                "stage": "environment",
                "step": 0,
                "reused": True,
                "size": size or None,
                "instruction": f"FROM {env_tag} (venv with the locked dependencies)",
            }
        )
    else:
        rows += _rows(client, env_built, labels, previous, "environment")
    rows += _rows(client, built, labels, previous, "model", earlier_rebuilt=env_built is not None)
    image = client.images.get(built["image_id"])
    seconds = built["seconds"] + (env_built["seconds"] if env_built else 0)
    return {
        "steps": rows,
        "size": image.attrs.get("Size", 0),
        "seconds": round(seconds, 2),
        "environment_image": env_tag,
        "reused": sum(1 for r in rows if r["reused"]),
        "rebuilt": sum(1 for r in rows if not r["reused"] and _makes_layer(r["instruction"])),
    }


def _rows(client, built: dict, labels: dict, previous: dict | None, stage: str, earlier_rebuilt: bool = False):
    history = client.api.history(built["image_id"])
    sizes = _layer_sizes(_final_stage(built["steps"]), history)
    rows = []
    for step in built["steps"]:
        if (
            step["instruction"].upper().startswith("FROM")
            and " AS " not in step["instruction"].upper()
            and stage == "environment"
        ):
            earlier_rebuilt = False  # the environment's last stage starts from the base again
        row = {
            "stage": stage,
            "step": step["step"],
            "instruction": _short(step["instruction"]),
            "reused": step["reused"],
            "size": sizes.get(step["step"]),
        }
        if not step["reused"] and _makes_layer(step["instruction"]):
            row["why"] = _why(step["instruction"], labels, previous, earlier_rebuilt)
            earlier_rebuilt = True
        rows.append(row)
    return rows


def _final_stage(steps: list[dict]) -> list[dict]:
    starts = [i for i, s in enumerate(steps) if s["instruction"].upper().startswith("FROM")]
    return steps[starts[-1] :] if starts else steps


def _layer_sizes(final_stage: list[dict], history: list[dict]) -> dict[int, int]:
    """Match the final stage's steps to the image history (newest first, one entry per step)."""
    entries = list(reversed(history))[-(len(final_stage) - 1) :] if len(final_stage) > 1 else []
    return {step["step"]: entry.get("Size", 0) for step, entry in zip(final_stage[1:], entries)}


def _makes_layer(instruction: str) -> bool:
    return instruction.split(" ", 1)[0].upper() in ("COPY", "RUN", "ADD")


def _why(instruction: str, labels: dict, previous: dict | None, earlier_rebuilt: bool) -> str:
    """Why a step was rebuilt: its own input changed, a layer under it was rebuilt, or the
    engine did not have it (first build here, cache pruned)."""
    for marker, label, reason in LAYER_INPUTS:
        if marker in instruction and previous is not None and labels.get(label) != previous.get(label):
            return reason
    if earlier_rebuilt:
        return "an earlier layer was rebuilt"
    return "first image of this model" if previous is None else "not in the engine's build cache"


def _short(instruction: str) -> str:
    return instruction if len(instruction) <= 100 else instruction[:97] + "..."
