"""Recording conditions on waveforms: corrupted copies of clips, for evaluation and training.

Every corruption takes ``y`` (float32 mono) at ``sr`` and returns a copy of the same
length; every random draw comes from a ``numpy.random.Generator``, so a seed fixes it.

- :func:`add_noise`: ``noise`` scaled to an SNR in dB over the whole clip (signal power
  / noise power, both the mean square over all samples), from :func:`white_noise`,
  :func:`pink_noise` (1/f power) or :func:`babble` (several other talkers summed);
- :func:`reverberate`: convolution with a synthetic room impulse response,
  :func:`room_response` (a direct path, then Gaussian noise decaying by 60 dB in RT60); the kind
  ``reverb`` leaves the tail 17-25 dB over the direct sound (far across a hall), the kind ``room``
  sets a direct-to-reverberant ratio a user's room gives (−5 to +10 dB).
  Hand-made because no library here fits offline: audiomentations' ``RoomSimulator``
  needs pyroomacoustics (not installed) and ``ApplyImpulseResponse`` needs recorded
  responses on disk (none ship with it);
- :func:`telephone`: 8 kHz sampling and a 300–3400 Hz band (6th-order Butterworth), back at ``sr``;
- :func:`compress`: a low-bitrate MP3 (libmp3lame) or Opus round trip through PyAV (FFmpeg's
  encoders; audiomentations' ``Mp3Compression`` needs lameenc or pydub, neither installed);
- :func:`gain`: a level change in dB;
- :func:`repause`: the clip's speech with only part of its pauses before and after (a length
  change, unlike the others): an utterance cut from a conversation is heard with 0.1–1 s of the
  pause around it, while corpus clips hold about a second (RAVDESS) or a fraction (nEMO); a model
  that learnt one corpus's pauses takes their length for a cue;
- :func:`gate`: the clip's speech with 0–1 s of a faint noise floor either side, in place of its
  own pauses: pauses as a noise gate or a call's noise suppression leaves them, with the room's
  noise gone;
- :func:`speed`: the clip played faster or slower (speed perturbation, Ko et al. 2015): pitch,
  formants and tempo move together, as another speaker's shorter or longer vocal tract and
  faster or slower speech would move them (a length change).

:class:`Condition` names one fixed corruption (``"white@10"``, ``"babble@10"``, ``"telephone"``,
``"reverb@0.5"``, ``"mp3@16"``, ``"clean"``) for evaluation; :class:`CorruptionMix` draws one
corruption per copy from a set of kinds (SNR 5-30 dB, RT60 0.2-0.8 s, MP3 8-32 kbit/s), then a
gain, for training. :func:`augment_corpus` writes corrupted copies of a corpus's clips as
FLAC files and returns their corpus table, so their features come through
:func:`serkit.features.extract_corpus` and its cache like any clip's.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
>>> noisy = add_noise(y, white_noise(len(y), rng), snr_db=10.0)
>>> round(snr_of(y, noisy - y), 1), noisy.shape
(10.0, (16000,))
>>> Condition.parse("babble@10").name
'babble@10'
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from serkit.core.audio import resample
from serkit.core.exceptions import ParameterError

NOISES = ("white", "pink", "babble")
CONDITIONS = (*NOISES, "reverb", "telephone", "mp3", "gain")
"""The recording conditions: what ``"all"`` means in a :class:`CorruptionMix`."""
PAUSES = ("pause", "gate")
"""The kinds that change a clip's pauses, and so its length."""
ROOMS = ("room",)
"""Reverberation at a direct-to-reverberant ratio of a user's room, outside ``"all"``: the shipped copies' ``reverb`` stays as it was."""
VOICES = ("speed",)
"""The kinds that change the voice rather than the recording (and the clip's length)."""
DRAWN = (*ROOMS, *PAUSES, *VOICES)
"""The kinds whose :class:`Condition` may leave its value out, to be drawn per clip."""
KINDS = (*CONDITIONS, *ROOMS, *PAUSES, *VOICES)
"""Every kind :class:`CorruptionMix` and :class:`Condition` know."""
PAUSE_S = 1.0
"""A ``pause`` copy keeps up to this much of the clip's own pause on either side of its speech;
a ``gate`` copy gets up to this much floor."""
GATE_FLOOR_DBFS = -90.0
"""The level (RMS, dB re full scale) of the floor a ``gate`` copy's speech lies on: about one
16-bit step, as a noise gate leaves it."""
PAUSE_TOP_DB = 35.0
"""The speech :func:`repause` keeps: from the first to the last frame within this many dB of the loudest."""
SNR_DB = (5.0, 30.0)
RT60_S = (0.2, 0.8)
ROOM_RT60_S = (0.3, 0.9)
ROOM_DRR_DB = (-5.0, 10.0)
"""A ``room`` copy's RT60 and direct-to-reverberant ratio (drawn; ``room@DRR`` fixes the ratio): from
a large room across it to a small one near the microphone."""
MP3_KBPS = (8, 16, 24, 32)
"""The MP3 bitrates a mix draws from (kbit/s; LAME snaps others to its own steps)."""
GAIN_DB = (-6.0, 6.0)
SPEED_FACTOR = (0.85, 1.15)
"""The playing speeds a ``speed`` copy draws from: about ±2.5 semitones, within one speaker's
reach of another's (Kaldi's speed perturbation uses 0.9 and 1.1)."""
TELEPHONE_SR = 8000
TELEPHONE_BAND = (300.0, 3400.0)


