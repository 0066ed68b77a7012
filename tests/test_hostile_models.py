"""Crafted model directories (issue 22): memory amplification, ONNX bombs, unreferenced
networks, outside links and the schema cases that gave tracebacks are each one line,
exit 1, within bounds. The directories are built by ``tests/hostile_models.py``."""

from __future__ import annotations

import json
import os
import re
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

import serkit.inference.runtime as runtime
from serkit.models.artifacts import load_model
from serkit.cli import main
from serkit.core.exceptions import ArtifactError

import hostile_models as hostile
from conftest import make_voice_like


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.wav"
    sf.write(path, make_voice_like(duration_s=1.5, sr=16000), 16000)
    return path


def refusal(model_dir) -> str:
    """The one-line message ``load_model`` refuses ``model_dir`` with."""
    with pytest.raises(ArtifactError) as caught:
        load_model(model_dir)
    message = str(caught.value)
    assert "\n" not in message and str(model_dir) in message, message
    return message


def predict_cli(capsys, model, clip) -> str:
    """``serkit predict --model model clip``: exit 1 and one stderr line, returned."""
    assert main(["predict", "--model", str(model), str(clip)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def traced_peak(action) -> int:
    """Peak bytes numpy and Python allocate while ``action()`` runs (a second time: the
    first imports modules and fills caches)."""
    action()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_array_named_by_many_steps_is_decoded_once(tmp_path):
    n_values, references = 200_000, 250
    model_dir = hostile.amplified_export(tmp_path / "model", n_values=n_values, references=references)
    # The vote's labels are not the metadata's: refused after reading the whole tree.
    peak = traced_peak(lambda: refusal(model_dir))
    decoded = 8 * n_values
    assert peak < 4 * decoded, f"{peak / decoded:.1f} decoded copies at once; one copy per reference was {references}"


def test_arrays_beyond_the_decoded_bound_are_refused_before_reading(tmp_path, monkeypatch):
    n_values = 2_000_000  # 4 MB as float16: well above the 1 MiB blocks the checksum reads
    model_dir = hostile.amplified_export(tmp_path / "model", n_values=n_values, references=2)
    monkeypatch.setattr(runtime, "MAX_ARRAY_BYTES", 1_000_000)
    assert f"take {8 * n_values} bytes as float64; at most 1000000" in refusal(model_dir)
    peak = traced_peak(lambda: refusal(model_dir))
    assert peak < 2 * n_values, "the float16 array was read before the refusal"


@pytest.mark.parametrize("depth", [12, 40, 62])
def test_an_onnx_concat_bomb_is_refused_before_it_runs(tmp_path, depth):
    message = refusal(hostile.with_network(tmp_path / "model", hostile.concat_bomb(depth)))
    assert "inference-0.onnx: refused" in message
    assert "intermediate values take" in message or "no size" in message or "do not check" in message


def test_a_network_of_too_many_nodes_is_refused_before_shape_inference(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "MAX_NETWORK_NODES", 10)
    assert "an ONNX network of 14 nodes; at most 10" in refusal(hostile.with_network(tmp_path / "model", hostile.concat_bomb(12)))


def test_the_bundled_networks_pass_the_size_check():
    network = (hostile.BUNDLED / hostile.BUNDLE_MODEL / "inference-0.onnx").read_bytes()
    assert runtime.check_onnx_network(network, runtime.frame_network_inputs(64)) is None
    assert "expected inputs" in runtime.check_onnx_network(network, runtime.frame_network_inputs(40))
    assert "outside the allowed" in runtime.check_onnx_network(network, runtime.frame_network_inputs(64),
                                                               operators={"Conv"})


def test_onnx_runtime_failures_are_the_files_one_line(tmp_path, clip, capsys):
    # Passes every load check, then gives (batch, 64, frames) where logits should be.
    model_dir = hostile.with_network(tmp_path / "model", hostile.onnx_frame_network(
        lambda helper: [helper.make_node("Relu", ["x"], ["logits"])]))
    assert main(["predict", "--json", "--segment", "fixed", "--model", str(model_dir), str(clip)]) == 1
    captured = capsys.readouterr()
    (item,) = json.loads(captured.out)
    assert "network gave outputs of shapes [(1, 64," in item["error"] and "\n" not in item["error"]
    assert "Traceback" not in captured.err


def test_only_networks_the_tree_names_are_read(tmp_path, clip, capsys):
    # Random bytes: unreadable as ONNX, and harmless while no step names them.
    model_dir = hostile.unreferenced_networks(tmp_path / "model", count=runtime.MAX_NETWORKS, n_bytes=4096)
    assert load_model(model_dir).estimator.classes_.size == 8
    assert main(["predict", "--model", str(model_dir), str(clip)]) == 0
    (model_dir / "inference-3.onnx").write_bytes(b"altered")  # the manifest still vouches for every listed file
    assert "checksum mismatch" in refusal(model_dir)


def test_a_link_out_of_the_model_directory_is_refused(tmp_path):
    model_dir = hostile.copy_model(tmp_path / "model")
    outside = tmp_path / "elsewhere.json"
    outside.write_text((model_dir / "inference.json").read_text())
    (model_dir / "inference.json").unlink()
    (model_dir / "inference.json").symlink_to(outside)
    hostile.resign(model_dir)
    assert "a link to a file outside the model directory" in refusal(model_dir)
    (model_dir / "inference.json").unlink()
    os.replace(outside, model_dir / "real.json")
    (model_dir / "inference.json").symlink_to("real.json")  # a link within the directory is fine
    load_model(model_dir)


@pytest.mark.parametrize("case", list(hostile.TRACEBACK_CASES))
def test_crafted_fields_are_one_line_not_a_traceback(case, tmp_path, clip, capsys):
    model_dir = hostile.crafted_field(tmp_path / "model", case)
    message = hostile.TRACEBACK_CASES[case][-1]
    err = predict_cli(capsys, model_dir, clip)
    assert str(model_dir) in err
    assert re.search(message, err), err


def test_a_5000_character_model_path_is_one_line(clip, capsys):
    assert "no such model directory" in predict_cli(capsys, "m" * 5000, clip)


def test_an_encoder_holding_a_pickle_is_one_line(tmp_path, clip, capsys):
    pytest.importorskip("transformers")
    marker = tmp_path / "ran"
    model_dir = hostile.pickled_encoder(tmp_path, f"touch {marker}")
    err = predict_cli(capsys, model_dir, clip)
    assert "cannot load a speech encoder" in err and not marker.exists()


def test_export_refusals_name_the_directory(tmp_path):
    model_dir = hostile.edit_json(hostile.copy_model(tmp_path / "model"), "inference.json",
                                  lambda d: d["model"].__setitem__("op", "python"))
    assert refusal(model_dir).startswith(f"{model_dir / 'inference.json'}: root: unknown step 'python'")


def test_shared_arrays_are_read_only(tmp_path):
    estimator = load_model(hostile.copy_model(tmp_path / "model")).estimator
    with pytest.raises(ValueError):
        estimator._root.model.steps[0].lower[0] = np.inf
