"""Dual-path models on synthetic features: two heads, the switch, the export of both (1e-9),
its strict checks, save/load and ``serkit adapt``'s copy (the adapted head answers single clips)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from serkit.core.exceptions import ArtifactError, ParameterError
from serkit.features import get_feature_set
from serkit.features.adaptation import SourceStatistics, model_statistics
from serkit.inference.runtime import ExportedModel, scale_probabilities
from serkit.models import artifacts
from serkit.models.artifacts import load_model, save_adapted
from serkit.models.dualpath import DualPathClassifier

TOLERANCE = 1e-9


def corpus(rng, shift, n_features=26):
    """Two speakers, three emotions; the corpus sits at ``shift`` (its recording conditions)."""
    from serkit.evaluation import Dataset

    y = np.repeat(["angry", "calm", "sad"], 16)
    X = rng.normal(size=(len(y), n_features)) + shift
    X[:, 0] += np.select([y == "angry", y == "sad"], [3.0, -3.0], 0.0)
    return Dataset(X, y, np.tile(["s1", "s2"], len(y) // 2), [f"x{i}" for i in range(n_features)])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A dual-path model trained with ``adapt="corpus"``, its heads' C different, temperatures set."""
    from serkit.training import train_model

    rng = np.random.default_rng(0)
    path, _, _ = train_model("logreg", {"a": corpus(rng, 0.0), "b": corpus(rng, 5.0)}, get_feature_set("seed26"),
                             tmp_path_factory.mktemp("dual"), adapt="corpus", params={"C": 0.1},
                             plain_params={"C": 0.01}, temperatures={"plain": 1.7, "adapted": 1.3},
                             cross_validate=False)
    return path


def test_training_gives_two_heads_and_says_so(trained):
    metadata = json.loads((trained / "metadata.json").read_text())
    assert metadata["adaptation"]["default_head"] == "plain"
    assert metadata["adaptation"]["heads"] == {"plain": {"model": "logreg", "model_params": {"C": 0.01}, "temperature": 1.7},
                                               "adapted": {"model": "logreg", "model_params": {"C": 0.1}, "temperature": 1.3}}
    model = load_model(trained, runtime="skops").estimator
    assert isinstance(model, DualPathClassifier) and model.default_head == "plain"
    assert model.plain_.get_params()["logreg__C"] == 0.01 and model.adapted_.steps[1][1].get_params()["logreg__C"] == 0.1
    # The plain head takes the clips as recorded; the adapted one opens with the pooled training statistics.
    assert model_statistics(model.plain_) is None and model_statistics(model).n_clips == 96