def power(y: np.ndarray) -> float:
    """Mean square of ``y`` (float64).

    >>> power(np.ones(4))
    1.0
    """
    return float(np.mean(np.square(y, dtype=np.float64)))


def snr_of(y: np.ndarray, noise: np.ndarray) -> float:
    """SNR in dB of ``y`` against ``noise`` (mean squares over all samples).

    >>> round(snr_of(np.ones(4), 0.1 * np.ones(4)), 1)
    20.0
    """
    return float(10.0 * np.log10(power(y) / max(power(noise), 1e-20)))


def add_noise(y: np.ndarray, noise: np.ndarray, *, snr_db: float) -> np.ndarray:
    """``y`` plus ``noise`` (cut or tiled to ``y``'s length) scaled to ``snr_db``.

    >>> y = np.ones(8, np.float32)
    >>> round(snr_of(y, add_noise(y, np.arange(8.0) - 3.5, snr_db=5.0) - y), 3)
    5.0
    """
    noise = np.resize(np.asarray(noise, np.float64), y.shape)
    noise_power = power(noise)
    if noise_power <= 0.0 or power(y) <= 0.0:
        return y.copy()
    scale = np.sqrt(power(y) / (noise_power * 10.0 ** (snr_db / 10.0)))
    return (y + scale * noise).astype(np.float32)


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of Gaussian white noise.

    >>> white_noise(4, np.random.default_rng(0)).shape
    (4,)
    """
    return rng.standard_normal(n)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of pink noise: white noise's spectrum scaled by ``1/sqrt(f)`` (power 1/f).

    >>> pink_noise(1000, np.random.default_rng(0)).shape
    (1000,)
    """
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(f), n)


def babble(pool: Sequence[np.ndarray], n: int, rng: np.random.Generator, *, talkers: int = 4) -> np.ndarray:
    """``n`` samples of babble: ``talkers`` clips drawn from ``pool`` (other speakers' speech),
    each tiled to ``n`` from a random offset and scaled to unit power, summed.

    >>> pool = [np.sin(np.arange(100) * k) for k in (1, 2, 3)]
    >>> babble(pool, 250, np.random.default_rng(0), talkers=2).shape
    (250,)
    """
    if not pool:
        raise ParameterError("babble needs a pool of other speakers' clips")
    total = np.zeros(n)
    for index in rng.choice(len(pool), size=min(talkers, len(pool)), replace=False):
        voice = np.asarray(pool[index], np.float64)
        voice = np.roll(np.resize(voice, n), int(rng.integers(len(voice))))
        total += voice / np.sqrt(max(power(voice), 1e-20))
    return total


def room_response(sr: int, rt60: float, rng: np.random.Generator, *, drr_db: float | None = None) -> np.ndarray:
    """A synthetic room impulse response: a unit direct path, then Gaussian noise whose
    envelope falls by 60 dB in ``rt60`` seconds (from 2.5 ms on, lasting ``rt60``).

    ``drr_db``: the direct-to-reverberant energy ratio the tail is scaled to. None (the
    ``reverb`` kind of the training copies) keeps the tail's samples at 0.5 of the direct
    path's at its start, which puts it 17-25 dB over the direct sound, more at higher rates:
    a microphone far across a hall (docs/results.md, "Other rooms and other voices").

    >>> h = room_response(16000, 0.5, np.random.default_rng(0))
    >>> len(h), float(h[0])
    (8000, 1.0)
    >>> h = room_response(16000, 0.5, np.random.default_rng(0), drr_db=5.0)
    >>> round(float(10 * np.log10(h[0] ** 2 / np.sum(h[1:] ** 2))), 6)
    5.0
    """
    n = max(int(rt60 * sr), 2)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * 10.0 ** (-3.0 * t / rt60) * 0.5
    tail[: int(0.0025 * sr) + 1] = 0.0
    if drr_db is not None:
        tail *= 10.0 ** (-drr_db / 20) / np.sqrt(np.sum(tail ** 2))
    tail[0] = 1.0
    return tail


