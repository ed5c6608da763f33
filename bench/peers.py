"""The peers ``bench/serving.py`` measures against: KServe, MLServer, LitServe and BentoML, each
serving the same pickled scikit-learn model from its own virtual environment.

Each peer is installed once into ``~/.cache/modelhub-bench/peers/<name>`` (uv, pinned to the
release line the issue measured, with this interpreter's scikit-learn version, so the same pickle
loads); a peer that cannot be installed (no network, no wheel for this Python) is skipped with the
reason. Each is started as its documentation shows for one worker, on 127.0.0.1 where the peer
lets us choose, and is ready when its own readiness route answers 200. The server code each peer
runs is the smallest its documentation gives for a scikit-learn model: ``predict`` on the posted
rows, answered as JSON.

Not here: load, rounds and ratios (``serving.py``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("MODELHUB_BENCH_CACHE", Path.home() / ".cache" / "modelhub-bench")) / "peers"
MODEL_NAME = "model"


@dataclass(frozen=True)
class Peer:
    """One peer: what to install, the server file it runs, how it is started and called."""

    name: str
    label: str
    requirements: tuple[str, ...]
    source: str  # the server file, with {model} and {port} filled in
    path: str  # the scoring route
    ready_path: str

    def body(self, row: list[float]) -> dict:
        if self.name == "mlserver":
            return {"inputs": [{"name": "input-0", "shape": [1, len(row)], "datatype": "FP64", "data": row}]}
        if self.name == "kserve":
            return {"instances": [row]}
        return {"data": [row]}

    def label_of(self, answer: dict) -> int:
        """The predicted label in this peer's answer to ``body``."""
        if self.name == "mlserver":
            return int(answer["outputs"][0]["data"][0])
        return int(answer["predictions"][0])

    def command(self, python: str, folder: Path, port: int) -> list[str]:
        if self.name == "mlserver":
            return [str(Path(python).parent / "mlserver"), "start", str(folder)]
        if self.name == "bentoml":
            return [
                str(Path(python).parent / "bentoml"),
                "serve",
                "service:Scorer",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--working-dir",
                str(folder),
            ]
        return [python, str(folder / "server.py")]


KSERVE = textwrap.dedent(
    """
    import sys
    import joblib
    import numpy as np
    from kserve import Model, ModelServer

    class Scorer(Model):
        def load(self):
            self.model = joblib.load({model!r})
            self.ready = True
            return True

        def predict(self, payload, headers=None):
            return {{"predictions": self.model.predict(np.asarray(payload["instances"])).tolist()}}

    if __name__ == "__main__":
        scorer = Scorer("model")
        scorer.load()
        ModelServer(http_port={port}, grpc_port={grpc_port}, workers=1, enable_grpc=False).start([scorer])
    """
)

LITSERVE = textwrap.dedent(
    """
    import joblib
    import numpy as np
    import litserve as ls

    class Scorer(ls.LitAPI):
        def setup(self, device):
            self.model = joblib.load({model!r})

        def decode_request(self, request):
            return np.asarray(request["data"])

        def predict(self, x):
            return self.model.predict(x)

        def encode_response(self, output):
            return {{"predictions": output.tolist()}}

    if __name__ == "__main__":
        ls.LitServer(Scorer(), accelerator="cpu", workers_per_device=1).run(port={port}, host="127.0.0.1")
    """
)

BENTOML = textwrap.dedent(
    """
    import bentoml
    import joblib
    import numpy as np

    @bentoml.service(workers=1)
    class Scorer:
        def __init__(self):
            self.model = joblib.load({model!r})

        @bentoml.api
        def predict(self, data: list) -> dict:
            return {{"predictions": self.model.predict(np.asarray(data)).tolist()}}
    """
)

# MLServer 1.7's inference workers call asyncio.get_event_loop() before setting one, which uvloop
# 0.22 and later refuse: it is pinned to the uvloop it was released with.
PEERS = (
    Peer("kserve", "KServe 0.21 (/v1/models/model:predict)", ("kserve==0.21.*",), KSERVE,
         f"/v1/models/{MODEL_NAME}:predict", f"/v1/models/{MODEL_NAME}"),
    Peer("mlserver", "MLServer 1.7 + mlserver-sklearn (/v2 infer)", ("mlserver==1.7.*", "mlserver-sklearn==1.7.*", "uvloop<0.22"), "",
         f"/v2/models/{MODEL_NAME}/infer", f"/v2/models/{MODEL_NAME}/ready"),
    Peer("litserve", "LitServe 0.2 (/predict)", ("litserve==0.2.*",), LITSERVE, "/predict", "/health"),
    Peer("bentoml", "BentoML 1.4 (/predict)", ("bentoml==1.4.*",), BENTOML, "/predict", "/readyz"),
)  # fmt: skip


def pinned_stack() -> list[str]:
    """This interpreter's scikit-learn (and numpy, joblib): the pickle loads only with the same."""
    import joblib
    import numpy
    import sklearn

    return [f"scikit-learn=={sklearn.__version__}", f"numpy=={numpy.__version__}", f"joblib=={joblib.__version__}"]


def install(peer: Peer, log) -> str:
    """The peer's interpreter, installed once (uv) into the cache; raises RuntimeError saying why not."""
    folder = CACHE / peer.name
    python = folder / "bin" / "python"
    wanted = "\n".join([*peer.requirements, *pinned_stack()]) + "\n"
    marker = folder / "installed.txt"
    if marker.exists() and marker.read_text() == wanted and python.exists():
        return str(python)
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).exists():
        raise RuntimeError("uv is not installed (pip install uv)")
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    for command in (
        [uv, "venv", "--python", base, str(folder)],
        [uv, "pip", "install", "--python", str(python), *wanted.split()],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=1200)
        log.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}\n")
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"could not install {' '.join(peer.requirements)}: {' / '.join(tail)}")
    marker.write_text(wanted)
    return str(python)


def prepare(peer: Peer, model_file: Path, folder: Path, port: int) -> Path:
    """The folder the peer is started in, with its server file (or MLServer's settings)."""
    where = folder / f"peer-{peer.name}-{port}"
    where.mkdir()
    if peer.name == "mlserver":
        import json

        # One inference worker beside the HTTP server (MLServer's default); no gRPC or metrics
        # server, which would only take ports and time.
        (where / "settings.json").write_text(
            json.dumps(
                {
                    "host": "127.0.0.1",
                    "http_port": port,
                    "grpc_port": 0,
                    "metrics_port": 0,
                    "metrics_endpoint": None,
                    "parallel_workers": 1,
                }
            )
        )
        (where / "model-settings.json").write_text(
            json.dumps(
                {
                    "name": MODEL_NAME,
                    "implementation": "mlserver_sklearn.SKLearnModel",
                    "parameters": {"uri": str(model_file)},
                }
            )
        )
        return where
    name = "service.py" if peer.name == "bentoml" else "server.py"
    source = peer.source.format(model=str(model_file), port=port, grpc_port=port + 1)
    (where / name).write_text(source)
    return where


if __name__ == "__main__":  # install them all ahead of a run: python bench/peers.py
    for peer in PEERS:
        try:
            print(peer.name, install(peer, sys.stdout))
        except RuntimeError as exc:
            print(peer.name, "skipped:", exc)
