"""serkit.inference.speakers: the vendored encoder checked, clustering, the diarisation error, and predict --speakers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import mains_buzz

import serkit.inference.speakers as speakers
from serkit.core.exceptions import ArtifactError, ParameterError
from serkit.inference.speakers import average_linkage, cluster_speakers, diarization_error_rate, parse_speakers, spectral_clusters


def voices(rng, sizes, *, spread=0.35, d=64):
    """Unit-ish vectors around one random centre per speaker, speaker by speaker."""
    centres = rng.normal(size=(len(sizes), d))
    rows = [centre + spread * rng.normal(size=(size, d)) for centre, size in zip(centres, sizes)]
    return np.concatenate(rows), np.repeat(np.arange(len(sizes)), sizes)


def test_average_linkage_merges_as_scipy():
    hierarchy = pytest.importorskip("scipy.cluster.hierarchy")
    from scipy.spatial.distance import squareform

    points = np.random.default_rng(1).normal(size=(12, 3))
    D = np.linalg.norm(points[:, None] - points[None], axis=-1)
    ours = sorted(distance for _, _, distance in average_linkage(D))
    np.testing.assert_allclose(ours, hierarchy.linkage(squareform(D), method="average")[:, 2])


@pytest.mark.parametrize("sizes", [(6, 5), (4, 7, 5), (3, 3, 3, 3)])
def test_auto_finds_each_speaker(sizes):
    X, truth = voices(np.random.default_rng(len(sizes)), sizes)
    labels = cluster_speakers(X, "auto")
    assert len(set(labels)) == len(sizes)
    assert diarization_error_rate(np.ones(len(X)), truth, labels) == 0.0


def test_one_voice_stays_one_speaker():
    X, _ = voices(np.random.default_rng(5), (10,), spread=0.2)
    assert set(cluster_speakers(X, "auto")) == {0}


def test_a_given_number_of_speakers_and_small_inputs():
    X, _ = voices(np.random.default_rng(6), (5, 5))
    assert len(set(cluster_speakers(X, 3))) == 3
    assert cluster_speakers(X[:1], "auto").tolist() == [0]
    assert cluster_speakers(X[:0], 2).tolist() == []
    with pytest.raises(ParameterError, match="finite 2-D"):
        cluster_speakers(np.full((3, 4), np.nan))


def test_a_folder_may_hold_more_voices_than_a_recording():
    X, truth = voices(np.random.default_rng(9), (5,) * 9, d=192)  # nine voices, more than auto looks for in a recording
    assert len(set(cluster_speakers(X, "auto"))) == speakers.MAX_AUTO_SPEAKERS
    assert diarization_error_rate(np.ones(len(X)), truth, speakers.find_voices(X)) == 0.0
    assert diarization_error_rate(np.ones(len(X)), truth, speakers.find_voices(X, most_clustered=27)) == 0.0  # the others joined


def test_find_voices_of_real_speakers(ravdess_root):
    # Compensated CAM++ embeddings of whole clips, as a folder's files are embedded: two actors
    # (a man and a woman, every emotion) are two voices, one actor alone one voice.
    import soundfile as sf

    embedder = speakers.SpeakerEmbedder()
    clips = {actor: sorted((ravdess_root / actor).glob("*.flac"))[::6] for actor in ("Actor_01", "Actor_02")}
    embedded = {actor: embedder.embed([sf.read(path, dtype="float32")[0] for path in paths], sf.info(paths[0]).samplerate)
                for actor, paths in clips.items()}
    both = speakers.find_voices(np.concatenate(list(embedded.values())))
    n = len(embedded["Actor_01"])
    assert len(set(both)) == 2 and len(set(both[:n])) == 1 and set(both[:n]).isdisjoint(both[n:])
    assert set(speakers.find_voices(embedded["Actor_01"])) == {0}


def test_spectral_clusters_keep_each_voice_whole():
    X, truth = voices(np.random.default_rng(8), (6, 6, 6))
    labels = spectral_clusters(X - X.mean(axis=0), 3)
    assert diarization_error_rate(np.ones(len(X)), truth, labels) == 0.0
    assert spectral_clusters(X[:2], 3).tolist() == [0, 1]


@pytest.mark.parametrize("value, error", [("0", "out of range"), ("17", "out of range"), ("many", "'auto', 'channels' or a number")])
def test_parse_speakers_refuses(value, error):
    with pytest.raises(ParameterError, match=error):
        parse_speakers(value)


def test_diarization_error_rate_takes_the_best_mapping():
    assert diarization_error_rate([1, 1, 1, 1], ["a", "a", "b", "b"], [1, 1, 0, 0]) == 0.0
    assert diarization_error_rate([1, 1, 2], ["a", "b", "b"], [0, 0, 0]) == 0.25
    assert diarization_error_rate([1, 1], ["a", "b"], [0, 1]) == 0.0


def test_an_altered_encoder_is_refused(monkeypatch):
    monkeypatch.setattr(speakers, "ENCODER_SHA256", "0" * 64)
    with pytest.raises(ArtifactError, match="SHA-256 differs"):
        speakers.vendored_weights()


def test_an_oversized_encoder_file_is_not_read(monkeypatch):
    monkeypatch.setattr(speakers, "MAX_ENCODER_BYTES", 1024)
    with pytest.raises(ArtifactError, match="too large"):
        speakers.vendored_weights()


def test_encoder_weights_that_are_not_safetensors_or_lack_a_weight_are_refused(tmp_path):
    from safetensors.numpy import load, save

    from serkit.core.files import sha256_file
    from serkit.inference.campplus import campplus_graph

    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{\"a\": 1}")
    with pytest.raises(ArtifactError, match="not a safetensors"):
        speakers.vendored_weights(junk, sha256_file(junk))
    partial = tmp_path / "partial.safetensors"
    stored = load(speakers.ENCODER_PATH.read_bytes())
    dropped = sorted(name for name in stored if not name.endswith(".scale"))[len(stored) // 3]
    partial.write_bytes(save({name: array for name, array in stored.items() if name not in (dropped, f"{dropped}.scale")}))
    with pytest.raises(ArtifactError, match=dropped.replace(".", "\\.")):
        campplus_graph(speakers.vendored_weights(partial, sha256_file(partial)))


def tone_voice(f0, seconds, sr=16000, seed=0):
    """A crude voice: a vibrato harmonic series on ``f0`` with a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * f0 * (t + 0.002 * np.sin(2 * np.pi * 5 * t))
    y = sum(np.sin(k * phase) / k for k in range(1, 12)) + 0.02 * rng.standard_normal(t.size)
    return (0.2 * y / np.abs(y).max()).astype(np.float32)


