"""The ``functionals`` vector as serkit computed it with librosa and scipy (before 0.3),
kept here as the reference the numpy code is checked against, not in the library.

The arithmetic of :meth:`serkit.features.functionals.Functionals.from_audio` with
librosa's ``trim``, ``mfcc``, ``delta``, ``spectral_contrast``, ``spectral_flatness``,
``yin`` and ``util.frame`` (scipy's FFTs and Savitzky-Golay filter underneath);
serkit's own STFT and frame helpers, which never used librosa for their values.
"""

from __future__ import annotations

import numpy as np

from serkit.core.audio import remove_dc, resample
from serkit.features import spectral
from serkit.features.functionals import F0_REFERENCE_HZ, _summarise
from serkit.core.level import normalise_level


def librosa_trim(y: np.ndarray, *, top_db: float, frame_length: int, hop_length: int) -> np.ndarray:
    """serkit's ``trim_silence`` as it called ``librosa.effects.trim``."""
    import librosa

    if not np.any(y):
        return y
    trimmed, _ = librosa.effects.trim(y, top_db=top_db, frame_length=frame_length, hop_length=hop_length)
    return trimmed if trimmed.size >= frame_length else y


def librosa_periodicity(y, f0_hz, *, sr, frame_length, hop_length):
    import librosa

    padded = np.pad(y, frame_length // 2)
    frames = librosa.util.frame(padded, frame_length=frame_length, hop_length=hop_length)
    frames = frames[:, : f0_hz.size].T
    window = frame_length // 2
    lag = np.clip(np.round(sr / f0_hz).astype(int), 1, frame_length - window)
    rows = np.arange(frames.shape[0])[:, None]
    head = frames[:, :window]
    tail = frames[rows, lag[:, None] + np.arange(window)[None, :]]
    numerator = np.sum(head * tail, axis=1)
    denominator = np.sqrt(np.sum(head**2, axis=1) * np.sum(tail**2, axis=1)) + 1e-10
    return numerator / denominator


def librosa_functionals(fs, y: np.ndarray, sr: int) -> np.ndarray:
    """``fs.from_audio(y, sr)`` for a ``Functionals`` set ``fs``, the librosa way."""
    import librosa

    y = np.asarray(y, dtype=np.float32)
    y = resample(y, orig_sr=int(sr), target_sr=fs.sr)
    if fs.level is not None:
        y = normalise_level(remove_dc(y), fs.sr, method=fs.level)
    sr, hop = fs.sr, fs.hop_length
    if fs.trim_top_db is not None:
        y = librosa_trim(y, top_db=fs.trim_top_db, frame_length=fs.n_fft, hop_length=hop)
    S = spectral.stft_magnitude(y, n_fft=fs.n_fft, hop_length=hop)
    mel = spectral.apply_filters(spectral.mel_filters(sr=sr, n_fft=fs.n_fft, n_mels=fs.n_mels), S**2)
    log_mel = spectral.power_to_db(mel, top_db=None)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=fs.n_mfcc)
    delta_width = min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2))
    if delta_width >= 3:
        mfcc_delta = librosa.feature.delta(mfcc, width=delta_width, order=1)
        mfcc_delta2 = librosa.feature.delta(mfcc, width=delta_width, order=2)
    else:
        mfcc_delta = mfcc_delta2 = np.zeros_like(mfcc)
    contrast = librosa.feature.spectral_contrast(S=S, sr=sr, fmin=100.0, n_bands=6)
    rms_db = 20 * np.log10(spectral.rms(y=y, frame_length=fs.n_fft, hop_length=hop) + 1e-5)[None, :]
    rms_db_delta = np.diff(rms_db, axis=1, prepend=rms_db[:, :1])
    zcr = spectral.zero_crossing_rate(y=y, frame_length=fs.n_fft, hop_length=hop)[None, :]
    shape = np.vstack(
        [
            spectral.spectral_centroid(S=S, sr=sr),
            spectral.spectral_bandwidth(S=S, sr=sr),
            spectral.spectral_rolloff(S=S, sr=sr),
            librosa.feature.spectral_flatness(S=S),
        ]
    )
    f0 = librosa.yin(y, fmin=fs.fmin_hz, fmax=fs.fmax_hz, sr=sr, frame_length=fs.n_fft, hop_length=hop)
    periodicity = librosa_periodicity(y, f0, sr=sr, frame_length=fs.n_fft, hop_length=hop)
    n = min(S.shape[1], zcr.shape[1], f0.size)
    voiced = (periodicity[:n] > fs.voicing_threshold) & (rms_db[0, :n] > rms_db[0, :n].max() - 40)
    frame_descriptors = np.vstack(
        [mfcc[:, :n], mfcc_delta[:, :n], mfcc_delta2[:, :n], log_mel[:, :n], contrast[:, :n], shape[:, :n],
         rms_db[:, :n], rms_db_delta[:, :n], zcr[:, :n], periodicity[None, :n]]
    )
    semitones = 12 * np.log2(f0[:n] / F0_REFERENCE_HZ)
    semitone_delta = np.diff(semitones)[voiced[1:] & voiced[:-1]]
    pitch = np.vstack([_summarise(semitones[None, voiced]), _summarise(semitone_delta[None, :])])
    onsets = np.count_nonzero(np.diff(voiced.astype(np.int8)) == 1) + int(voiced[0])
    duration_s = y.size / sr
    vector = np.concatenate(
        [_summarise(frame_descriptors).ravel(), pitch.ravel(), np.asarray([voiced.mean(), onsets / duration_s, duration_s])]
    )
    return np.nan_to_num(vector.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
