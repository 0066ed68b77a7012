"""``seed26``: the reference analysis's 26 per-clip features, exact and fast.

Per clip, the means of chroma_stft (over all 12 bins), rmse, spectral_centroid,
spectral_bandwidth, rolloff, zero_crossing_rate and mfcc1…mfcc20, as librosa computes
them with its defaults after ``librosa.load(path)``: 22050 Hz mono, ``n_fft=2048``,
``hop_length=512``, centred frames, chroma with librosa's tuning estimate, 20 MFCC
from the 128-band mel power spectrogram in dB.

One STFT serves every spectral feature (see :mod:`serkit.features.spectral`), and
the MFCC means come from the mean log-mel spectrum: the DCT is linear, so the mean of
the cepstra equals the cepstrum of the mean.

Examples
--------
>>> import numpy as np
>>> from serkit.features import get_feature_set
>>> fs = get_feature_set("seed26")
>>> y = (0.1 * np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)).astype(np.float32)
>>> row = fs.from_audio(y, 22050)
>>> row.shape, fs.columns[6]
((26,), 'mfcc1')
"""

from __future__ import annotations

import numpy as np

from serkit.core.audio import resample
from serkit.features import spectral
from serkit.features.base import FeatureSet, register_feature_set

SPECTRAL_COLUMNS = [
    "chroma_stft",
    "rmse",
    "spectral_centroid",
    "spectral_bandwidth",
    "rolloff",
    "zero_crossing_rate",
]


@register_feature_set
class Seed26(FeatureSet):
    """The reference analysis's features: six spectral means and ``n_mfcc`` MFCC means.

    Parameters
    ----------
    sr : int in [8000, 192000]
        Rate the audio is analysed at (the reference: librosa's 22050 Hz).
    n_fft, hop_length : int
        STFT frame in [16, 65536] and hop in [1, n_fft], in samples (bounded
        together, see :func:`serkit.features.spectral.check_stft`).
    n_mels : int in [1, 512]
        Mel bands under the MFCC.
    n_mfcc : int in [1, n_mels]
        Cepstral coefficients kept (the reference: 20).

    Raises
    ------
    ParameterError
        A parameter of the wrong type or out of its range.
    """

    name = "seed26"
    # The reference analysis worked on clips as recorded; so does this set (no level normalisation).
    level = None

    def __init__(self, *, sr: int = 22050, n_fft: int = 2048, hop_length: int = 512, n_mels: int = 128, n_mfcc: int = 20):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.n_mfcc = n_mfcc
        spectral.check_stft(sr=sr, n_fft=n_fft, hop_length=hop_length)
        spectral.check_range(1, 512, n_mels=n_mels)
        spectral.check_range(1, n_mels, n_mfcc=n_mfcc)

    @property
    def columns(self) -> list[str]:
        return SPECTRAL_COLUMNS + [f"mfcc{k}" for k in range(1, self.n_mfcc + 1)]

    def from_audio(self, y: np.ndarray, sr: int) -> np.ndarray:
        """The feature row for one clip ``y`` at rate ``sr`` (resampled if needed): ``(26,)``."""
        from scipy import fft

        y = resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=self.sr)
        magnitude = spectral.stft_magnitude(y, n_fft=self.n_fft, hop_length=self.hop_length)
        power = magnitude**2
        mel_filters = spectral.mel_filters(sr=self.sr, n_fft=self.n_fft, n_mels=self.n_mels)
        mel_db = spectral.power_to_db(spectral.apply_filters(mel_filters, power))
        mfcc_means = fft.dct(mel_db.mean(axis=1, dtype=np.float64), type=2, norm="ortho")[: self.n_mfcc]
        frame = dict(frame_length=self.n_fft, hop_length=self.hop_length)
        return np.concatenate(
            [
                [
                    spectral.chroma_stft(S=power, sr=self.sr).mean(dtype=np.float64),
                    spectral.rms(y=y, **frame).mean(),
                    spectral.spectral_centroid(S=magnitude, sr=self.sr).mean(),
                    spectral.spectral_bandwidth(S=magnitude, sr=self.sr).mean(),
                    spectral.spectral_rolloff(S=magnitude, sr=self.sr).mean(),
                    spectral.zero_crossing_rate(y=y, **frame).mean(),
                ],
                mfcc_means,
            ]
        )


def reference_features(y: np.ndarray, sr: int) -> np.ndarray:
    """The reference analysis's own code: one librosa call per feature, then means.

    Kept as the ground truth for parity tests and the speed benchmark; use
    ``get_feature_set("seed26").from_audio`` for real work.
    """
    import librosa

    values = [
        np.mean(librosa.feature.chroma_stft(y=y, sr=sr)),
        np.mean(librosa.feature.rms(y=y)),
        np.mean(librosa.feature.spectral_centroid(y=y, sr=sr)),
        np.mean(librosa.feature.spectral_bandwidth(y=y, sr=sr)),
        np.mean(librosa.feature.spectral_rolloff(y=y, sr=sr)),
        np.mean(librosa.feature.zero_crossing_rate(y)),
    ]
    values += [np.mean(coefficient) for coefficient in librosa.feature.mfcc(y=y, sr=sr)]
    return np.asarray(values, dtype=np.float64)
