"""serkit.features.adaptation: per-source (and per-speaker) standardisation, without labels."""

from __future__ import annotations

import numpy as np
import pytest

import warnings

from serkit.features.adaptation import AdaptationWarning, SourceAdapter, SourceStatistics, check_spread, spread
from serkit.core.exceptions import NotFittedError, ParameterError


def test_each_speaker_is_standardised_with_its_own_statistics(rng):
    X = np.r_[rng.normal(5, 2, (20, 3)), rng.normal(-3, 0.1, (30, 3))]
    speakers = np.array(["a"] * 20 + ["b"] * 30)
    Z = SourceAdapter().fit_transform(X, speakers)
    for speaker in "ab":
        rows = Z[speakers == speaker]
        np.testing.assert_allclose(rows.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(rows.std(axis=0), 1.0)


def test_known_answer_and_stored_statistics():
    X = np.array([[1.0, 7.0], [3.0, 7.0], [10.0, 0.0], [20.0, 2.0]])
    normalizer = SourceAdapter().fit(X, [1, 1, 2, 2])
    np.testing.assert_array_equal(normalizer.statistics_[1].mean, [2.0, 7.0])
    # A column constant for a speaker is only centred (scale 1), never divided by 0.
    np.testing.assert_array_equal(normalizer.statistics_[1].scale, [1.0, 1.0])
    np.testing.assert_array_equal(normalizer.transform([[4.0, 8.0]], [1]), [[2.0, 1.0]])


def test_enrolment_then_new_clips_of_the_same_speaker(rng):
    enrolment = rng.normal(2.0, 3.0, (10, 2))
    normalizer = SourceAdapter().fit(enrolment, ["new"] * 10)
    later = normalizer.transform(enrolment[:2], ["new", "new"])
    np.testing.assert_allclose(later, (enrolment[:2] - enrolment.mean(0)) / enrolment.std(0))


def test_without_std_only_centres():
    Z = SourceAdapter(with_std=False).fit_transform([[0.0], [4.0]], ["a", "a"])
    np.testing.assert_array_equal(Z, [[-2.0], [2.0]])


def test_errors_are_clear():
    with pytest.raises(ParameterError, match="'solo' has 1 usable clip"):
        SourceAdapter().fit([[1.0], [2.0], [3.0]], ["a", "a", "solo"])
    with pytest.raises(ParameterError, match="'c' was not seen"):
        SourceAdapter().fit([[1.0], [2.0]], ["a", "a"]).transform([[1.0]], ["c"])
    with pytest.raises(ParameterError, match="one source per clip"):
        SourceAdapter().fit([[1.0], [2.0]], ["a"])
    with pytest.raises(ParameterError, match="NaN"):
        SourceAdapter().fit([[1.0], [np.nan]])
    with pytest.raises(ParameterError, match="2-D"):
        SourceAdapter().fit([1.0, 2.0], ["a", "a"])
    with pytest.raises(ParameterError, match="min_clips"):
        SourceAdapter(min_clips=1).fit([[1.0], [2.0]], ["a", "a"])
    with pytest.raises(NotFittedError):
        SourceAdapter().transform([[1.0]], ["a"])


def test_prior_clips_pull_a_small_group_toward_all_the_clips(rng):
    X = np.r_[rng.normal(5, 2, (40, 3)), rng.normal(-3, 0.5, (2, 3)), [[9.0, 9.0, 9.0]]]
    speakers = np.array(["big"] * 40 + ["pair"] * 2 + ["lone"])
    plain = SourceAdapter().fit(X[:42], speakers[:42])
    shrunk = SourceAdapter(min_clips=1, prior_clips=2.0).fit(X, speakers)
    mean, variance = X.mean(axis=0), X.var(axis=0)
    # A group of n clips: its mean and variance weighed n : 2 against all the clips'.
    pair = X[40:42]
    np.testing.assert_allclose(shrunk.statistics_["pair"].mean, (2 * pair.mean(0) + 2 * mean) / 4)
    np.testing.assert_allclose(shrunk.statistics_["pair"].scale, np.sqrt((2 * pair.var(0) + 2 * variance) / 4))
    np.testing.assert_allclose(shrunk.statistics_["lone"].scale, np.sqrt(2 * variance / 3))  # one clip: no variance of its own
    big = X[:40]
    np.testing.assert_allclose(shrunk.statistics_["big"].mean, (40 * big.mean(0) + 2 * mean) / 42)
    # Without a prior, the statistics are each group's own, bit for bit.
    unshrunk = SourceAdapter(prior_clips=0).fit(X[:42], speakers[:42])
    for speaker in ("big", "pair"):
        np.testing.assert_array_equal(unshrunk.statistics_[speaker].mean, plain.statistics_[speaker].mean)
        np.testing.assert_array_equal(unshrunk.statistics_[speaker].scale, plain.statistics_[speaker].scale)
    for bad in (-1.0, float("nan"), True, "2"):
        with pytest.raises(ParameterError, match="prior_clips"):
            SourceAdapter(prior_clips=bad).fit(X)
    with pytest.raises(ParameterError, match=r"min_clips=1 must be an integer of at least 2 \(1 with prior_clips\)"):
        SourceAdapter(min_clips=1).fit(X)


def test_without_groups_all_clips_are_one_source(rng):
    folder = rng.normal(3.0, 2.0, (30, 4))
    adapter = SourceAdapter().fit(folder)
    np.testing.assert_allclose(adapter.transform(folder), SourceStatistics.of(folder).apply(folder))
    np.testing.assert_allclose(adapter.transform(folder).std(axis=0), 1.0)
    assert adapter.statistics_[0].n_clips == 30


def test_min_clips_refuses_a_source_with_fewer():
    X = np.arange(10.0).reshape(5, 2)
    with pytest.raises(ParameterError, match="has 5 usable clip.*at least 6"):
        SourceAdapter(min_clips=6).fit(X)
    assert SourceAdapter(min_clips=5).fit(X).statistics_[0].n_clips == 5


def test_a_one_emotion_batch_is_flagged_by_its_spread(rng):
    # Two "emotions" far apart along every feature; a source holding both varies
    # much more than one holding only one of them (no labels needed to see it).
    def clips(emotion, n):
        return rng.normal(0.0, 1.0, (n, 20)) + (4.0 if emotion == "angry" else -4.0)

    mixed = np.r_[clips("angry", 20), clips("sad", 20)]
    reference = mixed.std(axis=0)
    floor = 0.6
    assert spread(mixed, reference) == pytest.approx(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_spread(mixed, reference, floor)  # no warning
    with pytest.warns(AdaptationWarning, match="varies little"):
        value = check_spread(clips("angry", 40), reference, floor)
    assert value < 0.35


def test_cross_corpus_cells_show_adapted_and_plain_side_by_side(rng):
    from serkit.evaluation.crosscorpus import cross_corpus_matrix, format_matrix
    from serkit.evaluation import Dataset
    from serkit.report.results import cross_corpus_figure

    def corpus(emotions, shift):
        y = np.repeat(emotions, 30)
        X = rng.normal(size=(len(y), 2)) + np.array([[e == "angry", e == "sad"] for e in y]) * 4 + shift
        return Dataset(X, y, np.tile(np.arange(6).astype(str), len(y) // 6), ["x0", "x1"])

    # The second corpus sits far from the first: only its own statistics place it.
    data = {"a": corpus(["angry", "sad", "calm"], 0.0), "b": corpus(["angry", "sad"], 6.0)}
    result = cross_corpus_matrix("logreg", data, [["a"]], ["b"], adapt="corpus", progress=False)
    cell = result.cell("a", "b")
    assert cell["unweighted_accuracy"] > 0.9 > cell["unweighted_accuracy_fallback"]
    # The argmax over all the model's emotions may pick 'calm', which b lacks: never higher.
    assert cell["unweighted_accuracy_all"] <= cell["unweighted_accuracy"]
    assert 0 <= cell["ece_all"] <= 1
    assert "/ plain" in format_matrix(result)
    text = cross_corpus_figure(result.to_dict()).axes[0].texts[0].get_text()
    assert text.startswith(f"adapted {100 * cell['unweighted_accuracy']:.1f}\nplain {100 * cell['unweighted_accuracy_fallback']:.1f}")
    with pytest.raises(ParameterError, match="--adapt 'room'"):
        cross_corpus_matrix("logreg", data, adapt="room", progress=False)


def test_cross_corpus_cells_score_a_folder_of_several_voices_voice_by_voice(rng):
    # Test corpus b holds two voices far apart along the emotion's feature; one source mixes them,
    # each voice by its own statistics (found from the clips' embeddings, no labels) places both.
    from serkit.evaluation.crosscorpus import cross_corpus_matrix
    from serkit.evaluation import Dataset

    def corpus(shifts):
        y = np.tile(np.repeat(["angry", "sad"], 100), len(shifts))
        offset = np.repeat(shifts, 200)[:, None]
        X = rng.normal(size=(len(y), 2)) + np.c_[(y == "angry") * 4.0 + offset[:, 0], np.zeros(len(y))]
        return Dataset(X, y, np.repeat(np.arange(len(shifts)).astype(str), 200), ["x0", "x1"])

    data = {"a": corpus([0.0, 0.5, 1.0]), "b": corpus([-4.0, 4.0])}
    centres = rng.normal(size=(2, 192))
    voices = {"b": np.repeat(centres, 200, axis=0) + 0.2 * rng.normal(size=(400, 192))}
    result = cross_corpus_matrix("logreg", data, [["a"]], ["b"], adapt="corpus", progress=False, voices=voices)
    cell = result.cell("a", "b")
    assert cell["unweighted_accuracy_all_voice"] > 0.9 > cell["unweighted_accuracy_all"]
    with pytest.raises(ParameterError, match="one embedding per clip"):
        cross_corpus_matrix("logreg", data, [["a"]], ["b"], adapt="corpus", progress=False, voices={"b": voices["b"][:5]})


def test_groups_of_any_array_kind_are_one_key_each(rng):
    # A Dataset holds its speakers as an object array of str; lists give numpy str, ids ints.
    X = rng.normal(size=(40, 3))
    for groups in (np.array(["a"] * 20 + ["b"] * 20, dtype=object), ["a"] * 20 + ["b"] * 20, np.repeat([7, 9], 20)):
        adapter = SourceAdapter().fit(X, groups)
        assert sorted(adapter.statistics_) == sorted({g.item() if isinstance(g, np.generic) else g for g in np.unique(groups)})
        np.testing.assert_allclose(adapter.transform(X, groups)[:20].mean(axis=0), 0.0, atol=1e-12)
