"""Crafted model directories, built the way an attacker would: copy a bundled model,
change its files, re-hash ``manifest.json`` so that the checksums pass.

Used by ``tests/test_hostile_models.py`` (small sizes) and
``benchmarks/bench_hostile_models.py`` (the sizes of issue 22).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np

from serkit.models import artifacts

BUNDLED = artifacts.BUNDLED_MODELS_DIR
VECTOR_MODEL = "default"  # seed26 features, temperature over a logistic pipeline
BUNDLE_MODEL = "cnn-ensemble-v1"  # a soft vote of a CNN (inference-0.onnx) and a vector pipeline


def copy_model(dest, name: str = VECTOR_MODEL) -> Path:
    """A copy of the bundled model ``name`` at ``dest``."""
    return Path(shutil.copytree(BUNDLED / name, dest, ignore=shutil.ignore_patterns("LICENSE*")))


def resign(model_dir: Path, files=None) -> Path:
    """Re-hash ``files`` (default: those the manifest lists) into the manifest."""
    if files is None:
        files = list(json.loads((model_dir / artifacts.MANIFEST_FILE).read_text())["files"])
    artifacts.write_manifest(model_dir, list(files))
    return model_dir


def edit_json(model_dir: Path, name: str, edit) -> Path:
    """Apply ``edit(document)`` to the JSON file ``name`` and re-sign."""
    path = model_dir / name
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    return resign(model_dir)


def amplified_export(dest, *, n_values: int, references: int) -> Path:
    """An export whose one float16 array of ``n_values`` is named by ``references`` steps
    (a soft vote of logistic members): 2 bytes each on disk, 8 decoded, once per reference
    before arrays were shared."""
    from safetensors.numpy import save_file

    model_dir = copy_model(dest)
    classes = ["angry", "calm"]
    save_file({"big": np.zeros((1, n_values), dtype=np.float16), "b": np.zeros(1, dtype=np.float16)},
              str(model_dir / "inference.safetensors"))
    member = {"input": None, "model": {"op": "logistic", "coef": "big", "intercept": "b", "classes": classes}}
    vote = {"op": "soft-vote", "members": [member] * references, "weights": [1.0 / references] * references,
            "classes": classes}
    return edit_json(model_dir, "inference.json", lambda document: document.__setitem__("model", vote))


def onnx_frame_network(body, *, n_bands: int = 64) -> bytes:
    """A frame network ``x (batch, n_bands, frames), mask (batch, frames) → logits`` whose
    nodes ``body(helper)`` builds from ``x`` to ``logits``."""
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", n_bands, "frames"]),
              helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "frames"])]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)
    graph = helper.make_graph(body(helper), "crafted", inputs, [output])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def concat_bomb(depth: int) -> bytes:
    """``depth`` Concats, each doubling the last along the frames: a few kB, 2**depth times the input."""
    def body(helper):
        nodes = [helper.make_node("Concat", [f"c{i}", f"c{i}"], [f"c{i + 1}"], axis=2) for i in range(depth)]
        return [helper.make_node("Relu", ["x"], ["c0"]), *nodes, helper.make_node("Relu", [f"c{depth}"], ["logits"])]

    return onnx_frame_network(body)


def with_network(dest, network: bytes) -> Path:
    """The bundled CNN ensemble with its network replaced by ``network``."""
    model_dir = copy_model(dest, BUNDLE_MODEL)
    (model_dir / "inference-0.onnx").write_bytes(network)
    return resign(model_dir)


def unreferenced_networks(dest, *, count: int, n_bytes: int) -> Path:
    """The vector model with ``count`` network files that the manifest lists and no step
    names (random bytes: reading one as ONNX would fail)."""
    model_dir = copy_model(dest)
    rng = np.random.default_rng(0)
    names = [f"inference-{k}.onnx" for k in range(count)]
    for name in names:
        (model_dir / name).write_bytes(rng.bytes(n_bytes))
    listed = json.loads((model_dir / artifacts.MANIFEST_FILE).read_text())["files"]
    return resign(model_dir, [*listed, *names])


def _vector_vote_with_frames_member(document):
    document["model"] = {"op": "soft-vote", "classes": document["model"]["classes"], "weights": [1.0],
                         "members": [{"input": "frames", "model": document["model"]}]}


TRACEBACK_CASES = {
    "member without input": (BUNDLE_MODEL, "inference.json",
                             lambda d: d["model"]["members"][0].pop("input"), "a member is"),
    "400-digit temperature": (VECTOR_MODEL, "inference.json",
                              lambda d: d["model"].__setitem__("temperature", 10 ** 400), "temperature must be a number"),
    "400-digit weight": (BUNDLE_MODEL, "inference.json",
                         lambda d: d["model"]["weights"].__setitem__(0, -(10 ** 400)), r"weights\[0\] must be a number"),
    "frames member in a vector vote": (VECTOR_MODEL, "inference.json", _vector_vote_with_frames_member,
                                       "must take frames, its model takes vector"),
    "vector vote on a bundle": (BUNDLE_MODEL, "inference.json",
                                lambda d: [m.__setitem__("input", None) for m in d["model"]["members"]],
                                "members take different inputs"),
    "300-character whisper path": (VECTOR_MODEL, "metadata.json",
                                   lambda m: m["feature_set"].update(name="whisper", params={"model": "w" * 300}),
                                   "nor a local directory"),
}
"""Case → (bundled model copied, file edited, the edit, the refusal expected): each gave a traceback in issue 22."""


def crafted_field(dest, case: str) -> Path:
    """The model directory of :data:`TRACEBACK_CASES` ``case``."""
    name, file, edit, _ = TRACEBACK_CASES[case]
    return edit_json(copy_model(dest, name), file, edit)


class _Command:
    """Unpickled, runs a shell command (torch's weights-only loader refuses it)."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def pickled_encoder(dest, command: str) -> Path:
    """A model directory (``dest/model``) whose ssl feature set names a local encoder
    (``dest/encoder``) holding a pickle that would run ``command``; needs transformers."""
    import transformers

    encoder = Path(dest) / "encoder"
    transformers.Wav2Vec2Config(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8,
                                conv_dim=(8,), conv_stride=(5,), conv_kernel=(10,), num_conv_pos_embeddings=2,
                                num_conv_pos_embedding_groups=1).save_pretrained(encoder)
    (encoder / "pytorch_model.bin").write_bytes(pickle.dumps(_Command(command), protocol=2))
    return edit_json(copy_model(Path(dest) / "model"), "metadata.json",
                     lambda m: m["feature_set"].update(name="ssl", params={"model": str(encoder)}))