def reverberate(y: np.ndarray, sr: int, *, rt60: float, rng: np.random.Generator,
                drr_db: float | None = None) -> np.ndarray:
    """``y`` convolved with :func:`room_response` (``drr_db`` passed on), cut to its length, at its power.

    >>> y = np.random.default_rng(1).standard_normal(16000).astype(np.float32)
    >>> reverberate(y, 16000, rt60=0.3, rng=np.random.default_rng(0)).shape
    (16000,)
    """
    from scipy.signal import fftconvolve

    wet = fftconvolve(y.astype(np.float64), room_response(sr, rt60, rng, drr_db=drr_db))[: len(y)]
    return (wet * np.sqrt(power(y) / max(power(wet), 1e-20))).astype(np.float32)


def telephone(y: np.ndarray, sr: int) -> np.ndarray:
    """``y`` through a telephone channel: resampled to 8 kHz, band-passed to 300-3400 Hz
    (6th-order Butterworth), resampled back to ``sr``; same length.

    >>> telephone(np.zeros(16000, np.float32), 16000).shape
    (16000,)
    """
    from scipy.signal import butter, sosfilt

    narrow = resample(y.astype(np.float32), orig_sr=sr, target_sr=TELEPHONE_SR)
    sos = butter(6, TELEPHONE_BAND, btype="bandpass", fs=TELEPHONE_SR, output="sos")
    band = sosfilt(sos, narrow).astype(np.float32)
    return _fit(resample(band, orig_sr=TELEPHONE_SR, target_sr=sr), len(y))


def compress(y: np.ndarray, sr: int, *, kbps: int = 16, codec: str = "mp3") -> np.ndarray:
    """``y`` encoded at ``kbps`` kbit/s (``"mp3"``: libmp3lame; ``"opus"``: libopus at 48 kHz)
    and decoded again with PyAV, back at ``sr``, same length.

    >>> y = np.sin(np.arange(16000) / 5).astype(np.float32)
    >>> compress(y, 16000, kbps=16).shape
    (16000,)
    """
    import av

    codec_name, rate, container_format = {"mp3": ("libmp3lame", sr, "mp3"), "opus": ("libopus", 48000, "ogg")}[codec]
    x = resample(y.astype(np.float32), orig_sr=sr, target_sr=rate)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec_name, rate=rate, layout="mono")
        stream.bit_rate = int(kbps) * 1000
        frame = av.AudioFrame.from_ndarray(x[None, :], format="fltp", layout="mono")
        frame.rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    buffer.seek(0)
    with av.open(buffer, "r") as container:
        decoded = np.concatenate([frame.to_ndarray().reshape(-1, frame.samples).mean(axis=0)
                                  for frame in container.decode(audio=0)]).astype(np.float32)
        decoded_rate = container.streams.audio[0].rate
    return _fit(resample(decoded, orig_sr=decoded_rate, target_sr=sr), len(y))


def gain(y: np.ndarray, db: float) -> np.ndarray:
    """``y`` scaled by ``db`` decibels.

    >>> float(gain(np.ones(1, np.float32), 20.0)[0])
    10.0
    """
    return (y * 10.0 ** (db / 20.0)).astype(np.float32)


def repause(y: np.ndarray, sr: int, *, before_s: float, after_s: float, top_db: float = PAUSE_TOP_DB) -> np.ndarray:
    """``y``'s speech (``librosa.effects.trim`` at ``top_db``) with at most ``before_s`` and
    ``after_s`` seconds of its own audio before and after it (less where the clip has less).

    >>> y = np.r_[np.zeros(16000), np.ones(8000), np.zeros(16000)].astype(np.float32)
    >>> round(len(repause(y, 16000, before_s=0.25, after_s=0.5)) / 16000, 2)  # 0.5 s of sound, 0.75 s of pause, the trim's frames
    1.28
    """
    start, end = _speech_bounds(y, top_db)
    return y[max(0, start - round(before_s * sr)): end + round(after_s * sr)]


