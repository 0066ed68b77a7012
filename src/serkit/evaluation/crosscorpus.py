"""Cross-corpus evaluation: train on some corpora, test on others, on the emotions they share.

A cell of the matrix is one training set (one corpus, or several pooled) tested on
one corpus:

- The test clips are those of the emotions the test corpus shares with the training
  set; the model predicts the most probable of those emotions only (its other classes
  are ignored), and the score is the unweighted accuracy (UA, the mean of per-emotion
  recalls) over them. Chance is ``1 / len(emotions)``.
- The model is trained on every clip of the training set (all its emotions, all its
  speakers) when the test corpus is not in it.
- When the test corpus is in the training set (the diagonal of a matrix, or a pooled
  set that includes it), the cell is speaker-grouped cross-validation over the test
  corpus's speakers, as :func:`serkit.evaluation.evaluate` does: each fold trains on
  the other corpora whole plus the test corpus's training-fold speakers, and tests on
  its held-out speakers. A single corpus's diagonal cell is therefore the figure
  ``serkit evaluate --protocol speaker`` gives (same folds, same seed).

Speakers are kept apart per corpus when corpora are pooled (the same id in two
corpora is two people), and a model that tunes itself (``logreg-tuned``) does so on
inner folds of the training speakers only. Nothing is chosen on a test corpus.

Examples
--------
>>> import numpy as np
>>> from serkit.evaluation import Dataset
>>> rng = np.random.default_rng(0)
>>> def corpus(emotions, shift):
...     y = np.repeat(emotions, 30)
...     X = rng.normal(size=(len(y), 2)) + np.array([[e == "angry", e == "sad"] for e in y]) * 4 + shift
...     return Dataset(X, y, np.tile(np.arange(6).astype(str), len(y) // 6), [])
>>> data = {"a": corpus(["angry", "sad", "calm"], 0.0), "b": corpus(["angry", "sad"], 0.2)}
>>> result = cross_corpus_matrix("logreg", data, n_splits=3, progress=False)
>>> cell = result.cell("a", "b")
>>> cell["emotions"], cell["protocol"], cell["unweighted_accuracy"] > 0.9
(['sad', 'angry'], 'cross-corpus', True)
>>> result.cell("a", "a")["protocol"]
'speaker'
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from serkit.evaluation.dataset import ordered_labels
from serkit.evaluation.metrics import fold_metrics
from serkit.evaluation.pooling import check_balance, training_weights
from serkit.evaluation.protocols import feature_set_info, json_safe, split_indices
from serkit.core.exceptions import ParameterError
from serkit.features.bundle import concat_rows, take_rows

POOL_SEPARATOR = "+"
"""Joins the names of pooled corpora in a training set's name (``ravdess+nemo``)."""


def parse_corpus_list(text: str) -> list[tuple[str, str]]:
    """``"ravdess:PATH,nemo:PATH"`` → ``[("ravdess", "PATH"), ("nemo", "PATH")]``.

    Each item is ``READER:PATH`` (the reader names of
    :func:`serkit.corpora.available_corpora`); the path is everything after the first
    colon, so it may hold colons itself, but not commas.

    >>> parse_corpus_list("ravdess:data/ravdess, nemo:/data/nemo")
    [('ravdess', 'data/ravdess'), ('nemo', '/data/nemo')]
    """
    from serkit.corpora import available_corpora

    specs = []
    for item in (part.strip() for part in text.split(",")):
        name, colon, path = item.partition(":")
        if not colon or not path.strip():
            raise ParameterError(f"{item!r}: expected READER:PATH, e.g. ravdess:../shared/data/ravdess-speech")
        if name.strip() not in available_corpora():
            raise ParameterError(f"{item!r}: unknown reader {name.strip()!r}; available: {', '.join(available_corpora())}")
        specs.append((name.strip(), path.strip()))
    return specs


