"""Mains hum: a recording's 50 or 60 Hz hum or buzz, found and taken out before the features
are computed and before the speech detection and the speaker encoder hear the recording.

A ground loop, a charger on a laptop or a cheap USB microphone lays the mains frequency and its
harmonics under a whole recording. The shared corpora have none, so the model has never heard
one: a buzz (50 Hz and its harmonics) 10 dB under the clip changed the bundled model's emotion
for 22 % of 120 shared clips and took their median familiarity from 0.74 to 0.20.

A hum is told from a voice by three things a voice does not do at once:

- it is in the pauses: it is measured in the median spectrum of a clip's quietest frames
  (:func:`quiet_spectrum`), where a voice's harmonics, present only while it speaks, do not
  reach the median;
- its fundamental sits on the mains frequency itself (within :data:`FUNDAMENTAL_TOLERANCE_HZ`
  of 50 or 60 Hz), under any voice's pitch; a voice near 100, 150 or 200 Hz puts lines on the
  harmonics of 50 Hz, never on 50 Hz. A transformer, a fluorescent ballast or a rectifier hums
  on twice the mains (100 or 120 Hz) without the mains itself: that series counts only with at
  least :data:`DOUBLED_MIN_HARMONICS` harmonics in the pauses, which a note or a flat voice held
  on 100 or 120 Hz through them does not have;
- its harmonics lie at whole multiples of that fundamental.

Only a hum loud enough to matter is removed (:data:`HUM_SHARE_DB`); a clip without one is
returned as it is, the same array, so what the model learnt from is untouched. The removal
fits each harmonic's amplitude and phase over half-second blocks, takes each block's median
over 2 s (a hum is steady, a voice is not) and subtracts it (:func:`remove_mains_hum`).

Written here, not taken from a library: scipy's notch filters (``iirnotch``, and ``iircomb``
only for rates that are whole multiples of the mains frequency) are not on the prediction
path's light install, a notch needs the frequency this module measures anyway, and a fixed
notch would take the voice's share of each band with the hum, which the median over time keeps.

Examples
--------
>>> import numpy as np
>>> sr = 16000
>>> t = np.arange(3 * sr) / sr
>>> rng = np.random.default_rng(0)
>>> voice = (np.sin(2 * np.pi * 180 * t) * (t % 1 < 0.6) + 0.001 * rng.standard_normal(t.size)).astype(np.float32)
>>> mains_hum(voice, sr) is None
True
>>> buzz = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 20)).astype(np.float32)
>>> hum = mains_hum(voice + 0.3 * buzz, sr)
>>> round(hum.fundamental_hz, 1), round(hum.share_db)
(50.0, -7)
>>> left = remove_mains_hum(voice + 0.3 * buzz, sr) - voice  # what is left of the buzz: over 20 dB down
>>> bool(np.std(left) < 0.1 * np.std(0.3 * buzz))
True
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

MAINS_HZ = (50.0, 60.0)
"""The mains frequencies of the world's grids."""

LINE_SERIES = tuple((mains, mains) for mains in MAINS_HZ) + tuple((mains, 2 * mains) for mains in MAINS_HZ)
"""``(mains, fundamental)`` of the hums looked for: a ground loop's on the mains frequency, and a
transformer's, a fluorescent ballast's or a rectifier's on twice it, without the mains itself
(a 120 Hz buzz 10 dB under the clip moved 23 % of the bundled model's answers)."""

DOUBLED_MIN_HARMONICS = 2
"""A series on twice the mains needs at least two harmonics besides its fundamental: a note or a
flat voice on 100 or 120 Hz is told from it by being a single line in the pauses, and a hum of
one line there moved 2 % of the answers."""

LOOK_RATE = 2000
"""The look at a clip runs on block means down to about this rate (8 samples a block at 16 kHz):
a hum's fundamental and first harmonics are under 1 kHz, and the look then costs a tenth of one
at the full rate."""

LOOK_TOP_HZ = 900.0
"""The look measures a hum's harmonics up to here (the block means' response is within 1 dB)."""

FRAME_S = 0.5
"""Frames of the quiet spectrum: 2 Hz apart, so 50 and 60 Hz each fall on a bin of their own."""

QUIET_SHARE, QUIET_MOST = 0.3, 64
"""The quietest 30 % of a clip's frames (at least 3, at most 64: 16 s of quiet say what a hum is,
and a 5 minute block of a recording then costs 8 ms, not 27) make its quiet spectrum."""

