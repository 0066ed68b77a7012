"""Bundles of feature sets and the soft-voting ensemble (the CNN beside a classical model)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from conftest import make_voice_like
from serkit.core.audio import load_audio
from serkit.corpora import read_corpus
from serkit.evaluation import EvaluationResult, evaluate, format_table
from serkit.core.exceptions import ParameterError
from serkit.features import extract_corpus, get_feature_set
from serkit.features.bundle import BundleFeatures, FeatureBundle
from serkit.models import fit_model, make_model
from serkit.models.ensemble import SoftVoteClassifier

TINY_CNN = {"channels": (4, 8), "n_threads": 1, "crop_frames": 64, "batch_size": 8, "max_epochs": 3,
            "validation_size": 0}
N_MELS = 16
EMOTION_CODES = {"03": "happy", "04": "sad", "05": "angry"}


def voice_corpus(root, *, n_actors=4, per_emotion=2):
    """RAVDESS-named clips: each emotion its own pitch and loudness, each actor shifted a little."""
    for actor in range(1, n_actors + 1):
        for index, code in enumerate(EMOTION_CODES):
            for take in range(1, per_emotion + 1):
                name = root / f"Actor_{actor:02d}" / f"03-01-{code}-01-01-0{take}-{actor:02d}.wav"
                name.parent.mkdir(parents=True, exist_ok=True)
                y = make_voice_like(sr=16000, duration_s=1.0, f0_hz=110 + 60 * index + 4 * actor, seed=actor * 10 + take)
                sf.write(name, y * (0.5 + 0.5 * index), 16000)
    return root


@pytest.fixture(scope="module")
def bundle_dataset(tmp_path_factory):
    root = voice_corpus(tmp_path_factory.mktemp("corpus"))
    bundle = get_feature_set("logmel,seed26", part_params={"logmel": {"n_mels": N_MELS}})
    extraction = extract_corpus(read_corpus("ravdess", root), bundle, n_jobs=1,
                                cache_dir=tmp_path_factory.mktemp("cache"), progress=False)
    return root, bundle, extraction


def test_bundle_name_parts_and_bad_combinations():
    bundle = get_feature_set("logmel,functionals+egemaps")
    assert isinstance(bundle, FeatureBundle) and bundle.kind == "bundle"
    assert bundle.name == "logmel,functionals+egemaps"
    assert get_feature_set(bundle.name, **bundle.params()).params() == bundle.params()
    with pytest.raises(ParameterError, match="two or more"):
        FeatureBundle(parts=("logmel",))
    with pytest.raises(ParameterError, match="at most one frame set and one vector set"):
        get_feature_set("seed26,functionals")
    with pytest.raises(ParameterError, match="unknown feature set"):
        get_feature_set("logmel,nope")
    with pytest.raises(ParameterError, match="not parts"):
        FeatureBundle(parts=("logmel", "seed26"), part_params={"functionals": {}})


def test_bundle_features_index_like_an_array_and_give_each_kind_its_part():
    X = BundleFeatures({"m": [np.full((2, 3), i, dtype=float) for i in range(4)], "v": np.arange(8.0).reshape(4, 2)},
                       {"m": "frames", "v": "vector"})
    subset = X[np.array([3, 1])]
    assert len(subset) == 2 and subset.of_kind("frames")[0][0, 0] == 3
    np.testing.assert_array_equal(subset.of_kind("vector"), [[6, 7], [2, 3]])
    assert len(X[1:3]) == 2
    with pytest.raises(ParameterError, match="0 bundle"):
        X.of_kind("bundle")
    with pytest.raises(ParameterError, match="different numbers of clips"):
        BundleFeatures({"v": np.zeros((3, 2)), "m": [np.zeros((2, 2))]}, {"v": "vector", "m": "frames"})
    X.parts["v"][0, 0] = np.nan
    with pytest.raises(ParameterError, match="'v' holds NaN"):
        X.check_finite()


def test_bundle_from_audio_equals_each_part_alone():
    y = make_voice_like(sr=22050, duration_s=1.0)
    bundle = get_feature_set("logmel,seed26")
    assert bundle.sr == 22050
    features = bundle.from_audio(y, 22050)
    np.testing.assert_array_equal(features["logmel"], get_feature_set("logmel").from_audio(y, 22050))
    np.testing.assert_array_equal(features["seed26"], get_feature_set("seed26").from_audio(y, 22050))


def test_bundle_extraction_joins_cached_parts_and_reports_failures_once(bundle_dataset, tmp_path):
    root, bundle, extraction = bundle_dataset
    assert len(extraction.table) == 24 and len(extraction.bundle) == 24
    assert extraction.bundle.of_kind("vector").shape == (24, 26)
    assert extraction.bundle.of_kind("frames")[0].shape[0] == N_MELS
    broken = root / "Actor_01" / "03-01-05-02-01-01-01.wav"
    broken.write_text("not audio")
    try:
        again = extract_corpus(read_corpus("ravdess", root), bundle, n_jobs=1, cache_dir=tmp_path, progress=False)
    finally:
        broken.unlink()
    assert [path for path, _ in again.failures] == ["Actor_01/03-01-05-02-01-01-01.wav"]
    assert list(again.table["path"]) == list(extraction.table["path"])


def test_vector_ensemble_is_the_mean_of_its_members(rng):
    X = np.r_[rng.normal(-1, 1, (30, 4)), rng.normal(1, 1, (30, 4))]
    y = np.array(["sad"] * 30 + ["happy"] * 30)
    vote = make_model("ensemble", members="logreg,kmeans").fit(X, y)
    members = [make_model(name).fit(X, y) for name in ("logreg", "kmeans")]
    expected = np.mean([m.predict_proba(X) for m in members], axis=0)
    np.testing.assert_allclose(vote.predict_proba(X), expected)
    assert [name for name, _ in vote.members_] == ["logreg", "kmeans"]
    weighted = make_model("ensemble", members="logreg,kmeans", weights=(3, 1)).fit(X, y)
    np.testing.assert_allclose(weighted.predict_proba(X), 0.75 * members[0].predict_proba(X) + 0.25 * members[1].predict_proba(X))


def test_repeated_member_gets_another_seed(rng):
    X, y = rng.normal(size=(40, 3)), np.repeat(["a", "b"], 20)
    vote = SoftVoteClassifier(members=[("logreg", {"C": 0.5}), "logreg"]).fit(X, y)
    (_, first), (_, second) = vote.members_
    assert first[-1].random_state == 0 and second[-1].random_state == 1


@pytest.mark.parametrize(
    ("members", "X", "message"),
    [
        ("cnn", np.zeros((4, 3)), "takes frames features, not vector"),
        (None, [np.zeros((16, 20))] * 4, "no default members"),
        ("logreg,ensemble", np.zeros((4, 3)), "own member"),
        ([("logreg", "C=1")], np.zeros((4, 3)), "name or a \\(name, params\\) pair"),
    ],
)
def test_ensemble_refuses_members_that_cannot_take_the_input(members, X, message):
    with pytest.raises(ParameterError, match=message):
        SoftVoteClassifier(members=members).fit(X, ["a", "b"] * (len(X) // 2))


def test_bad_weights_and_unknown_members_are_parameter_errors(rng):
    with pytest.raises(ParameterError, match="not a member model"):
        make_model("ensemble", members=("svm", "nope"))
    with pytest.raises(ParameterError, match="weights"):
        make_model("ensemble", members="logreg", weights=(1, 1)).fit(rng.normal(size=(8, 2)), ["a", "b"] * 4)


def test_cnn_and_classical_ensemble_on_a_bundle_saves_and_predicts_audio(bundle_dataset, tmp_path):
    from serkit.models.artifacts import load_model, save_model
    from serkit.evaluation import dataset_from_extraction

    root, bundle, extraction = bundle_dataset
    dataset, _ = dataset_from_extraction(read_corpus("ravdess", root), extraction)
    vote = make_model("ensemble", members=[("cnn", TINY_CNN), "logreg"])
    fit_model(vote, dataset.X, dataset.y, dataset.groups)
    members = vote.member_probabilities(dataset.X)
    cnn_proba, logreg_proba = members["cnn"], members["logreg"]
    np.testing.assert_allclose(vote.predict_proba(dataset.X), (cnn_proba + logreg_proba) / 2)
    assert vote.history_ and len(vote.history_) == 3  # the CNN's curve

    predictor = load_model(save_model(tmp_path / "model", vote, bundle))
    assert predictor.feature_set.name == "logmel,seed26"
    clip = root / extraction.table["path"][0]
    result = predictor.predict_file(clip)
    assert result["emotion"] in EMOTION_CODES.values()
    y, sr = load_audio(clip, sr=bundle.sr)
    expected = dict(zip(vote.classes_, vote.predict_proba(bundle.collate([bundle.from_audio(y, sr)]))[0]))
    assert result["probabilities"] == pytest.approx(expected, abs=1e-5)


def test_evaluate_runs_speaker_folds_on_a_bundle(bundle_dataset):
    from serkit.evaluation import dataset_from_extraction

    root, _, extraction = bundle_dataset
    dataset, fs = dataset_from_extraction(read_corpus("ravdess", root), extraction)
    result = evaluate(lambda: make_model("ensemble", members=[("cnn", TINY_CNN), "logreg"]),
                      dataset.X, dataset.y, dataset.groups, n_splits=2, progress=False, feature_set=fs)
    run = result.runs[0]
    assert run.model == "ensemble" and len(run.folds) == 2
    assert all(set(fold["test_speakers"]).isdisjoint(set(other["test_speakers"]))
               for fold in run.folds for other in run.folds if fold is not other)
    assert run.history is not None
    assert set(run.members) == {"cnn", "logreg"} and len(run.members["cnn"]["folds"]) == 2
    assert "cnn alone" in format_table(result) and "logreg alone" in format_table(result)
    assert EvaluationResult.from_dict(result.to_dict()).runs[0].members["logreg"]["summary"] == run.members["logreg"]["summary"]
    with pytest.raises(ParameterError, match="speaker_norm applies to vector"):
        evaluate("ensemble", dataset.X, dataset.y, dataset.groups, speaker_norm=True, progress=False)


def test_previous_default_is_the_cnn_beside_logreg_tuned_by_name():
    from serkit.models.artifacts import BUNDLED_MODELS_DIR, load_model
    from serkit.core.labels import EMOTIONS

    predictor = load_model("cnn-ensemble-v1")  # by name: the default before serkit 0.2
    model_dir = BUNDLED_MODELS_DIR / "cnn-ensemble-v1"
    assert predictor.feature_set.name == "logmel,functionals"
    # Trained on clips as recorded: loaded with level normalisation off in both parts.
    assert all(part.level is None for part in predictor.feature_set.part_sets())
    assert predictor.metadata["model"] == "ensemble"
    assert [name for name, _ in load_model("cnn-ensemble-v1", runtime="skops").estimator.members_] == ["cnn", "logreg-tuned"]
    assert (model_dir / "LICENSE-DATA.md").read_text().count("CC BY-NC-SA 4.0") >= 1
    metrics = predictor.metadata["metrics"]
    assert metrics["summary"]["unweighted_accuracy"]["mean"] > 0.58  # speaker-grouped CV
    assert set(metrics["members"]) == {"cnn", "logreg-tuned"}
    assert (model_dir / "model.skops").stat().st_size < 4_000_000
    answer = predictor.predict_audio(make_voice_like(sr=16000, duration_s=3.0), 16000)
    assert set(answer["probabilities"]) == set(EMOTIONS)
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0)
