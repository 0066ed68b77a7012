"""serkit.evaluation: metrics against hand-computed cases, protocols, results, tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score

from serkit.evaluation import (
    Dataset,
    EvaluationResult,
    FoldWarning,
    LeakageWarning,
    compare,
    evaluate,
    fold_metrics,
    format_table,
    macro_roc_auc,
    split_indices,
)
from serkit.core.exceptions import ParameterError
from serkit.core.labels import EMOTIONS
from serkit.models import make_model

SCHEMA_RUN_KEYS = {
    "model", "protocol", "speaker_norm", "labels", "folds", "summary", "confusion",
    "confusion_normalized", "classification_report", "roc", "history", "leakage",
    "fit_seconds", "warnings", "predict_seconds", "members", "slices", "calibration",
    "uncalibrated", "temperatures", "risk_coverage",
}


def speaker_task(rng, *, n_speakers=6, per_cell=4, speaker_shift=0.0, n_emotions=4):
    """Emotion clusters (first ``n_emotions`` emotions); each speaker shifted by a random
    offset of scale ``speaker_shift``."""
    emotions = EMOTIONS[:n_emotions]
    centers = rng.normal(0, 1.0, (n_emotions, 5))
    X, y, groups = [], [], []
    for speaker in range(n_speakers):
        offset = rng.normal(0, speaker_shift, 5)
        for emotion, center in zip(emotions, centers):
            X.append(center + offset + rng.normal(0, 0.5, (per_cell, 5)))
            y += [emotion] * per_cell
            groups += [f"{speaker + 1:02d}"] * per_cell
    return np.concatenate(X), np.array(y), np.array(groups)


def test_fold_metrics_hand_computed():
    # y_true a a a a b b; P(a) = .9 .8 .7 .6 .65 .3 → predicted a a a a a b.
    labels = ["a", "b"]
    p_a = np.array([0.9, 0.8, 0.7, 0.6, 0.65, 0.3])
    metrics = fold_metrics(np.array(list("aaaabb")), np.c_[p_a, 1 - p_a], labels)
    assert metrics["accuracy"] == pytest.approx(5 / 6)
    assert metrics["unweighted_accuracy"] == pytest.approx((4 / 4 + 1 / 2) / 2)
    f1_a = 2 * (4 / 5) * 1 / (4 / 5 + 1)
    f1_b = 2 * 1 * (1 / 2) / (1 + 1 / 2)
    assert metrics["macro_f1"] == pytest.approx((f1_a + f1_b) / 2)
    # 8 (a, b) pairs; only 0.6 < 0.65 is ranked wrongly.
    assert metrics["roc_auc"] == pytest.approx(7 / 8)


def test_macro_roc_auc_matches_scikit_learn_and_skips_absent_emotions(rng):
    labels = ["a", "b", "c"]
    y = np.array(list("abc" * 10))
    proba = rng.dirichlet(np.ones(3), size=30)
    expected = roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels)
    assert macro_roc_auc(y, proba, labels) == pytest.approx(expected)
    # "c" absent: averaged over a and b only.
    mask = y != "c"
    expected_ab = np.mean([roc_auc_score(y[mask] == k, proba[mask, i]) for i, k in enumerate("ab")])
    assert macro_roc_auc(y[mask], proba[mask], labels) == pytest.approx(expected_ab)
    # One emotion only: no ROC curve at all.
    assert np.isnan(macro_roc_auc(np.array(["a", "a"]), proba[:2], labels))


@pytest.mark.parametrize("protocol", ["speaker", "loso"])
def test_grouped_folds_never_share_a_speaker(protocol, rng):
    _, y, groups = speaker_task(rng, n_speakers=7)
    splits = split_indices(protocol, y, groups, n_splits=3, random_state=1)
    assert len(splits) == (3 if protocol == "speaker" else 7)
    tested = np.concatenate([test for _, test in splits])
    assert sorted(tested) == list(range(len(y)))  # every clip tested exactly once
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])


def test_random_split_is_the_reference_80_20(rng):
    _, y, groups = speaker_task(rng, n_speakers=5, per_cell=5)
    [(train, test)] = split_indices("random", y, groups, random_state=0)
    assert len(test) == len(y) // 5
    assert [(y[test] == e).sum() for e in EMOTIONS[:4]] == [5] * 4  # stratified


def test_random_split_reports_speaker_leakage(rng):
    X, y, groups = speaker_task(rng)
    with pytest.warns(LeakageWarning, match="both sides"):
        result = evaluate("logreg", X, y, groups, protocol="random", progress=False)
    run = result.runs[0]
    assert run.leakage["shared_speakers"] == sorted(set(groups))
    assert any("not speaker-independent" in note for note in run.warnings)
    assert "warning: random split" in format_table(result)
    honest = evaluate("logreg", X, y, groups, n_splits=3, progress=False).runs[0]
    assert honest.leakage is None and not honest.warnings


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Records the speakers it was trained on; predicts uniform probabilities."""

    seen: list = []

    def fit(self, X, y, groups=None):
        SpyClassifier.seen.append(set(groups))
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def test_training_never_sees_a_test_speaker(rng):
    X, y, groups = speaker_task(rng, n_speakers=6)
    SpyClassifier.seen = []
    run = evaluate(SpyClassifier, X, y, groups, n_splits=3, progress=False).runs[0]
    for seen, fold in zip(SpyClassifier.seen, run.folds):
        assert len(seen) == 4 and not seen & set(fold["test_speakers"])
    assert run.model == "SpyClassifier"
    # Under the random protocol inner splits are random too: each clip its own group.
    SpyClassifier.seen = []
    with pytest.warns(LeakageWarning):
        run = evaluate(SpyClassifier, X, y, groups, protocol="random", progress=False).runs[0]
    assert len(SpyClassifier.seen[0]) == run.folds[0]["n_train"]


