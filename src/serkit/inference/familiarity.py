"""How typical a clip's features are of the training data: the familiarity score.

A model's confidence is only honest on audio like the audio it was trained on. The
familiarity score says how like it a clip is: the clip's distance from the training
features, as the share of training clips that lie at least as far (1: as typical as
the most typical training clip, 0.01: stranger than 99 % of them).

The distance is a Mahalanobis distance in the training features' principal
subspace plus the energy left outside it: features are standardised by the training
statistics, projected on the top :data:`N_COMPONENTS` principal components (each
divided by its standard deviation), and the residual off that subspace is added,
scaled by its training mean. The training clips' own distances, against which a
clip is ranked, are computed out of fold (speaker-grouped where speakers are known),
so a new clip of a known kind ranks as a training clip would, not as a stranger.

Everything is stored in the inference export (:func:`step` and :func:`from_step`:
arrays in ``inference.safetensors``, a ``familiarity`` step in ``inference.json``),
and computed with numpy.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> train = rng.normal(size=(300, 10))
>>> familiarity = fit_familiarity(train, n_components=4)
>>> typical, strange = familiarity.scores(np.r_[rng.normal(size=(1, 10)), np.full((1, 10), 6.0)])
>>> bool(typical > 0.05), bool(strange < 0.01)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from serkit.core.exceptions import ArtifactError, ParameterError

N_COMPONENTS = 32
"""Principal components of the Mahalanobis part (chosen on held-out RAVDESS folds and nEMO, docs/results.md)."""

CAUTION_BELOW = 0.005
"""A prediction whose familiarity is below this gets the caution: the clip is stranger
than 99.5 % of the training clips. Chosen on held-out RAVDESS folds and on nEMO
(bench_familiarity.py): the threshold of 0.5-10 % that flags the most nEMO clips (all
200, at every one) while flagging at most 5 % of held-out RAVDESS clips, the lowest on a
tie (0.6 % of them flagged; 1.5 % at 2 %)."""

CAUTION = "this recording is unlike the training data; treat the emotion with caution"

MIN_REFERENCE = 20
"""Fewest training clips familiarity statistics are fitted on."""

_TINY = 1e-12


@dataclass
class Familiarity:
    """Familiarity statistics of a training set (:func:`fit_familiarity` makes them).

    Attributes
    ----------
    mean, scale : np.ndarray [shape=(n_features,)]
        The training features' mean and standard deviation.
    components : np.ndarray [shape=(k, n_features)]
        Principal directions of the standardised training features.
    variances : np.ndarray [shape=(k,)]
        The training variance along each direction.
    residual : float
        The training clips' mean squared residual off the subspace, per feature.
    reference : np.ndarray [shape=(n_train,)]
        The training clips' out-of-fold distances, sorted.
    """

    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    residual: float
    reference: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.mean.shape[0])

    def distances(self, X) -> np.ndarray:
        """Each row's distance from the training features (the root mean of its whitened
        principal coordinates and scaled residual, squared)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ParameterError(f"familiarity: expects (n, {self.n_features}) features, got shape {X.shape}")
        Z = (X - self.mean) / self.scale
        projected = Z @ self.components.T
        inside = (projected**2 / self.variances).sum(axis=1)
        outside = ((Z**2).sum(axis=1) - (projected**2).sum(axis=1)) / self.residual
        return np.sqrt((inside + np.maximum(outside, 0.0)) / self.n_features)

    def scores(self, X) -> np.ndarray:
        """The familiarity of each row: the share of training clips at least as far, in [0, 1]."""
        distances = self.distances(X)
        beyond = len(self.reference) - np.searchsorted(self.reference, distances, side="left")
        return beyond / len(self.reference)


def _fit_subspace(X: np.ndarray, n_components: int) -> dict:
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < _TINY] = 1.0
    Z = (X - mean) / scale
    _, singular, vt = np.linalg.svd(Z, full_matrices=False)
    k = min(n_components, len(singular) - 1, X.shape[1])
    variances = np.maximum(singular[:k] ** 2 / max(len(X) - 1, 1), _TINY)
    projected = Z @ vt[:k].T
    residual = float(((Z**2).sum(axis=1) - (projected**2).sum(axis=1)).mean() / max(X.shape[1] - k, 1))
    # ``residual`` is per remaining dimension; distances divide the residual energy by it
    # so that a training clip's outside part counts about as many units as dimensions left.
    return {"mean": mean, "scale": scale, "components": vt[:k], "variances": variances,
            "residual": max(residual, _TINY)}


