"""``egemaps``: the extended Geneva Minimalistic Acoustic Parameter Set (eGeMAPS v02).

The field's standard 88 clip-level parameters (pitch, jitter, shimmer, formants,
loudness, spectral slopes, HNR, MFCC 1–4, rates of voiced segments …; Eyben et al.
2016), computed by openSMILE through the ``opensmile`` Python package
(``pip install opensmile``). Without it, building the columns or extracting raises
a :class:`~serkit.core.exceptions.ParameterError` that says how to install it.

Examples
--------
>>> import numpy as np
>>> from serkit.features import get_feature_set
>>> fs = get_feature_set("egemaps")
>>> len(fs.columns), fs.columns[0]
(88, 'F0semitoneFrom27.5Hz_sma3nz_amean')
>>> t = np.arange(16000) / 16000
>>> fs.from_audio((0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000).shape
(88,)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from serkit.core.exceptions import AudioError, ParameterError
from serkit.features.base import FeatureSet, JoinedVectorSets, register_feature_set
from serkit.features.spectral import check_range
from serkit.core.level import DEFAULT_LEVEL, check_level


@lru_cache(maxsize=1)
def _smile():
    # One openSMILE configuration per process: building it parses config files.
    try:
        import opensmile
    except ImportError:
        raise ParameterError(
            "feature set 'egemaps' needs the opensmile package: pip install opensmile"
        ) from None
    return opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )


@register_feature_set
class EGeMAPS(FeatureSet):
    """eGeMAPS v02 functionals: 88 named parameters per clip, via openSMILE.

    Parameters
    ----------
    sr : int in [8000, 192000]
        Analysis rate in Hz; clips are resampled to it before openSMILE.
    trim_top_db : float in [1, 200] or None
        Trim leading/trailing audio quieter than this many dB below the peak frame
        (as in ``functionals``); ``None`` (the default) keeps the clip whole, the
        standard eGeMAPS setting.
    level : {"active-rms", "bs1770"} or None
        Level normalisation of the clip before any feature (:mod:`serkit.core.level`);
        ``None`` works on the clip as recorded.

    Raises
    ------
    ParameterError
        A parameter of the wrong type or out of its range.

    Examples
    --------
    >>> EGeMAPS().params()
    {'sr': 16000, 'trim_top_db': None, 'level': 'active-rms'}
    """

    name = "egemaps"
    kind = "vector"

    def __init__(self, *, sr: int = 16000, trim_top_db: float | None = None, level: str | None = DEFAULT_LEVEL):
        self.sr = sr
        self.trim_top_db = trim_top_db
        check_range(8000, 192000, sr=sr)
        check_range(1.0, 200.0, integer=False, allow_none=True, trim_top_db=trim_top_db)
        self.level = check_level(level)

    @property
    def columns(self) -> list[str]:
        return list(_smile().feature_names)

    def from_audio(self, y: np.ndarray, sr: int) -> np.ndarray:
        """The 88 parameters of one clip, float64, ``y`` resampled to :attr:`sr` first.

        Raises :class:`AudioError` for a non-finite or multi-channel signal.
        """
        from serkit.core.audio import resample

        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1 or not np.all(np.isfinite(y)):
            raise AudioError(f"egemaps: need a finite mono signal, got shape {y.shape}")
        smile = _smile()
        y = resample(y, orig_sr=int(sr), target_sr=self.sr)
        if self.trim_top_db is not None and np.any(y):
            import librosa

            y, _ = librosa.effects.trim(y, top_db=self.trim_top_db)
        values = smile.process_signal(y, self.sr).to_numpy(dtype=np.float64).ravel()
        # openSMILE leaves NaN where a parameter is undefined (no voiced frame → no jitter).
        return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)


@register_feature_set
class FunctionalsEGeMAPS(JoinedVectorSets):
    """``functionals`` followed by ``egemaps``: the best set for classical models here.

    The two sets overlap little (eGeMAPS adds jitter, shimmer, formants, HNR and
    spectral slopes; ``functionals`` adds MFCC/log-mel statistics and deltas), and
    together they beat either alone speaker-independently (see
    ``benchmarks/bench_accuracy.py``).

    Parameters
    ----------
    functionals, egemaps : dict or None
        Parameters of each part (``None``: its defaults), e.g.
        ``functionals={"trim_top_db": None}``.

    Examples
    --------
    >>> fs = FunctionalsEGeMAPS()
    >>> len(fs.columns), fs.columns[-1]
    (793, 'egemaps_equivalentSoundLevel_dBp')
    """

    name = "functionals+egemaps"
    part_names = ("functionals", "egemaps")
    column_prefixes = {"egemaps": "egemaps_"}

    def __init__(self, *, functionals: dict | None = None, egemaps: dict | None = None):
        self.functionals = functionals
        self.egemaps = egemaps
        self._check_parts()
