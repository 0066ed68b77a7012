"""Cross-corpus evaluation: shared emotions, argmax over them only, speaker folds within a corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from serkit.cli import main
from serkit.evaluation.crosscorpus import corpus_names, cross_corpus_matrix, format_matrix, parse_corpus_list, save_json
from serkit.evaluation import Dataset, evaluate
from serkit.core.exceptions import ParameterError

CENTRES = {"angry": (4, 0), "sad": (0, 4), "happy": (-4, 0), "calm": (0, -4)}


def _corpus(emotions, *, n_speakers=6, per_speaker=5, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(emotions, n_speakers * per_speaker)
    X = rng.normal(size=(len(y), 2)) + np.array([CENTRES[e] for e in y]) + shift
    groups = np.tile(np.repeat(np.arange(n_speakers), per_speaker), len(emotions)).astype(str)
    return Dataset(X, y, groups, ["x0", "x1"])


def test_shared_emotions_and_argmax_over_them_only():
    data = {"a": _corpus(["angry", "sad", "calm"]), "b": _corpus(["angry", "sad", "happy"], seed=1)}
    result = cross_corpus_matrix("logreg", data, n_splits=3, progress=False)
    assert result.train_sets == ["a", "b"] and result.test_sets == ["a", "b"]
    cross = result.cell("a", "b")
    assert cross["emotions"] == ["sad", "angry"] and cross["protocol"] == "cross-corpus"
    # b's happy clips are not tested: a never learnt happy.
    assert cross["n_test"] == 60 and cross["n_train"] == 90 and cross["chance"] == 0.5
    # a's calm is a class of the model, but never a prediction on b.
    assert np.array(cross["confusion"]).sum() == 60 and set(cross["recall"]) == {"sad", "angry"}
    assert cross["unweighted_accuracy"] > 0.95
    assert result.cell("b", "a")["emotions"] == ["sad", "angry"]


def test_diagonal_is_the_speaker_protocol_of_evaluate():
    data = {"a": _corpus(["angry", "sad", "calm"], shift=0.0), "b": _corpus(["angry", "sad"], seed=2)}
    # Overlapping clusters, so folds differ and the equality means something.
    data["a"].X[:, 0] *= 0.15
    result = cross_corpus_matrix("logreg", data, [["a"]], ["a"], n_splits=3, random_state=4, progress=False)
    cell = result.cell("a", "a")
    reference = evaluate("logreg", data["a"].X, data["a"].y, data["a"].groups, n_splits=3, random_state=4,
                         progress=False).runs[0]
    assert cell["protocol"] == "speaker" and len(cell["folds"]) == 3
    assert cell["unweighted_accuracy"] == pytest.approx(reference.summary["unweighted_accuracy"]["mean"])
    assert cell["unweighted_accuracy_std"] == pytest.approx(reference.summary["unweighted_accuracy"]["std"])


def test_pooled_training_holds_out_the_test_corpus_speakers():
    data = {"a": _corpus(["angry", "sad"]), "b": _corpus(["angry", "sad", "happy"], seed=3)}
    result = cross_corpus_matrix("logreg", data, [["a", "b"]], ["b"], n_splits=3, progress=False)
    cell = result.cell("a+b", "b")
    assert cell["protocol"] == "speaker" and cell["emotions"] == ["happy", "sad", "angry"]
    held_out = [speaker for fold in cell["folds"] for speaker in fold["test_speakers"]]
    assert sorted(held_out) == sorted(set(data["b"].groups))  # each of b's speakers tested once
    # every fold trains on all of a (60) and two thirds of b's six speakers (60 of 90)
    assert {fold["n_train"] for fold in cell["folds"]} == {60 + 60}


def test_speaker_norm_on_speakers_read_from_a_table():
    data = {"a": _corpus(["angry", "sad"]), "b": _corpus(["angry", "sad"], shift=5.0, seed=1)}
    for dataset in data.values():
        dataset.groups = dataset.groups.astype(object)  # as Dataset.from_table gives them
    plain = cross_corpus_matrix("logreg", data, [["a"]], ["b"], progress=False).cell("a", "b")
    normed = cross_corpus_matrix("logreg", data, [["a"]], ["b"], speaker_norm=True, progress=False).cell("a", "b")
    # b is a shifted by 5: per-speaker standardisation takes the shift away.
    assert normed["unweighted_accuracy"] > 0.95 > plain["unweighted_accuracy"]


def test_too_few_shared_emotions_and_bad_names():
    data = {"a": _corpus(["angry", "calm"]), "b": _corpus(["angry", "sad"], seed=1)}
    cell = cross_corpus_matrix("logreg", data, [["a"]], ["b"], progress=False).cell("a", "b")
    assert cell["unweighted_accuracy"] is None and "1 shared emotion(s)" in cell["note"]
    with pytest.raises(ParameterError, match="corpus 'c' is not among the datasets"):
        cross_corpus_matrix("logreg", data, [["c"]], ["b"], progress=False)
    with pytest.raises(ParameterError, match="unknown model"):
        cross_corpus_matrix("nope", data, progress=False)


def test_format_and_json(tmp_path):
    data = {"a": _corpus(["angry", "sad", "calm"]), "b": _corpus(["angry", "sad"], seed=1)}
    result = cross_corpus_matrix("logreg", data, n_splits=3, progress=False, command="serkit evaluate …")
    text = format_matrix(result)
    lines = text.splitlines()
    assert lines[0] == "logreg — cross-corpus UA (%)"
    assert lines[1].split() == ["train", "\\", "test", "a", "b"]
    assert "(chance 33)" in lines[3] and "±" in lines[3]
    assert "a → b: 2 shared emotions (sad angry)" in text
    saved = json.loads(save_json([result], tmp_path / "x.json").read_text())
    matrix = saved["cross_corpus"][0]
    assert matrix["kind"] == "cross-corpus" and len(matrix["cells"]) == 4 and matrix["corpora"]["b"]["n_speakers"] == 6


def test_parse_corpus_list_and_names():
    assert parse_corpus_list("ravdess:C:/data/r, nemo:n") == [("ravdess", "C:/data/r"), ("nemo", "n")]
    with pytest.raises(ParameterError, match="expected READER:PATH"):
        parse_corpus_list("ravdess")
    with pytest.raises(ParameterError, match="unknown reader 'timit'"):
        parse_corpus_list("timit:x")
    assert list(corpus_names([("tess", "x"), ("tess", "y"), ("tess", "x")]).values()) == ["tess", "tess#2"]


def _write(root, names_and_freqs):
    t = np.arange(4000) / 8000
    for name, freq in names_and_freqs:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, (0.2 * np.sin(2 * np.pi * freq * t) * (1 + 0.1 * np.sin(2 * np.pi * 3 * t))).astype(np.float32), 8000)


def test_cli_matrix_on_two_synthesised_corpora(tmp_path, capsys):
    freqs = {"angry": 600, "sad": 150}
    ravdess_codes = {"angry": "05", "sad": "04"}
    _write(tmp_path / "rav", [
        (f"Actor_{actor:02d}/03-01-{ravdess_codes[e]}-01-01-0{take}-{actor:02d}.wav", freqs[e] * (1 + 0.03 * actor))
        for actor in range(1, 5) for e in freqs for take in (1, 2)
    ])
    _write(tmp_path / "emodb", [
        (f"wav/{speaker}a0{take}{letter}a.wav", freqs[e] * (1.05 + 0.02 * take))
        for speaker in ("03", "08", "09") for e, letter in (("angry", "W"), ("sad", "T")) for take in (1, 2)
    ] + [("wav/03a01Nb.wav", 300), ("wav/08a01Nb.wav", 310)])
    out = tmp_path / "cross.json"
    code = main(["evaluate", "--train", f"ravdess:{tmp_path / 'rav'}", "--train", f"emodb:{tmp_path / 'emodb'}",
                 "--set", "seed26", "--model", "logreg", "--folds", "2", "-j", "1", "--no-cache", "-q",
                 "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.startswith("logreg — cross-corpus UA (%)")
    assert "ravdess → emodb: 2 shared emotions (sad angry)" in captured.out
    matrix = json.loads(out.read_text())["cross_corpus"][0]
    cell = {(c["train"], c["test"]): c for c in matrix["cells"]}
    assert cell["ravdess", "emodb"]["n_test"] == 12 and cell["emodb", "emodb"]["emotions"] == ["neutral", "sad", "angry"]
    assert cell["ravdess", "emodb"]["unweighted_accuracy"] == 1.0
    by_gender = cell["ravdess", "emodb"]["slices"]["gender"]
    assert {value: group["n"] for value, group in by_gender.items()} == {"female": 8, "male": 4}
    assert matrix["command"].startswith("serkit evaluate --train ravdess:")


def test_cli_cross_corpus_argument_errors(tmp_path, capsys):
    assert main(["evaluate", "--test", f"nemo:{tmp_path}", "--model", "logreg"]) == 1
    assert "takes --train READER:PATH" in capsys.readouterr().err
    assert main(["evaluate", "--model", "logreg"]) == 1
    assert "give a corpus ROOT, or --train" in capsys.readouterr().err
    assert main(["evaluate", "--train", "ravdess", "--model", "logreg"]) == 1
    assert "expected READER:PATH" in capsys.readouterr().err


def _copies_of(data, seed=7):
    """One noisy copy of every clip of ``data``, each with its source clip's label and speaker."""
    X = data.X + np.random.default_rng(seed).normal(scale=0.5, size=data.X.shape)
    return Dataset(X, data.y.copy(), data.groups.copy(), data.columns, {"augment": {"mix": "white", "seed": 0}})


