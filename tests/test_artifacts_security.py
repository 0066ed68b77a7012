"""A model directory is untrusted input: crafted files are refused and never run code.

The attacks are built the way an attacker would: take a real saved model, unzip
``model.skops``, edit its ``schema.json`` (the object tree skops rebuilds), zip it
again and re-hash ``manifest.json`` so that the checksums pass. Each payload would
write a marker file if it ran; the tests check the refusal and that the marker
never appears.
"""

from __future__ import annotations

import io
import json
import socket
import zipfile

import numpy as np
import pytest

import serkit.models.artifacts as artifacts
from serkit.models.artifacts import ALLOWED_CLASSES, load_model, refused_types, save_model
from serkit.core.exceptions import ArtifactError
from serkit.features import get_feature_set
from serkit.features.bundle import BundleFeatures
from serkit.models import available_models, fit_model, make_model


@pytest.fixture
def seed26():
    return get_feature_set("seed26")


@pytest.fixture
def vector_data(seed26, rng):
    y = np.repeat(["angry", "calm", "sad"], 8)
    X = rng.normal(size=(len(y), len(seed26.columns)))
    X[:, :3] += 3.0 * (y[:, None] == np.array(["angry", "calm", "sad"]))
    return X, y, np.tile(["01", "02", "03", "04"], 6)


@pytest.fixture
def model_dir(tmp_path, seed26, vector_data):
    X, y, groups = vector_data
    return save_model(tmp_path / "model", fit_model(make_model("logreg"), X, y, groups), seed26)


def resign(model_dir):
    """Re-hash both files into the manifest: the checksums then pass."""
    files = {name: artifacts.sha256_file(model_dir / name) for name in ("model.skops", "metadata.json")}
    (model_dir / "manifest.json").write_text(json.dumps({"algorithm": "sha256", "files": files}))


def edit_schema(model_dir, edit):
    """Rewrite ``model.skops`` with ``edit(schema)`` applied to its object tree."""
    path = model_dir / "model.skops"
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(entries["schema.json"])
    edit(schema)
    entries["schema.json"] = json.dumps(schema).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    resign(model_dir)


def edit_metadata(model_dir, edit):
    path = model_dir / "metadata.json"
    metadata = json.loads(path.read_text())
    edit(metadata)
    path.write_text(json.dumps(metadata))
    resign(model_dir)


def json_node(value):
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def tuple_node(*values):
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
            "content": [json_node(value) for value in values]}


def call_node(module, name, *args):
    """A skops node that, when loaded, calls ``module.name(*args)``."""
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
            "content": tuple_node(*args)}


