"""Images: build times, image size, container start and serving speed, in one run.

Starts a real Jupyter server with the extension (base image modelhub-base:bookworm, made by
.ci/docker), registers a scikit-learn pipeline (StandardScaler + LogisticRegression, 20 float
features), converts it to ONNX and measures:

- cold build: every layer built anew (``no_cache``; the host's wheelhouse may be cached);
- model-only rebuild: a new version of the model, same environment. Target: <= 5 s;
- environment-only change: the same model with one more requirement (its layers are removed
  from the engine first, with the engine's dangling build cache);
- image size and the size of each layer. Target: <= 300 MB for the ONNX model;
- container start to ready (median of 3). Target: <= 2 s;
- requests/s with wrk (8 connections, single-row JSON, key auth) through an endpoint whose
  deployment is a container (``--target docker``) against one whose deployment is a local
  process, same model. Target: >= 0.9x.

    python bench/images.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import requests
from endpoints import wrk
from hub_server import HubServer

BASE = "modelhub-base:bookworm"


def ready_after(url: str, started: float, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/v2/health/ready", timeout=1).ok:
                return time.perf_counter() - started
        except requests.RequestException:
            pass
        time.sleep(0.01)
    raise SystemExit(f"{url} was not ready within {timeout} s")


def timed_package(hub, ref: str, **kwargs) -> tuple[dict, float]:
    started = time.perf_counter()
    image = hub.package(ref, **kwargs)
    return image, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    import docker
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    engine = docker.from_env()
    # a cold engine for these models: their images, then the environment images under them
    for label in ("org.modelhub.model", "org.modelhub.base-image"):
        for image in engine.images.list(filters={"label": label}):
            try:
                engine.images.remove(image.id, force=True)
            except docker.errors.APIError as exc:  # still used by a container of another run
                print(f"  kept {image.tags}: {exc.explanation}")
    engine.images.prune(filters={"dangling": True})  # the legacy builder's cache of first stages
    work = Path(tempfile.mkdtemp(prefix="modelhub-bench-img-"))
    server = HubServer(work, f"--Packager.base_image={BASE}")
    containers, processes = [], []
    try:
        hub = server.client()
        X, y = make_classification(2000, 20, random_state=0)
        hub.register("imgbench", make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), sample=X[:5])
        onnx = hub.convert("imgbench:1", sample=X[:200])["version"]["ref"]
        cold, cold_s = timed_package(hub, onnx, no_cache=True)

        hub.register("imgbench", make_pipeline(StandardScaler(), LogisticRegression(C=0.1)).fit(X, y), sample=X[:5])
        onnx2 = hub.convert("imgbench:3", sample=X[:200])["version"]["ref"]
        model_only, model_only_s = timed_package(hub, onnx2)
        requirements = work / "requirements.txt"
        requirements.write_text("six==1.16.0\n")
        env_only, env_only_s = timed_package(hub, onnx2, requirements=requirements, tag="modelhub/imgbench:env")

        starts = []
        for _ in range(3):
            started = time.perf_counter()
            container = engine.containers.run(
                cold["tag"], detach=True, init=True, ports={"8080/tcp": ("127.0.0.1", None)}
            )
            containers.append(container)
            container.reload()
            host_port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
            starts.append(ready_after(f"http://127.0.0.1:{host_port}", started))

        body = json.dumps({"data": X[:1].tolist()}).encode()
        process_ep = hub.deploy("bench-process", onnx)
        container_ep = hub.deploy("bench-container", onnx, target="docker")
        process_rps, process_p99 = wrk(process_ep["url"] + "/score", body, args.seconds, process_ep.key, work)
        container_rps, container_p99 = wrk(container_ep["url"] + "/score", body, args.seconds, container_ep.key, work)
        for name in ("bench-process", "bench-container"):
            hub.undeploy(name)
    finally:
        for container in containers:
            container.remove(force=True)
        for process in processes:
            process.terminate()
        server.stop()

    mb = 1024**2
    print(
        f"\ncold build {cold_s:.1f} s; model-only rebuild {model_only_s:.1f} s (target <= 5 s: "
        f"{'OK' if model_only_s <= 5 else 'OVER'}); environment-only change {env_only_s:.1f} s"
    )
    print(
        f"rebuilt layers: model-only {[s['why'] for s in model_only['report']['steps'] if 'why' in s]}; "
        f"environment-only {[s['why'] for s in env_only['report']['steps'] if 'why' in s]}"
    )
    print(
        f"image {cold['tag']}: {cold['size'] / mb:.0f} MB (target <= 300 MB: "
        f"{'OK' if cold['size'] <= 300 * mb else 'OVER'}), layers:"
    )
    for step in cold["report"]["steps"]:
        if step.get("size"):
            print(f"  {step['size'] / mb:8.1f} MB  {step['instruction'][:80]}")
    start = statistics.median(starts)
    print(
        f"container start to ready: median {start:.2f} s [{', '.join(f'{s:.2f}' for s in starts)}] "
        f"(target <= 2 s: {'OK' if start <= 2 else 'OVER'})"
    )
    ratio = container_rps / process_rps
    print(
        f"requests/s through an endpoint: container {container_rps:.0f} (p99 {container_p99:.2f} ms), "
        f"process {process_rps:.0f} "
        f"(p99 {process_p99:.2f} ms): {ratio:.2f}x (target >= 0.9x: {'OK' if ratio >= 0.9 else 'UNDER'})"
    )


if __name__ == "__main__":
    main()
