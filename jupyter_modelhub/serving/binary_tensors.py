"""The Open Inference Protocol's binary tensor data extension: tensors as raw bytes after the JSON.

A request (or response) with binary tensors is its JSON object followed by each binary tensor's
bytes, in the order the tensors appear in the JSON; the ``Inference-Header-Content-Length``
header gives the JSON part's length and each binary tensor has ``parameters.binary_data_size``.
Elements are little-endian and row-major with no padding; a BOOL is one byte (0 or 1); a BYTES
element is a 4-byte little-endian length followed by that many bytes. This is what
``tritonclient`` sends by default, and what Triton and KServe read and write.

Every malformed framing is a 400 that says which size did not add up. Not here: checking
tensors against the model's signature and the JSON fields (``protocols.py``).
"""

from __future__ import annotations

import math
import struct

import numpy as np

from .errors import bad_request
from .signature import V2_DATATYPES

HEADER_LENGTH = "Inference-Header-Content-Length"
_LENGTH = struct.Struct("<I")
_HINT = "each binary tensor's bytes follow the JSON, in the order of the tensors in the JSON"


def split(body: bytes, header_length: str | None) -> tuple[memoryview, memoryview]:
    """The JSON part of a body and the binary part after it (empty without the header)."""
    view = memoryview(body)
    if header_length is None:
        return view, view[len(body) :]
    length = header_length.strip()
    if not length.isdigit() or int(length) > len(body):
        raise bad_request(
            f"The {HEADER_LENGTH} header gives the length in bytes of the JSON part of the body, "
            f"between 0 and the body's {len(body)} bytes; got {header_length!r}."
        )
    length = int(length)
    return view[:length], view[length:]


def binary_size(item: dict, what: str) -> int | None:
    """A tensor's ``parameters.binary_data_size``, checked; None when it is sent as JSON."""
    parameters = item.get("parameters")
    if parameters is None:
        return None
    if not isinstance(parameters, dict):
        raise bad_request(f'{what}: "parameters" is an object; got {parameters!r}.')
    size = parameters.get("binary_data_size")
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise bad_request(f"{what}: binary_data_size is a number of bytes (a non-negative integer); got {size!r}.")
    return size


def slices(items: list[dict], binary: memoryview, json_length: int | None) -> list[memoryview | None]:
    """Each input's bytes (None for one sent as JSON), checking that the sizes add up to the binary part.

    ``json_length`` is the length of the JSON part, None when the request has no binary part.
    """
    sizes = [binary_size(item, f"Input {item.get('name')!r}") for item in items]
    declared = {item.get("name"): size for item, size in zip(items, sizes) if size is not None}
    total = sum(declared.values())
    if json_length is None and total:
        raise bad_request(
            f"Inputs {sorted(map(str, declared))} are sent as binary data (binary_data_size), but "
            f"the request has no {HEADER_LENGTH} header: give the JSON part's length in it; {_HINT}."
        )
    if total != len(binary):
        listed = ", ".join(f"{name!r}: {size}" for name, size in declared.items()) or "no input has binary_data_size"
        raise bad_request(
            f"The request has {len(binary)} bytes of binary data after its {json_length}-byte JSON "
            f"part, but the inputs' binary_data_size add up to {total} ({listed}); {_HINT}."
        )
    parts, offset = [], 0
    for size in sizes:
        if size is None:
            parts.append(None)
        else:
            parts.append(binary[offset : offset + size])
            offset += size
    return parts


def decode(name: str, datatype: str, shape: list[int], raw: memoryview) -> np.ndarray:
    """A binary input as a flat array of its datatype; a 400 when its size does not fit its shape."""
    count = math.prod(shape)
    if datatype == "BYTES":
        return _decode_bytes(name, shape, count, raw)
    dtype = V2_DATATYPES[datatype]
    if len(raw) != count * dtype.itemsize:
        raise bad_request(
            f"Input {name!r}: shape {shape} of {datatype} takes {count * dtype.itemsize} bytes "
            f"({dtype.itemsize} per element); its binary_data_size is {len(raw)}."
        )
    if datatype == "BOOL":
        flags = np.frombuffer(raw, np.uint8)
        if flags.size and flags.max() > 1:
            raise bad_request(f"Input {name!r}: a binary BOOL element is one byte, 0 or 1; got {int(flags.max())}.")
        return flags.astype(bool)
    # A copy: aligned, in native byte order, writable, and not holding on to the request body.
    return np.frombuffer(raw, dtype.newbyteorder("<")).astype(dtype)


def _decode_bytes(name: str, shape: list[int], count: int, raw: memoryview) -> np.ndarray:
    """BYTES elements as text where they are UTF-8 (as JSON strings arrive), else as bytes."""
    array = np.empty(count, dtype=object)
    offset, end = 0, len(raw)
    for index in range(count):
        if offset + 4 > end:
            raise bad_request(
                f"Input {name!r}: shape {shape} holds {count} BYTES elements, but its "
                f"{end} bytes of binary data end after {index}; each element is a 4-byte "
                "little-endian length followed by that many bytes."
            )
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += 4
        if offset + length > end:
            raise bad_request(
                f"Input {name!r}: BYTES element {index} says it is {length} bytes long, but only "
                f"{end - offset} bytes of its binary data are left."
            )
        value = bytes(raw[offset : offset + length])
        offset += length
        try:
            array[index] = value.decode("utf-8")
        except UnicodeDecodeError:
            array[index] = value
    if offset != end:
        raise bad_request(
            f"Input {name!r}: shape {shape} holds {count} BYTES elements, which take {offset} of "
            f"its {end} bytes of binary data (binary_data_size); the rest does not belong to it."
        )
    return array


def encode(array: np.ndarray, datatype: str) -> bytes:
    """An output's bytes as the extension lays them out."""
    if datatype == "BYTES":
        parts = []
        for value in array.reshape(-1):
            data = value if isinstance(value, bytes) else str(value).encode("utf-8")
            parts.append(_LENGTH.pack(len(data)))
            parts.append(data)
        return b"".join(parts)
    dtype = V2_DATATYPES[datatype]
    return np.ascontiguousarray(array, dtype=dtype.newbyteorder("<")).tobytes()