def plant(node):
    """An edit adding ``node`` as an extra attribute of the pipeline (skops builds it
    while rebuilding the pipeline)."""

    def edit(schema):
        attributes = schema["content"]
        attributes["content"]["planted"] = node
        attributes["key_types"]["content"].append(
            {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"})

    return edit


def write_marker_source(marker):
    return f"open({str(marker)!r}, 'w').write('ran')"


def payloads(marker):
    """(label, node, type the refusal must name): code an attacker would want run."""
    source = write_marker_source(marker)
    return [
        ("sklearn test helper runs Python source",
         call_node("sklearn.utils._testing", "assert_run_python_script_without_output", source),
         "sklearn.utils._testing.assert_run_python_script_without_output"),
        ("serkit writes a file of the attacker's choosing",
         call_node("serkit.cli._common", "write_json", {"owned": True}, str(marker)),
         "serkit.cli._common.write_json"),
        ("serkit runs a command-line verb", call_node("serkit.cli", "main", ["--version"]), "serkit.cli.main"),
        ("os.system", call_node("os", "system", f"touch {marker}"), "os.system"),
        ("builtins.eval", call_node("builtins", "eval", source), "builtins.eval"),
        ("builtins.exec by reference",
         {"__class__": "exec", "__module__": "builtins", "__loader__": "FunctionNode"}, "builtins.exec"),
        ("a serkit function by reference",
         {"__class__": "save_model", "__module__": "serkit.models.artifacts", "__loader__": "FunctionNode"},
         "serkit.models.artifacts.save_model"),
        ("an allowed class called with arguments",
         call_node("sklearn.pipeline", "Pipeline", []), "ConstructorFromReduceNode sklearn.pipeline.Pipeline"),
        ("a scikit-learn class not on the list",
         {"__class__": "FunctionTransformer", "__module__": "sklearn.preprocessing._function_transformer",
          "__loader__": "ObjectNode", "content": None}, "sklearn.preprocessing._function_transformer"),
        ("a method of an allowed object",
         {"__class__": "Pipeline", "__module__": "sklearn.pipeline", "__loader__": "MethodNode",
          "content": {"func": "fit", "obj": {"__class__": "Pipeline", "__module__": "sklearn.pipeline",
                                             "__loader__": "ObjectNode", "content": None}}},
         "MethodNode sklearn.pipeline.Pipeline"),
        ("a partial of a function",
         {"__class__": "partial", "__module__": "functools", "__loader__": "PartialNode",
          "content": {"func": {"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"},
                      "args": tuple_node(f"touch {marker}"), "kwds": json_node({}), "namespace": json_node({})}},
         "PartialNode functools.partial"),
        ("an array whose 'dtype' is a function",
         {"__class__": "assert_run_python_script_without_output", "__module__": "sklearn.utils._testing",
          "__loader__": "NdArrayNode", "type": "json", "content": [json_node(source)],
          "shape": json_node([1])},
         "NdArrayNode sklearn.utils._testing"),
        ("an unknown loader", {"__class__": "dict", "__module__": "builtins", "__loader__": "EvilNode"},
         "EvilNode builtins.dict"),
    ]


@pytest.mark.parametrize("index", range(len(payloads("marker"))), ids=[p[0] for p in payloads("marker")])
def test_crafted_model_files_are_refused_and_never_run(index, model_dir, tmp_path, capsys):
    marker = tmp_path / "pwned"
    _, node, named = payloads(marker)[index]
    edit_schema(model_dir, plant(node))
    with pytest.raises(ArtifactError, match="model.skops: refusing untrusted types") as error:
        load_model(model_dir)
    message = str(error.value)
    assert named in message and "\n" not in message
    assert not marker.exists()
    assert capsys.readouterr().out == ""  # serkit.cli.main(["--version"]) did not run either


def test_the_planted_attribute_is_built_when_allowed(model_dir):
    """The tests above plant their payload where skops really builds it: a harmless
    value in the same place loads and lands on the pipeline."""
    edit_schema(model_dir, plant(json_node("harmless")))
    assert load_model(model_dir).estimator.planted == "harmless"


def test_refused_types_walks_every_node_without_constructing():
    deep = {"__loader__": "ListNode", "__module__": "builtins", "__class__": "list",
            "content": [{"x": [{"__loader__": "FunctionNode", "__module__": "os", "__class__": "system"}]}]}
    assert refused_types(deep) == ["FunctionNode os.system"]
    malformed = {"__loader__": "ObjectNode", "__module__": ["sklearn"], "__class__": "Pipeline"}
    assert refused_types(malformed) == ["ObjectNode ['sklearn'].Pipeline"]


def test_oversized_or_broken_model_files_are_refused(model_dir, monkeypatch):
    path = model_dir / "model.skops"
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("padding.npy", bytes(4 << 20))  # 4 MB of zeros: a few kB packed
    resign(model_dir)
    monkeypatch.setattr(artifacts, "MAX_MODEL_FILE_BYTES", 1 << 20)
    with pytest.raises(ArtifactError, match="unpacks to .* bytes; at most 1048576"):
        load_model(model_dir)
    monkeypatch.setattr(artifacts, "MAX_MODEL_FILE_BYTES", 1000)
    with pytest.raises(ArtifactError, match="model.skops: .* bytes; at most 1000"):
        load_model(model_dir)
    monkeypatch.undo()
    (model_dir / "model.skops").write_bytes(b"PK\x03\x04 not a zip")
    resign(model_dir)
    with pytest.raises(ArtifactError, match="cannot load the model \\(BadZipFile"):
        load_model(model_dir)


def test_deep_or_oversized_metadata_is_refused(model_dir, monkeypatch):
    (model_dir / "metadata.json").write_text("[" * 100_000 + "]" * 100_000)
    resign(model_dir)
    with pytest.raises(ArtifactError, match="metadata.json: unreadable \\(RecursionError"):
        load_model(model_dir)
    monkeypatch.setattr(artifacts, "MAX_METADATA_BYTES", 1000)
    with pytest.raises(ArtifactError, match="metadata.json: 200000 bytes; at most 1000"):
        load_model(model_dir)


# -- every model serkit saves loads (the allow-list is complete) --------------------------------

TINY_CNN = {"channels": (4, 8), "n_threads": 1, "crop_frames": 32, "batch_size": 8,
            "max_epochs": 2, "validation_size": 0}
TINY_PARAMS = {
    "dense": {"max_epochs": 2}, "forest": {"n_estimators": 3}, "boosting": {"max_iter": 3, "min_samples_leaf": 2},
    "mlp": {"max_iter": 20}, "cnn": TINY_CNN, "layer-weighted": {"n_layers": 2, "max_iter": 5},
    "ensemble": {"members": [("cnn", TINY_CNN), "logreg-tuned"]},
    "whisper-head": {"conv_channels": 4, "n_threads": 1, "batch_size": 8, "max_epochs": 2, "validation_size": 0},
}
"""Small settings per model (default parameters otherwise) so each fits in a moment."""


def saved_registered_model(name, tmp_path, seed26, vector_data, rng):
    X, y, groups = vector_data
    clips = [rng.normal(-60.0, 3.0, (64, 40)).astype(np.float32) for _ in y]
    feature_set, data = seed26, X
    if name == "cnn":
        feature_set, data = get_feature_set("logmel"), clips
    elif name == "whisper-head":
        feature_set, data = get_feature_set("whisper-frames"), clips
    elif name == "ensemble":
        feature_set = get_feature_set("logmel,seed26")
        data = BundleFeatures({"logmel": clips, "seed26": X}, {"logmel": "frames", "seed26": "vector"})
    with np.errstate(all="ignore"):
        model = fit_model(make_model(name, **TINY_PARAMS.get(name, {})), data, y, groups)
    return save_model(tmp_path / name, model, feature_set), model, data


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", available_models())
def test_every_registered_model_saves_within_the_allow_list_and_loads(name, tmp_path, seed26, vector_data, rng):
    import skops.io as sio

    model_dir, model, data = saved_registered_model(name, tmp_path, seed26, vector_data, rng)
    path = model_dir / "model.skops"
    missing = refused_types(artifacts._read_schema(path)) + sorted(
        set(sio.get_untrusted_types(file=path)) - ALLOWED_CLASSES)
    assert not missing, (
        f"model {name!r} saves types outside serkit.models.artifacts.ALLOWED_CLASSES: {missing}; add the "
        "classes it really needs there (exact names; never a function) — see docs/trust-model.md")
    predictor = load_model(model_dir)
    np.testing.assert_allclose(predictor.estimator.predict_proba(data), model.predict_proba(data))


# -- metadata.json is input too -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(speaker_norm="false"), "speaker_norm must be true or false, got 'false'"),
        (lambda m: m.update(labels=["calm", "calm", "sad"]), "labels must be a non-empty list of different"),
        (lambda m: m.update(labels=[]), "labels must be"),
        (lambda m: m.update(labels=["angry", 3, "sad"]), "labels must be"),
        (lambda m: m.update(format_version="1"), "model format '1', expected 1"),
        (lambda m: m.update(format_version=True), "model format True, expected 1"),
        (lambda m: m.update(versions=["0.1.0"]), "versions must be a dict"),
        (lambda m: m.update(model=None), "model must be a model name"),
        (lambda m: m.update(metrics="great"), "metrics must be an object or null"),
        (lambda m: m["feature_set"].update(params=[1, 2]), "feature_set.params must be an object"),
        (lambda m: m["feature_set"].update(name=7), "feature_set.name must be a feature-set name"),
        (lambda m: m["feature_set"].update(kind="frames"), "is of kind 'vector' here, 'frames' in the model"),
        (lambda m: m["feature_set"].update(columns="all"), "feature_set.columns must be a list of names"),
        (lambda m: m.clear(), "versions must be a dict"),
    ],
)
def test_malformed_metadata_is_one_clear_error(edit, message, model_dir):
    edit_metadata(model_dir, edit)
    with pytest.raises(ArtifactError, match="metadata.json: |model/?: ") as error:
        load_model(model_dir)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_fft": -1}, "n_fft=-1 must be an integer in [16, 65536]"),
        ({"hop_length": 0}, "hop_length=0 must be an integer in [1, 2048]"),
        ({"n_fft": 2**30}, "n_fft=1073741824 must be an integer in [16, 65536]"),
        ({"sr": 1e9}, "sr=1000000000.0 must be an integer"),
        ({"sr": "22050"}, "sr='22050' must be an integer"),
        ({"sr": 22050.5}, "sr=22050.5 must be an integer"),
        ({"sr": True}, "sr=True must be an integer"),
        ({"n_mels": 10**9}, "n_mels=1000000000 must be an integer in [1, 512]"),
        ({"n_mfcc": 200}, "n_mfcc=200 must be an integer in [1, 128]"),
        ({"hop_length": 1}, "spectrogram values per second of audio"),
        ({"no_such_parameter": 1}, "bad parameters"),
    ],
)
def test_feature_set_parameters_from_metadata_are_bounded(params, message, model_dir, seed26):
    edit_metadata(model_dir, lambda m: m["feature_set"]["params"].update(params))
    with pytest.raises(ArtifactError, match="feature set 'seed26' with .* is not available here") as error:
        load_model(model_dir)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("logmel", {"n_mels": 0}, "n_mels=0"),
        ("logmel", {"hop_length_s": 1e-300}, "hop_length=1 compute"),
        ("logmel", {"win_length_s": 1e9}, "n_fft=16000000000000"),
        ("logmel", {"trim_db": "30"}, "trim_db='30'"),
        ("functionals", {"sr": 8000.0}, "sr=8000.0"),
        ("functionals", {"voicing_threshold": 1.5}, "voicing_threshold=1.5"),
        ("functionals", {"fmin_hz": float("nan")}, "fmin_hz=nan"),
        ("egemaps", {"sr": 10**9}, "sr=1000000000"),
        ("egemaps", {"trim_top_db": -5}, "trim_top_db=-5"),
        ("functionals+egemaps", {"egemaps": {"sr": 1}}, "sr=1 must be"),
        ("functionals+egemaps", {"functionals": "x"}, "functionals='x' must be a dict"),
        ("logmel,seed26", {"part_params": {"seed26": {"n_fft": 0}}}, "n_fft=0"),
        ("logmel,seed26", {"part_params": {"seed26": 3}}, "part_params="),
        ("ssl", {"model": "x", "max_duration_s": 1e6}, "max_duration_s=1000000.0"),
    ],
)
def test_every_feature_set_bounds_its_parameters(name, params, message):
    from serkit.core.exceptions import ParameterError

    with pytest.raises(ParameterError, match="must|bad parameters|compute") as error:
        get_feature_set(name, **params)
    assert message in str(error.value)