def test_result_follows_the_json_schema(rng, tmp_path):
    X, y, groups = speaker_task(rng, n_speakers=6)
    small_dense = lambda: make_model("dense", max_epochs=30, hidden_layer_sizes=(32,))  # noqa: E731
    result = evaluate(small_dense, X, y, groups, n_splits=3, progress=False,
                      corpus={"name": "synthetic"}, command="pytest")
    data = result.to_dict()
    assert {"serkit_version", "created", "command", "corpus", "feature_set", "seed", "runs",
            "reference"} <= data.keys()
    assert data["reference"] == {"dense": 0.70, "mlp": 0.72, "logreg": 0.50, "kmeans": 0.13}
    run = data["runs"][0]
    assert set(run) == SCHEMA_RUN_KEYS
    assert run["labels"] == list(EMOTIONS[:4])
    assert set(run["folds"][0]) == {"fold", "test_speakers", "n_train", "n_test", "accuracy",
                                    "unweighted_accuracy", "macro_f1", "roc_auc", "ece", "brier"}
    assert {"ece", "brier", "reliability"} <= set(run["calibration"]) and run["uncalibrated"] is None
    assert set(run["summary"]["accuracy"]) == {"mean", "std"}
    assert set(run["risk_coverage"]) == {"coverage", "confident", "familiar"}
    confusion = np.array(run["confusion"])
    assert confusion.sum() == len(y)  # pooled out-of-fold: every clip once
    np.testing.assert_allclose(np.sum(run["confusion_normalized"], axis=1), 1.0)
    assert [run["classification_report"][e]["support"] for e in run["labels"]] == [24] * 4
    assert set(run["roc"]["neutral"]) == {"fpr", "tpr", "auc"}
    assert set(run["history"][0]) == {"epoch", "loss", "val_loss", "accuracy", "val_accuracy", "val_held_out"}
    assert run["summary"]["unweighted_accuracy"]["mean"] > 0.5  # chance 0.25
    path = result.save_json(tmp_path / "out" / "results.json")
    loaded = EvaluationResult.from_dict(json.loads(path.read_text()))
    assert loaded.run("dense", "speaker").folds == result.runs[0].folds


def test_speaker_normalisation_removes_speaker_offsets(rng):
    # Large per-speaker offsets hide the emotions; per-speaker standardisation
    # (no labels) brings them back.
    X, y, groups = speaker_task(rng, n_speakers=6, speaker_shift=3.0)
    plain = evaluate("logreg", X, y, groups, n_splits=3, progress=False).runs[0]
    normed = evaluate("logreg", X, y, groups, n_splits=3, speaker_norm=True,
                      progress=False).runs[0]
    assert normed.speaker_norm
    ua = lambda run: run.summary["unweighted_accuracy"]["mean"]  # noqa: E731
    assert ua(normed) > ua(plain) + 0.15


