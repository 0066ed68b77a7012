"""How typical a clip's features are of the training data: the familiarity score.

A model's confidence is only honest on audio like the audio it was trained on. The
familiarity score says how like it a clip is: the clip's distance from the training
features, as the share of training clips that lie at least as far (1: as typical as
the most typical training clip, 0.01: stranger than 99 % of them).

The distance has two parts, each a mean of squared whitened coordinates:

- the *global* part, a Mahalanobis distance in the training features' principal
  subspace plus the energy left outside it: features are standardised by the training
  statistics, projected on the top :data:`N_COMPONENTS` principal components (each
  divided by its standard deviation), and the residual off that subspace is added,
  scaled by its training mean. It says how unlike the whole training set a clip is
  (another corpus, noise);
- with the training clips' emotions (``y``), the *emotion* part, a class-conditional
  Mahalanobis distance (Lee et al. 2018, with a shared covariance): the distance to the
  nearest emotion's centroid in the discriminant subspace of the top
  :data:`DISCRIMINANT_COMPONENTS` principal components, whitened by the within-emotion
  covariance. It says how typical a clip is of *some* emotion the model learnt, which
  also ranks clips of the training domain (docs/results.md: the 50 % most familiar
  held-out RAVDESS clips, about as accurate as the 50 % most confident).

The training clips' own distances, against which a clip is ranked, are computed out of
fold (speaker-grouped where speakers are known), so a new clip of a known kind ranks as
a training clip would, not as a stranger.

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
>>> y = np.repeat(["calm", "angry"], 150)
>>> by_emotion = fit_familiarity(train + 3.0 * (y == "angry")[:, None], y=y, n_components=4)
>>> by_emotion.centroids.shape
(2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from serkit.core.exceptions import ArtifactError, ParameterError

N_COMPONENTS = 32
"""Principal components of the global part (not tuned: 8-64 separate nEMO alike, docs/results.md)."""

DISCRIMINANT_COMPONENTS = 384
"""Principal components the emotion part's discriminant subspace is found in (chosen on
RAVDESS actors 01-10 held out in 5 folds, models of the other 18 actors, the bundled model's
features, and nEMO's development speakers; bench_familiarity.py --choose). On the features pooled
over the speech (7 December 2026, fifth session) the 50 % most familiar held-out clips gain +8.7
points over all (AUROC against nEMO 0.992; 512: +9.3 at 0.982, 256: +6.3, 192: +6.3). 512 with the
features of every frame (+9.8), 192 before with models of 8 actors on ``whisper+functionals``."""

GLOBAL_WEIGHT = 1.0
"""Weight of the global part beside the emotion part (chosen with :data:`DISCRIMINANT_COMPONENTS`:
the best gain among the settings whose AUROC against nEMO's development speakers is >= 0.99;
on the features pooled over the speech every weight of 0.3 or less separated nEMO at 0.95 or
under; 0.3 with the features of every frame)."""

MAX_EMOTIONS = 64
"""Most emotion centroids an export's familiarity step may hold."""

