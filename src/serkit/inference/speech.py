"""Speech presence and utterances: which stretches of a recording hold speech.

A voice-activity detector runs before any emotion: Silero VAD 6.2.0 (MIT), whose
ONNX network serkit vendors (``serkit/data/vad``, SHA-256 checked at load) and runs
with ONNX Runtime, so neither the ``silero-vad`` package nor PyTorch is needed.
It gives the probability of speech for every 32 ms of 16 kHz audio (:func:`run_vad`: one
recurrent stream, as its authors run it, but with the part of the network that carries nothing
from chunk to chunk run on 256 chunks per call (:func:`silero_networks`) and the middle of long
silences skipped);

- :func:`speech_segments` turns those into speech segments (on at 0.5, off below
  0.35 for at least :data:`MIN_PAUSE_S`, segments shorter than :data:`MIN_SPEECH_S` dropped);
  a recording without any is searched again at lower thresholds (:data:`DOUBT_ON`);
- segments whose spectrum hardly changes (:func:`spectral_flux` under
  :data:`MIN_SPECTRAL_FLUX_DB`) are dropped too: Silero may take a hum or a sweep for a
  voice, and speech never holds its spectrum still;
- :func:`split_utterances` turns the segments into utterances of about 1–10 s: short
  ones join the nearer neighbour across a short pause, long ones are cut in equal parts;
- :func:`find_speech` does both for samples; :class:`SpeechDetector` does it block by
  block (an hour of audio never sits in memory at 16 kHz).

A recording without a segment has no speech: the predictor answers "no speech"
instead of an emotion (:mod:`serkit.inference`).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> speech = find_speech(0.05 * rng.standard_normal(32000).astype(np.float32), 16000)
>>> speech.utterances, speech.speech_s
([], 0.0)
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from serkit.core.hum import remove_mains_hum
from serkit.core.level import TONE_FRAME, loud_tones
from serkit.core.once import once
from serkit.core.threads import worker_threads
from serkit.inference.channels import power_envelope

VAD_REQUIREMENT = "silero-vad==6.2.0"
VAD_PATH = Path(__file__).parents[1] / "data" / "vad" / "silero_vad.onnx"
VAD_SHA256 = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
"""SHA-256 of ``silero_vad/data/silero_vad.onnx`` in the ``silero-vad`` 6.2.0 wheel."""
MAX_VAD_BYTES = 16 << 20
"""Largest VAD file read: 16 MiB (the pinned one is 2.3 MB)."""

VAD_OPERATORS = frozenset({
    "Add", "Cast", "Concat", "Constant", "ConstantOfShape", "Conv", "Equal", "Gather", "Identity", "If",
    "LSTM", "Not", "Pad", "Pow", "ReduceMean", "Relu", "Reshape", "Shape", "Sigmoid", "Size", "Slice",
    "Sqrt", "Squeeze", "Transpose", "Unsqueeze",
})
"""The standard operators of the vendored network (its ``If`` branches included)."""

VAD_SR = 16000
CHUNK_SAMPLES = 512
"""Silero's step at 16 kHz: one speech probability per 32 ms."""
CONTEXT_SAMPLES = 64
"""Samples of the previous step the network sees before each chunk."""
FRAME_S = CHUNK_SAMPLES / VAD_SR

VAD_BRANCH = "If_0_then_branch__Inline_0__"
"""Prefix of the 16 kHz network's weights in the vendored file (the branch of its ``If`` on the
rate that runs at 16 kHz)."""
PIECE_CHUNKS = 256
"""Chunks (8 s) :func:`run_vad` gives the network per call."""
PENDING_S = 300.0
"""Seconds :class:`SpeechDetector` gathers before running the network on them (19 MB at 16 kHz):
each run fills and drains :func:`run_vad`'s pipeline once, which costs a second over an hour
in runs of 60 s (6.7 s against 5.1 s in runs of 300 s, 4.9 s in runs of 600 s)."""

MAX_VAD_THREADS = 4
"""The most threads the network's matrix products run on (:func:`vad_network`)."""

QUIET_PEAK_DBFS, MAX_QUIET_GAIN_DB = -40.0, 20.0
"""A piece of audio whose peak is under :data:`QUIET_PEAK_DBFS` is raised to it, by at most
:data:`MAX_QUIET_GAIN_DB`, before the network hears it (the piece's features are level-normalised
anyway). Silero's probability falls with the level: shared clips at a peak of -50 dBFS were called
speechless 18 times in 236, at -60 dBFS 227 times; with this gain 2 and 2, while the synthetic
non-speech stays refused as often (983 of 1000). The shared corpora peak at -42 dBFS or louder, so
they are heard as before. Chosen on development material only (see docs/results.md)."""
GATE_DBFS = -60.0
"""Chunks whose peak stays under this level (dBFS) are silence for :data:`GATE_KEEP_CHUNKS`."""
GATE_KEEP_CHUNKS = 16
"""Of a silence longer than twice this, the network runs on the first and last 16 chunks (0.5 s)
only: the state it carries over the silence has settled, and the middle gets probability 0."""

