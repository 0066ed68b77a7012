"""Source adaptation: standardise features by the statistics of where they came from.

Much of what separates two recordings in acoustic features is not emotion but the
source: the speaker (pitch range, timbre, loudness habits), the room, the microphone,
the language, the corpus. Given several clips of one source, subtracting that source's
own mean and dividing by its own standard deviation removes much of the source and
keeps the emotion. It needs no labels, only to know which clips share a source.

One mechanism serves every grain:

- a **source**: a corpus in training, a folder of a user's recordings
  (``serkit predict DIR --adapt``, ``serkit adapt DIR``), the windows of one long
  recording;
- a **speaker**: a corpus's speaker column, a diarised recording's speaker turns, a
  few enrolment clips of a new speaker.

:class:`SourceAdapter` learns one :class:`SourceStatistics` per group and applies each
group's own. Without any statistics of its source, a single clip is standardised with
the pooled training statistics (the model's fallback).

What it cannot do
-----------------
The statistics describe whatever the clips hold. A batch that is all one emotion (all
angry, say) has that emotion's mean as its "neutral point": standardised by it, angry
clips look average and the model sees little anger. Too few clips give statistics that
are mostly noise. So an adapter refuses groups of fewer than ``min_clips`` clips, and an
adapted model any source of fewer than :data:`MIN_CLIPS` (chosen on measurements:
``benchmarks/bench_adaptation.py``), and
:func:`check_spread` warns (:class:`AdaptationWarning`) when a batch varies much less
than the training sources did, as a one-emotion batch does.

Figures obtained with it are transductive (a test source's statistics come from that
source's unlabelled test clips) and are reported on their own, never mixed with
per-clip ones.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 10.0], [3.0, 30.0], [100.0, 0.0], [102.0, 4.0]])
>>> SourceAdapter(min_clips=2).fit_transform(X, ["a", "a", "b", "b"])
array([[-1., -1.],
       [ 1.,  1.],
       [-1., -1.],
       [ 1.,  1.]])
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from serkit.core.exceptions import NotFittedError, ParameterError

MIN_CLIPS = 16
"""Fewest clips whose statistics adapt a model to a source at prediction (``predict --adapt``,
``serkit adapt``; an adapted model's ``min_clips``). Measured (``benchmarks/bench_adaptation.py
--part clips``): a held-out corpus adapted by k random clips of its own reaches, with k = 16,
the UA of all its clips to within 0.5 point (RAVDESS→nEMO 29.1 ± 1.7 % vs 29.1 %, nEMO→RAVDESS
45.1 ± 2.5 % vs 45.5 %); with k = 4 it is 2-4 points lower and twice as variable."""

MIN_GROUP_CLIPS = 2
"""Fewest clips of one group a :class:`SourceAdapter` takes at all (a standard deviation
needs two); the speaker normalisation of evaluation folds uses this."""

SPEAKER_PRIOR_CLIPS = 32.0
"""The ``prior_clips`` with which the speakers *found* in a recording are standardised (a
speaker-normalised model with ``--speakers auto`` or ``N``): each speaker's statistics pulled
toward the recording's as if 32 of its utterances were added. The clustering can err (one voice
split by its emotions into several speakers, two voices of one gender merged), and a cluster
that holds one emotion loses that emotion to its own standardisation; so a speaker's own
statistics weigh as much as the recording's only once it holds 32 utterances. Chosen through
the speech detection (``benchmarks/bench_speakers.py --end-to-end --choose-prior``:
conversations and monologues of RAVDESS actors 01-08 on both floors, models of actors 09-12),
the best mean utterance UA of the four cells. Chosen again (7 December 2026, sixth session) with
the CAM++ speaker embeddings and the features pooled over the speech: 81.35 % at 32 against
81.23 % at 16, 79.25 % at 1 and 78.66 % with the recording's statistics alone (first, with the
d-vector and the features of every frame: 79.3 %, 71.6 % at 1): docs/results.md."""

GIVEN_SPEAKER_PRIOR_CLIPS = 16.0
"""The same for speakers given rather than found (``--speakers channels``: each channel one
party). Chosen by the same run on the true speakers: 81.87 % at 16 against 81.59 % at 32, 81.43 %
at 4 and 81.09 % with each speaker's own statistics (a spread of under a point; 4 when it was first
chosen on the features of every frame, 81.3 %)."""

_CONSTANT = 1e-12
"""A standard deviation below this is a column constant for the source: only centred."""


class AdaptationWarning(UserWarning):
    """Statistics that may not describe the source well (e.g. a one-emotion batch)."""


@dataclass(frozen=True)
class SourceStatistics:
    """The mean and standard deviation of one source's features, and how many clips gave them.

    Attributes
    ----------
    mean, scale : np.ndarray [shape=(n_features,)]
        ``scale`` is 1 where the source's features do not vary (those are only centred).
    n_clips : int
    """

    mean: np.ndarray
    scale: np.ndarray
    n_clips: int

    @classmethod
    def of(cls, X) -> "SourceStatistics":
        """The statistics of the rows of ``X`` (one source).

        >>> SourceStatistics.of([[0.0, 5.0], [2.0, 5.0]]).scale.tolist()
        [1.0, 1.0]
        """
        X = check_features(X)
        return cls(X.mean(axis=0), _scale(X.var(axis=0)), len(X))

    def apply(self, X) -> np.ndarray:
        """``(X - mean) / scale``.

        >>> SourceStatistics(np.array([1.0]), np.array([2.0]), 2).apply([[5.0]]).tolist()
        [[2.0]]
        """
        return (check_features(X) - self.mean) / self.scale


class SourceAdapter:
    """Per-source (or per-speaker) standardisation learned from each group's own clips.

    Parameters
    ----------
    with_mean : bool
        Subtract each group's mean.
    with_std : bool
        Divide by each group's standard deviation (columns constant for a group are
        only centred).
    min_clips : int >= 2 (>= 1 with ``prior_clips``)
        Fewest clips a group needs; fewer is a :class:`ParameterError` naming the group.
    prior_clips : float >= 0
        Pull each group's mean and variance toward those of all the clips fitted, as if this
        many of them were added to the group (empirical-Bayes shrinkage): a speaker found with
        few utterances borrows from the whole recording, one found with many keeps its own.
        0 (the default): each group's own statistics.

    Attributes
    ----------
    statistics_ : dict of group → SourceStatistics
        Statistics of each group seen in :meth:`fit`.

    Examples
    --------
    Fit on a user's unlabelled clips, standardise a new clip of the same source:

    >>> rng = np.random.default_rng(0)
    >>> folder = rng.normal(5.0, 2.0, size=(40, 3))
    >>> adapter = SourceAdapter().fit(folder)          # one source: groups=None
    >>> adapter.transform(folder[:1]).shape
    (1, 3)

    Per speaker (the grain of a diarised recording):

    >>> speakers = ["s1"] * 20 + ["s2"] * 20
    >>> Z = SourceAdapter().fit_transform(folder, speakers)
    >>> bool(np.allclose(Z[:20].mean(axis=0), 0.0))
    True
    """

    def __init__(self, *, with_mean: bool = True, with_std: bool = True, min_clips: int = MIN_GROUP_CLIPS,
                 prior_clips: float = 0.0):
        self.with_mean = with_mean
        self.with_std = with_std
        self.min_clips = min_clips
        self.prior_clips = prior_clips

    def fit(self, X, groups=None) -> "SourceAdapter":
        """Learn the statistics of each group.

        Parameters
        ----------
        X : array-like [shape=(n_clips, n_features)]
        groups : array-like [shape=(n_clips,)] or None
            The source (or speaker) of each clip; None: all clips are one source.

        Raises
        ------
        ParameterError
            ``min_clips`` below 2 (below 1 with ``prior_clips``), ``prior_clips`` negative,
            a group with fewer clips, mismatched shapes.
        """
        prior = self.prior_clips
        if isinstance(prior, bool) or not isinstance(prior, (int, float, np.integer, np.floating)) \
                or not math.isfinite(prior) or prior < 0:
            raise ParameterError(f"prior_clips={prior!r} must be a finite number of at least 0")
        fewest = 1 if prior > 0 else 2
        if isinstance(self.min_clips, bool) or not isinstance(self.min_clips, (int, np.integer)) \
                or self.min_clips < fewest:
            raise ParameterError(f"min_clips={self.min_clips!r} must be an integer of at least {fewest}"
                                 + (" (1 with prior_clips)" if fewest == 2 else ""))
        X, groups = check_features(X), self._groups(X, groups)
        pooled = (X.mean(axis=0), X.var(axis=0)) if prior else None
        self.statistics_ = {}
        for group in np.unique(groups):
            key = _key(group)
            rows = X[groups == group]
            check_clip_count(len(rows), self.min_clips, what=f"source {key!r}")
            stats = SourceStatistics.of(rows) if pooled is None else _shrunk_statistics(rows, *pooled, prior)
            mean = stats.mean if self.with_mean else np.zeros(X.shape[1])
            scale = stats.scale if self.with_std else np.ones(X.shape[1])
            self.statistics_[key] = SourceStatistics(mean, scale, len(rows))
        return self

    def transform(self, X, groups=None) -> np.ndarray:
        """Standardise each row with the statistics of its group (seen in :meth:`fit`)."""
        if not hasattr(self, "statistics_"):
            raise NotFittedError("SourceAdapter: call fit (or fit_transform) first")
        X, groups = check_features(X), self._groups(X, groups)
        out = np.empty_like(X)
        for group in np.unique(groups):
            key = _key(group)
            if key not in self.statistics_:
                raise ParameterError(f"source {key!r} was not seen in fit; known: {sorted(self.statistics_)}")
            rows = groups == group
            out[rows] = self.statistics_[key].apply(X[rows])
        return out

    def fit_transform(self, X, groups=None) -> np.ndarray:
        """Standardise each group with its own statistics (the usual call)."""
        return self.fit(X, groups).transform(X, groups)

    @staticmethod
    def _groups(X, groups) -> np.ndarray:
        if groups is None:
            return np.zeros(len(X), dtype=int)
        groups = np.asarray(groups)
        if groups.shape != (len(X),):
            raise ParameterError(f"groups has shape {groups.shape}; need one source per clip ({len(X)},)")
        return groups


def _key(group):
    """A group's key as Python holds it: numpy's scalars (``np.str_``, ``np.int64``) unwrapped,
    the str of an object array (what a Dataset's speakers are) as it is."""
    return group.item() if isinstance(group, np.generic) else group


def _scale(variance: np.ndarray) -> np.ndarray:
    """The standard deviation, 1 where a column does not vary (so it is only centred)."""
    scale = np.sqrt(variance)
    scale[scale < _CONSTANT] = 1.0
    return scale


def _shrunk_statistics(rows: np.ndarray, pooled_mean: np.ndarray, pooled_variance: np.ndarray,
                       prior_clips: float) -> SourceStatistics:
    """The statistics of ``rows`` pulled toward the pooled mean and variance (of all the clips
    fitted) as if ``prior_clips`` of those clips were added to the group."""
    weight = len(rows) / (len(rows) + prior_clips)
    mean = weight * rows.mean(axis=0) + (1 - weight) * pooled_mean
    variance = weight * rows.var(axis=0) + (1 - weight) * pooled_variance
    return SourceStatistics(mean, _scale(variance), len(rows))


def check_features(X) -> np.ndarray:
    """``X`` as a finite float64 ``(n_clips, n_features)`` array, else :class:`ParameterError`.

    >>> check_features([[1, 2]]).dtype
    dtype('float64')
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ParameterError(f"X must be 2-D (n_clips, n_features), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ParameterError("X holds NaN or infinite values")
    return X


def check_clip_count(n_clips: int, min_clips: int, *, what: str = "the source") -> None:
    """:class:`ParameterError` when ``n_clips`` is too few to describe a source.

    >>> check_clip_count(1, 2, what="speaker 'a'")
    Traceback (most recent call last):
    ...
    serkit.core.exceptions.ParameterError: speaker 'a' has 1 usable clip(s); adapting to a source needs at least 2 (fewer give statistics that are mostly noise)
    """
    if n_clips < min_clips:
        raise ParameterError(
            f"{what} has {n_clips} usable clip(s); adapting to a source needs at least {min_clips} "
            "(fewer give statistics that are mostly noise)"
        )


def spread(X, reference_scale) -> float:
    """How much a batch varies, relative to ``reference_scale`` (per feature): the median
    over features of the batch's standard deviation divided by the reference's.

    Sources holding every emotion vary more than a batch of one emotion does; see
    :func:`check_spread`.

    >>> spread([[0.0], [2.0]], np.array([2.0]))
    0.5
    """
    X = check_features(X)
    return float(np.median(X.std(axis=0) / np.asarray(reference_scale, dtype=np.float64)))


def check_spread(X, reference_scale, floor: float, *, what: str = "the batch") -> float:
    """Warn (:class:`AdaptationWarning`) when ``X`` varies less than ``floor`` (a
    :func:`spread`); return the spread.

    ``floor`` is chosen, for a model, below the spread of nearly every training source
    that holds all its emotions (a one-emotion batch falls under it far more often: see
    ``docs/adaptation.md``). There are no labels at prediction: this is the only
    signal that the statistics may describe one emotion rather than the source.
    """
    value = spread(X, reference_scale)
    if value < floor:
        warnings.warn(
            f"{what} varies little (spread {value:.2f}, below {floor:.2f}, the least of the training sources "
            "that held every emotion): if its clips are mostly one emotion, adapting to them hides that emotion",
            AdaptationWarning, stacklevel=2,
        )
    return value


# -- adapted models: the source statistics at the head of a fitted model ----------------

GRAINS = ("none", "corpus", "speaker")
"""What each training corpus is standardised by before the fit (``--adapt``): nothing,
its own statistics, or each speaker's own."""

SOURCE_STEP = "source"
"""The name of the first step of an adapted model: the statistics of its source."""


def training_groups(grain: str, corpus, speakers) -> np.ndarray | None:
    """The groups whose own statistics standardise the training clips at ``grain``
    (None for ``none``).

    >>> training_groups("corpus", ["a", "b"], ["a/1", "b/1"]).tolist()
    ['a', 'b']
    """
    if grain not in GRAINS:
        raise ParameterError(f"--adapt {grain!r}: choose one of {', '.join(GRAINS)}")
    if grain == "none":
        return None
    return np.asarray(corpus if grain == "corpus" else speakers).astype(str)


def adapted_model(estimator, statistics: SourceStatistics):
    """``estimator`` behind a standardisation by ``statistics`` (a scikit-learn
    :class:`~sklearn.pipeline.Pipeline` whose first step, :data:`SOURCE_STEP`, is a
    :class:`~sklearn.preprocessing.StandardScaler` holding them): what a model trained
    on source-standardised features is saved as. The inference export carries the
    statistics as its first ``standardize`` step.

    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> stats = SourceStatistics.of(X)
    >>> inner = LogisticRegression().fit(stats.apply(X), ["calm", "calm", "angry", "angry"])
    >>> adapted_model(inner, stats).predict([[10.5]]).tolist()
    ['angry']
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    scaler.mean_, scaler.scale_ = np.asarray(statistics.mean, float), np.asarray(statistics.scale, float)
    scaler.var_ = scaler.scale_ ** 2
    scaler.n_features_in_, scaler.n_samples_seen_ = len(scaler.mean_), int(statistics.n_clips)
    return Pipeline([(SOURCE_STEP, scaler), ("model", estimator)])


def model_statistics(estimator) -> SourceStatistics | None:
    """The source statistics an adapted model applies first (a scikit-learn pipeline from
    :func:`adapted_model`, a dual-path model's adapted head, or their inference export);
    None for another model."""
    adapted = getattr(estimator, "adapted_", None)  # a dual-path model (serkit.models.dualpath)
    if adapted is not None:
        return model_statistics(adapted)
    steps = getattr(estimator, "steps", None)
    if steps and steps[0][0] == SOURCE_STEP:
        scaler = steps[0][1]
        return SourceStatistics(scaler.mean_, scaler.scale_, int(scaler.n_samples_seen_))
    leading = getattr(estimator, "leading_standardize", lambda: None)()
    return None if leading is None else SourceStatistics(leading[0], leading[1], 0)


def reexpress(Z, statistics: SourceStatistics) -> np.ndarray:
    """Standardised features ``Z`` in the units an adapted model takes before its first step
    (``Z * scale + mean``), so that the model's own source step gives ``Z`` back: a batch's
    own statistics then replace the model's without touching the model.

    >>> stats = SourceStatistics(np.array([1.0]), np.array([2.0]), 2)
    >>> stats.apply(reexpress([[0.5]], stats)).tolist()
    [[0.5]]
    """
    return np.asarray(Z, dtype=np.float64) * statistics.scale + statistics.mean


def adapt_training(X, grain: str, corpus, speakers):
    """Training features standardised at ``grain``, and what the saved model needs.

    Returns
    -------
    (np.ndarray, dict or None)
        The features to fit on, and (``grain`` not ``none``) the model's adaptation:
        ``{"pooled": SourceStatistics}`` of every training clip as recorded (the fallback
        for a clip without source statistics) and ``{"spread_floor": float}``, the least
        :func:`spread` of a training speaker against the pooled scale (the
        :func:`check_spread` floor).
    """
    groups = training_groups(grain, corpus, speakers)
    if groups is None:
        return X, None
    pooled = SourceStatistics.of(X)
    speakers = np.asarray(speakers).astype(str)
    floor = min(spread(X[speakers == speaker], pooled.scale) for speaker in np.unique(speakers))
    return SourceAdapter().fit_transform(X, groups), {"pooled": pooled, "spread_floor": round(float(floor), 4)}


def adaptation_metadata(grain: str, adaptation: dict, *, source: str, min_clips: int = MIN_CLIPS,
                        heads: dict | None = None) -> dict:
    """The ``adaptation`` block of an adapted model's ``metadata.json``; ``heads``: a dual-path
    model's heads (name → their parameters and temperature), whose ``plain`` one answers a
    clip without source statistics (``default_head``) until ``serkit adapt`` saves a source's.

    >>> adaptation_metadata("corpus", {"spread_floor": 0.5, "pooled": SourceStatistics(np.zeros(1), np.ones(1), 9)},
    ...                     source="the pooled training clips")["statistics"]
    {'source': 'the pooled training clips', 'n_clips': 9}
    """
    block = {"train_grain": grain, "min_clips": int(min_clips), "spread_floor": adaptation["spread_floor"],
             "statistics": {"source": source, "n_clips": int(adaptation["pooled"].n_clips)}}
    if heads is not None:
        block.update(default_head="plain", heads=heads)
    return block
