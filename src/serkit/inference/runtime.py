"""Exported models run with numpy (and ONNX Runtime for frame networks), nothing else.

A saved model directory carries, beside the scikit-learn/PyTorch pipeline in
``model.skops``, an *inference export* (:mod:`serkit.models.export` writes it):

- ``inference.safetensors``: every fitted array (clip bounds, scaler means and
  scales, coefficients, intercepts, hidden layers, band statistics), plain tensors;
- ``inference.json``: the pipeline as a tree of steps naming those arrays
  (:data:`OPERATIONS`), plus numbers such as a calibration temperature or ensemble
  weights;
- ``inference-<k>.onnx``: each frame network (CNN, Whisper frame head) as ONNX.

:class:`ExportedModel` runs that tree. Prediction then imports numpy (and
``onnxruntime`` when the model has a network), not scikit-learn, skops or torch:
a cold ``serkit predict`` starts in a fraction of the time. Loading an export
parses JSON and tensors only, so a model file can run no code; every reference,
shape and number is checked before use (:func:`load_export`).

Examples
--------
>>> import numpy as np
>>> graph = {"op": "pipeline", "steps": [
...     {"op": "standardize", "mean": "m", "scale": "s"},
...     {"op": "logistic", "coef": "w", "intercept": "b", "classes": ["calm", "angry"]}]}
>>> arrays = {"m": np.zeros(1), "s": np.ones(1), "w": np.array([[2.0]]), "b": np.zeros(1)}
>>> model = ExportedModel(build_step(graph, arrays, networks={}))
>>> model.classes_.tolist(), model.predict_proba(np.array([[0.0]])).round(2).tolist()
(['calm', 'angry'], [[0.5, 0.5]])
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from serkit.core.exceptions import ArtifactError, error_reason, short_repr
from serkit.core.onnx_networks import onnx_session

GRAPH_FILE = "inference.json"
ARRAYS_FILE = "inference.safetensors"
EXPORT_FORMAT = "serkit-inference"
EXPORT_VERSION = 1

MAX_NETWORKS = 16
"""Most ONNX networks one export may hold."""

MAX_STEPS = 256
"""Most steps in one export's tree (an ensemble of pipelines has a few dozen)."""

MAX_DEPTH = 8
"""Deepest nesting of steps (calibrated ensemble of tuned pipelines: 4)."""

MAX_ARRAY_BYTES = 256 << 20
"""Most bytes the arrays an export's steps name may take once decoded to float64, each
array counted once however many steps name it (the bundled ensemble's: 60 kB)."""

MAX_NETWORK_BYTES = 2 << 30
"""Most bytes all intermediate values of one ONNX network may take together, their shapes
inferred for one call of :data:`PREDICT_BATCH_FRAMES` frames (the bundled CNN's: 159 MB)."""

MAX_NETWORK_NODES = 10_000
"""Most nodes one ONNX network may hold, subgraphs included (the bundled CNN: 91): bounds
the time the checks and shape inference take."""

ONNX_OPERATORS = frozenset({
    "Add", "Clip", "Concat", "Constant", "Conv", "Gemm", "MaxPool", "Mul", "ReduceSum", "Relu",
    "Reshape", "Shape", "Slice", "Softmax", "Sqrt", "Sub", "Tanh", "Unsqueeze",
})
"""The standard operators of serkit's frame networks (the CNN, the Whisper frame head): a
stored ONNX graph may use these and nothing else (no custom domain, no function)."""

_FLOAT_DTYPES = ("float16", "float32", "float64")
_SAFETENSORS_DTYPES = {"F16": "float16", "F32": "float32", "F64": "float64"}

ACTIVATIONS = ("relu", "tanh", "logistic", "identity")
"""Hidden-layer activations of an exported multilayer perceptron (scikit-learn's names)."""

_TINY = 1e-12


def network_file(index: int) -> str:
    """The file name of the ``index``-th network of an export: ``inference-0.onnx`` …"""
    return f"inference-{index}.onnx"


def is_export_file(name: str) -> bool:
    """Whether ``name`` is a file an export may consist of.

    >>> is_export_file("inference-3.onnx"), is_export_file("inference-x.onnx")
    (True, False)
    """
    if name in (GRAPH_FILE, ARRAYS_FILE):
        return True
    index = name.removeprefix("inference-").removesuffix(".onnx")
    return name != index and index.isdigit() and int(index) < MAX_NETWORKS and network_file(int(index)) == name


# -- the arithmetic, shared with the scikit-learn/torch models ------------------------


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, as scikit-learn computes it (max subtracted, float64 kept).

    >>> softmax(np.array([[0.0, np.log(3.0)]])).round(2).tolist()
    [[0.25, 0.75]]
    """
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def expit(scores: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``, without overflow warnings."""
    out = np.empty_like(scores, dtype=np.float64)
    positive = scores >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-scores[positive]))
    exp = np.exp(scores[~positive])
    out[~positive] = exp / (1.0 + exp)
    return out