SPEECH_ON, SPEECH_OFF = 0.5, 0.35
"""Speech starts at this probability and ends below the lower one (Silero's defaults)."""
MIN_SPEECH_S = 0.25
"""Shorter stretches of speech are dropped (clicks, a cough)."""
DOUBT_ON, DOUBT_OFF, DOUBT_MIN_SPEECH_S = 0.45, 0.3, 0.05
"""A recording in which these thresholds find no segment either holds no speech. Silero is
unsure of some shouted and screamed takes (RAVDESS actor 6's strong ones peak at 0.2–0.9 for a
few chunks), so a recording without a segment at :data:`SPEECH_ON` is searched again at these
before it is called speechless. Chosen on development material only (see docs/results.md)."""
MIN_PAUSE_S = 0.12
"""A pause shorter than this does not end a segment (under the 0.2 s between two speakers' turns)."""
PAD_S = 0.03
"""Each segment is widened by this much on either side (the network's decision lags the onset)."""

FLUX_HOP = CHUNK_SAMPLES // 4
"""The spectral flux compares two frames 8 ms apart."""
FLUX_N_FFT = 1024
"""64 ms frames: several periods of a mains hum, so its spectrum does not flicker with the frame's phase."""
FLUX_FLOOR_DB = 60.0
FLUX_PIECE_CHUNKS = 250
"""The flux is computed for at most 250 chunks at a time, so its frames never hold more than a few MB."""
FLUX_EVERY_CHUNKS = 2
"""The flux is measured once per this many chunks (every 64 ms: on development material, the
same decisions as every chunk but for 1 synthetic clip in 1000), and only near chunks Silero may
call speech (probability at least :data:`DOUBT_OFF`, within :data:`FLUX_MARGIN_CHUNKS`)."""
FLUX_MARGIN_CHUNKS = 4
"""Covers a segment's padding and its pauses shorter than :data:`MIN_PAUSE_S` (under 4 chunks)."""
MIN_SPECTRAL_FLUX_DB = 0.5
"""Least median change (dB per 8 ms frame, the mean over 40 mel bands, each frame floored 60 dB
under its loudest band) of a speech segment's log-mel spectrum. Chosen on development material
only (seeds 98 and 99 of the synthetic non-speech, RAVDESS actor 1, nEMO speaker EB0): speech
segments 1.13 dB and up, the hums and sweeps Silero took for speech 0.26 dB and under."""

CONTEXT_S = 1.0
"""Seconds of the pause on either side of an utterance that the model hears with it (up to
the pause's middle). Corpus clips hold about a second of silence around their sentence
(RAVDESS) or a fraction of one (nEMO): a model trained on whole RAVDESS clips scored 69.7 % UA
on whole clips and 49.2 % on their bare speech. The bundled model also learns from copies
with 0-1 s of pause (the augment kind ``pause``), so what is left of a short pause is enough;
padding with silence to a full second was measured and rejected (docs/results.md)."""

FLOOR_PERCENTILE = 10.0
"""A recording's noise floor: this percentile of the power of its chunks outside speech (the
quietest stretches between words, which a steady noise fills and a room's silence leaves low)."""
MIN_FLOOR_S, MIN_SNR_SPEECH_S = 1.0, 0.32
"""Least seconds outside speech and of speech for :func:`speech_to_floor_db` to answer."""
MIN_UTTERANCE_S, MAX_UTTERANCE_S = 1.0, 10.0
MERGE_GAP_S = 0.5
"""An utterance under 1 s joins its nearer neighbour when the pause between them is at most this."""


class Segment(NamedTuple):
    """A stretch of speech, in seconds from the start of the recording."""

    start: float
    end: float


class Utterance(NamedTuple):
    """An utterance: its span and the seconds of speech in it (its pauses left out)."""

    start: float
    end: float
    speech_s: float


@dataclass
class Speech:
    """What :func:`find_speech` found in a recording."""

    duration_s: float
    segments: list[Segment] = field(default_factory=list)
    utterances: list[Utterance] = field(default_factory=list)
    max_probability: float = 0.0
    steady_s: float = 0.0
    """Seconds Silero took for speech but whose spectrum stayed steady (dropped)."""
    snr_db: float | None = None
    """The speech's power over the recording's noise floor (:func:`speech_to_floor_db`, on the audio
    as the detector hears it: a mains hum removed), or None."""

    @property
    def speech_s(self) -> float:
        """Seconds of speech (the segments' total)."""
        return round(float(sum(end - start for start, end in self.segments)), 3)

    def no_speech_reason(self) -> str | None:
        """Why the recording counts as holding no speech, or None when it holds some.

        >>> Speech(4.0, max_probability=0.12).no_speech_reason()
        'no speech detected (highest speech probability 0.12 in 4.0 s; speech needs 0.45 for 0.05 s)'
        >>> Speech(4.0, max_probability=0.9, steady_s=3.5).no_speech_reason()
        'no speech detected (3.5 s of voice-like sound in 4.0 s, but with a steady spectrum: a hum, tone or machine)'
        """
        if self.utterances:
            return None
        if self.steady_s:
            return (f"no speech detected ({self.steady_s:.1f} s of voice-like sound in {self.duration_s:.1f} s, "
                    "but with a steady spectrum: a hum, tone or machine)")
        return (f"no speech detected (highest speech probability {self.max_probability:.2f} in "
                f"{self.duration_s:.1f} s; speech needs {DOUBT_ON:g} for {DOUBT_MIN_SPEECH_S:g} s)")


def vendored_vad() -> bytes:
    """The bytes of the vendored Silero VAD, after their SHA-256 check.

    Raises
    ------
    ArtifactError
        The file is missing or differs from :data:`VAD_REQUIREMENT`'s.
    """
    from serkit.core.files import read_pinned

    return read_pinned(VAD_PATH, VAD_SHA256, max_bytes=MAX_VAD_BYTES, pinned=f"{VAD_REQUIREMENT}'s",
                       reinstall="reinstall serkit")


