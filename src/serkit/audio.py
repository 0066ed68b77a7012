"""Audio in: any file libsndfile reads → mono float32 at a target rate, validated.

This is exactly what ``librosa.load(path)`` does (soundfile decode to float32, mean
over channels, soxr "HQ" resampling, length fixed to ``ceil(n * sr / orig_sr)``),
so features computed on it agree with the reference analysis, but every failure is
one :class:`~serkit.exceptions.AudioError` naming the file and the reason.

Examples
--------
>>> import numpy as np, soundfile as sf, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
>>> sf.write(path, 0.1 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000), 48000)
>>> y, sr = load_audio(path)
>>> sr, y.dtype, y.shape
(22050, dtype('float32'), (22050,))
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import asdict, dataclass
from typing import BinaryIO, Union

import numpy as np
import soundfile as sf

from serkit.exceptions import AudioError, ParameterError

DEFAULT_SR = 22050
"""librosa's default rate, the one the reference analysis used."""

MIN_SAMPLES = 2048
"""Shortest usable signal at the target rate: one analysis window (``n_fft``)."""

SILENCE_DB = -60.0
"""Peak level (dBFS) under which a clip counts as silent. Peak, not RMS: quiet but real
RAVDESS takes reach -64 dBFS RMS while their peaks stay above -48 dBFS."""

AudioSource = Union[str, os.PathLike, BinaryIO]


class SilentAudioWarning(UserWarning):
    """The clip loaded fine but holds (almost) nothing but silence."""


@dataclass(frozen=True)
class AudioInfo:
    """What ``serkit info`` prints about one file (as stored, before resampling)."""

    path: str
    format: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int
    duration_s: float
    peak: float
    rms: float
    rms_db: float
    silent: bool

    def to_dict(self) -> dict:
        return asdict(self)


