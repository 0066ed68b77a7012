"""Level normalisation: every clip at the same level before any feature is computed.

A recording's level depends on the microphone and its gain, not on the speaker's
emotion; a model trained on RAVDESS (recorded quietly) otherwise takes a loud
recording for anger. Each clip is scaled by one gain so that a measure of its
*active* level reaches a fixed target; dynamics within the clip (the relative
level cues) are kept.

Methods (the ``level`` parameter of a feature set):

- ``"active-rms"``: the RMS over the 20 ms frames within :data:`ACTIVE_RANGE_DB` of
  the loudest frame (the speech, not the room noise around it), to
  :data:`TARGET_RMS_DBFS`;
- ``"bs1770"``: the gated integrated loudness of ITU-R BS.1770 (``pyloudnorm``), to
  :data:`TARGET_LUFS`. The meter needs 400 ms blocks, so shorter clips fall back to
  ``"active-rms"``; its absolute gate (-70 LUFS) is made irrelevant by measuring a
  peak-normalised copy, so the result does not depend on the clip's level;
- ``None``: the clip as recorded.

The gain is capped at :data:`MAX_GAIN_DB` (no blow-up of near-silence), a fixed noise
floor (:data:`NOISE_FLOOR_DB` under the target) masks what a quiet recording cannot
carry, and a clip whose active level is below :data:`SILENT_DBFS` is left alone. Samples may exceed
±1 after the gain: features are computed in floating point, nothing is clipped.

Examples
--------
>>> import numpy as np
>>> t = np.arange(16000) / 16000
>>> y = (0.01 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
>>> round(active_rms_db(normalise_level(y, 16000, method="active-rms"), 16000), 1)
-23.0
>>> bool(np.allclose(normalise_level(10 * y, 16000), normalise_level(y, 16000), atol=1e-6))
True
"""

from __future__ import annotations

import math

import numpy as np

from serkit.core.exceptions import ParameterError

LEVEL_METHODS = ("active-rms", "bs1770")
"""Accepted values of a feature set's ``level`` (besides ``None``)."""

DEFAULT_LEVEL = "active-rms"
"""The method feature sets use unless told otherwise (chosen on inner folds of
training speakers: docs/calibration-and-level.md)."""

TARGET_RMS_DBFS = -23.0
"""Active RMS after ``"active-rms"``: speech peaks then sit a few dB below full scale."""

TARGET_LUFS = -23.0
"""Integrated loudness after ``"bs1770"`` (the EBU R 128 programme level)."""

ACTIVE_RANGE_DB = 40.0
"""Frames within this many dB of the loudest frame count as active."""

FRAME_S = 0.02
"""Frame length of the active-level measure."""

MAX_GAIN_DB = 60.0
"""Largest gain applied: a whisper of a clip is raised, a clip of hiss is not blown up.
60 dB, not 40: a quarter of the RAVDESS clips made 20 dB quieter need more than 40
(their active speech sits near -65 dBFS), and capped they keep a level cue; 60 dB
still leaves 16-bit quantisation noise (-101 dBFS) 18 dB under the target."""

NOISE_FLOOR_DB = 40.0
"""A white noise floor this many dB below the target is added after the gain. It masks
what lies under it (room noise, and the quantisation noise that the gain brings up in a
quiet 16-bit recording), so features such as the spectral contrast of the top band no
longer measure it: between a RAVDESS clip and its 20 dB quieter 16-bit copy that
contrast moved by 15 standard deviations without the floor."""

SILENT_DBFS = -100.0
"""Active level under which a clip is taken as digital silence and left as it is."""


def check_level(level: str | None) -> str | None:
    """``level`` if it names a method (or is ``None``), else :class:`ParameterError`."""
    if level is not None and level not in LEVEL_METHODS:
        raise ParameterError(f"level={level!r}; choose from {', '.join(LEVEL_METHODS)} or None")
    return level