def test_comparison_table_leads_with_speaker_ua(rng):
    X, y, groups = speaker_task(rng)
    with pytest.warns(LeakageWarning):
        result = compare(["logreg", "kmeans"], X, y, groups, protocols=["speaker", "random"],
                         n_splits=3, progress=False)
    table = format_table(result)
    header = table.splitlines()[0].split("  ")
    header = [cell.strip() for cell in header if cell.strip()]
    assert header[:2] == ["model", "UA speaker"]
    assert header[-2:] == ["acc random", "reference (random)"]
    logreg_row = next(line for line in table.splitlines() if line.startswith("logreg"))
    assert logreg_row.rstrip().endswith("50")  # the reference's logistic regression
    assert table.count("warning: random split") == 1


def test_single_model_table_has_folds_and_mean(rng):
    X, y, groups = speaker_task(rng)
    table = format_table(evaluate("logreg", X, y, groups, n_splits=3, progress=False))
    lines = table.splitlines()
    assert lines[0] == "logreg — speaker"
    assert [line.split()[0] for line in lines[3:6]] == ["1", "2", "3"]
    assert lines[6].startswith("mean ± std")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"protocol": "kfold"}, "protocol"),
        ({"n_splits": 1}, "n_splits"),
        ({"groups": None}, "speaker"),
        ({"groups": None, "protocol": "random", "speaker_norm": True}, "speaker"),
    ],
)
def test_bad_evaluation_requests_are_parameter_errors(kwargs, match, rng):
    X, y, groups = speaker_task(rng, n_speakers=6)
    arguments = {"groups": groups, **kwargs}
    with pytest.raises(ParameterError, match=match):
        evaluate("logreg", X, y, arguments.pop("groups"), progress=False, **arguments)


def test_fewer_speakers_than_folds_leaves_one_speaker_out_with_a_warning(rng):
    _, y, groups = speaker_task(rng, n_speakers=3)
    with pytest.warns(FoldWarning, match="3 speakers, fewer than 5 folds: 3 folds instead"):
        splits = split_indices("speaker", y, groups, n_splits=5)
    assert sorted(set(groups[test]).pop() for _, test in splits) == sorted(set(groups))
    assert all(len(set(groups[test])) == 1 for _, test in splits)


def test_one_speaker_says_a_speaker_independent_figure_needs_two(rng):
    _, y, groups = speaker_task(rng, n_speakers=1)
    for protocol in ("speaker", "loso"):
        with pytest.raises(ParameterError, match="needs clips of 2 or more speakers"):
            split_indices(protocol, y, groups)
    assert len(split_indices("random", y, groups)) == 1


def test_non_finite_features_are_refused(rng):
    X, y, groups = speaker_task(rng)
    X[3, 1] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        evaluate("logreg", X, y, groups, progress=False)


def test_dataset_from_feature_table():
    table = pd.DataFrame({
        "path": ["a.wav", "b.wav", "c.wav"], "speaker": ["01", "01", "02"],
        "f1": [1.0, 2.0, 3.0], "f2": [0.0, 0.5, 1.0], "label": ["calm", None, "sad"],
    })
    dataset = Dataset.from_table(table, ["f1", "f2"], {"name": "toy"})
    np.testing.assert_array_equal(dataset.X, [[1.0, 0.0], [3.0, 1.0]])
    assert dataset.y.tolist() == ["calm", "sad"] and dataset.groups.tolist() == ["01", "02"]
    assert dataset.corpus == {"n_clips": 2, "n_speakers": 2, "name": "toy"}
    with pytest.raises(ParameterError, match="f3"):
        Dataset.from_table(table, ["f3"])


class FrameMeanClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on each clip's mean frame: a stand-in frame-set model."""

    def fit(self, X, y, groups=None):
        from sklearn.linear_model import LogisticRegression

        self.model_ = LogisticRegression().fit([m.mean(axis=1) for m in X], y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba([m.mean(axis=1) for m in X])


def test_frame_sets_evaluate_as_lists_of_matrices(rng):
    X, y, groups = speaker_task(rng)
    frames = [np.repeat(row[:, None], 3 + i % 4, axis=1) for i, row in enumerate(X)]
    run = evaluate(FrameMeanClassifier, frames, y, groups, n_splits=3, progress=False).runs[0]
    assert run.summary["unweighted_accuracy"]["mean"] > 0.5
    with pytest.raises(ParameterError, match="not frames"):
        evaluate(FrameMeanClassifier, frames, y, groups, speaker_norm=True, progress=False)
