"""serkit.inference.predictor: known-answer predictions from a tiny pitch model on synthetic tones."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from conftest import make_tone
from sklearn.linear_model import LogisticRegression

from serkit.core.exceptions import AudioError, ParameterError
from serkit.features.base import FeatureSet
from serkit.inference.predictor import MAX_WINDOWS, Predictor, window_starts, window_weights

SR = 16000


class PitchFeatures(FeatureSet):
    """Two cheap features: log2 of the strongest frequency and the RMS level in dB."""

    name = "test-pitch"
    sr = SR

    def from_audio(self, y, sr):
        spectrum = np.abs(np.fft.rfft(y))
        peak_hz = np.fft.rfftfreq(y.size, 1 / sr)[np.argmax(spectrum[1:]) + 1]
        return np.array([np.log2(peak_hz), 20 * np.log10(np.sqrt(np.mean(y**2)) + 1e-9)])


def make_predictor(**metadata) -> Predictor:
    """Low tones (100-200 Hz) are 'sad', high ones (500-900 Hz) 'happy'."""
    features = PitchFeatures()
    X, y = [], []
    for freq in (100, 130, 160, 200, 500, 600, 750, 900):
        for amplitude in (0.1, 0.3):
            X.append(features.from_audio(make_tone(freq_hz=freq, sr=SR, amplitude=amplitude), SR))
            y.append("sad" if freq < 300 else "happy")
    model = LogisticRegression(C=10.0).fit(np.array(X), y)
    return Predictor(model, features, metadata={"name": "test-pitch-logreg", **metadata})


def low_then_high(seconds_each: float = 5.0) -> np.ndarray:
    return np.concatenate(
        [make_tone(freq_hz=150, duration_s=seconds_each, sr=SR), make_tone(freq_hz=700, duration_s=seconds_each, sr=SR)]
    )


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return make_predictor()


def test_short_clip_has_no_timeline(predictor):
    result = predictor.predict_audio(make_tone(freq_hz=700, duration_s=2.0, sr=SR), SR)
    assert result["emotion"] == "happy"
    assert set(result["probabilities"]) == {"happy", "sad"}
    assert sum(result["probabilities"].values()) == pytest.approx(1.0)
    assert result["duration"] == pytest.approx(2.0)
    assert result["segments"] == []


def test_resamples_to_the_feature_rate(predictor):
    result = predictor.predict_audio(make_tone(freq_hz=150, duration_s=1.0, sr=44100), 44100)
    assert result["emotion"] == "sad"
    assert result["duration"] == pytest.approx(1.0, abs=1e-3)


def test_timeline_follows_the_change(predictor):
    result = predictor.predict_audio(low_then_high(), SR, window_s=2.0, hop_s=1.0)
    segments = result["segments"]
    assert [s["start"] for s in segments] == [float(i) for i in range(9)]
    assert all(s["end"] - s["start"] == pytest.approx(2.0) for s in segments)
    # windows wholly in the first half are low (sad), wholly in the second half high (happy)
    assert [s["emotion"] for s in segments if s["end"] <= 5.0] == ["sad"] * 4
    assert [s["emotion"] for s in segments if s["start"] >= 5.0] == ["happy"] * 4
    for segment in segments:
        assert sum(segment["probabilities"].values()) == pytest.approx(1.0)


def test_windows_reach_the_model_in_bounded_batches(predictor, monkeypatch):
    import serkit.inference.predictor

    monkeypatch.setattr(serkit.inference.predictor, "WINDOWS_PER_BATCH", 4)
    calls = []
    original = predictor.estimator.predict_proba
    monkeypatch.setattr(predictor.estimator, "predict_proba", lambda X: calls.append(len(X)) or original(X))
    result = predictor.predict_audio(low_then_high(), SR, window_s=2.0, hop_s=1.0)
    # windows only (no pass over the whole clip), at most 4 per call
    assert calls == [4, 4, 1] and len(result["segments"]) == 9


@pytest.mark.parametrize(
    ("duration", "expected"),
    [(4.4, []), (4.5, [0.0, 1.5]), (6.0, [0.0, 1.5, 3.0]), (10.0, [0.0, 1.5, 3.0, 4.5, 6.0, 7.0])],
)
def test_window_starts_cover_the_clip(duration, expected):
    assert window_starts(duration, window_s=3.0, hop_s=1.5) == expected


def test_predict_file_reads_any_rate(predictor, tmp_path):
    path = tmp_path / "high.wav"
    sf.write(path, make_tone(freq_hz=800, duration_s=1.5, sr=48000), 48000)
    assert predictor.predict_file(path)["emotion"] == "happy"


def test_predict_file_refuses_silence_and_long_audio(predictor, tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, dtype=np.float32), SR)
    with pytest.raises(AudioError, match="silent"):
        predictor.predict_file(silent)
    with pytest.raises(AudioError, match="too long"):
        predictor.predict_file(silent, max_duration_s=0.5)


def test_batch_reports_failures_and_predicts_the_rest(predictor, tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, make_tone(freq_hz=150, duration_s=1.0, sr=SR), SR)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not audio at all" * 100)
    items = predictor.predict_batch([garbage, good, tmp_path / "missing.wav"])
    assert [item.error is None for item in items] == [False, True, False]
    assert "not readable as audio" in items[0].error
    assert "file not found" in items[2].error
    assert items[1].to_dict()["emotion"] == "sad"
    assert items[1].to_dict()["path"] == str(good)


def test_batch_on_threads_keeps_the_order_and_the_answers(predictor, tmp_path):
    paths = []
    for i, freq in enumerate((150, 700, 120, 800, 650)):
        paths.append(tmp_path / f"{i}.wav")
        sf.write(paths[-1], make_tone(freq_hz=freq, duration_s=1.0, sr=SR), SR)
    paths.insert(2, tmp_path / "missing.wav")
    alone = [item.to_dict() for item in predictor.predict_batch(paths, n_jobs=1)]
    threaded = [item.to_dict() for item in predictor.predict_batch(paths, n_jobs=3, progress=True)]
    assert threaded == alone
    assert [item["emotion"] for item in threaded if "error" not in item] == ["sad", "happy", "sad", "happy", "happy"]
    assert "file not found" in threaded[2]["error"]


def test_batch_speaker_normalisation(tmp_path):
    # Each speaker's clips are standardised with that speaker's own statistics, so a
    # speaker-normalised model sees the same rows whatever the speaker's overall pitch.
    from serkit.features.adaptation import SourceAdapter

    features = PitchFeatures()
    freqs = {"low": (100, 120, 140, 160), "high": (400, 480, 560, 640)}
    X, y, groups = [], [], []
    for speaker, values in freqs.items():
        for index, freq in enumerate(values):
            X.append(features.from_audio(make_tone(freq_hz=freq, sr=SR), SR))
            y.append("sad" if index < 2 else "happy")  # the lower half of each speaker's range
            groups.append(speaker)
    X = SourceAdapter().fit_transform(np.array(X), groups)
    predictor = Predictor(LogisticRegression(C=10.0).fit(X, y), features, metadata={"speaker_norm": True})
    paths, speakers = [], []
    for speaker, values in (("new-low", (90, 110, 150, 170)), ("new-high", (380, 470, 580, 660))):
        for freq in values:
            paths.append(tmp_path / f"{speaker}-{freq}.wav")
            sf.write(paths[-1], make_tone(freq_hz=freq, sr=SR), SR)
            speakers.append(speaker)
    items = predictor.predict_batch(paths, speakers=speakers)
    assert [item.result["emotion"] for item in items] == ["sad", "sad", "happy", "happy"] * 2

    lonely = predictor.predict_batch(paths[:3], speakers=["a", "a", "b"])
    assert lonely[2].error is not None and "at least 2" in lonely[2].error
    assert lonely[0].error is None
    with pytest.raises(ParameterError, match="speaker"):
        predictor.predict_batch(paths)
    with pytest.raises(ParameterError, match="speaker"):
        predictor.predict_audio(make_tone(sr=SR), SR)


@pytest.mark.parametrize(
    ("window", "hop", "match"),
    [
        (0, 1, "window_s"),
        (3, -1, "hop_s"),
        (2, 3, "must not exceed"),
        (0.1, 0.1, "use 0.5 to 60 s"),
        (120, 1, "use 0.5 to 60 s"),
        (3, 0.05, "at least 0.1 s"),
        (3, 1e-300, "at least 0.1 s"),
    ],
)
def test_bad_windows_are_parameter_errors(predictor, window, hop, match):
    with pytest.raises(ParameterError, match=match):
        predictor.predict_audio(make_tone(sr=SR), SR, window_s=window, hop_s=hop)


def test_bad_samples_are_audio_errors(predictor):
    with pytest.raises(AudioError, match="too short"):
        predictor.predict_audio(np.ones(100, dtype=np.float32), SR)
    with pytest.raises(AudioError, match="mono"):
        predictor.predict_audio(np.ones((2, SR), dtype=np.float32), SR)
    with pytest.raises(AudioError, match="non-finite"):
        predictor.predict_audio(np.full(SR, np.nan, dtype=np.float32), SR)


def test_describe_lists_the_model(predictor):
    description = predictor.describe()
    assert description["name"] == "test-pitch-logreg"
    assert description["emotions"] == ["happy", "sad"]
    assert description["feature_set"]["name"] == "test-pitch"
    assert description["speaker_norm"] is False


def test_batch_refuses_bad_windows_once(predictor, tmp_path):
    with pytest.raises(ParameterError, match="must not exceed"):
        predictor.predict_batch([tmp_path / "a.wav"], window_s=2.0, hop_s=3.0)


def test_probabilities_are_listed_in_ravdess_order():
    from serkit.core.labels import EMOTIONS

    class Level(FeatureSet):
        name = "level"

        def from_audio(self, y, sr):
            return np.array([np.abs(y).max()])

    # The model's classes_ are alphabetical (angry, calm, …); the answer is not.
    X = np.linspace(0.05, 0.8, 16)[:, None]
    model = LogisticRegression().fit(X, np.array(EMOTIONS * 2)[np.argsort(np.r_[np.arange(8), np.arange(8)])])
    result = Predictor(model, Level()).predict_audio(make_tone(amplitude=0.4), 22050)
    assert list(model.classes_) == sorted(EMOTIONS)
    assert list(result["probabilities"]) == list(EMOTIONS)
    assert result["emotion"] == max(result["probabilities"], key=result["probabilities"].get)


@pytest.mark.timeout(10)
def test_absurd_hop_answers_at_once(predictor, tmp_path):
    path = tmp_path / "clip.wav"
    sf.write(path, make_tone(freq_hz=150, duration_s=3.8, sr=SR), SR)
    for call in (predictor.predict_file, lambda p, **kw: predictor.predict_batch([p], **kw)):
        with pytest.raises(ParameterError, match="at least 0.1 s"):
            call(path, hop_s=1e-300)


@pytest.mark.timeout(10)
def test_window_count_is_capped_before_decoding(predictor, tmp_path):
    with pytest.raises(ParameterError, match=f"more than the limit of {MAX_WINDOWS}; use a hop of at least 0.36 s"):
        window_starts(3600.0, window_s=3.0, hop_s=0.1)
    path = tmp_path / "long.wav"  # 1100 s at 1 kHz: 10 971 windows at the shortest hop
    sf.write(path, np.zeros(1_100_000, dtype=np.int16), 1000, subtype="PCM_16")
    with pytest.raises(ParameterError, match="10971 timeline windows over 1100.0 s, more than the limit"):
        predictor.predict_file(path, hop_s=0.1)
    [item] = predictor.predict_batch([str(path)], hop_s=0.1)
    assert item.to_dict()["error"].startswith(f"{path}: hop_s=0.1 gives 10971 timeline windows")


def test_window_weights_count_each_second_once():
    spans = [(start, start + 3.0) for start in window_starts(10.0, window_s=3.0, hop_s=1.5)]
    weights = window_weights(spans)
    assert weights.sum() == pytest.approx(10.0)
    assert weights[0] == pytest.approx(1.5 + 0.75)  # alone for 1.5 s, then shared with one other window
    assert np.all(weights > 0)


def test_whole_clip_answer_is_the_weighted_mean_of_the_windows(predictor):
    result = predictor.predict_audio(low_then_high(seconds_each=4.0), SR, window_s=2.0, hop_s=0.75)
    segments = result["segments"]
    spans = [(segment["start"], segment["end"]) for segment in segments]
    weights = window_weights(spans)
    emotions = list(result["probabilities"])
    mean = weights @ np.array([[segment["probabilities"][e] for e in emotions] for segment in segments]) / weights.sum()
    assert [result["probabilities"][e] for e in emotions] == pytest.approx(list(mean))
    assert result["emotion"] == emotions[int(np.argmax(mean))]
    summary = result["summary"]
    assert sum(summary["seconds"].values()) == pytest.approx(result["duration"], abs=0.01)
    assert summary["seconds"]["sad"] == pytest.approx(4.0, abs=0.8)
    assert summary["dominant"] == max(summary["seconds"], key=summary["seconds"].get)


def test_short_clip_has_no_summary(predictor):
    assert predictor.predict_audio(make_tone(freq_hz=700, duration_s=2.0, sr=SR), SR)["summary"] is None


def test_streamed_long_file_matches_the_in_memory_path(predictor, tmp_path):
    from serkit.core.audio import load_audio

    rng = np.random.default_rng(0)
    minutes = [make_tone(freq_hz=f, duration_s=30.0, sr=44100, amplitude=a) for f, a in ((150, 0.2), (700, 0.3), (120, 0.1), (900, 0.2))]
    y = np.concatenate(minutes) + 0.003 * rng.standard_normal(4 * 30 * 44100).astype(np.float32)
    path = tmp_path / "two-minutes.wav"
    sf.write(path, y, 44100, subtype="PCM_16")  # 44.1 kHz: resampled block by block to 16 kHz
    streamed = predictor.predict_file(path)
    in_memory = predictor.predict_audio(*load_audio(path, sr=SR))
    assert streamed["duration"] == in_memory["duration"] == pytest.approx(120.0)
    assert len(streamed["segments"]) == len(in_memory["segments"]) == 79
    for a, b in zip(streamed["segments"] + [streamed], in_memory["segments"] + [in_memory]):
        assert a["emotion"] == b["emotion"]
        assert list(a["probabilities"].values()) == pytest.approx(list(b["probabilities"].values()), abs=1e-4)
    assert streamed["summary"] == in_memory["summary"]


@pytest.mark.parametrize("scale", [1e20, 1e25, 1e30])
def test_a_huge_float_file_fails_alone(predictor, tmp_path, scale):
    huge = tmp_path / "huge.wav"
    sf.write(huge, (make_tone(freq_hz=150, duration_s=6.0, sr=SR) * scale).astype(np.float32), SR, subtype="FLOAT")
    good = tmp_path / "good.wav"
    sf.write(good, make_tone(freq_hz=700, duration_s=1.0, sr=SR), SR)
    items = predictor.predict_batch([huge, good])
    assert "beyond any recording" in items[0].error
    assert items[1].error is None and items[1].result["emotion"] == "happy"


def test_non_finite_features_fail_that_file_only(tmp_path):
    class FragileFeatures(PitchFeatures):
        level = None  # the loud file is told apart by its amplitude as recorded

        def from_audio(self, y, sr):
            features = super().from_audio(y, sr)
            return features * np.nan if np.max(np.abs(y)) > 0.5 else features

    base = make_predictor()
    fragile = Predictor(base.estimator, FragileFeatures())
    loud, good = tmp_path / "loud.wav", tmp_path / "good.wav"
    sf.write(loud, make_tone(freq_hz=150, duration_s=1.0, sr=SR, amplitude=0.9), SR)
    sf.write(good, make_tone(freq_hz=150, duration_s=1.0, sr=SR), SR)
    items = fragile.predict_batch([loud, good])
    assert "NaN or infinite" in items[0].error
    assert items[1].result["emotion"] == "sad"


# -- headers that lie, and silence found before the windows ---------------------------


class CountingPitchFeatures(PitchFeatures):
    """:class:`PitchFeatures` that count the clips and windows they are computed on."""

    calls = 0

    def from_audio(self, y, sr):
        type(self).calls += 1
        return super().from_audio(y, sr)


def counting_predictor() -> Predictor:
    predictor = make_predictor()
    CountingPitchFeatures.calls = 0
    predictor.feature_set = CountingPitchFeatures()
    return predictor


def test_an_mp3_claiming_288_s_is_analysed_over_its_real_3_8_s(tmp_path):
    from conftest import lying_mp3

    path = lying_mp3(tmp_path / "lying.mp3", make_tone(freq_hz=700, duration_s=3.8, sr=22050), 22050, claimed_s=288)
    predictor = counting_predictor()
    results = [predictor.predict_file(path, window_s=1.0, hop_s=1.0) for _ in range(5)]
    assert all(result == results[0] for result in results)  # deterministic: no stale memory
    assert CountingPitchFeatures.calls == 5 * 3 + 5  # windows at 0, 1 and 2 s, then one ending at 3.8 s
    assert results[0]["duration"] == pytest.approx(3.8, abs=0.1) and results[0]["segments"][-1]["end"] == results[0]["duration"]
    assert results[0]["emotion"] == "happy"


def test_a_160_hour_claim_costs_what_the_file_holds(tmp_path):
    from conftest import lying_mp3

    path = lying_mp3(tmp_path / "lying.mp3", make_tone(freq_hz=150, duration_s=3.8, sr=22050), 22050, claimed_s=160 * 3600)
    predictor = counting_predictor()
    result = predictor.predict_file(path, window_s=60, hop_s=60)
    assert result["segments"] == [] and result["emotion"] == "sad" and CountingPitchFeatures.calls == 1
    with pytest.raises(ParameterError, match="timeline windows"):  # the default hop: refused from the claim, before decoding
        predictor.predict_file(path)


def test_silent_windows_cost_no_features(tmp_path):
    silent = tmp_path / "silent.flac"
    sf.write(silent, np.zeros(299 * SR, dtype=np.float32), SR)
    predictor = counting_predictor()
    with pytest.raises(AudioError, match="silent.flac: silent"):
        predictor.predict_file(silent, hop_s=0.1)
    assert CountingPitchFeatures.calls == 0


def test_silent_stretches_are_left_out_of_the_timeline(tmp_path):
    y = np.concatenate([make_tone(freq_hz=150, duration_s=4.0, sr=SR), np.zeros(10 * SR, np.float32),
                        make_tone(freq_hz=700, duration_s=4.0, sr=SR)])
    predictor = counting_predictor()
    result = predictor.predict_audio(y, SR, window_s=2.0, hop_s=1.0)
    starts = [segment["start"] for segment in result["segments"]]
    assert starts == [0.0, 1.0, 2.0, 3.0, 13.0, 14.0, 15.0, 16.0]  # windows wholly inside the 4-14 s silence are gone
    assert CountingPitchFeatures.calls == len(starts)
    assert result["duration"] == pytest.approx(18.0)
    assert sum(result["summary"]["seconds"].values()) == pytest.approx(10.0)  # the audible seconds, each counted once