def _frame_power(y: np.ndarray, sr: int) -> np.ndarray:
    """Mean square of consecutive non-overlapping frames of :data:`FRAME_S` (the last, partial one too)."""
    frame = max(1, int(round(FRAME_S * sr)))
    padded = np.zeros(-(-y.size // frame) * frame)
    padded[: y.size] = y
    frames = padded.reshape(-1, frame)
    counts = np.full(len(frames), frame)
    counts[-1] = y.size - frame * (len(frames) - 1)
    return np.sum(np.square(frames), axis=1) / counts


TRANSIENT_RANK = 5
TRANSIENT_DB = 15.0
"""A frame more than 15 dB louder than the 5th loudest is a transient (a plug-in pop, a tap on the
microphone, a door) and left out of the active level. Averaged in, one 5 ms pop at full scale
turned a quiet clip's gain from +21 to +3 dB, and with it every feature. In the 3276 clips of
RAVDESS and nEMO the loudest frame lies at most 11.7 dB over the 5th loudest (the 99.9th
percentile 10.3 dB), in the 16 380 training copies of them at most 13.1 dB: none loses a frame,
so their levels, and the bundled model's training features, are what they were, bit for bit."""


def transient_frames(power: np.ndarray) -> np.ndarray:
    """True for the frames of ``power`` (one mean square per frame) that :data:`TRANSIENT_DB` marks as transients.

    >>> transient_frames(np.r_[np.full(20, 1e-4), 0.5]).nonzero()[0].tolist()
    [20]
    """
    if power.size <= TRANSIENT_RANK:
        return np.zeros(power.size, dtype=bool)
    return power > _ranked_power(power) * 10 ** (TRANSIENT_DB / 10)


def _ranked_power(power: np.ndarray) -> float:
    """The :data:`TRANSIENT_RANK`-th largest of ``power``: what a transient is measured against and brought down to."""
    return np.partition(power, -TRANSIENT_RANK)[-TRANSIENT_RANK]


TRANSIENT_RAMP_S = 0.004
"""The gain that softens a transient changes over this long (a Hann ramp), so the change itself makes no click."""


def soften_transients(y: np.ndarray, sr: int) -> np.ndarray:
    """``y`` with its transient frames (:func:`transient_frames`) brought down to the power of the
    :data:`TRANSIENT_RANK`-th loudest frame; ``y`` itself when it has none.

    A pop or a tap left in place still sets the top of Whisper's log-mel range and the
    spectral statistics: with the transients only left out of the level, 7 % of 120 shared
    clips changed their emotion under a 5 ms pop at full scale, and 2 % with them softened.

    >>> speech = 0.01 * np.ones(8000)
    >>> soften_transients(speech, 16000) is speech
    True
    >>> y = np.r_[np.zeros(8000), speech]
    >>> y[4000:4080] = 1.0  # a 5 ms pop: its frame now holds the power of the speech's frames
    >>> round(float(np.max(np.abs(soften_transients(y, 16000)))), 3)
    0.02
    """
    if y.ndim != 1:
        return y  # not a clip to look at: the feature set's own checks report why
    frame = max(1, int(round(FRAME_S * sr)))
    whole = y[: y.size // frame * frame].reshape(-1, frame)
    quick = np.einsum("ij,ij->i", whole, whole)  # a quick look: 0.02 ms for 4 s, where the exact power costs 0.8
    if not (np.all(np.isfinite(quick)) and transient_frames(quick).any()):
        return y
    power = _frame_power(np.asarray(y, dtype=np.float64), sr)
    frame_gain = np.where(transient_frames(power), np.sqrt(_ranked_power(power) / np.maximum(power, 1e-30)), 1.0)
    ramp = np.hanning(max(3, int(TRANSIENT_RAMP_S * sr)))
    gain = np.convolve(np.pad(np.repeat(frame_gain, frame)[: y.size], ramp.size, mode="edge"), ramp / ramp.sum(),
                       mode="same")[ramp.size:-ramp.size]
    return (y * gain).astype(y.dtype, copy=False)


def active_rms_db(y: np.ndarray, sr: int, *, range_db: float = ACTIVE_RANGE_DB) -> float:
    """RMS in dBFS over the frames within ``range_db`` of the loudest (-inf for silence),
    transients (:func:`transient_frames`) left out.

    >>> y = np.r_[np.zeros(8000), 0.1 * np.ones(8000)]
    >>> round(active_rms_db(y, 16000), 1)  # the silent half does not count
    -20.0
    >>> quiet = 0.1 * y
    >>> quiet[4000:4080] = 1.0  # a 5 ms pop at full scale in the silence
    >>> round(active_rms_db(quiet, 16000), 1)
    -40.0
    """
    y = np.asarray(y, dtype=np.float64)
    if y.size == 0:
        return -math.inf
    power = _frame_power(y, sr)
    transients = transient_frames(power)
    if transients.any():
        power = power[~transients]
    loudest = float(power.max())
    if loudest <= 0:
        return -math.inf
    active = power[power >= loudest * 10 ** (-range_db / 10)]
    return 10.0 * math.log10(float(active.mean()))


def bs1770_loudness(y: np.ndarray, sr: int) -> float:
    """Gated integrated loudness (LUFS, ITU-R BS.1770 via ``pyloudnorm``), or -inf for silence.

    Measured on a copy scaled to a 0 dBFS peak and corrected back, so the meter's
    absolute gate (-70 LUFS) never depends on the clip's level. Raises
    :class:`ParameterError` for clips shorter than the meter's 400 ms block.
    """
    try:
        import pyloudnorm
    except ModuleNotFoundError:
        raise ParameterError("level='bs1770' needs pyloudnorm: pip install 'serkit[loudness]'") from None

    y = np.asarray(y, dtype=np.float64)
    meter = pyloudnorm.Meter(sr)
    if y.size < meter.block_size * sr:
        raise ParameterError(f"BS.1770 needs at least {meter.block_size:g} s of audio, got {y.size / sr:.3f} s")
    peak = float(np.max(np.abs(y)))
    if peak == 0:
        return -math.inf
    loudness = float(meter.integrated_loudness(y / peak))
    return loudness + 20.0 * math.log10(peak)


def level_gain_db(y: np.ndarray, sr: int, *, method: str = DEFAULT_LEVEL) -> float | None:
    """The gain (dB) that ``method`` applies to ``y``, at most :data:`MAX_GAIN_DB`;
    ``None`` for a clip left alone (silence, or not a finite mono signal)."""
    check_level(method)
    y = np.asarray(y)
    if y.ndim != 1 or not np.all(np.isfinite(y)):
        return None  # not a clip to measure: the feature set's own checks report why
    active = active_rms_db(y, sr)
    if not active > SILENT_DBFS:
        return None
    if method == "bs1770":
        try:
            loudness = bs1770_loudness(y, sr)
        except ParameterError:  # shorter than one 400 ms block: the active RMS stands in
            loudness = None
        if loudness is not None and math.isfinite(loudness):
            return min(TARGET_LUFS - loudness, MAX_GAIN_DB)
    return min(TARGET_RMS_DBFS - active, MAX_GAIN_DB)


def normalise_level(y: np.ndarray, sr: int, *, method: str | None = DEFAULT_LEVEL) -> np.ndarray:
    """``y`` scaled to the target level of ``method`` (``None``: ``y`` unchanged), its
    transients softened first (:func:`soften_transients`).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at ``sr``.
    sr : int > 0
    method : {"active-rms", "bs1770"} or None

    Returns
    -------
    y : np.ndarray [shape=(n,)]
        Same dtype as the input (float32 for float32 input); may exceed ±1.

    Examples
    --------
    >>> y = np.full(1600, 0.5, dtype=np.float32)
    >>> normalise_level(y, 16000, method=None) is y
    True
    >>> round(active_rms_db(normalise_level(y, 16000), 16000), 2)
    -23.0
    """
    if check_level(method) is None:
        return y
    y = soften_transients(np.asarray(y), sr)
    gain_db = level_gain_db(y, sr, method=method)
    if gain_db is None:
        return y
    dtype = y.dtype if np.issubdtype(y.dtype, np.floating) else np.float32
    return (y * 10 ** (gain_db / 20) + noise_floor(y.size)).astype(dtype, copy=False)


NOISE_CACHE_SAMPLES = 60 * 48000
"""Samples of the noise floor kept between calls (60 s at 48 kHz, 23 MB): longer clips draw theirs."""

_noise_cache = np.zeros(0)


def noise_floor(n: int) -> np.ndarray:
    """The noise floor :func:`normalise_level` adds to a clip of ``n`` samples, float64.

    The same noise for every clip (``np.random.default_rng(0)``): features stay
    deterministic. A generator's first ``n`` normals do not depend on how many are
    drawn, so the longest floor drawn so far (up to :data:`NOISE_CACHE_SAMPLES`) is
    kept and each clip takes its start instead of drawing a normal per sample again.
    Read-only: a caller must not write into it.

    >>> a = noise_floor(1000)
    >>> bool(np.array_equal(noise_floor(10), a[:10]))
    True
    """
    global _noise_cache
    if n > _noise_cache.size:
        draw = n if n > NOISE_CACHE_SAMPLES else min(max(n, 2 * _noise_cache.size), NOISE_CACHE_SAMPLES)
        floor = 10 ** ((TARGET_RMS_DBFS - NOISE_FLOOR_DB) / 20) * np.random.default_rng(0).standard_normal(draw)
        floor.flags.writeable = False
        if draw <= NOISE_CACHE_SAMPLES:
            _noise_cache = floor
        return floor[:n]
    return _noise_cache[:n]


CLIPPING_BINS, CLIPPING_FLOOR, CLIPPING_TOP = 20, 0.3, 0.999
"""The clipping score's histogram: 20 bins of the magnitudes from 0.3 of the top to the top, the
top being the 99.9th percentile of the magnitudes (a lossy codec's overshoots around flat tops can
reach twice the clip level; the top 0.1 % of samples is left out so they do not stretch the range)."""

OFFSET_STRIDE = 8
"""The clipping score reads a recorder's offset as the median of every 8th sample: a constant
offset reads the same from them, and the score costs 0.31 ms per 3.6 s utterance instead of the
0.82 ms of every sample's median (0.24 ms without any)."""

TONE_FRAME, TONE_SHARE = 1024, 0.97
"""A frame of 1024 samples holding 97 % of its power within two bins of its strongest (a Hann
window), with the same strongest bin as a neighbouring frame, is a steady tone: a recorder's or a
voicemail's beep, a hum, a whistle. A sine's magnitudes pile up at its amplitude as a clipped
waveform's do at the clip level, so the clipping score leaves out the tones among its loud frames:
a 1 kHz beep of 0.3 s before the speech got the clipping caution on 66 of 120 shared clips at
-6 dBFS."""

TONE_MIN_BIN = 4
"""A tone's strongest bin is the 4th or higher (62.5 Hz at 16 kHz): a recorder's drift after the
speech, at 0-16 Hz, held 97 % of a frame's power in one line too."""

TONE_CREST = 2.2
"""Only frames whose peak is under 2.2 times their RMS are looked at for a tone: a sine's is 1.41,
a frame half filled by one 2.0, and 2.6 % of the loud frames of RAVDESS speech (every 40th clip)
lie under it, so the spectra cost little."""


def steady_tones(y: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """True for each frame of ``y`` (indices ``frames`` of its :data:`TONE_FRAME`-sample frames) that is a
    steady tone (:data:`TONE_SHARE`).

    >>> t = np.arange(8 * TONE_FRAME) / 16000
    >>> steady_tones(np.sin(2 * np.pi * 1000 * t), np.arange(8)).tolist()
    [True, True, True, True, True, True, True, True]
    >>> steady_tones(np.random.default_rng(0).standard_normal(8 * TONE_FRAME), np.arange(8)).any()
    np.False_
    """
    spectra = np.abs(np.fft.rfft(y[frames[:, None] * TONE_FRAME + np.arange(TONE_FRAME)] * np.hanning(TONE_FRAME), axis=1)) ** 2
    strongest = spectra.argmax(axis=1)
    near = np.take_along_axis(spectra, np.clip(strongest[:, None] + np.arange(-2, 3), 0, spectra.shape[1] - 1), axis=1)
    tonal = (near.sum(axis=1) >= TONE_SHARE * np.maximum(spectra.sum(axis=1), 1e-30)) & (strongest >= TONE_MIN_BIN)
    adjacent = np.diff(frames) == 1
    same = adjacent & (np.abs(np.diff(strongest)) <= 1) & tonal[1:] & tonal[:-1]
    return tonal & (np.r_[same, False] | np.r_[False, same])


CLIPPED_ABOVE = 0.015
"""A piece of audio whose :func:`clipping_score` exceeds this is called clipped. Chosen on
development speakers only: no utterance of theirs as recorded (FLAC, MP3 or AAC) scores over it,
and the bundled model's emotion moved for at least one in ten of their clipped copies scoring over
it (light clipping, 6 dB past full scale, moved none and mostly stays under it). See
docs/results.md, "Clipped recordings"."""


def clipping_score(y: np.ndarray) -> float:
    """How much of ``y`` is piled up at one high magnitude: near 0 for speech as spoken, more when clipped.

    The magnitudes of speech thin out toward its peak. A microphone or converter driven past
    full scale cuts the peaks flat, so a share of the samples sits at the clip level: a spike
    near the top of the histogram of ``|y|`` or, after resampling or a lossy codec (MP3, AAC)
    has rung around the flat tops, a bump. The score is the largest count of a histogram bin
    (:data:`CLIPPING_BINS` bins from :data:`CLIPPING_FLOOR` × the top to the top, the top the
    :data:`CLIPPING_TOP` quantile of ``|y|``) above the smallest count of the bins under it, as a
    share of all samples, taken around the samples' median: a recorder's constant offset piles a
    quiet clip's pauses up at one magnitude too, which is not clipping. Loud frames that are steady
    tones (:func:`steady_tones`: a beep, a hum) are left out: a sine piles up at its amplitude. (The median, not the mean
    :func:`~serkit.core.audio.remove_dc` takes: clipping an asymmetric waveform moves its mean, and
    centring on that would split its flat tops into two magnitudes.) It does not depend on the
    level. An amplitude-histogram detector in the spirit of Eaton and Naylor (2013), written here
    because no maintained audio library ships a clipping detector (audiomentations and librosa
    only simulate clipping).

    >>> rng = np.random.default_rng(0)
    >>> speech = (rng.laplace(size=16000) * np.hanning(16000) * 0.1).astype(np.float32)
    >>> clipping_score(speech) < CLIPPED_ABOVE < clipping_score(np.clip(4 * speech, -0.1, 0.1))
    True
    >>> clipping_score(np.zeros(100, dtype=np.float32))
    0.0
    >>> clipping_score(speech + np.float32(0.02)) < CLIPPED_ABOVE  # an offset is not clipping
    True
    >>> beep = np.r_[0.3 * np.sin(np.arange(4800) / 16000 * 2 * np.pi * 1000), np.zeros(11200)].astype(np.float32)
    >>> clipping_score(speech + beep) < CLIPPED_ABOVE  # nor is a tone (:data:`TONE_SHARE`)
    True
    """
    y = np.asarray(y, dtype=np.float32)
    if y.size == 0:
        return 0.0
    magnitude, top = _magnitude_and_top(y)
    if top <= 0.0:
        return 0.0
    magnitude = _without_loud_tones(magnitude, y, CLIPPING_FLOOR * top)
    counts, _ = np.histogram(magnitude, bins=CLIPPING_BINS, range=(CLIPPING_FLOOR * top, top))
    return float((counts - np.minimum.accumulate(counts)).max() / magnitude.size)


def _without_loud_tones(magnitude: np.ndarray, y: np.ndarray, loud: float) -> np.ndarray:
    """``magnitude`` less the samples of the :data:`TONE_FRAME` frames that reach ``loud`` and are steady tones."""
    tones = np.flatnonzero(_loud_tone_frames(magnitude, y, loud))
    if tones.size == 0:
        return magnitude
    keep = np.ones(magnitude.size, dtype=bool)
    keep[(tones[:, None] * TONE_FRAME + np.arange(TONE_FRAME)).ravel()] = False
    return magnitude[keep]


def _loud_tone_frames(magnitude: np.ndarray, y: np.ndarray, loud: float) -> np.ndarray:
    n = magnitude.size // TONE_FRAME
    frames = magnitude[: n * TONE_FRAME].reshape(n, TONE_FRAME)
    peak = frames.max(axis=1)
    rms = np.sqrt(np.einsum("ij,ij->i", frames, frames) / TONE_FRAME)
    candidates = np.flatnonzero((peak >= loud) & (peak < TONE_CREST * rms))
    tones = np.zeros(n, dtype=bool)
    if candidates.size >= 2:
        tones[candidates[steady_tones(y, candidates)]] = True
    return tones


def loud_tones(y: np.ndarray) -> np.ndarray:
    """True for each :data:`TONE_FRAME`-sample frame of ``y`` that is a steady tone (:func:`steady_tones`)
    among its loud sounds (a peak over :data:`CLIPPING_FLOOR` of its top): a beep, a whistle, a loud hum.

    >>> t = np.arange(6 * TONE_FRAME) / 16000
    >>> loud_tones(np.r_[0.5 * np.sin(2 * np.pi * 1000 * t[:3 * TONE_FRAME]), 0.01 * np.sin(t[3 * TONE_FRAME:] * 900)]).tolist()
    [True, True, True, False, False, False]
    """
    y = np.asarray(y, dtype=np.float32)
    if y.size < 2 * TONE_FRAME:
        return np.zeros(y.size // TONE_FRAME, dtype=bool)
    magnitude, top = _magnitude_and_top(y)
    return _loud_tone_frames(magnitude, y, CLIPPING_FLOOR * top)


def _magnitude_and_top(y: np.ndarray) -> tuple[np.ndarray, float]:
    """``|y|`` around its median (from every :data:`OFFSET_STRIDE`-th sample) and its :data:`CLIPPING_TOP` quantile."""
    magnitude = np.abs(y - np.median(y[::OFFSET_STRIDE]))
    rank = int(CLIPPING_TOP * (magnitude.size - 1))
    return magnitude, float(np.partition(magnitude, rank)[rank])  # np.quantile costs ten times as much here
