"""``functionals``: frame-level descriptors summarised per clip by statistics.

The richer hand-crafted set for classical models. Every spectral descriptor comes
from ONE magnitude STFT per clip (power and mel spectrograms are derived from it),
plus the YIN pitch track and a periodicity (voicing) measure computed at each
frame's own pitch period. Each frame descriptor is then summarised over the clip
by :data:`STATISTICS` (mean, standard deviation, 10th/50th/90th percentiles and
the linear slope over normalised time); pitch descriptors use voiced frames only.
A few clip-level prosody values (voiced fraction, voiced-segment rate, duration)
complete the vector.

Leading and trailing silence can be trimmed first (``trim_top_db``): RAVDESS clips
carry about a second of room noise around the sentence, which otherwise dilutes
every statistic.

Examples
--------
>>> import numpy as np
>>> from serkit.features import get_feature_set
>>> fs = get_feature_set("functionals")
>>> t = np.arange(16000) / 16000
>>> y = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
>>> x = fs.from_audio(y, 16000)
>>> x.shape == (len(fs.columns),)
True
>>> round(float(x[fs.columns.index("f0_semitones_p50")]), 1)  # 200 Hz re 55 Hz
22.4
"""

from __future__ import annotations

import numpy as np

from serkit.core.exceptions import AudioError, ParameterError
from serkit.features.base import FeatureSet, register_feature_set
from serkit.features.spectral import check_range, check_stft
from serkit.core.level import DEFAULT_LEVEL, check_level

STATISTICS = ("mean", "std", "p10", "p50", "p90", "slope")
"""Per-clip statistics of every frame descriptor, in column order."""

F0_REFERENCE_HZ = 55.0
"""Pitch is expressed in semitones above this frequency (A1), a perceptual scale."""

_EPS = 1e-10


def _summarise(frames: np.ndarray) -> np.ndarray:
    """``(d, t)`` descriptors → ``(d, len(STATISTICS))`` statistics (zeros if ``t == 0``).

    The slope is the least-squares change per unit of normalised time (0 → 1 over
    the clip), so it does not depend on the clip's length.
    """
    d, t = frames.shape
    if t == 0:
        return np.zeros((d, len(STATISTICS)))
    mean = frames.mean(axis=1)
    std = frames.std(axis=1)
    p10, p50, p90 = np.percentile(frames, [10, 50, 90], axis=1)
    if t > 1:
        time = np.linspace(0.0, 1.0, t)
        time -= time.mean()
        slope = (frames - mean[:, None]) @ time / (time @ time)
    else:
        slope = np.zeros(d)
    return np.stack([mean, std, p10, p50, p90, slope], axis=1)


