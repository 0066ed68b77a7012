"""The ``ssl`` feature set, with tiny randomly initialised encoders saved to a temp dir."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_voice_like

from serkit.core.exceptions import ParameterError
from serkit.features import get_feature_set

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

TINY = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
    conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 8),
    num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
)


def save_tiny_encoder(config_class, model_class, path) -> str:
    torch.manual_seed(0)
    model_class(config_class(**TINY)).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    return save_tiny_encoder(
        transformers.Wav2Vec2Config, transformers.Wav2Vec2Model, tmp_path_factory.mktemp("wav2vec2")
    )


def test_hubert_family_loads_by_directory_too(tmp_path):
    path = save_tiny_encoder(transformers.HubertConfig, transformers.HubertModel, tmp_path)
    vector = get_feature_set("ssl", model=path).from_audio(make_voice_like(duration_s=0.5), 16000)
    assert vector.shape == (32,)


def test_one_vector_per_clip_named_by_columns(encoder_dir):
    fs = get_feature_set("ssl", model=encoder_dir)
    vector = fs.from_audio(make_voice_like(duration_s=1.0, sr=16000), 16000)
    assert (fs.kind, vector.shape, vector.dtype) == ("vector", (32,), np.float32)
    assert fs.columns[:2] == ["ssl_0", "ssl_1"] and len(fs.columns) == 32
    assert np.all(np.isfinite(vector))


def test_layer_mean_is_the_average_of_the_transformer_layers(encoder_dir):
    y = make_voice_like(duration_s=1.0, sr=16000, seed=1)
    per_layer = [get_feature_set("ssl", model=encoder_dir, layer=k).from_audio(y, 16000) for k in (1, 2)]
    mean = get_feature_set("ssl", model=encoder_dir, layer="mean").from_audio(y, 16000)
    np.testing.assert_allclose(mean, np.mean(per_layer, axis=0), atol=1e-5)
    assert not np.allclose(per_layer[0], per_layer[1])
    np.testing.assert_array_equal(
        get_feature_set("ssl", model=encoder_dir, layer=-1).from_audio(y, 16000), per_layer[1]
    )


def test_other_rates_are_resampled_and_output_is_deterministic(encoder_dir):
    fs = get_feature_set("ssl", model=encoder_dir)
    y = make_voice_like(duration_s=1.0, sr=22050)
    np.testing.assert_array_equal(fs.from_audio(y, 22050), fs.from_audio(y, 22050))


def test_bad_layer_model_or_parameters_raise_parameter_error(encoder_dir, tmp_path):
    y = make_voice_like(duration_s=0.5, sr=16000)
    with pytest.raises(ParameterError, match="out of range"):
        get_feature_set("ssl", model=encoder_dir, layer=7).from_audio(y, 16000)
    with pytest.raises(ParameterError, match="cannot load"):
        get_feature_set("ssl", model=str(tmp_path / "missing")).from_audio(y, 16000)
    with pytest.raises(ParameterError, match="layer"):
        get_feature_set("ssl", model=encoder_dir, layer="last")