def test_copies_enter_only_the_training_speakers_folds(monkeypatch):
    import serkit.evaluation.crosscorpus as crosscorpus

    data = {"a": _corpus(["angry", "sad"]), "b": _corpus(["angry", "sad", "happy"], seed=3)}
    augment = {name: _copies_of(d) for name, d in data.items()}
    seen = []
    original = crosscorpus._fit_predict

    def spy(model, random_state, X_train, y_train, groups_train, X_test, groups_test, *args, **kwargs):
        seen.append((groups_train, groups_test))
        return original(model, random_state, X_train, y_train, groups_train, X_test, groups_test, *args, **kwargs)

    monkeypatch.setattr(crosscorpus, "_fit_predict", spy)
    kwargs = dict(n_splits=3, adapt="corpus", progress=False)
    result = cross_corpus_matrix("logreg", data, [["a", "b"], ["a"]], ["b"], augment=augment, **kwargs)
    within, cross = seen[:3], seen[3]
    for groups_train, groups_test in within:
        counts = dict(zip(*np.unique(groups_train, return_counts=True)))
        held_out = {f"b/{speaker}" for speaker in groups_test}
        assert not held_out & set(counts)  # no clip of a held-out speaker, nor a copy of one
        # Every training speaker twice: each clip and its copy (a: 2 emotions, b: 3, 5 clips each).
        assert all(n == 2 * 5 * (2 if g.startswith("a/") else 3) for g, n in counts.items())
    # Leave-corpus-out: a and its copies only, never a copy of the test corpus.
    assert set(np.char.partition(cross[0], "/")[:, 0]) == {"a"} and len(cross[0]) == 2 * len(data["a"].y)
    cell = result.cell("a+b", "b")
    assert [fold["n_copies"] for fold in cell["folds"]] == [60 + 90 - fold["n_test"] for fold in cell["folds"]]
    assert result.to_dict()["augment"]["b"] == {"mix": "white", "seed": 0, "n_copies": 90}

    # Without copies (or with none): the same folds and the same figures as before.
    monkeypatch.setattr(crosscorpus, "_fit_predict", original)
    plain = cross_corpus_matrix("logreg", data, [["a", "b"], ["a"]], ["b"], **kwargs)
    empty = cross_corpus_matrix("logreg", data, [["a", "b"], ["a"]], ["b"], augment={}, **kwargs)
    assert empty.cells == plain.cells and plain.to_dict()["augment"] is None
    assert [f["test_speakers"] for f in cell["folds"]] == [f["test_speakers"] for f in plain.cell("a+b", "b")["folds"]]
    assert "n_copies" not in plain.cell("a+b", "b")["folds"][0]
    assert cell["n_test"] == plain.cell("a+b", "b")["n_test"]


def test_copies_of_an_unknown_corpus_or_without_speakers_are_refused():
    data = {"a": _corpus(["angry", "sad"]), "b": _corpus(["angry", "sad"], seed=3)}
    with pytest.raises(ParameterError, match="augmented copies of 'c'"):
        cross_corpus_matrix("logreg", data, augment={"c": _copies_of(data["a"])}, progress=False)
    speakerless = Dataset(data["a"].X, data["a"].y, None, data["a"].columns)
    with pytest.raises(ParameterError, match="without speakers"):
        cross_corpus_matrix("logreg", data, augment={"a": speakerless}, progress=False)
