"""Adapted models end to end: trained on source-standardised corpora, saved with their
statistics in the inference export, adapted at prediction (a batch, a long recording's
windows, a saved adaptation), and refusing what adaptation cannot do.

The synthetic task: in every source, the lower half of its pitch range is 'sad', the
upper half 'happy'. Sources sit at different pitches, so only a model that sees each
source through its own statistics tells them apart in a source it never saw.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings

import numpy as np
import pytest
import soundfile as sf
from conftest import make_tone

from serkit.features.adaptation import AdaptationWarning, SourceStatistics, model_statistics
from serkit.cli import main
from serkit.core.exceptions import ArtifactError, ParameterError

SR = 22050
STEPS = range(8)


def tone(base_hz, step, duration_s=1.0, sr=SR):
    return make_tone(freq_hz=base_hz * 1.08**step, sr=sr, duration_s=duration_s)


def label(step):
    return "sad" if step < 4 else "happy"


@pytest.fixture(scope="module")
def feature_set():
    from serkit.features import get_feature_set

    return get_feature_set("seed26")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, feature_set):
    from serkit.evaluation import Dataset
    from serkit.training import train_model

    def corpus(base_hz):
        X, y, groups = [], [], []
        for speaker, factor in (("s1", 1.0), ("s2", 1.04)):
            for step in STEPS:
                X.append(feature_set.from_audio(tone(base_hz * factor, step), SR))
                y.append(label(step))
                groups.append(speaker)
        return Dataset(np.array(X), np.array(y), np.array(groups), list(feature_set.columns))

    path, _, _ = train_model("logreg", {"low": corpus(120), "high": corpus(480)}, feature_set,
                              tmp_path_factory.mktemp("adapted"), adapt="corpus", cross_validate=False)
    return path


@pytest.fixture
def new_source(tmp_path):
    """Sixteen clips (the fewest an adaptation takes) of a source above the training ones' pitch."""
    folder = tmp_path / "new-source"
    folder.mkdir()
    for step in STEPS:
        for take, duration_s in enumerate((1.0, 1.2)):
            sf.write(folder / f"{step}{take}-{label(step)}.wav", tone(960, step, duration_s=duration_s), SR)
    return folder


def test_saved_with_its_statistics_and_the_export_matches_the_pipeline(model_dir, feature_set, rng):
    from serkit.models.artifacts import load_model

    metadata = json.loads((model_dir / "metadata.json").read_text())
    assert metadata["adaptation"]["train_grain"] == "corpus"
    assert metadata["adaptation"]["statistics"]["n_clips"] == 32
    assert metadata["adaptation"]["default_head"] == "plain"
    exported, pipeline = load_model(model_dir, runtime="export"), load_model(model_dir, runtime="skops")
    np.testing.assert_allclose(model_statistics(exported.estimator).mean, model_statistics(pipeline.estimator).mean)
    X = rng.normal(size=(20, len(feature_set.columns))) * model_statistics(pipeline.estimator).scale
    np.testing.assert_allclose(exported.estimator.predict_proba(X), pipeline.estimator.predict_proba(X), atol=1e-9, rtol=0)
    for head in ("plain", "adapted"):  # both heads of the dual-path model
        np.testing.assert_allclose(exported.estimator.head(head).predict_proba(X), pipeline.estimator.head(head).predict_proba(X),
                                   atol=1e-9, rtol=0)


def test_batch_adaptation_recovers_a_new_source(model_dir, new_source):
    from serkit.models.artifacts import load_model

    predictor = load_model(model_dir)
    files = sorted(new_source.iterdir())
    batch = predictor.predict_batch(files, adapt=True)
    adapted = [item.result["emotion"] for item in batch]
    assert adapted == [path.stem.split("-")[1] for path in files]
    assert {item.result["adaptation"] for item in batch} == {"source"}  # the adapted head answered
    alone = predictor.predict_batch(files)
    assert {item.result["adaptation"] for item in alone} == {"none"}  # the plain head answered
    plain = [item.result["emotion"] for item in alone]
    assert plain != adapted  # the clips as recorded do not place this source


