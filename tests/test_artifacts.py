"""serkit.models.artifacts: save → load gives the same model; anything altered is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

import serkit.models.artifacts as artifacts
from serkit.models.artifacts import load_model, save_model, verify_manifest
from serkit.core.exceptions import ArtifactError, ParameterError
from serkit.features import get_feature_set
from serkit.models import fit_model, make_model


@pytest.fixture
def seed26():
    return get_feature_set("seed26")


@pytest.fixture
def training_data(seed26, rng):
    y = np.repeat(["calm", "angry", "sad", "happy"], 12)
    X = rng.normal(size=(len(y), len(seed26.columns)))
    X[:, :4] += 3.0 * (y[:, None] == np.array(["calm", "angry", "sad", "happy"]))
    groups = np.tile(["01", "02", "03", "04"], 12)
    return X, y, groups


def saved(tmp_path, seed26, training_data, name="logreg", **params):
    X, y, groups = training_data
    model = fit_model(make_model(name, **params), X, y, groups)
    model_dir = save_model(tmp_path / name, model, seed26, metrics={"ua": 0.5},
                           extra={"license": "CC BY-NC-SA 4.0"})
    return model, model_dir


def rewrite_metadata(model_dir, **changes):
    """Edit metadata.json and re-sign the manifest, as a careless tool would."""
    metadata = json.loads((model_dir / "metadata.json").read_text())
    metadata.update(changes)
    (model_dir / "metadata.json").write_text(json.dumps(metadata))
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["files"]["metadata.json"] = artifacts.sha256_file(model_dir / "metadata.json")
    (model_dir / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("name, params", [("logreg", {}), ("dense", {"max_epochs": 5}),
                                          ("kmeans", {})])
def test_save_then_load_gives_the_same_probabilities(name, params, tmp_path, seed26,
                                                      training_data):
    model, model_dir = saved(tmp_path, seed26, training_data, name, **params)
    export = ["inference.json", "inference.safetensors"] if name != "kmeans" else []  # k-means has no export
    assert sorted(p.name for p in model_dir.iterdir()) == sorted(["manifest.json", "metadata.json", "model.skops", *export])
    predictor = load_model(model_dir, runtime="skops")
    X = training_data[0]
    np.testing.assert_array_equal(predictor.estimator.predict_proba(X), model.predict_proba(X))
    metadata = predictor.metadata
    assert metadata["model"] == name
    assert metadata["feature_set"]["name"] == "seed26"
    assert metadata["feature_set"]["columns"] == seed26.columns
    assert metadata["labels"] == list(model.classes_)
    assert metadata["metrics"] == {"ua": 0.5} and metadata["license"] == "CC BY-NC-SA 4.0"
    assert {"serkit", "scikit-learn", "numpy"} <= metadata["versions"].keys()
    assert metadata["speaker_norm"] is False


def test_a_tampered_model_file_is_refused(tmp_path, seed26, training_data):
    _, model_dir = saved(tmp_path, seed26, training_data)
    with open(model_dir / "model.skops", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match="model.skops: checksum mismatch"):
        load_model(model_dir)


def test_edited_metadata_is_refused(tmp_path, seed26, training_data):
    _, model_dir = saved(tmp_path, seed26, training_data)
    text = (model_dir / "metadata.json").read_text().replace('"logreg"', '"svm"')
    (model_dir / "metadata.json").write_text(text)
    with pytest.raises(ArtifactError, match="metadata.json: checksum mismatch"):
        load_model(model_dir)


def test_missing_files_are_refused(tmp_path, seed26, training_data):
    _, model_dir = saved(tmp_path, seed26, training_data)
    (model_dir / "model.skops").unlink()
    with pytest.raises(ArtifactError, match="model.skops: missing"):
        load_model(model_dir)
    (model_dir / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match="manifest.json: missing"):
        verify_manifest(model_dir)


def test_other_feature_set_or_columns_are_refused(tmp_path, seed26, training_data):
    _, model_dir = saved(tmp_path, seed26, training_data)
    columns = seed26.columns[:-1] + ["something_else"]
    rewrite_metadata(model_dir, feature_set={"name": "seed26", "params": seed26.params(),
                                             "columns": columns})
    with pytest.raises(ArtifactError, match="different columns"):
        load_model(model_dir)
    rewrite_metadata(model_dir, feature_set={"name": "no-such-set", "params": {},
                                             "columns": None})
    with pytest.raises(ArtifactError, match="'no-such-set'.*not available"):
        load_model(model_dir)


def test_other_major_version_is_refused(tmp_path, seed26, training_data):
    _, model_dir = saved(tmp_path, seed26, training_data)
    rewrite_metadata(model_dir, versions={"serkit": "99.0.0"})
    with pytest.raises(ArtifactError, match="serkit 99.0.0.*major versions differ"):
        load_model(model_dir)


class Untrusted(ClassifierMixin, BaseEstimator):
    """A classifier from outside serkit/scikit-learn: its file must not load."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def test_untrusted_types_are_never_loaded(tmp_path, seed26, training_data):
    X, y, _ = training_data
    model_dir = save_model(tmp_path / "untrusted", Untrusted().fit(X, y), seed26)
    with pytest.raises(ArtifactError, match="untrusted types.*Untrusted"):
        load_model(model_dir)


def test_unfitted_model_cannot_be_saved(tmp_path, seed26):
    with pytest.raises(ParameterError, match="not fitted"):
        save_model(tmp_path, make_model("svm"), seed26)


def test_missing_directories_are_clear(tmp_path, monkeypatch):
    with pytest.raises(ArtifactError, match="no such model directory"):
        load_model(tmp_path / "nothing")
    monkeypatch.setattr(artifacts, "DEFAULT_MODEL_DIR", tmp_path / "absent-default")
    with pytest.raises(ArtifactError, match="bundled default model is not installed"):
        load_model()


def test_train_and_save_with_speaker_normalisation(tmp_path, seed26, training_data):
    from serkit.evaluation import Dataset
    from serkit.features.normalization import SpeakerNormalizer
    from serkit.training import train_model

    X, y, groups = training_data
    X = X + 5.0 * (groups == "01")[:, None]  # one loud speaker
    dataset = Dataset(X, y, groups, seed26.columns, {"name": "synthetic"})
    model_dir, result, _ = train_model("logreg", {"synthetic": dataset}, seed26, tmp_path / "m",
                                       n_splits=2, speaker_norm=True, progress=False)
    predictor = load_model(model_dir)
    assert predictor.metadata["speaker_norm"] is True
    assert predictor.metadata["metrics"]["speaker_norm"] is True
    assert predictor.metadata["metrics"]["summary"] == result.runs[0].summary
    pooled = predictor.metadata["metrics"]["pooled_out_of_fold"]
    assert pooled["ece"] == result.runs[0].calibration["ece"] and set(pooled) == {"ece", "brier"}
    assert result.runs[0].speaker_norm
    normalised = SpeakerNormalizer().fit_transform(X, groups)
    expected = fit_model(make_model("logreg"), normalised, y).predict_proba(normalised)
    np.testing.assert_allclose(predictor.estimator.predict_proba(normalised), expected)


def test_a_model_file_naming_a_function_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    from serkit.models.artifacts import _load_estimator

    path = tmp_path / "evil.skops"
    sio.dump(FunctionTransformer(func=eval), path)
    with pytest.raises(ArtifactError, match="refusing untrusted types.*builtins.eval"):
        _load_estimator(path)
