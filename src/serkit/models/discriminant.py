"""``lda``: linear discriminant analysis with a shrunk covariance, its clips weighted by resampling.

scikit-learn's :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis` takes no
sample weights, and a pooled multi-corpus model is fitted with them (each corpus and emotion
weighing the same: :func:`serkit.evaluation.pooling.balance_weights`).
:class:`ResampledDiscriminant` honours them by resampling: as many rows as it is given, drawn
with replacement, each with a probability proportional to its weight (seeded, so a refit is
the same model). Its multiclass probabilities are the softmax of a linear function of the
features (a sigmoid for two classes), so its inference export is a ``logistic`` step.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(-1, 1, (20, 3)), rng.normal(1, 1, (20, 3))]
>>> y = np.array(["sad"] * 20 + ["happy"] * 20)
>>> model = ResampledDiscriminant(shrinkage=0.5).fit(X, y, sample_weight=np.r_[np.ones(20), 3 * np.ones(20)])
>>> model.predict(X[:1]).tolist(), model.coef_.shape
(['sad'], (1, 3))
"""

from __future__ import annotations

import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis


class ResampledDiscriminant(LinearDiscriminantAnalysis):
    """LDA (least-squares solver) with ``shrinkage`` (``"auto"``: Ledoit-Wolf; a float in [0, 1]),
    weighted by resampling (see the module docstring) with the seed ``random_state``."""

    registry_name = "lda"

    def __init__(self, *, shrinkage="auto", random_state=0):
        super().__init__(solver="lsqr", shrinkage=shrinkage)
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None):
        """Fit on ``X, y``, resampled by ``sample_weight`` when given (see the module docstring)."""
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=float)
            rows = np.random.default_rng(self.random_state).choice(len(weights), size=len(weights),
                                                                   p=weights / weights.sum())
            X, y = np.asarray(X)[rows], np.asarray(y)[rows]
        return super().fit(X, y)
