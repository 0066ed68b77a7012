"""Reverberation: how fast a recording's sound dies away, to tell a room heard from across it.

A phone or a laptop across a room records the voice with the room's tail under it, and the
emotion moves with it: with the direct sound 5 dB under a 0.9 s tail (a large room, from across
it) the bundled model's emotion changed for 29 % of 120 shared clips, and its unweighted accuracy
on held-out speakers fell 11–15 points (docs/results.md, "Other rooms and other voices" and
"A room heard from across it"). Taking
the tail out (WPE dereverberation) helped that room but cost the milder ones as much, so serkit
does not change such a recording: it says so (a caution, as for a clipped one), and the user can
move closer to the microphone.

A room is told by how fast sound dies away. Close to the microphone, the energy of a band falls
by hundreds of dB a second when a syllable ends; in a room it cannot fall faster than the tail
lets it (60 dB per RT60 once the direct sound is gone). :func:`decay_rate` is the steepest
decays' rate: the :data:`STEEPEST` quantile of the falling slopes of the log energy in
:data:`BANDS` bands over :data:`SLOPE_S`, counting only stretches well above the band's own
floor (:data:`FLOOR_MARGIN_DB`: noise stops a decay, a room slows it) and within
:data:`SPAN_DB` of the loudest. The idea is that of the spectral decay distribution of Eaton,
Gaubitch and Naylor (2013); written here because no maintained audio library estimates
reverberation blindly (pyroomacoustics simulates rooms; its RT60 needs the room's impulse
response).

Examples
--------
>>> import numpy as np
>>> sr = 16000
>>> rng = np.random.default_rng(0)
>>> syllables = (rng.standard_normal(2 * sr) * (np.arange(2 * sr) % 4000 < 1600)).astype(np.float32)
>>> tail = rng.standard_normal(sr) * np.exp(-6.9 * np.arange(sr) / (0.9 * sr))  # RT60 0.9 s
>>> tail[0] = 5.0
>>> far = np.convolve(syllables, tail)[: syllables.size].astype(np.float32)
>>> decay_rate(far, sr) < REVERBERANT_BELOW < decay_rate(syllables, sr)
True
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.032
HOP_S = 0.008
SLOPE_S = 0.064
"""Each slope is fitted over this many seconds of frames (8 hops)."""
BANDS = 24
BAND_HZ = (150.0, 6000.0)
"""Log-spaced bands between these edges (a telephone's band keeps most of them)."""
FLOOR_MARGIN_DB = 6.0
"""A slope counts only where every frame it spans is this far above the band's floor (its 10th percentile)."""
SPAN_DB = 50.0
"""… and its loudest frame within this of the recording's loudest band energy."""
STEEPEST = 0.05
"""The quantile of the falling slopes taken (the steepest 5 %)."""
MIN_FALL = 50.0
"""dB per second: only slopes falling faster than this are decays (a held tone or a steady noise has none)."""
MIN_DECAYS = 24
"""Fewer decays than this (one per band) leave nothing to measure …"""
MIN_DECAY_BANDS = 6
"""… and so do decays in fewer bands than this: a voice's syllables end across the spectrum, a
tone's fade in its own band."""
REVERBERANT_BELOW = 270.0
"""dB per second: a piece whose :func:`decay_rate` is under this sounds reverberant. Chosen on
development speakers only (RAVDESS actors 01-12, nEMO's first 5 speakers;
``benchmarks/bench_reverberation.py --stage dev``): the largest value on a 150-300 grid under
which at most 1 % of their clips fall as stored, under noise 10 dB down, through a telephone band,
a codec, a phone's automatic gain or a music bed (0.3 % at most at 270). It cautions 100 % of their
clips in a large room heard from across it (RT60 0.9 s, DRR -5 dB), 94 % in a living room at a metre
or two (0.6 s, 0 dB) and 1.6 % in a small room near the microphone (0.4 s, +5 dB); none as stored."""


FRAMES_AT_ONCE = 1024
"""Frames transformed at a time: a minute at 48 kHz never holds more than a few MB of spectra."""


def _band_energies_db(y: np.ndarray, sr: int) -> np.ndarray:
    """Bands × frames: log energy of float32 ``y``'s Hann frames in :data:`BANDS` log-spaced bands."""
    frame, hop = round(FRAME_S * sr), round(HOP_S * sr)
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop]
    window = np.hanning(frame).astype(np.float32)
    edges = np.geomspace(*BAND_HZ, BANDS + 1) * frame / sr
    bins = np.arange(frame // 2 + 1)
    member = ((bins >= edges[:-1, None]) & (bins < np.maximum(edges[1:, None], edges[:-1, None] + 1))).astype(np.float32)
    energies = np.concatenate([member @ (np.abs(np.fft.rfft(frames[start: start + FRAMES_AT_ONCE] * window, axis=-1)) ** 2)
                               .T.astype(np.float32) for start in range(0, len(frames), FRAMES_AT_ONCE)], axis=1)
    return 10 * np.log10(energies + 1e-12 * max(float(energies.max()), 1e-30))  # a floor relative to the level


def _running(reduce, x: np.ndarray, width: int) -> np.ndarray:
    """``reduce`` (``np.minimum`` or ``np.maximum``) over every ``width`` consecutive columns of ``x``."""
    out = x[:, : x.shape[1] - width + 1].copy()
    for shift in range(1, width):
        reduce(out, x[:, shift: shift + out.shape[1]], out=out)
    return out


def decay_rate(y: np.ndarray, sr: int) -> float:
    """How fast the sound of mono ``y`` dies away, in dB per second (see the module docstring):
    several hundred close to the microphone, under :data:`REVERBERANT_BELOW` in a room heard from
    across it; ``nan`` when ``y`` holds fewer than :data:`MIN_DECAYS` decays to measure (silence, a held
tone, a steady noise, under 0.1 s).

    >>> float(decay_rate(np.zeros(16000, np.float32), 16000))
    nan
    """
    y = np.asarray(y, dtype=np.float32)
    width = round(SLOPE_S / HOP_S)
    if y.shape[-1] < round(FRAME_S * sr) + width * round(HOP_S * sr):
        return float("nan")
    peak = float(np.max(np.abs(y)))
    if not 0.0 < peak < np.inf:
        return float("nan")
    energies = _band_energies_db(y / np.float32(peak), sr)  # the rate does not depend on the level
    floor = np.quantile(energies, 0.1, axis=1, keepdims=True)
    t = np.arange(width) * HOP_S
    t -= t.mean()
    slopes = np.lib.stride_tricks.sliding_window_view(energies, width, axis=1) @ (t / (t @ t)).astype(np.float32)
    counted = ((_running(np.minimum, energies, width) > floor + FLOOR_MARGIN_DB)
               & (_running(np.maximum, energies, width) > energies.max() - SPAN_DB) & (slopes < -MIN_FALL))
    if counted.sum() < MIN_DECAYS or np.count_nonzero(counted.any(axis=1)) < MIN_DECAY_BANDS:
        return float("nan")
    return float(-np.quantile(slopes[counted], STEEPEST))