def speed(y: np.ndarray, sr: int, *, factor: float) -> np.ndarray:
    """``y`` played ``factor`` times as fast: resampled as if recorded at ``sr × factor``.

    >>> y = np.sin(2 * np.pi * 200 * np.arange(16000) / 16000).astype(np.float32)
    >>> faster = speed(y, 16000, factor=1.25)
    >>> len(faster), int(np.argmax(abs(np.fft.rfft(faster))) * 16000 / len(faster))  # shorter, and 200 Hz is now 250 Hz
    (12800, 250)
    """
    if not 0.5 <= factor <= 2.0:
        raise ParameterError(f"speed factor {factor!r}: must lie between 0.5 and 2")
    return resample(np.asarray(y, np.float32), orig_sr=round(sr * factor), target_sr=sr)


def _speech_bounds(y: np.ndarray, top_db: float) -> tuple[int, int]:
    """The first and last sample of ``y``'s speech: ``librosa.effects.trim`` at ``top_db`` on 32 ms frames (16 kHz)."""
    import librosa

    _, (start, end) = librosa.effects.trim(y, top_db=top_db, frame_length=512, hop_length=128)
    return int(start), int(end)


def gate(y: np.ndarray, sr: int, *, before_s: float, after_s: float, rng: np.random.Generator,
         floor_dbfs: float = GATE_FLOOR_DBFS, top_db: float = PAUSE_TOP_DB) -> np.ndarray:
    """``y``'s speech (``librosa.effects.trim`` at ``top_db``) between ``before_s`` and ``after_s``
    seconds of white noise at ``floor_dbfs`` (RMS): its own pauses replaced by a gate's floor.

    >>> y = np.r_[0.1 * np.ones(16000), np.ones(8000), 0.1 * np.ones(16000)].astype(np.float32)
    >>> gated = gate(y, 16000, before_s=0.25, after_s=0.5, rng=np.random.default_rng(0))
    >>> len(gated) - len(repause(y, 16000, before_s=0.0, after_s=0.0)), float(abs(gated[:4000]).max()) < 1e-3
    (12000, True)
    """
    start, end = _speech_bounds(y, top_db)
    before, after = (gain(white_noise(round(seconds * sr), rng), floor_dbfs) for seconds in (before_s, after_s))
    return np.concatenate([before, y[start:end], after])


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


@dataclass(frozen=True)
class Condition:
    """One fixed corruption: ``kind`` (``"clean"`` or one of :data:`KINDS`) and its value
    (SNR in dB, RT60 in s, kbit/s, gain in dB, the seconds of pause kept, or of a gate's floor
    put, either side, a speed factor, or a room's direct-to-reverberant ratio in dB (its RT60 drawn
    from :data:`ROOM_RT60_S`); none for telephone and clean, for pauses drawn anew, 0 to
    :data:`PAUSE_S`, on each side, for a speed drawn from :data:`SPEED_FACTOR` and a room's ratio from
    :data:`ROOM_DRR_DB`).

    >>> c = Condition.parse("reverb@0.5")
    >>> c.kind, c.value, c.name
    ('reverb', 0.5, 'reverb@0.5')
    """

    kind: str
    value: float | None = None

    @classmethod
    def parse(cls, text: str) -> "Condition":
        """``"kind@value"`` or ``"kind"`` (clean, telephone, and the drawn kinds: room, pause, gate, speed); a clear error otherwise."""
        kind, _, value = text.partition("@")
        if kind not in ("clean", *KINDS):
            raise ParameterError(f"condition {text!r}: kind must be one of clean, {', '.join(KINDS)}")
        if kind in ("clean", "telephone") or (kind in DRAWN and not value):
            return cls(kind)
        try:
            number = float(value)
        except ValueError:
            raise ParameterError(f"condition {text!r}: {kind} needs a number, e.g. {kind}@10") from None
        if kind in PAUSES and not 0.0 <= number < float("inf"):
            raise ParameterError(f"condition {text!r}: the seconds of pause must be 0 or more")
        if kind in ROOMS and not -30.0 <= number <= 30.0:
            raise ParameterError(f"condition {text!r}: the direct-to-reverberant ratio must lie between -30 and 30 dB")
        if kind in VOICES and not 0.5 <= number <= 2.0:
            raise ParameterError(f"condition {text!r}: the speed factor must lie between 0.5 and 2")
        return cls(kind, number)

    @property
    def name(self) -> str:
        return self.kind if self.value is None else f"{self.kind}@{self.value:g}"

    def apply(self, y: np.ndarray, sr: int, rng: np.random.Generator, pool: Sequence[np.ndarray] = ()) -> np.ndarray:
        """``y`` under this condition (``pool``: other speakers' clips, for babble)."""
        return corrupt(y, sr, self.kind, self.value, rng, pool)


