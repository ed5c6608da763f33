"""The scoring runtime: one model behind HTTP, in a process, a container or a pod.

Started as ``python -m jupyter_modelhub.serving --model-dir DIR --port P ...`` (see
``__main__.py`` for the options). It speaks Azure ML's ``/score``, MLflow's ``/invocations`` and
the Open Inference Protocol (``/v2``), scores with a built-in scorer for the model's flavor
(onnx, sklearn, mlflow) or with an Azure ML entry script (``init()``, ``run(raw_data)``), and
prints ``MODELHUB_READY port=P`` on stdout once the model is loaded and the port listens.

This package imports nothing else from jupyter_modelhub: it ships alone into images and
processes. Its dependencies are httptools, uvloop (optional: asyncio's own loop otherwise), numpy
and orjson; onnxruntime for ONNX models, joblib and scikit-learn for scikit-learn models, mlflow
for MLflow models. Importing it is cheap.

Modules: ``http`` (HTTP/1.1 on httptools: keep-alive, pipelining, limits, timeouts), ``server``
(auth, errors, accounting, shutdown), ``handlers`` (the route table, the routes that do not
score), ``scoring`` (the scoring routes), ``workers`` (processes),
``scorers`` (models and entry scripts), ``protocols`` (request and response bodies),
``binary_tensors`` (the v2 binary tensor data extension), ``content_encoding`` (gzip, deflate),
``signature`` (input checks), ``outputs`` (the signature's output names and dtypes, whatever the
model's own), ``batching``, ``metrics``, ``openapi``; with ``--repository`` many versions in one
runtime under a memory budget: ``repository`` (loading, least recently used unloading),
``multi`` (their routes and the model repository extension), ``model_metrics``.
"""

READY_LINE_PREFIX = "MODELHUB_READY"