def align_probabilities(proba, classes, labels):
    """``proba`` (columns in ``classes`` order) with columns in ``labels`` order, 0 for a
    label missing from ``classes`` (an emotion a model never saw in training).

    >>> align_probabilities([[0.3, 0.7]], ["sad", "angry"], ["angry", "calm", "sad"]).tolist()
    [[0.7, 0.0, 0.3]]
    """
    proba = np.asarray(proba)
    aligned = np.zeros((len(proba), len(labels)))
    column = {str(label): i for i, label in enumerate(labels)}
    for j, label in enumerate(classes):
        aligned[:, column[str(label)]] = proba[:, j]
    return aligned


def log_probabilities(proba) -> np.ndarray:
    """``log(proba)`` in float64, probabilities floored at 1e-12 (no ``-inf`` for a zero).

    >>> log_probabilities([[1.0, 0.0]]).round(1).tolist()
    [[0.0, -27.6]]
    """
    return np.log(np.clip(np.asarray(proba, dtype=np.float64), _TINY, 1.0))


def scale_probabilities(proba, temperature: float) -> np.ndarray:
    """``softmax(log(proba) / temperature)`` row by row (temperature scaling).

    >>> scale_probabilities([[0.8, 0.2]], 1.0).round(3).tolist()
    [[0.8, 0.2]]
    >>> scale_probabilities([[0.8, 0.2]], 1e6).round(3).tolist()  # a very hot model knows nothing
    [[0.5, 0.5]]
    """
    return softmax(log_probabilities(proba) / temperature)


PREDICT_BATCH_SIZE = 64
PREDICT_BATCH_FRAMES = 8192
"""Padded frames in one network call (82 s of 100 frame/s log-mel, ~27 windows of 3 s):
bounds the network's activations, ~70 MB in the first block with 16 channels."""


def length_batches(lengths, *, batch_size: int = PREDICT_BATCH_SIZE, max_frames: int = PREDICT_BATCH_FRAMES) -> list[np.ndarray]:
    """Group clip indices by length for prediction: at most ``batch_size`` clips, and
    at most ``max_frames`` frames once padded to the batch's longest (a longer clip goes alone).

    Clips are taken shortest first, so each batch pads little; outputs do not depend
    on the batching (the frame mask).

    >>> [batch.tolist() for batch in length_batches([300, 5000, 300, 300], max_frames=1000)]
    [[0, 2, 3], [1]]
    """
    batches, current = [], []
    for index in np.argsort(lengths, kind="stable"):
        # Sorted ascending: this clip is the longest of the batch it would join.
        if current and (len(current) == batch_size or (len(current) + 1) * lengths[index] > max_frames):
            batches.append(np.array(current))
            current = []
        current.append(index)
    if current:
        batches.append(np.array(current))
    return batches


def pad_frames(clips: list[np.ndarray], band_mean: np.ndarray, band_std: np.ndarray, *, min_frames: int,
               standardise: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Stack ``(bands, frames)`` clips into a float32 ``(batch, bands, max_frames)`` array and its frame mask.

    Clips under ``min_frames`` are extended with the training band means (standardised
    value 0) and count as real frames, the same alone or in a batch; with
    ``standardise`` the bands are standardised by the training statistics and padded
    frames set to 0.
    """
    lengths = [max(clip.shape[1], min_frames) for clip in clips]
    x = np.zeros((len(clips), clips[0].shape[0], max(lengths)), dtype=np.float32)
    mask = np.zeros((len(clips), max(lengths)), dtype=np.float32)
    for row, (clip, length) in enumerate(zip(clips, lengths)):
        x[row, :, :length] = band_mean[:, None]
        x[row, :, : clip.shape[1]] = clip
        mask[row, :length] = 1.0
    if standardise:
        x = (x - band_mean[:, None]) / band_std[:, None] * mask[:, None, :]
    return x, mask


def check_onnx_network(network: bytes, input_shapes: dict, *, operators=ONNX_OPERATORS,
                       max_bytes: int = MAX_NETWORK_BYTES) -> str | None:
    """Why the ONNX ``network`` (untrusted bytes) must not run, or None: the one check every
    ONNX file serkit loads passes before ONNX Runtime sees it.

    Refused: an unparsable file; more than :data:`MAX_NETWORK_NODES` nodes; weights read
    from outside the file; an operator outside
    ``operators`` (also inside subgraphs), a custom domain or a function; an input not in
    ``input_shapes`` or of another rank or fixed size; and, with the inputs set to
    ``input_shapes`` (the largest one call will get), any intermediate value whose shape
    inference cannot fix, or all of them together over ``max_bytes``. So allowed operators
    cannot be chained into a memory bomb (a 3.7 kB chain of doubling ``Concat`` asks for
    terabytes, refused here without running anything).

    Parameters
    ----------
    network : bytes
        The ``.onnx`` file's content.
    input_shapes : dict
        Input name → shape of the largest call, e.g. ``{"x": (1, 64, 8192), "mask": (1, 8192)}``.
    operators : set of str
        The standard (``ai.onnx``) operators this kind of network may use.
    max_bytes : int
        Bound on the bytes of all intermediate values together.

    Examples
    --------
    >>> import onnx
    >>> from onnx import TensorProto, helper
    >>> x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    >>> doubled = [helper.make_node("Concat", [f"c{i}", f"c{i}"], [f"c{i + 1}"], axis=1) for i in range(40)]
    >>> graph = helper.make_graph([helper.make_node("Relu", ["x"], ["c0"]), *doubled], "bomb", [x],
    ...                           [helper.make_tensor_value_info("c40", TensorProto.FLOAT, None)])
    >>> bomb = helper.make_model(graph).SerializeToString()
    >>> check_onnx_network(bomb, {"x": (1, 4)}).split(" for")[0]
    'an ONNX network whose intermediate values take 35184372088816 bytes'
    >>> check_onnx_network(bomb, {"x": (1, 4)}, operators={"Relu"})
    "an ONNX network with operators outside the allowed ones (['Concat'])"
    """
    onnx = _onnx()
    try:
        model = onnx.load_from_string(network)
    except Exception as error:  # protobuf raises its own kinds on a crafted file
        return f"an unreadable ONNX network ({type(error).__name__})"
    reason = _onnx_structure_problem(model, operators) or _onnx_inputs_problem(model, input_shapes)
    if reason:
        return reason
    try:
        inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except Exception as error:  # onnx's inference errors carry the node; one line is enough
        return f"an ONNX network whose shapes do not check ({error_reason(error)})"
    total = 0
    for value in [*inferred.graph.value_info, *inferred.graph.output]:
        size = _value_bytes(value.type)
        if size is None:
            return f"an ONNX network whose value {value.name[:80]!r} has no size shape inference can fix"
        total += size
    if total > max_bytes:
        return f"an ONNX network whose intermediate values take {total} bytes for one call; at most {max_bytes}"
    return None


def _onnx():
    """The ``onnx`` package, which checks a network before ONNX Runtime sees it; a model with a
    network of its own does not load without it (the light install leaves it out: 37 MB)."""
    try:
        import onnx
    except ModuleNotFoundError:
        raise ModuleNotFoundError("this model holds a network of its own, which serkit checks with the onnx package "
                                  "before it runs: pip install 'serkit[cnn]'", name="onnx") from None
    return onnx


def _subgraphs(graph):
    """``graph`` and every graph nested in its nodes' attributes (``If``, ``Loop`` bodies)."""
    stack = [graph]
    while stack:
        graph = stack.pop()
        yield graph
        for node in graph.node:
            for attribute in node.attribute:
                stack.extend([attribute.g] if attribute.HasField("g") else attribute.graphs)


def check_onnx_operators(network: bytes, *, operators, domains=("ai.onnx",)) -> str | None:
    """Why the ONNX ``network`` must not run, or None: the structure part of
    :func:`check_onnx_network` (external weights, functions, operators outside ``operators``
    or ``domains``), for a file pinned by its SHA-256 whose inputs serkit sizes itself
    (the speaker encoder, whose int8 LSTM is ONNX Runtime's ``com.microsoft`` operator)."""
    onnx = _onnx()
    try:
        model = onnx.load_from_string(network)
    except Exception as error:  # protobuf raises its own kinds on a crafted file
        return f"an unreadable ONNX network ({type(error).__name__})"
    return _onnx_structure_problem(model, operators, domains)


def _onnx_structure_problem(model, operators, domains=("ai.onnx",)) -> str | None:
    import onnx  # ``model`` is onnx's own: its callers imported it through _onnx()

    graphs = list(_subgraphs(model.graph))
    nodes = [node for graph in graphs for node in graph.node]
    if len(nodes) > MAX_NETWORK_NODES:
        return f"an ONNX network of {len(nodes)} nodes; at most {MAX_NETWORK_NODES}"
    tensors = [t for graph in graphs for t in graph.initializer]
    tensors += [attribute.t for node in nodes for attribute in node.attribute if attribute.type == onnx.AttributeProto.TENSOR]
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in tensors) or any(g.sparse_initializer for g in graphs):
        return "an ONNX network reading data from outside the model file"
    used = {(node.domain or "ai.onnx", node.op_type) for node in nodes}
    unknown = sorted(op for domain, op in used if domain not in domains or op not in operators)
    # A domain imported but used by no node runs nothing; one outside ``domains`` is refused only where used.
    if unknown or model.functions or (domains == ("ai.onnx",) and any(o.domain not in ("", "ai.onnx") for o in model.opset_import)):
        return f"an ONNX network with operators outside the allowed ones ({unknown or 'custom domain or function'})"
    return None


def _onnx_inputs_problem(model, input_shapes: dict) -> str | None:
    """Sets each input's shape to ``input_shapes`` (in place); why it cannot be, or None."""
    stored = {t.name for t in model.graph.initializer}  # older exports list weights as inputs
    for value in model.graph.input:
        if value.name in stored:
            continue
        shape = input_shapes.get(value.name)
        dims = value.type.tensor_type.shape.dim
        if shape is None or len(dims) != len(shape) or any(
                d.HasField("dim_value") and d.dim_value != size for d, size in zip(dims, shape)):
            return (f"an ONNX network taking {value.name[:80]!r} of shape "
                    f"{[d.dim_value or d.dim_param[:20] for d in dims][:8]}; expected inputs {input_shapes}")
        for d, size in zip(dims, shape):
            d.dim_value = size
    return None


