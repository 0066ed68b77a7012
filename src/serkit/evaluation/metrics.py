"""The scores of predicted probabilities: UA, accuracy, macro F1, ROC AUC, ECE and Brier score.

Per fold (:func:`fold_metrics`), their mean ± std over folds (:func:`fold_summary`)
and, pooled over the out-of-fold predictions, the classification report, confusion
matrix, ROC curves and reliability bins (:func:`pooled_metrics`).

Examples
--------
>>> import numpy as np
>>> proba = np.array([[0.9, 0.1], [0.2, 0.8]])
>>> fold_metrics(np.array(["a", "b"]), proba, ["a", "b"])["unweighted_accuracy"]
1.0
"""

from __future__ import annotations

import warnings

import numpy as np

from serkit.core.exceptions import ParameterError

METRICS = ("accuracy", "unweighted_accuracy", "macro_f1", "roc_auc")

CALIBRATION_METRICS = ("ece", "brier")
"""Per fold and pooled beside :data:`METRICS`: lower is better, 0 is perfect."""

CALIBRATION_BINS = 15
"""Equal-width bins of the top probability for the ECE and the reliability diagram."""

COVERAGES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
"""Shares of clips kept on a risk-coverage curve (:func:`risk_coverage`)."""


def risk_coverage(correct, score, coverages=COVERAGES) -> list[float]:
    """Accuracy of the share of clips with the highest ``score``, per coverage (ties in order).

    >>> risk_coverage(np.array([1, 0, 1, 0]), np.array([0.9, 0.1, 0.8, 0.2]), (1.0, 0.5))
    [0.5, 1.0]
    """
    correct, score = np.asarray(correct, dtype=float), np.asarray(score, dtype=float)
    if correct.shape != score.shape or correct.ndim != 1 or not len(correct):
        raise ParameterError(f"risk-coverage needs as many scores as clips, got {correct.shape} and {score.shape}")
    order = np.argsort(-score, kind="stable")
    return [float(np.mean(correct[order[: max(1, int(round(c * len(order))))]])) for c in coverages]


def macro_roc_auc(y_true, proba, labels) -> float:
    """One-vs-rest ROC AUC averaged over the emotions present in ``y_true``.

    Emotions with no positive (or no negative) clip in ``y_true`` have no ROC curve
    and are left out of the average (NaN when none is left). With every emotion
    present this equals ``roc_auc_score(..., multi_class="ovr", average="macro")``.
    """
    from sklearn.metrics import roc_auc_score

    y_true = np.asarray(y_true)
    aucs = [
        roc_auc_score(y_true == label, proba[:, i])
        for i, label in enumerate(labels)
        if 0 < np.sum(y_true == label) < len(y_true)
    ]
    return float(np.mean(aucs)) if aucs else float("nan")


def _top_probability_bins(y_true, proba, labels, n_bins: int):
    """Bin of each clip's top probability (``(lo, hi]`` of ``n_bins`` equal widths), that
    probability, and whether the top emotion was right."""
    proba = np.asarray(proba, dtype=np.float64)
    confidence = proba.max(axis=1)
    correct = np.asarray(labels)[np.argmax(proba, axis=1)] == np.asarray(y_true)
    bins = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    return bins, confidence, correct


