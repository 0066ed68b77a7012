"""Training: fit a model on one corpus or several pooled, then hand it to :mod:`serkit.models.artifacts`.

:func:`train_model` is the one path ``serkit train`` takes. It evaluates the model
first (speaker-grouped folds on one corpus; on several, each corpus's held-out
speakers with the rest of the pool in training, the pooled row of
:func:`serkit.evaluation.crosscorpus.cross_corpus_matrix`), then fits it on every
clip — per-speaker standardised if asked, several corpora weighted by their balance
(:mod:`serkit.evaluation.pooling`) — and saves the fitted estimator with those
figures. Saving is :func:`serkit.models.artifacts.save_model`'s alone: it reads and
writes model directories and never trains.

Examples
--------
>>> import numpy as np, tempfile
>>> from serkit.evaluation import Dataset
>>> from serkit.features import get_feature_set
>>> rng = np.random.default_rng(0)
>>> def corpus(emotions):
...     y = np.repeat(emotions, 24)
...     X = rng.normal(size=(len(y), 2)) + np.array([[e == "angry", e == "sad"] for e in y]) * 4
...     return Dataset(X, y, np.tile(np.arange(6).astype(str), len(y) // 6), ["x0", "x1"])
>>> path, _, dropped = train_model("logreg", {"a": corpus(["angry", "sad", "calm"]), "b": corpus(["angry", "sad"])},
...     get_feature_set("functionals"), tempfile.mkdtemp(), emotions=["angry", "sad"], cross_validate=False)
>>> dropped
{'a': {'calm': 24}}
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from serkit.evaluation.augmented import add_copies, augment_metadata
from serkit.evaluation.crosscorpus import POOL_SEPARATOR, cross_corpus_matrix
from serkit.evaluation.pooling import check_balance, keep_emotions, pool, training_weights, weight_summary
from serkit.evaluation.protocols import evaluate
from serkit.features.adaptation import SourceAdapter, adapt_training, adaptation_metadata, adapted_model
from serkit.inference.familiarity import MIN_REFERENCE, fit_familiarity
from serkit.models import fit_model, make_model
from serkit.models.artifacts import save_model
from serkit.models.dualpath import DualPathClassifier


def train_model(model: str, datasets: dict, feature_set, model_dir, *, emotions: Sequence[str] | None = None,
                balance: str = "corpus", speaker_norm: bool = False, adapt: str = "none", params: dict | None = None,
                n_splits: int = 5, random_state: int = 0, cross_validate: bool = True, command: str | None = None,
                progress: bool = True, plain_params: dict | None = None, temperatures: dict | None = None,
                augment: dict | None = None, plain_model: str | None = None):
    """Evaluate ``model``, fit it on all of ``datasets`` and save it to ``model_dir``.

    Parameters
    ----------
    model : str
        A name from :func:`serkit.models.available_models`; to pool several corpora
        with ``balance="corpus"``, one that takes sample weights
        (:func:`serkit.models.weighted_models`).
    datasets : dict of str → serkit.evaluation.Dataset
        The corpora by name, one feature set for all. Several are pooled (they need
        speakers, kept apart per corpus); one is trained on as it is.
    feature_set : serkit.features.FeatureSet
        The set the datasets were extracted with.
    model_dir : str or Path
    emotions : list of str, optional
        Several corpora: the classes; clips of other emotions are dropped. Default: the union.
    balance : {"corpus", "none"}
        Several corpora: the sample weights (:func:`serkit.evaluation.pooling.training_weights`);
        one corpus is trained unweighted.
    speaker_norm : bool
        Standardise every speaker with their own statistics.
    adapt : {"none", "corpus", "speaker"}
        Not ``none``: a dual-path model (:class:`serkit.models.dualpath.DualPathClassifier`,
        trained as a pool, even of one corpus). Its *adapted* head is fitted on each training
        corpus (or speaker) standardised by its own statistics and saved behind the pooled
        training statistics (:func:`serkit.features.adaptation.adapted_model`), which a
        batch's or a saved source's statistics replace at prediction; its *plain* head, fitted
        on the clips as recorded, answers a clip without source statistics.
    params : dict, optional
        The model's parameters (:func:`serkit.models.make_model`, e.g. ``{"C": 0.01}``),
        recorded in the metadata; with ``adapt``, the adapted head's.
    plain_params : dict, optional
        With ``adapt``: the plain head's parameters (default ``params``).
    plain_model : str, optional
        With ``adapt``: the plain head's model (default ``model``), e.g. ``lda`` beside an adapted ``logreg``.
    temperatures : dict, optional
        With ``adapt``: each head's temperature (``{"plain": T, "adapted": T}``, default 1),
        chosen outside (e.g. leave-one-corpus-out); recorded in the metadata.
    n_splits, random_state
        The speaker folds of the stored figures, the seed.
    cross_validate : bool
        Evaluate first and store the figures in the metadata.
    command : str, optional
        Recorded in the metadata.
    progress : bool
        Show the evaluation's progress bar.
    augment : dict of str → serkit.evaluation.Dataset, optional
        Corrupted copies of training clips by corpus name
        (:func:`serkit.evaluation.augmented.augmented_dataset`), added to the final fit only
        (trained as a pool, even of one corpus); the stored figures are without them.

    Returns
    -------
    (Path, EvaluationResult or CrossCorpusResult or None, dict)
        The model directory; the figures (an :class:`~serkit.evaluation.EvaluationResult`
        for one corpus, a :class:`~serkit.evaluation.crosscorpus.CrossCorpusResult` for
        several); the clips dropped per corpus and emotion.
    """
    if len(datasets) == 1 and adapt == "none" and not augment:
        [dataset] = datasets.values()
        return (*_train_one(model, dataset, feature_set, model_dir, speaker_norm=speaker_norm, params=params,
                            n_splits=n_splits, random_state=random_state, cross_validate=cross_validate,
                            command=command, progress=progress), {})
    return _train_pooled(model, datasets, feature_set, model_dir, emotions=emotions, balance=balance,
                         speaker_norm=speaker_norm, adapt=adapt, params=params, n_splits=n_splits,
                         random_state=random_state, cross_validate=cross_validate, command=command, progress=progress,
                         plain_params=plain_params, temperatures=temperatures,
                         augment=augment, plain_model=plain_model)


def fit_estimator(model: str, X, y, groups, *, speaker_norm: bool = False, random_state: int = 0,
                  sample_weight=None, params: dict | None = None):
    """``model`` fitted on every clip, per-speaker standardised first if ``speaker_norm``.

    >>> X, y = np.eye(4), np.array(["a", "b", "a", "b"])
    >>> [str(label) for label in fit_estimator("logreg", X, y, None).classes_]
    ['a', 'b']
    """
    if speaker_norm:
        X = SourceAdapter().fit_transform(X, groups)
    return fit_model(make_model(model, random_state=random_state, **(params or {})), X, y, groups,
                     sample_weight=sample_weight)


def training_familiarity(feature_set, X, groups, *, y=None, speaker_norm: bool = False):
    """Familiarity statistics of the features a model is trained on (per-speaker standardised
    with ``speaker_norm``, as the model sees them; with their emotions ``y``, the emotion
    part too), or None for frame sets, bundles and fewer than
    :data:`~serkit.inference.familiarity.MIN_REFERENCE` clips.

    >>> rng = np.random.default_rng(0)
    >>> from serkit.features import get_feature_set
    >>> training_familiarity(get_feature_set("seed26"), rng.normal(size=(40, 26)), None).reference.shape
    (40,)
    """
    if feature_set.kind != "vector" or len(X) < MIN_REFERENCE:
        return None
    if speaker_norm:
        X = SourceAdapter().fit_transform(X, groups)
    return fit_familiarity(X, groups, y)


def _train_one(model, dataset, feature_set, model_dir, *, speaker_norm, params, n_splits, random_state,
               cross_validate, command, progress):
    """One corpus: speaker-grouped CV, then the fit on every clip; ``(Path, EvaluationResult or None)``."""
    result, metrics = None, None
    if cross_validate:
        result = evaluate(model, dataset.X, dataset.y, dataset.groups, protocol="speaker",
                          n_splits=n_splits, random_state=random_state,
                          speaker_norm=speaker_norm, progress=progress,
                          corpus=dataset.corpus, feature_set=feature_set, command=command)
        run = result.runs[0]
        metrics = {"protocol": f"speaker-grouped {n_splits}-fold CV",
                   "speaker_norm": bool(speaker_norm), "summary": run.summary,
                   # The ECE serkit reports: every clip's out-of-fold probability in one set of
                   # bins (summary's per-fold ECE, on a fifth of the clips, reads higher).
                   "pooled_out_of_fold": {metric: run.calibration[metric] for metric in ("ece", "brier")},
                   "folds": run.folds, "confusion_normalized": run.confusion_normalized,
                   "members": run.members}
    estimator = fit_estimator(model, dataset.X, dataset.y, dataset.groups, speaker_norm=speaker_norm,
                              random_state=random_state, params=params)
    # The registry name, also for models that are not pipelines named after it.
    extra = {"model": model, "model_params": dict(params or {}), "corpus": dataset.corpus, "n_train": int(len(dataset.y)),
             "command": command, "seed": int(random_state)}
    path = save_model(model_dir, estimator, feature_set, metrics=metrics, speaker_norm=speaker_norm, extra=extra,
                      familiarity=training_familiarity(feature_set, dataset.X, dataset.groups, y=dataset.y,
                                                       speaker_norm=speaker_norm))
    return path, result


def pooled_rows(datasets: dict, emotions: Sequence[str], augment: dict | None = None):
    """``(X, y, groups, corpus)`` a model of several corpora is fitted on (and its familiarity
    statistics): the corpora's clips pooled (``datasets`` and ``emotions`` as
    :func:`~serkit.evaluation.pooling.keep_emotions` returns them), with the ``augment`` copies
    (corpus name → copies' Dataset) of their clips of ``emotions`` after them.

    >>> from serkit.evaluation import Dataset
    >>> data = Dataset(np.zeros((4, 2)), np.array(["sad", "sad", "calm", "calm"]), np.array(["a", "a", "b", "b"]), ["f0", "f1"], {"name": "toy"})
    >>> X, y, groups, corpus = pooled_rows(*keep_emotions({"toy": data}, ["sad"])[:2])
    >>> X.shape, corpus.tolist()
    ((2, 2), ['toy', 'toy'])
    """
    return add_copies(pool(datasets), augment, emotions)


def _train_pooled(model, datasets, feature_set, model_dir, *, emotions, balance, speaker_norm, adapt, params,
                  n_splits, random_state, cross_validate, command, progress, plain_params=None, temperatures=None,
                  augment=None, plain_model=None):
    """Several corpora pooled, weighted by ``balance``, each standardised at the ``adapt`` grain;
    ``(Path, CrossCorpusResult or None, dropped)``."""
    plain_model = plain_model or model
    for name in {model, plain_model}:
        check_balance(name, balance)
    datasets, emotions, dropped = keep_emotions(datasets, emotions)
    result = None
    if cross_validate:
        result = cross_corpus_matrix(model, datasets, [list(datasets)], list(datasets), n_splits=n_splits,
                                     random_state=random_state, speaker_norm=speaker_norm, balance=balance,
                                     adapt=adapt, params=params, progress=progress, feature_set=feature_set,
                                     command=command, plain_params=plain_params, plain_model=plain_model)
    X, y, groups, corpus = pooled_rows(datasets, emotions, augment)
    weights = training_weights(corpus, y, balance)
    X_fit, adaptation = adapt_training(X, adapt, corpus, groups)
    estimator = fit_estimator(model, X_fit, y, groups, speaker_norm=speaker_norm, random_state=random_state,
                              sample_weight=weights, params=params)
    if adaptation is not None:
        plain_params = params if plain_params is None else plain_params
        plain = fit_estimator(plain_model, X, y, groups, speaker_norm=speaker_norm, random_state=random_state,
                              sample_weight=weights, params=plain_params)
        estimator = DualPathClassifier.of(plain, adapted_model(estimator, adaptation["pooled"]), temperatures=temperatures)
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
    if augment:
        extra["augment"] = augment_metadata(augment)
    if adaptation is not None:
        heads = {name: {"model": head_model, "model_params": dict(head_params or {}),
                        "temperature": estimator.temperatures_[name]}
                 for name, head_model, head_params in (("plain", plain_model, plain_params), ("adapted", model, params))}
        extra["adaptation"] = adaptation_metadata(
            adapt, adaptation, source=f"the pooled training clips of {POOL_SEPARATOR.join(datasets)}", heads=heads)
    path = save_model(model_dir, estimator, feature_set, metrics=metrics, speaker_norm=speaker_norm, extra=extra,
                      familiarity=training_familiarity(feature_set, X, groups, y=y, speaker_norm=speaker_norm))
    return path, result, dropped
