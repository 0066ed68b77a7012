"""The ``cnn`` model: masking, augmentation only in training, learning, saving, ONNX."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from serkit.core.exceptions import ParameterError
from serkit.models import make_model
from serkit.models.augment import AugmentConfig, augment_db, mixup, random_gain, spec_augment, warp_frequency
from serkit.models.cnn import CNNClassifier

N_MELS = 16
TINY = {"channels": (4, 8), "n_threads": 1, "crop_frames": 64, "batch_size": 8}


def synthetic_clips(rng, n_per_class=6, classes=("angry", "calm", "sad")):
    """Log-mel-like clips of varying length; each class is loud in its own band region."""
    X, y = [], []
    for k, label in enumerate(classes):
        for _ in range(n_per_class):
            clip = rng.normal(-60.0, 3.0, (N_MELS, int(rng.integers(30, 90)))).astype(np.float32)
            clip[4 * k : 4 * k + 4] += 30.0
            X.append(clip)
            y.append(label)
    return X, np.array(y)


@pytest.fixture(scope="module")
def fitted():
    X, y = synthetic_clips(np.random.default_rng(0))
    model = CNNClassifier(max_epochs=25, validation_size=0, learning_rate=1e-2, **TINY).fit(X, y)
    return model, X, y


def test_tiny_cnn_learns_a_tiny_synthetic_set(fitted):
    model, X, y = fitted
    assert model.classes_.tolist() == ["angry", "calm", "sad"]
    assert np.mean(model.predict(X) == y) == 1.0
    losses = [record["train_loss"] for record in model.history_]
    assert len(losses) == 25 and losses[-1] < 0.5 * losses[0]
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_padding_does_not_change_a_clips_output(fitted, backend):
    model, X, _ = fitted
    predict = model.set_params(backend=backend).predict_proba
    # Odd lengths, a clip shorter than the network's 4-frame minimum, and long partners.
    clips = [X[0][:, :37], X[1][:, :3], X[2][:, :88], np.concatenate([X[3], X[4]], axis=1)]
    together = predict(clips)
    alone = np.vstack([predict([clip]) for clip in clips])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_prediction_is_deterministic_even_when_trained_with_augmentation():
    X, y = synthetic_clips(np.random.default_rng(1), n_per_class=4)
    model = CNNClassifier(max_epochs=2, augment=True, validation_size=0, **TINY).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X))


def test_same_seed_same_weights_other_seed_other_weights():
    X, y = synthetic_clips(np.random.default_rng(2), n_per_class=4)
    runs = [CNNClassifier(max_epochs=2, random_state=seed, **TINY).fit(X, y) for seed in (0, 0, 1)]
    weights = [run.state_["classifier.1.weight"] for run in runs]
    np.testing.assert_array_equal(weights[0], weights[1])
    assert not np.allclose(weights[0], weights[2])


def test_validation_split_holds_out_whole_speakers_and_picks_an_epoch():
    X, y = synthetic_clips(np.random.default_rng(3), n_per_class=8)
    speakers = np.tile(np.arange(8), 3)
    model = CNNClassifier(max_epochs=4, validation_size=0.25, **TINY)
    train, validation = model._split_validation(np.unique(y, return_inverse=True)[1], speakers)
    assert len(validation) and not set(speakers[train]) & set(speakers[validation])
    model.fit(X, y, groups=speakers)
    assert {"validation_ua", "validation_loss"} <= set(model.history_[0])
    best = max(model.history_, key=lambda r: (r["validation_ua"], -r["validation_loss"]))
    assert model.best_epoch_ == best["epoch"]


def test_skops_round_trip_and_onnx_agree_with_torch(fitted, tmp_path):
    import skops.io as sio

    model, X, _ = fitted
    expected = model.set_params(backend="torch").predict_proba(X)
    path = tmp_path / "cnn.skops"
    sio.dump(model, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    np.testing.assert_allclose(loaded.predict_proba(X), expected, atol=1e-6)
    loaded.set_params(backend="onnx")
    np.testing.assert_allclose(loaded.predict_proba(X), expected, atol=1e-4)
    model.set_params(backend="onnx")


def test_registry_builds_a_cnn_and_rejects_bad_input():
    assert isinstance(make_model("cnn", random_state=3), CNNClassifier)
    with pytest.raises(ParameterError, match="bad parameters"):
        make_model("cnn", no_such_option=1)
    X, y = synthetic_clips(np.random.default_rng(4), n_per_class=2)
    with pytest.raises(ParameterError, match="one n_mels"):
        CNNClassifier(**TINY).fit([X[0], X[1][:8]] + X[2:], y)
    with pytest.raises(ParameterError, match="too few"):
        CNNClassifier(**{**TINY, "channels": (4, 4, 4, 4, 4)}).fit(X, y)
    with pytest.raises(ParameterError, match="backend"):
        CNNClassifier(backend="tensorflow").fit(X, y)
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="no CUDA"):
            CNNClassifier(device="cuda", **TINY).fit(X, y)


# -- augmentation -------------------------------------------------------------------


def test_gain_noise_and_masks_leave_padding_alone():
    generator = torch.Generator().manual_seed(0)
    S_db = torch.full((3, N_MELS, 50), -40.0)
    mask = torch.ones(3, 50)
    mask[0, 30:] = 0.0
    config = AugmentConfig(max_warp=0.0, noise_probability=1.0)
    augmented = augment_db(S_db, mask, config, generator)
    assert torch.equal(augmented[0, :, 30:], S_db[0, :, 30:])
    assert not torch.equal(augmented[0, :, :30], S_db[0, :, :30])
    gained = random_gain(S_db, mask, max_gain_db=6.0, generator=generator)
    offsets = (gained - S_db)[:, 0, 0]
    assert torch.all(offsets.abs() <= 6.0) and len(set(offsets.tolist())) == 3


def test_spec_augment_masks_bands_and_frames_with_zeros():
    generator = torch.Generator().manual_seed(0)
    x = torch.ones(4, N_MELS, 100)
    masked = spec_augment(x, torch.ones(4, 100), n_time_masks=1, max_time_frames=10,
                          n_freq_masks=1, max_freq_bands=4, generator=generator)
    assert set(masked.unique().tolist()) <= {0.0, 1.0}
    zero_frames = (masked == 0).all(dim=1).sum(dim=1)
    zero_bands = (masked == 0).all(dim=2).sum(dim=1)
    assert torch.all(zero_frames <= 10) and torch.all(zero_bands <= 4)
    assert (zero_frames + zero_bands).sum() > 0


def test_warp_of_one_is_identity_and_mixup_keeps_target_mass():
    generator = torch.Generator().manual_seed(0)
    S_db = torch.randn(2, N_MELS, 20, generator=generator)
    torch.testing.assert_close(warp_frequency(S_db, max_warp=0.0, generator=generator), S_db)
    targets = torch.eye(2)
    x, mask, mixed = mixup(S_db, torch.ones(2, 20), targets, alpha=0.2, generator=generator)
    torch.testing.assert_close(mixed.sum(dim=1), torch.ones(2))
    assert torch.all(mixed.max(dim=1).values >= 0.5)


def test_saved_model_predicts_from_its_stored_onnx_without_exporting(fitted, tmp_path, monkeypatch):
    from serkit.models.artifacts import load_model, save_model
    from serkit.features import get_feature_set

    model, X, _ = fitted
    assert model.onnx_model_.dtype == np.uint8 and model.onnx_model_.size > 0
    predictor = load_model(save_model(tmp_path / "model", model, get_feature_set("logmel", n_mels=N_MELS)))

    def no_export(self):
        raise AssertionError("the network was exported again")

    monkeypatch.setattr(CNNClassifier, "to_onnx", no_export)
    np.testing.assert_allclose(predictor.estimator.predict_proba(X[:3]), model.predict_proba(X[:3]), atol=1e-6)