def test_embedding_on_threads_gives_the_same_vectors():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    pieces = [0.1 * rng.standard_normal(int(16000 * seconds)).astype(np.float32) for seconds in (0.5, 1.2, 3.0, 7.5)]
    embedder = speakers.SpeakerEmbedder()
    with ThreadPoolExecutor(2) as pool:
        threaded = embedder.embed(pieces, mapper=pool.map)
    np.testing.assert_allclose(threaded, embedder.embed(pieces), atol=1e-6)


def test_embeddings_are_unit_vectors_and_refuse_a_blip():
    embedder = speakers.SpeakerEmbedder()
    vectors = embedder.embed([tone_voice(110, 1.5), tone_voice(110, 2.0, seed=1), tone_voice(260, 1.5)])
    assert vectors.shape == (3, speakers.EMBEDDING_SIZE)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    with pytest.raises(Exception, match="too short for a voice"):
        embedder.embed([np.zeros(1000, dtype=np.float32)])


def buzz_under(pieces: list, db: float) -> list:
    """Each piece with a mains buzz (50 Hz and 39 harmonics at 1/k) ``db`` under the pieces' speech."""
    level = np.std(np.concatenate(pieces))
    out = []
    for piece in pieces:
        buzz = mains_buzz(np.arange(piece.size) / 16000)
        out.append((piece + buzz * level / np.std(buzz) * 10 ** (-db / 20)).astype(np.float32))
    return out


def test_a_mains_buzz_does_not_move_a_voices_embedding():
    # Through the hum removal the d-vector needed, one of these utterances fell to 0.76.
    from serkit.core.audio import load_audio
    from serkit.inference.speech import find_speech

    y, sr = load_audio(Path(speakers.__file__).parents[1] / "data" / "examples" / "calm-happy-angry-sad--long-mixed.ogg", sr=16000)
    pieces = [y[int(u.start * sr):int(u.end * sr)] for u in find_speech(y, sr).utterances]
    embedder = speakers.SpeakerEmbedder()
    cosines = np.sum(embedder.embed(pieces) * embedder.embed(buzz_under(pieces, 10.0)), axis=1)
    assert cosines.min() > 0.9


