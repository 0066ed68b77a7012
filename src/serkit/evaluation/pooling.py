"""Several corpora as one training set: pooling, the emotions kept, balance weights.

Pooled naïvely, the larger corpus dominates the fit (nEMO has 1.7× RAVDESS's clips) and
each corpus's most frequent emotions dominate within it. :func:`balance_weights`
gives every clip a sample weight so that **each corpus weighs the same in total and,
within a corpus, each of its emotions weighs the same**. The weights average 1 (they
sum to the number of clips), so a model's regularisation means what it meant
unweighted.

Examples
--------
>>> import numpy as np
>>> corpus = np.array(["a"] * 4 + ["b"] * 2)
>>> y = np.array(["sad", "sad", "sad", "angry", "sad", "angry"])
>>> balance_weights(corpus, y).round(3).tolist()
[0.5, 0.5, 0.5, 1.5, 1.5, 1.5]
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from serkit.core.exceptions import ParameterError
from serkit.evaluation.dataset import ordered_labels
from serkit.features.bundle import concat_rows

BALANCES = ("none", "corpus")
"""``--balance`` choices: ``none`` (every clip weighs 1), ``corpus`` (:func:`balance_weights`)."""


def balance_weights(corpus, y) -> np.ndarray:
    """Sample weights giving each corpus equal total weight, and within each corpus
    each of its emotions equal weight; they sum to ``len(y)``.

    Parameters
    ----------
    corpus : array-like of str
        The corpus of each clip.
    y : array-like of str
        The emotion of each clip.

    Returns
    -------
    np.ndarray of float, shape (n_clips,)

    Examples
    --------
    >>> balance_weights(["a", "a", "b"], ["sad", "sad", "sad"]).tolist()
    [0.75, 0.75, 1.5]
    """
    corpus, y = np.asarray(corpus).astype(str), np.asarray(y).astype(str)
    if corpus.shape != y.shape:
        raise ParameterError(f"{len(corpus)} corpus names for {len(y)} labels")
    weights = np.zeros(len(y))
    names = np.unique(corpus)
    for name in names:
        in_corpus = corpus == name
        emotions = np.unique(y[in_corpus])
        for emotion in emotions:
            cell = in_corpus & (y == emotion)
            weights[cell] = 1.0 / (len(names) * len(emotions) * cell.sum())
    return weights * len(y)


def training_weights(corpus, y, balance: str = "corpus") -> np.ndarray | None:
    """The weights ``balance`` asks for, or None when the clips are to weigh the same:
    ``none``, or a training set of one corpus (trained as a single corpus always is).

    >>> training_weights(["a", "a"], ["sad", "angry"]) is None
    True
    """
    if balance not in BALANCES:
        raise ParameterError(f"--balance {balance!r}: choose one of {', '.join(BALANCES)}")
    if balance == "none" or len(set(np.asarray(corpus).astype(str).tolist())) < 2:
        return None
    return balance_weights(corpus, y)


def check_balance(model: str, balance: str) -> None:
    """:class:`ParameterError` for an unknown ``balance`` or model, or weights the
    model cannot take: checked before any long work.

    >>> check_balance("kmeans", "corpus")
    Traceback (most recent call last):
    ...
    serkit.core.exceptions.ParameterError: model 'kmeans' cannot weight its training clips (--balance corpus); ...
    """
    from serkit.models import make_model, require_sample_weight

    training_weights([], [], balance)
    estimator = make_model(model)
    if balance != "none":
        require_sample_weight(estimator)


def parse_emotions(text: str | None, available: Sequence[str]) -> list[str] | None:
    """``--emotions neutral,happy`` → ``["neutral", "happy"]``, each checked against
    the emotions of the training clips (``available``); None for the union.

    >>> parse_emotions("sad, angry", ["angry", "sad", "calm"])
    ['sad', 'angry']
    """
    if text is None:
        return None
    emotions = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [emotion for emotion in emotions if emotion not in set(available)]
    if unknown:
        raise ParameterError(f"--emotions: {', '.join(unknown)} not in the training corpora "
                             f"(they have: {', '.join(available)})")
    if len(emotions) < 2:
        raise ParameterError(f"--emotions {text!r}: name at least two emotions")
    return emotions


def weight_summary(corpus, y, weights) -> dict:
    """Per corpus: clips, emotions, and the total and per-clip weight of each emotion
    (for a model's metadata)."""
    corpus, y = np.asarray(corpus).astype(str), np.asarray(y).astype(str)
    weights = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    summary = {}
    for name in dict.fromkeys(corpus.tolist()):
        rows = corpus == name
        summary[name] = {
            "n_clips": int(rows.sum()),
            "total_weight": round(float(weights[rows].sum()), 4),
            "per_emotion": {
                emotion: {"n_clips": int((rows & (y == emotion)).sum()),
                          "clip_weight": round(float(weights[rows & (y == emotion)][0]), 6)}
                for emotion in sorted(set(y[rows].tolist()))
            },
        }
    return summary


def keep_emotions(datasets: dict, emotions: Sequence[str] | None = None):
    """Each corpus's clips of ``emotions`` only (default: the union of all the
    corpora's emotions, so nothing is dropped), and what was dropped.

    Returns
    -------
    (dict of str → Dataset, list of str, dict)
        The datasets, the emotions (in :data:`serkit.core.labels.EMOTIONS` order, then
        others), and per corpus the number of clips dropped per emotion.
    """
    union = ordered_labels(np.concatenate([data.y.astype(str) for data in datasets.values()]))
    emotions = union if emotions is None else [e for e in union if e in set(emotions)]
    kept, dropped = {}, {}
    for name, data in datasets.items():
        y = data.y.astype(str)
        rows = np.flatnonzero(np.isin(y, emotions))
        lost = sorted(set(y.tolist()) - set(emotions))
        if lost:
            dropped[name] = {emotion: int((y == emotion).sum()) for emotion in lost}
        kept[name] = data.take(rows)
    return kept, emotions, dropped


def pool(datasets: dict):
    """The clips of several corpora as one training set: ``(X, y, groups, corpus)``,
    speakers prefixed with their corpus's name (``nemo/nemo:EB0``) so that no two
    corpora share a speaker, as in the cross-corpus cells.

    Raises :class:`ParameterError` for a corpus without speakers.
    """
    for name, data in datasets.items():
        if data.groups is None:
            raise ParameterError(f"corpus {name!r} has no speakers: pooled training needs them")
    X = concat_rows([data.X for data in datasets.values()])
    y = np.concatenate([data.y.astype(str) for data in datasets.values()])
    groups = np.concatenate([np.char.add(f"{name}/", data.groups.astype(str)) for name, data in datasets.items()])
    corpus = np.concatenate([np.full(len(data.y), name) for name, data in datasets.items()])
    return X, y, groups, corpus
