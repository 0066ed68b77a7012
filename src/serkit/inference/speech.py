"""Speech presence and utterances: which stretches of a recording hold speech.

A voice-activity detector runs before any emotion: Silero VAD 6.2.0 (MIT), whose
ONNX network serkit vendors (``serkit/data/vad``, SHA-256 checked at load) and runs
with ONNX Runtime, so neither the ``silero-vad`` package nor PyTorch is needed.
It gives the probability of speech for every 32 ms of 16 kHz audio;

- :func:`speech_segments` turns those into speech segments (on at 0.5, off below
  0.35 for at least :data:`MIN_PAUSE_S`, segments shorter than :data:`MIN_SPEECH_S` dropped);
- segments whose spectrum hardly changes (:func:`spectral_flux` under
  :data:`MIN_SPECTRAL_FLUX_DB`) are dropped too: Silero takes some hums and sweeps for a
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from serkit.core.audio import is_silent
from serkit.core.exceptions import ArtifactError
from serkit.core.once import once

VAD_REQUIREMENT = "silero-vad==6.2.0"
VAD_PATH = Path(__file__).parents[1] / "data" / "vad" / "silero_vad.onnx"
VAD_SHA256 = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
"""SHA-256 of ``silero_vad/data/silero_vad.onnx`` in the ``silero-vad`` 6.2.0 wheel."""

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

WARMUP_CHUNKS = 8
"""Chunks (0.26 s) each batched piece replays before its own, so its recurrent state has settled."""
MIN_PIECE_CHUNKS, MAX_PIECE_CHUNKS = 32, 250
"""Audio is cut into pieces of 1–8 s run side by side as one batch (a short clip into up to 8)."""
PENDING_S = 120.0
"""Seconds :class:`SpeechDetector` gathers before running the network on them."""

SPEECH_ON, SPEECH_OFF = 0.5, 0.35
"""Speech starts at this probability and ends below the lower one (Silero's defaults)."""
MIN_SPEECH_S = 0.25
"""Shorter stretches of speech are dropped (clicks, a cough)."""
MIN_PAUSE_S = 0.12
"""A pause shorter than this does not end a segment (under the 0.2 s between two speakers' turns)."""
PAD_S = 0.03
"""Each segment is widened by this much on either side (the network's decision lags the onset)."""

FLUX_HOP = CHUNK_SAMPLES // 4
"""Spectral-flux frames every 8 ms: four per network chunk, so the two grids line up."""
FLUX_N_FFT = 1024
"""64 ms frames: several periods of a mains hum, so its spectrum does not flicker with the frame's phase."""
FLUX_FLOOR_DB = 60.0
FLUX_PIECE_CHUNKS = 250
"""The flux is computed 8 s (250 chunks) at a time, so its frames never hold more than a few MB."""
MIN_SPECTRAL_FLUX_DB = 0.5
"""Least median change (dB per 8 ms frame, the mean over 40 mel bands, each frame floored 60 dB
under its loudest band) of a speech segment's log-mel spectrum. Chosen on development material
only (seeds 98 and 99 of the synthetic non-speech, RAVDESS actor 1, nEMO speaker EB0): speech
segments 1.13 dB and up, the hums and sweeps Silero took for speech 0.26 dB and under."""

CONTEXT_S = 1.0
"""Seconds of the pause on either side of an utterance that the model hears with it (up to
the pause's middle). The models learnt from whole corpus clips, which hold about a second of
silence around their sentence: on RAVDESS's five speaker folds, a model trained on whole
clips scored 69.7 % UA on whole clips and 49.2 % on their bare speech (docs/results.md)."""

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

    @property
    def speech_s(self) -> float:
        """Seconds of speech (the segments' total)."""
        return round(float(sum(end - start for start, end in self.segments)), 3)

    def no_speech_reason(self) -> str | None:
        """Why the recording counts as holding no speech, or None when it holds some.

        >>> Speech(4.0, max_probability=0.12).no_speech_reason()
        'no speech detected (highest speech probability 0.12 in 4.0 s; speech needs 0.5 for 0.25 s)'
        >>> Speech(4.0, max_probability=0.9, steady_s=3.5).no_speech_reason()
        'no speech detected (3.5 s of voice-like sound in 4.0 s, but with a steady spectrum: a hum, tone or machine)'
        """
        if self.utterances:
            return None
        if self.steady_s:
            return (f"no speech detected ({self.steady_s:.1f} s of voice-like sound in {self.duration_s:.1f} s, "
                    "but with a steady spectrum: a hum, tone or machine)")
        return (f"no speech detected (highest speech probability {self.max_probability:.2f} in "
                f"{self.duration_s:.1f} s; speech needs {SPEECH_ON:g} for {MIN_SPEECH_S:g} s)")


@once
def vad_session():
    """The ONNX Runtime session of the vendored Silero VAD, after its SHA-256 check.

    The file is read once: the bytes checked are the bytes ONNX Runtime gets.
    ``vad_session.preload()`` starts building it in a background thread (``serkit predict``
    does, while the model loads: :func:`serkit.core.once.once`).

    Raises
    ------
    ArtifactError
        The file is missing or differs from :data:`VAD_REQUIREMENT`'s.
    """
    import hashlib

    from serkit.inference.runtime import onnx_session

    if not VAD_PATH.is_file():
        raise ArtifactError(f"{VAD_PATH}: missing; reinstall serkit")
    network = VAD_PATH.read_bytes()
    if hashlib.sha256(network).hexdigest() != VAD_SHA256:
        raise ArtifactError(f"{VAD_PATH}: SHA-256 differs from {VAD_REQUIREMENT}'s (altered or another version); "
                            "reinstall serkit")
    return onnx_session(network)


def speech_probabilities(y16: np.ndarray, history: np.ndarray | None = None) -> np.ndarray:
    """Silero's speech probability for each 32 ms chunk of 16 kHz audio ``y16``.

    The audio is cut into pieces run side by side as one batch (the network is
    recurrent: one chunk after another is slow in Python); each piece first replays
    :data:`WARMUP_CHUNKS` chunks of the audio before it, taken from ``history`` (the
    audio that came before ``y16``, if any) at the start.

    Parameters
    ----------
    y16 : np.ndarray [shape=(n,)], float32
        Mono audio at :data:`VAD_SR`; the last chunk is padded with zeros.
    history : np.ndarray or None
        Audio just before ``y16`` (its last ``WARMUP_CHUNKS * 512 + 64`` samples are used).

    Returns
    -------
    np.ndarray [shape=(ceil(n / 512),)], float32

    Examples
    --------
    >>> speech_probabilities(np.zeros(16000, dtype=np.float32)).shape
    (32,)
    """
    n_chunks = math.ceil(y16.shape[-1] / CHUNK_SAMPLES)
    if n_chunks == 0:
        return np.zeros(0, dtype=np.float32)
    piece = int(np.clip(math.ceil(n_chunks / 8), MIN_PIECE_CHUNKS, MAX_PIECE_CHUNKS))
    n_pieces = math.ceil(n_chunks / piece)
    lead = WARMUP_CHUNKS * CHUNK_SAMPLES + CONTEXT_SAMPLES
    before = np.zeros(lead, dtype=np.float32) if history is None else history[-lead:]
    before = np.pad(before, (lead - before.shape[-1], 0))
    audio = np.concatenate([before, y16, np.zeros(n_pieces * piece * CHUNK_SAMPLES - y16.shape[-1], np.float32)])
    span = (WARMUP_CHUNKS + piece) * CHUNK_SAMPLES + CONTEXT_SAMPLES
    pieces = np.stack([audio[k * piece * CHUNK_SAMPLES: k * piece * CHUNK_SAMPLES + span] for k in range(n_pieces)])
    # Silent pieces are not run: a long silent upload then costs one pass over its samples.
    audible = np.array([not is_silent(samples) for samples in pieces])
    out = np.zeros((n_pieces, piece), dtype=np.float32)
    if audible.any():
        out[audible] = _run_pieces(pieces[audible], piece)
    return out.reshape(-1)[:n_chunks]


def _run_pieces(pieces: np.ndarray, piece: int) -> np.ndarray:
    """Silero's probabilities for each chunk of each piece after its warm-up, batched."""
    session, rate = vad_session(), np.array(VAD_SR, dtype=np.int64)
    state = np.zeros((2, len(pieces), 128), dtype=np.float32)
    out = np.empty((len(pieces), piece), dtype=np.float32)
    for step in range(WARMUP_CHUNKS + piece):
        window = pieces[:, step * CHUNK_SAMPLES: (step + 1) * CHUNK_SAMPLES + CONTEXT_SAMPLES]
        probability, state = session.run(None, {"input": window, "state": state, "sr": rate})
        if step >= WARMUP_CHUNKS:
            out[:, step - WARMUP_CHUNKS] = probability[:, 0]
    return out


def spectral_flux(y16: np.ndarray) -> np.ndarray:
    """How much the log-mel spectrum of 16 kHz audio changes, every 8 ms (:data:`FLUX_HOP`).

    The mean absolute change over 40 mel bands of 64 ms frames from one frame to the next,
    in dB, each frame floored :data:`FLUX_FLOOR_DB` under its loudest band (so silent bands add no
    numerical noise). Frame ``i`` is centred on sample ``i * FLUX_HOP``; four per chunk.

    >>> t = np.arange(16000) / 16000
    >>> hum = np.sin(2 * np.pi * 100 * t).astype(np.float32)
    >>> chatter = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * (t * 8 % 1 > 0.5)
    >>> float(np.median(spectral_flux(hum))) < 0.1 < float(np.median(spectral_flux(chatter)))
    True
    """
    from serkit.features.spectral import apply_filters, mel_filters, stft_magnitude

    n_frames = math.ceil(y16.shape[-1] / FLUX_HOP)
    padded = np.pad(y16, (0, max(0, n_frames * FLUX_HOP - y16.shape[-1])))
    power = apply_filters(mel_filters(sr=VAD_SR, n_fft=FLUX_N_FFT, n_mels=40),
                          stft_magnitude(padded, n_fft=FLUX_N_FFT, hop_length=FLUX_HOP)[:, :n_frames] ** 2)
    level = 10 * np.log10(power + 1e-12)
    level = np.maximum(level, level.max(axis=0, keepdims=True) - FLUX_FLOOR_DB)
    change = np.abs(np.diff(level, axis=1)).mean(axis=0)
    return np.concatenate([change[:1], change]).astype(np.float32) if change.size else np.zeros(n_frames, np.float32)


def speech_segments(probabilities: np.ndarray, *, duration_s: float) -> list[Segment]:
    """Speech segments from per-chunk probabilities (hysteresis, then length rules, then padding).

    >>> p = np.r_[np.zeros(10), np.ones(20), np.zeros(10)]
    >>> speech_segments(p, duration_s=40 * FRAME_S)
    [Segment(start=0.29, end=0.99)]
    """
    raw, start, quiet_since = [], None, None
    for index, probability in enumerate(probabilities):
        t = index * FRAME_S
        if probability >= SPEECH_ON:
            start, quiet_since = (t if start is None else start), None
        elif start is not None and probability < SPEECH_OFF:
            quiet_since = t if quiet_since is None else quiet_since
            if t + FRAME_S - quiet_since >= MIN_PAUSE_S:
                raw.append((start, quiet_since))
                start, quiet_since = None, None
    if start is not None:
        raw.append((start, quiet_since if quiet_since is not None else len(probabilities) * FRAME_S))
    kept = [(s, min(e, duration_s)) for s, e in raw if min(e, duration_s) - s >= MIN_SPEECH_S]
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


class SpeechDetector:
    """Speech segments and utterances of audio given block by block, at any rate.

    Each block is resampled to 16 kHz (soxr's streaming resampler) and gathered;
    every :data:`PENDING_S` seconds the network runs on what was gathered, carrying
    the audio before it as warm-up, so memory holds two minutes at 16 kHz.

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
        self._probabilities: list[np.ndarray] = []
        self._flux: list[np.ndarray] = []
        self._input_samples = 0

    def feed(self, block: np.ndarray) -> None:
        """Add the next block of mono samples at :attr:`sr`."""
        self._input_samples += block.shape[-1]
        self._gather(block if self._resampler is None else self._resampler.resample_chunk(block))
        if self._pending_samples >= PENDING_S * VAD_SR:
            self._run(final=False)

    def finish(self) -> Speech:
        """The speech found in everything fed."""
        if self._resampler is not None:
            self._gather(self._resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
        self._run(final=True)
        probabilities = np.concatenate([np.zeros(0, dtype=np.float32), *self._probabilities])
        flux = np.concatenate([np.zeros(0, dtype=np.float32), *self._flux])
        duration = self._input_samples / self.sr
        segments, steady = [], 0.0
        for segment in speech_segments(probabilities, duration_s=duration):
            inside = flux[int(segment.start / FLUX_HOP * VAD_SR): int(math.ceil(segment.end / FLUX_HOP * VAD_SR))]
            if inside.size and float(np.median(inside)) < MIN_SPECTRAL_FLUX_DB:
                steady += segment.end - segment.start
            else:
                segments.append(segment)
        peak = float(probabilities.max()) if probabilities.size else 0.0
        return Speech(duration, segments, split_utterances(segments), round(peak, 3), round(steady, 3))

    def _gather(self, y16: np.ndarray) -> None:
        self._pending.append(np.asarray(y16, dtype=np.float32))
        self._pending_samples += y16.shape[-1]

    def _run(self, *, final: bool) -> None:
        audio = np.concatenate([np.zeros(0, dtype=np.float32), *self._pending])
        # Between runs, keep whole chunks only, so chunk boundaries stay on the 32 ms grid.
        usable = audio.shape[-1] if final else audio.shape[-1] // CHUNK_SAMPLES * CHUNK_SAMPLES
        if usable:
            self._probabilities.append(speech_probabilities(audio[:usable], self._history))
            # In 8 s pieces: the 64 ms frames of two minutes at once would hold hundreds of MB.
            step = FLUX_PIECE_CHUNKS * CHUNK_SAMPLES
            self._flux += [_flux_unless_silent(audio[start:min(start + step, usable)]) for start in range(0, usable, step)]
            self._history = audio[:usable][-(WARMUP_CHUNKS * CHUNK_SAMPLES + CONTEXT_SAMPLES):]
        self._pending, self._pending_samples = [audio[usable:]], audio.shape[-1] - usable


def _flux_unless_silent(y16: np.ndarray) -> np.ndarray:
    """:func:`spectral_flux`, or zeros for silence (no speech can be found there to check)."""
    if is_silent(y16):
        return np.zeros(math.ceil(y16.shape[-1] / FLUX_HOP), dtype=np.float32)
    return spectral_flux(y16)


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