def test_an_adapted_batch_is_as_familiar_as_its_clips_as_recorded(model_dir, feature_set, tmp_path):
    # A training source, adapted: standardised rows sit at the pooled mean, between the sources,
    # so familiarity must be scored on the clips as recorded, the units of the training statistics.
    from serkit.core.audio import load_audio
    from serkit.models.artifacts import load_model

    predictor = load_model(model_dir)
    files = []
    for step in STEPS:
        for take, duration_s in enumerate((1.0, 1.2)):
            files.append(tmp_path / f"{step}{take}.wav")
            sf.write(files[-1], tone(120, step, duration_s=duration_s), SR)
    adapted = [item.result["familiarity"] for item in predictor.predict_batch(files, adapt=True)]
    recorded = predictor.familiarity.scores(np.array([feature_set.from_audio(load_audio(f, sr=SR)[0], SR) for f in files]))
    np.testing.assert_allclose(adapted, recorded, atol=1e-3)  # as reported (rounded)
    assert min(adapted) > 0.05  # its own training clips: familiar


def test_saved_adaptation_predicts_single_clips_as_the_batch_does(model_dir, new_source, tmp_path, capsys):
    from serkit.models.artifacts import load_model

    out = tmp_path / "adapted-copy"
    assert main(["adapt", str(new_source), "--model", str(model_dir), "-o", str(out), "--quiet", "--segment", "fixed"]) == 0  # tones
    assert "16 recordings" in capsys.readouterr().out
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["adaptation"]["statistics"]["n_clips"] == 16
    files = sorted(new_source.iterdir())
    batch = load_model(model_dir).predict_batch(files, adapt=True)
    saved = load_model(out)
    for path, item in zip(files, batch):
        single = saved.predict_file(path)
        assert single["adaptation"] == "source"
        np.testing.assert_allclose(list(single["probabilities"].values()), list(item.result["probabilities"].values()), atol=1e-9)
    # The export and the pipeline of the adapted copy agree too.
    X = np.stack([saved.feature_set.from_audio(sf.read(p, dtype="float32")[0], SR) for p in files])
    np.testing.assert_allclose(saved.estimator.predict_proba(X),
                               load_model(out, runtime="skops").estimator.predict_proba(X), atol=1e-9, rtol=0)


