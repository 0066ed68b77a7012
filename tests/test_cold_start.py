"""A cold ``serkit predict``: loaders shared across threads (``serkit.core.once``), the encoder
and the voice-activity session started in the background, their checks kept."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest

from serkit.core.exceptions import ArtifactError
from serkit.core.once import once


def counting(result=None, error=None, gate: threading.Event | None = None):
    """A function under :func:`once` that counts its calls, optionally waits for ``gate``, then
    returns ``result`` or raises ``error``."""
    calls = []

    @once
    def build(key):
        calls.append(key)
        if gate is not None:
            assert gate.wait(10)
        if error is not None:
            raise error
        return result

    return build, calls


def test_callers_who_come_while_it_builds_share_one_build():
    gate = threading.Event()
    build, calls = counting(result=object(), gate=gate)
    got = []
    threads = [threading.Thread(target=lambda: got.append(build("a"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert calls == ["a"] and len(got) == 4 and all(value is got[0] for value in got)
    assert build("a") is got[0] and calls == ["a"]
    build("b")
    assert calls == ["a", "b"]  # per argument


def test_an_error_reaches_every_waiter_and_is_not_kept():
    gate = threading.Event()
    build, calls = counting(error=ArtifactError("x.bin: SHA-256 differs"), gate=gate)
    errors = []

    def call():
        try:
            build("a")
        except ArtifactError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert errors == ["x.bin: SHA-256 differs"] * 3 and calls == ["a"]
    with pytest.raises(ArtifactError, match="SHA-256 differs"):
        build("a")
    assert calls == ["a", "a"]  # tried again: a file put right in between would be accepted


def test_preload_builds_in_the_background_and_leaves_its_error_to_the_next_caller():
    value = object()
    build, calls = counting(result=value)
    build.preload("a")
    assert build("a") is value and calls == ["a"]
    build.preload("a")  # already built: nothing more
    assert calls == ["a"]

    failing, failed = counting(error=ArtifactError("y.onnx: missing"))
    failing.preload("a")  # raises nothing here
    with pytest.raises(ArtifactError, match="y.onnx: missing"):
        failing("a")
    assert 1 <= len(failed) <= 2  # the thread's try, and this caller's own if the thread had finished


def test_cache_clear_while_building_keeps_the_old_value_out():
    gate = threading.Event()
    build, calls = counting(result="stale", gate=gate)
    build.preload("a")
    build.cache_clear()
    gate.set()
    assert build("a") == "stale" and calls == ["a", "a"]  # built again, not taken from the cleared build


def _call_in_child(build, queue) -> None:
    queue.put(build("a"))


def test_a_forked_child_does_not_wait_for_a_build_its_parent_left_running():
    parent, gate = os.getpid(), threading.Event()

    @once
    def build(key):
        if os.getpid() == parent:
            assert gate.wait(10)
        return os.getpid()

    build.preload("a")  # running in a thread the child will not have
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_call_in_child, args=(build, queue))
    child.start()
    try:
        assert queue.get(timeout=30) == child.pid
    finally:
        gate.set()
        child.join(10)
    assert build("a") == parent


def test_a_refused_model_starts_no_encoder(tmp_path, monkeypatch):
    import shutil

    from serkit.features import whisper
    from serkit.models.artifacts import DEFAULT_MODEL_DIR, load_model

    started = []
    monkeypatch.setattr(whisper.load_whisper_encoder, "preload", lambda *args: started.append(args))
    model_dir = shutil.copytree(DEFAULT_MODEL_DIR, tmp_path / "model")
    (model_dir / "inference.json").write_text("{}")  # the manifest no longer vouches for it
    with pytest.raises(ArtifactError):
        load_model(model_dir)
    assert started == []


def test_load_model_starts_the_encoder_in_the_background(monkeypatch):
    from serkit.features import whisper
    from serkit.models.artifacts import load_model

    started = []
    monkeypatch.setattr(whisper.load_whisper_encoder, "preload", lambda *args: started.append(args))
    predictor = load_model()
    # The bundled model hears every hidden state: the pinned weights in ONNX Runtime.
    assert [args[:3] + args[4:] for args in started] == [(whisper.DEFAULT_MODEL, "onnx", "int8", "all")]
    assert predictor.feature_set.columns == predictor.metadata["feature_set"]["columns"]  # checked without the encoder


def test_serkit_predict_builds_the_vad_network_beside_the_model(monkeypatch, capsys):
    from serkit.cli import main
    from serkit.inference import speech

    clip = speech.VAD_PATH.parents[1] / "examples"
    clip = sorted(clip.glob("*.ogg"))[0]
    order = []
    monkeypatch.setattr(speech.vad_network, "preload", lambda: order.append("vad preload"))
    import serkit.models.artifacts as artifacts

    load_model = artifacts.load_model
    monkeypatch.setattr(artifacts, "load_model", lambda *a, **k: (order.append("load_model"), load_model(*a, **k))[1])
    assert main(["predict", str(clip)]) == 0
    assert order == ["vad preload", "load_model"]
    assert "of speech" in capsys.readouterr().out
    order.clear()
    assert main(["predict", "--segment", "fixed", str(clip)]) == 0
    assert order == ["load_model"]  # no voice activity: no network