@pytest.mark.parametrize("speaker_norm", [False, True])
def test_predict_file_with_speakers(tmp_path, monkeypatch, speaker_norm):
    import soundfile as sf
    from sklearn.linear_model import LogisticRegression

    import serkit.inference.predictor as predictor_module
    from serkit.features.adaptation import SPEAKER_PRIOR_CLIPS
    from serkit.features.base import FeatureSet
    from serkit.inference.predictor import Predictor

    class Loudness(FeatureSet):
        name = "loudness"
        sr = 16000

        def from_audio(self, y, sr):
            return np.array([np.sqrt(np.mean(y**2)), np.mean(np.abs(np.diff(y)))])

    turns = [tone_voice(110, 3.0, seed=i) if i % 2 == 0 else tone_voice(260, 3.0, seed=i) for i in range(4)]
    sf.write(tmp_path / "talk.wav", np.concatenate(turns), 16000)
    model = LogisticRegression().fit([[0.01, 0.01], [0.02, 0.01], [0.3, 0.2], [0.4, 0.3]], ["calm", "calm", "angry", "angry"])
    predictor = Predictor(model, Loudness(), metadata={"speaker_norm": speaker_norm}, window_s=3.0, hop_s=3.0)
    priors, original = [], predictor_module._normalise_by_speaker
    monkeypatch.setattr(predictor_module, "_normalise_by_speaker",
                        lambda X, labels, prior: priors.append(prior) or original(X, labels, prior))
    result = predictor.predict_file(tmp_path / "talk.wav", diarize=2)
    found = [segment["speaker"] for segment in result["segments"]]
    assert len(found) == 4 and set(found) == {"S1", "S2"}
    assert priors == ([SPEAKER_PRIOR_CLIPS] if speaker_norm else [])  # speakers found: the clustering's prior
    assert set(result["speakers"]) == {"S1", "S2"}
    assert sum(own["seconds"] for own in result["speakers"].values()) == pytest.approx(12.0)
    with pytest.raises(ParameterError, match="out of range"):
        predictor.predict_file(tmp_path / "talk.wav", diarize=99)


def test_with_voice_activity_the_utterances_are_diarised(monkeypatch):
    from test_inference import make_predictor
    from test_speech import LONG_MIXED

    from serkit.core.audio import load_audio
    from serkit.inference.speech import find_speech, heard_spans

    predictor = make_predictor()
    y, sr = load_audio(LONG_MIXED, sr=predictor.sr)
    embedded = []
    original = speakers.SpeakerEmbedder.embed
    monkeypatch.setattr(speakers.SpeakerEmbedder, "embed",
                        lambda self, pieces, sr, **keywords: embedded.append([len(p) / sr for p in pieces])
                        or original(self, pieces, sr, **keywords))
    result = predictor.predict_file(LONG_MIXED, segment="vad", diarize=2)
    speech = find_speech(y, sr)
    utterances = speech.utterances
    heard = heard_spans(utterances, speech.duration_s)
    assert embedded == [pytest.approx([end - start for start, end in heard], abs=0.002)]
    assert [(s["start"], s["end"]) for s in result["segments"]] == [(u.start, u.end) for u in utterances]
    assert {s["speaker"] for s in result["segments"]} == set(result["speakers"]) == {"S1", "S2"}
    assert sum(own["seconds"] for own in result["speakers"].values()) == pytest.approx(result["speech_seconds"])


def noisy_example(tmp_path) -> tuple[Path, Path]:
    """The shipped example as it is, and under white noise 10 dB under it (``clean.wav``, ``noisy.wav``)."""
    import soundfile as sf
    from test_speech import LONG_MIXED

    from serkit.core.audio import load_audio
    from serkit.features.augment import add_noise, white_noise

    y, sr = load_audio(LONG_MIXED, sr=16000)
    sf.write(tmp_path / "clean.wav", y, sr)
    sf.write(tmp_path / "noisy.wav", add_noise(y, white_noise(len(y), np.random.default_rng(0)), snr_db=10.0), sr)
    return tmp_path / "clean.wav", tmp_path / "noisy.wav"


