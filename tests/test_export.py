"""The inference export: every exportable model gives the full pipeline's probabilities,
loading it runs no code and checks every field, and prediction imports no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from serkit.models import artifacts
from serkit.models.artifacts import add_export, load_model, save_model
from serkit.core.exceptions import ArtifactError, ParameterError
from serkit.features import get_feature_set
from serkit.features.bundle import BundleFeatures
from serkit.models import fit_model, make_model
from serkit.inference.runtime import ExportedModel

from conftest import make_voice_like

TOLERANCE = 1e-5
N_MELS = 16
TINY_CNN = {"channels": (4, 8), "n_threads": 1, "crop_frames": 64, "batch_size": 8, "max_epochs": 3, "validation_size": 0}
TINY_HEAD = {"conv_channels": 8, "max_epochs": 3, "batch_size": 8, "crop_frames": 40, "n_threads": 1, "validation_size": 0}


def vector_data(n_classes: int, *, n_features: int = 26, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = ["angry", "calm", "happy", "sad"][:n_classes]
    X = np.concatenate([rng.normal(k, 1.0, (24, n_features)) for k in range(n_classes)])
    y = np.repeat(labels, 24)
    groups = np.tile(["a", "b", "c", "d", "e", "f"], 4 * n_classes)
    return X, y, groups


def frame_data(n_bands: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k, label in enumerate(["angry", "calm", "sad"]):
        for _ in range(6):
            clip = rng.normal(0.0, 1.0, (n_bands, int(rng.integers(1, 90)))).astype(np.float32)
            clip[4 * k : 4 * k + 4] += 3.0
            X.append(clip)
            y.append(label)
    return X, np.array(y), np.tile(["a", "b", "c"], 6)


def saved_pair(tmp_path, model, feature_set):
    """The model saved, then loaded both ways: (full pipeline, export)."""
    model_dir = save_model(tmp_path / "model", model, feature_set)
    full, lean = load_model(model_dir, runtime="skops"), load_model(model_dir)
    assert isinstance(lean.estimator, ExportedModel), "an exportable model loads its export by default"
    assert not isinstance(full.estimator, ExportedModel)
    return full.estimator, lean.estimator


VECTOR_MODELS = [
    ("logreg", {}, 2),
    ("logreg", {}, 4),
    ("logreg", {"clip_quantiles": None}, 3),
    ("logreg-tuned", {}, 4),
    ("logreg-tuned+calibrated", {}, 4),
    ("lda", {}, 2),
    ("lda", {"shrinkage": 0.8}, 4),
    ("mlp", {"hidden_layer_sizes": (8, 4), "max_iter": 50}, 2),
    ("mlp", {"hidden_layer_sizes": (8,), "activation": "tanh", "max_iter": 50}, 4),
    ("dense", {"hidden_layer_sizes": (16, 8), "max_epochs": 5}, 2),
    ("dense", {"max_epochs": 5}, 4),
    ("ensemble", {"members": ("logreg", "mlp")}, 3),
    ("ensemble+calibrated", {"members": ("logreg", "logreg-tuned")}, 3),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name, params, n_classes", VECTOR_MODELS, ids=[f"{n}-{c}" for n, _, c in VECTOR_MODELS])
def test_vector_models_export_to_the_same_probabilities(tmp_path, name, params, n_classes):
    feature_set = get_feature_set("seed26")
    X, y, groups = vector_data(n_classes)
    model = fit_model(make_model(name, **params), X, y, groups)
    full, lean = saved_pair(tmp_path, model, feature_set)
    far = X * 50.0  # far outside the training range: the clipping and saturation too
    for data in (X, far):
        np.testing.assert_allclose(lean.predict_proba(data), full.predict_proba(data), atol=TOLERANCE, rtol=0)
    assert lean.classes_.tolist() == full.classes_.tolist()


def test_cnn_and_whisper_head_export_their_onnx_networks(tmp_path):
    from serkit.models.cnn import CNNClassifier
    from serkit.models.frame_head import FrameHeadClassifier

    for index, (model, n_bands) in enumerate([(CNNClassifier(**TINY_CNN), N_MELS), (FrameHeadClassifier(**TINY_HEAD), 24)]):
        X, y, groups = frame_data(n_bands)
        model.fit(X, y, groups=groups)
        feature_set = get_feature_set("logmel", n_mels=N_MELS) if n_bands == N_MELS else get_feature_set("logmel", n_mels=24)
        full, lean = saved_pair(tmp_path / str(index), model, feature_set)
        assert (tmp_path / str(index) / "model" / "inference-0.onnx").is_file()
        np.testing.assert_allclose(lean.predict_proba(X), full.predict_proba(X), atol=TOLERANCE, rtol=0)


def test_an_ensemble_on_a_bundle_gives_each_member_its_part(tmp_path):
    from serkit.models.ensemble import SoftVoteClassifier

    bundle = get_feature_set("logmel,seed26", part_params={"logmel": {"n_mels": N_MELS}})
    sr = bundle.sr
    clips = [make_voice_like(sr=sr, duration_s=0.8, f0_hz=110 + 70 * (i % 3), seed=i) * (0.3 + 0.3 * (i % 3)) for i in range(18)]
    y = np.array(["angry", "calm", "sad"] * 6)
    X = bundle.collate([bundle.from_audio(clip, sr) for clip in clips])
    assert isinstance(X, BundleFeatures)
    model = SoftVoteClassifier(members=[("cnn", TINY_CNN), "logreg"], weights=(0.3, 0.7)).fit(X, y)
    full, lean = saved_pair(tmp_path, model, bundle)
    np.testing.assert_allclose(lean.predict_proba(X), full.predict_proba(X), atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("name", ["forest", "svm", "kmeans", "boosting"])
def test_models_without_an_export_load_through_skops(tmp_path, name):
    feature_set = get_feature_set("seed26")
    X, y, groups = vector_data(3)
    model_dir = save_model(tmp_path / name, fit_model(make_model(name), X, y, groups), feature_set)
    assert not (model_dir / "inference.json").exists()
    assert not isinstance(load_model(model_dir).estimator, ExportedModel)
    with pytest.raises(ArtifactError, match="no inference export"):
        load_model(model_dir, runtime="export")
    with pytest.raises(ParameterError, match="runtime="):
        load_model(model_dir, runtime="pickle")


@pytest.fixture
def exported_dir(tmp_path):
    X, y, groups = vector_data(3)
    return save_model(tmp_path / "model", fit_model(make_model("logreg-tuned+calibrated"), X, y, groups),
                      get_feature_set("seed26"))


def rewrite(model_dir, edit_graph=None, edit_arrays=None):
    """Change the export and re-hash the manifest, as an attacker would."""
    from safetensors.numpy import load_file, save_file

    if edit_graph is not None:
        document = json.loads((model_dir / "inference.json").read_text())
        edit_graph(document)
        (model_dir / "inference.json").write_text(json.dumps(document))
    if edit_arrays is not None:
        arrays = load_file(str(model_dir / "inference.safetensors"))
        edit_arrays(arrays)
        save_file(arrays, str(model_dir / "inference.safetensors"))
    listed = json.loads((model_dir / "manifest.json").read_text())["files"]
    artifacts.write_manifest(model_dir, list(listed))


def first_pipeline(document):
    return document["model"]["model"]


TAMPERED = {
    "unknown step": (lambda d: first_pipeline(d)["steps"].__setitem__(0, {"op": "python", "code": "import os"}), None, "unknown step"),
    "missing array": (lambda d: first_pipeline(d)["steps"][1].__setitem__("mean", "nope"), None, "must name an array"),
    "temperature": (lambda d: d["model"].__setitem__("temperature", "1e9"), None, "temperature must be a number"),
    "classes": (lambda d: d["model"].__setitem__("classes", ["a", "a"]), None, "classes must be"),
    "format": (lambda d: d.__setitem__("version", 99), None, "not a serkit-inference version 1"),
    "deep": (lambda d: d.__setitem__("model", _nested(12)), None, "deeper than"),
    "network": (lambda d: first_pipeline(d)["steps"].__setitem__(2, {"op": "frame-network", "file": "../model.skops"}), None,
                "networks"),
    "shapes": (None, lambda a: a.__setitem__("a4", a["a4"][:, :5].copy()), "do not fit|different numbers|takes 5 features"),
    "nan": (None, lambda a: a.__setitem__("a2", np.full_like(a["a2"], np.nan)), "finite"),
    "ints": (None, lambda a: a.__setitem__("a3", np.ones_like(a["a3"], dtype=np.int64)), "float"),
}


def _nested(depth):
    node = {"op": "logistic", "coef": "a4", "intercept": "a5", "classes": ["angry", "calm", "happy"]}
    for _ in range(depth):
        node = {"op": "temperature", "temperature": 1.0, "model": node, "classes": ["angry", "calm", "happy"]}
    return node


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_export_is_one_error_line(exported_dir, case):
    edit_graph, edit_arrays, message = TAMPERED[case]
    rewrite(exported_dir, edit_graph, edit_arrays)
    with pytest.raises(ArtifactError, match=message) as caught:
        load_model(exported_dir)
    assert "\n" not in str(caught.value)


def test_export_files_the_manifest_does_not_list_are_ignored(exported_dir):
    listed = json.loads((exported_dir / "manifest.json").read_text())["files"]
    artifacts.write_manifest(exported_dir, [name for name in listed if not name.startswith("inference")])
    assert not isinstance(load_model(exported_dir).estimator, ExportedModel)
    (exported_dir / "inference.json").write_text("{}")  # altered, but vouched for by nobody
    load_model(exported_dir)


def test_an_altered_export_fails_its_checksum(exported_dir):
    (exported_dir / "inference.json").write_text((exported_dir / "inference.json").read_text() + " ")
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        load_model(exported_dir)


def test_an_export_without_model_skops_loads(exported_dir):
    (exported_dir / "model.skops").unlink()
    listed = json.loads((exported_dir / "manifest.json").read_text())["files"]
    artifacts.write_manifest(exported_dir, [name for name in listed if name != "model.skops"])
    assert isinstance(load_model(exported_dir).estimator, ExportedModel)
    with pytest.raises(ArtifactError, match="only its inference export"):
        load_model(exported_dir, runtime="skops")


def test_add_export_gives_an_older_model_directory_its_export(exported_dir):
    for name in ("inference.json", "inference.safetensors"):
        (exported_dir / name).unlink()
    artifacts.write_manifest(exported_dir, ["model.skops", "metadata.json"])
    assert not isinstance(load_model(exported_dir).estimator, ExportedModel)
    assert add_export(exported_dir) == ["inference.json", "inference.safetensors"]
    assert isinstance(load_model(exported_dir).estimator, ExportedModel)


@pytest.mark.parametrize("name", ["default", "whisper-ravdess-v1", "cnn-ensemble-v1"])
def test_the_bundled_models_carry_an_export_equal_to_their_pipeline(name):
    lean, full = load_model(name), load_model(name, runtime="skops")
    assert isinstance(lean.estimator, ExportedModel)
    fs = lean.feature_set
    clips = [make_voice_like(sr=fs.sr, duration_s=1.5 + 0.5 * i, f0_hz=100 + 40 * i, seed=i) for i in range(4)]
    X = fs.collate([fs.from_audio(clip, fs.sr) for clip in clips])
    np.testing.assert_allclose(lean.estimator.predict_proba(X), full.estimator.predict_proba(X), atol=TOLERANCE, rtol=0)


@pytest.mark.shared
@pytest.mark.slow
def test_the_bundled_export_predicts_real_clips_as_the_pipeline(ravdess_root):
    from serkit.core.audio import load_audio

    lean, full = load_model(), load_model(runtime="skops")
    fs = lean.feature_set
    paths = sorted(ravdess_root.glob("Actor_*/*.flac"))[::50]  # 24 clips, every actor and emotion
    X = fs.collate([fs.from_audio(*load_audio(path, sr=fs.sr)) for path in paths])
    lean_p, full_p = lean.estimator.predict_proba(X), full.estimator.predict_proba(X)
    np.testing.assert_allclose(lean_p, full_p, atol=TOLERANCE, rtol=0)
    assert np.array_equal(lean_p.argmax(axis=1), full_p.argmax(axis=1))


HEAVY = ("sklearn", "skops", "torch", "scipy", "librosa", "pandas", "matplotlib", "numba", "onnx")


def test_predicting_with_the_bundled_model_imports_no_heavy_library():
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        from serkit.models.artifacts import load_model
        predictor = load_model()
        t = np.arange(32000) / 16000
        y = (0.1 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
        predictor.predict_audio(y, 16000)
        print(sorted(name for name in {HEAVY!r} if name in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"imported at prediction: {result.stdout.strip()}"
