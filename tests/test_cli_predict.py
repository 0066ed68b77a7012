"""``serkit predict`` and ``serkit demo`` on a real saved model (seed26 + logreg on synthetic tones)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import soundfile as sf
from conftest import make_tone

from serkit.cli import main

SR = 22050
LOW, HIGH = (110, 140, 170, 200), (600, 700, 800, 900)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """Low tones are 'sad', high tones 'happy'."""
    from serkit.models.artifacts import save_model
    from serkit.features import get_feature_set
    from serkit.models import make_model

    fs = get_feature_set("seed26")
    X, y = [], []
    for freq in LOW + HIGH:
        for amplitude in (0.1, 0.3):
            X.append(fs.from_audio(make_tone(freq_hz=freq, sr=SR, amplitude=amplitude), SR))
            y.append("sad" if freq in LOW else "happy")
    model = make_model("logreg").fit(np.array(X), np.array(y))
    return save_model(tmp_path_factory.mktemp("model"), model, fs)


def swelling_tone(freq_hz: float, sr: int) -> np.ndarray:
    """A tone that swells and fades: one at a constant level piles its magnitudes up at its peak, as a clipped recording does."""
    y = make_tone(freq_hz=freq_hz, sr=sr)
    return (y * np.hanning(y.size)).astype(np.float32)


@pytest.fixture
def clips(tmp_path):
    folder = tmp_path / "speaker_a"
    folder.mkdir()
    sf.write(folder / "low.wav", swelling_tone(150, 48000), 48000)
    sf.write(folder / "high.flac", swelling_tone(750, 16000), 16000)
    (folder / "broken.wav").write_bytes(b"RIFF junk that is not a wave file")
    (folder / "notes.txt").write_text("not audio, not collected from a folder")
    return folder


def run_json(capsys, *argv) -> tuple[int, list]:
    """``serkit predict --json`` with fixed windows: these clips are tones, not speech (test_speech.py has speech)."""
    code = main(["predict", *argv, "--json", "--segment", "fixed"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_json_shape_and_failed_file(capsys, model_dir, clips):
    code, items = run_json(capsys, str(clips), "--model", str(model_dir))
    assert code == 0
    by_name = {item["path"].rsplit("/", 1)[-1]: item for item in items}
    assert set(by_name) == {"low.wav", "high.flac", "broken.wav"}  # folder walked for audio only
    assert set(by_name["low.wav"]) == {"path", "emotion", "probabilities", "familiarity", "caution", "duration", "adaptation"}
    assert by_name["low.wav"]["adaptation"] == "none"  # a model without source adaptation
    assert by_name["low.wav"]["emotion"] == "sad"
    assert by_name["high.flac"]["emotion"] == "happy"
    assert set(by_name["low.wav"]["probabilities"]) == {"happy", "sad"}
    assert sum(by_name["high.flac"]["probabilities"].values()) == pytest.approx(1.0)
    assert set(by_name["broken.wav"]) == {"path", "error"}
    assert "not readable as audio" in by_name["broken.wav"]["error"]


def test_long_file_gets_segments(capsys, model_dir, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate([make_tone(freq_hz=150, duration_s=4, sr=SR), make_tone(freq_hz=750, duration_s=4, sr=SR)]), SR)
    code, [item] = run_json(capsys, str(path), "--model", str(model_dir), "--window", "2", "--hop", "1")
    assert code == 0
    assert [s["start"] for s in item["segments"]] == [float(i) for i in range(7)]
    assert item["segments"][0]["emotion"] == "sad" and item["segments"][-1]["emotion"] == "happy"
    assert set(item["segments"][0]) == {"start", "end", "emotion", "probabilities", "familiarity", "caution", "speaker"}
    assert set(item["summary"]["seconds"]) == {"happy", "sad"}
    assert sum(item["summary"]["seconds"].values()) == pytest.approx(8.0, abs=0.01)
    assert item["summary"]["dominant"] in ("happy", "sad")


def test_table_shows_the_summary(capsys, model_dir, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.concatenate([make_tone(freq_hz=150, duration_s=6, sr=SR), make_tone(freq_hz=750, duration_s=3, sr=SR)]), SR)
    assert main(["predict", str(path), "--model", str(model_dir), "--segment", "fixed"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert "summary: mostly sad" in last and "of 9.0 s" in last and "happy" in last


@pytest.mark.timeout(20)
def test_absurd_hop_is_one_line_at_once(capsys, model_dir, clips):
    assert main(["predict", str(clips / "low.wav"), "--hop", "1e-300", "--model", str(model_dir)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "at least 0.1 s" in err


@pytest.mark.parametrize("scale", [1e20, 1e30])
def test_a_huge_file_does_not_lose_the_good_one(capsys, model_dir, clips, tmp_path, scale):
    huge = tmp_path / "huge.wav"
    sf.write(huge, make_tone(freq_hz=150, sr=SR) * scale, SR, subtype="FLOAT")
    code = main(["predict", str(huge), str(clips / "high.flac"), "--model", str(model_dir), "--segment", "fixed"])
    captured = capsys.readouterr()
    assert code == 0
    huge_line, good_line = captured.out.splitlines()
    assert "failed: samples reach" in huge_line
    assert "happy" in good_line and "%" in good_line
    assert "1 predicted, 1 failed" in captured.err


def test_table_output(capsys, model_dir, clips):
    code = main(["predict", str(clips / "low.wav"), str(clips / "broken.wav"), "--model", str(model_dir), "--segment", "fixed"])
    captured = capsys.readouterr()
    assert code == 0
    lines = captured.out.splitlines()
    assert "sad" in lines[0] and "%" in lines[0]
    assert lines[1].endswith("failed: not readable as audio (format not recognised, or a broken file)")
    assert "1 predicted, 1 failed" in captured.err


def test_a_folder_without_audio_is_named_while_the_rest_is_predicted(capsys, model_dir, clips, tmp_path):
    empty = tmp_path / "no-audio"
    empty.mkdir()
    (empty / "readme.txt").write_text("not audio")
    assert main(["predict", str(empty), str(clips / "low.wav"), "--model", str(model_dir), "--json", "--segment", "fixed"]) == 0
    captured = capsys.readouterr()
    assert [item["emotion"] for item in json.loads(captured.out)] == ["sad"]
    assert captured.err.splitlines() == [f"no audio files in {empty}"]


@pytest.mark.parametrize("columns, cut", [(300, False), (60, True)])
def test_table_paths_fit_the_terminal_width(capsys, model_dir, tmp_path, monkeypatch, columns, cut):
    folder = tmp_path / ("a-long-folder-name-" * 5)
    folder.mkdir()
    sf.write(folder / "low.wav", swelling_tone(150, SR), SR)
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["predict", str(folder / "low.wav"), "--model", str(model_dir), "--segment", "fixed"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("…" if cut else str(folder / "low.wav"))
    assert len(line) <= columns if cut else "sad" in line


def test_table_names_files_relative_to_the_folder_given(capsys, model_dir, clips, tmp_path, monkeypatch):
    (clips / "quiet").mkdir()
    sf.write(clips / "quiet" / "low.wav", make_tone(freq_hz=150, sr=SR, amplitude=0.05), SR)
    sf.write(tmp_path / "given.wav", make_tone(freq_hz=150, sr=SR), SR)
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["predict", str(clips), str(tmp_path / "given.wav"), "--model", str(model_dir)]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == ["broken.wav", "high.flac", "low.wav", "quiet/low.wav", str(tmp_path / "given.wav")]


def test_nothing_predicted_exits_1(capsys, model_dir, clips):
    code, items = run_json(capsys, str(clips / "broken.wav"), str(clips / "missing.wav"), "--model", str(model_dir))
    assert code == 1
    assert all("error" in item for item in items)


def test_user_errors_are_one_line(capsys, model_dir, tmp_path):
    assert main(["predict", str(tmp_path), "--model", str(model_dir)]) == 1  # empty folder
    assert capsys.readouterr().err.splitlines() == [f"serkit predict: error: no audio files in {tmp_path}"]
    assert main(["predict", "x.wav", "--model", str(tmp_path / "nope")]) == 1
    assert "no such model directory" in capsys.readouterr().err
    assert main(["predict", "x.wav", "--speaker-from", "actor", "--model", str(model_dir)]) == 1
    assert "--manifest" in capsys.readouterr().err


def test_speaker_normalised_model_with_folders_and_manifest(capsys, tmp_path):
    from serkit.models.artifacts import save_model
    from serkit.features import get_feature_set
    from serkit.models import make_model
    from serkit.features.adaptation import SourceAdapter

    fs = get_feature_set("seed26")
    X, y, groups = [], [], []
    for speaker, base in (("a", 120), ("b", 480)):
        for step in range(6):
            X.append(fs.from_audio(make_tone(freq_hz=base * 1.1**step, sr=SR), SR))
            y.append("sad" if step < 3 else "happy")  # the lower half of each speaker's range
            groups.append(speaker)
    model = make_model("logreg").fit(SourceAdapter().fit_transform(np.array(X), groups), np.array(y))
    model_dir = save_model(tmp_path / "norm-model", model, fs, speaker_norm=True)

    rows = ["path,actor"]
    for speaker, base in (("c", 150), ("d", 400)):
        (tmp_path / speaker).mkdir()
        for step in (0, 1, 4, 5):
            sf.write(tmp_path / speaker / f"{step}.wav", make_tone(freq_hz=base * 1.1**step, sr=SR), SR)
            rows.append(f"{speaker}/{step}.wav,{speaker}")
    (tmp_path / "clips.csv").write_text("\n".join(rows) + "\n")

    code, items = run_json(capsys, str(tmp_path / "c"), str(tmp_path / "d"), "--model", str(model_dir), "--speaker-from", "folder")
    assert code == 0
    assert [item["emotion"] for item in items] == ["sad", "sad", "happy", "happy"] * 2
    code, items = run_json(capsys, "--manifest", str(tmp_path / "clips.csv"), "--speaker-from", "actor", "--model", str(model_dir))
    assert code == 0
    assert [item["emotion"] for item in items] == ["sad", "sad", "happy", "happy"] * 2
    assert main(["predict", str(tmp_path / "c"), "--model", str(model_dir)]) == 1
    assert "--speaker-from" in capsys.readouterr().err


def test_demo_predicts_the_examples(capsys, model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SERKIT_DATA_DIR", str(tmp_path))  # no downloaded corpus
    assert main(["demo", "--model", str(model_dir)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[2].split() == ["intended", "delivery", "predicted", "(then", "the", "runner-up)"]
    rows = {line.split()[0]: line.split() for line in lines[3:] if line and not line.startswith(" ")}
    assert set(rows) == {"angry", "calm", "calm→happy→angry→sad", "happy", "sad"}
    assert rows["happy"][1] == "fast-high" and rows["happy"][2] in ("happy", "sad")  # the tone model's two emotions
    assert "s " in captured.out.split("long-mixed", 1)[1]  # the long example's timeline
    assert "serkit download ravdess" in captured.err


def test_demo_evaluates_a_corpus(capsys, model_dir, tmp_path, monkeypatch):
    # A miniature RAVDESS of tones: 5 actors x 2 emotions x 2 clips; the evaluation is
    # speaker-independent and the tones are easy, so it must be well above chance.
    monkeypatch.setenv("SERKIT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "ravdess"
    for actor in range(1, 6):
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True)
        for code, freqs in (("04", LOW), ("03", HIGH)):
            for repetition, freq in enumerate(freqs[:3], start=1):
                name = f"03-01-{code}-01-01-{repetition:02d}-{actor:02d}.wav"
                sf.write(folder / name, make_tone(freq_hz=freq * (1 + 0.03 * actor), sr=SR), SR)
    assert main(["demo", "--model", str(model_dir), "--data", str(root), "--eval-model", "logreg", "--set", "seed26"]) == 0
    out = capsys.readouterr().out
    assert "speaker" in out and "mean ± std" in out
    summary = out.split("mean ± std", 1)[1].split()  # accuracy "m ± s", then UA "m ± s", ...
    ua = float(summary[3])
    assert ua > 80


@pytest.mark.shared
def test_bundled_model_on_original_48k_files(capsys, ravdess_48k_actor):
    from serkit.models.artifacts import DEFAULT_MODEL_DIR, MANIFEST_FILE

    if not (DEFAULT_MODEL_DIR / MANIFEST_FILE).is_file():
        pytest.skip("the bundled model is not installed yet")
    stereo = ["03-01-02-01-01-02-01.wav", "03-01-08-01-02-02-01.wav"]
    mono = ["03-01-05-02-01-01-01.wav", "03-01-04-01-01-01-01.wav"]
    code, items = run_json(capsys, *(str(ravdess_48k_actor / name) for name in stereo + mono))
    assert code == 0
    assert [item["path"].rsplit("/", 1)[-1] for item in items] == stereo + mono
    for item in items:
        assert "error" not in item
        assert len(item["probabilities"]) == 8
        assert sum(item["probabilities"].values()) == pytest.approx(1.0)


def test_speakers_flag(capsys, model_dir, tmp_path):
    path = tmp_path / "two.wav"
    sf.write(path, np.concatenate([make_tone(freq_hz=150, duration_s=3, sr=SR), make_tone(freq_hz=750, duration_s=3, sr=SR)]), SR)
    assert main(["predict", str(path), "--model", str(model_dir), "--speakers", "many"]) == 1
    assert capsys.readouterr().err.splitlines() == ["serkit predict: error: speakers='many' must be 'auto', 'channels' or a number of speakers"]
    code, [item] = run_json(capsys, str(path), "--model", str(model_dir), "--window", "3", "--hop", "3", "--speakers", "2")
    assert code == 0
    assert {segment["speaker"] for segment in item["segments"]} == set(item["speakers"]) == {"S1", "S2"}
    assert main(["predict", str(path), "--model", str(model_dir), "--segment", "fixed", "--window", "3", "--hop", "3", "--speakers", "2"]) == 0
    assert "S2: summary: mostly" in capsys.readouterr().out


def test_speakers_auto_in_noise_prints_a_caution(capsys, model_dir, tmp_path):
    from test_speakers import noisy_example

    _, noisy = noisy_example(tmp_path)
    assert main(["predict", str(noisy), "--model", str(model_dir), "--segment", "vad", "--speakers", "auto"]) == 0
    assert re.search(r"caution: this recording is noisy \(its speech 1\d dB over the noise between words\)",
                     capsys.readouterr().out)
    assert main(["predict", str(noisy), "--model", str(model_dir), "--segment", "vad", "--speakers", "auto", "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["speakers_caution"].startswith("this recording is noisy")


def test_speakers_channels_prints_each_party_of_a_call(capsys, model_dir, tmp_path):
    from test_speakers import call_recording

    call_recording(tmp_path / "call.wav")
    assert main(["predict", str(tmp_path / "call.wav"), "--model", str(model_dir), "--speakers", "channels", "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert [segment["speaker"] for segment in item["segments"]] == ["channel 1", "channel 2", "channel 1", "channel 2"]
    assert main(["predict", str(tmp_path / "call.wav"), "--model", str(model_dir), "--speakers", "channels"]) == 0
    assert "channel 2: summary" in capsys.readouterr().out
    assert main(["predict", str(tmp_path / "call.wav"), "--model", str(model_dir), "--speakers", "channels",
                 "--segment", "fixed"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "serkit predict: error: --speakers channels finds each channel's utterances: leave out --segment fixed"]


def test_predicts_what_phones_and_browsers_record(capsys, model_dir, tmp_path):
    from conftest import RECORDER_FORMATS, encode_recorder_format

    for ending in RECORDER_FORMATS:
        encode_recorder_format(tmp_path / f"high.{ending}", make_tone(freq_hz=750, sr=48000))
    whole = (tmp_path / "high.m4a").read_bytes()
    (tmp_path / "broken.webm").write_bytes(whole[: len(whole) // 2])
    code, items = run_json(capsys, str(tmp_path), str(tmp_path / "high.mp4"), "--model", str(model_dir))
    by_name = {item["path"].rsplit("/", 1)[-1]: item for item in items}
    # the folder gives the audio endings; a video ending (.mp4) is read when named
    assert code == 0 and len(items) == len(by_name) == len(RECORDER_FORMATS) + 1
    assert set(by_name) == {f"high.{ending}" for ending in RECORDER_FORMATS} | {"broken.webm"}
    assert all(by_name[f"high.{ending}"]["emotion"] == "happy" for ending in RECORDER_FORMATS)
    assert by_name["broken.webm"]["error"].endswith("broken.webm: not readable as audio (format not recognised, or a broken file)")
