"""A dual-path model: a plain head for a clip alone, an adapted head for a clip with its source.

A model trained on source-standardised features (:mod:`serkit.features.adaptation`) is at
its best when the statistics of the clip's source are known (a batch, a long recording's
windows, a saved ``serkit adapt``) and at its worst when they are not: a single clip then
falls back to the pooled training statistics, which describe no real source. A
:class:`DualPathClassifier` carries two heads fitted on the same clips:

- ``plain``: trained on the features as recorded (the head's own pooled standardisation),
  which answers a clip without source statistics;
- ``adapted``: the adapted model (:func:`serkit.features.adaptation.adapted_model`: the
  source statistics, then the model), which answers whenever source statistics exist.

``predict_proba`` is the ``default`` head's: ``plain`` for a trained model, ``adapted``
for a copy whose statistics a user fitted (``serkit adapt``). :meth:`DualPathClassifier.head`
gives either; the predictor picks the adapted one when it standardises a source itself.
Each head may carry a temperature (``softmax(log p / T)``), chosen outside the model.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from serkit.features.adaptation import SourceStatistics, adapted_model
>>> X, y = np.array([[0.0], [1.0], [10.0], [11.0]]), ["calm", "calm", "angry", "angry"]
>>> stats = SourceStatistics.of(X)
>>> model = DualPathClassifier.of(LogisticRegression().fit(X, y),
...                               adapted_model(LogisticRegression().fit(stats.apply(X), y), stats))
>>> model.default_, model.predict([[10.5]]).tolist(), model.head("adapted").predict([[10.5]]).tolist()
('plain', ['angry'], ['angry'])
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from serkit.core.exceptions import ParameterError
from serkit.inference.runtime import DUAL_PATH_HEADS, align_probabilities, scale_probabilities

HEADS = DUAL_PATH_HEADS
"""The heads of a dual-path model: without source statistics, with them (one tuple for the
model and its export's ``dual-path`` step)."""


class DualPathClassifier(ClassifierMixin, BaseEstimator):
    """Two fitted heads of one model, the ``default`` answering :meth:`predict_proba`.

    Parameters
    ----------
    default : {"plain", "adapted"}
        The head a clip without statistics of its own source gets: ``plain`` for a
        trained model, ``adapted`` once the adapted head's statistics are a user's source.

    Attributes
    ----------
    plain_, adapted_ : fitted classifiers
        The heads (the adapted one a pipeline opening with its source statistics).
    temperatures_ : dict of str → float
        Each head's temperature (1: its probabilities as they are).
    default_ : str
    classes_ : np.ndarray
        The heads' classes (both have the same).
    """

    registry_name = "dual-path"

    def __init__(self, default: str = "plain"):
        self.default = default

    @classmethod
    def of(cls, plain, adapted, *, default: str = "plain", temperatures: dict | None = None) -> "DualPathClassifier":
        """A dual-path model from two fitted heads of the same classes.

        Raises
        ------
        ParameterError
            An unknown ``default``, heads of different classes, a temperature outside (0, 1000].
        """
        model = cls(default=default)
        if default not in HEADS:
            raise ParameterError(f"default={default!r}; choose one of {', '.join(HEADS)}")
        classes = [[str(c) for c in head.classes_] for head in (plain, adapted)]
        if classes[0] != classes[1]:
            raise ParameterError(f"the heads have different classes: {classes[0]} and {classes[1]}")
        temperatures = {head: float((temperatures or {}).get(head, 1.0)) for head in HEADS}
        if not all(0.0 < t <= 1e3 for t in temperatures.values()):
            raise ParameterError(f"temperatures must be in (0, 1000], got {temperatures}")
        model.plain_, model.adapted_, model.temperatures_ = plain, adapted, temperatures
        model.default_, model.classes_ = default, np.asarray(classes[0])
        return model

    def fit(self, X, y, groups=None):
        """Not fitted here: :func:`serkit.training.train_model` fits both heads (``adapt`` not
        ``none``) and builds the model with :meth:`of`."""
        raise ParameterError("a dual-path model is built from two fitted heads (DualPathClassifier.of), "
                             "as serkit train --adapt corpus|speaker does")

    @property
    def default_head(self) -> str:
        """The head a plain call runs (:attr:`default_`), as :class:`serkit.inference.runtime.ExportedModel` names it."""
        check_is_fitted(self, "default_")
        return self.default_

    def head(self, name: str):
        """The fitted head ``name`` with its temperature (``plain`` or ``adapted``)."""
        check_is_fitted(self, "classes_")
        if name not in HEADS:
            raise ParameterError(f"head {name!r}; choose one of {', '.join(HEADS)}")
        return _Head(getattr(self, f"{name}_"), self.temperatures_[name], self.classes_)

    def with_adapted(self, adapted, *, default: str = "adapted") -> "DualPathClassifier":
        """This model with another adapted head (a user's source statistics), answering by ``default``."""
        check_is_fitted(self, "classes_")
        return type(self).of(self.plain_, adapted, default=default, temperatures=self.temperatures_)

    def predict_proba(self, X) -> np.ndarray:
        """The default head's probabilities (columns in :attr:`classes_` order)."""
        return self.head(self.default_).predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class _Head:
    """A head and its temperature, as a classifier (``predict_proba``, ``classes_``, ``steps``)."""

    def __init__(self, model, temperature: float, classes):
        self.model, self.temperature, self.classes_ = model, temperature, classes
        self.steps = getattr(model, "steps", None)

    def predict_proba(self, X) -> np.ndarray:
        proba = align_probabilities(self.model.predict_proba(X), self.model.classes_, list(self.classes_))
        return proba if self.temperature == 1.0 else scale_probabilities(proba, self.temperature)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
