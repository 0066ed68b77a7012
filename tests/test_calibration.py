"""Calibration metrics with known answers, and temperature scaling fitted on training speakers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from serkit.evaluation import brier_score, evaluate, expected_calibration_error, format_table, reliability_bins
from serkit.core.exceptions import ParameterError
from serkit.models import make_model, model_name
from serkit.models.calibration import (
    TemperatureScaled,
    fit_shift_temperature,
    fit_temperature,
    scale_probabilities,
    shift_temperature,
)

LABELS = ["angry", "calm", "sad"]


def draw_labels(proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One label per row, drawn from that row's probabilities: perfectly calibrated."""
    index = (rng.random((len(proba), 1)) > proba.cumsum(axis=1)).sum(axis=1)
    return np.asarray(LABELS)[np.minimum(index, len(LABELS) - 1)]


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_perfectly_calibrated_probabilities_have_an_ece_near_zero():
    rng = np.random.default_rng(0)
    proba = softmax(rng.normal(0, 2, (20000, 3)))
    assert expected_calibration_error(draw_labels(proba, rng), proba, LABELS) < 0.01


def test_a_known_overconfidence_gives_its_ece_and_brier_score():
    # 80 % sure every time, right 60 % of the time: ECE 0.2.
    proba = np.tile([0.8, 0.1, 0.1], (10, 1))
    y = np.array(["angry"] * 6 + ["calm"] * 4)
    assert expected_calibration_error(y, proba, LABELS) == pytest.approx(0.2)
    # Right: 0.2² + 0.1² + 0.1² = 0.06; wrong: 0.8² + 0.9² + 0.1² = 1.46.
    assert brier_score(y, proba, LABELS) == pytest.approx(0.6 * 0.06 + 0.4 * 1.46)


def test_ece_weights_each_bin_by_its_clips():
    proba = np.array([[1.0, 0, 0]] * 3 + [[0.5, 0.5, 0]])  # bins (14/15, 1] and (7/15, 8/15]
    y = np.array(["angry", "angry", "angry", "sad"])
    assert expected_calibration_error(y, proba, LABELS) == pytest.approx(0.25 * 0.5)
    bins = reliability_bins(y, proba, LABELS)
    assert sum(bins["count"]) == 4 and bins["count"][-1] == 3 and bins["accuracy"][-1] == 1.0
    assert bins["accuracy"][7] == 0.0 and bins["confidence"][0] is None and len(bins["edges"]) == 16


@pytest.mark.parametrize("true_temperature", [0.5, 2.5])
def test_fit_temperature_recovers_a_known_temperature(true_temperature):
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (8000, 3))
    y = draw_labels(softmax(logits / true_temperature), rng)
    y_index = np.searchsorted(LABELS, y)
    assert fit_temperature(logits, y_index) == pytest.approx(true_temperature, rel=0.08)


def test_a_temperature_growing_with_the_shift_calibrates_both_the_near_and_the_far_clips():
    # Typical clips (shift 0) need T 1, far ones (shift 2) T 4: one T cannot serve both.
    rng = np.random.default_rng(0)
    shift = np.repeat([0.0, 2.0], 6000)
    logits = rng.normal(0, 3, (12000, 3))
    y = draw_labels(softmax(logits / np.where(shift > 0, 4.0, 1.0)[:, None]), rng)
    y_index = np.searchsorted(LABELS, y)
    a, b = fit_shift_temperature(logits, y_index, shift)
    near, far = shift_temperature([0.0, 2.0], a, b)
    assert near == pytest.approx(1.0, abs=0.1) and far == pytest.approx(4.0, rel=0.1)
    proba = softmax(logits)
    per_clip = scale_probabilities(proba, shift_temperature(shift, a, b)[:, None])
    single = scale_probabilities(proba, fit_temperature(np.log(proba), y_index))
    for rows in (shift == 0, shift > 0):
        assert expected_calibration_error(y[rows], per_clip[rows], LABELS) < 0.03
        assert expected_calibration_error(y[rows], single[rows], LABELS) > 0.05


def test_scaling_never_changes_the_most_probable_class():
    rng = np.random.default_rng(2)
    proba = softmax(rng.normal(0, 2, (200, 3)))
    for temperature in (0.3, 1.0, 4.0):
        scaled = scale_probabilities(proba, temperature)
        assert np.allclose(scaled.sum(axis=1), 1.0)
        assert np.array_equal(scaled.argmax(axis=1), proba.argmax(axis=1))