class VadNetwork(NamedTuple):
    """The vendored Silero VAD's 16 kHz network as two ONNX Runtime sessions (:func:`silero_networks`)."""

    encoder: object
    recurrent: object


@once
def vad_network() -> VadNetwork:
    """The sessions of the vendored Silero VAD's 16 kHz network, rebuilt for long audio
    (:func:`silero_networks`) from the weights of the file checked by :func:`vendored_vad`.

    The file is read once: the bytes checked are the bytes the weights come from.
    ``vad_network.preload()`` starts building it in a background thread (``serkit predict``
    does, while the model loads: :func:`serkit.core.once.once`).

    Raises
    ------
    ArtifactError
        The file is missing or differs from :data:`VAD_REQUIREMENT`'s.
    """
    from serkit.core.onnx_networks import float_constants, model, onnx_session

    encoder, recurrent = silero_networks(float_constants(vendored_vad()))
    return VadNetwork(onnx_session(model(encoder), threads=min(worker_threads(), MAX_VAD_THREADS)),
                      onnx_session(model(recurrent)))


def silero_networks(weights: dict[str, np.ndarray]) -> tuple:
    """Silero VAD's 16 kHz network as two graphs that take many chunks per call.

    Silero runs one 32 ms chunk per call: a short-time Fourier transform, four convolutions
    over its 4 frames, an LSTM cell, a linear read-out. Only the LSTM carries anything from one
    chunk to the next, so

    - the *encoder* runs the transform and the convolutions on all its chunks at once, as
      matrix products (ONNX Runtime's convolutions over 4 frames cost 3-4 times as much):
      ``windows`` (n, 576), each chunk with the 64 samples before it, to ``features`` (n, 1, 128);
    - the *recurrent* graph runs the LSTM over them as one sequence, then the read-out:
      ``features``, ``h`` and ``c`` (1, 1, 128, the state before the first chunk) to
      ``probability`` (n,), ``h_out`` and ``c_out`` (the state after the last).

    The probabilities are those of the network run chunk after chunk
    (:func:`sequential_probabilities`) to float32 rounding.

    Parameters
    ----------
    weights : dict
        The vendored file's float tensors by name (:func:`serkit.core.onnx_networks.float_constants`).

    Returns
    -------
    encoder, recurrent : serkit.core.onnx_networks.Graph

    Raises
    ------
    ArtifactError
        A weight of the 16 kHz network is missing or has another shape.
    """
    from serkit.core.onnx_networks import Graph, value_info

    def weight(name: str, shape: tuple) -> np.ndarray:
        array = weights.get(VAD_BRANCH + name)
        if array is None or array.shape != shape:
            from serkit.core.exceptions import ArtifactError

            raise ArtifactError(f"the VAD file holds no weight {name!r} of shape {shape}")
        return array

    encoder = Graph("silero_vad_16k_encoder")

    def ints(name: str, *values: int) -> str:
        return encoder.constant(name, np.array(values, dtype=np.int64))

    frames_axis, channels_axis = ints("axis_1", 1), ints("axis_2", 2)
    # Silero pads each window on the right by reflection, to 640 samples: 4 frames of 256, 128 apart.
    tail = encoder.node("Slice", ["windows", ints("tail_start", -2), ints("tail_end", -66), frames_axis,
                                  ints("backwards", -1)], "reflected_tail")
    padded = encoder.node("Concat", ["windows", tail], "padded", axis=1)
    halves = encoder.node("Reshape", [padded, ints("halves_shape", 0, 5, 128)], "halves")
    frames = encoder.node("Concat", [_take(encoder, halves, 0, 4, frames_axis), _take(encoder, halves, 1, 5, frames_axis)],
                          "frames", axis=2)
    basis = weight("stft.forward_basis_buffer", (258, 1, 256))[:, 0, :].T
    spectrum = encoder.node("MatMul", [frames, encoder.constant("stft_basis", basis)], "spectrum")
    real, imag = (_take(encoder, spectrum, first, first + 129, channels_axis) for first in (0, 129))
    power = encoder.node("Add", [encoder.node("Mul", [real, real], "real_2"), encoder.node("Mul", [imag, imag], "imag_2")],
                         "power")
    hidden, n_frames = encoder.node("Sqrt", [power], "magnitude"), 4
    for layer, (shape, stride) in enumerate([((128, 129, 3), 1), ((64, 128, 3), 2), ((64, 64, 3), 2),
                                             ((128, 64, 3), 1)]):
        hidden, n_frames = _conv_as_product(encoder, hidden, n_frames, weight(f"encoder.{layer}.reparam_conv.weight", shape),
                                            weight(f"encoder.{layer}.reparam_conv.bias", shape[:1]), stride,
                                            f"encoder_{layer}", frames_axis)
    encoder.node("Identity", [hidden], "features")
    encoder.inputs.append(value_info("windows", ["n", CHUNK_SAMPLES + CONTEXT_SAMPLES]))
    encoder.outputs.append(value_info("features", ["n", 1, 128]))

    recurrent = Graph("silero_vad_16k_recurrent")
    gates = {name: _onnx_gates(weight(f"decoder.rnn.{name}", (512, 128) if name.startswith("weight") else (512,)))
             for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    # The encoder's (n, 1, 128) is the LSTM's sequence: n steps of a batch of one.
    lstm = recurrent.node("LSTM", ["features", recurrent.constant("lstm_w", gates["weight_ih"][None]),
                                   recurrent.constant("lstm_r", gates["weight_hh"][None]),
                                   recurrent.constant("lstm_b", np.concatenate([gates["bias_ih"], gates["bias_hh"]])[None]),
                                   "", "h", "c"], ["lstm_y", "h_out", "c_out"], hidden_size=128)
    read_out = recurrent.node("MatMul", [recurrent.node("Relu", [lstm], "lstm_relu"),
                                         recurrent.constant("read_out_w", weight("decoder.decoder.2.weight", (1, 128, 1))[0])],
                              "read_out")
    logit = recurrent.node("Add", [read_out, recurrent.constant("read_out_b", weight("decoder.decoder.2.bias", (1,)))],
                           "logit")
    recurrent.node("Reshape", [recurrent.node("Sigmoid", [logit], "sigmoid"),
                               recurrent.constant("flat", np.array([-1], dtype=np.int64))], "probability")
    recurrent.inputs += [value_info("features", ["n", 1, 128]), value_info("h", [1, 1, 128]), value_info("c", [1, 1, 128])]
    recurrent.outputs += [value_info("probability", ["n"]), value_info("h_out", [1, 1, 128]),
                          value_info("c_out", [1, 1, 128])]
    return encoder, recurrent


def _take(graph, tensor: str, start: int, stop: int, axis: str, step: int = 1) -> str:
    """``tensor[start:stop:step]`` along ``axis`` (the name of an int64 constant)."""
    name = f"{tensor}_{start}_{stop}_{step}"
    bounds = [graph.constant(f"{name}_{what}", np.array([value], dtype=np.int64))
              for what, value in (("start", start), ("stop", stop), ("step", step))]
    return graph.node("Slice", [tensor, *bounds[:2], axis, bounds[2]], name)


def _conv_as_product(graph, frames: str, n_frames: int, weight: np.ndarray, bias: np.ndarray, stride: int,
                     name: str, frames_axis: str) -> tuple[str, int]:
    """A 1-D convolution of width 3, padding 1, over ``frames`` (n, n_frames, in) as one matrix
    product: the three taps side by side (n, out_frames, 3 in) times the kernel (3 in, out); then ReLU."""
    padded = graph.node("Pad", [frames, graph.constant(f"{name}_pads", np.array([0, 1, 0, 0, 1, 0], dtype=np.int64))], f"{name}_padded")
    out_frames = (n_frames - 1) // stride + 1
    taps = [_take(graph, padded, tap, tap + stride * (out_frames - 1) + 1, frames_axis, stride) for tap in range(3)]
    stacked = graph.node("Concat", taps, f"{name}_taps", axis=2)
    kernel = weight.transpose(2, 1, 0).reshape(-1, weight.shape[0])  # (out, in, tap) -> (tap * in, out)
    product = graph.node("MatMul", [stacked, graph.constant(f"{name}_kernel", kernel)], f"{name}_product")
    shifted = graph.node("Add", [product, graph.constant(f"{name}_bias", bias)], f"{name}_shifted")
    return graph.node("Relu", [shifted], f"{name}_out"), out_frames


def _onnx_gates(array: np.ndarray) -> np.ndarray:
    """PyTorch's LSTM gate order (input, forget, cell, output) as ONNX's (input, output, forget, cell)."""
    i, f, g, o = np.split(array, 4)
    return np.concatenate([i, o, f, g])


def speech_probabilities(y16: np.ndarray) -> np.ndarray:
    """Silero's speech probability for each 32 ms chunk of 16 kHz audio ``y16`` (:func:`run_vad`).

    >>> speech_probabilities(np.zeros(16000, dtype=np.float32)).shape
    (32,)
    """
    return run_vad(y16)[0]


def run_vad(y16: np.ndarray, history: np.ndarray | None = None,
            state: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Silero's speech probability for each 32 ms chunk of ``y16``, and its state after the last.

    The chunks run as one stream, as Silero runs, :data:`PIECE_CHUNKS` per call of
    :func:`vad_network`'s sessions (the next piece's encoder beside this piece's LSTM); the
    middle of a long silence is skipped (:func:`chunks_to_run`; probability 0 there, the
    state carried over it).

    Parameters
    ----------
    y16 : np.ndarray [shape=(n,)], float32
        Mono audio at :data:`VAD_SR`; the last chunk is padded with zeros.
    history : np.ndarray or None
        Audio just before ``y16`` (its last 64 samples are the first chunk's context).
    state : np.ndarray [shape=(2, 1, 128)] or None
        The state this function returned for ``history``: ``y16`` continues that stream.
        None starts afresh.

    Returns
    -------
    probabilities : np.ndarray [shape=(ceil(n / 512),)], float32
    state : np.ndarray [shape=(2, 1, 128)], float32

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(48000).astype(np.float32) * 0.1
    >>> whole, _ = run_vad(y)
    >>> first, state = run_vad(y[:16384])
    >>> rest, _ = run_vad(y[16384:], history=y[:16384], state=state)
    >>> bool(np.allclose(whole, np.r_[first, rest], atol=1e-5))
    True
    """
    n_chunks = math.ceil(y16.shape[-1] / CHUNK_SAMPLES)
    state = np.zeros((2, 1, 128), dtype=np.float32) if state is None else state
    probabilities = np.zeros(n_chunks, dtype=np.float32)
    if n_chunks == 0:
        return probabilities, state
    network, windows, order = vad_network(), _windows(y16, history), chunks_to_run(y16)
    if order.size == 0:
        return probabilities, state
    pieces = [order[first:first + PIECE_CHUNKS] for first in range(0, order.size, PIECE_CHUNKS)]

    def encode(chunks: np.ndarray) -> np.ndarray:
        return network.encoder.run(None, {"windows": windows[chunks]})[0]

    h, c = state[:1], state[1:]
    features = encode(pieces[0])
    # The next piece's encoder runs beside this piece's LSTM, which is sequential and uses one core
    # (the pool starts its thread at the first submit: a clip of one piece never starts it).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="serkit-vad") as pool:
        for k, chunks in enumerate(pieces):
            following = pool.submit(encode, pieces[k + 1]) if k + 1 < len(pieces) else None
            probabilities[chunks], h, c = network.recurrent.run(None, {"features": features, "h": h, "c": c})
            if following is not None:
                features = following.result()
    return probabilities, np.concatenate([h, c])


def sequential_probabilities(y16: np.ndarray) -> np.ndarray:
    """Silero as its authors run it: the vendored file, every chunk, one call each (slow; the
    reference :func:`run_vad` is checked against).

    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    >>> bool(np.allclose(sequential_probabilities(y), speech_probabilities(y), atol=1e-5))
    True
    """
    from serkit.core.onnx_networks import onnx_session

    session, rate = onnx_session(vendored_vad()), np.array(VAD_SR, dtype=np.int64)
    state = np.zeros((2, 1, 128), dtype=np.float32)
    probabilities = []
    for window in _windows(y16):
        probability, state = session.run(None, {"input": window[None], "state": state, "sr": rate})
        probabilities.append(probability[0, 0])
    return np.array(probabilities, dtype=np.float32)


def _windows(y16: np.ndarray, history: np.ndarray | None = None) -> np.ndarray:
    """Window ``c``: chunk ``c`` with the 64 samples before it, as the network takes it (a view)."""
    n_chunks = math.ceil(y16.shape[-1] / CHUNK_SAMPLES)
    before = np.zeros(0, dtype=np.float32) if history is None else history[-CONTEXT_SAMPLES:]
    audio = np.concatenate([np.zeros(CONTEXT_SAMPLES - before.shape[-1], np.float32), before, y16,
                            np.zeros(n_chunks * CHUNK_SAMPLES - y16.shape[-1], np.float32)])
    return np.lib.stride_tricks.sliding_window_view(audio, CHUNK_SAMPLES + CONTEXT_SAMPLES)[::CHUNK_SAMPLES]


def chunks_to_run(y16: np.ndarray) -> np.ndarray:
    """The chunks the network runs on: all but the middle of each silence (chunks whose peak
    stays under :data:`GATE_DBFS`) longer than twice :data:`GATE_KEEP_CHUNKS`.

    >>> y = np.zeros(100 * CHUNK_SAMPLES, dtype=np.float32)
    >>> y[40 * CHUNK_SAMPLES: 50 * CHUNK_SAMPLES] = 0.1
    >>> chunks = chunks_to_run(y)
    >>> chunks.size, chunks[14:18].tolist(), chunks[56:60].tolist()
    (74, [14, 15, 24, 25], [64, 65, 84, 85])
    """
    full = y16.shape[-1] // CHUNK_SAMPLES
    chunks = y16[:full * CHUNK_SAMPLES].reshape(full, CHUNK_SAMPLES)
    tail = y16[full * CHUNK_SAMPLES:]
    peaks = np.maximum(chunks.max(axis=1), -chunks.min(axis=1))  # no copy of the block's magnitudes
    if tail.size:
        peaks = np.r_[peaks, np.abs(tail).max()]
    silent = peaks < 10 ** (GATE_DBFS / 20)
    # Chunks at least GATE_KEEP_CHUNKS into a silence from both of its ends are skipped.
    into = np.minimum(_run_length(silent), _run_length(silent[::-1])[::-1])
    return np.flatnonzero(into <= GATE_KEEP_CHUNKS)


def speech_to_floor_db(power: np.ndarray, segments: list[Segment]) -> float | None:
    """The speech's mean power over the recording's noise floor (dB): a signal-to-noise ratio as heard.

    ``power``: the mean power of each 32 ms chunk of the whole recording
    (:func:`serkit.inference.channels.power_envelope`); the floor is the :data:`FLOOR_PERCENTILE`
    of the chunks outside ``segments``. None with under :data:`MIN_FLOOR_S` outside speech or
    :data:`MIN_SNR_SPEECH_S` of speech (a recording that never pauses has no floor to hear).

    >>> power = np.r_[np.full(40, 1e-4), np.full(40, 1e-2)]
    >>> speech_to_floor_db(power, [Segment(40 * FRAME_S, 80 * FRAME_S)])
    20.0
    """
    speech = np.zeros(power.shape[-1], dtype=bool)
    for start, end in segments:
        speech[int(start / FRAME_S): math.ceil(end / FRAME_S)] = True
    if speech.sum() * FRAME_S < MIN_SNR_SPEECH_S or (~speech).sum() * FRAME_S < MIN_FLOOR_S:
        return None
    floor = max(float(np.percentile(power[~speech], FLOOR_PERCENTILE)), 1e-12)
    return round(float(10 * np.log10(max(float(power[speech].mean()), 1e-12) / floor)), 1)


def _run_length(flags: np.ndarray) -> np.ndarray:
    """For each position, how many flags in a row are set up to and including it.

    >>> _run_length(np.array([1, 1, 0, 1, 1, 1], dtype=bool)).tolist()
    [1, 2, 0, 1, 2, 3]
    """
    count = np.cumsum(flags)
    return count - np.maximum.accumulate(np.where(flags, 0, count))


def spectral_flux(y16: np.ndarray, chunks: np.ndarray | None = None) -> np.ndarray:
    """How much the log-mel spectrum of 16 kHz audio changes at each 32 ms chunk (all, or ``chunks``).

    For chunk ``c``: the mean absolute change over 40 mel bands, in dB, between the 64 ms
    frames centred on samples ``512 c`` and ``512 c + 128`` (8 ms later, :data:`FLUX_HOP`),
    each frame floored :data:`FLUX_FLOOR_DB` under its loudest band (so silent bands add no
    numerical noise).

    >>> t = np.arange(16000) / 16000
    >>> hum = np.sin(2 * np.pi * 100 * t).astype(np.float32)
    >>> chatter = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * (t * 8 % 1 > 0.5)
    >>> float(np.median(spectral_flux(hum))) < 0.1 < float(np.median(spectral_flux(chatter)))
    True
    """
    from serkit.features.spectral import frames_of, hann_window, mel_filters

    chunks = np.arange(math.ceil(y16.shape[-1] / CHUNK_SAMPLES)) if chunks is None else np.asarray(chunks, dtype=int)
    half = FLUX_N_FFT // 2
    padded = np.pad(np.asarray(y16, dtype=np.float32), (half, half + CHUNK_SAMPLES))
    frames = frames_of(padded, frame_length=FLUX_N_FFT, hop_length=FLUX_HOP)  # frame i centred on sample 128 i
    window = hann_window(FLUX_N_FFT).astype(np.float32)
    filters = np.ascontiguousarray(mel_filters(sr=VAD_SR, n_fft=FLUX_N_FFT, n_mels=40).T, dtype=np.float32)
    flux = np.empty(chunks.size, dtype=np.float32)
    for start in range(0, chunks.size, FLUX_PIECE_CHUNKS):
        pair = 4 * chunks[start:start + FLUX_PIECE_CHUNKS, None] + np.arange(2)
        spectrum = np.fft.rfft((frames[pair] * window).reshape(-1, FLUX_N_FFT), axis=-1)
        level = 10 * np.log10((spectrum.real ** 2 + spectrum.imag ** 2) @ filters + 1e-12).reshape(-1, 2, 40)
        level = np.maximum(level, level.max(axis=-1, keepdims=True) - FLUX_FLOOR_DB)
        flux[start:start + FLUX_PIECE_CHUNKS] = np.abs(level[:, 1] - level[:, 0]).mean(axis=-1)
    return flux


def voiced_flux(y16: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """:func:`spectral_flux` of every :data:`FLUX_EVERY_CHUNKS`-th chunk near a chunk Silero
    may call speech (within :data:`FLUX_MARGIN_CHUNKS` of a probability at least :data:`DOUBT_OFF`);
    NaN elsewhere (no speech segment can reach there, so its flux is never asked).

    >>> y = np.random.default_rng(0).standard_normal(32 * CHUNK_SAMPLES).astype(np.float32)
    >>> p = np.zeros(32, dtype=np.float32); p[10] = 0.9
    >>> np.flatnonzero(~np.isnan(voiced_flux(y, p))).tolist()
    [6, 8, 10, 12, 14]
    """
    window = np.ones(2 * FLUX_MARGIN_CHUNKS + 1)
    near = np.convolve(probabilities >= min(SPEECH_OFF, DOUBT_OFF), window, mode="same") > 0
    chosen = np.flatnonzero(near & (np.arange(near.size) % FLUX_EVERY_CHUNKS == 0))
    flux = np.full(near.size, np.nan, dtype=np.float32)
    flux[chosen] = spectral_flux(y16, chosen)
    return flux


def speech_segments(probabilities: np.ndarray, *, duration_s: float, on: float | None = None,
                    off: float | None = None, min_speech_s: float | None = None) -> list[Segment]:
    """Speech segments from per-chunk probabilities (hysteresis, then length rules, then padding).

    ``on``, ``off``, ``min_speech_s``: default :data:`SPEECH_ON`, :data:`SPEECH_OFF`, :data:`MIN_SPEECH_S`.

    >>> p = np.r_[np.zeros(10), np.ones(20), np.zeros(10)]
    >>> speech_segments(p, duration_s=40 * FRAME_S)
    [Segment(start=0.29, end=0.99)]
    >>> speech_segments(0.4 * p, duration_s=40 * FRAME_S), speech_segments(0.4 * p, duration_s=1.28, on=0.3, off=0.15)
    ([], [Segment(start=0.29, end=0.99)])
    """
    on = SPEECH_ON if on is None else on
    off = SPEECH_OFF if off is None else off
    min_speech_s = MIN_SPEECH_S if min_speech_s is None else min_speech_s
    raw, start, quiet_since = [], None, None
    for index, probability in enumerate(probabilities):
        t = index * FRAME_S
        if probability >= on:
            start, quiet_since = (t if start is None else start), None
        elif start is not None and probability < off:
            quiet_since = t if quiet_since is None else quiet_since
            if t + FRAME_S - quiet_since >= MIN_PAUSE_S:
                raw.append((start, quiet_since))
                start, quiet_since = None, None
    if start is not None:
        raw.append((start, quiet_since if quiet_since is not None else len(probabilities) * FRAME_S))
    kept = [(s, min(e, duration_s)) for s, e in raw if min(e, duration_s) - s >= min_speech_s]
    return [
        Segment(round(max(0.0, s - PAD_S, (kept[i - 1][1] + s) / 2 if i else 0.0), 3),
                round(min(duration_s, e + PAD_S, (e + kept[i + 1][0]) / 2 if i + 1 < len(kept) else duration_s), 3))
        for i, (s, e) in enumerate(kept)
    ]


def split_utterances(segments: list[Segment]) -> list[Utterance]:
    """Utterances of about 1–10 s from speech segments.

    An utterance under :data:`MIN_UTTERANCE_S` joins its nearer neighbour when the
    pause between them is at most :data:`MERGE_GAP_S` and the result stays within
    :data:`MAX_UTTERANCE_S`; then utterances over :data:`MAX_UTTERANCE_S` are cut into
    equal parts. A lone short utterance stays as it is.

    >>> split_utterances([Segment(0.0, 0.4), Segment(0.6, 2.0), Segment(5.0, 27.0)])
    [Utterance(start=0.0, end=2.0, speech_s=1.8), Utterance(start=5.0, end=12.333, speech_s=7.333), \
Utterance(start=12.333, end=19.667, speech_s=7.333), Utterance(start=19.667, end=27.0, speech_s=7.333)]
    """
    groups = [[segment] for segment in segments]
    merged = True
    while merged:
        merged = False
        for i, group in enumerate(groups):
            if group[-1].end - group[0].start >= MIN_UTTERANCE_S:
                continue
            partner = _nearer_neighbour(groups, i)
            if partner is not None:
                low, high = sorted((i, partner))
                groups[low:high + 1] = [groups[low] + groups[high]]
                merged = True
                break
    utterances = []
    for group in groups:
        start, end = group[0].start, group[-1].end
        parts = max(1, math.ceil((end - start) / MAX_UTTERANCE_S - 1e-9))
        edges = np.linspace(start, end, parts + 1)
        utterances += [Utterance(round(float(a), 3), round(float(b), 3), _speech_within(group, a, b))
                       for a, b in zip(edges, edges[1:])]
    return utterances


def heard_spans(utterances: list[Utterance], duration_s: float, *, context_s: float = CONTEXT_S) -> list[tuple[float, float]]:
    """The stretch of audio the model hears for each utterance: the utterance and up to
    ``context_s`` of the pause on either side, never past the pause's middle.

    >>> heard_spans([Utterance(1.5, 3.0, 1.5), Utterance(3.4, 6.0, 2.6)], 9.0)
    [(0.5, 3.2), (3.2, 7.0)]
    """
    edges = [0.0] + [(a.end + b.start) / 2 for a, b in zip(utterances, utterances[1:])] + [duration_s]
    return [(round(max(u.start - context_s, edges[i]), 3), round(min(u.end + context_s, edges[i + 1]), 3))
            for i, u in enumerate(utterances)]


def context_without_tones(piece: np.ndarray, start: int, end: int) -> tuple[int, int]:
    """The part of a heard ``piece`` the model hears, its utterance from sample ``start`` to ``end``:
    the context on either side stops a frame clear of a loud steady tone (:func:`serkit.core.level.loud_tones`).

    A recorder's or a voicemail's beep within a second of the speech was heard as part of the
    utterance: a 1 kHz beep of 0.3 s at -6 dBFS before the speech moved the emotion of 30 % of 120
    shared clips, 8 % with the context stopped at it.

    >>> t = np.arange(32000) / 16000
    >>> piece = np.r_[0.5 * np.sin(2 * np.pi * 1000 * t[:4800]), np.zeros(11200), 0.1 * np.sin(t[:16000] * 900)]
    >>> context_without_tones(piece.astype(np.float32), 16000, 32000)
    (5120, 32000)
    """
    tones = np.flatnonzero(loud_tones(piece))
    before, after = tones[(tones + 1) * TONE_FRAME <= start], tones[tones * TONE_FRAME >= end]
    # One frame more, up to the utterance: a tone's last frame, cut off or fading, is no steady tone.
    return (min(int(before.max() + 2) * TONE_FRAME, start) if before.size else 0,
            max(int(after.min() - 1) * TONE_FRAME, end) if after.size else piece.size)


def _nearer_neighbour(groups: list[list[Segment]], i: int) -> int | None:
    """The neighbour a short group may join: the nearer one within the gap and length limits."""
    options = []
    for j in (i - 1, i + 1):
        if 0 <= j < len(groups):
            first, second = sorted((groups[i], groups[j]), key=lambda g: g[0].start)
            gap, length = second[0].start - first[-1].end, second[-1].end - first[0].start
            if gap <= MERGE_GAP_S and length <= MAX_UTTERANCE_S:
                options.append((gap, j))
    return min(options)[1] if options else None


def _speech_within(group: list[Segment], start: float, end: float) -> float:
    return round(float(sum(max(0.0, min(e, end) - max(s, start)) for s, e in group)), 3)


def raised_if_quiet(y16: np.ndarray) -> np.ndarray:
    """``y16`` raised to a peak of :data:`QUIET_PEAK_DBFS` (by at most :data:`MAX_QUIET_GAIN_DB`)
    when it peaks under it; unchanged otherwise, silence too.

    >>> quiet = np.array([0.001, -0.0005], dtype=np.float32)  # -60 dBFS: raised by 20 dB, the most
    >>> np.round(raised_if_quiet(quiet).astype(float), 6).tolist()
    [0.01, -0.005]
    >>> y = np.array([0.5, -0.25], dtype=np.float32)
    >>> raised_if_quiet(y) is y, raised_if_quiet(np.zeros(2, dtype=np.float32)).tolist()
    (True, [0.0, 0.0])
    """
    peak = float(max(y16.max(), -y16.min())) if y16.size else 0.0  # no copy of 5 minutes' magnitudes
    quiet = 10 ** (QUIET_PEAK_DBFS / 20)
    if not 0.0 < peak < quiet:
        return y16
    return y16 * np.float32(min(quiet / peak, 10 ** (MAX_QUIET_GAIN_DB / 20)))


class SpeechDetector:
    """Speech segments and utterances of audio given block by block, at any rate.

    Each block is resampled to 16 kHz (soxr's streaming resampler) and gathered;
    every :data:`PENDING_S` seconds the network runs on what was gathered, carrying
    its state over from the block before, so memory holds five minutes at 16 kHz.

    Examples
    --------
    >>> detector = SpeechDetector(22050)
    >>> for block in np.split(np.zeros(44100, dtype=np.float32), 4):
    ...     detector.feed(block)
    >>> detector.finish().no_speech_reason()[:18]
    'no speech detected'
    """

    def __init__(self, sr: int):
        import soxr

        self.sr = int(sr)
        self._resampler = None if self.sr == VAD_SR else soxr.ResampleStream(self.sr, VAD_SR, 1, dtype="float32")
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._history = np.zeros(0, dtype=np.float32)
        self._state = None
        self._probabilities: list[np.ndarray] = []
        self._flux: list[np.ndarray] = []
        self._power: list[np.ndarray] = []
        self._input_samples = 0

    def feed(self, block: np.ndarray) -> None:
        """Add the next block of mono samples at :attr:`sr`."""
        self._input_samples += block.shape[-1]
        self._gather(block if self._resampler is None else self._resampler.resample_chunk(block))
        while self._pending_samples >= PENDING_S * VAD_SR:
            self._run(final=False)

    def finish(self) -> Speech:
        """The speech found in everything fed."""
        if self._resampler is not None:
            self._gather(self._resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
        self._run(final=True)
        probabilities = np.concatenate([np.zeros(0, dtype=np.float32), *self._probabilities])
        flux = np.concatenate([np.zeros(0, dtype=np.float32), *self._flux])
        duration = self._input_samples / self.sr
        segments, steady = _moving_segments(probabilities, flux, duration_s=duration)
        if not segments:
            segments, steady = _moving_segments(probabilities, flux, duration_s=duration, on=DOUBT_ON,
                                                off=DOUBT_OFF, min_speech_s=DOUBT_MIN_SPEECH_S)
        peak = float(probabilities.max()) if probabilities.size else 0.0
        power = np.concatenate([np.zeros(0), *self._power])
        return Speech(duration, segments, split_utterances(segments), round(peak, 3), round(steady, 3),
                      speech_to_floor_db(power, segments))

    def _gather(self, y16: np.ndarray) -> None:
        self._pending.append(np.asarray(y16, dtype=np.float32))
        self._pending_samples += y16.shape[-1]

    def _run(self, *, final: bool) -> None:
        # Between runs, whole chunks only (the 32 ms grid stays), and at most PENDING_S seconds.
        wanted = self._pending_samples if final else min(self._pending_samples, int(PENDING_S * VAD_SR))
        audio = self._take(wanted if final else wanted // CHUNK_SAMPLES * CHUNK_SAMPLES)
        if audio.size:
            audio = remove_mains_hum(audio, VAD_SR)  # a buzz moved utterances' edges and joined some
            # The floor a voice is heard over: a buzz's is removed (CAM++ hears through it).
            self._power.append(power_envelope(audio, VAD_SR, hop_s=FRAME_S))
            audio = raised_if_quiet(audio)
            probabilities, self._state = run_vad(audio, self._history, self._state)
            self._probabilities.append(probabilities)
            self._flux.append(voiced_flux(audio, probabilities))
            self._history = audio[-CONTEXT_SAMPLES:]

    def _take(self, n: int) -> np.ndarray:
        """The first ``n`` pending samples, removed from the pending blocks."""
        taken, count = [], 0
        while count < n:
            block = self._pending.pop(0)
            taken.append(block[:n - count])
            if block.shape[-1] > n - count:
                self._pending.insert(0, block[n - count:])
            count += taken[-1].shape[-1]
        self._pending_samples -= n
        return np.concatenate([np.zeros(0, dtype=np.float32), *taken])


def _moving_segments(probabilities: np.ndarray, flux: np.ndarray, *, duration_s: float,
                     **thresholds) -> tuple[list[Segment], float]:
    """:func:`speech_segments` whose median spectral flux is at least :data:`MIN_SPECTRAL_FLUX_DB`
    (chunks without a flux measured left out), and the seconds of those dropped as steady."""
    segments, steady = [], 0.0
    for segment in speech_segments(probabilities, duration_s=duration_s, **thresholds):
        inside = flux[int(segment.start / FRAME_S): math.ceil(segment.end / FRAME_S)]
        inside = inside[~np.isnan(inside)]
        if inside.size and float(np.median(inside)) < MIN_SPECTRAL_FLUX_DB:
            steady += segment.end - segment.start
        else:
            segments.append(segment)
    return segments, steady


def find_speech(y: np.ndarray, sr: int) -> Speech:
    """Speech segments and utterances of mono samples ``y`` at ``sr`` Hz.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float
    sr : int > 0

    Returns
    -------
    Speech
        ``duration_s``, ``segments``, ``utterances``, ``speech_s``, ``max_probability``;
        ``no_speech_reason()`` is None when it holds speech.

    Examples
    --------
    >>> find_speech(np.zeros(16000, dtype=np.float32), 16000).segments
    []
    """
    detector = SpeechDetector(sr)
    detector.feed(np.asarray(y, dtype=np.float32))
    return detector.finish()