def test_speakers_found_in_a_noisy_recording_carry_a_caution(tmp_path):
    from test_inference import make_predictor

    from serkit.core.audio import load_audio
    from serkit.inference.speech import find_speech

    clean, noisy = noisy_example(tmp_path)
    predictor = make_predictor()
    assert predictor.predict_file(clean, segment="vad", diarize="auto")["speakers_caution"] is None
    result = predictor.predict_file(noisy, segment="vad", diarize="auto")
    snr_db = find_speech(*load_audio(noisy, sr=16000)).snr_db
    assert snr_db < speakers.NOISY_COUNT_BELOW_DB
    assert result["speakers_caution"] == speakers.count_caution(snr_db)
    assert result["speakers_caution"].startswith(f"this recording is noisy (its speech {snr_db:.0f} dB over")
    assert predictor.predict_file(noisy, segment="vad", diarize=2)["speakers_caution"] is None  # the count was given
    assert "speakers_caution" not in predictor.predict_file(noisy, segment="vad")  # no speakers, no caution about them


def test_adapting_to_found_speakers_needs_an_adapted_model_and_no_channels():
    from test_inference import make_predictor

    with pytest.raises(ParameterError, match="without source adaptation"):
        make_predictor().predict_batch(["talk.wav"], adapt=True, diarize="auto")
    with pytest.raises(ParameterError, match="adapting to each channel is not supported"):
        make_predictor().predict_batch(["talk.wav"], adapt=True, diarize="channels")
    with pytest.raises(ParameterError, match="leave out speakers"):
        make_predictor().predict_batch(["talk.wav"], adapt=True, diarize=2, speakers=["a"])


# -- emotion compensation -------------------------------------------------------------


def emotional_voices(seed, sizes, emotion, *, shift=10.0):
    """Voices around one centre each, every utterance moved far along the shared
    ``emotion`` directions (the same for all speakers), as emotion moves a d-vector."""
    rng = np.random.default_rng(seed)
    X, truth = voices(rng, sizes, spread=0.2, d=emotion.shape[1])
    return X + shift * rng.normal(size=(len(X), len(emotion))) @ emotion, truth


EMOTION = np.linalg.qr(np.random.default_rng(10).normal(size=(64, 2)))[0].T


def test_nuisance_directions_are_the_shared_within_speaker_ones():
    X, truth = emotional_voices(11, (30, 30, 30, 30), EMOTION)
    found = speakers.nuisance_directions(X, truth, 2)
    assert found.shape == (2, 64)
    np.testing.assert_allclose(found @ found.T, np.eye(2), atol=1e-9)
    # the learnt plane is the planted one: the planted directions lie in it
    np.testing.assert_allclose(np.linalg.norm(EMOTION @ found.T, axis=1), 1.0, atol=0.05)
    with pytest.raises(ParameterError, match="one speaker per row"):
        speakers.nuisance_directions(X, truth[:-1], 2)
    with pytest.raises(ParameterError, match="count=64"):
        speakers.nuisance_directions(X, truth, 64)


def test_compensation_lets_the_clustering_find_emotional_voices():
    train, train_truth = emotional_voices(12, (40, 40, 40), EMOTION)
    X, truth = emotional_voices(13, (8, 8, 8), EMOTION)  # other speakers, the same emotions
    directions = speakers.nuisance_directions(train, train_truth, 2)
    compensated = speakers.compensate(X, directions)
    np.testing.assert_allclose(np.linalg.norm(compensated, axis=1), 1.0)
    assert np.abs(compensated @ directions.T).max() < 1e-9
    raw = diarization_error_rate(np.ones(24), truth, cluster_speakers(X, 3))
    assert diarization_error_rate(np.ones(24), truth, cluster_speakers(compensated, 3)) == 0.0 < raw


def test_the_shipped_directions_load_checked():
    from serkit.core.files import sha256_file

    directions = speakers.emotion_directions()
    assert directions.shape == (speakers.NUISANCE_DIRECTIONS, speakers.EMBEDDING_SIZE)
    np.testing.assert_allclose(directions @ directions.T, np.eye(len(directions)), atol=1e-4)
    assert sha256_file(speakers.DIRECTIONS_PATH) == speakers.DIRECTIONS_SHA256
    assert speakers.DIRECTIONS_PATH.stat().st_size <= speakers.MAX_DIRECTIONS_BYTES
    licence = (speakers.DIRECTIONS_PATH.parent / "LICENSE-DATA.md").read_text()
    assert "CC BY-NC-SA 4.0" in licence and speakers.DIRECTIONS_PATH.name in licence


def _saved(tmp_path, array, name="directions.npy"):
    from serkit.core.files import sha256_file

    path = tmp_path / name
    np.save(path, array, allow_pickle=True)
    return path, sha256_file(path)


