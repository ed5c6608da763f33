"""Turning what a user has in the kernel into a scoring request for an endpoint, per protocol.

``X_test[:3]`` (an array, a DataFrame, a list of rows) becomes ``{"data": ...}`` for Azure's
``/score``, ``dataframe_split``/``inputs`` for MLflow's ``/invocations``, or named tensors for
the Open Inference Protocol; a JSON string or dict is sent as it is.
"""

from __future__ import annotations

import json

from ..errors import InvalidInput

PROTOCOLS = ("azure", "mlflow", "v2")
_V2_TYPES = {"f": "FP64", "i": "INT64", "u": "UINT64", "b": "BOOL"}


def _is_dataframe(obj) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns")


def _plain(values):
    """JSON-ready Python values (NaN as None) from numpy/pandas values."""
    import numpy as np

    array = np.asarray(values)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return np.where(np.isfinite(array), array, None).tolist()
    return array.tolist()


def request_for(data, protocol: str = "azure", model: str = "model", version: int | None = None) -> tuple[str, bytes]:
    """(path, JSON body) of a scoring request carrying ``data`` in ``protocol``."""
    if protocol not in PROTOCOLS:
        raise InvalidInput(f"Unknown protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}.")
    path = {
        "azure": "/score",
        "mlflow": "/invocations",
        "v2": f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer",
    }[protocol]
    if isinstance(data, (bytes, str)):
        text = data.decode() if isinstance(data, bytes) else data
        try:
            json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"The payload is not valid JSON ({exc}); pass JSON text or a Python value.") from None
        return path, text.encode()
    if isinstance(data, dict):
        return path, json.dumps(data).encode()
    return path, json.dumps(_encode(data, protocol)).encode()


def _encode(data, protocol: str):
    import numpy as np

    if _is_dataframe(data):
        columns = [str(c) for c in data.columns]
        if protocol == "azure":
            return {"data": json.loads(data.to_json(orient="records"))}
        if protocol == "mlflow":
            return {"dataframe_split": {"columns": columns, "data": json.loads(data.to_json(orient="values"))}}
        return {"inputs": [_v2_tensor(c, data[c].to_numpy()) for c in columns]}
    try:
        array = np.asarray(data)
    except Exception:
        raise InvalidInput(
            f"Cannot encode a {type(data).__name__} as model input: pass an array, a DataFrame, "
            "a list of rows, or JSON text."
        ) from None
    if array.dtype == object and array.ndim == 0:
        raise InvalidInput(f"Cannot encode a {type(data).__name__} as model input.")
    if protocol == "azure":
        return {"data": _plain(array)}
    if protocol == "mlflow":
        return {"inputs": _plain(array)}
    return {"inputs": [_v2_tensor("input", array)]}


def _v2_tensor(name: str, values) -> dict:
    import numpy as np

    array = np.asarray(values)
    datatype = _V2_TYPES.get(array.dtype.kind, "BYTES")
    if array.dtype.kind == "f" and array.dtype.itemsize == 4:
        datatype = "FP32"
    flat = array.reshape(-1)
    return {
        "name": name,
        "shape": list(array.shape),
        "datatype": datatype,
        "data": [str(v) for v in flat] if datatype == "BYTES" else _plain(flat),
    }


def examples(url: str, key: str | None, input_example, model: str, version: int) -> dict[str, dict[str, str]]:
    """Ready-to-paste curl and Python calls for each protocol, built from the input example.

    The key itself is never written into them (they end up in saved notebooks): they read it from
    ``$MODELHUB_KEY``, which ``ep.key`` fills."""
    if input_example is None:
        return {}
    if isinstance(input_example, dict) and "columns" in input_example:
        import pandas as pd

        sample = pd.DataFrame(input_example["data"], columns=input_example["columns"])
    else:
        sample = input_example
    auth = ' -H "Authorization: Bearer $MODELHUB_KEY"' if key else ""
    out = {}
    for protocol in PROTOCOLS:
        path, body = request_for(sample, protocol, model, version)
        out[protocol] = {
            "curl": f"curl -s {url}{path}{auth} -H 'Content-Type: application/json' -d '{body.decode()}'",
            "python": (
                ("import os, requests\n" if key else "import requests\n")
                + f"requests.post({(url + path)!r},"
                + (" headers={'Authorization': 'Bearer ' + os.environ['MODELHUB_KEY']}," if key else "")
                + f" json={json.loads(body)!r}).json()"
            ),
        }
    return out
