"""Small ONNX networks: a session to run one (:func:`onnx_session`), a model's bytes written
without the ``onnx`` package (:class:`Graph`, :func:`model`), and a pinned model's weights read
back the same way (:func:`float_constants`).

serkit builds one network at prediction time (the Whisper encoder's layers,
:func:`serkit.features.whisper.encoder_network`). ``onnx.helper`` would do it, but importing
``onnx`` pulls in ``ml_dtypes``, which takes 1.3–1.5 s on the 2-core machines serkit is measured
on: more than the rest of a cold ``serkit predict``. The handful of messages a plain graph needs
(model, graph, node, attribute, tensor, value info) are written here in protobuf's wire format,
field numbers from ``onnx/onnx.proto``. Tests parse the result with ``onnx`` and run its checker.

>>> graph = Graph("g")
>>> y = graph.node("Relu", ["x"], "y")
>>> graph.inputs.append(value_info("x", [1, "n"]))
>>> graph.outputs.append(value_info("y", [1, "n"]))
>>> len(model(graph)) > 0
True
"""

from __future__ import annotations

import math
import struct

import numpy as np

from serkit.core.exceptions import ArtifactError, error_reason

FLOAT, INT64, FLOAT16 = 1, 7, 10
"""``TensorProto.DataType`` codes."""
_DATA_TYPES = {"<f4": FLOAT, "<f2": FLOAT16, "<i8": INT64}

_ATTRIBUTE_FLOAT, _ATTRIBUTE_INT, _ATTRIBUTE_INTS = 1, 2, 7
"""``AttributeProto.AttributeType`` codes."""


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s as their two's complement, as protobuf writes them
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(int(value))


def _bytes(field: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return b"".join((_varint(field << 3 | 2), _varint(len(data)), data))


def _float(field: int, value: float) -> bytes:
    return _varint(field << 3 | 5) + struct.pack("<f", value)


def tensor(name: str, array) -> list:
    """A ``TensorProto`` holding ``array`` (float32, float16 or int64) as raw little-endian
    data, as pieces: the weights stay a view of ``array`` until :func:`model` joins them, so a
    network's megabytes are copied once."""
    array = np.asarray(array)
    dtype = "<f2" if array.dtype == np.float16 else "<f4" if array.dtype.kind == "f" else "<i8"
    array = np.ascontiguousarray(array, dtype=dtype)
    data = memoryview(array).cast("B")
    header = b"".join(_int(1, size) for size in array.shape) + _int(2, _DATA_TYPES[dtype]) + _bytes(8, name)
    return [header, _varint(9 << 3 | 2), _varint(data.nbytes), data]


def _attribute(name: str, value) -> bytes:
    if isinstance(value, float):
        return _bytes(1, name) + _float(2, value) + _int(20, _ATTRIBUTE_FLOAT)
    if isinstance(value, (list, tuple)):
        return _bytes(1, name) + b"".join(_int(8, v) for v in value) + _int(20, _ATTRIBUTE_INTS)
    return _bytes(1, name) + _int(3, value) + _int(20, _ATTRIBUTE_INT)


def value_info(name: str, shape, elem_type: int = FLOAT) -> bytes:
    """A ``ValueInfoProto``: a tensor of ``elem_type`` whose dims are sizes (int) or names (str)."""
    dims = b"".join(_bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, _int(1, elem_type) + _bytes(2, dims)))


class Graph:
    """A ``GraphProto`` being built: nodes and initializers in the order they are added."""

    def __init__(self, name: str):
        self.name = name
        self.nodes: list[bytes] = []
        self.initializers: list[list] = []
        self.inputs: list[bytes] = []
        self.outputs: list[bytes] = []

    def constant(self, name: str, array) -> str:
        """Add an initializer; returns its name."""
        self.initializers.append(tensor(name, array))
        return name

    def node(self, op: str, inputs: list[str], outputs, **attributes) -> str:
        """Add a node of the default domain; returns its (first) output's name, which also names it."""
        outputs = [outputs] if isinstance(outputs, str) else list(outputs)
        self.nodes.append(b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
                          + _bytes(3, outputs[0]) + _bytes(4, op)
                          + b"".join(_bytes(5, _attribute(k, v)) for k, v in attributes.items()))
        return outputs[0]

    def pieces(self) -> list:
        """The serialized graph as pieces: joined once, by :func:`model`, with the weights in them."""
        fields = ([(1, [n]) for n in self.nodes] + [(2, [self.name.encode()])] + [(5, t) for t in self.initializers]
                  + [(11, [v]) for v in self.inputs] + [(12, [v]) for v in self.outputs])
        return [piece for field, parts in fields
                for piece in (_varint(field << 3 | 2), _varint(_size(parts)), *parts)]


def _size(pieces: list) -> int:
    return sum(memoryview(piece).nbytes for piece in pieces)


def model(graph: Graph, *, opset: int = 18, ir_version: int = 8, producer: str = "serkit") -> bytes:
    """The ``ModelProto`` bytes of ``graph`` with the default domain at ``opset``."""
    pieces = graph.pieces()
    size = _size(pieces)
    return b"".join([_int(1, ir_version), _bytes(2, producer), _varint(7 << 3 | 2), _varint(size), *pieces,
                     _bytes(8, _int(2, opset))])