def corrupt(y, sr, kind, value, rng, pool=()):
    """``y`` under one corruption ``kind`` with ``value`` (see :class:`Condition`).

    >>> y = np.ones(100, np.float32)
    >>> corrupt(y, 16000, "gain", -20.0, np.random.default_rng(0))[:2]
    array([0.1, 0.1], dtype=float32)
    """
    if kind == "clean":
        return y
    if kind in NOISES:
        noise = {"white": lambda: white_noise(len(y), rng), "pink": lambda: pink_noise(len(y), rng),
                 "babble": lambda: babble(pool, len(y), rng)}[kind]()
        return add_noise(y, noise, snr_db=value)
    if kind == "reverb":
        return reverberate(y, sr, rt60=value, rng=rng)
    if kind == "room":
        drr_db = rng.uniform(*ROOM_DRR_DB) if value is None else value
        return reverberate(y, sr, rt60=rng.uniform(*ROOM_RT60_S), rng=rng, drr_db=drr_db)
    if kind == "telephone":
        return telephone(y, sr)
    if kind == "mp3":
        return compress(y, sr, kbps=int(value))
    if kind == "speed":
        return speed(y, sr, factor=rng.uniform(*SPEED_FACTOR) if value is None else value)
    if kind in PAUSES:
        before, after = rng.uniform(0.0, PAUSE_S, 2) if value is None else (value, value)
        if kind == "gate":
            return gate(y, sr, before_s=before, after_s=after, rng=rng)
        return repause(y, sr, before_s=before, after_s=after)
    return gain(y, value)


@dataclass(frozen=True)
class CorruptionMix:
    """Training augmentation: each copy gets one kind drawn uniformly from ``kinds``
    (gain excepted), its value drawn from the ranges (SNR 5-30 dB, RT60 0.2-0.8 s,
    MP3 8, 16, 24 or 32 kbit/s, speed 0.85-1.15, a room's DRR -5..10 dB and RT60 0.3-0.9 s), then a gain of -6..6 dB if ``"gain"`` is among ``kinds``.

    >>> mix = CorruptionMix.parse("white,babble,gain")
    >>> mix.kinds, mix.name
    (('white', 'babble', 'gain'), 'white,babble,gain')
    >>> [c.kind for c in mix.draw(np.random.default_rng(0))]
    ['babble', 'gain']
    """

    kinds: tuple[str, ...] = field(default=KINDS)

    @classmethod
    def parse(cls, text: str) -> "CorruptionMix":
        """A comma-separated list of kinds; ``"noise"`` means white, pink and babble, ``"all"`` every kind."""
        kinds: list[str] = []
        for part in (p.strip() for p in text.split(",") if p.strip()):
            expanded = {"noise": NOISES, "all": CONDITIONS}.get(part, (part,))
            for kind in expanded:
                if kind not in KINDS:
                    raise ParameterError(f"augment {text!r}: {kind!r} is not one of noise, all, {', '.join(KINDS)}")
                if kind not in kinds:
                    kinds.append(kind)
        if not kinds:
            raise ParameterError(f"augment {text!r}: name at least one of noise, all, {', '.join(KINDS)}")
        return cls(tuple(kinds))

    @property
    def name(self) -> str:
        return ",".join(self.kinds)

    def draw(self, rng: np.random.Generator) -> list[Condition]:
        """The corruptions of one copy, in order."""
        drawn = []
        main = [kind for kind in self.kinds if kind != "gain"]
        if main:
            kind = main[int(rng.integers(len(main)))]
            value = {"reverb": lambda: rng.uniform(*RT60_S), "telephone": lambda: None, **dict.fromkeys(DRAWN, lambda: None),
                     "mp3": lambda: float(rng.choice(MP3_KBPS))}.get(kind, lambda: rng.uniform(*SNR_DB))()
            drawn.append(Condition(kind, value))
        if "gain" in self.kinds:
            drawn.append(Condition("gain", rng.uniform(*GAIN_DB)))
        return drawn

    def apply(self, y, sr, rng, pool=()) -> np.ndarray:
        """One corrupted copy of ``y``."""
        for condition in self.draw(rng):
            y = condition.apply(y, sr, rng, pool)
        return y