def _value_bytes(value_type) -> int | None:
    """Bytes of a tensor of fixed shape (Python integers: no overflow), or None."""
    import onnx  # reached only through check_onnx_network, after _onnx()

    tensor = value_type.tensor_type
    dims = tensor.shape.dim if tensor.HasField("shape") else None
    if dims is None or not all(d.HasField("dim_value") and d.dim_value >= 0 for d in dims):
        return None
    try:
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).itemsize
    except (KeyError, TypeError, ValueError):  # no type, or one numpy has no size for
        return None
    return math.prod(d.dim_value for d in dims) * itemsize


def frame_network_inputs(n_bands: int) -> dict:
    """The inputs of a frame network's largest call: one batch of :data:`PREDICT_BATCH_FRAMES` frames.

    >>> frame_network_inputs(64)
    {'x': (1, 64, 8192), 'mask': (1, 8192)}
    """
    return {"x": (1, n_bands, PREDICT_BATCH_FRAMES), "mask": (1, PREDICT_BATCH_FRAMES)}


def network_probabilities(session, clips: list[np.ndarray], band_mean, band_std, *, min_frames: int,
                          n_classes: int) -> np.ndarray:
    """Softmax of a frame network's ``logits`` for each clip, in length batches.

    Raises :class:`~serkit.core.exceptions.ArtifactError` (one line) when ONNX Runtime fails
    or the network gives logits of another shape.
    """
    probabilities = np.empty((len(clips), n_classes), dtype=np.float32)
    for batch in length_batches([clip.shape[1] for clip in clips]):
        x, mask = pad_frames([clips[i] for i in batch], band_mean, band_std, min_frames=min_frames)
        try:
            outputs = session.run(None, {"x": x, "mask": mask})
        except Exception as error:  # ONNX Runtime's own kinds, with multi-line messages
            raise ArtifactError(f"the model's network failed ({error_reason(error)})") from None
        shapes = [np.shape(output) for output in outputs]
        if shapes != [(len(batch), n_classes)]:
            raise ArtifactError(f"the model's network gave outputs of shapes {shapes[:4]}, not one ({len(batch)}, {n_classes})")
        probabilities[batch] = softmax(outputs[0])
    return probabilities


# -- the steps ------------------------------------------------------------------------


class _Step:
    """One step of an export: ``__call__(X)`` transforms, or (classifiers, which have
    ``classes``) gives probabilities with columns in ``classes`` order."""

    classes: list[str] | None = None
    n_features: int | None = None  # the width of vector input, where the step fixes it
    input_kind = "vector"  # what it takes: a feature set's kind (vector, frames, bundle)


class _Clip(_Step):
    def __init__(self, lower, upper):
        self.lower, self.upper = lower, upper
        self.n_features = lower.shape[0]

    def __call__(self, X):
        return np.clip(X, self.lower, self.upper)


class _Standardize(_Step):
    def __init__(self, mean, scale, n_features):
        self.mean, self.scale, self.n_features = mean, scale, n_features

    def __call__(self, X):
        if self.mean is not None:
            X = X - self.mean
        if self.scale is not None:
            X = X / self.scale
        return X


class _Logistic(_Step):
    def __init__(self, coef, intercept, classes):
        self.coef, self.intercept, self.classes = coef, intercept, classes
        self.n_features = coef.shape[1]

    def __call__(self, X):
        scores = X @ self.coef.T + self.intercept
        if len(self.classes) == 2:  # scikit-learn's binary model: one score for the second class
            positive = expit(scores[:, 0])
            return np.stack([1.0 - positive, positive], axis=1)
        return softmax(scores)


_HIDDEN = {
    "relu": lambda a: np.maximum(a, 0.0),
    "tanh": np.tanh,
    "logistic": expit,
    "identity": lambda a: a,
}


class _Perceptron(_Step):
    def __init__(self, weights, biases, activation, classes):
        self.weights, self.biases, self.activation, self.classes = weights, biases, activation, classes
        self.n_features = weights[0].shape[0]

    def __call__(self, X):
        a = X
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            a = a @ weight + bias
            if index < len(self.weights) - 1:
                a = _HIDDEN[self.activation](a)
        if a.shape[1] == 1:  # binary: one logistic output for the second class
            positive = expit(a[:, 0])
            return np.stack([1.0 - positive, positive], axis=1)
        return softmax(a)


class _Pipeline(_Step):
    def __init__(self, steps):
        self.steps = steps
        self.classes = steps[-1].classes
        self.input_kind = steps[0].input_kind
        self.n_features = next((step.n_features for step in steps if step.n_features is not None), None)

    def __call__(self, X):
        for step in self.steps:
            X = step(X)
        return X


