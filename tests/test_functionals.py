"""The ``functionals`` feature set on synthetic audio: shape, names, known answers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_tone, make_voice_like

from serkit.core.exceptions import AudioError, ParameterError
from serkit.features import get_feature_set
from serkit.features.functionals import STATISTICS, _summarise


def _value(fs, x, column):
    return float(x[fs.columns.index(column)])


def test_shape_columns_and_finite_values():
    fs = get_feature_set("functionals")
    x = fs.from_audio(make_voice_like(sr=16000), 16000)
    assert x.shape == (len(fs.columns),) == (705,)
    assert x.dtype == np.float64 and np.all(np.isfinite(x))
    assert len(set(fs.columns)) == len(fs.columns)
    assert fs.columns[:6] == [f"mfcc1_{stat}" for stat in STATISTICS]
    assert fs.columns[-3:] == ["voiced_fraction", "voiced_segments_per_s", "duration_s"]


@pytest.mark.parametrize("f0_hz", [110.0, 200.0, 320.0])
def test_pitch_of_a_tone_is_known(f0_hz):
    fs = get_feature_set("functionals", trim_top_db=None)
    x = fs.from_audio(make_tone(freq_hz=f0_hz, duration_s=1.0, sr=22050), 22050)
    expected_semitones = 12 * np.log2(f0_hz / 55.0)
    assert _value(fs, x, "f0_semitones_p50") == pytest.approx(expected_semitones, abs=0.15)
    assert _value(fs, x, "f0_semitones_std") < 0.2
    # A steady periodic tone: voiced throughout, one voiced segment.
    assert _value(fs, x, "voiced_fraction") > 0.95
    assert _value(fs, x, "periodicity_p50") > 0.95
    assert _value(fs, x, "voiced_segments_per_s") == pytest.approx(1.0, abs=0.01)


def test_noise_is_unvoiced_and_spectrally_flat(rng):
    fs = get_feature_set("functionals", trim_top_db=None)
    noise = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    x = fs.from_audio(noise, 16000)
    assert _value(fs, x, "voiced_fraction") < 0.05
    assert _value(fs, x, "flatness_p50") > 0.3
    # White noise: centroid near a quarter of the rate, ZCR near one half.
    assert _value(fs, x, "centroid_hz_p50") == pytest.approx(4000, rel=0.1)
    assert _value(fs, x, "zcr_mean") == pytest.approx(0.5, abs=0.05)


def test_trimming_removes_leading_and_trailing_silence():
    sr = 16000
    tone = make_tone(freq_hz=200.0, duration_s=1.0, sr=sr)
    padded = np.concatenate([np.zeros(sr, np.float32), tone, np.zeros(2 * sr, np.float32)])
    trimmed = get_feature_set("functionals", trim_top_db=35.0)
    whole = get_feature_set("functionals", trim_top_db=None)
    x_trimmed, x_whole = trimmed.from_audio(padded, sr), whole.from_audio(padded, sr)
    assert _value(trimmed, x_trimmed, "duration_s") == pytest.approx(1.0, abs=0.1)
    assert _value(whole, x_whole, "duration_s") == pytest.approx(4.0, abs=0.01)
    assert _value(trimmed, x_trimmed, "voiced_fraction") > 0.9
    assert _value(whole, x_whole, "voiced_fraction") < 0.35
    # Trimmed statistics match the unpadded tone's.
    x_tone = trimmed.from_audio(tone, sr)
    assert _value(trimmed, x_trimmed, "rms_db_p50") == pytest.approx(_value(trimmed, x_tone, "rms_db_p50"), abs=0.5)


def test_resamples_to_its_own_rate():
    fs = get_feature_set("functionals")
    at_16k = fs.from_audio(make_voice_like(sr=16000), 16000)
    at_22k = fs.from_audio(make_voice_like(sr=22050), 22050)
    f0 = fs.columns.index("f0_semitones_mean")
    assert at_22k[f0] == pytest.approx(at_16k[f0], abs=0.3)


def test_summarise_known_answers():
    ramp = np.arange(11, dtype=float)[None, :]
    stats = dict(zip(STATISTICS, _summarise(ramp)[0]))
    assert stats["mean"] == pytest.approx(5.0)
    assert stats["p10"] == pytest.approx(1.0) and stats["p50"] == pytest.approx(5.0)
    assert stats["slope"] == pytest.approx(10.0)  # 0 → 10 over normalised time
    assert np.all(_summarise(np.zeros((3, 0))) == 0)


def test_short_silent_and_bad_input():
    fs = get_feature_set("functionals")
    with pytest.raises(AudioError, match="too short"):
        fs.from_audio(np.full(500, 0.1, np.float32), 16000)
    x = fs.from_audio(np.zeros(16000, np.float32), 16000)  # silence: defined, all finite
    assert np.all(np.isfinite(x))
    click = np.zeros(16000, np.float32)
    click[8050] = 0.5  # trimming would leave 960 samples, less than a window: kept whole
    # (as recorded: level normalisation's noise floor would give the trim something to keep)
    as_recorded = get_feature_set("functionals", level=None)
    assert as_recorded.from_audio(click, 16000)[fs.columns.index("duration_s")] == pytest.approx(1.0)
    with pytest.raises(AudioError, match="finite mono"):
        fs.from_audio(np.full(16000, np.nan, np.float32), 16000)
    with pytest.raises(ParameterError, match="hop_length=0"):
        get_feature_set("functionals", hop_length=0).from_audio(make_tone(), 22050)
    with pytest.raises(ParameterError, match="fmin_hz"):
        get_feature_set("functionals", fmin_hz=20.0).from_audio(make_tone(), 22050)


def test_params_round_trip():
    fs = get_feature_set("functionals", n_mfcc=13, trim_top_db=None)
    assert fs.params()["n_mfcc"] == 13 and fs.params()["trim_top_db"] is None
    assert get_feature_set("functionals", **fs.params()).columns == fs.columns
    # 7 fewer MFCCs, each with two deltas, each summarised by 6 statistics.
    assert len(fs.columns) == 705 - 7 * 3 * 6
