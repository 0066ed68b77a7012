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

from serkit.core.exceptions import ParameterError
from serkit.evaluation.augmented import copy_rows
from serkit.evaluation.dataset import ordered_labels
from serkit.evaluation.metrics import calibration_metrics, fold_metrics
from serkit.evaluation.pooling import check_balance, training_weights
from serkit.evaluation.protocols import feature_set_info, json_safe, split_indices
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
    adapt: str = "none"
    command: str | None = None
    augment: dict | None = None

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
            "adapt": self.adapt,
            "command": self.command,
            "augment": self.augment,
        }


def _fit_predict(model, random_state, X_train, y_train, groups_train, X_test, groups_test, emotions,
                 speaker_norm, sample_weight=None, *, adapt="none", corpus_train=None, params=None, test_grain=None,
                 plain_params=None, plain_model=None, voices_test=None):
    """Probabilities of the test clips, by the way the test side is standardised.

    ``{"": (proba, classes)}`` without adaptation; with ``adapt`` also ``"fallback"``:
    a clip without statistics of its source, answered as a dual-path model answers it
    (:mod:`serkit.models.dualpath`), by the *plain* head, fitted on the training clips as
    recorded (``plain_model``, default ``model``, with ``plain_params``, default ``params``), beside ``""``, the adapted head with
    each test source standardised by its own statistics; with ``voices_test`` (each test clip's
    speaker embedding) also ``"voice"``: the adapted head with the test side standardised voice by
    voice, as ``serkit predict DIR --adapt`` standardises a folder (:func:`standardise_voices`).
    ``classes`` are the model's; :func:`_shared` keeps the shared ``emotions``.
    """
    from serkit.features.adaptation import SourceAdapter, adapt_training, training_groups
    from serkit.models import fit_model, make_model

    if speaker_norm:
        # Each side standardised with its own speakers' statistics (no labels).
        X_train = SourceAdapter().fit_transform(X_train, groups_train)
        X_test = SourceAdapter().fit_transform(X_test, groups_test)
    X_fit, adaptation = adapt_training(X_train, adapt, corpus_train, groups_train)
    fitted = make_model(model, random_state=random_state, **(params or {}))
    fit_model(fitted, X_fit, y_train, groups_train, sample_weight=sample_weight)
    classes = [str(c) for c in fitted.classes_]
    if adaptation is None:
        return {"": (np.asarray(fitted.predict_proba(X_test)), classes)}
    plain = make_model(plain_model or model, random_state=random_state,
                       **((params if plain_params is None else plain_params) or {}))
    fit_model(plain, X_train, y_train, groups_train, sample_weight=sample_weight)
    # The test side's source: all its clips at the corpus grain, each speaker at the speaker grain.
    test_groups = training_groups(test_grain or adapt, np.zeros(len(groups_test)), groups_test)
    variants = {
        "": (np.asarray(fitted.predict_proba(SourceAdapter().fit_transform(X_test, test_groups))), classes),
        "fallback": (np.asarray(plain.predict_proba(X_test)), [str(c) for c in plain.classes_]),
    }
    if voices_test is not None:
        variants["voice"] = (np.asarray(fitted.predict_proba(standardise_voices(X_test, voices_test))), classes)
    return variants


def standardise_voices(X, embeddings) -> np.ndarray:
    """``X`` (one row per clip of a set without speaker labels, a folder) standardised voice by voice:
    the voices :func:`serkit.inference.speakers.find_voices` finds among the clips' speaker
    ``embeddings``, each by its own statistics pulled toward the set's
    (:data:`~serkit.features.adaptation.SPEAKER_PRIOR_CLIPS`), as the predictor adapts a folder.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=192), rng.normal(size=192)
    >>> E = np.stack([v + 0.3 * rng.normal(size=192) for v in [a] * 40 + [b] * 40])
    >>> X = np.r_[rng.normal(0, 1, (40, 2)), rng.normal(5, 1, (40, 2))]
    >>> Z = standardise_voices(X, E)
    >>> bool(abs(Z[:40].mean()) < 1.0 and abs(Z[40:].mean()) < 1.0)
    True
    """
    from serkit.features.adaptation import SPEAKER_PRIOR_CLIPS, SourceAdapter
    from serkit.inference.speakers import find_voices

    return SourceAdapter(min_clips=1, prior_clips=SPEAKER_PRIOR_CLIPS).fit_transform(X, find_voices(embeddings).astype(str))


