"""Slices: UA, recall and ECE per gender, intensity, corpus, speaker; in evaluate's results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serkit.evaluation import Dataset, evaluate
from serkit.evaluation.slices import group_scores, slice_scores


def test_group_scores_by_hand():
    y = ["sad", "sad", "angry", "angry"]
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.1, 0.9]])
    scores = group_scores(y, proba, ["sad", "angry"])
    assert scores["n"] == 4 and scores["accuracy"] == 0.75
    assert scores["recall"] == {"sad": 0.5, "angry": 1.0} and scores["unweighted_accuracy"] == 0.75
    # bins: 0.8 (right), 0.7 (wrong), 0.6 (right), 0.9 (right): each alone in its bin
    assert scores["ece"] == pytest.approx((0.2 + 0.7 + 0.4 + 0.1) / 4)


def test_ece_renormalises_kept_columns():
    # Only the shared emotions' columns are kept: 0.3/0.1 is a confidence of 0.75.
    assert group_scores(["a"], np.array([[0.3, 0.1]]), ["a", "b"])["ece"] == pytest.approx(0.25)


def test_slices_skip_constant_and_missing_columns():
    y = np.array(["sad", "angry"] * 3)
    proba = np.tile([[0.9, 0.1], [0.2, 0.8]], (3, 1))
    meta = pd.DataFrame({"gender": ["female", None, "male", "male", "female", ""], "corpus": ["x"] * 6,
                         "speaker": list("aabbcc")})
    scores = slice_scores(y, proba, ["sad", "angry"], meta)
    assert set(scores) == {"gender", "speaker"}
    assert {value: group["n"] for value, group in scores["gender"].items()} == {"female": 2, "male": 2, "unknown": 2}


def test_evaluate_records_slices_out_of_fold():
    rng = np.random.default_rng(0)
    y = np.repeat(["sad", "angry"], 40)
    speakers = np.tile(np.arange(8), 10).astype(str)
    gender = np.where(speakers.astype(int) % 2, "male", "female")
    X = rng.normal(size=(80, 2)) + (y == "angry")[:, None] * 3 + (gender == "male")[:, None] * 0.5
    meta = pd.DataFrame({"gender": gender, "speaker": speakers})
    run = evaluate("logreg", X, y, speakers, n_splits=4, progress=False, slice_by=meta).runs[0]
    assert sum(group["n"] for group in run.slices["gender"].values()) == 80
    assert set(run.slices["speaker"]) == set(speakers)
    assert run.to_dict()["slices"]["gender"]["male"]["recall"].keys() == {"sad", "angry"}
    assert evaluate("logreg", X, y, speakers, n_splits=4, progress=False).runs[0].slices is None


def test_dataset_keeps_the_metadata_rows():
    table = pd.DataFrame({"path": ["a", "b", "c"], "speaker": ["s1", "s2", "s3"], "f0": [1.0, 2.0, 3.0],
                          "label": ["sad", None, "angry"], "gender": ["male", "female", "female"]})
    dataset = Dataset.from_table(table, ["f0"])
    assert list(dataset.meta.columns) == ["path", "speaker", "label", "gender"]
    assert list(dataset.meta["gender"]) == ["male", "female"]