def _fold_of(groups, n_rows: int, n_folds: int) -> np.ndarray:
    """A fold number per row: groups (speakers) dealt round-robin, else rows."""
    if groups is None:
        return np.arange(n_rows) % n_folds
    _, group_index = np.unique(np.asarray(groups), return_inverse=True)
    return group_index % n_folds


def fit_familiarity(X, groups=None, *, n_components: int = N_COMPONENTS, n_folds: int = 5) -> Familiarity:
    """Familiarity statistics of training features ``X``.

    Parameters
    ----------
    X : array-like [shape=(n_clips, n_features)]
        The training features (as the model saw them, before its own scaling).
    groups : array-like [shape=(n_clips,)] or None
        The speaker of each clip: the reference distances are then computed with each
        speaker's clips held out of the statistics (a new speaker is what prediction sees).
    n_components : int >= 1
    n_folds : int >= 2
        Folds of the out-of-fold reference distances.

    Returns
    -------
    Familiarity
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < MIN_REFERENCE or not np.all(np.isfinite(X)):
        raise ParameterError(f"familiarity needs at least {MIN_REFERENCE} finite feature rows, got shape {X.shape}")
    if int(n_components) < 1 or int(n_folds) < 2:
        raise ParameterError(f"n_components={n_components!r} must be >= 1 and n_folds={n_folds!r} >= 2")
    folds = _fold_of(groups, len(X), int(n_folds))
    reference = np.empty(len(X))
    for fold in np.unique(folds):
        held_out = folds == fold
        part = Familiarity(**_fit_subspace(X[~held_out], int(n_components)), reference=np.zeros(1))
        reference[held_out] = part.distances(X[held_out])
    return Familiarity(**_fit_subspace(X, int(n_components)), reference=np.sort(reference))


# -- in the inference export ----------------------------------------------------------


def step(familiarity: Familiarity) -> tuple[dict, dict]:
    """The ``familiarity`` step of ``inference.json`` and the arrays it names (``familiarity_*``,
    for ``inference.safetensors``).

    >>> stats = fit_familiarity(np.random.default_rng(0).normal(size=(40, 3)), n_components=2)
    >>> spec, arrays = step(stats)
    >>> spec["mean"], sorted(spec)
    ('familiarity_mean', ['components', 'mean', 'op', 'reference', 'residual', 'scale', 'variances'])
    """
    arrays = {f"familiarity_{key}": np.ascontiguousarray(getattr(familiarity, key), dtype=np.float64)
              for key in ("mean", "scale", "components", "variances", "reference")}
    spec = {"op": "familiarity", "residual": float(familiarity.residual),
            **{key: f"familiarity_{key}" for key in ("mean", "scale", "components", "variances", "reference")}}
    return spec, arrays


def from_step(spec, arrays: dict, where: str = "familiarity") -> Familiarity:
    """The :class:`Familiarity` an export's step describes, every array and shape checked.

    Raises
    ------
    ArtifactError
        A missing or non-finite array, shapes that do not fit, a non-positive scale.
    """

    def fail(reason):
        raise ArtifactError(f"inference.json: {where}: {reason}")

    if not isinstance(spec, dict) or spec.get("op") != "familiarity":
        fail("must be a familiarity step")
    values = {}
    for key, ndim in (("mean", 1), ("scale", 1), ("components", 2), ("variances", 1), ("reference", 1)):
        name = spec.get(key)
        value = arrays.get(name) if isinstance(name, str) else None
        if value is None or value.ndim != ndim or 0 in value.shape or value.dtype.kind != "f" or not np.all(np.isfinite(value)):
            fail(f"{key} must name a finite {ndim}-D float array")
        values[key] = value.astype(np.float64)
    residual = spec.get("residual")
    d, (k, width) = values["mean"].shape[0], values["components"].shape
    if (values["scale"].shape != (d,) or width != d or values["variances"].shape != (k,)
            or np.any(values["scale"] <= 0) or np.any(values["variances"] <= 0)
            or isinstance(residual, bool) or not isinstance(residual, (int, float)) or not 0 < residual < 1e12
            or np.any(np.diff(values["reference"]) < 0)):
        fail("shapes that do not fit, a scale or variance not positive, or an unsorted reference")
    return Familiarity(values["mean"], values["scale"], values["components"], values["variances"],
                       float(residual), values["reference"])
