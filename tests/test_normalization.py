"""serkit.features.normalization: per-speaker standardisation, without labels."""

from __future__ import annotations

import numpy as np
import pytest

from serkit.core.exceptions import NotFittedError, ParameterError
from serkit.features.normalization import SpeakerNormalizer


def test_each_speaker_is_standardised_with_its_own_statistics(rng):
    X = np.r_[rng.normal(5, 2, (20, 3)), rng.normal(-3, 0.1, (30, 3))]
    speakers = np.array(["a"] * 20 + ["b"] * 30)
    Z = SpeakerNormalizer().fit_transform(X, speakers)
    for speaker in "ab":
        rows = Z[speakers == speaker]
        np.testing.assert_allclose(rows.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(rows.std(axis=0), 1.0)


def test_known_answer_and_stored_statistics():
    X = np.array([[1.0, 7.0], [3.0, 7.0], [10.0, 0.0], [20.0, 2.0]])
    normalizer = SpeakerNormalizer().fit(X, [1, 1, 2, 2])
    np.testing.assert_array_equal(normalizer.means_[1], [2.0, 7.0])
    # A column constant for a speaker is only centred (scale 1), never divided by 0.
    np.testing.assert_array_equal(normalizer.scales_[1], [1.0, 1.0])
    np.testing.assert_array_equal(normalizer.transform([[4.0, 8.0]], [1]), [[2.0, 1.0]])


def test_enrolment_then_new_clips_of_the_same_speaker(rng):
    enrolment = rng.normal(2.0, 3.0, (10, 2))
    normalizer = SpeakerNormalizer().fit(enrolment, ["new"] * 10)
    later = normalizer.transform(enrolment[:2], ["new", "new"])
    np.testing.assert_allclose(later, (enrolment[:2] - enrolment.mean(0)) / enrolment.std(0))


def test_without_std_only_centres():
    Z = SpeakerNormalizer(with_std=False).fit_transform([[0.0], [4.0]], ["a", "a"])
    np.testing.assert_array_equal(Z, [[-2.0], [2.0]])


def test_errors_are_clear():
    with pytest.raises(ParameterError, match="'solo' has 1 clip"):
        SpeakerNormalizer().fit([[1.0], [2.0], [3.0]], ["a", "a", "solo"])
    with pytest.raises(ParameterError, match="'c' was not seen"):
        SpeakerNormalizer().fit([[1.0], [2.0]], ["a", "a"]).transform([[1.0]], ["c"])
    with pytest.raises(ParameterError, match="one speaker per clip"):
        SpeakerNormalizer().fit([[1.0], [2.0]], ["a"])
    with pytest.raises(ParameterError, match="needs the speaker"):
        SpeakerNormalizer().fit([[1.0], [2.0]], None)
    with pytest.raises(ParameterError, match="2-D"):
        SpeakerNormalizer().fit([1.0, 2.0], ["a", "a"])
    with pytest.raises(ParameterError, match="min_clips"):
        SpeakerNormalizer(min_clips=1).fit([[1.0], [2.0]], ["a", "a"])
    with pytest.raises(NotFittedError):
        SpeakerNormalizer().transform([[1.0]], ["a"])