# -- a model directory never reaches the network ----------------------------------------------

@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails at once (and is recorded)."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted during a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.mark.parametrize("set_name, params", [
    ("ssl", {"model": "facebook/wav2vec2-base", "layer": "mean", "max_duration_s": 20.0}),
    ("logmel,ssl", {"parts": ["logmel", "ssl"], "part_params": {"ssl": {"model": "microsoft/wavlm-base-plus"}}}),
])
def test_a_model_naming_a_hub_encoder_is_refused_without_a_request(set_name, params, model_dir, no_network,
                                                                   monkeypatch):
    import serkit.features.ssl as ssl

    def no_download(model):
        raise AssertionError(f"load_encoder({model!r}) was called for a model directory")

    monkeypatch.setattr(ssl, "load_encoder", no_download)
    edit_metadata(model_dir, lambda m: m["feature_set"].update(name=set_name, kind=None, params=params))
    with pytest.raises(ArtifactError, match="is not a local directory; serkit does not download"):
        load_model(model_dir)
    assert no_network == []


def test_a_local_encoder_is_read_offline(tmp_path, no_network, monkeypatch):
    transformers = pytest.importorskip("transformers")
    import serkit.features.ssl as ssl

    calls = []

    def fake_from_pretrained(model, **options):
        calls.append(options)
        raise OSError("no config here")

    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", fake_from_pretrained)
    ssl.load_encoder.cache_clear()
    fs = get_feature_set("ssl", model=str(tmp_path))
    fs.require_local()  # a directory here: allowed
    with pytest.raises(Exception, match="cannot load a speech encoder"):
        fs.columns
    ssl.load_encoder.cache_clear()
    assert calls == [{"local_files_only": True, "trust_remote_code": False}]
    assert no_network == []