def test_a_folder_of_two_voices_is_adapted_voice_by_voice(model_dir, tmp_path, monkeypatch, capsys):
    # Two voices an octave apart, each with its sad and happy clips: as one source the low voice's
    # clips all sit low; each voice by its own statistics (pulled toward the folder's) places more.
    from serkit.models.artifacts import load_model

    pitch_voices(monkeypatch, below_hz=890)
    files = []
    for base_hz in (480, 960):
        for step in STEPS:
            for take in range(4):
                files.append(tmp_path / f"{base_hz}-{step}{take}-{label(step)}.wav")
                sf.write(files[-1], tone(base_hz, step, duration_s=1.0 + 0.05 * take), SR)
    truth = [path.stem.split("-")[2] for path in files]
    predictor = load_model(model_dir)
    by_voice = predictor.predict_batch(files, adapt=True)
    assert [item.result["voice"] for item in by_voice] == ["S1"] * 32 + ["S2"] * 32
    assert {item.result["adaptation"] for item in by_voice} == {"source"}
    as_one = predictor._predict_standardised(files, [path.name for path in files], [""] * len(files), None, None, None)
    right = sum(item.result["emotion"] == want for item, want in zip(by_voice, truth))
    assert right > sum(item["result"]["emotion"] == want for item, want in zip(as_one, truth)) and right >= 0.9 * len(files)
    # Given speakers are sources of their own, as before: no voice is looked for.
    given = predictor.predict_batch(files, adapt=True, speakers=[path.name.split("-")[0] for path in files])
    assert "voice" not in given[0].result and [item.result["emotion"] for item in given] == truth
    # A clip too short to carry a voice (under 0.3 s) is standardised with the batch's statistics, and named no voice.
    blip = tmp_path / "blip.wav"
    sf.write(blip, tone(960, 7, duration_s=0.2), SR)
    *rest, last = predictor.predict_batch([*files, blip], adapt=True)
    assert last.result["voice"] is None and [item.result["voice"] for item in rest] == ["S1"] * 32 + ["S2"] * 32
    blip.unlink()  # the CLI below reads the folder
    # A voice heard in enough files to keep its own statistics is checked for one emotion on its own.
    one_emotion = files[:32] + [tmp_path / f"960-0{take}-sad.wav" for take in range(4)] * 8
    with pytest.warns(AdaptationWarning, match="voice S2 varies little"):
        predictor.predict_batch(one_emotion, adapt=True)
    # The CLI names each file's voice: in the table, and as the speaker in CSV.
    command = ["predict", str(tmp_path), "--adapt", "--model", str(model_dir), "--segment", "fixed"]  # tones: no speech to detect
    assert main(command) == 0
    assert re.search(r"480-00-sad\.wav +sad .* voice S1\n", capsys.readouterr().out)
    assert main([*command, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {row["path"].split("/")[-1].split("-")[0]: row["speaker"] for row in rows} == {"480": "S1", "960": "S2"}


def pitch_voices(monkeypatch, below_hz):
    """A stand-in speaker embedder (CAM++ hears no voice in a tone): one voice under ``below_hz``, another above."""
    from serkit.inference.speakers import SpeakerEmbedder

    def embed(self, pieces, sr=16000, **_):
        peaks_hz = [np.argmax(np.abs(np.fft.rfft(y))) * sr / len(y) for y in pieces]
        return np.stack([np.eye(192)[0 if peak_hz < below_hz else 1] for peak_hz in peaks_hz]).astype(np.float32)

    monkeypatch.setattr(SpeakerEmbedder, "embed", embed)


def test_a_recordings_speakers_are_adapted_each_by_their_own(model_dir, tmp_path, monkeypatch):
    # Two voices three octaves apart taking turns, each with its sad and happy turns: with adapt, each
    # speaker found is standardised by their own statistics (pulled toward the recording's) and the
    # adapted head answers; the recording as one source places the low voice's turns all low.
    from serkit.models.artifacts import load_model

    pitch_voices(monkeypatch, below_hz=583)
    turns = [(base_hz, step) for step in STEPS for _ in range(4) for base_hz in (120, 960)]
    path = tmp_path / "talk.wav"
    sf.write(path, np.concatenate([tone(base_hz, step, duration_s=2.0) for base_hz, step in turns]), SR)
    predictor = load_model(model_dir)
    options = {"segment": "fixed", "window_s": 2.0, "hop_s": 2.0}  # tones: one window a turn
    [by_speaker] = predictor.predict_batch([path], adapt=True, diarize="auto", **options)
    [one_source] = predictor.predict_batch([path], adapt=True, **options)
    [plain] = predictor.predict_batch([path], diarize="auto", **options)
    segments = by_speaker.result["segments"]
    assert [segment["speaker"] for segment in segments] == ["S1", "S2"] * 32
    assert by_speaker.result["adaptation"] == "source" and plain.result["adaptation"] == "none"
    truth = [label(step) for _, step in turns]

    def right(item):
        return sum(segment["emotion"] == want for segment, want in zip(item.result["segments"], truth))

    assert right(by_speaker) > right(one_source)
    # Fewer pieces than an adaptation needs: refused with the count, as a recording adapted as one source is.
    short = tmp_path / "short.wav"
    sf.write(short, np.concatenate([tone(base_hz, step, duration_s=2.0) for base_hz, step in turns[:8]]), SR)
    [item] = predictor.predict_batch([short], adapt=True, diarize="auto", **options)
    assert "its pieces are the source" in item.error and "at least 16" in item.error


def test_a_long_recording_is_adapted_on_its_own_windows(model_dir):
    from serkit.models.artifacts import load_model

    y = np.concatenate([tone(960, step, duration_s=3.0) for step in (0, 0, *STEPS, 7, 7)])  # 30 s: 19 windows
    path = model_dir.parent / "long.wav"
    sf.write(path, y, SR)
    [item] = load_model(model_dir).predict_batch([path], adapt=True)
    emotions = [segment["emotion"] for segment in item.result["segments"]]
    assert emotions[0] == "sad" and emotions[-1] == "happy"
    assert item.result["adaptation"] == "source"


def test_a_long_recording_is_adapted_on_its_own_utterances(model_dir, tmp_path):
    # With speech detection (serkit predict's default) the statistics are the utterances', not
    # the windows' (pauses and all): 4 sentences a take, 4 takes make the 16 an adaptation needs.
    from test_speech import LONG_MIXED

    from serkit.core.audio import load_audio
    from serkit.inference.speech import find_speech
    from serkit.models.artifacts import load_model

    take, _ = load_audio(LONG_MIXED, sr=SR)
    pause = np.zeros(SR, dtype=np.float32)
    predictor = load_model(model_dir)
    for takes, usable in ((4, True), (3, False)):
        y = np.concatenate([part for _ in range(takes) for part in (take, pause)])
        path = tmp_path / f"takes{takes}.wav"
        sf.write(path, y, SR, subtype="FLOAT")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AdaptationWarning)  # four takes of one clip vary little
            [item] = predictor.predict_batch([path], adapt=True, segment="vad")
        utterances = find_speech(y, SR).utterances
        if usable:
            assert item.result["adaptation"] == "source"
            np.testing.assert_allclose([(s["start"], s["end"]) for s in item.result["segments"]],
                                       [(u.start, u.end) for u in utterances], atol=0.033)  # within a chunk
            assert item.result["speech_seconds"] == pytest.approx(sum(u.speech_s for u in utterances), abs=0.01)
        else:
            assert len(utterances) < 16 and "its utterances are the source" in item.error and "at least 16" in item.error
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(20 * SR, dtype=np.float32), SR)
    [item] = predictor.predict_batch([silence], adapt=True, segment="vad")
    assert item.result["no_speech"] and item.result["emotion"] is None