def test_the_export_matches_the_pipeline_for_both_heads(trained):
    rng = np.random.default_rng(1)
    X = rng.normal(2.0, 3.0, size=(30, 26))
    lean, full = load_model(trained).estimator, load_model(trained, runtime="skops").estimator
    assert isinstance(lean, ExportedModel) and lean.default_head == "plain"
    for head in ("plain", "adapted"):
        np.testing.assert_allclose(lean.head(head).predict_proba(X), full.head(head).predict_proba(X),
                                   atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(lean.predict_proba(X), full.head("plain").predict_proba(X), atol=TOLERANCE, rtol=0)
    assert not np.allclose(full.head("plain").predict_proba(X), full.head("adapted").predict_proba(X))
    np.testing.assert_allclose(model_statistics(lean).mean, model_statistics(full).mean, atol=TOLERANCE)


def test_heads_of_two_families_export_to_the_same_probabilities(tmp_path):
    """A plain ``lda`` head beside an adapted ``logreg`` (``build_bundled_model.py --families lda-0.8 logreg``):
    its LDA is the export's ``logistic`` step (softmax of its decision function), equal to 1e-9."""
    from serkit.training import train_model

    rng = np.random.default_rng(4)
    path, _, _ = train_model("logreg", {"a": corpus(rng, 0.0), "b": corpus(rng, 5.0)}, get_feature_set("seed26"),
                             tmp_path, adapt="corpus", params={"C": 0.1}, plain_model="lda",
                             plain_params={"shrinkage": 0.8}, temperatures={"plain": 1.5}, cross_validate=False)
    heads = json.loads((path / "metadata.json").read_text())["adaptation"]["heads"]
    assert (heads["plain"]["model"], heads["adapted"]["model"]) == ("lda", "logreg")
    lean, full = load_model(path).estimator, load_model(path, runtime="skops").estimator
    assert full.plain_.steps[-1][0] == "lda"
    X = np.random.default_rng(5).normal(2.0, 3.0, size=(30, 26))
    for head in ("plain", "adapted"):
        np.testing.assert_allclose(lean.head(head).predict_proba(X), full.head(head).predict_proba(X),
                                   atol=TOLERANCE, rtol=0)


def test_a_temperature_scales_its_head_only(trained):
    full = load_model(trained, runtime="skops").estimator
    X = np.random.default_rng(2).normal(size=(5, 26))
    raw = full.plain_.predict_proba(X)
    np.testing.assert_allclose(full.head("plain").predict_proba(X), scale_probabilities(raw, 1.7), atol=TOLERANCE)
    assert np.array_equal(full.predict(X), full.classes_[raw.argmax(axis=1)])  # a temperature keeps the argmax


def test_the_predictor_switches_heads(trained):
    predictor = load_model(trained)
    X = np.random.default_rng(3).normal(size=(4, 26))
    np.testing.assert_allclose(predictor.answering(False).predict_proba(X), predictor.estimator.head("plain").predict_proba(X))
    np.testing.assert_allclose(predictor.answering(True).predict_proba(X), predictor.estimator.head("adapted").predict_proba(X))
    assert predictor.default_adaptation == "none"
    assert predictor.describe()["adaptation"]["default_head"] == "plain"


def test_v1_model_says_which_head_answers_a_clip_alone(trained):
    from serkit.service.routers.info import public_description

    shown = public_description(load_model(trained).describe())["adaptation"]
    assert shown["default_head"] == "plain" and set(shown["heads"]) == {"plain", "adapted"}
    assert "statistics" not in shown and shown["n_clips"] == 96


def test_serkit_adapt_copy_answers_single_clips_with_the_adapted_head(trained, tmp_path):
    rng = np.random.default_rng(4)
    statistics = SourceStatistics.of(rng.normal(9.0, 2.0, size=(40, 26)))
    out = save_adapted(trained, statistics, tmp_path / "adapted", source="40 recordings in my-folder")
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["adaptation"]["default_head"] == "adapted"
    assert metadata["adaptation"]["statistics"] == {"source": "40 recordings in my-folder", "n_clips": 40}
    original, copy = load_model(trained, runtime="skops").estimator, load_model(out, runtime="skops").estimator
    lean = load_model(out)
    assert copy.default_head == "adapted" == lean.estimator.default_head and lean.default_adaptation == "source"
    X = rng.normal(9.0, 2.0, size=(6, 26))
    # The plain head is kept as trained; the adapted head now standardises by the new source.
    np.testing.assert_allclose(copy.head("plain").predict_proba(X), original.head("plain").predict_proba(X), atol=TOLERANCE)
    np.testing.assert_allclose(model_statistics(copy).mean, statistics.mean)
    np.testing.assert_allclose(lean.estimator.predict_proba(X), copy.head("adapted").predict_proba(X), atol=TOLERANCE, rtol=0)
    inner = original.adapted_.steps[1][1]  # the adapted head's model, behind the new source's statistics
    np.testing.assert_allclose(copy.predict_proba(X), scale_probabilities(inner.predict_proba(statistics.apply(X)), 1.3),
                               atol=TOLERANCE)


def test_heads_of_different_classes_and_bad_parameters_are_refused():
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    two, three = LogisticRegression().fit(X, ["a", "a", "b", "b"]), LogisticRegression().fit(X, ["a", "b", "c", "c"])
    with pytest.raises(ParameterError, match="different classes"):
        DualPathClassifier.of(two, three)
    with pytest.raises(ParameterError, match="default="):
        DualPathClassifier.of(two, two, default="both")
    with pytest.raises(ParameterError, match="temperatures"):
        DualPathClassifier.of(two, two, temperatures={"plain": 0.0})
    with pytest.raises(ParameterError, match="head 'x'"):
        DualPathClassifier.of(two, two).head("x")
    with pytest.raises(ParameterError, match="two fitted heads"):
        DualPathClassifier().fit(X, ["a", "a", "b", "b"])


def test_a_tampered_skops_dual_path_is_refused(trained):
    model = load_model(trained, runtime="skops").estimator
    model.default_ = "both"
    with pytest.raises(ParameterError, match="dual-path model"):
        artifacts.check_loaded_model(model)


def _rewrite_graph(model_dir, edit):
    document = json.loads((model_dir / "inference.json").read_text())
    edit(document["model"])
    (model_dir / "inference.json").write_text(json.dumps(document))
    artifacts.write_manifest(model_dir, json.loads((model_dir / "manifest.json").read_text())["files"])


def _plain_pipeline(step):
    return step["plain"]["model"]


TAMPERED = {
    "default": (lambda m: m.__setitem__("default", "python"), "default must be one of plain, adapted"),
    "no head": (lambda m: m.pop("adapted"), "unknown step"),
    "classes": (lambda m: m.__setitem__("classes", ["angry", "sad", "calm"]), "of the step's classes"),
    "adapted without statistics": (lambda m: m["adapted"].__setitem__("model", _plain_pipeline(m)), "source statistics"),
    "frames head": (lambda m: m.__setitem__("plain", {"op": "frame-network", "file": "inference-0.onnx"}), "networks"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_dual_path_export_is_one_error_line(trained, tmp_path, case):
    import shutil

    model_dir = shutil.copytree(trained, tmp_path / "model")
    edit, message = TAMPERED[case]
    _rewrite_graph(model_dir, edit)
    with pytest.raises(ArtifactError, match=message) as caught:
        load_model(model_dir)
    assert "\n" not in str(caught.value)


def test_metadata_must_name_the_models_default_head(trained, tmp_path):
    import shutil

    model_dir = shutil.copytree(trained, tmp_path / "model")
    metadata = json.loads((model_dir / "metadata.json").read_text())
    metadata["adaptation"]["default_head"] = "adapted"
    (model_dir / "metadata.json").write_text(json.dumps(metadata))
    artifacts.write_manifest(model_dir, json.loads((model_dir / "manifest.json").read_text())["files"])
    with pytest.raises(ArtifactError, match="default_head differs"):
        load_model(model_dir)
