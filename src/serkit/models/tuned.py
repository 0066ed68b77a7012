"""A model with one hyper-parameter chosen by speaker-grouped inner cross-validation.

``fit(X, y, groups)`` sees only training clips: it splits them by speaker into
``n_inner`` folds, scores each candidate value by mean unweighted accuracy on the
held-out speakers, and refits the best on all training clips. So tuning never
touches the fold that an evaluation reports.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(-1, 1, (40, 3)), rng.normal(1, 1, (40, 3))]
>>> y = np.array(["sad"] * 40 + ["happy"] * 40)
>>> groups = np.tile(["a", "b", "c", "d"], 20)
>>> model = InnerCVTuned(model="logreg", param="C", values=(0.01, 1.0)).fit(X, y, groups)
>>> model.best_value_ in (0.01, 1.0), model.classes_.tolist()
(True, ['happy', 'sad'])
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from serkit.core.exceptions import ParameterError

LOGREG_C_GRID = (0.01, 0.03, 0.1)
"""Values of logistic regression's C tried by ``logreg-tuned`` (strong regularisation
suits the 700-column ``functionals`` set)."""


class InnerCVTuned(BaseEstimator, ClassifierMixin):
    """Registered model ``model`` with ``param`` chosen from ``values`` by inner CV.

    Parameters
    ----------
    model : str
        A registered model name (see :func:`serkit.models.available_models`).
    param : str
        The parameter to tune, passed to :func:`serkit.models.make_model`.
    values : tuple
        Candidate values, tried in order (ties go to the first).
    n_inner : int >= 2
        Speaker-grouped inner folds.
    random_state : int

    Attributes
    ----------
    inner_scores_ : dict
        Mean inner unweighted accuracy of each value.
    best_value_ : object
    best_estimator_ : Pipeline
        The plain model refitted on all training clips with ``best_value_``.
    classes_ : np.ndarray
    """

    def __init__(self, *, model="logreg", param="C", values=LOGREG_C_GRID, n_inner=4, random_state=0):
        self.model = model
        self.param = param
        self.values = values
        self.n_inner = n_inner
        self.random_state = random_state

    @property
    def registry_name(self) -> str:
        """The name :func:`serkit.models.model_name` reports, e.g. ``"logreg-tuned"``."""
        return f"{self.model}-tuned"

    def _make(self, value):
        from serkit.models.registry import make_model

        return make_model(self.model, random_state=self.random_state, **{self.param: value})

    def fit(self, X, y, groups=None, sample_weight=None):
        """Choose ``param`` on speaker-grouped inner folds, refit on every clip.

        With ``sample_weight`` each candidate is fitted with the weights of its
        training clips and scored by the weighted balanced accuracy of its held-out
        clips (so corpus-balanced weights also balance the choice of the value).
        """
        from sklearn.metrics import balanced_accuracy_score
        from sklearn.model_selection import StratifiedGroupKFold

        from serkit.models.registry import fit_model

        if groups is None:
            raise ParameterError(f"{self.model}-tuned: the inner CV needs the speaker of each training clip (groups)")
        if not self.values:
            raise ParameterError(f"values={self.values!r} must name at least one candidate")
        X, y, groups = np.asarray(X), np.asarray(y), np.asarray(groups)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)

        def part(rows):
            return None if weights is None else weights[rows]

        if len(np.unique(groups)) < self.n_inner:
            raise ParameterError(f"n_inner={self.n_inner} needs at least that many training speakers, got {len(np.unique(groups))}")
        inner = StratifiedGroupKFold(n_splits=self.n_inner, shuffle=True, random_state=self.random_state)
        splits = list(inner.split(X, y, groups))
        self.inner_scores_ = {
            value: float(np.mean([
                balanced_accuracy_score(
                    y[test], fit_model(self._make(value), X[train], y[train], sample_weight=part(train)).predict(X[test]),
                    sample_weight=part(test))
                for train, test in splits
            ]))
            for value in self.values
        }
        self.best_value_ = max(self.values, key=self.inner_scores_.get)
        self.best_estimator_ = fit_model(self._make(self.best_value_), X, y, sample_weight=weights)
        self.classes_ = self.best_estimator_.classes_
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    def predict(self, X):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)
