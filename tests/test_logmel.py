"""The ``logmel`` frame feature set: shapes, known-answer peaks, resampling, trimming, errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_tone, make_voice_like

from serkit.core.exceptions import AudioError, ParameterError
from serkit.features import get_feature_set
from serkit.features.logmel import log_mel_spectrogram
from serkit.features.spectral import mel_filters, stft_magnitude


def test_registered_as_frames_set_with_its_params():
    fs = get_feature_set("logmel", n_mels=128, trim_db=30.0)
    assert (fs.name, fs.kind, fs.sr) == ("logmel", "frames", 16000)
    assert fs.params() == {
        "n_mels": 128, "win_length_s": 0.025, "hop_length_s": 0.01, "top_db": 80.0, "trim_db": 30.0,
        "level": "active-rms",
    }
    assert (fs.win_length, fs.hop_length) == (400, 160)


def test_shape_is_bands_by_frames_at_100_per_second():
    S_db = get_feature_set("logmel").from_audio(make_voice_like(duration_s=2.0, sr=16000), 16000)
    assert S_db.shape == (64, 201)
    assert S_db.dtype == np.float32


def test_tone_peaks_in_the_mel_band_of_its_frequency():
    y = make_tone(freq_hz=1000.0, duration_s=1.0, sr=16000, amplitude=0.5)
    S_db = get_feature_set("logmel").from_audio(y, 16000)
    expected_band = int(np.argmax(mel_filters(sr=16000, n_fft=400, n_mels=64)[:, 25]))  # bin 25 = 1000 Hz
    assert int(np.argmax(S_db[:, 50])) == expected_band


def test_y_and_precomputed_S_paths_agree():
    y = make_voice_like(duration_s=1.0, sr=16000)
    S = stft_magnitude(y, n_fft=400, hop_length=160) ** 2
    np.testing.assert_allclose(log_mel_spectrogram(S=S), log_mel_spectrogram(y=y), atol=1e-4)


def test_other_rates_are_resampled_to_16k():
    fs = get_feature_set("logmel")
    voice_16k = make_voice_like(duration_s=1.0, sr=16000)
    voice_22k = make_voice_like(duration_s=1.0, sr=22050)
    assert fs.from_audio(voice_22k, 22050).shape == fs.from_audio(voice_16k, 16000).shape == (64, 101)


def test_top_db_floors_the_range_and_silence_trimming_shortens():
    y = np.zeros(48000, dtype=np.float32)
    y[16000:32000] = make_tone(freq_hz=300.0, duration_s=1.0, sr=16000)
    full = get_feature_set("logmel", top_db=60.0).from_audio(y, 16000)
    assert full.max() - full.min() == pytest.approx(60.0, abs=1e-3)
    trimmed = get_feature_set("logmel", trim_db=30.0).from_audio(y, 16000)
    assert 95 <= trimmed.shape[1] <= 115 < full.shape[1]


@pytest.mark.parametrize(
    "audio, message",
    [
        (np.zeros((100, 2), dtype=np.float32), "mono"),
        (np.full(16000, np.nan, dtype=np.float32), "non-finite"),
        (np.zeros(100, dtype=np.float32), "too short"),
    ],
)
def test_unusable_audio_raises_audio_error(audio, message):
    with pytest.raises(AudioError, match=message):
        get_feature_set("logmel").from_audio(audio, 16000)


@pytest.mark.parametrize("params", [{"n_mels": 0}, {"hop_length_s": -0.01}, {"trim_db": 0}])
def test_bad_parameters_raise_parameter_error(params):
    with pytest.raises(ParameterError, match=next(iter(params))):
        get_feature_set("logmel", **params)