CAUTION_BELOW = 0.1
"""A prediction whose familiarity is below this gets the caution: the clip is stranger
than 90 % of the training clips. Chosen on the choice split (bench_familiarity.py: RAVDESS
actors 01-10 held out in 5 folds, nEMO's development speakers): the threshold of 0.5-10 %
that flags the most nEMO clips while flagging at most 5 % of held-out RAVDESS clips, the
lowest on a tie (10 %: 1.3 % of held-out RAVDESS, 99.5 % of nEMO flagged; 0.5 %: 0 % and
84.8 %). Before the emotion part the same rule gave 0.5 %."""

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
    discriminant : np.ndarray [shape=(n_emotions - 1, n_features)] or None
        Standardised features → whitened discriminant coordinates (the emotion part).
    centroids : np.ndarray [shape=(n_emotions, n_emotions - 1)] or None
        Each training emotion's centroid in those coordinates.
    weight : float
        Weight of the global part beside the emotion part.
    """

    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    residual: float
    reference: np.ndarray
    discriminant: np.ndarray | None = None
    centroids: np.ndarray | None = None
    weight: float = 1.0

    @property
    def n_features(self) -> int:
        return int(self.mean.shape[0])

    def distances(self, X) -> np.ndarray:
        """Each row's distance from the training features: the root of the emotion part
        (mean squared whitened distance to the nearest emotion's centroid) plus
        ``weight`` times the global part (mean of the squared whitened principal
        coordinates and scaled residual); the global part alone without emotions."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ParameterError(f"familiarity: expects (n, {self.n_features}) features, got shape {X.shape}")
        Z = (X - self.mean) / self.scale
        projected = Z @ self.components.T
        inside = (projected**2 / self.variances).sum(axis=1)
        outside = ((Z**2).sum(axis=1) - (projected**2).sum(axis=1)) / self.residual
        squared = (inside + np.maximum(outside, 0.0)) / self.n_features
        if self.discriminant is None:
            return np.sqrt(squared)
        coordinates = Z @ self.discriminant.T
        nearest = ((coordinates[:, None, :] - self.centroids[None]) ** 2).sum(axis=2).min(axis=1)
        return np.sqrt(nearest / self.discriminant.shape[0] + self.weight * squared)

    def scores(self, X) -> np.ndarray:
        """The familiarity of each row: the share of training clips at least as far, in [0, 1]."""
        if len(self.reference) == 0:
            raise ParameterError("familiarity: statistics fitted without a reference (n_folds=0) give distances only")
        distances = self.distances(X)
        beyond = len(self.reference) - np.searchsorted(self.reference, distances, side="left")
        return beyond / len(self.reference)


def _fit_statistics(X: np.ndarray, y, n_components: int, discriminant_components: int, weight: float) -> dict:
    """Every statistic but the reference: the global part's, and the emotion part's with ``y``."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < _TINY] = 1.0
    Z = (X - mean) / scale
    singular, vt = _principal_axes(Z)
    k = min(n_components, len(singular) - 1, X.shape[1])
    variances = np.maximum(singular[:k] ** 2 / max(len(X) - 1, 1), _TINY)
    projected = Z @ vt[:k].T
    residual = float(((Z**2).sum(axis=1) - (projected**2).sum(axis=1)).mean() / max(X.shape[1] - k, 1))
    # ``residual`` is per remaining dimension; distances divide the residual energy by it
    # so that a training clip's outside part counts about as many units as dimensions left.
    statistics = {"mean": mean, "scale": scale, "components": vt[:k], "variances": variances,
                  "residual": max(residual, _TINY)}
    if y is not None:
        statistics.update(_fit_discriminant(Z, np.asarray(y), vt, discriminant_components), weight=float(weight))
    return statistics


def _principal_axes(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(singular values, principal directions)`` of ``Z``, largest first: what
    ``np.linalg.svd(Z, full_matrices=False)`` gives (up to each direction's sign), from the
    eigenvectors of the Gram matrix in the smaller dimension (the bundled model's 6552 × 5313
    features on two cores: 39 s, where the SVD took 115 s).

    >>> Z = np.random.default_rng(0).normal(size=(30, 5))
    >>> s, vt = _principal_axes(Z)
    >>> bool(np.allclose(s, np.linalg.svd(Z, compute_uv=False)))
    True
    """
    n, d = Z.shape
    values, vectors = np.linalg.eigh(Z.T @ Z if n >= d else Z @ Z.T)
    order = np.argsort(values)[::-1]
    singular = np.sqrt(np.maximum(values[order], 0.0))
    if n >= d:
        return singular, vectors[:, order].T
    directions = vectors[:, order].T @ Z
    return singular, directions / np.maximum(singular, _TINY)[:, None]


def _fit_discriminant(Z: np.ndarray, y: np.ndarray, vt: np.ndarray, n_components: int) -> dict:
    """The emotion part of standardised features ``Z`` (principal directions ``vt``): the
    whitened discriminant directions of the top ``n_components`` principal components
    (shared within-emotion covariance) and each emotion's centroid. Empty without two
    emotions of two clips each."""
    emotions, index, counts = np.unique(y, return_inverse=True, return_counts=True)
    if len(emotions) < 2 or counts.min() < 2 or len(emotions) > MAX_EMOTIONS:
        return {}
    basis = vt[: max(1, min(n_components, len(Z) - len(emotions) - 1, len(vt)))]
    projected = Z @ basis.T
    centres = np.array([projected[index == i].mean(axis=0) for i in range(len(emotions))])
    within = projected - centres[index]
    values, vectors = np.linalg.eigh(within.T @ within / (len(Z) - len(emotions)))
    whiten = vectors / np.sqrt(np.maximum(values, values.max() * 1e-9 + _TINY))
    whitened = centres @ whiten
    _, _, directions = np.linalg.svd(whitened - whitened.mean(axis=0), full_matrices=False)
    directions = directions[: min(len(emotions) - 1, basis.shape[0])]
    return {"discriminant": directions @ whiten.T @ basis, "centroids": whitened @ directions.T}


def _fold_of(groups, n_rows: int, n_folds: int) -> np.ndarray:
    """A fold number per row: groups (speakers) dealt round-robin, else rows."""
    if groups is None:
        return np.arange(n_rows) % n_folds
    _, group_index = np.unique(np.asarray(groups), return_inverse=True)
    return group_index % n_folds


def fit_familiarity(X, groups=None, y=None, *, n_components: int = N_COMPONENTS,
                    discriminant_components: int = DISCRIMINANT_COMPONENTS, weight: float = GLOBAL_WEIGHT,
                    n_folds: int = 5) -> Familiarity:
    """Familiarity statistics of training features ``X``.

    Parameters
    ----------
    X : array-like [shape=(n_clips, n_features)]
        The training features (as the model saw them, before its own scaling).
    groups : array-like [shape=(n_clips,)] or None
        The speaker of each clip: the reference distances are then computed with each
        speaker's clips held out of the statistics (a new speaker is what prediction sees).
    y : array-like [shape=(n_clips,)] or None
        The emotion of each clip: with two or more, the distance gains the emotion part.
    n_components : int >= 1
        Principal components of the global part.
    discriminant_components : int >= 1
        Principal components the emotion part's discriminant subspace is found in.
    weight : float > 0
        Weight of the global part beside the emotion part.
    n_folds : int >= 2, or 0
        Folds of the out-of-fold reference distances; 0 leaves the reference empty
        (:meth:`Familiarity.distances` only, e.g. to rank clips).

    Returns
    -------
    Familiarity
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < MIN_REFERENCE or not np.all(np.isfinite(X)):
        raise ParameterError(f"familiarity needs at least {MIN_REFERENCE} finite feature rows, got shape {X.shape}")
    if int(n_components) < 1 or int(discriminant_components) < 1 or int(n_folds) == 1 or int(n_folds) < 0:
        raise ParameterError(f"n_components={n_components!r} and discriminant_components={discriminant_components!r} "
                             f"must be >= 1 and n_folds={n_folds!r} 0 or >= 2")
    if not 0 < float(weight) < 1e6:
        raise ParameterError(f"weight={weight!r} must be > 0")
    if y is not None and len(y) != len(X):
        raise ParameterError(f"familiarity: {len(y)} emotions for {len(X)} feature rows")
    y = None if y is None else np.asarray(y)
    options = (int(n_components), int(discriminant_components), float(weight))
    reference = np.empty(len(X) if n_folds else 0)
    folds = _fold_of(groups, len(X), int(n_folds)) if n_folds else np.empty(0)
    for fold in np.unique(folds):
        held_out = folds == fold
        part = Familiarity(**_fit_statistics(X[~held_out], None if y is None else y[~held_out], *options),
                           reference=np.zeros(1))
        reference[held_out] = part.distances(X[held_out])
    return Familiarity(**_fit_statistics(X, y, *options), reference=np.sort(reference))


# -- in the inference export ----------------------------------------------------------


_ARRAYS = (("mean", 1), ("scale", 1), ("components", 2), ("variances", 1), ("reference", 1))
_EMOTION_ARRAYS = (("discriminant", 2), ("centroids", 2))


def step(familiarity: Familiarity) -> tuple[dict, dict]:
    """The ``familiarity`` step of ``inference.json`` and the arrays it names (``familiarity_*``,
    for ``inference.safetensors``); the emotion part's arrays and weight where there is one.

    >>> stats = fit_familiarity(np.random.default_rng(0).normal(size=(40, 3)), n_components=2)
    >>> spec, arrays = step(stats)
    >>> spec["mean"], sorted(spec)
    ('familiarity_mean', ['components', 'mean', 'op', 'reference', 'residual', 'scale', 'variances'])
    """
    keys = [key for key, _ in _ARRAYS]
    spec = {"op": "familiarity", "residual": float(familiarity.residual)}
    if familiarity.discriminant is not None:
        keys += [key for key, _ in _EMOTION_ARRAYS]
        spec["weight"] = float(familiarity.weight)
    arrays = {f"familiarity_{key}": np.ascontiguousarray(getattr(familiarity, key), dtype=np.float64) for key in keys}
    return {**spec, **{key: f"familiarity_{key}" for key in keys}}, arrays


def _number(value, low: float, high: float) -> bool:
    """Whether ``value`` is a real number (not a bool) in the open interval (low, high)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and low < value < high


def from_step(spec, arrays: dict, where: str = "familiarity") -> Familiarity:
    """The :class:`Familiarity` an export's step describes, every array and shape checked.

    Raises
    ------
    ArtifactError
        A missing or non-finite array, shapes that do not fit, a non-positive scale, an
        emotion part with more than :data:`MAX_EMOTIONS` centroids or half its arrays.
    """

    def fail(reason):
        raise ArtifactError(f"inference.json: {where}: {reason}")

    if not isinstance(spec, dict) or spec.get("op") != "familiarity":
        fail("must be a familiarity step")
    emotion = [key for key, _ in _EMOTION_ARRAYS if key in spec] + (["weight"] if "weight" in spec else [])
    if emotion and len(emotion) != 3:
        fail("the emotion part needs discriminant, centroids and weight together")
    values = {}
    for key, ndim in _ARRAYS + (_EMOTION_ARRAYS if emotion else ()):
        name = spec.get(key)
        value = arrays.get(name) if isinstance(name, str) else None
        if value is None or value.ndim != ndim or 0 in value.shape or value.dtype.kind != "f" or not np.all(np.isfinite(value)):
            fail(f"{key} must name a finite {ndim}-D float array")
        values[key] = value.astype(np.float64)
    residual = spec.get("residual")
    d, (k, width) = values["mean"].shape[0], values["components"].shape
    if (values["scale"].shape != (d,) or width != d or values["variances"].shape != (k,)
            or np.any(values["scale"] <= 0) or np.any(values["variances"] <= 0)
            or not _number(residual, 0, 1e12) or np.any(np.diff(values["reference"]) < 0)):
        fail("shapes that do not fit, a scale or variance not positive, or an unsorted reference")
    if emotion:
        (m, width), (c, m2) = values["discriminant"].shape, values["centroids"].shape
        if width != d or m2 != m or not 2 <= c <= MAX_EMOTIONS or m >= c or not _number(spec["weight"], 0, 1e6):
            fail(f"an emotion part whose shapes do not fit, more than {MAX_EMOTIONS} emotions, or a weight not positive")
        values["weight"] = float(spec["weight"])
    return Familiarity(**{**values, "residual": float(residual)})
