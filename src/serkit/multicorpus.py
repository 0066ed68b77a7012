"""Training on several corpora at once: pooling, the emotions kept, balance weights.

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

from serkit.exceptions import ParameterError

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
    serkit.exceptions.ParameterError: model 'kmeans' cannot weight its training clips (--balance corpus); ...
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
        The datasets, the emotions (in :data:`serkit.labels.EMOTIONS` order, then
        others), and per corpus the number of clips dropped per emotion.
    """
    from serkit.evaluation import Dataset, _ordered_labels, _take

    union = _ordered_labels(np.concatenate([data.y.astype(str) for data in datasets.values()]))
    emotions = union if emotions is None else [e for e in union if e in set(emotions)]
    kept, dropped = {}, {}
    for name, data in datasets.items():
        y = data.y.astype(str)
        rows = np.flatnonzero(np.isin(y, emotions))
        lost = sorted(set(y.tolist()) - set(emotions))
        if lost:
            dropped[name] = {emotion: int((y == emotion).sum()) for emotion in lost}
        meta = None if data.meta is None else data.meta.iloc[rows].reset_index(drop=True)
        kept[name] = Dataset(_take(data.X, rows), data.y[rows], None if data.groups is None else data.groups[rows],
                             data.columns, data.corpus, meta)
    return kept, emotions, dropped


def pool(datasets: dict):
    """The clips of several corpora as one training set: ``(X, y, groups, corpus)``,
    speakers prefixed with their corpus's name (``nemo/nemo:EB0``) so that no two
    corpora share a speaker, as in the cross-corpus cells.

    Raises :class:`ParameterError` for a corpus without speakers.
    """
    from serkit.crosscorpus import _concat

    for name, data in datasets.items():
        if data.groups is None:
            raise ParameterError(f"corpus {name!r} has no speakers: pooled training needs them")
    X = _concat([data.X for data in datasets.values()])
    y = np.concatenate([data.y.astype(str) for data in datasets.values()])
    groups = np.concatenate([np.char.add(f"{name}/", data.groups.astype(str)) for name, data in datasets.items()])
    corpus = np.concatenate([np.full(len(data.y), name) for name, data in datasets.items()])
    return X, y, groups, corpus


def train_pooled(model: str, datasets: dict, feature_set, model_dir, *, emotions: Sequence[str] | None = None,
                 balance: str = "corpus", speaker_norm: bool = False, adapt: str = "none", n_splits: int = 5,
                 random_state: int = 0, params: dict | None = None,
                 cross_validate: bool = True, command: str | None = None, progress: bool = True):
    """Fit ``model`` on several corpora pooled, weighted by ``balance``, and save it.

    Parameters
    ----------
    model : str
        A name from :func:`serkit.models.available_models`; with ``balance="corpus"``
        one that takes sample weights (:func:`serkit.models.weighted_models`).
    datasets : dict of str → serkit.evaluation.Dataset
        The corpora by name, one feature set for all, with speakers.
    feature_set : serkit.features.FeatureSet
    model_dir : str or Path
    emotions : list of str, optional
        The classes; clips of other emotions are dropped. Default: the union.
    balance : {"corpus", "none"}
        See :func:`training_weights`.
    speaker_norm : bool
        Standardise every speaker with their own statistics.
    adapt : {"none", "corpus", "speaker"}
        Standardise each training corpus (or speaker) by its own statistics and save the
        model behind the pooled training statistics (:func:`serkit.adaptation.adapted_model`),
        which a batch's or a saved source's statistics replace at prediction.
    n_splits, random_state
        The speaker folds of the stored figures, the seed.
    params : dict, optional
        The model's parameters (:func:`serkit.models.make_model`), recorded in the metadata.
    cross_validate : bool
        Store the pooled row of the cross-corpus matrix (each corpus's held-out
        speakers, :func:`serkit.crosscorpus.cross_corpus_matrix`) in the metadata.

    Returns
    -------
    (Path, CrossCorpusResult or None, dict)
        The model directory, the figures, the clips dropped per corpus and emotion.

    Examples
    --------
    >>> from serkit.evaluation import Dataset
    >>> rng = np.random.default_rng(0)
    >>> def corpus(emotions):
    ...     y = np.repeat(emotions, 24)
    ...     X = rng.normal(size=(len(y), 2)) + np.array([[e == "angry", e == "sad"] for e in y]) * 4
    ...     return Dataset(X, y, np.tile(np.arange(6).astype(str), len(y) // 6), ["x0", "x1"])
    >>> from serkit.features import get_feature_set
    >>> import tempfile
    >>> path, _, dropped = train_pooled("logreg", {"a": corpus(["angry", "sad", "calm"]), "b": corpus(["angry", "sad"])},
    ...     get_feature_set("functionals"), tempfile.mkdtemp(), emotions=["angry", "sad"], cross_validate=False)
    >>> dropped
    {'a': {'calm': 24}}
    """
    from serkit.adaptation import SourceAdapter, adapt_training, adaptation_metadata, adapted_model
    from serkit.artifacts import save_model
    from serkit.crosscorpus import POOL_SEPARATOR, cross_corpus_matrix
    from serkit.models import fit_model, make_model

    check_balance(model, balance)
    datasets, emotions, dropped = keep_emotions(datasets, emotions)
    X, y, groups, corpus = pool(datasets)
    result = None
    if cross_validate:
        result = cross_corpus_matrix(model, datasets, [list(datasets)], list(datasets), n_splits=n_splits,
                                     random_state=random_state, speaker_norm=speaker_norm, balance=balance,
                                     adapt=adapt, progress=progress, feature_set=feature_set, command=command,
                                     params=params)
    weights = training_weights(corpus, y, balance)
    if speaker_norm:
        X = SourceAdapter().fit_transform(X, groups)
    X, adaptation = adapt_training(X, adapt, corpus, groups)
    estimator = fit_model(make_model(model, random_state=random_state, **(params or {})), X, y, groups,
                          sample_weight=weights)
    if adaptation is not None:
        estimator = adapted_model(estimator, adaptation["pooled"])
    corpora = {
        name: {**{k: v for k, v in data.corpus.items() if k in ("name", "root")}, "n_clips": int(len(data.y)),
               "n_speakers": int(len(np.unique(data.groups))), "emotions": sorted(set(data.y.astype(str).tolist()))}
        for name, data in datasets.items()
    }
    metrics = None if result is None else {
        "protocol": f"per corpus, its speakers in {n_splits} grouped folds (the rest of the pool always in training)",
        "speaker_norm": bool(speaker_norm), "adapt": adapt, "cross_corpus": result.to_dict()}
    extra = {
        "model": model, "model_params": dict(params or {}), "n_train": int(len(y)), "command": command,
        "seed": int(random_state),
        "corpus": {"name": POOL_SEPARATOR.join(datasets), "n_clips": int(len(y)), "n_speakers": int(len(np.unique(groups))),
                   "corpora": corpora},
        "emotions": list(emotions), "balance": balance, "dropped": dropped,
        "weights": weight_summary(corpus, y, weights),
    }
    if adaptation is not None:
        extra["adaptation"] = adaptation_metadata(
            adapt, adaptation, source=f"the pooled training clips of {POOL_SEPARATOR.join(datasets)}")
    path = save_model(model_dir, estimator, feature_set, metrics=metrics, speaker_norm=speaker_norm, extra=extra)
    return path, result, dropped