NEIGHBOURS = np.r_[np.arange(-7, -2), np.arange(3, 8)]
"""A line's neighbours: the bins 3–7 away on either side (a Hann window's line spans ±2 bins)."""

LINE_DB = 10.0
FUNDAMENTAL_DB = 15.0
"""A harmonic is a line when its bin stands this far over the median of its :data:`NEIGHBOURS`
(6–14 Hz away in the look's 2 Hz bins); the fundamental must stand 15 dB over them. At 10 dB for the fundamental, 6 of the
13 104 training copies (babble, reverberation, a gate's floor) read −11 to −24 dB of hum; at
15 dB, with the harmonics on whole multiples of it, none comes within 5 dB of :data:`HUM_SHARE_DB`."""

FUNDAMENTAL_TOLERANCE_HZ = 0.5
"""A grid keeps its frequency within 0.2 Hz; 0.5 Hz leaves room for the estimate."""

HUM_SHARE_DB = -30.0
"""A hum is removed when its lines carry at least this share of the clip's power. A buzz 30 dB
under the clip moved 2 % of the bundled model's answers on the 120 shared clips, which is
where removing it stops mattering; in the 3276 clips of RAVDESS and nEMO the most any reaches is
−71.6 dB, in the 13 104 training copies (noise, reverberation, telephone band, MP3, pauses, gates)
−35.4 dB: none is touched, so the bundled model's training features are what they were."""

BLOCK_S = 0.5
"""The removal fits each harmonic over half-second blocks that overlap by half: long enough to
take out a band only about 4 Hz wide around each harmonic, short enough to follow a drift."""

STEADY_S = 2.0
"""Each block takes the median of the fits within 2 s of it. On 26 shared clips (every 97th RAVDESS
clip, every 160th nEMO clip) under a 50 Hz buzz 10 or 20 dB down, what the removal leaves wrong
(the buzz left, and the voice taken with it) lies a median 20 and 12 dB under the buzz; with a fit
per block, 5 dB under it and 4 dB over it; with a median over 1 s, 16 and 9 dB under. A grid drifts
by hundredths of a hertz over seconds, which a 2 s median follows up to the 20th harmonic or so;
past it, a drift leaves more of the hum, never more of the voice."""

EXACT_S = 60
"""The fundamental is refined on at most the first minute (its spectrum then holds 8 MB, not 70 for 5 minutes)."""

BLOCKS_AT_ONCE = 64
"""The removal fits and subtracts 64 blocks at a time (a few MB, however long the audio)."""

REMOVE_LINE_DB = 6.0
REMOVE_TOP_HZ = 4000.0
"""The removal takes out every harmonic up to 4 kHz that stands 6 dB over its neighbours in the
quiet spectrum at the clip's own rate."""


class Hum(NamedTuple):
    """A mains hum found in a clip: its fundamental (Hz) and its lines' share of the clip's power (dB)."""

    fundamental_hz: float
    share_db: float


def quiet_spectrum(y: np.ndarray, frame: int) -> np.ndarray:
    """The median power spectrum of the quietest :data:`QUIET_SHARE` (at most :data:`QUIET_MOST`) of
    ``y``'s Hann-windowed frames of ``frame`` samples (an even number; hop ``frame // 2``); an empty
    array when ``y`` holds fewer than three frames.

    >>> y = np.r_[np.zeros(4000), np.ones(4000)].astype(np.float32)
    >>> float(quiet_spectrum(y, 1000)[0])
    0.0
    """
    hop = frame // 2
    if y.size < frame + 2 * hop:
        return np.zeros(0)
    count = 1 + (y.size - frame) // hop
    halves = y[: (count + 1) * hop].reshape(-1, hop)
    half_energy = np.einsum("ij,ij->i", halves, halves, dtype=np.float64)  # float64: a file may hold 1e30
    energy = half_energy[:-1] + half_energy[1:]  # each frame is two halves: no copy of the frames to rank them
    quietest = np.argsort(energy)[: min(max(3, int(QUIET_SHARE * count)), QUIET_MOST)]
    frames = y[hop * quietest[:, None] + np.arange(frame)[None, :]]
    return np.median(np.abs(np.fft.rfft(frames * _hann(frame), axis=1)) ** 2, axis=0)


