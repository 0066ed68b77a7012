"""Multi-corpus training: balance weights, the emotions kept, what the saved model records."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_crosscorpus import _corpus, _write

from serkit.cli import main
from serkit.evaluation.crosscorpus import cross_corpus_matrix
from serkit.core.exceptions import ParameterError
from serkit.features import get_feature_set
from serkit.models import accepts_sample_weight, fit_model, make_model
from serkit.evaluation.pooling import balance_weights, keep_emotions, parse_emotions, pool, training_weights
from serkit.training import train_model


def test_each_corpus_weighs_the_same_and_within_it_each_emotion():
    corpus = np.array(["big"] * 90 + ["small"] * 10)
    y = np.array(["sad"] * 60 + ["angry"] * 30 + ["sad"] * 4 + ["angry"] * 6)
    weights = balance_weights(corpus, y)
    assert weights.sum() == pytest.approx(100)
    for name in ("big", "small"):
        assert weights[corpus == name].sum() == pytest.approx(50)
        for emotion in ("sad", "angry"):
            assert weights[(corpus == name) & (y == emotion)].sum() == pytest.approx(25)
    # the rare corpus's clips count more: 50 / 10 / 2 emotions vs 25 / 60
    assert weights[-1] == pytest.approx(25 / 6) and weights[0] == pytest.approx(25 / 60)


def test_one_corpus_or_balance_none_is_unweighted_and_bad_balance_fails():
    assert training_weights(["a", "a"], ["sad", "angry"], "corpus") is None
    assert training_weights(["a", "b"], ["sad", "angry"], "none") is None
    with pytest.raises(ParameterError, match="--balance 'speaker': choose one of none, corpus"):
        training_weights(["a", "b"], ["sad", "angry"], "speaker")


def test_union_or_explicit_emotions():
    data = {"a": _corpus(["angry", "sad", "calm"]), "b": _corpus(["angry", "happy"], seed=1)}
    kept, emotions, dropped = keep_emotions(data)
    assert emotions == ["calm", "happy", "sad", "angry"]  # serkit's order
    assert dropped == {} and len(kept["a"].y) == 90
    kept, emotions, dropped = keep_emotions(data, ["angry", "sad"])
    assert emotions == ["sad", "angry"] and dropped == {"a": {"calm": 30}, "b": {"happy": 30}}
    assert set(kept["a"].y) == {"angry", "sad"} and len(kept["b"].y) == len(kept["b"].groups) == 30
    assert parse_emotions(None, emotions) is None
    with pytest.raises(ParameterError, match="--emotions: bored not in the training corpora"):
        parse_emotions("sad,bored", ["sad", "angry"])
    with pytest.raises(ParameterError, match="at least two"):
        parse_emotions("sad", ["sad", "angry"])


def test_pooled_speakers_never_collide():
    data = {"a": _corpus(["angry", "sad"]), "b": _corpus(["angry", "sad"], seed=1)}  # both speakers "0" … "5"
    X, y, groups, corpus = pool(data)
    assert X.shape == (120, 2) and len(set(groups)) == 12 and groups[0] == "a/0" and groups[-1] == "b/5"
    assert corpus.tolist() == ["a"] * 60 + ["b"] * 60


def test_weights_reach_the_fit_and_change_it():
    data = {"a": _corpus(["angry", "sad"], n_speakers=6, per_speaker=10), "b": _corpus(["angry", "sad"], n_speakers=2)}
    data["b"].X[:, 0] *= 0.1  # overlapping: weights move the boundary
    X, y, groups, corpus = pool(data)
    plain = fit_model(make_model("logreg"), X, y, groups)
    weighted = fit_model(make_model("logreg"), X, y, groups, sample_weight=balance_weights(corpus, y))
    assert not np.allclose(plain[-1].coef_, weighted[-1].coef_)
    tuned = fit_model(make_model("logreg-tuned", n_inner=2), X, y, groups, sample_weight=balance_weights(corpus, y))
    unweighted = fit_model(make_model("logreg", C=tuned.best_value_), X, y)
    assert not np.allclose(tuned.best_estimator_[-1].coef_, unweighted[-1].coef_)


@pytest.mark.parametrize("name", ["logreg", "logreg-tuned", "svm", "forest", "boosting"])
def test_these_models_take_weights(name):
    assert accepts_sample_weight(make_model(name))


def test_a_model_without_weights_is_one_clear_error():
    data = {"a": _corpus(["angry", "sad"]), "b": _corpus(["angry", "sad"], seed=1)}
    with pytest.raises(ParameterError, match=r"model 'kmeans' cannot weight its training clips \(--balance corpus\); "
                                             r"models that can: .*logreg.*; or --balance none"):
        cross_corpus_matrix("kmeans", data, [["a", "b"]], ["a"], balance="corpus", progress=False)
    # unweighted, the same model trains
    cell = cross_corpus_matrix("kmeans", data, [["a", "b"]], ["a"], balance="none", n_splits=3,
                               progress=False).cell("a+b", "a")
    assert cell["unweighted_accuracy"] is not None


def test_balanced_pooling_in_the_matrix_differs_from_naive_pooling():
    data = {"a": _corpus(["angry", "sad"], per_speaker=20), "b": _corpus(["angry", "sad", "happy"], n_speakers=3, seed=3)}
    data["b"].X *= 0.3
    naive = cross_corpus_matrix("logreg", data, [["a", "b"]], ["b"], balance="none", n_splits=3, progress=False)
    balanced = cross_corpus_matrix("logreg", data, [["a", "b"]], ["b"], balance="corpus", n_splits=3, progress=False)
    assert naive.balance == "none" and balanced.to_dict()["balance"] == "corpus"
    assert naive.cell("a+b", "b")["confusion"] != balanced.cell("a+b", "b")["confusion"]


def test_train_pooled_records_corpora_sizes_emotions_and_weights(tmp_path):
    data = {"a": _corpus(["angry", "sad", "calm"]), "b": _corpus(["angry", "sad"], n_speakers=3, seed=1)}
    path, result, dropped = train_model("logreg", data, get_feature_set("seed26"), tmp_path / "m",
                                        emotions=["angry", "sad"], n_splits=3, progress=False)
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["labels"] == ["angry", "sad"] and meta["emotions"] == ["sad", "angry"]
    assert meta["balance"] == "corpus" and meta["dropped"] == {"a": {"calm": 30}} and meta["n_train"] == 90
    assert meta["corpus"]["name"] == "a+b" and meta["corpus"]["n_speakers"] == 9
    assert meta["corpus"]["corpora"]["b"] == {"n_clips": 30, "n_speakers": 3, "emotions": ["angry", "sad"]}
    weights = meta["weights"]
    assert weights["a"]["total_weight"] == weights["b"]["total_weight"] == 45
    assert weights["b"]["per_emotion"]["sad"] == {"n_clips": 15, "clip_weight": 1.5}
    cells = meta["metrics"]["cross_corpus"]["cells"]
    assert [(c["train"], c["test"], c["protocol"]) for c in cells] == [("a+b", "a", "speaker"), ("a+b", "b", "speaker")]
    assert result.cell("a+b", "b")["unweighted_accuracy"] > 0.9


def test_cli_trains_on_two_synthesised_corpora(tmp_path, capsys):
    freqs = {"angry": 600, "sad": 150}
    _write(tmp_path / "rav", [
        (f"Actor_{actor:02d}/03-01-{code}-01-01-0{take}-{actor:02d}.wav", freqs[e] * (1 + 0.03 * actor))
        for actor in range(1, 5) for e, code in (("angry", "05"), ("sad", "04"), ("calm", "02")) if e in freqs
        for take in (1, 2)
    ] + [(f"Actor_{actor:02d}/03-01-02-01-01-01-{actor:02d}.wav", 300) for actor in range(1, 5)])
    _write(tmp_path / "emodb", [
        (f"wav/{speaker}a0{take}{letter}a.wav", freqs[e] * (1.05 + 0.02 * take))
        for speaker in ("03", "08", "09", "10") for e, letter in (("angry", "W"), ("sad", "T")) for take in (1, 2)
    ])
    out = tmp_path / "model"
    argv = ["train", "--train", f"ravdess:{tmp_path / 'rav'},emodb:{tmp_path / 'emodb'}", "--emotions", "sad,angry",
            "--set", "seed26", "--model", "logreg", "--folds", "2", "-j", "1", "--no-cache", "-q", "-o", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "dropped clips of emotions not trained: ravdess calm 4" in captured.err
    assert "saved logreg trained on 32 clips of ravdess, emodb (balance corpus)" in captured.out
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["labels"] == ["angry", "sad"] and meta["command"].startswith("serkit train --train ravdess:")
    assert set(meta["corpus"]["corpora"]) == {"ravdess", "emodb"}
    assert main([*argv[:-2], "--model", "kmeans", "-o", str(tmp_path / "k")]) == 1
    assert "cannot weight its training clips" in capsys.readouterr().err
    assert main(["train", "--model", "logreg", "-o", str(tmp_path / "x")]) == 1
    assert "give a corpus ROOT, or --train" in capsys.readouterr().err
