"""Clipped recordings: the score, and the caution a clipped piece of audio gets."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from conftest import SHARED_DATA
from serkit.core.audio import resample
from serkit.core.level import CLIPPED_ABOVE, clipping_score
from serkit.features import get_feature_set
from serkit.inference.familiarity import CAUTION
from serkit.inference.predictor import CLIPPING_CAUTION, Predictor
from serkit.models import make_model

SR = 16000


def speech_like(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    """Low-passed noise under a syllable-rate envelope: magnitudes that thin out toward the peak, as
    speech's do, and waveform tops several samples wide, as speech's are (so clipping leaves plateaus)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    envelope = np.hanning(n) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    return (0.1 * np.convolve(rng.laplace(size=n), np.hanning(16), mode="same") * envelope).astype(np.float32)


def clipped(y: np.ndarray, drive: float, offset: float = 0.0) -> np.ndarray:
    """``y`` peaking at ``drive`` times full scale (past it for ``drive`` > 1), a recorder's ``offset``
    added, cut at full scale."""
    return np.clip(y / np.max(np.abs(y)) * drive + offset, -1.0, 1.0).astype(np.float32)


def through_mp3(y: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    sf.write(buffer, y, SR, format="MP3")
    buffer.seek(0)
    return sf.read(buffer, dtype="float32")[0]


def test_speech_as_spoken_scores_under_the_threshold_at_any_level():
    y = speech_like()
    assert clipping_score(y) < CLIPPED_ABOVE
    assert clipping_score(clipped(y, 1.0)) == pytest.approx(clipping_score(0.01 * y), abs=1e-4)


@pytest.mark.parametrize("drive", [8.0, 16.0])
def test_clipped_audio_scores_over_it_as_stored_resampled_or_coded(drive):
    y = clipped(speech_like(), drive)
    assert clipping_score(y) > CLIPPED_ABOVE
    assert clipping_score(resample(y, orig_sr=SR, target_sr=22050)) > CLIPPED_ABOVE  # the flat tops ring
    assert clipping_score(through_mp3(y)) > CLIPPED_ABOVE


def test_the_score_grows_with_the_clipping_and_light_clipping_passes():
    # 6 dB past full scale left the bundled model's emotion as it was for 99-100 % of shared clips:
    # the threshold was chosen where answers start to move, not where clipping starts.
    scores = [clipping_score(clipped(speech_like(), drive)) for drive in (1.0, 2.0, 4.0, 8.0, 16.0)]
    assert scores == sorted(scores) and scores[1] < CLIPPED_ABOVE < scores[3]


@pytest.mark.parametrize("offset", [0.001, 0.005, 0.02, 0.05])
def test_a_recorders_offset_is_not_clipping_and_clipping_with_one_still_is(offset):
    # A quiet clip (peak -26 dBFS, the shared RAVDESS clips' median) from a recorder with a DC
    # offset: its pauses sit at the offset, one magnitude, which scored as clipping before the
    # score was centred on the median (3-36 % of shared clips at 0.005-0.05 were called clipped).
    y = speech_like()
    assert clipping_score(clipped(y, 0.05, offset)) < CLIPPED_ABOVE
    # The offset before the converter's limit: still clipped, 24 dB past full scale.
    assert clipping_score(clipped(y, 16.0, offset)) > CLIPPED_ABOVE


def beep(seconds: float, peak: float, hz: float = 1000.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (peak * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize("peak", [0.05, 0.5])
def test_a_beep_before_the_speech_is_not_clipping_and_clipping_after_one_still_is(peak):
    # A recorder's or a voicemail's beep: a sine's magnitudes pile up at its amplitude as clipped
    # speech's do at the clip level (66 of 120 shared clips were called clipped behind a -6 dBFS beep).
    y = speech_like()
    assert clipping_score(np.r_[beep(0.3, peak), np.zeros(SR // 2, np.float32), clipped(y, 0.05)]) < CLIPPED_ABOVE
    assert clipping_score(np.r_[beep(0.3, peak), np.zeros(SR // 2, np.float32), clipped(y, 16.0)]) > CLIPPED_ABOVE
    assert clipping_score(clipped(np.r_[beep(0.3, peak), y], 16.0)) > CLIPPED_ABOVE  # the speech clipped, the beep too


def test_silence_and_nothing_score_zero():
    assert clipping_score(np.zeros(1000, dtype=np.float32)) == 0.0
    assert clipping_score(np.zeros(0, dtype=np.float32)) == 0.0


@pytest.fixture(scope="module")
def predictor():
    feature_set = get_feature_set("seed26")
    rng = np.random.default_rng(0)
    clips = [speech_like(1.0, seed) for seed in range(8)]
    X = feature_set.collate([feature_set.from_audio(y, SR) for y in clips])
    return Predictor(make_model("logreg").fit(X + rng.normal(scale=0.1, size=X.shape), ["calm", "angry"] * 4), feature_set)


def test_a_clipped_clip_gets_the_clipping_caution_and_a_clean_one_none(predictor):
    y = speech_like(seed=3)
    assert predictor.predict_audio(y, SR, segment="fixed")["caution"] is None
    result = predictor.predict_audio(clipped(y, 8.0), SR, segment="fixed")
    assert result["caution"] == CLIPPING_CAUTION and result["emotion"] is not None


def test_only_the_clipped_stretch_of_a_timeline_gets_the_caution(predictor):
    quiet, shouted = speech_like(6.0, seed=1), clipped(speech_like(6.0, seed=2), 8.0)
    result = predictor.predict_audio(np.concatenate([quiet, shouted]), SR, segment="fixed", window_s=3.0, hop_s=3.0)
    cautions = [segment["caution"] for segment in result["segments"]]
    assert cautions == [None, None, CLIPPING_CAUTION, CLIPPING_CAUTION]
    assert result["caution"] == CLIPPING_CAUTION  # half the recording is clipped: its mean score is over the threshold


def test_clipping_outranks_the_reverberation_and_the_familiarity_cautions():
    from serkit.core.reverb import REVERBERANT_BELOW
    from serkit.inference.predictor import REVERBERATION_CAUTION, _caution_fields

    dry, reverberant, unmeasured = 2 * REVERBERANT_BELOW, REVERBERANT_BELOW / 2, np.nan
    assert _caution_fields(0.001)["caution"] == CAUTION
    assert _caution_fields(0.001, (2 * CLIPPED_ABOVE, reverberant)) == {"familiarity": 0.001, "caution": CLIPPING_CAUTION}
    assert _caution_fields(None, (2 * CLIPPED_ABOVE, dry))["caution"] == CLIPPING_CAUTION
    assert _caution_fields(0.001, (0.0, reverberant))["caution"] == REVERBERATION_CAUTION
    assert _caution_fields(0.001, (0.0, unmeasured))["caution"] == CAUTION
    assert _caution_fields(None, (0.0, dry)) == {"familiarity": None, "caution": None}


@pytest.mark.skipif(not (SHARED_DATA / "ravdess-speech").is_dir(), reason="needs ../shared/data/ravdess-speech")
def test_the_bundled_model_cautions_a_shared_clip_driven_past_full_scale():
    from serkit.models.artifacts import load_model

    predictor = load_model()
    y, sr = sf.read(SHARED_DATA / "ravdess-speech" / "Actor_12" / "03-01-05-02-01-01-12.flac", dtype="float32")
    assert predictor.predict_audio(y, sr)["caution"] != CLIPPING_CAUTION
    for drive in (8.0, 16.0):
        result = predictor.predict_audio(clipped(y, drive), sr)
        assert result["caution"] == CLIPPING_CAUTION
        assert all(segment["caution"] == CLIPPING_CAUTION for segment in result["segments"])
