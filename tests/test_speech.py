"""Speech presence and utterances: the vendored VAD, segments, utterances, the predictor,
the timeline formats, the CLI and the service (speech: the espeak-ng examples serkit ships)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import mains_buzz, make_tone

from serkit.inference import speech as speech_module
from serkit.inference import timeline
from serkit.core.audio import load_audio
from serkit.core.exceptions import ArtifactError
from serkit.inference.speech import (FRAME_S, Segment, Utterance, find_speech, heard_spans, speech_segments,
                                     split_utterances)

EXAMPLES = Path(speech_module.__file__).parents[1] / "data" / "examples"
LONG_MIXED = EXAMPLES / "calm-happy-angry-sad--long-mixed.ogg"  # four sentences with pauses, 13.4 s


@pytest.fixture(scope="module")
def conversation() -> tuple[np.ndarray, int]:
    return load_audio(LONG_MIXED, sr=16000)


@pytest.fixture(scope="module")
def predictor():
    from test_inference import make_predictor

    return make_predictor()


def noise(seconds: float = 3.0, sr: int = 16000, level: float = 0.1) -> np.ndarray:
    return (level * np.random.default_rng(0).standard_normal(int(seconds * sr))).astype(np.float32)


# -- the model file ----------------------------------------------------------------------


def test_vendored_vad_is_the_pinned_wheels_file():
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        wheel = distribution("silero-vad")
    except PackageNotFoundError:
        pytest.skip("silero-vad is not installed (pip install --no-deps silero-vad==6.2.0)")
    assert wheel.version == speech_module.VAD_REQUIREMENT.split("==")[1]
    pinned = Path(wheel.locate_file("silero_vad/data/silero_vad.onnx"))
    assert pinned.read_bytes() == speech_module.VAD_PATH.read_bytes()


def test_vendored_vad_uses_only_allowed_operators_and_no_outside_data():
    from serkit.inference.runtime import check_onnx_network

    data = speech_module.VAD_PATH.read_bytes()
    shapes = {"input": (64, 576), "state": (2, 64, 128), "sr": ()}
    # Its LSTM sits inside If branches: the shared check looks into subgraphs, so the CNN's list refuses it …
    assert "LSTM" in check_onnx_network(data, shapes)
    # … and the VAD's own list passes every operator and the file's structure; the sizes of its If
    # branches are beyond shape inference, which is why the file is pinned by its SHA-256 instead.
    reason = check_onnx_network(data, shapes, operators=speech_module.VAD_OPERATORS)
    assert reason is not None and "operators" not in reason and "outside the model file" not in reason


def test_an_altered_vad_file_is_refused(tmp_path, monkeypatch):
    altered = tmp_path / "silero_vad.onnx"
    altered.write_bytes(speech_module.VAD_PATH.read_bytes()[:-1] + b"\0")
    monkeypatch.setattr(speech_module, "VAD_PATH", altered)
    speech_module.vad_network.cache_clear()
    try:
        with pytest.raises(ArtifactError, match="SHA-256 differs from silero-vad==6.2.0"):
            speech_module.vad_network()
    finally:
        speech_module.vad_network.cache_clear()


def test_the_vad_network_preloaded_is_the_one_used_and_its_check_holds(tmp_path, monkeypatch):
    import hashlib

    from serkit.core import onnx_networks

    given = []
    read = onnx_networks.float_constants
    monkeypatch.setattr(onnx_networks, "float_constants", lambda network: (given.append(network), read(network))[1])
    speech_module.vad_network.cache_clear()
    try:
        speech_module.vad_network.preload()
        network = speech_module.vad_network()
        assert speech_module.vad_network() is network and len(given) == 1  # built once, in the thread
        assert hashlib.sha256(given[0]).hexdigest() == speech_module.VAD_SHA256  # the weights are the bytes checked

        altered = tmp_path / "silero_vad.onnx"
        altered.write_bytes(given[0][:-1] + b"\0")
        monkeypatch.setattr(speech_module, "VAD_PATH", altered)
        speech_module.vad_network.cache_clear()
        speech_module.vad_network.preload()  # fails in its thread, silently …
        with pytest.raises(ArtifactError, match="SHA-256 differs from silero-vad==6.2.0"):  # … and again here, in one line
            speech_module.vad_network()
        assert len(given) == 1
    finally:
        speech_module.vad_network.cache_clear()


def test_the_rebuilt_networks_hold_the_vendored_weights_and_pass_onnxs_checker():
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from serkit.core.onnx_networks import float_constants, model

    data = speech_module.VAD_PATH.read_bytes()
    weights = float_constants(data)
    vendored = {}

    def walk(graph):
        for node in graph.node:
            if node.op_type == "Constant" and node.attribute[0].t.data_type == onnx.TensorProto.FLOAT:
                vendored[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.GRAPH:
                    walk(attribute.g)

    walk(onnx.load_from_string(data).graph)
    assert weights.keys() == vendored.keys() and len(weights) == 34  # both rates' networks
    assert all(np.array_equal(weights[name], vendored[name]) for name in vendored)
    for graph in speech_module.silero_networks(weights):
        onnx.checker.check_model(onnx.load_from_string(model(graph)), full_check=True)
    del weights[speech_module.VAD_BRANCH + "decoder.rnn.weight_hh"]
    with pytest.raises(ArtifactError, match="no weight 'decoder.rnn.weight_hh' of shape"):
        speech_module.silero_networks(weights)


@pytest.mark.parametrize("text", [b"", b"\x3a\x02", b"\x08", b"\x0b\x0c"], ids=["empty", "cut field", "cut number", "groups"])
def test_bytes_that_are_no_onnx_model_are_refused(text):
    from serkit.core.onnx_networks import float_constants

    with pytest.raises(ArtifactError, match="ONNX model"):
        float_constants(text)


# -- segments and utterances -------------------------------------------------------------


@pytest.mark.parametrize("y", [noise(), np.zeros(32000, np.float32), make_tone(freq_hz=1000, duration_s=2, sr=16000)],
                         ids=["white noise", "digital silence", "1 kHz tone"])
def test_non_speech_has_no_utterances_and_says_why(y):
    found = find_speech(y, 16000)
    assert found.segments == [] and found.utterances == [] and found.speech_s == 0.0
    assert re.fullmatch(r"no speech detected \(highest speech probability 0\.\d\d in \d\.\d s; .*\)",
                        found.no_speech_reason())


def test_the_sentences_of_the_example_are_its_utterances(conversation):
    found = find_speech(*conversation)
    assert found.no_speech_reason() is None
    assert len(found.utterances) == 4
    assert all(1.0 <= u.end - u.start <= 10.0 for u in found.utterances)
    assert found.utterances[0].start == pytest.approx(0.5, abs=0.15)
    assert found.utterances[-1].end == pytest.approx(12.4, abs=0.2)
    assert 7.0 < found.speech_s < 10.0


def test_the_speech_is_measured_over_the_noise_between_words(conversation):
    from serkit.features.augment import add_noise, white_noise

    y, sr = conversation
    clean = find_speech(y, sr)
    noisy = find_speech(add_noise(y, white_noise(len(y), np.random.default_rng(0)), snr_db=10.0).astype(np.float32), sr)
    assert clean.snr_db > 40
    assert 10 < noisy.snr_db < 16  # 10 dB over the whole recording, pauses included; a little more over the floor
    assert find_speech(0.1 * y, sr).snr_db == pytest.approx(clean.snr_db, abs=0.2)  # a ratio: the level is not in it
    buzz = mains_buzz(np.arange(len(y)) / sr)
    buzzing = find_speech((y + buzz * np.std(y) / np.std(buzz) * 10 ** (-10 / 20)).astype(np.float32), sr)
    assert buzzing.snr_db > 40  # measured after the hum is removed, as the detector hears it
    assert speech_module.speech_to_floor_db(np.ones(100), [Segment(0.0, 100 * FRAME_S)]) is None  # no pause, no floor
    assert speech_module.speech_to_floor_db(np.ones(100), []) is None  # no speech


def test_block_by_block_detection_matches_one_pass(conversation, monkeypatch):
    y, sr = conversation
    whole = find_speech(y, sr)
    monkeypatch.setattr(speech_module, "PENDING_S", 2.0)  # run the network every 2 s, its state carried over
    detector = speech_module.SpeechDetector(sr)
    for block in np.array_split(y, 37):
        detector.feed(block)
    streamed = detector.finish()
    assert streamed.segments == whole.segments and streamed.max_probability == whole.max_probability
    assert streamed.snr_db == whole.snr_db


def test_the_vad_gives_silero_run_chunk_after_chunk(conversation, monkeypatch):
    y = conversation[0] + noise(conversation[0].shape[-1] / 16000, level=0.003)  # a room's floor: no silence
    # Without a silence to skip, the probabilities are those of the vendored network run one chunk
    # per call, as its authors run it, to float32 rounding, in pieces of any size …
    assert speech_module.chunks_to_run(y).size == math.ceil(y.shape[-1] / 512)
    reference = speech_module.sequential_probabilities(y)
    np.testing.assert_allclose(speech_module.speech_probabilities(y), reference, atol=1e-5)
    monkeypatch.setattr(speech_module, "PIECE_CHUNKS", 37)  # 12 pieces through the pipeline
    np.testing.assert_allclose(speech_module.speech_probabilities(y), reference, atol=1e-5)
    # … and on one thread as on two.
    speech_module.vad_network.cache_clear()
    monkeypatch.setattr(speech_module, "worker_threads", lambda: 1)
    try:
        np.testing.assert_allclose(speech_module.speech_probabilities(y), reference, atol=1e-5)
    finally:
        speech_module.vad_network.cache_clear()


def test_skipped_silence_leaves_the_segments_of_one_sequential_stream(conversation):
    y, sr = conversation
    # Two takes of the example 3 s of digital silence apart: the silence's middle is skipped …
    y = np.concatenate([y, np.zeros(3 * sr, np.float32), y])
    chunks = speech_module.chunks_to_run(y)
    assert chunks.size < math.ceil(y.shape[-1] / 512) - 50
    # … and the segments are those of every chunk run.
    skipped, reference = speech_module.speech_probabilities(y), speech_module.sequential_probabilities(y)
    assert np.all(skipped[np.setdiff1d(np.arange(skipped.size), chunks)] == 0)
    ours, theirs = speech_segments(skipped, duration_s=30.0), speech_segments(reference, duration_s=30.0)
    assert len(ours) == len(theirs) >= 8
    np.testing.assert_allclose(np.array(ours), np.array(theirs), atol=2 * FRAME_S + 1e-9)  # within two chunks


def test_any_rate_finds_the_same_speech(conversation):
    y, sr = conversation
    at_44k = find_speech(load_audio(LONG_MIXED, sr=44100)[0], 44100)
    np.testing.assert_allclose(np.array(at_44k.segments), np.array(find_speech(y, sr).segments), atol=0.07)


def test_a_quiet_recording_is_raised_before_the_detector_hears_it(conversation, monkeypatch):
    y, sr = conversation
    loud = find_speech(y, sr)
    quiet = (np.round(y / np.max(np.abs(y)) * 10 ** (-58 / 20) * 32767) / 32767).astype(np.float32)  # 16-bit at -58 dBFS
    # The same segments as the loud recording (its peak stays under the gain's cap) …
    found = find_speech(quiet, sr)
    assert len(found.segments) == len(loud.segments)
    np.testing.assert_allclose(np.array(found.segments), np.array(loud.segments), atol=0.1)
    # … where Silero alone, at this level, hears less.
    monkeypatch.setattr(speech_module, "raised_if_quiet", lambda y16: y16)
    assert find_speech(quiet, sr).speech_s < 0.8 * loud.speech_s
    # Quiet noise stays noise.
    monkeypatch.undo()
    assert find_speech(noise(level=10 ** (-55 / 20)), 16000).no_speech_reason() is not None


def test_a_mains_buzz_under_the_speech_leaves_its_utterances_where_they_were(conversation):
    # Unremoved, a buzz 10 dB under the speech moved the example's boundaries by up to 0.10 s
    # (and in conversations joined utterances across short pauses).
    y, sr = conversation
    clean = find_speech(y, sr).utterances
    found = find_speech(buzzed(y, sr, 10.0), sr).utterances
    assert len(found) == len(clean)
    assert max(max(abs(a.start - b.start), abs(a.end - b.end)) for a, b in zip(found, clean)) < 0.06


def buzzed(y: np.ndarray, sr: int, under_db: float) -> np.ndarray:
    """``y`` under a 50 Hz buzz ``under_db`` under its speech."""
    speech = np.concatenate([y[int(u.start * sr):int(u.end * sr)] for u in find_speech(y, sr).utterances])
    buzz = mains_buzz(np.arange(y.size) / sr)
    return (y + buzz * np.std(speech) / np.std(buzz) * 10 ** (-under_db / 20)).astype(np.float32)


@pytest.mark.parametrize("whole_read_s", [120.0, 5.0])
def test_a_recording_with_a_buzz_pays_its_removal_once_a_pass(predictor, conversation, monkeypatch, tmp_path, whole_read_s):
    # Taken out by the speech detection and again by each utterance's features, a buzz cost an hour
    # 45.8 s to predict against 35.6 s; the utterances are now cut from the recording without it.
    from serkit.core import hum

    y, sr = conversation
    path = tmp_path / "buzzed.wav"
    sf.write(path, buzzed(y, sr, 10.0), sr, subtype="FLOAT")
    fits = []
    original = hum._exact_fundamental
    monkeypatch.setattr(hum, "_exact_fundamental", lambda *args: fits.append(args[1]) or original(*args))
    monkeypatch.setattr("serkit.inference.predictor.WHOLE_READ_S", whole_read_s)
    result = predictor.predict_file(path, segment="vad")
    # A file read once is cleaned once; one read twice (long) once by the detection and once for the utterances.
    assert len(fits) == (1 if whole_read_s > 13.4 else 2) and len(result["segments"]) == 4
    clean = predictor.predict_file(LONG_MIXED, segment="vad")
    assert [s["emotion"] for s in result["segments"]] == [s["emotion"] for s in clean["segments"]]

def test_a_voice_like_sound_with_a_steady_spectrum_is_dropped(monkeypatch):
    t = np.arange(4 * 22050) / 22050
    hum = sum(np.sin(2 * np.pi * k * 60 * t) / k for k in range(1, 8))
    hum = (hum / np.sqrt(np.mean(hum ** 2)) * 10 ** (-15 / 20)).astype(np.float32)
    y16 = load_audio(io.BytesIO(_wav(hum, 22050)), sr=16000)[0]
    # A mains hum is taken out before the detector hears it; a steady drone that is not one stays (as here).
    assert find_speech(hum, 22050).max_probability < 0.1
    monkeypatch.setattr(speech_module, "remove_mains_hum", lambda y, sr: y)
    # Silero run as one stream is unsure of the drone: nothing at its usual thresholds …
    assert speech_segments(speech_module.speech_probabilities(y16), duration_s=4.0) == []
    # … its onset passes the second, lower look, and the drone's steady spectrum drops it …
    found = find_speech(hum, 22050)
    assert found.utterances == [] and found.steady_s > 0.1 and "steady spectrum" in found.no_speech_reason()
    # … as it drops all of the hum should Silero take it for a voice throughout.
    monkeypatch.setattr(speech_module, "run_vad", lambda y, history=None, state=None: (
        np.ones(math.ceil(y.shape[-1] / speech_module.CHUNK_SAMPLES), np.float32), state))
    found = find_speech(hum, 22050)
    assert found.utterances == [] and found.steady_s > 3.5
    assert "steady spectrum" in found.no_speech_reason()
    spoken = find_speech(*load_audio(LONG_MIXED, sr=16000))
    assert spoken.steady_s == 0.0 and spoken.speech_s > 12.0  # speech's spectrum moves


def test_a_recording_silero_is_unsure_of_gets_a_second_look(conversation, monkeypatch):
    y, sr = conversation
    n_chunks = math.ceil(y.shape[-1] / speech_module.CHUNK_SAMPLES)

    def unsure(peak):
        probabilities = np.full(n_chunks, 0.05, np.float32)
        probabilities[100:103] = peak  # 0.1 s of doubt inside the first sentence, a scream's peak
        return lambda y16, history=None, state=None: (probabilities, state)

    monkeypatch.setattr(speech_module, "run_vad", unsure(0.47))
    found = find_speech(y, sr)
    assert len(found.utterances) == 1 and found.utterances[0].start == pytest.approx(3.2, abs=0.1)
    monkeypatch.setattr(speech_module, "run_vad", unsure(0.4))
    assert find_speech(y, sr).no_speech_reason().endswith("speech needs 0.45 for 0.05 s)")


def _wav(y: np.ndarray, sr: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def test_segments_need_a_pause_to_end_and_length_to_count():
    frames = np.zeros(100)
    frames[10:40] = 1.0   # ~1 s of speech …
    frames[42:60] = 1.0   # … a 2-frame (64 ms) dip does not end it
    frames[80:84] = 1.0   # 128 ms: too short to count
    assert speech_segments(frames, duration_s=100 * FRAME_S) == [Segment(0.29, 1.95)]


def test_short_utterances_join_their_nearer_neighbour_and_long_ones_are_split():
    utterances = split_utterances([Segment(0.0, 2.0), Segment(2.3, 2.8), Segment(3.5, 5.0), Segment(9.0, 9.4)])
    # 2.3-2.8 joins 0-2 (0.3 s away, not 3.5-5 0.7 s away); 9.0-9.4 has nobody within 0.5 s and stays.
    assert [(u.start, u.end) for u in utterances] == [(0.0, 2.8), (3.5, 5.0), (9.0, 9.4)]
    assert utterances[0].speech_s == pytest.approx(2.5)
    parts = split_utterances([Segment(0.0, 25.0)])
    assert len(parts) == 3 and all(p.end - p.start <= 10.0 for p in parts)
    assert sum(p.speech_s for p in parts) == pytest.approx(25.0, abs=0.01)


# -- the predictor -----------------------------------------------------------------------


def test_no_speech_gets_no_emotion(predictor):
    result = predictor.predict_audio(noise(), 16000, segment="vad")
    assert result["emotion"] is None and result["probabilities"] is None
    assert result["segments"] == [] and result["summary"] is None
    assert result["speech_seconds"] == 0.0 and result["no_speech"].startswith("no speech detected")


def test_utterances_are_the_segments_and_weigh_by_speech_seconds(predictor, conversation):
    result = predictor.predict_audio(*conversation, segment="vad")
    found = find_speech(*conversation)
    assert [(s["start"], s["end"]) for s in result["segments"]] == [(u.start, u.end) for u in found.utterances]
    assert result["speech_seconds"] == found.speech_s
    weights = np.array([u.speech_s for u in found.utterances])
    rows = np.array([[s["probabilities"][e] for e in ("sad", "happy")] for s in result["segments"]])
    whole = weights @ rows / weights.sum()
    assert [result["probabilities"][e] for e in ("sad", "happy")] == pytest.approx(whole.tolist())
    assert sum(result["summary"]["seconds"].values()) == pytest.approx(found.speech_s, abs=0.01)


def test_the_model_hears_the_utterances_with_their_pauses_context(predictor, conversation, monkeypatch):
    seen = []
    original = predictor.feature_set.from_audio
    monkeypatch.setattr(predictor.feature_set, "from_audio", lambda y, sr: seen.append(len(y) / sr) or original(y, sr))
    predictor.predict_audio(*conversation, segment="vad")
    speech = find_speech(*conversation)
    expected = [end - start for start, end in heard_spans(speech.utterances, speech.duration_s)]
    assert seen == pytest.approx(expected, abs=0.002)
    assert sum(seen) < speech.duration_s  # the longer pauses are never heard


def test_a_beep_in_the_pause_is_not_heard_with_the_next_utterance(predictor, conversation, monkeypatch):
    # A recorder's or a voicemail's beep before the speech moved 30 % of 120 shared clips' emotions.
    y, sr = conversation
    t = np.arange(int(0.3 * sr)) / sr
    beeped = y.copy()
    beeped[: t.size] += (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)  # the first speech starts at 0.5 s
    seen = []
    original = predictor.feature_set.from_audio
    monkeypatch.setattr(predictor.feature_set, "from_audio", lambda piece, rate: seen.append(len(piece) / rate) or original(piece, rate))
    predictor.predict_audio(beeped, sr, segment="vad")
    speech = find_speech(beeped, sr)
    heard = [end - start for start, end in heard_spans(speech.utterances, speech.duration_s)]
    first = speech.utterances[0]
    assert heard[0] - first.start < seen[0] <= heard[0] - 0.3  # heard from after the beep, and before the speech
    assert seen[1:] == pytest.approx(heard[1:], abs=0.002)


def test_a_tone_is_a_beep_or_a_whistle_not_a_recorders_drift():
    from serkit.core.level import loud_tones

    t = np.arange(16000) / 16000
    assert loud_tones((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)).all()
    assert not loud_tones((0.5 * np.sin(2 * np.pi * 8 * t)).astype(np.float32)).any()  # 8 Hz: drift, not a tone
    assert not loud_tones(noise(1.0)).any()


def test_heard_spans_stop_at_the_context_and_at_the_pause_middle():
    utterances = [Utterance(2.0, 4.0, 2.0), Utterance(4.6, 6.0, 1.4), Utterance(9.0, 10.0, 1.0)]
    assert heard_spans(utterances, 12.0, context_s=1.0) == [(1.0, 4.3), (4.3, 7.0), (8.0, 11.0)]


def test_a_long_file_is_read_twice_with_the_same_answer(predictor, monkeypatch, tmp_path):
    path = tmp_path / "talk.flac"
    sf.write(path, *load_audio(LONG_MIXED, sr=22050))
    once = predictor.predict_file(path, segment="vad")
    monkeypatch.setattr("serkit.inference.predictor.WHOLE_READ_S", 5.0)
    with open(path, "rb") as handle:  # a file object is rewound for the second pass
        twice = predictor.predict_file(handle, segment="vad")
    assert [s["emotion"] for s in twice["segments"]] == [s["emotion"] for s in once["segments"]]
    np.testing.assert_allclose([s["start"] for s in twice["segments"]], [s["start"] for s in once["segments"]], atol=0.1)


def test_fixed_windows_stay_available(predictor, conversation):
    result = predictor.predict_audio(*conversation, segment="fixed")
    assert "speech_seconds" not in result and len(result["segments"]) == 8


def test_an_unknown_segmentation_is_a_parameter_error(predictor):
    from serkit.core.exceptions import ParameterError

    with pytest.raises(ParameterError, match="segment='words' is not one of vad, fixed"):
        predictor.predict_audio(noise(), 16000, segment="words")


# -- the formats ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result(predictor, conversation) -> dict:
    return {"path": "talk.ogg", **predictor.predict_audio(*conversation, segment="vad")}


def test_webvtt_has_one_cue_per_utterance(result):
    text = timeline.to_webvtt(result)
    assert text.startswith("WEBVTT\n\n1\n")
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(\w+) (\d+)%", text)
    assert len(cues) == len(result["segments"])
    assert cues[0][0] == timeline._vtt_time(result["segments"][0]["start"])
    assert [c[2] for c in cues] == [s["emotion"] for s in result["segments"]]
    no_speech = {"path": "x", "emotion": None, "probabilities": None, "duration": 3.0, "segments": [], "no_speech": "no speech detected (…)"}
    assert timeline.to_webvtt(no_speech) == "WEBVTT\n\nNOTE no speech detected (…)\n"


def test_textgrid_intervals_tile_the_recording(result):
    text = timeline.to_textgrid(result)
    bounds = [(float(a), float(b)) for a, b in re.findall(r"xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text", text)]
    assert bounds[0][0] == 0.0 and bounds[-1][1] == result["duration"]
    assert all(left[1] == right[0] for left, right in zip(bounds, bounds[1:]))
    labelled = re.findall(r'text = "(\w+) \d+%"', text)
    assert labelled == [s["emotion"] for s in result["segments"]]
    assert f"intervals: size = {len(bounds)}" in text


def test_csv_has_a_row_per_utterance_and_says_why_a_file_has_none(result):
    failed = {"path": "bad.wav", "error": "bad.wav: not readable as audio"}
    rows = list(csv.DictReader(io.StringIO(timeline.to_csv([result, failed]))))
    assert len(rows) == len(result["segments"]) + 1
    assert rows[0]["emotion"] == result["segments"][0]["emotion"] and float(rows[0]["speech_seconds"]) > 0
    assert rows[-1]["note"] == "bad.wav: not readable as audio" and rows[-1]["emotion"] == ""
    assert [row["note"] for row in rows[:-1]] == [segment["caution"] or "" for segment in result["segments"]]


def test_csv_carries_each_intervals_caution():
    segments = [{"start": 0.5, "end": 2.0, "emotion": "sad", "probabilities": {"sad": 0.6}, "caution": None},
                {"start": 3.0, "end": 4.0, "emotion": "angry", "probabilities": {"angry": 0.5}, "caution": "clipped"}]
    result = {"path": "a.wav", "emotion": "sad", "probabilities": {"sad": 0.6}, "duration": 5.0, "speech_seconds": 2.5,
              "segments": segments}
    whole = {"path": "b.wav", "emotion": "sad", "probabilities": {"sad": 0.6}, "duration": 2.0, "segments": [],
             "caution": "reverberant"}
    rows = list(csv.DictReader(io.StringIO(timeline.to_csv([result, whole]))))
    assert [(row["path"], row["note"]) for row in rows] == [("a.wav", ""), ("a.wav", "clipped"), ("b.wav", "reverberant")]


def test_the_formats_name_the_speakers_and_give_each_a_tier_when_two_talk_at_once():
    segments = [{"start": start, "end": end, "emotion": emotion, "probabilities": {emotion: 0.5}, "speaker": speaker}
                for start, end, emotion, speaker in ((0.5, 3.0, "angry", "channel 1"), (2.5, 4.0, "sad", "channel 2"),
                                                     (5.0, 6.0, "happy", "channel 1"))]
    result = {"path": "call.wav", "emotion": "angry", "probabilities": {"angry": 0.5}, "duration": 8.0,
              "speech_seconds": 5.0, "segments": segments}
    assert re.findall(r"<v ([\w ]+)>(\w+) 50%", timeline.to_webvtt(result)) == [
        ("channel 1", "angry"), ("channel 2", "sad"), ("channel 1", "happy")]
    rows = list(csv.DictReader(io.StringIO(timeline.to_csv([result]))))
    assert [row["speaker"] for row in rows] == ["channel 1", "channel 2", "channel 1"]
    text = timeline.to_textgrid(result)
    assert "size = 2" in text and re.findall(r'name = "([\w ]+)"', text) == ["channel 1", "channel 2"]
    for tier in text.split("class = \"IntervalTier\"")[1:]:  # each tier tiles the recording, overlapping the other
        bounds = [(float(a), float(b)) for a, b in re.findall(r"xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text", tier)]
        assert bounds[0][0] == 0.0 and bounds[-1][1] == 8.0
        assert all(left[1] == right[0] for left, right in zip(bounds, bounds[1:]))
    assert re.findall(r'text = "(\w+) 50%"', text) == ["angry", "happy", "sad"]


def test_runs_join_neighbours_of_one_emotion():
    segments = [{"start": s, "end": s + 1, "emotion": e, "probabilities": {e: p}}
                for s, e, p in ((0, "sad", 0.6), (2, "sad", 0.9), (4, "happy", 0.7))]
    runs = timeline.runs({"emotion": "sad", "duration": 6, "speech_seconds": 3, "segments": segments})
    assert runs == [timeline.Run(0, 3, "sad", 0.9, 2), timeline.Run(4, 5, "happy", 0.7, 1)]


# -- the CLI and the service ---------------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, predictor):
    from serkit.models.artifacts import save_model
    from serkit.features import get_feature_set
    from serkit.models import make_model

    fs = get_feature_set("seed26")
    X = [fs.from_audio(make_tone(freq_hz=f, sr=22050), 22050) for f in (120, 160, 200, 600, 750, 900)]
    model = make_model("logreg").fit(np.array(X), ["sad"] * 3 + ["happy"] * 3)
    return save_model(tmp_path_factory.mktemp("model"), model, fs)


def test_cli_answers_no_speech_with_exit_0(capsys, model_dir, tmp_path):
    from serkit.cli import main

    sf.write(tmp_path / "noise.wav", noise(), 16000)
    assert main(["predict", str(tmp_path / "noise.wav"), str(LONG_MIXED), "--model", str(model_dir)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert "no speech detected (highest speech probability" in lines[0] and "%" not in lines[0]
    assert "s of speech" in lines[1]
    assert "1 predicted, 0 failed, 1 without speech" in captured.err


def test_cli_writes_webvtt_and_textgrid_from_the_suffix(capsys, model_dir, tmp_path):
    from serkit.cli import main

    for name, first_line in (("talk.vtt", "WEBVTT"), ("talk.TextGrid", 'File type = "ooTextFile"')):
        assert main(["predict", str(LONG_MIXED), "--model", str(model_dir), "-o", str(tmp_path / name)]) == 0
        assert (tmp_path / name).read_text().splitlines()[0] == first_line
    assert main(["predict", str(LONG_MIXED), str(LONG_MIXED), "--model", str(model_dir), "--format", "vtt"]) == 1
    assert "--format vtt writes one file's timeline; got 2 files" in capsys.readouterr().err


def test_cli_json_has_speech_seconds_and_utterances(capsys, model_dir):
    from serkit.cli import main

    assert main(["predict", str(LONG_MIXED), "--model", str(model_dir), "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["speech_seconds"] > 7 and len(item["segments"]) == 4


def test_service_answers_no_speech_and_utterances(predictor):
    from fastapi.testclient import TestClient

    from serkit.service import create_app
    from serkit.service.routers.predict import Prediction

    def post(y, sr, query=""):
        buffer = io.BytesIO()
        sf.write(buffer, y, sr, format="WAV")
        return client.post(f"/v1/predict{query}", content=buffer.getvalue(), headers={"content-type": "audio/wav"})

    with TestClient(create_app(predictor=predictor)) as client:
        silent = post(noise(), 16000)
        assert silent.status_code == 200
        assert silent.json()["no_speech"].startswith("no speech detected") and silent.json()["emotion"] is None
        talk = post(*load_audio(LONG_MIXED, sr=16000)).json()
        assert len(talk["segments"]) == 4 and talk["speech_seconds"] > 7
        fixed = post(*load_audio(LONG_MIXED, sr=16000), query="?segment=fixed").json()
        assert "speech_seconds" not in fixed and len(fixed["segments"]) == 8
    for body in (silent.json(), talk):
        assert Prediction.model_validate(body).model_dump(exclude_unset=True) == body
