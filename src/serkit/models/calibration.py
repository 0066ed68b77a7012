"""Temperature scaling: probabilities that mean what they say, fitted on training speakers only.

A classifier's probabilities are often over- or under-confident. Temperature
scaling divides the log-probabilities by one number ``T`` and renormalises
(``softmax(log p / T)``): ``T > 1`` softens, ``T < 1`` sharpens, and the most
probable emotion never changes, so accuracy is untouched.

:class:`TemperatureScaled` finds ``T`` without touching the data an evaluation
reports: it splits its *training* clips by speaker into ``n_inner`` folds, fits the
model on each fold's other speakers and predicts the held-out ones, then picks the
``T`` minimising the negative log-likelihood of those out-of-fold probabilities
(:func:`fit_temperature`). The model itself is then refitted on all training clips:
it is the model one would ship uncalibrated (same data, same seed), so "before" and
"after" calibration compare the same classifier, and no training speaker is wasted.
For an ensemble the temperature scales the vote.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(-1, 1, (40, 3)), rng.normal(1, 1, (40, 3))]
>>> y = np.array(["sad"] * 40 + ["happy"] * 40)
>>> groups = np.tile(["a", "b", "c", "d"], 20)
>>> model = TemperatureScaled(model="logreg").fit(X, y, groups)
>>> model.classes_.tolist(), bool(model.temperature_ > 0)
(['happy', 'sad'], True)
>>> bool(np.all(model.predict(X) == model.estimator_.predict(X)))
True
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from serkit.core.exceptions import ParameterError
from serkit.inference.runtime import log_probabilities, scale_probabilities

TEMPERATURE_BOUNDS = (0.05, 20.0)
"""Range searched for ``T`` (log-spaced): far wider than any fitted value here."""

def fit_temperature(logits, y_index) -> float:
    """The ``T`` minimising the mean negative log-likelihood of ``softmax(logits / T)``.

    Parameters
    ----------
    logits : array-like [shape=(n, n_classes)]
        Scores (or log-probabilities) of held-out clips.
    y_index : array-like of int [shape=(n,)]
        Column of each clip's true class.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> logits = rng.normal(0, 3, (4000, 4))
    >>> p = np.exp(logits / 2.0); p /= p.sum(axis=1, keepdims=True)
    >>> y = (rng.random((4000, 1)) > p.cumsum(axis=1)).sum(axis=1)  # drawn from p
    >>> abs(fit_temperature(logits, y) - 2.0) < 0.15
    True
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import logsumexp

    logits = np.asarray(logits, dtype=np.float64)
    y_index = np.asarray(y_index)
    rows = np.arange(len(y_index))

    def nll(log_temperature: float) -> float:
        scaled = logits / np.exp(log_temperature)
        return float(np.mean(logsumexp(scaled, axis=1) - scaled[rows, y_index]))

    low, high = np.log(TEMPERATURE_BOUNDS)
    return float(np.exp(minimize_scalar(nll, bounds=(low, high), method="bounded").x))


def fit_shift_temperature(logits, y_index, shift) -> tuple[float, float]:
    """``(a, b)`` of a temperature per clip, ``exp(a + b * shift)``, minimising the mean negative
    log-likelihood: a clip further from the training data (a larger ``shift``, e.g. its log
    familiarity distance) may get a softer temperature than a typical one.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> shift = np.repeat([0.0, 1.0], 4000)
    >>> logits = rng.normal(0, 3, (8000, 4))
    >>> p = np.exp(logits / np.exp(np.log(3.0) * shift)[:, None]); p /= p.sum(axis=1, keepdims=True)
    >>> y = (rng.random((8000, 1)) > p.cumsum(axis=1)).sum(axis=1)
    >>> a, b = fit_shift_temperature(logits, y, shift)
    >>> bool(abs(a) < 0.1), bool(abs(b - np.log(3.0)) < 0.15)
    (True, True)
    """
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    logits = np.asarray(logits, dtype=np.float64)
    y_index, shift = np.asarray(y_index), np.asarray(shift, dtype=np.float64)
    rows = np.arange(len(y_index))

    def nll(params) -> float:
        scaled = logits / shift_temperature(shift, *params)[:, None]
        return float(np.mean(logsumexp(scaled, axis=1) - scaled[rows, y_index]))

    start = (np.log(fit_temperature(logits, y_index)), 0.0)
    a, b = minimize(nll, start, method="Nelder-Mead").x
    return float(a), float(b)


