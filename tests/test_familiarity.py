"""serkit.inference.familiarity: typical features score high, strange ones low; the statistics travel in the export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from serkit.models.artifacts import add_familiarity, load_model, save_model, verify_manifest
from serkit.cli.predict import format_table
from serkit.core.exceptions import ArtifactError, ParameterError
from serkit.inference.familiarity import CAUTION, CAUTION_BELOW, fit_familiarity, from_step, step
from serkit.inference.predictor import CLIPPING_CAUTION
from serkit.features import get_feature_set
from serkit.models import fit_model, make_model


@pytest.fixture
def seed26():
    return get_feature_set("seed26")


@pytest.fixture
def training(seed26):
    rng = np.random.default_rng(0)
    y = np.repeat(["calm", "angry", "sad", "happy"], 15)
    X = rng.normal(size=(len(y), len(seed26.columns)))
    X[:, :4] += 3.0 * (y[:, None] == np.array(["calm", "angry", "sad", "happy"]))
    return X, y, np.tile(["01", "02", "03", "04", "05"], 12)


def test_new_clips_like_the_training_ones_rank_as_training_clips_do():
    rng = np.random.default_rng(1)
    stats = fit_familiarity(rng.normal(size=(400, 12)), np.repeat(np.arange(20), 20), n_components=4)
    scores = stats.scores(rng.normal(size=(400, 12)))
    # Out-of-fold reference distances: a new clip of the same kind is about uniform in [0, 1].
    assert 0.4 < scores.mean() < 0.6
    assert np.mean(scores < 0.05) < 0.1
    assert stats.scores(rng.normal(size=(50, 12)) + 4.0).max() < 0.01


def test_a_clip_off_the_training_subspace_is_strange_even_inside_its_variance():
    rng = np.random.default_rng(2)
    train = np.c_[rng.normal(size=(300, 1)) * 5, rng.normal(size=(300, 5)) * 0.01]
    stats = fit_familiarity(train, n_components=1)
    on, off = stats.scores(np.array([[3.0, 0, 0, 0, 0, 0], [0.0, 0.5, 0.5, 0.5, 0.5, 0.5]]))
    assert on > 0.3 and off == 0.0


def test_refuses_too_little_or_bad_input():
    with pytest.raises(ParameterError, match="at least 20"):
        fit_familiarity(np.zeros((5, 3)))
    with pytest.raises(ParameterError, match="finite"):
        fit_familiarity(np.full((30, 3), np.nan))
    stats = fit_familiarity(np.random.default_rng(0).normal(size=(30, 3)), n_components=2)
    with pytest.raises(ParameterError, match=r"expects \(n, 3\)"):
        stats.scores(np.zeros((2, 4)))


def _exported(stats):
    return step(stats)


def test_the_export_step_gives_back_the_same_scores():
    rng = np.random.default_rng(3)
    stats = fit_familiarity(rng.normal(size=(60, 5)), n_components=3)
    spec, arrays = _exported(stats)
    X = rng.normal(size=(10, 5)) * 2
    np.testing.assert_array_equal(from_step(json.loads(json.dumps(spec)), arrays).scores(X), stats.scores(X))


@pytest.mark.parametrize("damage", ["missing", "unsorted", "shape", "zero scale", "residual"])
def test_a_damaged_step_is_refused_with_one_line(damage):
    spec, arrays = _exported(fit_familiarity(np.random.default_rng(4).normal(size=(40, 4)), n_components=2))
    if damage == "missing":
        del arrays[spec["variances"]]
    elif damage == "unsorted":
        arrays[spec["reference"]] = arrays[spec["reference"]][::-1].copy()
    elif damage == "shape":
        arrays[spec["components"]] = np.ones((2, 3))
    elif damage == "zero scale":
        arrays[spec["scale"]][0] = 0.0
    else:
        spec["residual"] = "1"
    with pytest.raises(ArtifactError, match="inference.json: familiarity"):
        from_step(spec, arrays)


def test_saved_statistics_reach_every_prediction(tmp_path, seed26, training):
    X, y, groups = training
    model = fit_model(make_model("logreg"), X, y, groups)
    model_dir = save_model(tmp_path / "m", model, seed26, familiarity=fit_familiarity(X, groups, n_components=8))
    for runtime in ("export", "skops"):
        predictor = load_model(model_dir, runtime=runtime)
        assert predictor.familiarity is not None and predictor.describe()["familiarity"] is True
        probabilities, familiarity = predictor._predict([X[0], X[0] + 50.0])
        assert familiarity[0] > CAUTION_BELOW and familiarity[1] == 0.0
    t = np.arange(22050 * 2) / 22050
    result = predictor.predict_audio(0.3 * np.sin(2 * np.pi * 220 * t) * np.hanning(t.size), 22050)
    # Random training features are nothing like a real tone's: the caution is raised.
    assert result["familiarity"] < CAUTION_BELOW and result["caution"] == CAUTION


def test_add_familiarity_to_a_saved_model(tmp_path, seed26, training):
    X, y, groups = training
    model_dir = save_model(tmp_path / "m", fit_model(make_model("logreg"), X, y, groups), seed26)
    assert load_model(model_dir).familiarity is None
    before = load_model(model_dir).estimator.predict_proba(X)
    add_familiarity(model_dir, X, groups, n_components=8)
    verify_manifest(model_dir)
    predictor = load_model(model_dir)
    assert predictor.familiarity.reference.shape == (len(X),)
    np.testing.assert_array_equal(predictor.estimator.predict_proba(X), before)  # the export still matches
    with pytest.raises(ArtifactError, match="vector features per clip"):
        add_familiarity(model_dir, X[:, :5])


def test_the_cli_table_shows_the_caution():
    item = {"path": "noise.wav", "emotion": "angry", "probabilities": {"angry": 0.66, "disgust": 0.14},
            "familiarity": 0.004, "caution": CAUTION, "duration": 4.0}
    assert f"caution: {CAUTION} (familiarity 0%)" in format_table([item])
    # A model without familiarity statistics still cautions about clipping, without a familiarity to show.
    item.update(familiarity=None, caution=CLIPPING_CAUTION)
    assert format_table([item]).splitlines()[-1].strip() == f"caution: {CLIPPING_CAUTION}"


# -- the emotion part ------------------------------------------------------------------


@pytest.fixture
def two_emotions():
    rng = np.random.default_rng(5)
    y = np.repeat(["calm", "angry"], 100)
    X = rng.normal(size=(200, 6))
    X[:, 0] += np.where(y == "angry", 4.0, -4.0)
    return X, y, np.tile(np.arange(10), 20)


def test_with_emotions_a_clip_between_them_is_less_familiar_than_one_of_either(two_emotions):
    X, y, groups = two_emotions
    stats = fit_familiarity(X, groups, y, n_components=3)
    assert stats.discriminant.shape == (1, 6) and stats.centroids.shape == (2, 1)
    calm, between, angry = stats.scores(np.array([[-4.0, 0, 0, 0, 0, 0], [0.0, 0, 0, 0, 0, 0], [4.0, 0, 0, 0, 0, 0]]))
    assert between < 0.05 < min(calm, angry)
    # The global part alone sees nothing odd in the middle of the training cloud.
    assert fit_familiarity(X, groups, n_components=3).scores(np.zeros((1, 6)))[0] > 0.5
    assert stats.scores(X[:1] + 40.0)[0] == 0.0


def test_one_emotion_or_unpaired_emotions_fall_back_to_the_global_part(two_emotions):
    X, _, groups = two_emotions
    assert fit_familiarity(X, groups, np.full(len(X), "calm")).discriminant is None
    with pytest.raises(ParameterError, match="emotions for 200 feature rows"):
        fit_familiarity(X, groups, np.array(["calm"]))


def test_distances_only_without_a_reference(two_emotions):
    X, y, _ = two_emotions
    stats = fit_familiarity(X, y=y, n_folds=0)
    assert stats.reference.shape == (0,) and stats.distances(X[:3]).shape == (3,)
    with pytest.raises(ParameterError, match="distances only"):
        stats.scores(X[:3])


def test_the_emotion_part_travels_in_the_export(two_emotions):
    X, y, groups = two_emotions
    stats = fit_familiarity(X, groups, y, n_components=3)
    spec, arrays = step(stats)
    assert {"discriminant", "centroids", "weight"} <= set(spec)
    probe = np.random.default_rng(6).normal(size=(10, 6)) * 3
    np.testing.assert_array_equal(from_step(json.loads(json.dumps(spec)), arrays).scores(probe), stats.scores(probe))


@pytest.mark.parametrize("damage", ["no weight", "weight", "centroids shape", "too many emotions", "width"])
def test_a_damaged_emotion_part_is_refused_with_one_line(two_emotions, damage):
    X, y, groups = two_emotions
    spec, arrays = step(fit_familiarity(X, groups, y, n_components=3))
    if damage == "no weight":
        del spec["weight"]
    elif damage == "weight":
        spec["weight"] = float("inf")
    elif damage == "centroids shape":
        arrays[spec["centroids"]] = np.ones((2, 2))
    elif damage == "too many emotions":
        arrays[spec["centroids"]] = np.ones((100, 1))
    else:
        arrays[spec["discriminant"]] = np.ones((1, 5))
    with pytest.raises(ArtifactError, match="inference.json: familiarity"):
        from_step(spec, arrays)


def test_a_trained_model_carries_the_emotion_part(tmp_path, seed26, training):
    from serkit.training import training_familiarity

    X, y, groups = training
    stats = training_familiarity(seed26, X, groups, y=y)
    model_dir = save_model(tmp_path / "m", fit_model(make_model("logreg"), X, y, groups), seed26, familiarity=stats)
    loaded = load_model(model_dir).familiarity
    assert loaded.centroids.shape == (4, 3)
    np.testing.assert_array_equal(loaded.scores(X), stats.scores(X))


def test_evaluation_measures_the_risk_coverage_curves(training):
    from serkit.evaluation import evaluate
    from serkit.evaluation.protocols import fold_familiarity

    X, y, groups = training
    run = evaluate("logreg", X, y, groups, n_splits=5, progress=False).runs[0]
    curves = run.risk_coverage
    assert curves["coverage"][0] == 1.0 and len(curves["familiar"]) == len(curves["confident"]) == 10
    pooled = np.trace(np.asarray(run.confusion)) / np.sum(run.confusion)  # every clip kept: the accuracy
    assert curves["familiar"][0] == pytest.approx(pooled) and curves["confident"][0] == pytest.approx(pooled)
    # Frame sets (a list of matrices) and too few clips have no familiarity.
    assert fold_familiarity([X[:5]] * 30, y[:30], None, [X[:5]]) is None
    assert fold_familiarity(X[:10], y[:10], None, X[:2]) is None