def clip_rng(seed: int, *names: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and ``names`` (a clip's path, a copy's tag): the same
    clip gets the same corruption whatever else is in the batch.

    >>> float(clip_rng(0, "a.wav").random()) == float(clip_rng(0, "a.wav").random())
    True
    """
    digest = hashlib.sha256("\0".join([str(seed), *names]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def augment_corpus(corpus, corruption, out_dir, *, sr: int = 16000, copies: int = 1, seed: int = 0,
                   pool_corpus=None, pool_size: int = 64):
    """Corrupted copies of ``corpus``'s clips written to ``out_dir`` as 16-bit FLAC at ``sr``;
    returns their :class:`~serkit.corpora.CorpusTable` (same labels, speakers and metadata).

    ``corruption`` is a :class:`CorruptionMix` (a fresh draw per copy) or a :class:`Condition`.
    Babble comes from up to ``pool_size`` clips of ``pool_corpus`` (default ``corpus``),
    never of the clip's own speaker. Files already written are kept (same seed, same file).

    >>> import pandas as pd, soundfile as sf, tempfile
    >>> from serkit.corpora import CorpusTable
    >>> root = Path(tempfile.mkdtemp())
    >>> sf.write(root / "a.wav", np.sin(np.arange(16000) / 3), 16000)
    >>> table = CorpusTable("manifest", root, pd.DataFrame({"path": ["a.wav"], "label": ["sad"], "speaker": ["1"]}))
    >>> out = augment_corpus(table, Condition.parse("white@10"), root / "aug")
    >>> list(out.table["path"]), out.table["label"].tolist()
    (['a.white@10.0.flac'], ['sad'])
    """
    import soundfile as sf

    from serkit.core.audio import load_audio
    from serkit.corpora import CorpusTable

    out_dir = Path(out_dir)
    pool_corpus = corpus if pool_corpus is None else pool_corpus
    pool_rows = pool_corpus.table.iloc[clip_rng(seed, "pool").permutation(len(pool_corpus.table))[:pool_size]]
    pool = [(str(row.speaker), load_audio(pool_corpus.root / row.path, sr=sr)[0]) for row in pool_rows.itertuples()] \
        if "babble" in _kinds(corruption) else []
    tag = corruption.name
    rows = []
    for row in corpus.table.itertuples(index=False):
        for copy in range(copies):
            relative = f"{Path(row.path).with_suffix('')}.{tag}.{copy}.flac"
            target = out_dir / relative
            if not target.exists():
                y, _ = load_audio(corpus.root / row.path, sr=sr)
                others = [clip for speaker, clip in pool if speaker != str(row.speaker)]
                y = np.clip(corruption.apply(y, sr, clip_rng(seed, tag, row.path, str(copy)), others), -1.0, 1.0)
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(f".{target.name}.partial")
                sf.write(partial, y, sr, subtype="PCM_16", format="FLAC")
                partial.replace(target)  # whole files only, even if a run stops mid-write
            rows.append({**row._asdict(), "path": relative})
    import pandas as pd

    return CorpusTable(corpus.name, out_dir, pd.DataFrame(rows, columns=list(corpus.table.columns)))


def copy_kinds(corpus, corruption, *, copies: int = 1, seed: int = 0) -> list[str]:
    """The main corruption kind (gain aside) of each copy :func:`augment_corpus` makes of ``corpus``
    with the same arguments, in its rows' order: the draw is redone from the same seeds, so a
    cached copy's kind is known without its audio (e.g. to hold one kind out of training).

    >>> import pandas as pd
    >>> from serkit.corpora import CorpusTable
    >>> table = CorpusTable("manifest", Path("."), pd.DataFrame({"path": ["a.wav"], "label": ["sad"], "speaker": ["1"]}))
    >>> copy_kinds(table, CorruptionMix.parse("telephone,gain"), copies=2)
    ['telephone', 'telephone']
    """
    tag = corruption.name
    kinds = []
    for path in corpus.table["path"]:
        for copy in range(copies):
            drawn = corruption.draw(clip_rng(seed, tag, path, str(copy))) if isinstance(corruption, CorruptionMix) else [corruption]
            kinds.append(next((c.kind for c in drawn if c.kind != "gain"), "gain"))
    return kinds


def _kinds(corruption) -> tuple[str, ...]:
    return corruption.kinds if isinstance(corruption, CorruptionMix) else (corruption.kind,)
