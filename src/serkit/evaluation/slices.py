"""Slices: how a model does for each group of clips (gender, intensity, corpus, speaker …).

The bias check: the out-of-fold predictions of an evaluation, grouped by a metadata
column of the corpus table, each group with its clip count, unweighted accuracy
(UA, the mean of the recalls of the emotions present in it), accuracy, recall per
emotion and expected calibration error (:func:`serkit.evaluation.expected_calibration_error`,
the one ECE of serkit, on the group's clips pooled).
A column with fewer than two values (one corpus, one language) is left out.

Examples
--------
>>> import numpy as np, pandas as pd
>>> y = np.array(["sad", "angry", "sad", "angry"])
>>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
>>> meta = pd.DataFrame({"gender": ["female", "female", "male", "male"]})
>>> scores = slice_scores(y, proba, ["sad", "angry"], meta)
>>> scores["gender"]["female"]["unweighted_accuracy"], scores["gender"]["male"]["recall"]
(1.0, {'sad': 0.0, 'angry': 1.0})
"""

from __future__ import annotations

import numpy as np

SLICE_COLUMNS = ("gender", "intensity", "statement", "corpus", "language", "speaker")
"""Metadata columns sliced by default, when the corpus table has them."""


def renormalised(proba) -> np.ndarray:
    """Rows of ``proba`` scaled to sum to 1 (uniform where a row is all zero): a
    cross-corpus evaluation keeps only the shared emotions' columns.

    >>> renormalised(np.array([[0.3, 0.1], [0.0, 0.0]])).round(3).tolist()
    [[0.75, 0.25], [0.5, 0.5]]
    """
    proba = np.asarray(proba, dtype=float)
    totals = proba.sum(axis=1, keepdims=True)
    return np.divide(proba, totals, out=np.full_like(proba, 1 / proba.shape[1]), where=totals > 0)


def group_scores(y_true, proba, labels) -> dict:
    """``n``, ``accuracy``, ``unweighted_accuracy``, ``recall`` per emotion present, ``ece``."""
    from serkit.evaluation.metrics import expected_calibration_error

    y_true = np.asarray(y_true)
    y_pred = np.asarray(labels)[np.argmax(proba, axis=1)]
    recall = {label: float(np.mean(y_pred[y_true == label] == label)) for label in labels if np.any(y_true == label)}
    return {
        "n": int(len(y_true)),
        "accuracy": float(np.mean(y_pred == y_true)),
        "unweighted_accuracy": float(np.mean(list(recall.values()))),
        "recall": recall,
        "ece": expected_calibration_error(y_true, renormalised(proba), labels),
    }


def slice_scores(y_true, proba, labels, meta, *, columns=SLICE_COLUMNS) -> dict:
    """Scores per value of each metadata column (see the module docstring).

    Parameters
    ----------
    y_true : array-like of str [shape=(n_clips,)]
    proba : np.ndarray [shape=(n_clips, len(labels))]
        Out-of-fold probabilities, columns in ``labels`` order.
    labels : list of str
    meta : pandas.DataFrame
        One row per clip, in the same order.
    columns : sequence of str
        Columns to slice by; those absent from ``meta`` or with one value are skipped.

    Returns
    -------
    dict
        ``{column: {value: group_scores}}``; empty values (unknown gender) are the
        group ``"unknown"``.
    """
    y_true, proba = np.asarray(y_true), np.asarray(proba)
    scores = {}
    for column in (c for c in columns if c in meta.columns):
        values = meta[column].astype(object).where(meta[column].notna() & (meta[column].astype(str) != ""), "unknown")
        values = values.astype(str).to_numpy()
        if len(set(values)) < 2:
            continue
        scores[column] = {value: group_scores(y_true[values == value], proba[values == value], labels)
                          for value in sorted(set(values))}
    return scores
