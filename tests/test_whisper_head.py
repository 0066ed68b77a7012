"""The ``whisper-head`` frame model (serkit.models.frame_head) and the ``whisper-frames`` set."""

from __future__ import annotations

import numpy as np
import pytest

from serkit.core.exceptions import ParameterError
from serkit.models import make_model, model_spec, resolve_model_names
from serkit.models.frame_head import FrameHeadClassifier

N_FEATURES = 12
TINY = {"conv_channels": 8, "max_epochs": 20, "learning_rate": 1e-2, "batch_size": 8, "crop_frames": 40, "n_threads": 1}


def frame_data(rng, n_per_class=8):
    """Three classes of clips of 20–60 frames whose feature means differ by class."""
    labels = ["angry", "calm", "sad"]
    X, y, groups = [], [], []
    for k, label in enumerate(labels):
        for i in range(n_per_class):
            n_frames = int(rng.integers(20, 60))
            X.append((rng.normal(0.0, 1.0, (N_FEATURES, n_frames)) + 2.0 * k).astype(np.float32))
            y.append(label)
            groups.append(i % 4)
    return X, np.array(y), np.array(groups)


@pytest.fixture(scope="module")
def fitted():
    X, y, groups = frame_data(np.random.default_rng(0))
    return FrameHeadClassifier(**TINY).fit(X, y, groups=groups), X, y


def test_registered_as_a_frame_model_on_whisper_frames():
    from serkit.features import get_feature_set

    spec = model_spec("whisper-head")
    assert spec.input_kinds == ("frames",) and spec.default_set == "whisper-frames"
    assert get_feature_set("whisper-frames").kind == "frames"
    assert resolve_model_names("whisper-head", "frames") == ["whisper-head"]
    with pytest.raises(ParameterError, match="takes frames features"):
        resolve_model_names("whisper-head", "vector")
    assert isinstance(make_model("whisper-head", conv_channels=0), FrameHeadClassifier)


def test_fits_and_gives_probabilities(fitted):
    model, X, y = fitted
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert model.classes_.tolist() == ["angry", "calm", "sad"]
    assert 1 <= model.best_epoch_ <= TINY["max_epochs"] and len(model.history_) == TINY["max_epochs"]
    # Classes 2 feature-units apart: twenty short epochs learn them.
    assert np.mean(model.predict(X) == y) > 0.8


def test_padding_does_not_change_a_clips_output(fitted):
    model, X, _ = fitted
    short, long = X[0][:, :7], X[1]
    for backend in ("onnx", "torch"):
        model.set_params(backend=backend)
        alone = model.predict_proba([short])
        beside_longer = model.predict_proba([short, long])[:1]
        np.testing.assert_allclose(beside_longer, alone, atol=1e-5)
    model.set_params(backend="onnx")


def test_without_conv_pools_the_frames_directly():
    X, y, groups = frame_data(np.random.default_rng(1), n_per_class=4)
    model = FrameHeadClassifier(**{**TINY, "conv_channels": 0, "validation_size": 0}).fit(X, y)
    assert model.state_["classifier.1.weight"].shape == (3, 2 * N_FEATURES)
    assert not any(key.startswith("conv.") for key in model.state_)


@pytest.mark.parametrize("bad", [-1, 2.5, "128"])
def test_bad_conv_channels_is_a_parameter_error(bad):
    X, y, _ = frame_data(np.random.default_rng(2), n_per_class=2)
    with pytest.raises(ParameterError, match="conv_channels"):
        FrameHeadClassifier(conv_channels=bad).fit(X, y)


def test_saves_and_loads_within_the_allow_list(fitted, tmp_path):
    import skops.io as sio

    from serkit.models.artifacts import ALLOWED_CLASSES, load_model, save_model
    from serkit.features import get_feature_set

    model, X, _ = fitted
    model_dir = save_model(tmp_path / "head", model, get_feature_set("whisper-frames"))
    assert not set(sio.get_untrusted_types(file=model_dir / "model.skops")) - ALLOWED_CLASSES
    predictor = load_model(model_dir)
    np.testing.assert_allclose(predictor.estimator.predict_proba(X[:4]), model.predict_proba(X[:4]), atol=1e-6)