def _line(power: np.ndarray, hz: float, bin_hz: float, reach_hz: float) -> tuple[float, float, float]:
    """The strongest bin of ``power`` within ``reach_hz`` (at least one bin) of ``hz``: its
    frequency (parabolic on the log power), its prominence over its neighbours (dB, -inf where it
    is no local peak) and its power over theirs."""
    centre = int(round(hz / bin_hz))
    reach = max(1, int(np.ceil(reach_hz / bin_hz)))
    if centre - reach < 8 or centre + reach + 8 > power.size:
        return hz, -np.inf, 0.0
    peak = centre - reach + int(np.argmax(power[centre - reach:centre + reach + 1]))
    if not (power[peak] >= power[peak - 1] and power[peak] >= power[peak + 1] and power[peak] > 0):
        return hz, -np.inf, 0.0
    background = float(_background(power, peak))
    left, top, right = np.log(power[peak - 1:peak + 2] + 1e-30)
    curvature = left - 2 * top + right
    offset = 0.5 * (left - right) / curvature if curvature < 0 else 0.0
    prominence = 10 * np.log10(power[peak] / background) if background > 0 else np.inf
    return (peak + offset) * bin_hz, prominence, float(np.sum(power[peak - 1:peak + 2]) - 3 * background)


def _background(power: np.ndarray, peaks) -> np.ndarray:
    """The median power of each peak's :data:`NEIGHBOURS` (one peak or an array of them)."""
    return np.median(power[np.asarray(peaks)[..., None] + NEIGHBOURS], axis=-1)


def mains_hum(y: np.ndarray, sr: int) -> Hum | None:
    """The mains hum in mono ``y`` (see the module's notes), or ``None`` where there is none or the
    clip is shorter than 1 s (too short to tell a hum from a voice).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int > 0

    Returns
    -------
    Hum or None
        ``share_db`` counts the lines up to :data:`LOOK_TOP_HZ`.

    Examples
    --------
    >>> t = np.arange(32000) / 16000
    >>> y = (0.1 * np.sin(2 * np.pi * 60 * t)).astype(np.float32)
    >>> round(mains_hum(y, 16000).fundamental_hz)
    60
    """
    y = np.asarray(y, dtype=np.float32)
    looked, rate = _looked(y, sr)
    frame = 2 * int(FRAME_S * rate / 2)
    power = quiet_spectrum(looked, frame)
    if power.size == 0:
        return None
    bin_hz = rate / frame
    found = {}
    for mains, fundamental_hz in LINE_SERIES:
        if mains in found:
            continue  # the grid's own fundamental was found: its harmonics hold the doubled series
        series = _line_series(power, fundamental_hz, bin_hz, rate)
        if series is None:
            continue
        fundamental, power_of_lines, harmonics = series
        if fundamental_hz != mains and harmonics < DOUBLED_MIN_HARMONICS:
            continue
        total = float(np.einsum("i,i->", y, y, dtype=np.float64)) / y.size  # float64 in buffers: no copies of 5 minutes
        share_db = 10 * np.log10(max(power_of_lines * 2.0 / (frame * float(np.sum(_hann(frame) ** 2))), 1e-30) / max(total, 1e-30))
        found[mains] = Hum(float(fundamental), float(share_db))
    return max(found.values(), key=lambda hum: hum.share_db, default=None)


