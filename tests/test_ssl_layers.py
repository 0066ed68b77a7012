"""``ssl`` with ``layer="all"`` and the ``layer-weighted`` model (learned softmax weights over layers)."""

from __future__ import annotations

import numpy as np
import pytest
import skops.io as sio
from conftest import make_voice_like

import serkit.models.layers  # noqa: F401  (registers "layer-weighted" even before the registry lists it)
from serkit.models.artifacts import ALLOWED_CLASSES, load_model, save_model
from serkit.core.exceptions import ParameterError
from serkit.features import get_feature_set
from serkit.models import fit_model, make_model, model_name
from serkit.models.layers import LayerWeighting

pytest.importorskip("torch")

TINY = dict(  # as in test_ssl.py: 2 transformer layers → 3 hidden states of 32 values
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
    conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 8),
    num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
)
TINY_STATES = TINY["num_hidden_layers"] + 1


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    transformers = pytest.importorskip("transformers")
    import torch

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("wav2vec2")
    transformers.Wav2Vec2Model(transformers.Wav2Vec2Config(**TINY)).save_pretrained(path)
    return str(path)


def layered_data(n_clips=150, n_layers=5, hidden_size=8, informative=3, seed=0):
    """``X (n_clips, n_layers * hidden_size)`` layer-major, where only layer ``informative``
    carries the class (3 classes); every layer has its own offset and scale."""
    rng = np.random.default_rng(seed)
    y = np.array(["angry", "calm", "sad"])[np.arange(n_clips) % 3]
    centers = rng.normal(size=(3, hidden_size))
    layers = rng.normal(size=(n_clips, n_layers, hidden_size))
    layers[:, informative, :] += 1.5 * centers[np.arange(n_clips) % 3]
    layers = layers * rng.uniform(0.1, 10.0, size=(1, n_layers, 1)) + rng.normal(0, 5, size=(1, n_layers, 1))
    return layers.reshape(n_clips, -1), y


def test_layer_all_stacks_every_hidden_state_layer_major(encoder_dir):
    y = make_voice_like(duration_s=0.5, sr=16000, seed=2)
    fs = get_feature_set("ssl", model=encoder_dir, layer="all")
    vector = fs.from_audio(y, 16000)
    hidden = TINY["hidden_size"]
    assert (vector.shape, vector.dtype) == ((TINY_STATES * hidden,), np.float32)
    assert len(fs.columns) == vector.size
    assert fs.columns[:2] == ["ssl_l0_0", "ssl_l0_1"] and fs.columns[hidden] == "ssl_l1_0"
    assert fs.columns[-1] == f"ssl_l{TINY_STATES - 1}_{hidden - 1}"
    for k in (0, 1, -1):
        single = get_feature_set("ssl", model=encoder_dir, layer=k).from_audio(y, 16000)
        np.testing.assert_allclose(vector.reshape(TINY_STATES, hidden)[k], single, atol=1e-5)
    assert get_feature_set("ssl", model=encoder_dir).params()["layer"] == "mean"


def test_layer_weighting_puts_its_weight_on_the_informative_layer():
    X, y = layered_data(informative=3)
    weighting = LayerWeighting(n_layers=5).fit(X, y)
    weights = weighting.layer_weights_
    assert isinstance(weights, np.ndarray) and weights.shape == (5,)
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0)
    assert np.argmax(weights) == 3 and weights[3] > 0.6
    assert weighting.transform(X).shape == (len(X), 8)
    assert weighting.get_feature_names_out()[0] == "layer_weighted_0"
    # Fitted state is plain numpy (skops saves it without pickle), no torch objects.
    assert all(isinstance(value, (np.ndarray, int, float)) for key, value in vars(weighting).items()
               if key.endswith("_") and not key.startswith("_"))


def test_layer_weighting_is_deterministic_with_its_seed():
    X, y = layered_data(seed=1)
    first = LayerWeighting(n_layers=5, max_iter=50, random_state=7).fit(X, y)
    second = LayerWeighting(n_layers=5, max_iter=50, random_state=7).fit(X, y)
    np.testing.assert_array_equal(first.layer_weights_, second.layer_weights_)
    np.testing.assert_array_equal(first.transform(X), second.transform(X))


def test_layer_weighting_refuses_bad_widths_and_parameters():
    X, y = layered_data()
    with pytest.raises(ParameterError, match="40 columns, not a multiple of n_layers=3"):
        LayerWeighting(n_layers=3).fit(X, y)
    with pytest.raises(ParameterError, match="n_layers=0"):
        LayerWeighting(n_layers=0).fit(X, y)
    with pytest.raises(ParameterError, match="learning_rate"):
        LayerWeighting(n_layers=5, learning_rate=0).fit(X, y)
    with pytest.raises(ParameterError, match="two classes"):
        LayerWeighting(n_layers=5).fit(X, np.full(len(X), "sad"))


def test_layer_weighted_model_fits_and_beats_chance():
    X, y = layered_data(n_clips=240, seed=3)
    model = make_model("layer-weighted", n_layers=5)
    assert [name for name, _ in model.steps] == ["weight", "scale", "layer-weighted"]
    assert model_name(model) == "layer-weighted"
    fit_model(model, X[:150], y[:150], groups=np.arange(150) % 5)
    probabilities = model.predict_proba(X[150:])
    assert probabilities.shape == (90, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert np.mean(model.predict(X[150:]) == y[150:]) > 0.7  # chance: 1/3
    assert np.argmax(model.named_steps["weight"].layer_weights_) == 3


def test_layer_weighted_takes_another_head_and_refuses_bad_parameters():
    X, y = layered_data(n_clips=90)
    dense = make_model("layer-weighted", n_layers=5, head="dense", head_params={"max_epochs": 3})
    assert dense.fit(X, y).predict_proba(X).shape == (90, 3)
    with pytest.raises(ParameterError, match="head='nope' is unknown"):
        make_model("layer-weighted", head="nope")
    with pytest.raises(ParameterError, match="n_layers"):
        make_model("layer-weighted", n_layers=0)
    with pytest.raises(ParameterError, match="bad parameters"):
        make_model("layer-weighted", no_such_option=1)


def test_fitted_model_round_trips_through_skops_and_save_model(encoder_dir, tmp_path):
    fs = get_feature_set("ssl", model=encoder_dir, layer="all")
    X, y = layered_data(n_clips=90, n_layers=TINY_STATES, hidden_size=TINY["hidden_size"], informative=1)
    model = make_model("layer-weighted", n_layers=TINY_STATES, max_iter=50).fit(X, y)
    untrusted = sio.get_untrusted_types(data=sio.dumps(model))
    assert set(untrusted) <= ALLOWED_CLASSES
    restored = sio.loads(sio.dumps(model), trusted=untrusted)
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    predictor = load_model(save_model(tmp_path / "layer-weighted", model, fs))
    assert predictor.metadata["model"] == "layer-weighted"
    assert predictor.metadata["feature_set"]["params"]["layer"] == "all"
    np.testing.assert_array_equal(predictor.estimator.predict_proba(X), model.predict_proba(X))
