"""Shared-STFT frame features agree with the librosa functions they replace."""

import librosa
import numpy as np
import pytest

from conftest import make_tone, make_voice_like
from serkit.core.exceptions import ParameterError
from serkit.features import spectral

SR = 22050


@pytest.fixture(params=["tone", "voice", "noise"])
def signal(request, rng):
    if request.param == "tone":
        return make_tone(freq_hz=330, duration_s=1.3)
    if request.param == "voice":
        return make_voice_like(sr=SR, duration_s=1.7)
    return (0.1 * rng.standard_normal(SR)).astype(np.float32)


def test_stft_is_librosas(signal):
    np.testing.assert_array_equal(spectral.stft_magnitude(signal), np.abs(librosa.stft(signal)))


def test_frame_features_match_librosa(signal):
    S = spectral.stft_magnitude(signal)
    P = S**2
    checks = [
        (spectral.spectral_centroid(S=S, sr=SR), librosa.feature.spectral_centroid(S=S, sr=SR)[0]),
        (spectral.spectral_bandwidth(S=S, sr=SR), librosa.feature.spectral_bandwidth(S=S, sr=SR)[0]),
        (spectral.spectral_bandwidth(S=S, sr=SR, p=3), librosa.feature.spectral_bandwidth(S=S, sr=SR, p=3)[0]),
        (spectral.spectral_rolloff(S=S, sr=SR), librosa.feature.spectral_rolloff(S=S, sr=SR)[0]),
        (spectral.rms(y=signal), librosa.feature.rms(y=signal)[0]),
        (spectral.zero_crossing_rate(y=signal), librosa.feature.zero_crossing_rate(signal)[0]),
        (spectral.chroma_stft(S=P, sr=SR), librosa.feature.chroma_stft(S=P, sr=SR)),
        (spectral.power_to_db(P), librosa.power_to_db(P)),
    ]
    for ours, theirs in checks:
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_tuning_estimate_is_librosas(signal):
    P = spectral.stft_magnitude(signal) ** 2
    assert spectral.estimate_tuning(S=P, sr=SR) == librosa.estimate_tuning(S=P, sr=SR)


def test_tuning_of_a_detuned_tone():
    # 440 Hz raised by 30 cents: the estimate is +0.3 of a semitone bin.
    y = make_tone(freq_hz=440 * 2 ** (0.3 / 12), duration_s=2.0)
    assert spectral.estimate_tuning(S=spectral.stft_magnitude(y) ** 2, sr=SR) == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize("sr, n_fft, n_mels", [(16000, 400, 80), (16000, 400, 128), (22050, 2048, 128), (16000, 1024, 40)])
def test_mel_filters_are_librosas(sr, n_fft, n_mels):
    # numpy, not librosa, at predict time; bit-identical so no feature moves.
    np.testing.assert_array_equal(
        spectral.mel_filters(sr=sr, n_fft=n_fft, n_mels=n_mels), librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)
    )


def test_trim_silence_keeps_the_sound_and_a_lone_click():
    sr = 16000
    y = np.zeros(3 * sr, dtype=np.float32)
    y[sr : 2 * sr] = make_tone(freq_hz=300, duration_s=1.0, sr=sr)
    trimmed = spectral.trim_silence(y, top_db=35.0, frame_length=1024, hop_length=160)
    assert sr <= trimmed.size < 1.2 * sr
    click = np.zeros(sr, dtype=np.float32)
    click[100] = 1.0
    assert spectral.trim_silence(click, top_db=35.0, frame_length=1024, hop_length=160).size == sr


def test_known_answers():
    y = np.sin(2 * np.pi * 1000 * np.arange(SR) / SR).astype(np.float32)
    S = spectral.stft_magnitude(y)
    interior = slice(4, -4)  # away from the zero-padded edges
    assert np.median(spectral.spectral_centroid(S=S, sr=SR)[interior]) == pytest.approx(1000, abs=5)
    np.testing.assert_allclose(spectral.rms(y=y)[interior], 1 / np.sqrt(2), rtol=1e-3)
    # A 1 kHz sine crosses zero 2000 times a second.
    np.testing.assert_allclose(spectral.zero_crossing_rate(y=y)[interior], 2000 / SR, rtol=0.01)


def test_silent_frames_give_zero_not_nan():
    S = np.zeros((1025, 5), dtype=np.float32)
    for values in (spectral.spectral_centroid(S=S), spectral.spectral_bandwidth(S=S), spectral.spectral_rolloff(S=S)):
        np.testing.assert_array_equal(values, 0.0)


def test_parameter_errors():
    with pytest.raises(ParameterError, match="hop_length=0"):
        spectral.stft_magnitude(np.zeros(4096, dtype=np.float32), hop_length=0)
    with pytest.raises(ParameterError, match="roll_percent=1.5"):
        spectral.spectral_rolloff(S=np.ones((1025, 2), dtype=np.float32), roll_percent=1.5)
