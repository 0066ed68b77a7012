"""The bundled default model: what it is, what it records, and that a clip's level does not
change its answer."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_voice_like
from serkit.models.artifacts import DEFAULT_MODEL_DIR, bundled_models, load_model
from serkit.core.labels import EMOTIONS


@pytest.fixture(scope="module")
def predictor():
    return load_model()


def test_default_is_the_multi_corpus_adapted_model(predictor):
    assert predictor.feature_set.name == "whisper-speech+functionals"  # every hidden state, pooled over the speech
    assert predictor.metadata["model"] == "logreg"
    corpora = predictor.metadata["corpus"]["corpora"]
    assert set(corpora) == {"ravdess", "nemo"}
    assert set(predictor.emotions) == set(EMOTIONS)  # the union: nEMO's six are among RAVDESS's eight
    # Dual path: a clip alone gets the plain head; the adapted head opens with the pooled training statistics.
    adaptation = predictor.adaptation
    assert adaptation["train_grain"] == "corpus" and adaptation["min_clips"] == 16
    copies = (predictor.metadata.get("augment") or {}).get("n_copies", 0)  # corrupted copies join the pooled statistics
    # three copies of every clip: one corrupted, one with new pauses, one on a gate's floor (utterances cut from recordings)
    assert {part["mix"] for part in predictor.metadata["augment"]["corpora"].values()} == {"white,pink,babble,reverb,telephone,mp3,gain;pause;gate"}
    assert copies == 3 * sum(part["n_clips"] for part in corpora.values())
    assert adaptation["statistics"]["n_clips"] == sum(part["n_clips"] for part in corpora.values()) + copies
    assert adaptation["default_head"] == "plain" == predictor.estimator.default_head
    assert set(adaptation["heads"]) == {"plain", "adapted"} and predictor.default_adaptation == "none"
    licence = (DEFAULT_MODEL_DIR / "LICENSE-DATA.md").read_text()
    assert "CC BY-NC-SA 4.0" in licence and "RAVDESS" in licence and "nEMO" in licence


def test_the_ravdess_only_model_stays_loadable_by_name():
    predictor = load_model("whisper-ravdess-v1")
    assert predictor.metadata["model"] == "logreg-tuned+calibrated"
    assert predictor.metadata["metrics"]["summary"]["unweighted_accuracy"]["mean"] > 0.68
    assert predictor.adaptation is None


def test_the_multi_corpus_model_on_the_encoder_output_stays_loadable_by_name():
    predictor = load_model("whisper-multicorpus-v1")
    assert predictor.feature_set.name == "whisper+functionals" and predictor.adaptation["default_head"] == "plain"


def test_the_model_pooling_every_frame_stays_loadable_by_name():
    predictor = load_model("whisper-layers-v1")
    assert predictor.feature_set.name == "whisper-layers+functionals" and predictor.adaptation["default_head"] == "plain"


def test_default_records_its_encoder(predictor):
    from serkit.features.whisper import BUNDLED_REQUIREMENT, BUNDLED_SHA256

    (encoder,) = predictor.metadata["encoders"]
    assert encoder["package"] == BUNDLED_REQUIREMENT
    assert encoder["sha256"] == BUNDLED_SHA256
    assert encoder["licence"].startswith("MIT")


def test_bundled_models_load_by_name():
    assert bundled_models()[0] == "default"
    assert "cnn-ensemble-v1" in bundled_models()


def test_a_dc_offset_does_not_move_the_answer(predictor):
    # Before the offset was taken out, 0.005 of full scale (-46 dBFS) changed the answer for 10 % of
    # shared clips and their median familiarity fell from 0.77 to 0.41 (bench_audio_input.py --parts dc).
    y = make_voice_like(sr=16000, duration_s=3.0, seed=5)
    clean = predictor.predict_audio(y, 16000)
    for offset in (0.005, 0.05):
        shifted = predictor.predict_audio(y + np.float32(offset), 16000)
        assert shifted["emotion"] == clean["emotion"]
        for emotion in EMOTIONS:
            assert shifted["probabilities"][emotion] == pytest.approx(clean["probabilities"][emotion], abs=0.01)
        assert shifted["familiarity"] == pytest.approx(clean["familiarity"], abs=0.02)


@pytest.mark.parametrize("sr", [16000, 44100])
def test_the_same_clip_at_any_level_gets_the_same_answer(predictor, sr):
    y = make_voice_like(sr=sr, duration_s=3.0)
    answers = []
    for peak_dbfs in (-40.0, -20.0, -1.0):
        scaled = (y * 10 ** (peak_dbfs / 20) / np.max(np.abs(y))).astype(np.float32)
        answers.append(predictor.predict_audio(scaled, sr))
    emotions = {answer["emotion"] for answer in answers}
    assert len(emotions) == 1
    for answer in answers[1:]:
        for emotion in EMOTIONS:
            assert answer["probabilities"][emotion] == pytest.approx(answers[0]["probabilities"][emotion], abs=0.05)
