"""Preprocessing steps that every vector model's pipeline starts with."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from serkit.core.exceptions import ParameterError


class QuantileClipper(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Clip each column to quantiles learned on the training data.

    Generalises the reference analysis's "cap spectral rolloff at 3000" to every
    column, with the caps learned from the training part only (never the test part).

    Parameters
    ----------
    quantiles : tuple (lower, upper) with 0 <= lower < upper <= 1
        Quantiles of each training column used as its lower and upper cap.

    Attributes
    ----------
    lower_, upper_ : np.ndarray [shape=(n_features,)]
        The learned caps.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(101, dtype=float).reshape(-1, 1)
    >>> QuantileClipper(quantiles=(0.1, 0.9)).fit(X).transform([[-5.0], [50.0], [500.0]]).ravel()
    array([10., 50., 90.])
    """

    def __init__(self, *, quantiles=(0.01, 0.99)):
        self.quantiles = quantiles

    def fit(self, X, y=None):
        try:
            lower, upper = (float(q) for q in self.quantiles)
        except (TypeError, ValueError):
            raise ParameterError(
                f"quantiles={self.quantiles!r} must be a pair (lower, upper)"
            ) from None
        if not 0.0 <= lower < upper <= 1.0:
            raise ParameterError(f"quantiles={self.quantiles!r} needs 0 <= lower < upper <= 1")
        X = validate_data(self, X, dtype=np.float64)
        self.lower_, self.upper_ = np.quantile(X, [lower, upper], axis=0)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return np.clip(X, self.lower_, self.upper_)
