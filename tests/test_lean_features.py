"""The bundled set's features without librosa or scipy: serkit's numpy functions against
librosa's, the whole ``functionals`` and ``whisper+functionals`` vectors against the
librosa-based computation of serkit 0.2 (``librosa_functionals.py``), and the imports
prediction pulls in."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import librosa
import numpy as np
import pytest
import scipy.fft
from conftest import make_tone, make_voice_like
from librosa_functionals import librosa_functionals, librosa_periodicity, librosa_trim

from serkit.core import level
from serkit.core.audio import load_audio
from serkit.features import spectral
from serkit.features import get_feature_set
from serkit.features.functionals import _periodicity

SR, N_FFT, HOP = 16000, 1024, 160
YIN = dict(fmin=60.0, fmax=500.0, sr=SR, frame_length=N_FFT, hop_length=HOP)
HEAVY = ("librosa", "scipy", "sklearn", "torch", "pandas", "matplotlib")


def _clips(rng) -> dict:
    """Synthetic 16 kHz clips: pitched, noisy, silence around a tone, barely one window, unvoiced."""
    tone = make_tone(freq_hz=200.0, duration_s=1.0, sr=SR)
    return {
        "tone": tone,
        "voice": make_voice_like(duration_s=1.5, sr=SR),
        "noise": (0.1 * rng.standard_normal(SR)).astype(np.float32),
        "silence-padded": np.concatenate([np.zeros(8000), tone[:4000], np.zeros(8000)]).astype(np.float32),
        "near n_fft": (0.1 * rng.standard_normal(N_FFT + 7)).astype(np.float32),
        "clicks, no voicing": np.where(np.arange(SR) % 997 == 0, 0.5, 0.0).astype(np.float32),
    }


# Share of YIN frames whose lag may differ from librosa's: clicks in silence leave
# exact ties between lags (autocorrelation zero but for rounding) in many frames.
MAX_FLIPPED = {"clicks, no voicing": 0.05}


@pytest.fixture(params=list(_clips(np.random.default_rng(0))))
def clip(request):
    return request.param, _clips(np.random.default_rng(0))[request.param]


def _real_clips(root, n: int = 6) -> list[np.ndarray]:
    paths = sorted(root.glob("Actor_*/*.flac"))[:: max(1, 1200 // n)][:n]
    return [level.normalise_level(load_audio(path, sr=SR)[0], SR) for path in paths]


def _assert_functions_match_librosa(y: np.ndarray) -> None:
    """Each numpy function against librosa's on one clip: bit for bit where the
    arithmetic is librosa's, to float32 rounding where a DCT or FFT replaces scipy's."""
    np.testing.assert_array_equal(
        spectral.trim_silence(y, top_db=35.0, frame_length=N_FFT, hop_length=HOP),
        librosa_trim(y, top_db=35.0, frame_length=N_FFT, hop_length=HOP),
    )
    for top_db, frame_length, hop_length in ((35.0, N_FFT, HOP), (60.0, 2048, 512), (20.0, 400, 160)):
        assert spectral.trim_bounds(y, top_db=top_db, frame_length=frame_length, hop_length=hop_length) == tuple(
            librosa.effects.trim(y, top_db=top_db, frame_length=frame_length, hop_length=hop_length)[1]
        )
    S = spectral.stft_magnitude(y, n_fft=N_FFT, hop_length=HOP)
    np.testing.assert_array_equal(S, np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, pad_mode="constant")))
    np.testing.assert_array_equal(
        spectral.spectral_contrast(S=S, sr=SR, fmin=100.0), librosa.feature.spectral_contrast(S=S, sr=SR, fmin=100.0)
    )
    np.testing.assert_array_equal(spectral.spectral_flatness(S=S), librosa.feature.spectral_flatness(S=S))
    log_mel = spectral.power_to_db(spectral.apply_filters(spectral.mel_filters(sr=SR, n_fft=N_FFT, n_mels=40), S**2), top_db=None)
    mfcc = spectral.mfcc(S=log_mel, n_mfcc=20)
    expected = librosa.feature.mfcc(S=log_mel, n_mfcc=20)
    assert mfcc.dtype == expected.dtype
    np.testing.assert_allclose(mfcc, expected, rtol=1e-5, atol=1e-4)  # float32 rounding of values up to ~600
    width = min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2))  # as functionals chooses it
    for order in (1, 2):
        np.testing.assert_allclose(
            spectral.delta(expected, width=width, order=order),
            librosa.feature.delta(expected, width=width, order=order),
            rtol=1e-5,
            atol=1e-5,
        )


def _assert_yin_matches_librosa(y: np.ndarray, *, max_flipped: float) -> None:
    """numpy YIN against librosa's. librosa's autocorrelation comes from a float32 FFT,
    whose rounding the parabolic refinement amplifies: the pitch agrees to 1e-6
    (relative) on most frames, to 1e-3 on all but at most ``max_flipped`` of them,
    where a near tie between two lags went the other way."""
    ours, theirs = spectral.yin(y, **YIN), librosa.yin(y, **YIN)
    relative = np.abs(ours - theirs) / theirs
    assert np.median(relative) <= 1e-6
    assert np.mean(relative > 1e-3) <= max_flipped
    np.testing.assert_array_equal(
        _periodicity(y, theirs, sr=SR, frame_length=N_FFT, hop_length=HOP),
        librosa_periodicity(y, theirs, sr=SR, frame_length=N_FFT, hop_length=HOP),
    )


def test_numpy_functions_match_librosa_on_synthetic_clips(clip):
    name, y = clip
    _assert_functions_match_librosa(y)
    _assert_yin_matches_librosa(y, max_flipped=MAX_FLIPPED.get(name, 0.01))


def test_pitched_clips_give_librosas_yin_on_every_frame():
    for y in (make_tone(freq_hz=f0, duration_s=1.0, sr=SR) for f0 in (90.0, 200.0, 440.0)):
        np.testing.assert_allclose(spectral.yin(y, **YIN), librosa.yin(y, **YIN), rtol=1e-6)


def test_numpy_functions_match_librosa_on_real_clips(ravdess_root):
    for y in _real_clips(ravdess_root):
        _assert_functions_match_librosa(y)
        _assert_yin_matches_librosa(y, max_flipped=0.01)


def test_window_stft_and_fft_lengths_are_scipys():
    for n in (16, 400, 401, 1024, 2048):
        np.testing.assert_array_equal(spectral.hann_window(n), librosa.filters.get_window("hann", n, fftbins=True))
    frames = np.random.default_rng(1).standard_normal((8, 1024))
    np.testing.assert_array_equal(np.fft.rfft(frames, axis=-1), scipy.fft.rfft(frames, axis=-1))
    for n in (1, 2, 7, 97, 1291, 2047, 3001, 1_000_001):
        assert spectral.next_fast_len(n) == scipy.fft.next_fast_len(n, real=True)


def test_yin_with_few_lags_and_other_frames_is_librosas():
    y = make_voice_like(duration_s=1.0, sr=SR)
    for params in (dict(fmin=199.0, fmax=200.0), dict(fmin=100.0, fmax=400.0, frame_length=400, hop_length=80)):
        params = {**YIN, **params}
        np.testing.assert_allclose(spectral.yin(y, **params), librosa.yin(y, **params), rtol=1e-3)


def test_delta_and_mfcc_refuse_impossible_widths():
    from serkit.core.exceptions import ParameterError

    with pytest.raises(ParameterError):
        spectral.delta(np.zeros((2, 5)), width=7)
    with pytest.raises(ParameterError):
        spectral.delta(np.zeros((2, 9)), width=4)
    with pytest.raises(ParameterError):
        spectral.mfcc(S=np.zeros((4, 3)), n_mfcc=5)


def _functionals_vectors_agree(new: np.ndarray, old: np.ndarray, columns: list[str]) -> None:
    """Equal to 1e-5 (``|new - old| <= 1e-5 + 1e-5 |old|``), except the pitch and
    periodicity statistics where a YIN near tie may have flipped a frame: 1 % there."""
    pitched = np.array([name.startswith(("f0_", "periodicity", "voiced")) for name in columns])
    np.testing.assert_allclose(new[~pitched], old[~pitched], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(new[pitched], old[pitched], rtol=1e-2, atol=1e-2)


def test_functionals_vector_equals_the_librosa_computation(clip):
    _, y = clip
    fs = get_feature_set("functionals")
    _functionals_vectors_agree(fs.from_audio(y, SR), librosa_functionals(fs, y, SR), fs.columns)


def test_functionals_vector_on_real_clips(ravdess_root):
    fs = get_feature_set("functionals")
    paths = sorted(ravdess_root.glob("Actor_*/*.flac"))[::200]
    for path in paths:
        y, sr = load_audio(path)  # 22 kHz: the set resamples
        _functionals_vectors_agree(fs.from_audio(y, sr), librosa_functionals(fs, y, sr), fs.columns)


def test_logmel_trims_as_librosa(rng):
    from serkit.features.logmel import log_mel_spectrogram

    fs = get_feature_set("logmel", trim_db=30.0, level=None)
    tone = make_tone(freq_hz=300.0, duration_s=0.5, sr=SR)
    y = np.concatenate([np.zeros(6000), tone, 1e-4 * rng.standard_normal(6000)]).astype(np.float32)
    trimmed, _ = librosa.effects.trim(y, top_db=30.0, frame_length=fs.win_length, hop_length=fs.hop_length)
    expected = log_mel_spectrogram(y=trimmed, sr=SR, n_fft=fs.win_length, hop_length=fs.hop_length,
                                   n_mels=fs.n_mels, top_db=fs.top_db)
    assert trimmed.size < y.size
    np.testing.assert_array_equal(fs.from_audio(y, SR), expected)


def test_bundled_set_on_real_clips_equals_the_librosa_computation(ravdess_root):
    pytest.importorskip("ctranslate2")
    joined = get_feature_set("whisper+functionals")
    whisper, functionals = joined._parts()
    for path in sorted(ravdess_root.glob("Actor_*/*.flac"))[100::400]:
        y, sr = load_audio(path)
        new = joined.from_audio(y, sr)
        n_whisper = new.size - len(functionals.columns)
        np.testing.assert_array_equal(new[:n_whisper], whisper.from_audio(y, sr))
        _functionals_vectors_agree(new[n_whisper:], librosa_functionals(functionals, y, sr), functionals.columns)


def test_whisper_log_mel_is_unchanged():
    from serkit.features.whisper import whisper_log_mel

    y = make_voice_like(duration_s=1.0, sr=SR)
    padded = np.concatenate([np.pad(y, (200, 0), mode="reflect"), np.zeros(200, dtype=np.float32)])
    power = np.abs(librosa.stft(padded, n_fft=400, hop_length=160, center=False))[:, :-1] ** 2
    mel = np.log10(np.maximum(spectral.mel_filters(sr=SR, n_fft=400, n_mels=80) @ power, 1e-10))
    expected = ((np.maximum(mel, mel.max() - 8.0) + 4.0) / 4.0).astype(np.float32)
    np.testing.assert_allclose(whisper_log_mel(y), expected, rtol=0, atol=1e-6)


def test_joined_set_normalises_the_level_once_with_the_same_result():
    pytest.importorskip("ctranslate2")
    joined = get_feature_set("whisper+functionals")
    whisper, functionals = joined._parts()
    for sr in (SR, 22050):
        y = make_voice_like(duration_s=1.5, sr=sr)
        separately = np.concatenate([whisper.from_audio(y, sr).astype(np.float64), functionals.from_audio(y, sr)])
        np.testing.assert_array_equal(joined.from_audio(y, sr), separately)


def test_noise_floor_is_the_fresh_draw(monkeypatch):
    scale = 10 ** ((level.TARGET_RMS_DBFS - level.NOISE_FLOOR_DB) / 20)
    monkeypatch.setattr(level, "NOISE_CACHE_SAMPLES", 5000)
    monkeypatch.setattr(level, "_noise_cache", np.zeros(0))
    for n in (10, 3000, 1000, 5000, 4999, 7000, 20):  # grows, is cut, and draws past the cap
        np.testing.assert_array_equal(level.noise_floor(n), scale * np.random.default_rng(0).standard_normal(n))
    assert level._noise_cache.size == 5000 and not level._noise_cache.flags.writeable


def test_prediction_features_import_no_heavy_module():
    """``whisper+functionals``, the bundled model's ``whisper-layers+functionals`` (and ``logmel``) from
    ``serkit.features`` in a fresh interpreter."""
    pytest.importorskip("ctranslate2")
    code = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from serkit.features import get_feature_set

        y = (0.1 * np.sin(2 * np.pi * 180 * np.arange(32000) / 16000)).astype(np.float32)
        get_feature_set("whisper+functionals").from_audio(y, 16000)
        get_feature_set("whisper-layers+functionals").from_audio(y, 16000)
        get_feature_set("functionals").from_audio(y, 22050)
        get_feature_set("logmel", trim_db=30.0).from_audio(y, 16000)
        print(",".join(name for name in {HEAVY!r} if name in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == ""
