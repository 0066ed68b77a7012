"""``logmel``: a log-power mel spectrogram per clip, the CNN's input (kind ``"frames"``).

Speech-recognition framing: audio at 16 kHz, 25 ms Hann windows every 10 ms (100
frames per second), ``n_mels`` bands (64 by default) up to 8 kHz, power in dB
(``10 log10``, floored ``top_db`` below the clip's peak). Optional silence trimming
drops leading and trailing frames quieter than ``trim_db`` below the peak.

Examples
--------
>>> import numpy as np
>>> from serkit.features import get_feature_set
>>> fs = get_feature_set("logmel", n_mels=40)
>>> y = 0.1 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
>>> S_db = fs.from_audio(y, 16000)
>>> S_db.shape, S_db.dtype
((40, 101), dtype('float32'))
"""

from __future__ import annotations

import numpy as np

from serkit.core.audio import resample
from serkit.core.exceptions import AudioError, ParameterError
from serkit.features.base import FeatureSet, register_feature_set
from serkit.features.spectral import check_positive, check_range, check_stft
from serkit.core.level import DEFAULT_LEVEL, check_level

LOGMEL_SR = 16000
"""Rate the spectrogram is computed at; other rates are resampled (soxr HQ) first."""


def log_mel_spectrogram(
    *,
    y: np.ndarray | None = None,
    sr: int = LOGMEL_SR,
    S: np.ndarray | None = None,
    n_fft: int = 400,
    hop_length: int = 160,
    n_mels: int = 64,
    top_db: float | None = 80.0,
) -> np.ndarray:
    """Mel power in dB from a waveform ``y`` or a precomputed power spectrogram ``S``.

    The STFT is the shared one (:func:`serkit.features.spectral.stft_magnitude`,
    Hann window of ``n_fft`` samples, centred frames), the filter bank librosa's
    Slaney mel bank up to ``sr / 2``, and dB is ``10 log10(max(power, 1e-10))``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)] or None
        Mono audio at ``sr``.
    sr : int > 0
        Sample rate of ``y`` (or of the signal ``S`` came from).
    S : np.ndarray [shape=(1 + n_fft // 2, t)] or None
        Power spectrogram ``|STFT|**2``; used instead of ``y`` when given (``n_fft``
        is then inferred from its shape).
    n_fft : int > 0
        Window and FFT length in samples (400 = 25 ms at 16 kHz).
    hop_length : int > 0
        Hop in samples (160 = 10 ms at 16 kHz).
    n_mels : int > 0
        Number of mel bands.
    top_db : float > 0 or None
        Floor the output this many dB below its peak.

    Returns
    -------
    S_db : np.ndarray [shape=(n_mels, t), dtype=float32]

    Examples
    --------
    >>> import numpy as np
    >>> from serkit.features.spectral import stft_magnitude
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> log_mel_spectrogram(y=y).shape
    (64, 101)
    >>> S = stft_magnitude(y, n_fft=400, hop_length=160) ** 2
    >>> bool(np.allclose(log_mel_spectrogram(S=S), log_mel_spectrogram(y=y)))
    True
    """
    from serkit.features.spectral import mel_filters, stft_magnitude

    if S is None:
        if y is None:
            raise ParameterError("log_mel_spectrogram needs y or S")
        S = stft_magnitude(y, n_fft=n_fft, hop_length=hop_length) ** 2
    else:
        n_fft = 2 * (S.shape[-2] - 1)
    check_positive(n_mels=n_mels)
    mel_power = mel_filters(sr=sr, n_fft=n_fft, n_mels=n_mels) @ S
    S_db = 10.0 * np.log10(np.maximum(mel_power, 1e-10))
    if top_db is not None:
        S_db = np.maximum(S_db, S_db.max() - top_db)
    return S_db.astype(np.float32)