# -- allowed classes with unsound content -------------------------------------------------------

def tamper_tree(model):
    tree = model[-1].estimators_[0].tree_
    state = tree.__getstate__()
    state["nodes"]["left_child"][0] = 10**6  # prediction would read far outside the tree
    tree.__setstate__(state)


def tamper_boosting(model):
    nodes = model[-1]._predictors[0][0].nodes
    nodes["left"][np.flatnonzero(~nodes["is_leaf"].astype(bool))[0]] = 10**6


def tamper_forest_width(model):
    tree = model[-1].estimators_[0]
    tree.n_features_in_ = 10**6  # the forest checks its input's width, not the tree's
    state = tree.tree_.__getstate__()
    state["nodes"]["feature"][0] = 10**5
    tree.tree_.__setstate__(state)


def tamper_cnn_channels(model):
    model.backend = "torch"
    model.channels = (4, 10**6)  # rebuilding the torch network would allocate terabytes


def onnx_edit(edit):
    def tamper(model):
        import onnx

        graph = onnx.load_from_string(model.onnx_model_.tobytes())
        edit(onnx, graph)
        model.onnx_model_ = np.frombuffer(graph.SerializeToString(), dtype=np.uint8)

    return tamper


def external_weights(onnx, model):
    weights = model.graph.initializer[0]
    weights.ClearField("raw_data")
    weights.data_location = onnx.TensorProto.EXTERNAL
    weights.external_data.add(key="location", value="/etc/passwd")