def _name(source: AudioSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return getattr(source, "name", None) or "<stream>"


def _open(source: AudioSource) -> sf.SoundFile:
    name = _name(source)
    if isinstance(source, (str, os.PathLike)):
        if not os.path.exists(source):
            raise AudioError(f"{name}: file not found")
        if os.path.isdir(source):
            raise AudioError(f"{name}: is a directory, not an audio file")
        if os.path.getsize(source) == 0:
            raise AudioError(f"{name}: empty file (0 bytes)")
    try:
        return sf.SoundFile(source)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        reason = str(error).split(":")[-1].strip() or type(error).__name__
        raise AudioError(f"{name}: not readable as audio ({reason})") from None


def rms_db(y: np.ndarray) -> float:
    """Root-mean-square level of ``y`` in dB relative to full scale (-inf for zeros).

    >>> round(rms_db(np.full(100, 0.1, dtype=np.float32)), 1)
    -20.0
    """
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0
    return 20.0 * math.log10(rms) if rms > 0 else -math.inf


def is_silent(y: np.ndarray, *, threshold_db: float = SILENCE_DB) -> bool:
    """True when the peak level of ``y`` is below ``threshold_db`` dBFS.

    >>> is_silent(np.zeros(1000, dtype=np.float32)), is_silent(np.full(10, 0.01, dtype=np.float32))
    (True, False)
    """
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return peak < 10 ** (threshold_db / 20)


def to_mono(y: np.ndarray) -> np.ndarray:
    """Average channels: ``(n,)`` stays, ``(n, channels)`` (soundfile's layout) → ``(n,)``."""
    return y if y.ndim == 1 else y.mean(axis=1)


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """soxr "HQ" resampling with librosa's output length, ``ceil(n * target / orig)``."""
    if orig_sr == target_sr:
        return y
    import soxr

    n_out = int(math.ceil(y.shape[-1] * target_sr / orig_sr))
    y_hat = soxr.resample(y, orig_sr, target_sr, quality="soxr_hq")
    if y_hat.shape[-1] > n_out:
        y_hat = y_hat[:n_out]
    elif y_hat.shape[-1] < n_out:
        y_hat = np.pad(y_hat, (0, n_out - y_hat.shape[-1]))
    return np.asarray(y_hat, dtype=y.dtype)


def load_audio(
    source: AudioSource,
    *,
    sr: int | None = DEFAULT_SR,
    min_samples: int = MIN_SAMPLES,
    max_duration_s: float | None = None,
    warn_silent: bool = True,
) -> tuple[np.ndarray, int]:
    """Load audio as mono float32 at ``sr``, validated.

    Parameters
    ----------
    source : str, path-like or binary file object
        Any file libsndfile reads (WAV, FLAC, OGG, AIFF, MP3, …), any rate and bit depth.
    sr : int > 0 or None
        Target sample rate in Hz; ``None`` keeps the file's own rate.
    min_samples : int >= 1
        Fewest samples accepted after resampling (default one 2048-sample window).
    max_duration_s : float > 0 or None
        Longest accepted duration, checked from the header before decoding.
    warn_silent : bool
        Emit :class:`SilentAudioWarning` for a clip below :data:`SILENCE_DB`.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
    sr : int

    Raises
    ------
    AudioError
        Missing, unreadable or non-audio file, no samples, shorter than
        ``min_samples``, longer than ``max_duration_s``, or non-finite samples.
    ParameterError
        ``sr`` or ``min_samples`` out of range.
    """
    if sr is not None and (not isinstance(sr, (int, np.integer)) or sr <= 0):
        raise ParameterError(f"sr={sr!r} must be a positive integer or None")
    if min_samples < 1:
        raise ParameterError(f"min_samples={min_samples!r} must be >= 1")
    name = _name(source)
    with _open(source) as stream:
        orig_sr = stream.samplerate
        frames = stream.frames
        if frames == 0:
            raise AudioError(f"{name}: no audio samples (empty)")
        if max_duration_s is not None and frames / orig_sr > max_duration_s:
            raise AudioError(
                f"{name}: too long ({frames / orig_sr:.1f} s > {max_duration_s:g} s)"
            )
        try:
            y = stream.read(dtype="float32", always_2d=False)
        except (sf.LibsndfileError, RuntimeError) as error:
            raise AudioError(f"{name}: decoding failed ({error})") from None
    if y.size == 0:
        raise AudioError(f"{name}: no audio samples (empty)")
    y = to_mono(y)
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{name}: contains non-finite samples (NaN or inf)")
    target_sr = orig_sr if sr is None else int(sr)
    y = resample(y, orig_sr=orig_sr, target_sr=target_sr)
    if y.shape[-1] < min_samples:
        raise AudioError(
            f"{name}: too short ({y.shape[-1] / target_sr * 1000:.0f} ms, "
            f"{y.shape[-1]} samples < {min_samples} at {target_sr} Hz)"
        )
    if warn_silent and is_silent(y):
        warnings.warn(f"{name}: silent (peak below {SILENCE_DB:g} dBFS)", SilentAudioWarning, stacklevel=2)
    return np.ascontiguousarray(y, dtype=np.float32), target_sr


def audio_info(source: AudioSource) -> AudioInfo:
    """Describe a file as stored: format, rate, channels, duration, peak and RMS.

    Raises :class:`AudioError` like :func:`load_audio` for unusable files.
    """
    name = _name(source)
    with _open(source) as stream:
        try:
            y = stream.read(dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as error:
            raise AudioError(f"{name}: decoding failed ({error})") from None
        fmt, subtype, sample_rate, channels = stream.format, stream.subtype, stream.samplerate, stream.channels
    frames = y.shape[0]
    finite = bool(np.all(np.isfinite(y)))
    peak = float(np.max(np.abs(y))) if frames and finite else float("nan") if frames else 0.0
    level_db = rms_db(y) if finite else float("nan")
    rms = 10 ** (level_db / 20) if np.isfinite(level_db) else (0.0 if finite else float("nan"))
    return AudioInfo(
        path=name,
        format=fmt,
        subtype=subtype,
        sample_rate=sample_rate,
        channels=channels,
        frames=frames,
        duration_s=frames / sample_rate if sample_rate else 0.0,
        peak=peak,
        rms=rms,
        rms_db=level_db,
        silent=finite and is_silent(y),
    )