@pytest.mark.parametrize("array, error", [
    (np.zeros((3, 192)), "orthonormal"),
    (np.full((2, 192), np.nan), "orthonormal"),
    (np.eye(192)[:3, :96], "rows of 192"),
    (np.eye(192, dtype=np.int64)[:3], "rows of 192"),
    (np.zeros(192), "rows of 192"),
    (np.array([{"a": 1}], dtype=object), "not a plain numpy array"),
])
def test_bad_directions_files_are_refused(tmp_path, array, error):
    path, sha = _saved(tmp_path, array)
    with pytest.raises(ArtifactError, match=error):
        speakers.load_directions(path, sha)


def test_altered_missing_or_huge_directions_are_refused(tmp_path):
    path, sha = _saved(tmp_path, np.eye(192)[:3])
    assert speakers.load_directions(path, sha).shape == (3, 192)
    with pytest.raises(ArtifactError, match="SHA-256 differs"):
        speakers.load_directions(path, "0" * 64)
    with pytest.raises(ArtifactError, match="missing"):
        speakers.load_directions(tmp_path / "none.npy", sha)
    huge, huge_sha = _saved(tmp_path, np.eye(192)[:60], "huge.npy")
    with pytest.raises(ArtifactError, match="too large"):
        speakers.load_directions(huge, huge_sha)
    path.write_bytes(b"not numpy at all")
    from serkit.core.files import sha256_file
    with pytest.raises(ArtifactError, match="not a plain numpy array"):
        speakers.load_directions(path, sha256_file(path))


def test_embeddings_are_compensated_by_default():
    embedder = speakers.SpeakerEmbedder()
    pieces = [tone_voice(110, 1.5), tone_voice(260, 1.5)]
    raw = embedder.embed(pieces, compensated=False)
    vectors = embedder.embed(pieces)
    np.testing.assert_allclose(vectors, speakers.compensate(raw), atol=1e-6)
    assert np.abs(vectors @ speakers.emotion_directions().T).max() < 1e-5
    assert np.abs(raw @ speakers.emotion_directions().T).max() > 1e-3


# -- each channel one speaker ----------------------------------------------------------


def call_recording(path, *, silent_channel=None, leak_db=None):
    """The example's four sentences as a two-channel call: sentences 1 and 3 on the first channel,
    2 and 4 on the second (each channel silent while the other party speaks, or holding the other's
    voice ``leak_db`` down, as a line's echo leaves it)."""
    import soundfile as sf

    from serkit.core.audio import load_audio
    from serkit.inference.speech import find_speech
    from test_speech import LONG_MIXED

    y, sr = load_audio(LONG_MIXED, sr=16000)
    utterances = find_speech(y, sr).utterances
    channels = [y.copy(), y.copy()]
    for k, utterance in enumerate(utterances):
        start, end = int(utterance.start * sr) - sr // 10, int(utterance.end * sr) + sr // 10
        channels[1 - k % 2][max(0, start):end] = 0.0
    if leak_db is not None:
        channels = [channels[0] + 10 ** (leak_db / 20) * channels[1], channels[1] + 10 ** (leak_db / 20) * channels[0]]
    if silent_channel is not None:
        channels[silent_channel][:] = 0.0
    sf.write(path, np.stack(channels, axis=1), sr)
    return [(u.start, u.end) for u in utterances]


@pytest.mark.parametrize("leak_db", [None, -30.0, -15.0])
def test_each_channel_is_one_speaker_and_nothing_is_clustered(tmp_path, monkeypatch, leak_db):
    from test_inference import make_predictor

    truth = call_recording(tmp_path / "call.wav", leak_db=leak_db)  # the detector finds a leak even 30 dB down
    monkeypatch.setattr(speakers, "shared_embedder", lambda: pytest.fail("a channel's speaker needs no voice"))
    result = make_predictor().predict_file(tmp_path / "call.wav", diarize="channels")
    found = [(segment["start"], segment["end"], segment["speaker"]) for segment in result["segments"]]
    assert [speaker for *_, speaker in found] == ["channel 1", "channel 2", "channel 1", "channel 2"]
    for (start, end, _), (true_start, true_end) in zip(found, truth):
        assert start == pytest.approx(true_start, abs=0.1) and end == pytest.approx(true_end, abs=0.1)
    assert set(result["speakers"]) == {"channel 1", "channel 2"}
    assert sum(own["seconds"] for own in result["speakers"].values()) == pytest.approx(result["speech_seconds"], abs=0.01)
    assert result["emotion"] in result["probabilities"]