def expected_calibration_error(y_true, proba, labels, *, n_bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error: the clip-weighted mean gap between accuracy and top probability per bin.

    Parameters
    ----------
    y_true : array-like [shape=(n,)]
    proba : np.ndarray [shape=(n, len(labels))]
        Columns in ``labels`` order.
    labels : sequence of str
    n_bins : int > 0
        Equal-width bins of the top probability over [0, 1].

    Examples
    --------
    >>> labels = ["calm", "sad"]
    >>> proba = np.array([[0.9, 0.1]] * 10)  # 90 % sure, right 7 times in 10
    >>> y = np.array(["calm"] * 7 + ["sad"] * 3)
    >>> round(expected_calibration_error(y, proba, labels), 3)
    0.2
    """
    bins, confidence, correct = _top_probability_bins(y_true, proba, labels, n_bins)
    gaps = [abs(np.mean(correct[bins == b]) - np.mean(confidence[bins == b])) * np.sum(bins == b)
            for b in np.unique(bins)]
    return float(np.sum(gaps) / len(bins)) if len(bins) else float("nan")


def brier_score(y_true, proba, labels) -> float:
    """Multi-class Brier score: mean over clips of the squared distance to the one-hot truth (0 … 2).

    >>> round(brier_score(["calm", "sad"], np.array([[1.0, 0.0], [0.5, 0.5]]), ["calm", "sad"]), 3)
    0.25
    """
    proba = np.asarray(proba, dtype=np.float64)
    truth = np.asarray(y_true)[:, None] == np.asarray(labels)[None, :]
    return float(np.mean(np.sum((proba - truth) ** 2, axis=1)))


def reliability_bins(y_true, proba, labels, *, n_bins: int = CALIBRATION_BINS) -> dict:
    """What a reliability diagram draws: per bin of the top probability, the clips in it,
    their mean top probability and their accuracy (``None`` for an empty bin)."""
    bins, confidence, correct = _top_probability_bins(y_true, proba, labels, n_bins)
    count = np.bincount(bins, minlength=n_bins)

    def per_bin(values):
        return [round(float(np.mean(values[bins == b])), 5) if count[b] else None for b in range(n_bins)]

    return {"edges": _rounded(np.linspace(0.0, 1.0, n_bins + 1)), "count": count.tolist(),
            "confidence": per_bin(confidence), "accuracy": per_bin(correct.astype(float))}


def calibration_metrics(y_true, proba, labels) -> dict:
    """ECE and Brier score of ``proba`` (columns in ``labels`` order)."""
    return {"ece": expected_calibration_error(y_true, proba, labels), "brier": brier_score(y_true, proba, labels)}


def fold_metrics(y_true, proba, labels) -> dict:
    """Accuracy, unweighted accuracy, macro F1, macro ROC AUC, ECE and Brier score of one fold.

    The predicted emotion is the most probable one (what ``serkit predict`` reports).
    ``proba`` columns follow ``labels``.
    """
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    labels = np.asarray(labels)
    y_pred = labels[np.argmax(proba, axis=1)]
    with warnings.catch_warnings():
        # A fold may lack an emotion in its predictions; that recall/F1 is 0, not a warning.
        warnings.simplefilter("ignore")
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "unweighted_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro",
                                       zero_division=0)),
            "roc_auc": macro_roc_auc(y_true, proba, labels),
            **calibration_metrics(y_true, proba, labels),
        }


def pooled_metrics(y_true, proba, labels) -> dict:
    from sklearn.metrics import auc, classification_report, confusion_matrix, roc_curve

    labels = list(labels)
    y_pred = np.asarray(labels)[np.argmax(proba, axis=1)]
    counts = confusion_matrix(y_true, y_pred, labels=labels)
    row_totals = counts.sum(axis=1, keepdims=True)
    normalized = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)
    report = classification_report(
        y_true, y_pred, labels=labels, output_dict=True, zero_division=0
    )
    roc = {}
    for i, label in enumerate(labels):
        positive = np.asarray(y_true) == label
        if 0 < positive.sum() < len(positive):
            fpr, tpr, _ = roc_curve(positive, proba[:, i])
            roc[label] = {"fpr": _rounded(fpr), "tpr": _rounded(tpr),
                          "auc": float(auc(fpr, tpr))}
    return {
        "confusion": counts.tolist(),
        "confusion_normalized": _rounded(normalized),
        "classification_report": {
            label: {
                "precision": float(report[label]["precision"]),
                "recall": float(report[label]["recall"]),
                "f1": float(report[label]["f1-score"]),
                "support": int(report[label]["support"]),
            }
            for label in labels
        },
        "roc": roc,
        "calibration": pooled_calibration(y_true, proba, labels),
    }


def pooled_calibration(y_true, proba, labels) -> dict:
    return {**calibration_metrics(y_true, proba, labels), "reliability": reliability_bins(y_true, proba, labels)}


def _rounded(array) -> list:
    return np.round(np.asarray(array, dtype=float), 5).tolist()


def fold_summary(folds: list[dict]) -> dict:
    return {
        metric: {
            "mean": float(np.nanmean([f[metric] for f in folds])),
            "std": float(np.nanstd([f[metric] for f in folds])),
        }
        for metric in (*METRICS, *CALIBRATION_METRICS)
        if all(metric in f for f in folds)
    }
