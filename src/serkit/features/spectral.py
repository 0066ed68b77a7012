"""Frame features from one shared STFT, equal to librosa's and several times cheaper.

librosa computes a fresh STFT inside every feature call; the reference analysis made
six of them per clip. Here the spectrogram is computed once (:func:`stft_magnitude`)
and every spectral feature takes it as ``S``. Filter banks are cached across clips.
Time-domain features (:func:`rms`, :func:`zero_crossing_rate`) reduce strided
frame views instead of framed copies of the signal.

Each function matches the librosa function of the same name, with the same
parameter names and defaults, to within float32 rounding; the tests check it.
Where this module computes something itself instead of calling librosa, the reason
is cost: :func:`estimate_tuning` runs librosa's ``piptrack`` only over the bins it
can select (150–4000 Hz) instead of all 1025, and the STFT and the time-domain
features work on strided frame views of the signal.

Everything the ``functionals`` and ``whisper`` sets call here is numpy only
(:func:`stft_magnitude`, :func:`trim_silence`, :func:`mfcc`, :func:`delta`,
:func:`spectral_contrast`, :func:`spectral_flatness`, :func:`yin`, …): importing
librosa and scipy costs about 3 s at each cold start on a small machine, more than a
prediction. They repeat librosa's arithmetic in its dtypes, so most give its values
bit for bit; :func:`mfcc` and :func:`delta` replace scipy's DCT and Savitzky-Golay
filter and agree to float32 rounding, :func:`yin` replaces scipy's float32 FFT (see
there). ``chroma_filters`` and ``estimate_tuning`` (``seed26`` only) still call librosa.

Examples
--------
>>> import numpy as np
>>> sr = 22050
>>> y = np.sin(2 * np.pi * 1000 * np.arange(sr) / sr).astype(np.float32)
>>> S = stft_magnitude(y)
>>> S.shape
(1025, 44)
>>> round(float(np.median(spectral_centroid(S=S, sr=sr))))
1000
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from serkit.core.exceptions import ParameterError


def _is_number(value, *, integer: bool) -> bool:
    """An int (numpy's too) or, with ``integer=False``, a finite real number; never a
    bool or a string (JSON ``true`` or ``"22050"`` in a model's metadata is no rate)."""
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    return not isinstance(value, bool) and isinstance(value, kinds) and bool(np.isfinite(value))


def check_positive(*, numbers: bool = False, **values) -> None:
    """:class:`ParameterError` unless every value is a positive integer (with
    ``numbers=True``, a positive number); booleans are neither.

    >>> check_positive(n_fft=2048, hop_length=512)
    >>> check_positive(numbers=True, hop_length_s=0.01)
    """
    for key, value in values.items():
        if not _is_number(value, integer=not numbers) or value <= 0:
            raise ParameterError(f"{key}={value!r} must be a positive {'number' if numbers else 'integer'}")


def check_range(low, high, /, *, integer: bool = True, allow_none: bool = False, **values) -> None:
    """:class:`ParameterError` unless every value lies in ``[low, high]``.

    The one check behind every feature set's parameters, so that a model's
    ``metadata.json`` (untrusted input) can only name workable, bounded settings.

    Parameters
    ----------
    low, high : number
        Inclusive bounds.
    integer : bool
        Values must be integers (Python or numpy ints); otherwise finite real numbers.
        Booleans and strings are never numbers.
    allow_none : bool
        ``None`` passes (an optional step, e.g. no trimming).
    **values
        ``name=value`` pairs; the error quotes the first bad one.

    Examples
    --------
    >>> check_range(8000, 192000, sr=16000)
    >>> check_range(0.0, 120.0, integer=False, allow_none=True, trim_top_db=None)
    >>> check_range(1, 512, n_mels=1e9)
    Traceback (most recent call last):
    ...
    serkit.core.exceptions.ParameterError: n_mels=1000000000.0 must be an integer in [1, 512]
    """
    for key, value in values.items():
        if value is None and allow_none:
            continue
        if not _is_number(value, integer=integer) or not low <= value <= high:
            kind = "an integer" if integer else "a number"
            optional = " or None" if allow_none else ""
            raise ParameterError(f"{key}={value!r} must be {kind} in [{low}, {high}]{optional}")


MAX_SPECTROGRAM_VALUES_PER_S = 1 << 20
"""Most STFT values (frames per second × bins) a feature set may compute per second of
audio: 24 times seed26's 44 000, so a 300 s clip stays near 1.2 GB at worst."""


def check_stft(*, sr: int, n_fft: int, hop_length: int) -> None:
    """:class:`ParameterError` unless ``sr``, ``n_fft`` and ``hop_length`` are workable
    and bounded: ``sr`` in [8000, 192000] Hz, ``n_fft`` in [16, 65536],
    ``hop_length`` in [1, n_fft], and at most :data:`MAX_SPECTROGRAM_VALUES_PER_S`.

    >>> check_stft(sr=22050, n_fft=2048, hop_length=512)
    >>> check_stft(sr=22050, n_fft=65536, hop_length=1)
    Traceback (most recent call last):
    ...
    serkit.core.exceptions.ParameterError: sr=22050, n_fft=65536, hop_length=1 compute 722556450 spectrogram values per second of audio; at most 1048576: raise hop_length or lower n_fft
    """
    check_range(8000, 192000, sr=sr)
    check_range(16, 65536, n_fft=n_fft)
    check_range(1, n_fft, hop_length=hop_length)
    per_second = int(sr / hop_length * (n_fft // 2 + 1))
    if per_second > MAX_SPECTROGRAM_VALUES_PER_S:
        raise ParameterError(
            f"sr={sr}, n_fft={n_fft}, hop_length={hop_length} compute {per_second} spectrogram values "
            f"per second of audio; at most {MAX_SPECTROGRAM_VALUES_PER_S}: raise hop_length or lower n_fft"
        )


@lru_cache(maxsize=8)
def hann_window(n_fft: int) -> np.ndarray:
    """The periodic Hann window, float64, bit for bit ``librosa.filters.get_window("hann",
    n_fft, fftbins=True)``: scipy's cosine sum over ``n_fft + 1`` points of
    ``linspace(-pi, pi)``, the last one dropped (a closed formula differs in the last bit)."""
    if n_fft <= 1:
        return np.ones(n_fft)
    phase = np.linspace(-np.pi, np.pi, n_fft + 1)
    window = np.zeros(n_fft + 1)
    window += 0.5 * np.cos(0 * phase)
    window += 0.5 * np.cos(phase)
    return window[:-1]


def stft_magnitude(
    y: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512, center: bool = True
) -> np.ndarray:
    """``np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))``, bit for bit, once per clip.

    The same arithmetic as librosa (float64 window and FFT, rounded to complex64),
    because the tuning estimate behind chroma is a histogram argmax that flips on
    last-bit differences in the spectrum; but framed as one strided view and one
    FFT call, without librosa's per-call checks and block loop.

    On float64 input ``np.fft.rfft`` gives ``scipy.fft.rfft``'s bits (both are pocketfft;
    the tests check), so librosa and scipy need not be imported.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float32
    n_fft, hop_length : int > 0
    center : bool
        Pad ``n_fft // 2`` zeros on both sides (librosa's ``pad_mode="constant"``).

    Returns
    -------
    S : np.ndarray [shape=(1 + n_fft // 2, t)], float32
        A transposed view of a frame-major array.
    """
    check_positive(n_fft=n_fft, hop_length=hop_length)
    if center:
        y = np.pad(y, n_fft // 2)
    if y.shape[-1] < n_fft:
        raise ParameterError(f"signal of {y.shape[-1]} samples is shorter than n_fft={n_fft}")
    frames = frames_of(y, frame_length=n_fft, hop_length=hop_length)
    spectrum = np.fft.rfft(frames * hann_window(n_fft), axis=-1)
    return np.abs(spectrum.astype(np.complex64)).T


def fft_frequencies(*, sr: int = 22050, n_fft: int = 2048) -> np.ndarray:
    """Centre frequency of each STFT bin in Hz (``librosa.fft_frequencies``)."""
    return np.fft.rfftfreq(n=n_fft, d=1.0 / sr)


_SLANEY_HZ_PER_MEL = 200.0 / 3
_SLANEY_LOG_START_HZ = 1000.0
_SLANEY_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(frequencies: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (``librosa.hz_to_mel(f, htk=False)``): linear below 1 kHz, log above."""
    frequencies = np.asarray(frequencies, dtype=np.float64)
    log_start_mel = _SLANEY_LOG_START_HZ / _SLANEY_HZ_PER_MEL
    above = np.maximum(frequencies, _SLANEY_LOG_START_HZ)
    log_part = log_start_mel + np.log(above / _SLANEY_LOG_START_HZ) / _SLANEY_LOG_STEP
    return np.where(frequencies >= _SLANEY_LOG_START_HZ, log_part, frequencies / _SLANEY_HZ_PER_MEL)


def mel_to_hz(mels: np.ndarray) -> np.ndarray:
    """Inverse of :func:`hz_to_mel` (``librosa.mel_to_hz(m, htk=False)``)."""
    mels = np.asarray(mels, dtype=np.float64)
    log_start_mel = _SLANEY_LOG_START_HZ / _SLANEY_HZ_PER_MEL
    log_part = _SLANEY_LOG_START_HZ * np.exp(_SLANEY_LOG_STEP * (np.maximum(mels, log_start_mel) - log_start_mel))
    return np.where(mels >= log_start_mel, log_part, mels * _SLANEY_HZ_PER_MEL)


@lru_cache(maxsize=16)
def mel_filters(*, sr: int = 22050, n_fft: int = 2048, n_mels: int = 128) -> np.ndarray:
    """Slaney mel filter bank ``(n_mels, 1 + n_fft // 2)`` float32 from 0 Hz to ``sr / 2``, cached.

    ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)`` (Slaney scale, area
    normalisation), computed in numpy: triangles between ``n_mels + 2`` points evenly
    spaced in mel, each scaled by ``2 / bandwidth`` in Hz.

    >>> mel_filters(sr=16000, n_fft=400, n_mels=80).shape
    (80, 201)
    """
    check_positive(sr=sr, n_fft=n_fft, n_mels=n_mels)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2))
    # Distance of every FFT bin from every edge: rising and falling slopes of the triangles.
    ramps = edges_hz[:, None] - fft_frequencies(sr=sr, n_fft=n_fft)[None, :]
    widths = np.diff(edges_hz)
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    # Rounded to float32 before the area scaling, as librosa does (bit-identical banks).
    weights = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights


@lru_cache(maxsize=128)
def chroma_filters(*, sr: int = 22050, n_fft: int = 2048, tuning: float = 0.0, n_chroma: int = 12) -> np.ndarray:
    """librosa's chroma filter bank ``(n_chroma, 1 + n_fft // 2)``, cached per tuning.

    Tuning estimates come on a 0.01 grid, so there are at most 101 banks to build.
    """
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=n_chroma)


def _parabolic_shift(below: np.ndarray, centre: np.ndarray, above: np.ndarray) -> np.ndarray:
    """librosa's parabolic peak interpolation from a bin and its two neighbours.

    librosa's numba stencil promotes to float64 (float32 * int), so do we.
    """
    below, centre, above = (v.astype(np.float64) for v in (below, centre, above))
    a = above + below - 2 * centre
    b = (above - below) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a)
    return shift.astype(np.float32)


def estimate_tuning(
    *,
    S: np.ndarray,
    sr: int = 22050,
    n_fft: int | None = None,
    resolution: float = 0.01,
    bins_per_octave: int = 12,
    fmin: float = 150.0,
    fmax: float = 4000.0,
    threshold: float = 0.1,
) -> float:
    """``librosa.estimate_tuning(S=S, sr=sr)`` for a power spectrogram ``S``.

    The same piptrack peak picking and the same histogram, evaluated only over the
    bins inside ``[fmin, fmax)`` plus one neighbour on each side (all that
    librosa's result depends on): about ten times cheaper (0.5 ms against 5.5 ms for
    a 3.7 s clip, measured here).

    Returns
    -------
    tuning : float in [-0.5, 0.5)
        Deviation from A440 tuning in fractions of a bin.
    """
    import librosa

    S = np.abs(S)
    n_fft = 2 * (S.shape[0] - 1) if n_fft is None else n_fft
    freqs = fft_frequencies(sr=sr, n_fft=n_fft)
    in_band = np.flatnonzero((max(fmin, 0) <= freqs) & (freqs < min(fmax, sr / 2)))
    if in_band.size == 0:
        return 0.0
    # Interior bins only: librosa's shift and local-max are zero at the edges anyway.
    lo, hi = max(int(in_band[0]), 1), min(int(in_band[-1]), S.shape[0] - 2)
    band = S[lo - 1 : hi + 2]
    ref_value = threshold * S.max(axis=0)
    thresholded = band * (band > ref_value)
    candidates = thresholded[1:-1]
    peaks = (candidates > thresholded[:-2]) & (candidates >= thresholded[2:])
    bins, frames = np.nonzero(peaks)
    if bins.size == 0:
        return 0.0  # no pitched peak: librosa's answer too, without its warning
    below, centre, above = band[bins, frames], band[bins + 1, frames], band[bins + 2, frames]
    shift = _parabolic_shift(below, centre, above)
    magnitudes = centre + 0.5 * ((above - below) / 2) * shift
    pitches = ((bins + lo) + shift) * float(sr) / n_fft
    pitches = pitches.astype(np.float32)
    voiced = pitches > 0
    if not voiced.any():
        return 0.0  # no pitched peak: librosa's answer too, without its warning
    cut = np.median(magnitudes[voiced])
    return float(
        librosa.pitch_tuning(
            pitches[(magnitudes >= cut) & voiced], resolution=resolution, bins_per_octave=bins_per_octave
        )
    )


def normalize_columns(S: np.ndarray, *, norm: float = np.inf) -> np.ndarray:
    """``librosa.util.normalize(S, norm=norm, axis=0)`` for ``norm`` in {1, inf}."""
    if norm == np.inf:
        length = np.max(np.abs(S), axis=0, keepdims=True)
    elif norm == 1:
        length = np.sum(np.abs(S), axis=0, keepdims=True)
    else:
        raise ParameterError(f"norm={norm!r} must be 1 or np.inf")
    length = np.where(length < np.finfo(S.dtype).tiny, 1.0, length).astype(S.dtype)
    return S / length


def apply_filters(filters: np.ndarray, S: np.ndarray) -> np.ndarray:
    """``filters @ S`` for a filter bank ``(k, d)`` and a spectrogram ``(d, t)``.

    Done as ``(S.T @ filters.T).T``: :func:`stft_magnitude` returns a frame-major
    array, for which this order is the fast one for BLAS.
    """
    return (S.T @ filters.T).T


def chroma_stft(*, S: np.ndarray, sr: int = 22050, tuning: float | None = None, n_chroma: int = 12) -> np.ndarray:
    """``librosa.feature.chroma_stft`` from a power spectrogram ``S``: ``(n_chroma, t)``."""
    n_fft = 2 * (S.shape[0] - 1)
    if tuning is None:
        tuning = estimate_tuning(S=S, sr=sr, n_fft=n_fft, bins_per_octave=n_chroma)
    raw = apply_filters(chroma_filters(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=n_chroma), S)
    return normalize_columns(raw, norm=np.inf)


def _spectral_moments(S: np.ndarray, freqs: np.ndarray, orders: int) -> np.ndarray:
    """``sum_f freq**k * S[f, t] / sum_f S[f, t]`` for k < ``orders``, float64, ``(orders, t)``.

    Silent frames (sum below float32 ``tiny``) are not divided, as in librosa.
    """
    powers = np.vstack([freqs**k for k in range(orders)])
    moments = apply_filters(powers, S.astype(np.float64))
    length = moments[0]
    return moments / np.where(length < np.finfo(np.float32).tiny, 1.0, length)


def spectral_centroid(*, S: np.ndarray, sr: int = 22050) -> np.ndarray:
    """``librosa.feature.spectral_centroid`` from a magnitude spectrogram: ``(t,)`` in Hz."""
    freqs = fft_frequencies(sr=sr, n_fft=2 * (S.shape[0] - 1))
    return _spectral_moments(S, freqs, 2)[1]


def spectral_bandwidth(*, S: np.ndarray, sr: int = 22050, p: float = 2) -> np.ndarray:
    """``librosa.feature.spectral_bandwidth`` (``norm=True``) from a magnitude spectrogram: ``(t,)`` in Hz.

    For ``p=2`` it is the spread about the centroid from the first three moments,
    ``sqrt(m2 - 2 c m1 + c**2 m0)``, without a frequency-by-frame deviation matrix.
    """
    freqs = fft_frequencies(sr=sr, n_fft=2 * (S.shape[0] - 1))
    if p == 2:
        m0, m1, m2 = _spectral_moments(S, freqs, 3)
        centroid = m1
        return np.sqrt(np.maximum(m2 - 2 * centroid * m1 + centroid**2 * m0, 0.0))
    weights = normalize_columns(S, norm=1)
    centroid = freqs @ weights
    return np.sum(weights * np.abs(freqs[:, None] - centroid[None, :]) ** p, axis=0) ** (1.0 / p)


def spectral_rolloff(*, S: np.ndarray, sr: int = 22050, roll_percent: float = 0.85) -> np.ndarray:
    """``librosa.feature.spectral_rolloff`` from a magnitude spectrogram: ``(t,)`` in Hz.

    The lowest bin frequency whose cumulative magnitude reaches ``roll_percent`` of the
    frame's total (float32 running sums, as librosa computes them).
    """
    if not 0.0 < roll_percent < 1.0:
        raise ParameterError(f"roll_percent={roll_percent!r} must lie in (0, 1)")
    freqs = fft_frequencies(sr=sr, n_fft=2 * (S.shape[0] - 1))
    total = np.cumsum(S, axis=0)
    reached = total >= roll_percent * total[-1]
    return freqs[np.argmax(reached, axis=0)]


def frames_of(y: np.ndarray, *, frame_length: int, hop_length: int) -> np.ndarray:
    """Frames ``[t * hop, t * hop + frame_length)`` of ``y`` as a strided view, ``(t, frame_length)``
    (``librosa.util.frame(y, ...).T``, without a copy)."""
    return np.lib.stride_tricks.sliding_window_view(y, frame_length)[::hop_length]


def rms(*, y: np.ndarray, frame_length: int = 2048, hop_length: int = 512, center: bool = True) -> np.ndarray:
    """``librosa.feature.rms(y=y)``: root-mean-square of each zero-padded frame, ``(t,)``."""
    check_positive(frame_length=frame_length, hop_length=hop_length)
    if center:
        y = np.pad(y, frame_length // 2)
    frames = frames_of(y, frame_length=frame_length, hop_length=hop_length)
    return np.sqrt(np.einsum("ij,ij->i", frames, frames) / frame_length)


def zero_crossing_rate(
    *, y: np.ndarray, frame_length: int = 2048, hop_length: int = 512, center: bool = True, threshold: float = 1e-10
) -> np.ndarray:
    """``librosa.feature.zero_crossing_rate(y)``: sign changes per sample in each frame, ``(t,)``.

    As librosa: edge padding when centred, samples with ``|y| <= threshold`` count as
    zero and zero counts as positive, and the pair straddling a frame's start is not
    counted in that frame.
    """
    check_positive(frame_length=frame_length, hop_length=hop_length)
    if center:
        y = np.pad(y, frame_length // 2, mode="edge")
    negative = np.signbit(np.where(np.abs(y) <= threshold, 0.0, y))
    changes = negative[1:] != negative[:-1]
    # A frame starting at s holds the pairs (s, s+1) … (s+L-2, s+L-1): L - 1 of them.
    n_frames = 1 + (y.shape[-1] - frame_length) // hop_length
    pairs = frames_of(changes, frame_length=frame_length - 1, hop_length=hop_length)[:n_frames]
    return np.count_nonzero(pairs, axis=1) / frame_length


def _amplitude_db(amplitude: np.ndarray, *, amin: float = 1e-5) -> np.ndarray:
    """``librosa.amplitude_to_db(amplitude, ref=np.max, top_db=None)``, the same arithmetic."""
    ref = np.max(np.abs(amplitude))
    power = np.square(np.abs(amplitude))
    return power_to_db(power, ref=ref**2, amin=amin**2, top_db=None)


def trim_bounds(y: np.ndarray, *, top_db: float = 60.0, frame_length: int = 2048, hop_length: int = 512) -> tuple[int, int]:
    """``librosa.effects.trim(y, ...)[1]``: the sample span ``[start, end)`` from the first
    to the last frame within ``top_db`` of the loudest; ``(0, 0)`` when none is.

    The frame RMS and its dB are librosa's arithmetic (``np.mean`` of the squared frames
    in librosa's frame layout), so the span is librosa's to the sample.

    >>> y = np.concatenate([np.zeros(8000), np.ones(4000), np.zeros(8000)]).astype(np.float32)
    >>> trim_bounds(y, top_db=35, frame_length=1024, hop_length=160)
    (7520, 12640)
    """
    check_positive(frame_length=frame_length, hop_length=hop_length)
    padded = np.pad(y, frame_length // 2)
    if padded.size < frame_length:
        raise ParameterError(f"signal of {y.size} samples is too short for frame_length={frame_length}")
    frames = frames_of(padded, frame_length=frame_length, hop_length=hop_length).T  # librosa's layout
    frame_rms = np.sqrt(np.mean(np.square(frames, dtype=np.float32), axis=-2))
    loud = np.flatnonzero(_amplitude_db(frame_rms) > -top_db)
    if loud.size == 0:
        return 0, 0
    return int(loud[0] * hop_length), int(min(y.size, (loud[-1] + 1) * hop_length))


def trim_silence(y: np.ndarray, *, top_db: float = 35.0, frame_length: int = 1024, hop_length: int = 160) -> np.ndarray:
    """``y`` without the leading and trailing frames more than ``top_db`` below its loudest
    (:func:`trim_bounds`, ``librosa.effects.trim``); ``y`` whole when that would leave
    less than one frame.

    A lone click in near-silence (e.g. one timeline window) would leave less than a
    frame: then there is nothing sensible to trim to.

    >>> y = np.concatenate([np.zeros(8000), np.ones(4000), np.zeros(8000)]).astype(np.float32)
    >>> trim_silence(y).size < y.size
    True
    """
    start, end = trim_bounds(y, top_db=top_db, frame_length=frame_length, hop_length=hop_length)
    return y[start:end] if end - start >= frame_length else y


@lru_cache(maxsize=8)
def _dct_matrix(n_mfcc: int, n_mels: int) -> np.ndarray:
    """The first ``n_mfcc`` rows of the orthonormal DCT-II on ``n_mels`` points, float64."""
    k = np.arange(n_mfcc)[:, None]
    n = np.arange(n_mels)[None, :]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_mels)) * np.sqrt(2.0 / n_mels)
    basis[0] /= np.sqrt(2.0)
    return basis


def mfcc(*, S: np.ndarray, n_mfcc: int = 20) -> np.ndarray:
    """``librosa.feature.mfcc(S=S, n_mfcc=n_mfcc)`` of a log-power mel spectrogram ``S``
    ``(n_mels, t)``: its orthonormal DCT-II over the bands, ``(n_mfcc, t)`` in ``S``'s dtype.

    A cached DCT matrix in float64 instead of ``scipy.fft.dct`` (importing scipy and
    librosa costs about 3 s at each cold start); equal to float32 rounding.

    >>> S = np.ones((40, 3), dtype=np.float32)
    >>> [round(float(c), 4) for c in mfcc(S=S, n_mfcc=2)[:, 0]]  # a flat spectrum: only c0
    [6.3246, 0.0]
    """
    check_range(1, S.shape[0], n_mfcc=n_mfcc)
    return apply_filters(_dct_matrix(n_mfcc, S.shape[0]), S.astype(np.float64)).astype(S.dtype)


@lru_cache(maxsize=16)
def _savgol_coefficients(width: int, order: int) -> np.ndarray:
    """scipy's ``savgol_coeffs(width, order, deriv=order, use="dot")``: the weights that
    give the ``order``-th derivative at the window's centre of the least-squares
    polynomial of degree ``order``."""
    offsets = np.arange(-(width // 2), width // 2 + 1, dtype=np.float64)
    vandermonde = offsets ** np.arange(order + 1, dtype=np.float64)[:, None]
    target = np.zeros(order + 1)
    target[order] = float(np.prod(np.arange(1, order + 1)))
    return np.linalg.lstsq(vandermonde, target, rcond=None)[0]


def delta(data: np.ndarray, *, width: int = 9, order: int = 1) -> np.ndarray:
    """``librosa.feature.delta(data, width=width, order=order)`` along the last axis.

    librosa's ``scipy.signal.savgol_filter(..., polyorder=order, deriv=order,
    mode="interp")``: a least-squares polynomial of degree ``order`` over ``width``
    frames, its ``order``-th derivative at the centre. With ``mode="interp"`` the first
    and last ``width // 2`` frames take the derivative of the polynomial fitted to the
    first (last) full window; a degree-``order`` polynomial has a constant ``order``-th
    derivative, so that is the first (last) full window's value repeated. Computed in
    float64 as scipy does, returned in ``data``'s dtype.

    >>> np.round(delta(np.arange(9.0)[None] ** 2, width=5, order=1), 6).tolist()  # d(x**2)/dx
    [[4.0, 4.0, 4.0, 6.0, 8.0, 10.0, 12.0, 12.0, 12.0]]
    """
    check_range(1, 2**31, order=order)
    if width < 3 or width % 2 != 1 or width > data.shape[-1]:
        raise ParameterError(f"width={width!r} must be odd, >= 3 and <= {data.shape[-1]} frames")
    windows = np.lib.stride_tricks.sliding_window_view(data.astype(np.float64), width, axis=-1)
    inner = windows @ _savgol_coefficients(width, order)
    half = width // 2
    return np.pad(inner, [(0, 0)] * (data.ndim - 1) + [(half, half)], mode="edge").astype(data.dtype)


def spectral_contrast(
    *, S: np.ndarray, sr: int = 22050, fmin: float = 200.0, n_bands: int = 6, quantile: float = 0.02
) -> np.ndarray:
    """``librosa.feature.spectral_contrast(S=S, sr=sr, fmin=fmin, n_bands=n_bands)``:
    peak minus valley (dB) in ``n_bands`` octave bands and the rest above, ``(n_bands + 1, t)``.

    librosa's band edges and sort, on ``S`` as given: the same bits.
    """
    check_range(1, 64, n_bands=n_bands)
    if not 0.0 < quantile < 1.0 or not fmin > 0:
        raise ParameterError(f"quantile={quantile!r} must lie in (0, 1) and fmin={fmin!r} be positive")
    freq = fft_frequencies(sr=sr, n_fft=2 * (S.shape[0] - 1))
    edges = np.zeros(n_bands + 2)
    edges[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
    if np.any(edges[:-1] >= 0.5 * sr):
        raise ParameterError(f"fmin={fmin!r} with n_bands={n_bands!r} reaches past sr / 2 = {sr / 2:g} Hz")
    valley = np.zeros((n_bands + 1, S.shape[1]))
    peak = np.zeros_like(valley)
    for k, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        band = (freq >= low) & (freq <= high)
        inside = np.flatnonzero(band)
        if k > 0:
            band[inside[0] - 1] = True
        if k == n_bands:
            band[inside[-1] + 1 :] = True
        sub_band = S[band, :]
        if k < n_bands:
            sub_band = sub_band[:-1, :]
        n_extreme = int(np.maximum(np.rint(quantile * np.sum(band)), 1))
        ordered = np.sort(sub_band, axis=0)
        valley[k] = np.mean(ordered[:n_extreme], axis=0)
        peak[k] = np.mean(ordered[-n_extreme:], axis=0)
    return power_to_db(peak) - power_to_db(valley)


def spectral_flatness(*, S: np.ndarray, amin: float = 1e-10, power: float = 2.0) -> np.ndarray:
    """``librosa.feature.spectral_flatness(S=S)``: geometric over arithmetic mean of
    ``S ** power`` per frame, ``(1, t)``; librosa's arithmetic, the same bits."""
    thresholded = np.maximum(amin, S**power)
    geometric = np.exp(np.mean(np.log(thresholded), axis=-2, keepdims=True))
    return geometric / np.mean(thresholded, axis=-2, keepdims=True)


def next_fast_len(n: int) -> int:
    """The smallest ``2**a 3**b 5**c >= n``: ``scipy.fft.next_fast_len(n, real=True)``.

    >>> next_fast_len(2047), next_fast_len(1291)
    (2048, 1296)
    """
    best = 1 << max(0, int(n - 1).bit_length())
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            candidate = power35
            while candidate < n:
                candidate *= 2
            best = min(best, candidate)
            power35 *= 3
        power5 *= 5
    return best


def _difference_function(frames: np.ndarray, *, min_period: int, max_period: int) -> np.ndarray:
    """YIN's cumulative mean normalised difference of frames ``(t, frame_length)`` at lags
    ``min_period … max_period``: ``(t, lags)`` float64, librosa's arithmetic.

    librosa takes the autocorrelation from a float32 FFT of ``2 * frame_length - 1``
    points or more (``scipy.fft``); here it is computed in float64, so the FFT need
    only hold the lags used without wrapping (``frame_length + max_period`` points),
    and rounded to the frames' dtype once, at the end. After it, librosa's
    arithmetic in its dtypes, the running energy summed over the ``max_period``
    samples it needs instead of the whole frame.
    """
    n_pad = next_fast_len(frames.shape[-1] + max_period)
    spectrum = np.fft.rfft(frames.astype(np.float64), n=n_pad, axis=-1)
    power = spectrum.real**2 + spectrum.imag**2
    acf = np.fft.irfft(power, n=n_pad, axis=-1)[:, : max_period + 1].astype(frames.dtype)
    energy = np.cumsum(np.square(frames[:, :max_period]), axis=-1)
    difference = np.zeros_like(acf)
    difference[:, 1:] = 2 * (acf[:, :1] - acf[:, 1:]) - energy
    cumulative_mean = np.cumsum(difference[:, 1:], axis=-1) / np.arange(1, max_period + 1)
    denominator = cumulative_mean[:, min_period - 1 : max_period]
    return difference[:, min_period:] / (denominator + np.finfo(denominator.dtype).tiny)


def yin(
    y: np.ndarray,
    *,
    fmin: float,
    fmax: float,
    sr: int = 22050,
    frame_length: int = 2048,
    hop_length: int | None = None,
    trough_threshold: float = 0.1,
    center: bool = True,
) -> np.ndarray:
    """``librosa.yin``: the YIN pitch of each frame in Hz, ``(t,)`` float64.

    The smallest lag whose normalised difference is a local minimum under
    ``trough_threshold`` (else the global minimum), refined by parabolic
    interpolation. librosa's arithmetic step by step (its numba stencils in numpy),
    except the autocorrelation: numpy's FFT in float64 where librosa's is scipy's in
    float32. On speech the pitch agrees with librosa's to 1e-6 (relative) on most
    frames and to 1e-3 on all but about one frame in 5000, where two lags nearly tie
    and the rounding picks the other one.

    >>> t = np.arange(16000) / 16000
    >>> f0 = yin(np.sin(2 * np.pi * 200 * t).astype(np.float32), fmin=60, fmax=500, sr=16000,
    ...          frame_length=1024, hop_length=160)
    >>> round(float(np.median(f0)))
    200
    """
    hop_length = frame_length // 4 if hop_length is None else hop_length
    check_positive(frame_length=frame_length, hop_length=hop_length)
    if not 0 < fmin < fmax <= sr / 2:
        raise ParameterError(f"fmin={fmin!r}, fmax={fmax!r} must satisfy 0 < fmin < fmax <= sr / 2")
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    if max_period - min_period < 1:
        raise ParameterError(f"fmin={fmin!r}, fmax={fmax!r} leave fewer than 2 lags in frame_length={frame_length}")
    if center:
        y = np.pad(y, frame_length // 2)
    if y.shape[-1] < frame_length:
        raise ParameterError(f"signal of {y.shape[-1]} samples is shorter than frame_length={frame_length}")
    frames = frames_of(y, frame_length=frame_length, hop_length=hop_length)
    d = _difference_function(frames, min_period=min_period, max_period=max_period)

    # librosa's stencils: parabolic shift (zero at the edges) and local minima.
    shifts = np.zeros_like(d)
    below, centre, above = d[:, :-2], d[:, 1:-1], d[:, 2:]
    a = above + below - 2 * centre
    b = (above - below) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shifts[:, 1:-1] = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a)
    is_trough = np.zeros(d.shape, dtype=bool)
    is_trough[:, 1:-1] = (centre < below) & (centre <= above)
    is_trough[:, -1] = d[:, -1] < d[:, -2]
    is_trough[:, 0] = d[:, 0] < d[:, 1]
    is_threshold_trough = is_trough & (d < trough_threshold)

    period = np.argmax(is_threshold_trough, axis=-1)
    none_below = ~np.any(is_threshold_trough, axis=-1)
    period[none_below] = np.argmin(d[none_below], axis=-1)
    rows = np.arange(d.shape[0])
    return sr / (min_period + period + shifts[rows, period])


def power_to_db(S: np.ndarray, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> np.ndarray:
    """``librosa.power_to_db``: ``10 log10(S / ref)``, floored at ``max - top_db``."""
    log_spec = 10.0 * np.log10(np.maximum(amin, S)) - 10.0 * np.log10(np.maximum(amin, ref))
    if top_db is not None:
        if top_db < 0:
            raise ParameterError(f"top_db={top_db!r} must be non-negative")
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec
