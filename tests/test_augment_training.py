"""Augmented training: corrupted copies' features (serkit.evaluation.augmented), train_model's
``augment`` and ``serkit train --augment``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_crosscorpus import _corpus, _write

from serkit.cli import main
from serkit.core.exceptions import ParameterError
from serkit.corpora import CorpusTable, read_corpus
from serkit.evaluation import Dataset
from serkit.evaluation.augmented import add_copies, augmented_dataset, select_clips
from serkit.features import get_feature_set
from serkit.training import train_model


def _copies(data, seed=5, shift=0.5):
    """Copies of ``data``'s clips: the same labels and speakers, features moved."""
    rng = np.random.default_rng(seed)
    return Dataset(data.X + shift + 0.3 * rng.normal(size=data.X.shape), data.y.copy(), data.groups.copy(), data.columns,
                   {"augment": {"mix": "white", "fraction": 1.0, "copies": 1, "seed": 0, "n_clips": len(data.y)}})


def test_copies_reach_the_final_fit_only(tmp_path):
    data = {"a": _corpus(["angry", "sad", "calm"]), "b": _corpus(["angry", "sad"], n_speakers=3, seed=1)}
    plain_path, plain, _ = train_model("logreg", data, get_feature_set("seed26"), tmp_path / "plain", n_splits=3,
                                       adapt="corpus", progress=False)
    path, result, _ = train_model("logreg", data, get_feature_set("seed26"), tmp_path / "aug", n_splits=3, adapt="corpus",
                                  progress=False, augment={"a": _copies(data["a"])})
    meta, plain_meta = (json.loads((p / "metadata.json").read_text()) for p in (path, plain_path))
    assert meta["n_train"] == plain_meta["n_train"] + 90
    assert meta["augment"]["corpora"]["a"]["mix"] == "white" and meta["augment"]["n_copies"] == 90
    assert meta["augment"]["cross_validated"].startswith("without the copies")
    # The stored figures are the same folds without copies; the fitted models differ.
    assert result.to_dict()["cells"] == plain.to_dict()["cells"]
    assert meta["adaptation"]["statistics"]["n_clips"] == plain_meta["adaptation"]["statistics"]["n_clips"] + 90


def test_one_corpus_with_copies_is_trained_as_a_pool(tmp_path):
    data = {"a": _corpus(["angry", "sad"])}
    path, _, _ = train_model("logreg", data, get_feature_set("seed26"), tmp_path / "m", cross_validate=False,
                             augment={"a": _copies(data["a"])})
    assert json.loads((path / "metadata.json").read_text())["augment"]["n_copies"] == 60


def test_copies_keep_the_trained_emotions_and_their_corpus():
    data = _corpus(["angry", "calm"], n_speakers=2, per_speaker=2)
    pooled = (np.zeros((1, 2)), np.array(["angry"]), np.array(["a/0"]), np.array(["a"]))
    X, y, groups, corpus = add_copies(pooled, {"a": _copies(data)}, ["angry"])
    assert len(X) == 5 and set(y) == {"angry"} and groups[1:].tolist() == ["a/0", "a/0", "a/1", "a/1"]
    with pytest.raises(ParameterError, match="not among the training corpora"):
        add_copies(pooled, {"b": _copies(data)}, ["angry"])
    assert add_copies(pooled, {}, ["angry"]) is pooled


def test_augmented_dataset_extracts_copies_of_a_share_of_the_clips(tmp_path):
    _write(tmp_path / "c", [(f"s{speaker}/{speaker}_{index}.wav", 200 + 50 * index) for speaker in (1, 2) for index in range(6)])
    table = CorpusTable("manifest", tmp_path / "c", pd.DataFrame(
        [{"path": f"s{s}/{s}_{i}.wav", "label": ("sad", "angry")[i % 2], "speaker": str(s)} for s in (1, 2) for i in range(6)]))
    half = augmented_dataset(table, "white,babble", "seed26", fraction=0.5, cache_dir=tmp_path / "cache")
    whole = augmented_dataset(table, "white,babble", "seed26", cache_dir=tmp_path / "cache")
    assert 0 < len(half.y) < len(whole.y) == 12
    assert half.X.shape[1] == whole.X.shape[1] == 26 and np.isfinite(whole.X).all()
    assert half.corpus["augment"] == {"mix": "white,babble", "fraction": 0.5, "copies": 1, "seed": 0, "n_clips": len(half.y)}
    assert list(whole.groups) == list(table.table["speaker"])
    assert (tmp_path / "cache" / "augmented" / "manifest" / "s1").is_dir()
    assert set(select_clips(table, 0.5).table["path"]) < set(table.table["path"])
    with pytest.raises(ParameterError, match="at most 1"):
        select_clips(table, 2.0)


def test_several_mixes_give_each_clip_a_copy_of_each(tmp_path):
    _write(tmp_path / "c", [(f"s{speaker}/{speaker}_{index}.wav", 200 + 50 * index) for speaker in (1, 2) for index in range(3)])
    table = CorpusTable("manifest", tmp_path / "c", pd.DataFrame(
        [{"path": f"s{s}/{s}_{i}.wav", "label": ("sad", "angry")[i % 2], "speaker": str(s)} for s in (1, 2) for i in range(3)]))
    one = augmented_dataset(table, "white", "seed26", cache_dir=tmp_path / "cache")
    both = augmented_dataset(table, "white;pause", "seed26", cache_dir=tmp_path / "cache")
    assert len(both.y) == 2 * len(one.y) == 12
    np.testing.assert_array_equal(both.X[:6], one.X)  # the same white copies, then the pause copies
    assert both.meta["corruption"].tolist() == ["white"] * 6 + ["pause"] * 6
    assert list(both.groups) == list(table.table["speaker"]) * 2 and list(both.y) == list(table.table["label"]) * 2
    assert both.corpus["augment"]["mix"] == "white;pause" and both.corpus["augment"]["n_clips"] == 12
    with pytest.raises(ParameterError, match="'hum' is not one of"):
        augmented_dataset(table, "white;hum", "seed26", cache_dir=tmp_path / "cache")


def test_cli_train_augment_and_its_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SERKIT_CACHE_DIR", str(tmp_path / "cache"))
    freqs = {"angry": 600, "sad": 150}
    _write(tmp_path / "rav", [
        (f"Actor_{actor:02d}/03-01-{code}-01-01-0{take}-{actor:02d}.wav", freqs[e] * (1 + 0.03 * actor))
        for actor in range(1, 5) for e, code in (("angry", "05"), ("sad", "04")) for take in (1, 2)])
    out = tmp_path / "model"
    argv = ["train", "--train", f"ravdess:{tmp_path / 'rav'}", "--set", "seed26", "--model", "logreg", "--no-eval",
            "-j", "1", "-q", "-o", str(out)]
    assert main([*argv, "--augment", "noise,gain", "--augment-fraction", "1"]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["augment"]["corpora"]["ravdess"]["mix"] == "white,pink,babble,gain" and meta["n_train"] == 32
    assert "--augment noise,gain --augment-fraction 1" in meta["command"]
    assert len(read_corpus("ravdess", tmp_path / "rav").table) == 16
    capsys.readouterr()
    assert main([*argv, "--augment", "hum"]) == 1
    assert "'hum' is not one of noise, all" in capsys.readouterr().err
    assert main([*argv, "--augment", "white", "--augment-fraction", "0"]) == 1
    assert "must be more than 0" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "rav"), "--corpus", "ravdess", "--model", "logreg", "--augment", "white",
                 "-o", str(tmp_path / "x")]) == 1
    assert "--augment apply to --train" in capsys.readouterr().err