def shift_temperature(shift, a: float, b: float) -> np.ndarray:
    """The temperature ``exp(a + b * shift)`` of each clip, within :data:`TEMPERATURE_BOUNDS`.

    >>> shift_temperature([0.0, 1.0, 100.0], 0.0, 1.0).round(2).tolist()
    [1.0, 2.72, 20.0]
    """
    return np.clip(np.exp(a + b * np.asarray(shift, dtype=np.float64)), *TEMPERATURE_BOUNDS)


class TemperatureScaled(ClassifierMixin, BaseEstimator):
    """Registered model ``model`` with its probabilities temperature-scaled.

    Parameters
    ----------
    model : str
        A registered model name (:func:`serkit.models.available_models`), ensembles included.
    params : dict or None
        Parameters of that model (passed to :func:`serkit.models.make_model`).
    n_inner : int >= 2
        Speaker-grouped inner folds of the training clips that give the held-out
        probabilities ``T`` is fitted on (each costs one extra fit of the model);
        one per training speaker when there are fewer speakers than that.
    random_state : int

    Attributes
    ----------
    temperature_ : float
    estimator_ : fitted classifier
        The model refitted on all training clips (its probabilities are the uncalibrated ones).
    classes_ : np.ndarray
    inner_nll_ : tuple of float
        Mean held-out negative log-likelihood before and after scaling.
    """

    def __init__(self, *, model="logreg-tuned", params=None, n_inner=4, random_state=0):
        self.model = model
        self.params = params
        self.n_inner = n_inner
        self.random_state = random_state

    @property
    def registry_name(self) -> str:
        """The name :func:`serkit.models.model_name` reports, e.g. ``"logreg-tuned+calibrated"``."""
        return f"{self.model}+calibrated"

    def _make(self):
        from serkit.models.registry import make_model

        return make_model(self.model, random_state=self.random_state, **(self.params or {}))

    def _held_out_probabilities(self, X, y, groups, *, n_folds: int) -> np.ndarray:
        from sklearn.model_selection import StratifiedGroupKFold

        from serkit.features.bundle import take_rows
        from serkit.inference.runtime import align_probabilities
        from serkit.models.registry import fit_model

        inner = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=self.random_state)
        labels = [str(label) for label in self.classes_]
        proba = np.zeros((len(y), len(labels)))
        for train, test in inner.split(np.zeros(len(y)), y, groups):
            fitted = fit_model(self._make(), take_rows(X, train), y[train], groups[train])
            proba[test] = align_probabilities(fitted.predict_proba(take_rows(X, test)), fitted.classes_, labels)
        return proba

    def fit(self, X, y, groups=None):
        from serkit.models.registry import fit_model

        if groups is None:
            raise ParameterError(f"{self.registry_name}: the temperature is fitted on held-out training speakers; pass groups")
        if not (isinstance(self.n_inner, (int, np.integer)) and self.n_inner >= 2):
            raise ParameterError(f"n_inner={self.n_inner!r} must be an integer >= 2")
        y, groups = np.asarray(y).astype(str), np.asarray(groups).astype(str)
        n_speakers = len(np.unique(groups))
        if n_speakers < 2:
            raise ParameterError(f"{self.registry_name}: needs at least 2 training speakers, got {n_speakers}")
        self.classes_ = np.unique(y)
        held_out = self._held_out_probabilities(X, y, groups, n_folds=min(self.n_inner, n_speakers))
        y_index = np.searchsorted(self.classes_, y)
        self.temperature_ = fit_temperature(log_probabilities(held_out), y_index)
        self.inner_nll_ = tuple(
            float(-np.mean(log_probabilities(p)[np.arange(len(y)), y_index]))
            for p in (held_out, scale_probabilities(held_out, self.temperature_))
        )
        self.estimator_ = fit_model(self._make(), X, y, groups)
        return self

    def uncalibrated_proba(self, X) -> np.ndarray:
        """The refitted model's own probabilities (columns in :attr:`classes_` order)."""
        from serkit.inference.runtime import align_probabilities

        check_is_fitted(self, "estimator_")
        return align_probabilities(self.estimator_.predict_proba(X), self.estimator_.classes_, list(self.classes_))

    def calibrate(self, proba) -> np.ndarray:
        """Scale probabilities of the refitted model (columns in :attr:`classes_` order)."""
        check_is_fitted(self, "temperature_")
        return scale_probabilities(proba, self.temperature_)

    def predict_proba(self, X) -> np.ndarray:
        return self.calibrate(self.uncalibrated_proba(X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