def test_a_call_with_a_buzz_on_its_channels_is_cleaned_a_channel_at_a_time(tmp_path, monkeypatch):
    import soundfile as sf

    from conftest import mains_buzz
    from serkit.core import hum
    from test_inference import make_predictor

    truth = call_recording(tmp_path / "call.wav", leak_db=-30.0)
    y, sr = sf.read(tmp_path / "call.wav", dtype="float32")
    tone = mains_buzz(np.arange(len(y)) / sr)
    buzz = tone[:, None] * 0.1 * np.std(y) / np.std(tone)
    sf.write(tmp_path / "buzzed.wav", (y + buzz).astype(np.float32), sr, subtype="FLOAT")
    fits = []
    original = hum._exact_fundamental
    monkeypatch.setattr(hum, "_exact_fundamental", lambda *args: fits.append(len(args[0]) / args[1]) or original(*args))
    result = make_predictor().predict_file(tmp_path / "buzzed.wav", diarize="channels")
    # Each channel by its speech detection and its utterances' second pass, whole: no utterance again alone.
    assert fits == pytest.approx([len(y) / sr] * 4, abs=0.05)
    found = [(segment["start"], segment["end"]) for segment in result["segments"]]
    assert [segment["speaker"] for segment in result["segments"]] == ["channel 1", "channel 2", "channel 1", "channel 2"]
    for (start, end), (true_start, true_end) in zip(found, truth):
        assert start == pytest.approx(true_start, abs=0.1) and end == pytest.approx(true_end, abs=0.1)

def test_a_speaker_normalised_model_standardises_each_channel_by_its_own_utterances(tmp_path, monkeypatch):
    import serkit.inference.predictor as predictor_module
    from serkit.features.adaptation import GIVEN_SPEAKER_PRIOR_CLIPS, SPEAKER_PRIOR_CLIPS
    from test_inference import make_predictor

    call_recording(tmp_path / "call.wav", leak_db=-30.0)
    plain = make_predictor().predict_file(tmp_path / "call.wav", diarize="channels")
    seen = []
    original = predictor_module._normalise_by_speaker
    monkeypatch.setattr(predictor_module, "_normalise_by_speaker",
                        lambda X, labels, prior: seen.append((X.copy(), list(labels), prior)) or original(X, labels, prior))
    normalised = make_predictor(speaker_norm=True).predict_file(tmp_path / "call.wav", diarize="channels")
    [(X, labels, prior)] = seen  # every utterance at once, in time order, each with its channel
    assert prior == GIVEN_SPEAKER_PRIOR_CLIPS < SPEAKER_PRIOR_CLIPS  # the parties are given, not found
    assert labels == ["channel 1", "channel 2", "channel 1", "channel 2"] == [s["speaker"] for s in normalised["segments"]]
    assert X.shape == (4, 2) and normalised["segments"] != plain["segments"]


def test_a_silent_channel_has_no_speaker_and_silence_is_no_speech(tmp_path):
    import soundfile as sf

    from test_inference import make_predictor

    predictor = make_predictor()
    call_recording(tmp_path / "one-sided.wav", silent_channel=1)
    result = predictor.predict_file(tmp_path / "one-sided.wav", diarize="channels")
    assert set(result["speakers"]) == {"channel 1"} and len(result["segments"]) == 2
    sf.write(tmp_path / "silent.wav", np.zeros((32000, 2), np.float32), 16000)
    silent = predictor.predict_file(tmp_path / "silent.wav", diarize="channels")
    assert silent["emotion"] is None and silent["no_speech"] and silent["segments"] == []


def test_channels_need_two_or_more_and_voice_activity(tmp_path):
    import soundfile as sf

    from test_inference import make_predictor
    from test_speech import LONG_MIXED

    predictor = make_predictor()
    with pytest.raises(ParameterError, match="1 channel\\(s\\); speakers='channels' needs 2"):
        predictor.predict_file(LONG_MIXED, diarize="channels")
    call_recording(tmp_path / "call.wav")
    with pytest.raises(ParameterError, match="segment='vad'"):
        predictor.predict_file(tmp_path / "call.wav", diarize="channels", segment="fixed")
    sf.write(tmp_path / "many.wav", np.zeros((16000, 17), np.float32), 16000)
    with pytest.raises(ParameterError, match="17 channel"):
        predictor.predict_file(tmp_path / "many.wav", diarize="channels")