class _Temperature(_Step):
    def __init__(self, model, temperature, classes):
        self.model, self.temperature, self.classes = model, temperature, classes
        self.n_features = model.n_features
        self.input_kind = model.input_kind

    def __call__(self, X):
        return scale_probabilities(align_probabilities(self.model(X), self.model.classes, self.classes), self.temperature)


class _SoftVote(_Step):
    def __init__(self, members, weights, classes):
        self.members, self.weights, self.classes = members, weights, classes
        # Members named by part take a bundle; otherwise all take what the vote takes.
        self.input_kind = "bundle" if members[0][0] is not None else members[0][1].input_kind

    def __call__(self, X):
        votes = [
            align_probabilities(model(X if kind is None else X.of_kind(kind)), model.classes, self.classes)
            for kind, model in self.members
        ]
        return np.tensordot(self.weights, np.stack(votes), axes=1)


class _DualPath(_Step):
    def __init__(self, heads: dict, default: str, classes):
        self.heads, self.default, self.classes = heads, default, classes
        self.n_features = heads[default].n_features

    def __call__(self, X):
        return self.heads[self.default](X)


def _leading_standardize(step: _Step) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mean, scale)`` of the full ``standardize`` a step opens with (through a temperature), or None."""
    while isinstance(step, _Temperature):
        step = step.model
    steps = step.steps if isinstance(step, _Pipeline) else None
    first = steps[0] if steps else None
    if isinstance(first, _Standardize) and first.mean is not None and first.scale is not None:
        return first.mean, first.scale
    return None


class _FrameNetwork(_Step):
    input_kind = "frames"

    def __init__(self, network: bytes, band_mean, band_std, min_frames, classes):
        self.network, self.band_mean, self.band_std = network, band_mean, band_std
        self.min_frames, self.classes = min_frames, classes
        self._session = None  # built at the first prediction, then kept

    def __call__(self, X):
        if self._session is None:
            self._session = onnx_session(self.network)
        clips = [np.asarray(clip, dtype=np.float32) for clip in X]
        if any(clip.ndim != 2 or clip.shape[0] != self.band_mean.shape[0] for clip in clips):
            raise ArtifactError(f"frame network: expects ({self.band_mean.shape[0]}, frames) matrices")
        return network_probabilities(self._session, clips, self.band_mean, self.band_std,
                                     min_frames=self.min_frames, n_classes=len(self.classes))


# -- reading and checking an export ---------------------------------------------------


class _Tensors:
    """Named tensors, each described (dtype name, shape) before any is read."""

    def __init__(self, described: dict, read):
        self.described, self.read = described, read

    @classmethod
    def of_arrays(cls, arrays: dict) -> _Tensors:
        # Copies: the reader marks what it reads read-only, the caller's arrays stay as they are.
        return cls({name: (str(np.asarray(a).dtype), np.shape(a)) for name, a in arrays.items()},
                   lambda name: np.array(arrays[name]))

    @classmethod
    def of_file(cls, path: Path) -> _Tensors:
        """The tensors of a safetensors file: its header is read now, a tensor when asked for."""
        from safetensors import safe_open

        handle = safe_open(str(path), framework="np")
        described = {}
        for name in handle.keys():
            view = handle.get_slice(name)
            described[name] = (_SAFETENSORS_DTYPES.get(view.get_dtype(), view.get_dtype()), tuple(view.get_shape()))
        return cls(described, handle.get_tensor)


class _Reader:
    """Builds steps from the JSON tree, checking every field; counts steps and depth.

    An array or network is read when a step first names it, checked once and then
    shared by every step naming it; the arrays' decoded size is bounded before each read.
    """

    def __init__(self, tensors: _Tensors, network_names: list[str], read_network, source: str):
        self.tensors, self.source, self.count = tensors, source, 0
        self.network_names, self.read_network = network_names, read_network
        self.decoded, self.decoded_bytes, self.checked_networks = {}, 0, {}

    def fail(self, where: str, reason: str):
        raise ArtifactError(f"{self.source}: {where}: {reason}")

    def array(self, spec: dict, key: str, where: str, *, ndim: int, optional: bool = False):
        name = spec.get(key)
        if name is None and optional:
            return None
        if not isinstance(name, str) or name not in self.tensors.described:
            self.fail(where, f"{key} must name an array of {ARRAYS_FILE}, got {short_repr(name)}")
        dtype, shape = self.tensors.described[name]
        if dtype not in _FLOAT_DTYPES or len(shape) != ndim or 0 in shape:
            self.fail(where, f"{key} ({name}) must be a finite {ndim}-D float array, got {dtype} {shape}")
        if name not in self.decoded:
            self.decoded[name] = self._decode(name, where, key)
        return self.decoded[name]

    def _decode(self, name: str, where: str, key: str) -> np.ndarray:
        """The array as float64 (read-only: steps share it), its size counted first."""
        self.decoded_bytes += 8 * math.prod(self.tensors.described[name][1])
        if self.decoded_bytes > MAX_ARRAY_BYTES:
            self.fail(where, f"the arrays named up to {key} ({name}) take {self.decoded_bytes} bytes as float64; "
                             f"at most {MAX_ARRAY_BYTES}")
        value = np.asarray(self.tensors.read(name))
        if not np.all(np.isfinite(value)):
            self.fail(where, f"{key} ({name}) must be a finite float array, it holds NaN or infinity")
        value = value.astype(np.float64, copy=False)  # the reader's own copy: no second one
        value.flags.writeable = False
        return value

    def network(self, name: str, where: str, n_bands: int) -> bytes:
        """The ONNX bytes of the network ``name``, through :func:`check_onnx_network` once."""
        if (name, n_bands) not in self.checked_networks:
            data = self.read_network(name)
            reason = check_onnx_network(data, frame_network_inputs(n_bands))
            if reason:
                self.fail(where, f"{name}: refused: the model holds {reason}")
            self.checked_networks[name, n_bands] = data
        return self.checked_networks[name, n_bands]

    def classes(self, spec: dict, where: str) -> list[str]:
        classes = spec.get("classes")
        if (not isinstance(classes, list) or len(classes) < 2
                or not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes)):
            self.fail(where, f"classes must be a list of at least 2 different names, got {short_repr(classes)}")
        return classes

    def number(self, spec: dict, key: str, where: str, *, low: float, high: float) -> float:
        value = spec.get(key)
        # A JSON integer has any number of digits: compare it as an integer, never convert it first.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            self.fail(where, f"{key} must be a number in [{low:g}, {high:g}], got {short_repr(value)}")
        return float(value)

    def step(self, spec, where: str = "root", depth: int = 0) -> _Step:
        self.count += 1
        if self.count > MAX_STEPS or depth > MAX_DEPTH:
            self.fail(where, f"more than {MAX_STEPS} steps or deeper than {MAX_DEPTH}")
        if not isinstance(spec, dict) or spec.get("op") not in OPERATIONS:
            op = spec.get("op") if isinstance(spec, dict) else spec
            self.fail(where, f"unknown step {short_repr(op)}; steps are {', '.join(OPERATIONS)}")
        return getattr(self, "_" + spec["op"].replace("-", "_"))(spec, f"{where}/{spec['op']}", depth)

    def _clip(self, spec, where, depth):
        lower, upper = (self.array(spec, key, where, ndim=1) for key in ("lower", "upper"))
        if lower.shape != upper.shape or np.any(lower > upper):
            self.fail(where, "lower and upper must be of one length with lower <= upper")
        return _Clip(lower, upper)

    def _standardize(self, spec, where, depth):
        mean, scale = (self.array(spec, key, where, ndim=1, optional=True) for key in ("mean", "scale"))
        widths = {a.shape[0] for a in (mean, scale) if a is not None}
        if len(widths) > 1 or (scale is not None and np.any(scale == 0)):
            self.fail(where, "mean and scale must be of one length, scale without zeros")
        return _Standardize(mean, scale, widths.pop() if widths else None)

    def _logistic(self, spec, where, depth):
        coef = self.array(spec, "coef", where, ndim=2)
        intercept = self.array(spec, "intercept", where, ndim=1)
        classes = self.classes(spec, where)
        rows = 1 if len(classes) == 2 else len(classes)
        if coef.shape[0] != rows or intercept.shape != (rows,):
            self.fail(where, f"coef {coef.shape} and intercept {intercept.shape} do not fit {len(classes)} classes")
        return _Logistic(coef, intercept, classes)

    def _perceptron(self, spec, where, depth):
        layers = spec.get("layers")
        if not isinstance(layers, int) or isinstance(layers, bool) or not 1 <= layers <= 32:
            self.fail(where, f"layers must be an integer in [1, 32], got {short_repr(layers)}")
        if spec.get("activation") not in ACTIVATIONS:
            self.fail(where, f"activation must be one of {', '.join(ACTIVATIONS)}")
        weights = [self.array(spec, f"weight{i}", where, ndim=2) for i in range(layers)]
        biases = [self.array(spec, f"bias{i}", where, ndim=1) for i in range(layers)]
        classes = self.classes(spec, where)
        # One logistic output for two classes (scikit-learn), or one score per class (softmax).
        outputs = (1, 2) if len(classes) == 2 else (len(classes),)
        widths = [w.shape for w in weights]
        chained = all(a[1] == b[0] for a, b in zip(widths, widths[1:]))
        if not chained or widths[-1][1] not in outputs or any(b.shape != (w[1],) for b, w in zip(biases, widths)):
            self.fail(where, f"layer shapes {widths} do not chain to {len(classes)} classes")
        return _Perceptron(weights, biases, spec["activation"], classes)

    def _pipeline(self, spec, where, depth):
        steps = spec.get("steps")
        if not isinstance(steps, list) or not steps:
            self.fail(where, "steps must be a non-empty list")
        built = [self.step(s, f"{where}[{i}]", depth + 1) for i, s in enumerate(steps)]
        if any(s.classes is not None for s in built[:-1]) or built[-1].classes is None:
            self.fail(where, "a pipeline is transforms followed by one classifier")
        if len(built) > 1 and any(s.input_kind != "vector" for s in built):
            self.fail(where, "only a vector classifier may follow transforms")
        widths = {s.n_features for s in built if s.n_features is not None and not isinstance(s, (_Temperature, _SoftVote, _Pipeline))}
        if len(widths) > 1:
            self.fail(where, f"its steps take different numbers of features {sorted(widths)}")
        return _Pipeline(built)

    def _temperature(self, spec, where, depth):
        model = self.step(spec.get("model"), where, depth + 1)
        classes = self.classes(spec, where)
        if model.classes is None or not set(model.classes) <= set(classes):
            self.fail(where, "its model must be a classifier whose classes are among the step's")
        return _Temperature(model, self.number(spec, "temperature", where, low=1e-3, high=1e3), classes)

    def _soft_vote(self, spec, where, depth):
        members, weights = spec.get("members"), spec.get("weights")
        if not isinstance(members, list) or not members or not isinstance(weights, list) or len(weights) != len(members):
            self.fail(where, "members and weights must be lists of one length")
        classes = self.classes(spec, where)
        built = [self._member(member, f"{where}[{i}]", depth, classes) for i, member in enumerate(members)]
        kinds = {model.input_kind if part is None else None for part, model in built}
        if len(kinds) != 1:
            self.fail(where, "its members take different inputs: all name their part of a bundle, or all take one kind")
        weights = np.array([self.number({f"weights[{i}]": w}, f"weights[{i}]", where, low=0.0, high=1.0)
                            for i, w in enumerate(weights)])
        if abs(weights.sum() - 1.0) > 1e-6:
            self.fail(where, f"weights must sum to 1, got {weights.sum():g}")
        return _SoftVote(built, weights, classes)

    def _member(self, member, where, depth, classes) -> tuple:
        """``(part, model)``: the bundle part a soft-vote member takes (None: the vote's
        whole input) and its classifier, whose input must be of that part's kind."""
        if not isinstance(member, dict) or "input" not in member or member["input"] not in (None, "vector", "frames"):
            self.fail(where, "a member is {'input': null|'vector'|'frames', 'model': step}")
        model = self.step(member.get("model"), where, depth + 1)
        if model.classes is None or not set(model.classes) <= set(classes):
            self.fail(where, "a member must be a classifier whose classes are among the vote's")
        if member["input"] not in (None, model.input_kind):
            self.fail(where, f"a member given the {member['input']} part must take {member['input']}, "
                             f"its model takes {model.input_kind}")
        return member["input"], model

    def _dual_path(self, spec, where, depth):
        """Two vector heads of the step's classes (in its order) and one width, the adapted one
        opening with its source statistics; ``default`` names the head a plain call runs."""
        classes = self.classes(spec, where)
        if spec.get("default") not in DUAL_PATH_HEADS:
            self.fail(where, f"default must be one of {', '.join(DUAL_PATH_HEADS)}, got {short_repr(spec.get('default'))}")
        heads = {name: self.step(spec.get(name), f"{where}.{name}", depth + 1) for name in DUAL_PATH_HEADS}
        if any(head.classes != classes or head.input_kind != "vector" for head in heads.values()):
            self.fail(where, "each head must be a vector classifier of the step's classes, in their order")
        widths = {head.n_features for head in heads.values()}
        if None in widths or len(widths) != 1:
            self.fail(where, f"the heads must take one fixed number of features, got {sorted(map(str, widths))}")
        if _leading_standardize(heads["adapted"]) is None:
            self.fail(where, "the adapted head must open with its source statistics (a standardize with mean and scale)")
        return _DualPath(heads, spec["default"], classes)

    def _frame_network(self, spec, where, depth):
        name = spec.get("file")
        if not isinstance(name, str) or name not in self.network_names:
            self.fail(where, f"file must name one of the export's networks {sorted(self.network_names)}, got {short_repr(name)}")
        band_mean = self.array(spec, "band_mean", where, ndim=1).astype(np.float32)
        band_std = self.array(spec, "band_std", where, ndim=1).astype(np.float32)
        if band_mean.shape != band_std.shape or np.any(band_std <= 0):
            self.fail(where, "band_mean and band_std must be of one length, band_std positive")
        min_frames = int(self.number(spec, "min_frames", where, low=1, high=4096))
        classes = self.classes(spec, where)
        return _FrameNetwork(self.network(name, where, len(band_mean)), band_mean, band_std, min_frames, classes)