def _periodicity(y: np.ndarray, f0_hz: np.ndarray, *, sr: int, frame_length: int, hop_length: int) -> np.ndarray:
    """Normalised autocorrelation of each frame at its own pitch period, in [-1, 1].

    Close to 1 for periodic (voiced) frames, near 0 for noise and silence: a cheap
    stand-in for pYIN's voicing probability (which costs ~1 s per clip).
    """
    from serkit.features.spectral import frames_of

    padded = np.pad(y, frame_length // 2)
    frames = frames_of(padded, frame_length=frame_length, hop_length=hop_length)[: f0_hz.size]
    window = frame_length // 2
    lag = np.clip(np.round(sr / f0_hz).astype(int), 1, frame_length - window)
    rows = np.arange(frames.shape[0])[:, None]
    head = frames[:, :window]
    tail = frames[rows, lag[:, None] + np.arange(window)[None, :]]
    numerator = np.sum(head * tail, axis=1)
    denominator = np.sqrt(np.sum(head**2, axis=1) * np.sum(tail**2, axis=1)) + _EPS
    return numerator / denominator


@register_feature_set
class Functionals(FeatureSet):
    """Statistics of MFCC (+Δ, ΔΔ), log-mel, contrast, spectral shape, energy and pitch.

    Parameters
    ----------
    sr : int in [8000, 192000]
        Analysis rate in Hz; clips are resampled to it (16 kHz keeps the speech band).
    n_fft : int in [16, 65536]
        STFT window length in samples (also the YIN frame length).
    hop_length : int in [1, n_fft]
        Frame step in samples (160 = 10 ms at 16 kHz); with ``n_fft`` bounded by
        :func:`serkit.features.spectral.check_stft`.
    n_mels : int in [1, 512]
        Mel bands of the log-mel descriptors (MFCCs are taken from them).
    n_mfcc : int in [1, n_mels]
        Cepstral coefficients kept; their first and second deltas are added.
    fmin_hz, fmax_hz : float, 0 < fmin_hz < fmax_hz <= sr / 2
        Pitch search range of YIN (``n_fft`` must hold two periods of ``fmin_hz``).
    trim_top_db : float in [1, 200] or None
        Trim leading/trailing audio quieter than this many dB below the peak frame;
        ``None`` keeps the clip whole.
    voicing_threshold : float in [0.01, 0.99]
        Periodicity above which a frame counts as voiced (pitch statistics use
        voiced frames only).
    level : {"active-rms", "bs1770"} or None
        Level normalisation of the clip before any feature (:mod:`serkit.core.level`);
        ``None`` works on the clip as recorded.

    Raises
    ------
    ParameterError
        A parameter of the wrong type or out of its range.

    Examples
    --------
    >>> fs = Functionals(trim_top_db=None)
    >>> len(fs.columns), fs.columns[0]
    (705, 'mfcc1_mean')
    """

    name = "functionals"
    kind = "vector"

    def __init__(
        self,
        *,
        sr: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 160,
        n_mels: int = 40,
        n_mfcc: int = 20,
        fmin_hz: float = 60.0,
        fmax_hz: float = 500.0,
        trim_top_db: float | None = 35.0,
        voicing_threshold: float = 0.6,
        level: str | None = DEFAULT_LEVEL,
    ):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.n_mfcc = n_mfcc
        self.fmin_hz = fmin_hz
        self.fmax_hz = fmax_hz
        self.trim_top_db = trim_top_db
        self.voicing_threshold = voicing_threshold
        self.level = check_level(level)
        self._validate()

    # -- the descriptors, in column order -------------------------------------------------
    def _descriptor_names(self) -> list[str]:
        names = [f"mfcc{i}" for i in range(1, self.n_mfcc + 1)]
        names += [f"mfcc{i}_delta" for i in range(1, self.n_mfcc + 1)]
        names += [f"mfcc{i}_delta2" for i in range(1, self.n_mfcc + 1)]
        names += [f"logmel{i}" for i in range(1, self.n_mels + 1)]
        names += [f"contrast{i}" for i in range(1, 8)]
        names += [
            "centroid_hz",
            "bandwidth_hz",
            "rolloff_hz",
            "flatness",
            "rms_db",
            "rms_db_delta",
            "zcr",
            "periodicity",
        ]
        return names

    _PITCH_DESCRIPTORS = ("f0_semitones", "f0_semitones_delta")
    _CLIP_VALUES = ("voiced_fraction", "voiced_segments_per_s", "duration_s")

    @property
    def columns(self) -> list[str]:
        descriptors = self._descriptor_names() + list(self._PITCH_DESCRIPTORS)
        return [f"{name}_{stat}" for name in descriptors for stat in STATISTICS] + list(self._CLIP_VALUES)

    def _validate(self) -> None:
        check_stft(sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length)
        check_range(1, 512, n_mels=self.n_mels)
        check_range(1, self.n_mels, n_mfcc=self.n_mfcc)
        check_range(1.0, self.sr / 2, integer=False, fmin_hz=self.fmin_hz, fmax_hz=self.fmax_hz)
        if not self.fmin_hz < self.fmax_hz:
            raise ParameterError(
                f"fmin_hz={self.fmin_hz!r}, fmax_hz={self.fmax_hz!r} must satisfy 0 < fmin < fmax <= sr/2"
            )
        if self.sr / self.fmin_hz >= self.n_fft // 2:
            raise ParameterError(f"fmin_hz={self.fmin_hz!r} needs n_fft > {2 * self.sr / self.fmin_hz:.0f}")
        check_range(1.0, 200.0, integer=False, allow_none=True, trim_top_db=self.trim_top_db)
        check_range(0.01, 0.99, integer=False, voicing_threshold=self.voicing_threshold)

    def from_audio(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Feature vector of one clip, shape ``(len(columns),)``, float64, finite.

        ``y`` is resampled to :attr:`sr` when ``sr`` differs. Raises
        :class:`AudioError` when the clip is shorter than one window (``n_fft``).
        """
        from serkit.core.audio import resample
        from serkit.features import spectral

        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1 or not np.all(np.isfinite(y)):
            raise AudioError(f"functionals: need a finite mono signal, got shape {y.shape}")
        y = resample(y, orig_sr=int(sr), target_sr=self.sr)
        if y.size < self.n_fft:
            raise AudioError(f"functionals: clip too short ({y.size} samples at {self.sr} Hz < n_fft={self.n_fft})")
        if self.trim_top_db is not None:
            y = spectral.trim_silence(y, top_db=self.trim_top_db, frame_length=self.n_fft, hop_length=self.hop_length)
        sr, hop = self.sr, self.hop_length

        # One STFT; everything spectral derives from its magnitude (filter banks cached).
        S = spectral.stft_magnitude(y, n_fft=self.n_fft, hop_length=hop)
        power = S**2
        mel = spectral.apply_filters(spectral.mel_filters(sr=sr, n_fft=self.n_fft, n_mels=self.n_mels), power)
        log_mel = spectral.power_to_db(mel, top_db=None)
        mfcc = spectral.mfcc(S=log_mel, n_mfcc=self.n_mfcc)
        # Deltas over up to 9 frames (±40 ms); an odd width <= t.
        delta_width = min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2))
        if delta_width >= 3:
            mfcc_delta = spectral.delta(mfcc, width=delta_width, order=1)
            mfcc_delta2 = spectral.delta(mfcc, width=delta_width, order=2)
        else:
            mfcc_delta = mfcc_delta2 = np.zeros_like(mfcc)
        contrast = spectral.spectral_contrast(S=S, sr=sr, fmin=100.0, n_bands=6)
        rms_db = 20 * np.log10(spectral.rms(y=y, frame_length=self.n_fft, hop_length=hop) + 1e-5)[None, :]
        rms_db_delta = np.diff(rms_db, axis=1, prepend=rms_db[:, :1])
        zcr = spectral.zero_crossing_rate(y=y, frame_length=self.n_fft, hop_length=hop)[None, :]
        shape = np.vstack(
            [
                spectral.spectral_centroid(S=S, sr=sr),
                spectral.spectral_bandwidth(S=S, sr=sr),
                spectral.spectral_rolloff(S=S, sr=sr),
                spectral.spectral_flatness(S=S),
            ]
        )

        f0 = spectral.yin(y, fmin=self.fmin_hz, fmax=self.fmax_hz, sr=sr, frame_length=self.n_fft, hop_length=hop)
        periodicity = _periodicity(y, f0, sr=sr, frame_length=self.n_fft, hop_length=hop)
        n = min(S.shape[1], zcr.shape[1], f0.size)
        # Voiced: periodic and not far below the clip's loudest frame.
        voiced = (periodicity[:n] > self.voicing_threshold) & (rms_db[0, :n] > rms_db[0, :n].max() - 40)
        frame_descriptors = np.vstack(
            [
                mfcc[:, :n],
                mfcc_delta[:, :n],
                mfcc_delta2[:, :n],
                log_mel[:, :n],
                contrast[:, :n],
                shape[:, :n],
                rms_db[:, :n],
                rms_db_delta[:, :n],
                zcr[:, :n],
                periodicity[None, :n],
            ]
        )
        semitones = 12 * np.log2(f0[:n] / F0_REFERENCE_HZ)
        # Pitch level over voiced frames; pitch change between consecutive voiced frames.
        semitone_delta = np.diff(semitones)[voiced[1:] & voiced[:-1]]
        pitch = np.vstack([_summarise(semitones[None, voiced]), _summarise(semitone_delta[None, :])])

        onsets = np.count_nonzero(np.diff(voiced.astype(np.int8)) == 1) + int(voiced[0])
        duration_s = y.size / sr
        clip_values = [voiced.mean(), onsets / duration_s, duration_s]
        vector = np.concatenate(
            [_summarise(frame_descriptors).ravel(), pitch.ravel(), np.asarray(clip_values, dtype=float)]
        )
        return np.nan_to_num(vector.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