def _shared(proba, classes, emotions):
    """The columns of the shared ``emotions`` only (in that order): the argmax is over those."""
    from serkit.models import align_probabilities

    keep = [i for i, c in enumerate(classes) if c in emotions]
    return align_probabilities(proba[:, keep], [classes[i] for i in keep], emotions)


def _all_emotions_ua(y_true, proba, classes) -> float:
    """UA with the argmax over all the model's emotions (what a user sees): a clip predicted
    as an emotion the test corpus lacks is wrong."""
    from sklearn.metrics import recall_score

    y_pred = np.asarray(classes)[np.argmax(proba, axis=1)]
    present = sorted(set(y_true.tolist()))
    return float(np.mean(recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)))


def _with_copies(parts, augment):
    """``parts`` (``(dataset, prefix, rows)``, prefix ``name/``) with, per part, the copies in
    ``augment`` of that part's speakers (:func:`serkit.evaluation.augmented.copy_rows`)."""
    extra = [(augment[prefix[:-1]], prefix, copy_rows(augment[prefix[:-1]], data.groups[rows]))
             for data, prefix, rows in parts if prefix[:-1] in (augment or {})]
    return parts + [part for part in extra if len(part[2])]


def _cell(model, datasets, train_names, test_name, *, n_splits, random_state, speaker_norm, balance, adapt="none",
          params=None, test_grain=None, plain_params=None, augment=None, plain_model=None, voices=None):
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
    folds, pooled_true, pooled_rows, n_train = [], [], [], 0
    pooled = {}
    for fold, (train_idx, test_idx) in enumerate(splits, start=1):
        parts = [(datasets[name], f"{name}/", np.arange(len(datasets[name].y))) for name in others]
        if within:
            parts.append((test, f"{test_name}/", train_idx))
        n_originals, parts = len(parts), _with_copies(parts, augment)
        n_copies = sum(len(rows) for _, _, rows in parts[n_originals:])
        X_train = concat_rows([take_rows(data.X, rows) for data, _, rows in parts])
        y_train = np.concatenate([data.y[rows] for data, _, rows in parts]).astype(str)
        # Speaker ids kept apart per corpus: "01" in two corpora is two people.
        groups_train = np.concatenate([np.char.add(prefix, data.groups[rows].astype(str)) for data, prefix, rows in parts])
        corpus_train = np.concatenate([np.full(len(rows), prefix) for _, prefix, rows in parts])
        test_idx = test_idx[np.isin(test.y[test_idx], emotions)]
        variants = _fit_predict(model, random_state, X_train, y_train, groups_train, take_rows(test.X, test_idx),
                                test.groups[test_idx].astype(str), emotions, speaker_norm,
                                training_weights(corpus_train, y_train, balance), adapt=adapt, corpus_train=corpus_train,
                                params=params, test_grain=test_grain, plain_params=plain_params, plain_model=plain_model,
                                voices_test=None if test_name not in (voices or {}) else voices[test_name][test_idx])
        y_true = test.y[test_idx].astype(str)
        fold_row = {"fold": fold, "n_train": int(len(y_train)), "n_test": int(len(test_idx)),
                    "test_speakers": sorted(set(test.groups[test_idx].astype(str).tolist()))}
        if augment:
            fold_row["n_copies"] = int(n_copies)
        for variant, (proba, classes) in variants.items():
            suffix = f"_{variant}" if variant else ""
            metrics = fold_metrics(y_true, _shared(proba, classes, emotions), emotions)
            fold_row.update({f"{key}{suffix}": value for key, value in metrics.items()})
            fold_row[f"unweighted_accuracy_all{suffix}"] = _all_emotions_ua(y_true, proba, classes)
            fold_row[f"ece_all{suffix}"] = calibration_metrics(y_true, proba, classes)["ece"]
            pooled.setdefault(variant, []).append(_shared(proba, classes, emotions))
        folds.append(fold_row)
        pooled_true.append(y_true)
        pooled_rows.append(test_idx)
        n_train = max(n_train, len(y_train))
    y_true, proba = np.concatenate(pooled_true), np.concatenate(pooled[""])
    y_pred = np.asarray(emotions)[np.argmax(proba, axis=1)]
    averaged = [f"{metric}{suffix}" for suffix in ["", *(f"_{v}" for v in pooled if v)]
                for metric in ("accuracy", "unweighted_accuracy", "unweighted_accuracy_all", "macro_f1", "roc_auc", "ece", "ece_all")]
    cell.update({
        "n_train": int(n_train),
        "n_test": int(len(y_true)),
        **{metric: float(np.nanmean([f[metric] for f in folds])) for metric in averaged},
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
                        speaker_norm: bool = False, balance: str = "corpus", adapt: str = "none", progress: bool = True,
                        feature_set=None, command: str | None = None, params: dict | None = None,
                        test_grain: str | None = None, plain_params: dict | None = None,
                        augment: dict | None = None, plain_model: str | None = None,
                        voices: dict | None = None) -> CrossCorpusResult:
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
    adapt : {"none", "corpus", "speaker"}
        Standardise each training corpus (or speaker) by its own statistics
        (:func:`serkit.features.adaptation.adapt_training`). A cell then scores the test clips
        standardised by their own source's statistics (all the cell's test clips as one
        source, or each speaker) and, under keys ending in ``_fallback``, as a single clip
        without source statistics is scored: by the model's plain head, fitted on the
        training clips as recorded (:mod:`serkit.models.dualpath`).
    params : dict, optional
        The model's parameters (:func:`serkit.models.make_model`), e.g. ``{"C": 0.01}``.
    test_grain : {"corpus", "speaker"}, optional
        With ``adapt``, the grain of the test side's statistics when it differs from the
        training side's (``corpus``: a model trained per speaker, adapted to a folder).
    plain_params : dict, optional
        With ``adapt``, the plain head's parameters (default ``params``).
    plain_model : str, optional
        With ``adapt``, the plain head's model (default ``model``): the heads may be of two families.
    augment : dict of str → serkit.evaluation.Dataset, optional
        Corrupted copies of a corpus's clips (:func:`serkit.evaluation.augmented.augmented_dataset`,
        each copy with its source clip's speaker), added to each fold's training part (both
        heads): only the copies of that part's speakers, so never a copy of a held-out
        speaker's clip nor of a leave-corpus-out cell's test corpus. The test side is clean.
    voices : dict of str → np.ndarray, optional
        With ``adapt``, a test corpus's speaker embeddings (one row per clip, in its
        dataset's order; :class:`serkit.inference.speakers.SpeakerEmbedder`): its cells also
        score the test side standardised voice by voice, as a folder is adapted
        (:func:`standardise_voices`), under keys ending in ``_voice``.
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

    from serkit.features.adaptation import training_groups

    training_groups(adapt, [], [])  # an unknown grain fails now
    for name in {model, plain_model or model}:
        check_balance(name, balance)  # an unknown model or balance fails now, not after the first cell
    train_sets = [list(names) for names in (train_sets or [[name] for name in datasets])]
    test_sets = list(test_sets or datasets)
    for name in {n for names in train_sets for n in names} | set(test_sets):
        if name not in datasets:
            raise ParameterError(f"corpus {name!r} is not among the datasets ({', '.join(datasets)})")
        if datasets[name].groups is None:
            raise ParameterError(f"corpus {name!r} has no speakers: cross-corpus cells need them")
    for name in augment or {}:
        if name not in datasets:
            raise ParameterError(f"augmented copies of {name!r}: not among the datasets ({', '.join(datasets)})")
    for name, embeddings in (voices or {}).items():
        if name not in datasets or len(embeddings) != len(datasets[name].y):
            raise ParameterError(f"voices of {name!r}: one embedding per clip of a corpus among the datasets")
    jobs = [(names, test) for names in train_sets for test in test_sets]
    cells = [
        _cell(model, datasets, names, test, n_splits=n_splits, random_state=random_state, speaker_norm=speaker_norm,
              balance=balance, adapt=adapt, params=params, test_grain=test_grain, plain_params=plain_params,
              augment=augment, plain_model=plain_model, voices=voices)
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
        speaker_norm=bool(speaker_norm), balance=balance, adapt=adapt, command=command,
        augment={name: {**data.corpus.get("augment", {}), "n_copies": int(len(data.y))} for name, data in augment.items()}
        if augment else None,
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
            plain = f" / plain {100 * cell['unweighted_accuracy_fallback']:.1f}" if "unweighted_accuracy_fallback" in cell else ""
            row.append(f"{100 * ua:.1f}{spread}{plain} (chance {100 * cell['chance']:.0f})")
        rows.append(row)
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
             for line in [header, ["-" * w for w in widths], *rows]]
    title = (f"{result.model} — cross-corpus UA (%)" + (" + speaker norm" if result.speaker_norm else "")
             + (f" — adapted to each test source (training: each {result.adapt} standardised) / plain: "
                "the plain head (trained on the clips as recorded), as a single clip is answered" if result.adapt != "none" else "")
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