def custom_operator(onnx, model):
    model.graph.node[0].domain = "com.example.evil"


@pytest.mark.parametrize(
    ("name", "tamper", "message"),
    [
        ("forest", tamper_tree, "a decision tree whose nodes point outside it"),
        ("boosting", tamper_boosting, "a boosting tree whose nodes point outside it"),
        ("forest", tamper_forest_width, "a decision tree whose nodes point outside it"),
        ("cnn", tamper_cnn_channels, "the CNN's layer sizes do not match its weights"),
        ("cnn", onnx_edit(external_weights), "an ONNX network reading data from outside the model file"),
        ("cnn", onnx_edit(custom_operator), "an ONNX network with operators outside the allowed ones"),
    ],
)
def test_allowed_classes_with_unsound_state_are_refused(name, tamper, message, tmp_path, seed26, vector_data, rng):
    model_dir, model, _ = saved_registered_model(name, tmp_path, seed26, vector_data, rng)
    tamper(model)
    model_dir = save_model(tmp_path / f"{name}-tampered", model, load_model(model_dir).feature_set)
    with pytest.raises(ArtifactError, match="model.skops: refused: ") as error:
        load_model(model_dir, runtime="skops")
    assert message in str(error.value)
    if "ONNX" in message:  # the network is in the inference export too, and refused there as well
        with pytest.raises(ArtifactError, match="inference-0.onnx: refused: ") as error:
            load_model(model_dir)
        assert message in str(error.value)