OPERATIONS = ("pipeline", "clip", "standardize", "logistic", "perceptron", "temperature", "soft-vote", "frame-network",
              "dual-path")
"""The steps an export's tree may hold."""

DUAL_PATH_HEADS = ("plain", "adapted")
"""The heads of a ``dual-path`` step (:mod:`serkit.models.dualpath`): without source statistics, with them."""


def build_step(graph: dict, arrays: dict, *, networks: dict, source: str = GRAPH_FILE) -> _Step:
    """The step tree of ``graph`` (the ``model`` of ``inference.json``) over ``arrays``
    (name → ndarray) and ``networks`` (file name → ONNX bytes), every field checked
    and each network through :func:`check_onnx_network`.

    Raises :class:`~serkit.core.exceptions.ArtifactError` ``"{source}: {step}: {reason}"``.
    """
    return _Reader(_Tensors.of_arrays(arrays), list(networks), networks.__getitem__, source).step(graph)


class ExportedModel:
    """A classifier read from an inference export: ``predict_proba`` and ``classes_``
    as the fitted pipeline it was exported from, computed with numpy.

    Parameters
    ----------
    root : step
        The tree :func:`build_step` built.
    """

    registry_name = "export"

    def __init__(self, root: _Step):
        if root.classes is None:
            raise ArtifactError(f"{GRAPH_FILE}: the model must end in a classifier")
        self._root = root
        self.classes_ = np.array(root.classes)
        self.input_kind = root.input_kind  # the kind of feature set it takes: vector, frames or bundle

    @property
    def n_features_in_(self) -> int | None:
        """Width of the vector input, where the model fixes one."""
        return self._root.n_features

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities ``(n_clips, n_classes)``, columns in :attr:`classes_` order."""
        if isinstance(X, np.ndarray) and X.ndim == 2 and self.n_features_in_ not in (None, X.shape[1]):
            raise ArtifactError(f"the model takes {self.n_features_in_} features, got {X.shape[1]}")
        return np.asarray(self._root(X), dtype=np.float64)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    @property
    def default_head(self) -> str | None:
        """The head a plain call runs, for a dual-path model (``plain`` or ``adapted``); else None."""
        return self._root.default if isinstance(self._root, _DualPath) else None

    def head(self, name: str) -> "ExportedModel":
        """The head ``name`` of a dual-path model as a model of its own."""
        if not isinstance(self._root, _DualPath) or name not in DUAL_PATH_HEADS:
            raise ArtifactError(f"the model has no {name!r} head (a dual-path model has {', '.join(DUAL_PATH_HEADS)})")
        return ExportedModel(self._root.heads[name])

    def leading_standardize(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(mean, scale)`` of the first step when the model (a dual-path model: its adapted
        head) opens with a full ``standardize`` (an adapted model's source statistics); else None."""
        root = self._root.heads["adapted"] if isinstance(self._root, _DualPath) else self._root
        return _leading_standardize(root)


