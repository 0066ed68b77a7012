"""``kmeans``: the reference analysis's k-means, turned into a classifier honestly.

Clusters are found without labels; each cluster is then mapped to an emotion by the
Hungarian assignment on the *training* part (the one-to-one mapping that agrees with
the most training labels), so the test part never decides what a cluster means.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from serkit.core.exceptions import ParameterError


class KMeansClassifier(ClassifierMixin, BaseEstimator):
    """k-means clusters mapped to classes by the Hungarian assignment.

    Parameters
    ----------
    n_clusters : int > 0
        Clusters to find (8, one per RAVDESS emotion, as in the reference). Clusters
        left over when there are more clusters than classes go to their majority class.
    n_init : int > 0
        k-means restarts.
    random_state : int

    Attributes
    ----------
    classes_ : np.ndarray of str
    kmeans_ : sklearn.cluster.KMeans
    cluster_to_class_ : np.ndarray [shape=(n_clusters,)]
        Index into ``classes_`` for each cluster.
    temperature_ : float
        Mean squared distance of training clips to their centroid; scales the
        soft assignment behind :meth:`predict_proba`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-5, 1, (30, 2)), rng.normal(5, 1, (30, 2))]
    >>> y = np.array(["calm"] * 30 + ["angry"] * 30)
    >>> KMeansClassifier(n_clusters=2).fit(X, y).predict([[-5, -5], [5, 5]]).tolist()
    ['calm', 'angry']
    """

    def __init__(self, *, n_clusters=8, n_init=10, random_state=0):
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, X, y):
        from scipy.optimize import linear_sum_assignment
        from sklearn.cluster import KMeans

        if not int(self.n_clusters) > 0:
            raise ParameterError(f"n_clusters={self.n_clusters!r} must be a positive integer")
        X, y = validate_data(self, X, y, dtype=np.float64)
        if len(X) < self.n_clusters:
            raise ParameterError(
                f"n_clusters={self.n_clusters} needs at least as many clips, got {len(X)}"
            )
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self.kmeans_ = KMeans(
            n_clusters=int(self.n_clusters), n_init=int(self.n_init), random_state=self.random_state
        ).fit(X)
        contingency = np.zeros((self.n_clusters, len(self.classes_)), dtype=np.int64)
        np.add.at(contingency, (self.kmeans_.labels_, y_index), 1)
        # Start from each cluster's majority class, then let the Hungarian assignment
        # decide the one-to-one part (maximise agreements = minimise their negative).
        mapping = contingency.argmax(axis=1)
        clusters, classes = linear_sum_assignment(-contingency)
        mapping[clusters] = classes
        self.cluster_to_class_ = mapping
        self.temperature_ = max(float(self.kmeans_.inertia_) / len(X), np.finfo(float).tiny)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Soft cluster membership (softmax of negative squared distances), summed per class."""
        check_is_fitted(self, "kmeans_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        squared = self.kmeans_.transform(X) ** 2
        scores = -(squared - squared.min(axis=1, keepdims=True)) / self.temperature_
        membership = np.exp(scores)
        membership /= membership.sum(axis=1, keepdims=True)
        proba = np.zeros((len(X), len(self.classes_)))
        for cluster, class_index in enumerate(self.cluster_to_class_):
            proba[:, class_index] += membership[:, cluster]
        return proba

    def predict(self, X) -> np.ndarray:
        """The class of the nearest cluster."""
        check_is_fitted(self, "kmeans_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.classes_[self.cluster_to_class_[self.kmeans_.predict(X)]]
