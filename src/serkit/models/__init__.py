"""Models by name: scikit-learn classifiers with their own preprocessing.

:func:`make_model` builds a fresh, unfitted classifier. Every vector model is a
:class:`~sklearn.pipeline.Pipeline` of three named steps:

1. ``clip`` — :class:`~serkit.models.preprocessing.QuantileClipper`, per-column
   outlier caps learned on the training data (the reference capped rolloff at
   3000), or ``"passthrough"`` with ``clip_quantiles=None``;
2. ``scale`` — :class:`~sklearn.preprocessing.StandardScaler`;
3. the estimator, under the model's name (``dense``, ``svm``, …).

So scaling and capping are always learned on the training part of a split. Models
take ``X`` of shape (n_clips, n_features); ``classes_`` are emotion names.

The reference's four: ``dense`` (PyTorch dense net), ``mlp``, ``logreg``, ``kmeans``.
Stronger ones: ``svm``, ``forest``, ``boosting``, ``logreg-tuned``, and ``ensemble``
(soft voting, :mod:`serkit.models.ensemble`: on a ``logmel,functionals+egemaps``
bundle, the ``cnn`` beside ``logreg-tuned``). Other modules add models with
:func:`register_model`.

The registry is :mod:`serkit.models.registry`, the built-in models
:mod:`serkit.models.builtin`; this package re-exports their public names.

Examples
--------
>>> import numpy as np
>>> from serkit.models import make_model
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(-1, 1, (30, 4)), rng.normal(1, 1, (30, 4))]
>>> y = np.array(["sad"] * 30 + ["happy"] * 30)
>>> model = make_model("logreg").fit(X, y)
>>> model.classes_.tolist(), model.predict_proba(X[:1]).shape
(['happy', 'sad'], (1, 2))
"""

from serkit.inference.runtime import align_probabilities
from serkit.models.registry import (
    CALIBRATED_SUFFIX,
    DEFAULT_CLIP_QUANTILES,
    ModelSpec,
    accepts_sample_weight,
    available_models,
    fit_model,
    make_model,
    model_name,
    model_spec,
    register_estimator,
    register_model,
    require_sample_weight,
    resolve_model_names,
    weighted_models,
)

__all__ = [
    "CALIBRATED_SUFFIX", "DEFAULT_CLIP_QUANTILES", "ModelSpec", "accepts_sample_weight", "align_probabilities",
    "available_models", "fit_model", "make_model", "model_name", "model_spec", "register_estimator",
    "register_model", "require_sample_weight", "resolve_model_names", "weighted_models",
]
