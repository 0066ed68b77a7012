"""logreg-tuned: C chosen by speaker-grouped inner CV on training clips only."""

import numpy as np
import pytest

from serkit.evaluation import evaluate
from serkit.core.exceptions import ParameterError
from serkit.models import available_models, make_model, model_name
from serkit.models.tuned import InnerCVTuned


def speakers_data(rng, n_speakers=6, per_class=6):
    X, y, groups = [], [], []
    for speaker in range(n_speakers):
        offset = rng.normal(0, 0.5, 5)
        for label, centre in (("happy", 1.0), ("sad", -1.0)):
            X.append(rng.normal(centre, 1.0, (per_class, 5)) + offset)
            y += [label] * per_class
            groups += [f"s{speaker}"] * per_class
    return np.vstack(X), np.array(y), np.array(groups)


def test_registered_and_named():
    assert "logreg-tuned" in available_models("vector")
    assert model_name(make_model("logreg-tuned")) == "logreg-tuned"


def test_picks_the_value_with_the_best_inner_score(rng):
    X, y, groups = speakers_data(rng)
    model = InnerCVTuned(model="logreg", param="C", values=(1e-6, 1.0), n_inner=3).fit(X, y, groups)
    assert set(model.inner_scores_) == {1e-6, 1.0}
    assert model.best_value_ == max(model.values, key=model.inner_scores_.get)
    assert model.best_estimator_.get_params()["logreg__C"] == model.best_value_
    np.testing.assert_allclose(model.predict_proba(X), model.best_estimator_.predict_proba(X))


def test_needs_speakers(rng):
    X, y, _ = speakers_data(rng)
    with pytest.raises(ParameterError, match="needs the speaker"):
        InnerCVTuned().fit(X, y)


def test_tuning_sees_training_speakers_only(rng, monkeypatch):
    X, y, groups = speakers_data(rng)
    seen = []
    original = InnerCVTuned.fit

    def spy(self, X, y, groups=None):
        seen.append(set(groups))
        return original(self, X, y, groups)

    monkeypatch.setattr(InnerCVTuned, "fit", spy)
    result = evaluate("logreg-tuned", X, y, groups, protocol="speaker", n_splits=3, progress=False)
    run = result.runs[0]
    assert len(seen) == len(run.folds) == 3
    for fold, training_speakers in zip(run.folds, seen):
        assert not training_speakers & set(fold["test_speakers"])
    assert run.summary["unweighted_accuracy"]["mean"] > 0.7