def load_familiarity(model_dir):
    """The familiarity statistics of the export in ``model_dir``
    (:class:`serkit.inference.familiarity.Familiarity`), or None when it has none.

    Raises :class:`~serkit.exceptions.ArtifactError` for a malformed step or array.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from serkit.inference.familiarity import from_step

    model_dir = Path(model_dir)
    try:
        spec = json.loads((model_dir / GRAPH_FILE).read_text()).get("familiarity")
        if spec is None:
            return None
        arrays = load_file(str(model_dir / ARRAYS_FILE))
    except (OSError, ValueError, RecursionError, AttributeError, SafetensorError) as error:
        raise ArtifactError(f"{model_dir}: its inference export is unreadable ({type(error).__name__})") from None
    return from_step(spec, arrays)


def load_export(model_dir, files: list[str]) -> ExportedModel:
    """The export in ``model_dir`` (``files``: its file names, already checksummed).

    Only what the tree references is read: an array or network when a step first names
    it, once, shared by every step naming it. The arrays' float64 size is bounded
    (:data:`MAX_ARRAY_BYTES`) before each is read, and each network passes
    :func:`check_onnx_network` before ONNX Runtime sees it.

    Parameters
    ----------
    model_dir : Path
    files : list of str
        The export's files as the manifest lists them.

    Raises
    ------
    ArtifactError
        Malformed JSON or tensors, an unknown step, a missing array, inconsistent
        shapes, too large arrays, a refused network: one line naming the file.
    """
    from safetensors import SafetensorError

    model_dir = Path(model_dir)
    graph_path = model_dir / GRAPH_FILE
    try:
        document = json.loads(graph_path.read_text())
    except (OSError, ValueError, RecursionError) as error:
        raise ArtifactError(f"{graph_path}: unreadable ({type(error).__name__})") from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT or document.get("version") != EXPORT_VERSION:
        raise ArtifactError(f"{graph_path}: not a {EXPORT_FORMAT} version {EXPORT_VERSION} file")
    try:
        tensors = _Tensors.of_file(model_dir / ARRAYS_FILE)
    except (OSError, SafetensorError, ValueError) as error:
        raise ArtifactError(f"{model_dir / ARRAYS_FILE}: unreadable ({error})") from None
    networks = [name for name in files if name.endswith(".onnx")]
    reader = _Reader(tensors, networks, lambda name: (model_dir / name).read_bytes(), str(graph_path))
    try:
        root = reader.step(document.get("model"))
    except (OSError, SafetensorError) as error:  # a tensor that the header describes but the file lacks
        raise ArtifactError(f"{model_dir / ARRAYS_FILE}: unreadable ({type(error).__name__}: {error})"[:300]) from None
    if root.classes is None:
        reader.fail("root", "the model must end in a classifier")
    return ExportedModel(root)