def _line_series(power: np.ndarray, nominal_hz: float, bin_hz: float, rate: float) -> tuple[float, float, int] | None:
    """``(fundamental, power of its lines, how many harmonics are lines)`` of the series on ``nominal_hz``
    in a quiet spectrum, or ``None`` where its fundamental is no line (the usual case, decided first)."""
    fundamental, prominence, lines = _line(power, nominal_hz, bin_hz, FUNDAMENTAL_TOLERANCE_HZ)
    if not (prominence >= FUNDAMENTAL_DB and abs(fundamental - nominal_hz) <= FUNDAMENTAL_TOLERANCE_HZ):
        return None
    harmonics = 0
    for k in range(2, int(min(LOOK_TOP_HZ, rate / 2) // nominal_hz) + 1):
        at, prominence, line = _line(power, k * fundamental, bin_hz, 0.004 * k * nominal_hz)
        if prominence >= LINE_DB and abs(at - k * fundamental) <= 0.25 + 0.1 * k:
            lines += line
            harmonics += 1
    return fundamental, lines, harmonics


def _looked(y: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """``y`` as the means of blocks of ``sr // LOOK_RATE`` samples, and their rate."""
    step = max(1, sr // LOOK_RATE)
    blocks = y[: y.size // step * step].reshape(-1, step)
    return blocks @ np.full(step, 1 / step, dtype=y.dtype), sr / step  # a product: 8 times quicker than .mean(axis=1)


@functools.lru_cache(maxsize=8)
def _hann(size: int) -> np.ndarray:
    window = np.hanning(size)
    window.flags.writeable = False
    return window


def _exact_fundamental(y: np.ndarray, sr: int, near_hz: float) -> float:
    """The fundamental refined on the spectrum of the clip's first :data:`EXACT_S` seconds (block means, Hann,
    zero-padded 4 times or more)."""
    looked, rate = _looked(np.asarray(y[: EXACT_S * sr], dtype=np.float64), sr)
    size = 1 << (4 * looked.size - 1).bit_length()  # at least 4 times longer, and a size the FFT is quick at
    power = np.abs(np.fft.rfft(looked * np.hanning(looked.size), size)) ** 2
    fundamental, _, _ = _line(power, near_hz, rate / size, FUNDAMENTAL_TOLERANCE_HZ)
    return fundamental


def _harmonics(y: np.ndarray, sr: int, fundamental: float) -> np.ndarray:
    """The harmonic numbers, up to :data:`REMOVE_TOP_HZ`, whose strongest bin within one of their
    frequency stands :data:`REMOVE_LINE_DB` over its :data:`NEIGHBOURS` in ``y``'s quiet spectrum
    at its own rate."""
    frame = 2 * int(FRAME_S * sr / 2)
    power = quiet_spectrum(y, frame)
    bin_hz = sr / frame
    numbers = np.arange(1, int(min(REMOVE_TOP_HZ, sr / 2 - 10 * bin_hz) // fundamental) + 1)
    centres = np.rint(numbers * fundamental / bin_hz).astype(np.int64)
    peaks = centres - 1 + np.argmax(power[centres[:, None] + np.arange(-1, 2)], axis=1)
    return numbers[power[peaks] >= 10 ** (REMOVE_LINE_DB / 10) * _background(power, peaks)]


def _steady(fits: np.ndarray, whole: np.ndarray, *, reach: int) -> np.ndarray:
    """Each block's median (of the real and the imaginary parts) of the ``fits`` within ``reach``
    blocks of it, of those ``whole`` (all of them where none is).

    Where a block's neighbourhood is all whole, as for all but a few blocks at either end of a
    recording, the medians are taken at once over a sliding view (5 minutes of 80 harmonics: 56 ms,
    where a median per block took 140)."""
    count = len(fits)
    steady = np.empty_like(fits)
    width = 2 * reach + 1
    inside = np.zeros(count, dtype=bool)
    if count >= width:
        inside[reach:count - reach] = np.lib.stride_tricks.sliding_window_view(whole, width).all(axis=1)
        for part in ("real", "imag"):
            windows = np.lib.stride_tricks.sliding_window_view(getattr(fits, part), width, axis=0)
            for first in range(0, count - 2 * reach, 4 * BLOCKS_AT_ONCE):  # a few MB at a time, however long
                at = slice(first, first + 4 * BLOCKS_AT_ONCE)
                rows = reach + first + np.flatnonzero(inside[reach:count - reach][at])
                getattr(steady, part)[rows] = np.partition(windows[rows - reach], reach, axis=-1)[..., reach]  # the middle of 2·reach + 1
    for block in np.flatnonzero(~inside):
        near = np.arange(max(0, block - reach), min(count, block + reach + 1))
        near = near[whole[near]] if whole[near].any() else near
        steady[block] = np.median(fits[near].real, axis=0) + 1j * np.median(fits[near].imag, axis=0)
    return steady


def remove_mains_hum(y: np.ndarray, sr: int) -> np.ndarray:
    """``y`` without its mains hum (:func:`mains_hum`) where the hum reaches :data:`HUM_SHARE_DB`;
    ``y`` itself (the same array) otherwise.

    Each harmonic's amplitude and phase are fitted over Hann-weighted blocks of :data:`BLOCK_S`
    that overlap by half (the weights sum to one). A hum is steady and a voice is not, so each
    block subtracts the median of the fits within :data:`STEADY_S` of it, taken in the mains' own
    phase: the hum comes out in the pauses and under the speech alike, and the share of the voice
    that falls on a harmonic (which a fit over one block takes with the hum) mostly stays.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at ``sr``, finite.
    sr : int > 0

    Returns
    -------
    np.ndarray [shape=(n,)]
        Same dtype as ``y``.

    Examples
    --------
    >>> t = np.arange(48000) / 16000
    >>> voice = (0.1 * np.sin(2 * np.pi * 210 * t) * (t % 1 < 0.5)).astype(np.float32)
    >>> remove_mains_hum(voice, 16000) is voice
    True
    >>> hummed = voice + (0.03 * np.sin(2 * np.pi * 60.1 * t)).astype(np.float32)
    >>> bool(np.max(np.abs(remove_mains_hum(hummed, 16000) - voice)) < 0.003)
    True
    """
    hum = mains_hum(y, sr)
    if hum is None or hum.share_db < HUM_SHARE_DB:
        return y
    y32 = np.asarray(y, dtype=np.float32)
    fundamental = _exact_fundamental(y32, sr, hum.fundamental_hz)
    harmonics = _harmonics(y32, sr, fundamental)
    omega = 2 * np.pi * fundamental * harmonics / sr
    half = max(1, int(BLOCK_S * sr) // 2)
    weight = np.hanning(2 * half + 1)[:-1].astype(np.float32)  # periodic: shifted by half a block, they sum to one
    count = -(-(y.size + half) // half)
    padded = np.zeros((count + 1) * half, dtype=np.float32)
    padded[half:half + y.size] = y
    blocks = np.lib.stride_tricks.sliding_window_view(padded, 2 * half)[::half]  # a view: no copy of 5 minutes twice
    # Every harmonic's wave over a block as a power of the fundamental's, one product a row: 0.4 ms
    # where an exponential per sample and harmonic took 15.
    powers = np.empty((int(harmonics.max()), 2 * half), dtype=np.complex128)
    powers[0] = np.exp(-2j * np.pi * fundamental / sr * np.arange(2 * half))
    for row in range(1, len(powers)):
        np.multiply(powers[row - 1], powers[0], out=powers[row])
    waves = powers[harmonics - 1].T.astype(np.complex64)  # single precision: half the time, errors far under the hum's
    # The weight of each block that lies inside the clip (the first and the last hang over its ends).
    starts = half * np.arange(count) - half
    summed = np.r_[0.0, np.cumsum(weight, dtype=np.float64)]
    covered = summed[np.clip(y.size - starts, 0, 2 * half)] - summed[np.clip(-starts, 0, 2 * half)]
    # Each block's fit, turned from the block's own time to the recording's (the mains' phase),
    # BLOCKS_AT_ONCE at a time so that a 5 minute block of a recording holds a few MB at once.
    turn = np.exp(-1j * np.outer(starts, omega))
    fits = np.empty((count, omega.size), dtype=np.complex128)
    for first in range(0, count, BLOCKS_AT_ONCE):
        at = slice(first, first + BLOCKS_AT_ONCE)
        fits[at] = (blocks[at] * weight) @ waves * (2 / np.maximum(covered[at], 1e-9))[:, None] * turn[at]
    whole = covered >= 0.5 * weight.sum()  # blocks mostly inside the clip: the edges' fits are noisier
    steady = _steady(fits, whole, reach=int(round(STEADY_S / (half / sr))))
    del blocks, padded  # the fits are made: the rest needs neither (19 MB for 5 minutes at 16 kHz)
    overlapped = np.zeros((count + 1, half), dtype=np.float32)
    for first in range(0, count, BLOCKS_AT_ONCE):
        at = slice(first, first + BLOCKS_AT_ONCE)
        fitted = np.real((steady[at] / turn[at]).astype(np.complex64) @ waves.conj().T) * weight
        overlapped[first:first + fitted.shape[0]] += fitted[:, :half]
        overlapped[first + 1:first + 1 + fitted.shape[0]] += fitted[:, half:]
    fitted = overlapped.ravel()[half:half + y.size]
    if y.dtype == np.float32:
        return np.subtract(y, fitted, out=fitted)  # into the fitted hum's array: one more recording's length, not two
    return (y - fitted).astype(y.dtype, copy=False)