def test_a_file_without_speech_is_answered_and_left_out_of_the_statistics(model_dir, tmp_path):
    # With speech detection a hum is "no speech", as without --adapt; the speech adapts without it.
    from test_speech import LONG_MIXED

    from serkit.core.audio import load_audio
    from serkit.inference.speech import find_speech
    from serkit.models.artifacts import load_model

    y, _ = load_audio(LONG_MIXED, sr=SR)
    sentences = [y[round(u.start * SR):round(u.end * SR)] for u in find_speech(y, SR).utterances]
    pause = np.zeros(SR // 2, dtype=np.float32)
    files = []
    for take in range(4):
        for i, sentence in enumerate(sentences):
            files.append(tmp_path / f"{take}-{i}.wav")
            sf.write(files[-1], np.concatenate([pause, sentence * 0.8 ** take, pause]), SR)
    hum = tmp_path / "hum.wav"
    sf.write(hum, 0.1 * np.sin(2 * np.pi * 60 * np.arange(4 * SR) / SR).astype(np.float32), SR)
    predictor = load_model(model_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AdaptationWarning)  # four takes of four sentences vary little
        items = predictor.predict_batch([*files, hum], adapt=True, segment="vad")
        with_speech, skipped = predictor.source_statistics([*files, hum], segment="vad")
        everything, _ = predictor.source_statistics([*files, hum], segment="fixed")
    assert items[-1].result["no_speech"] and items[-1].result["emotion"] is None
    assert {item.result["adaptation"] for item in items[:-1]} == {"source"}
    assert with_speech.n_clips == len(files) and "no speech" in skipped[0].error
    assert everything.n_clips == len(files) + 1


def test_refusals(model_dir, new_source, tmp_path, capsys):
    from serkit.models.artifacts import load_model, save_model
    from serkit.models import make_model

    predictor = load_model(model_dir)
    # Too few clips: one short file has no windows to adapt on; fifteen files are one short of the minimum.
    [item] = predictor.predict_batch([sorted(new_source.iterdir())[0]], adapt=True)
    assert "0 usable clip(s)" in item.error and "at least 16" in item.error
    items = predictor.predict_batch(sorted(new_source.iterdir())[:15], adapt=True)
    assert all("the batch has 15 usable clip(s)" in item.error for item in items)
    # Mixed sample rates: different recording chains.
    sf.write(new_source / "phone.wav", tone(960, 2, sr=8000), 8000)
    with pytest.raises(ParameterError, match="different sample rates.*8000 Hz: 1 file"):
        predictor.predict_batch(sorted(new_source.iterdir()), adapt=True)
    assert main(["predict", str(new_source), "--adapt", "--model", str(model_dir)]) == 1
    assert "different sample rates" in capsys.readouterr().err
    (new_source / "phone.wav").unlink()
    # Silence: left out, with the reason; the others adapt.
    sf.write(new_source / "silence.wav", np.zeros(SR, dtype=np.float32), SR)
    statistics, skipped = predictor.source_statistics(sorted(new_source.iterdir()))
    assert statistics.n_clips == 16 and "silent" in skipped[0].error
    # A model that does not adapt.
    plain_dir = save_model(tmp_path / "plain", make_model("logreg").fit(np.eye(26)[:4].repeat(3, 0), ["a", "b"] * 6),
                           predictor.feature_set)
    with pytest.raises(ParameterError, match="without source adaptation"):
        load_model(plain_dir).predict_batch([new_source / "0-sad.wav"], adapt=True)
    with pytest.raises(ArtifactError, match="not an adapted model"):
        from serkit.models.artifacts import save_adapted

        save_adapted(plain_dir, statistics, tmp_path / "x", source="test")


def test_a_one_emotion_batch_warns(model_dir, tmp_path):
    from serkit.models.artifacts import load_model

    folder = tmp_path / "all-sad"
    folder.mkdir()
    for index in range(16):
        sf.write(folder / f"{index}.wav", tone(960, 0) * (1 + 0.01 * index), SR)
    predictor = load_model(model_dir)
    with pytest.warns(AdaptationWarning, match="varies little"):
        predictor.predict_batch(sorted(folder.iterdir()), adapt=True)


def test_metadata_adaptation_block_is_validated(tmp_path):
    from serkit.models.artifacts import validate_metadata

    base = {"format_version": 1, "versions": {"serkit": "0.2.0"}, "model": "m", "labels": ["a"], "speaker_norm": False,
            "feature_set": {"name": "seed26", "params": {}}}
    with pytest.raises(ArtifactError, match="adaptation must be"):
        validate_metadata("m/metadata.json", {**base, "adaptation": {"train_grain": "corpus", "min_clips": 1}})
    good = {"train_grain": "corpus", "min_clips": 16, "spread_floor": 0.4, "statistics": {"source": "x", "n_clips": 9}}
    assert validate_metadata("m/metadata.json", {**base, "adaptation": good})["adaptation"] == good


def test_source_statistics_round_trip(rng):
    X = rng.normal(2.0, 3.0, (12, 4))
    stats = SourceStatistics.of(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(stats.apply(X).mean(axis=0), 0.0, atol=1e-12)
