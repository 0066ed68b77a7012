"""Level normalisation: known gains, silence, short clips, and level-invariant predictions."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_voice_like
from serkit.core.exceptions import ParameterError
from serkit.features import get_feature_set
from serkit.inference.predictor import Predictor
from serkit.core.level import (
    MAX_GAIN_DB,
    NOISE_FLOOR_DB,
    TARGET_LUFS,
    TARGET_RMS_DBFS,
    active_rms_db,
    bs1770_loudness,
    level_gain_db,
    noise_floor,
    normalise_level,
    soften_transients,
)
from serkit.models import make_model

SR = 16000


def at_peak_dbfs(y: np.ndarray, peak_dbfs: float) -> np.ndarray:
    return (y * 10 ** (peak_dbfs / 20) / np.max(np.abs(y))).astype(np.float32)


def with_silence(y: np.ndarray, *, seconds: float = 0.5) -> np.ndarray:
    gap = np.zeros(int(seconds * SR), dtype=np.float32)
    return np.r_[gap, y, gap]


def test_active_rms_ignores_the_silence_around_the_speech():
    y = make_voice_like(sr=SR)
    assert active_rms_db(with_silence(y, seconds=2.0), SR) == pytest.approx(active_rms_db(y, SR), abs=0.5)


@pytest.mark.parametrize("method, target", [("active-rms", TARGET_RMS_DBFS), ("bs1770", TARGET_LUFS)])
def test_each_method_reaches_its_target_from_any_level(method, target):
    measure = active_rms_db if method == "active-rms" else bs1770_loudness
    y = with_silence(make_voice_like(sr=SR))
    for peak_dbfs in (-40.0, -20.0, -1.0):
        clip = at_peak_dbfs(y, peak_dbfs)
        assert measure(clip * 10 ** (level_gain_db(clip, SR, method=method) / 20), SR) == pytest.approx(target, abs=0.01)
        # The noise floor added after the gain is far enough under the speech to leave its level be.
        assert measure(normalise_level(clip, SR, method=method), SR) == pytest.approx(target, abs=0.5)


def test_bs1770_is_measured_the_same_below_its_absolute_gate():
    # At -70 dBFS peak most blocks sit under the meter's -70 LUFS gate; measuring a
    # peak-normalised copy keeps the loudness exactly 60 dB under the -10 dBFS clip's.
    y = with_silence(make_voice_like(sr=SR))
    assert bs1770_loudness(at_peak_dbfs(y, -70.0), SR) == pytest.approx(bs1770_loudness(at_peak_dbfs(y, -10.0), SR) - 60.0, abs=1e-6)


def test_bs1770_falls_back_to_active_rms_for_clips_shorter_than_a_block():
    y = at_peak_dbfs(make_voice_like(duration_s=0.3, sr=SR), -30.0)
    with pytest.raises(ParameterError, match="400 ms|0.4 s"):
        bs1770_loudness(y, SR)
    assert level_gain_db(y, SR, method="bs1770") == pytest.approx(level_gain_db(y, SR, method="active-rms"))


def test_silence_is_left_alone_and_the_gain_is_capped():
    silence = np.zeros(SR, dtype=np.float32)
    assert normalise_level(silence, SR) is silence
    hiss = (3e-5 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32)  # -90 dBFS
    assert level_gain_db(hiss, SR) == MAX_GAIN_DB
    assert level_gain_db(hiss * np.float32(1e-3), SR) is None  # -150 dBFS: digital silence


def test_a_fixed_noise_floor_fills_the_gaps_whatever_the_recording_level():
    y = with_silence(make_voice_like(sr=SR))
    gap = slice(0, SR // 4)
    for peak_dbfs in (-60.0, -1.0):
        levelled = normalise_level(at_peak_dbfs(y, peak_dbfs), SR)
        gap_dbfs = 10 * np.log10(np.mean(np.square(levelled[gap], dtype=np.float64)))
        assert gap_dbfs == pytest.approx(TARGET_RMS_DBFS - NOISE_FLOOR_DB, abs=0.3)


def test_loud_clips_are_not_clipped_after_the_gain():
    t = np.arange(SR) / SR
    y = (0.01 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)  # active RMS -43 dBFS …
    y[SR // 2] = 0.5  # … and one click near full scale
    louder = normalise_level(y, SR)
    assert louder.dtype == np.float32 and np.max(np.abs(louder)) > 1.0


def test_unknown_level_method_is_refused():
    with pytest.raises(ParameterError, match="level="):
        get_feature_set("functionals", level="peak")


def test_sets_record_their_level_and_seed26_has_none():
    assert get_feature_set("functionals").params()["level"] == "active-rms"
    assert get_feature_set("logmel", level=None).params()["level"] is None
    seed26 = get_feature_set("seed26")
    assert "level" not in seed26.params() and seed26.level is None
    y = make_voice_like(sr=22050)
    # seed26 still sees the clip as recorded: its RMS column scales with the input.
    assert seed26.from_audio(10 * y, 22050)[1] == pytest.approx(10 * seed26.from_audio(y, 22050)[1], rel=1e-4)


def test_a_new_feature_set_is_normalised_without_code_of_its_own():
    from serkit.features import FeatureSet

    class Peak(FeatureSet):
        name = "peak-test"

        def from_audio(self, y, sr):
            return np.array([np.max(np.abs(y))])

    y = make_voice_like(sr=SR)
    assert Peak().from_audio(0.01 * y, SR)[0] == pytest.approx(Peak().from_audio(y, SR)[0], rel=1e-5)


def _synthetic_corpus():
    """Two 'emotions' told apart by pitch; the high one recorded louder, as anger is in RAVDESS."""
    clips, labels = [], []
    for seed in range(12):
        for label, f0_hz, peak_dbfs in (("happy", 230.0, -6.0), ("sad", 120.0, -30.0)):
            y = make_voice_like(duration_s=1.0, sr=SR, f0_hz=f0_hz * (1 + 0.03 * (seed % 4)), seed=seed)
            clips.append(at_peak_dbfs(y, peak_dbfs + (seed % 3) * 3.0))
            labels.append(label)
    return clips, np.array(labels)


@pytest.mark.parametrize("set_name", ["functionals", "egemaps"])
def test_the_same_clip_at_any_level_gets_the_same_emotion(set_name):
    feature_set = get_feature_set(set_name)
    clips, labels = _synthetic_corpus()
    X = feature_set.collate([feature_set.from_audio(y, SR) for y in clips])
    predictor = Predictor(make_model("logreg").fit(X, labels), feature_set)
    clip = make_voice_like(duration_s=1.0, sr=SR, f0_hz=125.0, seed=99)
    results = [predictor.predict_audio(at_peak_dbfs(clip, peak), SR) for peak in (-40.0, -20.0, -1.0)]
    assert {result["emotion"] for result in results} == {"sad"}
    for result in results[1:]:
        for emotion, p in result["probabilities"].items():
            assert p == pytest.approx(results[0]["probabilities"][emotion], abs=0.05)


def test_without_normalisation_the_features_follow_the_level():
    clip = make_voice_like(duration_s=1.0, sr=SR, seed=1)
    as_recorded = get_feature_set("functionals", level=None)
    column = as_recorded.columns.index("rms_db_mean")
    quiet, loud = (as_recorded.from_audio(at_peak_dbfs(clip, peak), SR)[column] for peak in (-40.0, -1.0))
    assert loud - quiet == pytest.approx(39.0, abs=0.5)


@pytest.mark.parametrize("set_name", ["functionals", "egemaps"])
def test_a_recorders_dc_offset_leaves_the_features_be(set_name):
    # Cheap microphones and sound cards leave a constant offset of 0.001-0.02 of full scale; the
    # level-normalised sets take it out before anything else, the peak-level clip as the quiet one.
    feature_set = get_feature_set(set_name)
    for peak_dbfs in (-30.0, -6.0):
        y = with_silence(at_peak_dbfs(make_voice_like(sr=SR, seed=3), peak_dbfs))
        clean = feature_set.from_audio(y, SR)
        for offset in (0.005, -0.02):
            np.testing.assert_allclose(feature_set.from_audio(y + np.float32(offset), SR), clean, rtol=1e-3, atol=1e-3)


def test_as_recorded_the_dc_offset_stays_in():
    y = with_silence(at_peak_dbfs(make_voice_like(sr=SR, seed=3), -30.0))
    as_recorded = get_feature_set("functionals", level=None)
    column = as_recorded.columns.index("rms_db_mean")
    assert as_recorded.from_audio(y + np.float32(0.02), SR)[column] > as_recorded.from_audio(y, SR)[column] + 3.0


def with_transient(y: np.ndarray, *, at_s: float, ms: float) -> np.ndarray:
    """``y`` with a Hann-shaped broadband burst at full scale: a plug-in pop (5 ms) or a tap (20 ms)."""
    n, start = int(ms / 1000 * SR), int(at_s * SR)
    out = y.copy()
    out[start:start + n] += np.hanning(n) * np.sign(np.sin(np.arange(n)))
    return out


@pytest.mark.parametrize(("at_s", "ms"), [(0.1, 5.0), (1.5, 5.0), (0.1, 20.0)])
def test_a_pop_or_a_tap_does_not_set_a_quiet_clips_level(at_s, ms):
    # Averaged in, a 5 ms pop at full scale took 12 dB off this clip's gain and a 20 ms tap 18 dB, and with them every feature.
    y = with_silence(at_peak_dbfs(make_voice_like(sr=SR, seed=4), -30.0))
    popped = with_transient(y, at_s=at_s, ms=ms)
    assert level_gain_db(popped, SR) == pytest.approx(level_gain_db(y, SR), abs=0.5)
    elsewhere = np.ones(y.size, dtype=bool)
    elsewhere[int((at_s - 0.03) * SR):int((at_s + ms / 1000 + 0.03) * SR)] = False  # the transient's frames and ramps
    np.testing.assert_allclose(normalise_level(popped, SR)[elsewhere], normalise_level(y, SR)[elsewhere], rtol=0.02, atol=1e-4)
    assert loudest_frame_db(normalise_level(popped, SR)) < loudest_frame_db(normalise_level(y, SR)) + 3.0  # about the speech's loudest


def loudest_frame_db(y: np.ndarray) -> float:
    frames = y[: y.size // 320 * 320].reshape(-1, 320).astype(np.float64)  # 20 ms
    return float(10 * np.log10(np.max(np.mean(frames ** 2, axis=1))))


def test_clips_without_a_transient_are_levelled_as_before():
    for peak_dbfs in (-40.0, -20.0, -1.0):
        for y in (at_peak_dbfs(make_voice_like(sr=SR, seed=5), peak_dbfs), with_silence(at_peak_dbfs(make_voice_like(sr=SR), peak_dbfs))):
            assert soften_transients(y, SR) is y
            expected = (y * 10 ** (level_gain_db(y, SR) / 20) + noise_floor(y.size)).astype(np.float32)
            np.testing.assert_array_equal(normalise_level(y, SR), expected)


def test_features_cached_before_a_change_of_the_front_end_are_not_reused(tmp_path, monkeypatch):
    import soundfile as sf

    from serkit.features import batch

    path = tmp_path / "voice.wav"
    sf.write(path, make_voice_like(sr=SR), SR)
    key = batch.FeatureCache(tmp_path, get_feature_set("functionals")).key(path)
    monkeypatch.setattr(batch, "FRONT_END", "another front end")
    assert batch.FeatureCache(tmp_path, get_feature_set("functionals")).key(path) != key