def onnx_session(network: bytes, *, threads: int = 1):
    """An ONNX Runtime session for a small network: ``threads`` threads (one by default), no
    spin-waiting (idle threads spinning after each call would slow the feature code around it)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(network, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ONNX Runtime's own kinds, with multi-line messages
        raise ArtifactError(f"the model's network does not load in ONNX Runtime ({error_reason(error)})") from None


MAX_GRAPH_DEPTH = 8
"""Deepest nesting of subgraphs (an ``If``'s branches) :func:`float_constants` follows."""


def float_constants(network: bytes) -> dict[str, np.ndarray]:
    """The float32 tensors of a model, by name: its graph's initializers and ``Constant`` nodes,
    those of its subgraphs (an ``If``'s branches) included, read from the ``ModelProto`` bytes
    without the ``onnx`` package (field numbers from ``onnx/onnx.proto``; tensors stored as raw
    data, as exporters write them). Other tensors are left out.

    Raises :class:`~serkit.core.exceptions.ArtifactError` when the bytes are not such a model.

    >>> graph = Graph("g")
    >>> _ = graph.constant("w", np.arange(6, dtype=np.float32).reshape(2, 3))
    >>> float_constants(model(graph))["w"].tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    found: dict[str, np.ndarray] = {}
    graphs = [value for field, value in _fields(memoryview(network)) if field == 7]
    if len(graphs) != 1 or not isinstance(graphs[0], memoryview):
        raise ArtifactError("the network is not an ONNX model (it holds no graph)")
    _graph_constants(graphs[0], found, depth=0)
    return found


def _graph_constants(graph: memoryview, found: dict, *, depth: int) -> None:
    if depth > MAX_GRAPH_DEPTH:
        raise ArtifactError(f"the network nests subgraphs more than {MAX_GRAPH_DEPTH} deep")
    for field, value in _fields(graph):
        if field == 5:  # GraphProto.initializer
            _keep_tensor(value, found)
        elif field == 1:  # GraphProto.node
            node = list(_fields(value))
            outputs = [bytes(v).decode() for f, v in node if f == 2]
            constant = any(f == 4 and bytes(v) == b"Constant" for f, v in node)
            for attribute in (v for f, v in node if f == 5):
                for f, v in _fields(attribute):
                    if f in (6, 10):  # AttributeProto.g and .graphs: subgraphs
                        _graph_constants(v, found, depth=depth + 1)
                    elif f == 5 and constant and outputs:  # AttributeProto.t: a Constant's value
                        _keep_tensor(v, found, name=outputs[0])


def _keep_tensor(tensor: memoryview, found: dict, name: str | None = None) -> None:
    dims, data_type, raw, own_name = [], None, None, ""
    for field, value in _fields(tensor):
        if field == 1:
            dims.extend([value] if isinstance(value, int) else _packed_varints(value))
        elif field == 2:
            data_type = value
        elif field == 8:
            own_name = bytes(value).decode()
        elif field == 9:
            raw = value
    if data_type != FLOAT or raw is None:
        return
    name = name or own_name
    if len(raw) != 4 * math.prod(dims):
        raise ArtifactError(f"the network's tensor {name!r} holds {len(raw)} bytes for shape {tuple(dims)}")
    found[name] = np.frombuffer(raw, dtype="<f4").reshape(dims).astype(np.float32)


def _packed_varints(data: memoryview) -> list[int]:
    values, position = [], 0
    while position < len(data):
        value, position = _read_varint(data, position)
        values.append(value)
    return values


def _read_varint(data: memoryview, position: int) -> tuple[int, int]:
    if position < len(data) and data[position] < 0x80:  # most keys and sizes: one byte
        return data[position], position + 1
    value, shift = 0, 0
    while True:
        if position >= len(data) or shift > 63:
            raise ArtifactError("the network's bytes end inside a number (not an ONNX model)")
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position += 1
        shift += 7
        if byte < 0x80:
            return value, position


def _fields(message: memoryview):
    """The ``(field number, value)`` pairs of a protobuf message: an int for a varint, a
    memoryview for a length-delimited field or a fixed-size one."""
    if not isinstance(message, memoryview):
        raise ArtifactError("the network's bytes hold a number where a message belongs (not an ONNX model)")
    position, end = 0, len(message)
    while position < end:
        key, position = _read_varint(message, position)
        wire = key & 7
        if wire == 0:
            value, position = _read_varint(message, position)
        elif wire in (1, 2, 5):
            size = 8 if wire == 1 else 4 if wire == 5 else None
            if size is None:
                size, position = _read_varint(message, position)
            if position + size > end:
                raise ArtifactError("the network's bytes end inside a field (not an ONNX model)")
            value, position = message[position:position + size], position + size
        else:
            raise ArtifactError(f"the network's bytes hold a field of wire type {wire} (not an ONNX model)")
        yield key >> 3, value