def corpus_names(specs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """A short, unique display name per ``(reader, path)``: the reader's name, with
    ``#2``, ``#3`` … when one reader reads several folders."""
    names, used = {}, {}
    for spec in dict.fromkeys(specs):
        used[spec[0]] = used.get(spec[0], 0) + 1
        names[spec] = spec[0] if used[spec[0]] == 1 else f"{spec[0]}#{used[spec[0]]}"
    return names


@dataclass
class CrossCorpusResult:
    """Every cell of a cross-corpus matrix for one model.

    Attributes
    ----------
    model : str
    train_sets : list of str
        The rows: training set names (``ravdess``, ``ravdess+nemo``).
    test_sets : list of str
        The columns: test corpus names.
    cells : list of dict
        One per (row, column): ``train``, ``test``, ``emotions`` (shared, in
        :data:`~serkit.core.labels.EMOTIONS` order), ``protocol`` (``speaker`` or
        ``cross-corpus``), ``chance``, ``n_train`` (a speaker cell's largest training
        fold), ``n_test``, ``accuracy``,
        ``unweighted_accuracy``, ``macro_f1``, ``roc_auc``, ``recall`` per emotion,
        ``confusion`` (rows true, columns predicted, in ``emotions`` order),
        ``slices`` (:func:`serkit.evaluation.slices.slice_scores`, when the datasets carry their
        metadata), and for a ``speaker`` cell ``folds`` and ``unweighted_accuracy_std``. With fewer than
        two shared emotions the metrics are None and ``note`` says why.
    corpora : dict
        Per corpus: clip and speaker counts, emotions.
    """

    model: str
    train_sets: list
    test_sets: list
    cells: list
    corpora: dict = field(default_factory=dict)
    feature_set: dict = field(default_factory=dict)
    seed: int = 0
    speaker_norm: bool = False
    balance: str = "none"
    command: str | None = None

    def cell(self, train: str, test: str) -> dict:
        """The cell of training set ``train`` tested on ``test``; :class:`KeyError` if absent."""
        for cell in self.cells:
            if (cell["train"], cell["test"]) == (train, test):
                return cell
        raise KeyError((train, test))

    def to_dict(self) -> dict:
        return {
            "kind": "cross-corpus",
            "model": self.model,
            "train_sets": self.train_sets,
            "test_sets": self.test_sets,
            "cells": self.cells,
            "corpora": self.corpora,
            "feature_set": self.feature_set,
            "seed": self.seed,
            "speaker_norm": self.speaker_norm,
            "balance": self.balance,
            "command": self.command,
        }


def _fit_predict(model, random_state, X_train, y_train, groups_train, X_test, groups_test, emotions,
                 speaker_norm, sample_weight=None):
    """Probabilities of the shared ``emotions`` only (columns in that order): the
    model's other classes are left out, so the argmax is over those emotions."""
    from serkit.models import align_probabilities, fit_model, make_model
    from serkit.features.normalization import SpeakerNormalizer

    if speaker_norm:
        # Each side standardised with its own speakers' statistics (no labels).
        X_train = SpeakerNormalizer().fit_transform(X_train, groups_train)
        X_test = SpeakerNormalizer().fit_transform(X_test, groups_test)
    fitted = make_model(model, random_state=random_state)
    fit_model(fitted, X_train, y_train, groups_train, sample_weight=sample_weight)
    classes = [str(c) for c in fitted.classes_]
    keep = [i for i, c in enumerate(classes) if c in emotions]
    proba = np.asarray(fitted.predict_proba(X_test))[:, keep]
    return align_probabilities(proba, [classes[i] for i in keep], emotions)


def _cell(model, datasets, train_names, test_name, *, n_splits, random_state, speaker_norm, balance):
    from sklearn.metrics import confusion_matrix, recall_score

    test = datasets[test_name]
    trained_on = set().union(*(set(datasets[name].y) for name in train_names))
    emotions = [e for e in ordered_labels(test.y) if e in trained_on]
    cell = {"train": POOL_SEPARATOR.join(train_names), "test": test_name, "emotions": emotions,
            "chance": 1 / len(emotions) if emotions else None}
    within = test_name in train_names
    cell["protocol"] = "speaker" if within else "cross-corpus"
    if len(emotions) < 2:
        return {**cell, "note": f"{len(emotions)} shared emotion(s): nothing to tell apart",
                **dict.fromkeys(("accuracy", "unweighted_accuracy", "macro_f1", "roc_auc"))}
    others = [name for name in train_names if name != test_name]
    if within:
        splits = split_indices("speaker", test.y, test.groups, n_splits=n_splits, random_state=random_state)
    else:
        splits = [(np.arange(0), np.arange(len(test.y)))]
    folds, pooled_true, pooled_proba, pooled_rows, n_train = [], [], [], [], 0
    for fold, (train_idx, test_idx) in enumerate(splits, start=1):
        parts = [(datasets[name], f"{name}/", np.arange(len(datasets[name].y))) for name in others]
        if within:
            parts.append((test, f"{test_name}/", train_idx))
        X_train = concat_rows([take_rows(data.X, rows) for data, _, rows in parts])
        y_train = np.concatenate([data.y[rows] for data, _, rows in parts]).astype(str)
        # Speaker ids kept apart per corpus: "01" in two corpora is two people.
        groups_train = np.concatenate([np.char.add(prefix, data.groups[rows].astype(str)) for data, prefix, rows in parts])
        corpus_train = np.concatenate([np.full(len(rows), prefix) for _, prefix, rows in parts])
        test_idx = test_idx[np.isin(test.y[test_idx], emotions)]
        proba = _fit_predict(model, random_state, X_train, y_train, groups_train, take_rows(test.X, test_idx),
                             test.groups[test_idx].astype(str), emotions, speaker_norm,
                             training_weights(corpus_train, y_train, balance))
        y_true = test.y[test_idx].astype(str)
        folds.append({"fold": fold, "n_train": int(len(y_train)), "n_test": int(len(test_idx)),
                      "test_speakers": sorted(set(test.groups[test_idx].astype(str).tolist())),
                      **fold_metrics(y_true, proba, emotions)})
        pooled_true.append(y_true)
        pooled_proba.append(proba)
        pooled_rows.append(test_idx)
        n_train = max(n_train, len(y_train))
    y_true, proba = np.concatenate(pooled_true), np.concatenate(pooled_proba)
    y_pred = np.asarray(emotions)[np.argmax(proba, axis=1)]
    cell.update({
        "n_train": int(n_train),
        "n_test": int(len(y_true)),
        **{metric: float(np.nanmean([f[metric] for f in folds]))
           for metric in ("accuracy", "unweighted_accuracy", "macro_f1", "roc_auc")},
        "recall": dict(zip(emotions, recall_score(y_true, y_pred, labels=emotions, average=None,
                                                  zero_division=0).round(4).tolist())),
        "confusion": confusion_matrix(y_true, y_pred, labels=emotions).tolist(),
    })
    if test.meta is not None:
        from serkit.evaluation.slices import slice_scores

        cell["slices"] = slice_scores(y_true, proba, emotions, test.meta.iloc[np.concatenate(pooled_rows)].reset_index(drop=True))
    if within:
        cell["unweighted_accuracy_std"] = float(np.std([f["unweighted_accuracy"] for f in folds]))
        cell["folds"] = folds
    return cell


def cross_corpus_matrix(model: str, datasets: dict, train_sets: Sequence[Sequence[str]] | None = None,
                        test_sets: Sequence[str] | None = None, *, n_splits: int = 5, random_state: int = 0,
                        speaker_norm: bool = False, balance: str = "corpus", progress: bool = True,
                        feature_set=None, command: str | None = None) -> CrossCorpusResult:
    """Train on each training set, test on each test corpus (see the module docstring).

    Parameters
    ----------
    model : str
        A name from :func:`serkit.models.available_models`.
    datasets : dict of str → serkit.evaluation.Dataset
        Every corpus named below, with its speakers (``groups``); one feature set for all.
    train_sets : list of list of str, optional
        The rows: each a list of corpora pooled for training. Default: each corpus alone.
    test_sets : list of str, optional
        The columns. Default: every corpus in ``datasets``.
    n_splits : int
        Speaker folds of a cell whose test corpus is in its training set.
    random_state : int
        Seeds the folds and the model.
    speaker_norm : bool
        Standardise every speaker with their own statistics (vector sets).
    balance : {"none", "corpus"}
        ``corpus``: a pooled training set is fitted with
        :func:`serkit.evaluation.pooling.balance_weights` (each corpus equal, within it each
        emotion equal), as ``serkit train --balance corpus`` fits it; a one-corpus set
        is fitted unweighted either way.
    progress : bool
        A progress bar over the cells on stderr.

    Returns
    -------
    CrossCorpusResult

    Raises
    ------
    ParameterError
        An unknown corpus name, a corpus without speakers, too few speakers for the folds.
    """
    from tqdm.auto import tqdm

    check_balance(model, balance)  # an unknown model or balance fails now, not after the first cell
    train_sets = [list(names) for names in (train_sets or [[name] for name in datasets])]
    test_sets = list(test_sets or datasets)
    for name in {n for names in train_sets for n in names} | set(test_sets):
        if name not in datasets:
            raise ParameterError(f"corpus {name!r} is not among the datasets ({', '.join(datasets)})")
        if datasets[name].groups is None:
            raise ParameterError(f"corpus {name!r} has no speakers: cross-corpus cells need them")
    jobs = [(names, test) for names in train_sets for test in test_sets]
    cells = [
        _cell(model, datasets, names, test, n_splits=n_splits, random_state=random_state, speaker_norm=speaker_norm,
              balance=balance)
        for names, test in tqdm(jobs, desc=f"{model} cross-corpus", disable=not progress, file=sys.stderr)
    ]
    corpora = {
        name: {"n_clips": int(len(data.y)), "n_speakers": int(len(np.unique(data.groups))),
               "emotions": ordered_labels(data.y.astype(str)), **{k: v for k, v in data.corpus.items() if k in ("name", "root")}}
        for name, data in datasets.items()
    }
    return CrossCorpusResult(
        model=model, train_sets=[POOL_SEPARATOR.join(names) for names in train_sets], test_sets=test_sets,
        cells=cells, corpora=corpora, feature_set=feature_set_info(feature_set), seed=int(random_state),
        speaker_norm=bool(speaker_norm), balance=balance, command=command,
    )


def format_matrix(result: CrossCorpusResult) -> str:
    """The matrix as text: UA (%) per training set (rows) and test corpus (columns),
    the chance level beside, the shared emotions of each cross-corpus pair below."""
    header = ["train \\ test", *result.test_sets]
    rows = []
    for train in result.train_sets:
        row = [train]
        for test in result.test_sets:
            cell = result.cell(train, test)
            ua = cell["unweighted_accuracy"]
            if ua is None:
                row.append("-")
                continue
            spread = f" ± {100 * cell['unweighted_accuracy_std']:.1f}" if "unweighted_accuracy_std" in cell else ""
            row.append(f"{100 * ua:.1f}{spread} (chance {100 * cell['chance']:.0f})")
        rows.append(row)
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
             for line in [header, ["-" * w for w in widths], *rows]]
    title = (f"{result.model} — cross-corpus UA (%)" + (" + speaker norm" if result.speaker_norm else "")
             + (f" — pooled sets weighted: balance {result.balance}"
                if any(POOL_SEPARATOR in train for train in result.train_sets) else ""))
    notes = ["(rows: training set; columns: test corpus; a corpus in its own training set is scored "
             "by speaker-grouped folds, ± their std; elsewhere on every test clip of the shared "
             "emotions, the argmax over those only)"]
    seen = set()
    for cell in result.cells:
        emotions = " ".join(cell["emotions"])
        if cell["protocol"] == "cross-corpus" and (cell["train"], cell["test"]) not in seen:
            seen.add((cell["train"], cell["test"]))
            notes.append(f"{cell['train']} → {cell['test']}: {len(cell['emotions'])} shared emotions ({emotions})"
                         + (f"; {cell['note']}" if "note" in cell else ""))
    return "\n".join([title, *lines, *notes])


def save_json(results: Sequence[CrossCorpusResult], path) -> Path:
    """Every model's matrix in one JSON file: ``{"cross_corpus": [matrix, ...]}``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json_safe({"cross_corpus": [result.to_dict() for result in results]})
    path.write_text(json.dumps(data, indent=1, allow_nan=False, ensure_ascii=False) + "\n")
    return path