@register_feature_set
class LogMel(FeatureSet):
    """Log-mel spectrogram at 16 kHz, ``(n_mels, n_frames)`` float32 per clip.

    Parameters
    ----------
    n_mels : int in [1, 512]
        Mel bands (64; 128 for a finer frequency axis), spanning 0–8 kHz.
    win_length_s, hop_length_s : float
        Window (= FFT length) and hop in seconds: 25 ms and 10 ms. The window is
        16 to 65536 samples at 16 kHz, the hop at least one sample and at most the
        window (bounded together, see :func:`serkit.features.spectral.check_stft`).
    top_db : float in [1, 200]
        Dynamic range kept below each clip's peak.
    trim_db : float in [1, 200] or None
        Trim leading/trailing frames quieter than this many dB below the peak
        (``librosa.effects.trim``, computed by :func:`serkit.features.spectral.trim_bounds`);
        ``None`` keeps the whole clip.
    level : {"active-rms", "bs1770"} or None
        Level normalisation of the clip before any feature (:mod:`serkit.core.level`);
        ``None`` works on the clip as recorded.

    Raises
    ------
    ParameterError
        A parameter of the wrong type or out of its range.

    Examples
    --------
    >>> import numpy as np
    >>> fs = LogMel(n_mels=64, trim_db=30.0)
    >>> y = np.zeros(32000, dtype=np.float32)
    >>> y[8000:24000] = 0.1 * np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)
    >>> fs.from_audio(y, 16000).shape[1] < 201
    True
    """

    name = "logmel"
    kind = "frames"
    sr = LOGMEL_SR

    def __init__(
        self,
        *,
        n_mels: int = 64,
        win_length_s: float = 0.025,
        hop_length_s: float = 0.010,
        top_db: float = 80.0,
        trim_db: float | None = None,
        level: str | None = DEFAULT_LEVEL,
    ):
        self.n_mels = n_mels
        self.win_length_s = win_length_s
        self.hop_length_s = hop_length_s
        self.top_db = top_db
        self.trim_db = trim_db
        self.level = check_level(level)
        check_range(1, 512, n_mels=n_mels)
        check_positive(numbers=True, win_length_s=win_length_s, hop_length_s=hop_length_s)
        check_stft(sr=LOGMEL_SR, n_fft=self.win_length, hop_length=self.hop_length)
        check_range(1.0, 200.0, integer=False, top_db=top_db)
        check_range(1.0, 200.0, integer=False, allow_none=True, trim_db=trim_db)

    @property
    def win_length(self) -> int:
        """Window (and FFT) length in samples at 16 kHz."""
        return int(round(self.win_length_s * LOGMEL_SR))

    @property
    def hop_length(self) -> int:
        """Hop in samples at 16 kHz."""
        return max(1, int(round(self.hop_length_s * LOGMEL_SR)))

    def from_audio(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Log-mel spectrogram of mono ``y`` at rate ``sr``: ``(n_mels, n_frames)`` float32.

        Raises :class:`AudioError` for non-1-D or non-finite audio, or audio shorter
        than one window after resampling (and trimming).
        """
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1:
            raise AudioError(f"<audio>: expected mono audio of shape (n,), got shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise AudioError("<audio>: contains non-finite samples (NaN or inf)")
        y = resample(y, orig_sr=int(sr), target_sr=LOGMEL_SR)
        if self.trim_db is not None:
            from serkit.features.spectral import trim_bounds

            start, end = trim_bounds(y, top_db=self.trim_db, frame_length=self.win_length, hop_length=self.hop_length)
            y = y[start:end]
        if y.size < self.win_length:
            raise AudioError(
                f"<audio>: too short for a log-mel frame ({y.size} samples < {self.win_length} at {LOGMEL_SR} Hz)"
            )
        return log_mel_spectrogram(
            y=y,
            sr=LOGMEL_SR,
            n_fft=self.win_length,
            hop_length=self.hop_length,
            n_mels=self.n_mels,
            top_db=self.top_db,
        )
