"""Speaker normalisation: standardise features per speaker, without labels.

Much of what separates two emotions in acoustic features is also what separates two
speakers (pitch range, timbre, loudness habits). Given several clips of one speaker,
subtracting that speaker's own mean and dividing by their own standard deviation
removes much of the speaker and keeps the emotion. It needs no labels, only to know
which clips share a speaker: a corpus's speaker column, a batch grouped by speaker,
or a few enrolment clips of a new speaker.

It is transductive (a test speaker's statistics come from that speaker's test clips),
so figures obtained with it are reported on their own, never mixed with per-clip ones.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 10.0], [3.0, 30.0], [100.0, 0.0], [102.0, 4.0]])
>>> speakers = ["a", "a", "b", "b"]
>>> SpeakerNormalizer().fit_transform(X, speakers)
array([[-1., -1.],
       [ 1.,  1.],
       [-1., -1.],
       [ 1.,  1.]])
"""

from __future__ import annotations

import numpy as np

from serkit.core.exceptions import NotFittedError, ParameterError


class SpeakerNormalizer:
    """Per-speaker standardisation learned from each speaker's own clips.

    Parameters
    ----------
    with_mean : bool
        Subtract each speaker's mean.
    with_std : bool
        Divide by each speaker's standard deviation (columns constant for a speaker
        are only centred).
    min_clips : int >= 2
        Fewest clips a speaker needs: statistics from fewer say nothing.

    Attributes
    ----------
    means_, scales_ : dict of speaker to np.ndarray [shape=(n_features,)]
        Statistics of each speaker seen in :meth:`fit`.

    See Also
    --------
    serkit.evaluation.evaluate : ``speaker_norm=True`` normalises every fold this way.
    """

    def __init__(self, *, with_mean: bool = True, with_std: bool = True, min_clips: int = 2):
        self.with_mean = with_mean
        self.with_std = with_std
        self.min_clips = min_clips

    def fit(self, X, groups) -> "SpeakerNormalizer":
        """Learn the mean and standard deviation of each speaker in ``groups``.

        Parameters
        ----------
        X : array-like [shape=(n_clips, n_features)]
        groups : array-like [shape=(n_clips,)]
            The speaker of each clip.
        """
        if int(self.min_clips) < 2:
            raise ParameterError(f"min_clips={self.min_clips!r} must be at least 2")
        X, groups = self._check(X, groups)
        self.means_, self.scales_ = {}, {}
        for speaker in np.unique(groups):
            rows, key = X[groups == speaker], speaker.item()
            if len(rows) < self.min_clips:
                raise ParameterError(
                    f"speaker {key!r} has {len(rows)} clip(s); speaker normalisation "
                    f"needs at least {self.min_clips} per speaker"
                )
            mean = rows.mean(axis=0) if self.with_mean else np.zeros(X.shape[1])
            scale = rows.std(axis=0) if self.with_std else np.ones(X.shape[1])
            # A column constant for this speaker carries no within-speaker
            # information; centring it is all we can do.
            scale[scale < 1e-12] = 1.0
            self.means_[key], self.scales_[key] = mean, scale
        return self

    def transform(self, X, groups) -> np.ndarray:
        """Standardise each row with the statistics of its speaker (seen in :meth:`fit`)."""
        if not hasattr(self, "means_"):
            raise NotFittedError("SpeakerNormalizer: call fit (or fit_transform) first")
        X, groups = self._check(X, groups)
        out = np.empty_like(X)
        for speaker in np.unique(groups):
            key = speaker.item()
            if key not in self.means_:
                raise ParameterError(
                    f"speaker {key!r} was not seen in fit; known: {sorted(self.means_)}"
                )
            rows = groups == speaker
            out[rows] = (X[rows] - self.means_[key]) / self.scales_[key]
        return out

    def fit_transform(self, X, groups) -> np.ndarray:
        """Standardise each speaker with their own statistics (the usual call)."""
        return self.fit(X, groups).transform(X, groups)

    @staticmethod
    def _check(X, groups):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ParameterError(f"X must be 2-D (n_clips, n_features), got shape {X.shape}")
        if groups is None:
            raise ParameterError("speaker normalisation needs the speaker of each clip")
        groups = np.asarray(groups)
        if groups.shape != (len(X),):
            raise ParameterError(
                f"groups has shape {groups.shape}; need one speaker per clip ({len(X)},)"
            )
        return X, groups
