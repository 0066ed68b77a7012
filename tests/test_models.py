"""serkit.models: the registry, every model on a synthetic task, the custom estimators."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from serkit.core.exceptions import ParameterError
from serkit.core.labels import EMOTIONS
from serkit.models import available_models, fit_model, make_model, model_name, resolve_model_names
from serkit.models.dense import DenseNetClassifier, inner_validation_split
from serkit.models.kmeans import KMeansClassifier
from serkit.models.preprocessing import QuantileClipper

VECTOR_MODELS = ["dense", "mlp", "logreg", "kmeans", "svm", "forest", "boosting", "ensemble"]
FAST_PARAMS = {"dense": {"max_epochs": 20, "hidden_layer_sizes": (64, 32)},
               "boosting": {"max_iter": 20}}


def emotion_task(rng, *, n_speakers=5, per_cell=4, n_features=6, spread=0.6):
    """Eight well-separated emotion clusters, each speaker shifted a little."""
    centers = rng.normal(0, 2.0, (len(EMOTIONS), n_features))
    offsets = rng.normal(0, 0.3, (n_speakers, n_features))
    X, y, groups = [], [], []
    for speaker in range(n_speakers):
        for emotion, center in zip(EMOTIONS, centers):
            X.append(center + offsets[speaker] + rng.normal(0, spread, (per_cell, n_features)))
            y += [emotion] * per_cell
            groups += [f"spk{speaker}"] * per_cell
    return np.concatenate(X), np.array(y), np.array(groups)


def test_registry_lists_the_reference_models_first():
    assert available_models("vector")[:8] == VECTOR_MODELS
    assert resolve_model_names("all") == [m for m in available_models("vector") if m != "layer-weighted"]
    assert resolve_model_names(" svm, mlp ") == ["svm", "mlp"]


@pytest.mark.parametrize("spec", ["nope", "svm,nope", " , "])
def test_unknown_model_names_are_refused(spec):
    with pytest.raises(ParameterError):
        resolve_model_names(spec)


def test_bad_parameters_are_parameter_errors():
    with pytest.raises(ParameterError, match="bad parameters"):
        make_model("logreg", not_a_parameter=1)
    with pytest.raises(ParameterError, match="members"):
        make_model("ensemble", members=("svm", "nope"))


@pytest.mark.parametrize("name", VECTOR_MODELS)
def test_every_model_learns_a_held_out_speaker(name, rng):
    X, y, groups = emotion_task(rng)
    held_out = groups == "spk0"
    model = make_model(name, random_state=0, **FAST_PARAMS.get(name, {}))
    fit_model(model, X[~held_out], y[~held_out], groups[~held_out])
    proba = model.predict_proba(X[held_out])
    assert model_name(model) == name
    assert sorted(model.classes_) == sorted(EMOTIONS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    accuracy = np.mean(model.classes_[proba.argmax(axis=1)] == y[held_out])
    assert accuracy > 0.5  # chance is 1/8


@pytest.mark.parametrize("name", VECTOR_MODELS)
def test_models_clone_with_their_parameters(name):
    model = make_model(name, random_state=3)
    assert clone(model).get_params().keys() == model.get_params().keys()


def test_quantile_clipper_caps_at_training_quantiles():
    X = np.c_[np.arange(101.0), -np.arange(101.0)]
    clipper = QuantileClipper(quantiles=(0.1, 0.9)).fit(X)
    np.testing.assert_array_equal(clipper.lower_, [10.0, -90.0])
    np.testing.assert_array_equal(clipper.transform([[500.0, 5.0]]), [[90.0, -10.0]])


@pytest.mark.parametrize("quantiles", [(0.9, 0.1), (-0.1, 0.5), "x"])
def test_quantile_clipper_refuses_bad_quantiles(quantiles):
    with pytest.raises(ParameterError, match="quantiles"):
        QuantileClipper(quantiles=quantiles).fit(np.ones((3, 2)))


def test_clipping_can_be_turned_off():
    model = make_model("logreg", clip_quantiles=None)
    assert model.named_steps["clip"] == "passthrough"


def test_kmeans_hungarian_mapping_is_one_to_one():
    # Cluster "low" holds 10 calm clips; cluster "high" holds 6 calm + 4 angry. By
    # majority both clusters would mean calm; the Hungarian assignment gives "high"
    # to angry, the one-to-one mapping that agrees with the most training labels.
    X = np.r_[np.zeros((10, 1)), np.full((10, 1), 10.0)] + np.linspace(0, 0.1, 20)[:, None]
    y = np.array(["calm"] * 10 + ["calm"] * 6 + ["angry"] * 4)
    model = KMeansClassifier(n_clusters=2, random_state=0).fit(X, y)
    assert model.predict([[0.0], [10.0]]).tolist() == ["calm", "angry"]
    proba = model.predict_proba([[0.0], [10.0]])
    assert proba[0, list(model.classes_).index("calm")] > 0.99
    assert proba[1, list(model.classes_).index("angry")] > 0.99


def test_kmeans_recovers_permuted_clusters(rng):
    centers = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    names = np.array(["sad", "happy", "angry", "calm"])
    X = np.concatenate([c + rng.normal(0, 0.5, (15, 2)) for c in centers])
    y = np.repeat(names, 15)
    model = KMeansClassifier(n_clusters=4, random_state=0).fit(X, y)
    assert np.mean(model.predict(X) == y) == 1.0


def test_dense_is_deterministic_and_keeps_its_history(rng):
    X, y, groups = emotion_task(rng, n_speakers=5, per_cell=3)
    params = dict(hidden_layer_sizes=(16,), max_epochs=25, patience=5, random_state=7)
    first = DenseNetClassifier(**params).fit(X, y, groups=groups)
    second = DenseNetClassifier(**params).fit(X, y, groups=groups)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    history = first.history_
    assert [record["epoch"] for record in history] == list(range(1, len(history) + 1))
    assert set(history[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "val_held_out"}
    # Early stopping keeps the weights of the epoch with the lowest validation loss.
    best = min(history, key=lambda record: record["val_loss"])
    assert first.best_epoch_ == best["epoch"]
    assert all(isinstance(value, np.ndarray) for value in first.state_.values())


def test_dense_numpy_forward_matches_torch(rng):
    import torch

    X, y, _ = emotion_task(rng, n_speakers=2, per_cell=2)
    model = DenseNetClassifier(hidden_layer_sizes=(8, 4), max_epochs=3, early_stopping=False,
                               validation_fraction=0.0).fit(X, y)
    layers = []
    for i in range(3):
        linear = torch.nn.Linear(*model.state_[f"weight{i}"].T.shape)
        linear.weight.data = torch.from_numpy(model.state_[f"weight{i}"])
        linear.bias.data = torch.from_numpy(model.state_[f"bias{i}"])
        layers += [linear, torch.nn.ReLU()]
    network = torch.nn.Sequential(*layers[:-1]).eval()
    with torch.no_grad():
        expected = torch.softmax(network(torch.from_numpy(X.astype(np.float32))), 1).numpy()
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-5)


def test_dense_inner_validation_split_is_by_speaker(rng):
    _, y, groups = emotion_task(rng, n_speakers=10, per_cell=2)
    train, validation, held_out = inner_validation_split(y, groups, 0.2, random_state=0)
    assert not set(groups[train]) & set(groups[validation])
    assert len(set(groups[validation])) == 2 and held_out == "speakers"
    # Without speakers, or with fewer than 1 / 0.25, it falls back to a stratified split of clips.
    for few in (None, np.isin(groups, ["spk0", "spk1"])):  # no speakers; two speakers
        train, validation, held_out = inner_validation_split(y, few, 0.25, random_state=0)
        assert len(validation) == len(y) // 4 and held_out == "clips"


@pytest.mark.parametrize("params", [{"dropout": 1.0}, {"max_epochs": 0},
                                    {"validation_fraction": 0.0}, {"hidden_layer_sizes": (0,)}])
def test_dense_refuses_bad_parameters(params, rng):
    X, y, _ = emotion_task(rng, n_speakers=1, per_cell=2)
    with pytest.raises(ParameterError):
        DenseNetClassifier(**params).fit(X, y)