def overconfident_data(rng: np.random.Generator, n_per_speaker: int = 30, n_speakers: int = 8):
    """Noisy labels a lightly regularised logistic regression is too sure about."""
    n = n_per_speaker * n_speakers
    X = rng.normal(size=(n, 20))
    y = np.where(X[:, 0] + 1.5 * rng.normal(size=n) > 0, "angry", "calm")
    groups = np.repeat([f"s{i}" for i in range(n_speakers)], n_per_speaker)
    return X, y, groups


def test_temperature_is_fitted_on_training_speakers_and_softens_an_overconfident_model():
    X, y, groups = overconfident_data(np.random.default_rng(3))
    model = make_model("logreg", calibrate=True, C=100.0).fit(X, y, groups)
    assert isinstance(model, TemperatureScaled) and model_name(model) == "logreg+calibrated"
    assert model.temperature_ > 1.5
    assert model.inner_nll_[1] < model.inner_nll_[0]
    raw = make_model("logreg", C=100.0).fit(X, y)
    # The shipped model is the plain one refitted on every training clip, only its probabilities scaled.
    assert np.allclose(model.uncalibrated_proba(X), raw.predict_proba(X))
    assert np.array_equal(model.predict(X), raw.predict(X))
    assert clone(model).get_params() == model.get_params()


def test_calibration_needs_speakers():
    X, y, _ = overconfident_data(np.random.default_rng(4))
    with pytest.raises(ParameterError, match="groups"):
        make_model("logreg", calibrate=True).fit(X, y)
    with pytest.raises(ParameterError, match="n_inner"):
        TemperatureScaled(model="logreg", n_inner=1).fit(X, y, np.repeat(["a", "b"], len(y) // 2))
    with pytest.raises(ParameterError, match="2 training speakers"):
        TemperatureScaled(model="logreg").fit(X, y, np.repeat("a", len(y)))
    # Fewer training speakers than inner folds: one fold per speaker.
    assert TemperatureScaled(model="logreg").fit(X, y, np.repeat(["a", "b", "c"], len(y) // 3)).temperature_ > 0


def test_evaluate_reports_calibration_before_and_after():
    X, y, groups = overconfident_data(np.random.default_rng(5), n_speakers=10)
    run = evaluate("logreg+calibrated", X, y, groups, n_splits=5, progress=False).runs[0]
    assert run.model == "logreg+calibrated" and len(run.temperatures) == 5
    after, before = run.summary["ece"]["mean"], run.uncalibrated["summary"]["ece"]["mean"]
    assert 0 <= after and 0 <= before and run.calibration["ece"] >= 0
    assert run.summary["brier"]["mean"] <= run.uncalibrated["summary"]["brier"]["mean"] + 0.02
    assert sum(run.calibration["reliability"]["count"]) == len(y)
    table = format_table(evaluate("logreg+calibrated", X, y, groups, n_splits=5, progress=False))
    assert "ECE" in table and "before calibration" in table and "pooled out-of-fold: ECE" in table


def test_a_calibrated_ensemble_scales_the_vote_and_keeps_its_members():
    X, y, groups = overconfident_data(np.random.default_rng(6), n_speakers=10)
    model = make_model("ensemble", calibrate=True, members=("logreg", "svm"))
    run = evaluate(lambda: model, X, y, groups, n_splits=5, progress=False).runs[0]
    assert run.temperatures and set(run.members) == {"logreg", "svm"}
    fitted = clone(model).fit(X, y, groups)
    vote = fitted.estimator_.predict_proba(X)
    assert np.allclose(fitted.predict_proba(X), scale_probabilities(vote, fitted.temperature_))


def test_report_draws_the_reliability_of_a_calibrated_model():
    import json

    from serkit.report import build_report, reliability_figure

    X, y, groups = overconfident_data(np.random.default_rng(7), n_speakers=10)
    results = json.loads(json.dumps(evaluate("logreg+calibrated", X, y, groups, n_splits=5, progress=False).to_dict()))
    html = build_report(results)
    section = html.split('id="model-logreg+calibrated"')[1]
    assert "<h4>Calibration</h4>" in section and "before temperature scaling" in section
    assert "logreg+calibrated reliability diagram" in section
    run = results["runs"][0]
    figure = reliability_figure(run["calibration"]["reliability"], before=run["uncalibrated"]["calibration"]["reliability"])
    assert len(figure.axes) == 2 and figure.axes[1].get_ylabel() == "Clips"
    with pytest.raises(ParameterError, match="edges"):
        reliability_figure({"edges": [0, 1], "count": [], "confidence": [], "accuracy": []})
