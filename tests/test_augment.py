"""Corruptions of serkit.features.augment on synthetic audio: SNR achieved, band limits,
reverberation time, codec alignment, lengths, seeds, and the corpus copies."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from serkit.core.exceptions import ParameterError
from serkit.features.augment import (
    CONDITIONS,
    GATE_FLOOR_DBFS,
    PAUSE_S,
    ROOM_DRR_DB,
    SPEED_FACTOR,
    Condition,
    CorruptionMix,
    add_noise,
    augment_corpus,
    babble,
    clip_rng,
    compress,
    copy_kinds,
    pink_noise,
    repause,
    reverberate,
    room_response,
    snr_of,
    speed,
    telephone,
    white_noise,
)

SR = 16000


def tone(freq, seconds=1.0, sr=SR):
    return np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr).astype(np.float32)


def speechlike(seed=0, seconds=1.0):
    """Noise bursts shaped by a 4 Hz envelope: a stand-in for syllables."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    envelope = np.clip(np.sin(2 * np.pi * 4 * np.arange(n) / SR), 0, None)
    return (0.1 * rng.standard_normal(n) * envelope).astype(np.float32)


def band_gain_db(y_in, y_out, freq):
    """Output over input power in dB at ``freq`` (the middle half of the clip)."""
    middle = slice(len(y_in) // 4, 3 * len(y_in) // 4)
    return 10 * np.log10(np.mean(y_out[middle] ** 2) / np.mean(y_in[middle] ** 2))


@pytest.mark.parametrize("snr_db", [5.0, 10.0, 30.0])
@pytest.mark.parametrize("kind", ["white", "pink", "babble"])
def test_noise_is_added_at_the_asked_snr(kind, snr_db):
    y = speechlike()
    pool = [speechlike(seed) for seed in range(1, 6)]
    noisy = Condition(kind, snr_db).apply(y, SR, np.random.default_rng(0), pool)
    assert noisy.shape == y.shape and noisy.dtype == np.float32
    assert snr_of(y, noisy.astype(np.float64) - y) == pytest.approx(snr_db, abs=0.01)


def test_pink_noise_falls_3_db_per_octave():
    from scipy.signal import welch

    f, P = welch(pink_noise(SR * 20, np.random.default_rng(0)), fs=SR, nperseg=4096)
    low, high = P[(f > 200) & (f < 400)].mean(), P[(f > 3200) & (f < 6400)].mean()
    assert 10 * np.log10(low / high) == pytest.approx(12.0, abs=1.5)  # four octaves


def test_white_noise_is_flat():
    from scipy.signal import welch

    f, P = welch(white_noise(SR * 20, np.random.default_rng(0)), fs=SR, nperseg=4096)
    assert 10 * np.log10(P[(f > 200) & (f < 400)].mean() / P[(f > 3200) & (f < 6400)].mean()) == pytest.approx(0.0, abs=0.5)


def test_babble_needs_other_speakers():
    with pytest.raises(ParameterError, match="pool"):
        babble([], 100, np.random.default_rng(0))


def test_telephone_keeps_300_to_3400_hz():
    assert band_gain_db(tone(1000), telephone(tone(1000), SR), 1000) == pytest.approx(0.0, abs=1.0)
    assert band_gain_db(tone(100), telephone(tone(100), SR), 100) < -20
    assert band_gain_db(tone(5000), telephone(tone(5000), SR), 5000) < -40  # above 4 kHz: gone at 8 kHz
    assert telephone(tone(1000, 0.7777), SR).shape == tone(1000, 0.7777).shape


def test_room_response_decays_60_db_in_rt60():
    rt60 = 0.5
    h = room_response(SR, rt60, np.random.default_rng(0))[1:]
    energy = np.convolve(h ** 2, np.ones(400) / 400, mode="valid")
    t = np.arange(len(energy)) / SR
    slope = np.polyfit(t[200:-200], 10 * np.log10(energy[200:-200]), 1)[0]
    assert slope * rt60 == pytest.approx(-60.0, abs=6.0)


def test_reverberation_keeps_length_and_power_and_smears():
    y = speechlike()
    wet = reverberate(y, SR, rt60=0.6, rng=np.random.default_rng(0))
    assert wet.shape == y.shape
    assert np.mean(wet.astype(np.float64) ** 2) == pytest.approx(np.mean(y.astype(np.float64) ** 2), rel=1e-3)
    gaps = np.clip(np.sin(2 * np.pi * 4 * np.arange(len(y)) / SR), 0, None) == 0  # the silences between bursts
    assert np.mean(wet[gaps] ** 2) > 100 * np.mean(y[gaps] ** 2) + 1e-8


@pytest.mark.parametrize("codec", ["mp3", "opus"])
def test_codec_round_trip_is_aligned_and_lossy(codec):
    n = int(1.3 * SR)
    voiced = sum(np.sin(2 * np.pi * 150 * k * np.arange(n) / SR) / k for k in range(1, 20))
    y = (0.2 * voiced * np.clip(np.sin(2 * np.pi * 4 * np.arange(n) / SR), 0, None)).astype(np.float32)
    low, high = compress(y, SR, kbps=8, codec=codec), compress(y, SR, kbps=32, codec=codec)
    assert low.shape == high.shape == y.shape
    lags = range(-50, 51)
    best = max(lags, key=lambda lag: float(np.dot(y[200:-200], np.roll(high, -lag)[200:-200])))
    assert best == 0
    assert snr_of(y, high - y) > snr_of(y, low - y) > 0


def test_every_condition_keeps_the_length_and_is_seeded():
    y, pool = speechlike(seconds=0.9), [speechlike(seed) for seed in range(1, 4)]
    for kind in CONDITIONS:
        mix = CorruptionMix((kind,))
        first = mix.apply(y, SR, clip_rng(0, "a.wav"), pool)
        assert first.shape == y.shape, kind
        np.testing.assert_array_equal(first, mix.apply(y, SR, clip_rng(0, "a.wav"), pool))
        if kind != "telephone":  # the others draw a value (mp3: one of 4 bitrates), or noise
            others = [mix.apply(y, SR, clip_rng(seed, "a.wav"), pool) for seed in range(1, 6)]
            assert any(not np.array_equal(first, other) for other in others), kind


def test_mix_draws_every_kind_within_its_ranges():
    rng = np.random.default_rng(0)
    drawn = [CorruptionMix.parse("all").draw(rng) for _ in range(300)]
    kinds = {c.kind for copy in drawn for c in copy}
    assert kinds == set(CONDITIONS)
    assert all(copy[-1].kind == "gain" and -6 <= copy[-1].value <= 6 for copy in drawn)
    snrs = [c.value for copy in drawn for c in copy if c.kind in ("white", "pink", "babble")]
    assert 5 <= min(snrs) and max(snrs) <= 30
    assert all(0.2 <= c.value <= 0.8 for copy in drawn for c in copy if c.kind == "reverb")


@pytest.mark.parametrize("text", ["hum@10", "white", "white@loud", "", "pause@-1", "pause@inf"])
def test_bad_names_are_refused_in_one_line(text):
    with pytest.raises(ParameterError) as error:
        (CorruptionMix.parse if text in ("", "hum@10") else Condition.parse)(text)
    assert "\n" not in str(error.value)


def test_mix_names_expand():
    assert CorruptionMix.parse("noise,gain").kinds == ("white", "pink", "babble", "gain")
    assert CorruptionMix.parse("all").kinds == CONDITIONS  # a pause copy is asked for by name
    assert CorruptionMix.parse("all,pause").kinds == (*CONDITIONS, "pause")


def with_pauses(before_s: float, after_s: float, speech_s: float = 1.0) -> np.ndarray:
    """A burst of sound (-20 dBFS) with a faint room floor (-70 dBFS) around it."""
    rng = np.random.default_rng(0)
    sound = lambda s, db: (10 ** (db / 20) * rng.standard_normal(int(s * SR))).astype(np.float32)  # noqa: E731
    return np.r_[sound(before_s, -70), sound(speech_s, -20), sound(after_s, -70)]


def test_repause_keeps_the_speech_and_at_most_the_pause_asked_for():
    y = with_pauses(1.2, 0.9)
    for before, after in ((0.0, 0.0), (0.25, 0.5), (1.0, 1.0)):
        kept = repause(y, SR, before_s=before, after_s=after)
        # the speech (1 s) and the pauses asked for, within the trim's 32 ms frames at either edge
        assert len(kept) / SR == pytest.approx(1.0 + before + min(after, 0.9), abs=0.065)
    assert len(repause(y, SR, before_s=5.0, after_s=5.0)) == len(y)  # never more than the clip holds


def test_a_pause_copy_draws_each_side_and_a_fixed_pause_is_fixed():
    y = with_pauses(1.2, 1.2)
    lengths = {len(CorruptionMix.parse("pause").apply(y, SR, clip_rng(seed, "a.wav"))) for seed in range(8)}
    assert len(lengths) == 8 and max(lengths) <= (1.0 + 2 * PAUSE_S + 0.065) * SR
    assert np.array_equal(CorruptionMix.parse("pause").apply(y, SR, clip_rng(0, "a.wav")),
                          CorruptionMix.parse("pause").apply(y, SR, clip_rng(0, "a.wav")))
    fixed = Condition.parse("pause@0.25")
    assert fixed.value == 0.25 and Condition.parse("pause").value is None
    assert len(fixed.apply(y, SR, clip_rng(0, "a.wav"))) / SR == pytest.approx(1.5, abs=0.065)


def test_a_gate_copy_puts_the_speech_on_a_faint_floor_of_the_length_drawn():
    y = with_pauses(1.2, 0.9)
    fixed = Condition.parse("gate@0.5").apply(y, SR, clip_rng(0, "a.wav"))
    speech = repause(y, SR, before_s=0.0, after_s=0.0)
    assert len(fixed) == len(speech) + SR  # the floor replaces the pauses, whatever the clip held
    assert np.array_equal(fixed[SR // 2: SR // 2 + len(speech)], speech)
    floor_dbfs = 10 * np.log10(np.mean(fixed[: SR // 2].astype(float) ** 2))
    assert floor_dbfs == pytest.approx(GATE_FLOOR_DBFS, abs=0.5)
    drawn = {len(CorruptionMix.parse("gate").apply(y, SR, clip_rng(seed, "a.wav"))) for seed in range(8)}
    assert len(drawn) == 8 and max(drawn) <= len(speech) + 2 * PAUSE_S * SR
    with pytest.raises(ParameterError, match="0 or more"):
        Condition.parse("gate@-0.1")


def test_a_speed_copy_moves_pitch_and_length_together_by_the_factor_drawn():
    y = (0.1 * np.sin(2 * np.pi * 150 * np.arange(SR) / SR)).astype(np.float32)

    def pitch_hz(z):
        spectrum = np.abs(np.fft.rfft(z * np.hanning(len(z))))
        return np.argmax(spectrum) * SR / len(z)

    for factor in (0.85, 1.0, 1.15):
        played = Condition.parse(f"speed@{factor}").apply(y, SR, clip_rng(0, "a.wav"))
        assert len(played) == pytest.approx(SR / factor, abs=2)
        assert pitch_hz(played) == pytest.approx(150 * factor, abs=2)
    drawn = [len(CorruptionMix.parse("speed").apply(y, SR, clip_rng(seed, "a.wav"))) for seed in range(8)]
    assert len(set(drawn)) == 8 and all(SR / SPEED_FACTOR[1] - 2 <= n <= SR / SPEED_FACTOR[0] + 2 for n in drawn)
    assert Condition.parse("speed").value is None
    for bad in ("speed@0.2", "speed@3", "speed@fast"):
        with pytest.raises(ParameterError):
            Condition.parse(bad)
    with pytest.raises(ParameterError, match="between 0.5 and 2"):
        speed(y, SR, factor=0.1)


def test_a_room_copy_sets_the_direct_to_reverberant_ratio_asked_for_or_drawn():
    impulse = np.r_[1.0, np.zeros(SR - 1)].astype(np.float32)

    def drr_db(z):  # the direct path against everything after it (an RT60 of at most 0.9 s fits in the second)
        return 10 * np.log10(z[0] ** 2 / np.sum(z[1:].astype(float) ** 2))

    for drr in (-5.0, 0.0, 10.0):
        assert drr_db(Condition.parse(f"room@{drr:g}").apply(impulse, SR, clip_rng(0, "a.wav"))) == pytest.approx(drr, abs=0.01)
    drawn = [drr_db(CorruptionMix.parse("room").apply(impulse, SR, clip_rng(seed, "a.wav"))) for seed in range(8)]
    assert all(ROOM_DRR_DB[0] - 0.01 <= d <= ROOM_DRR_DB[1] + 0.01 for d in drawn) and len({round(d, 3) for d in drawn}) == 8
    assert "room" not in CorruptionMix.parse("all").kinds  # the shipped copies' far-field reverb stays as it was
    with pytest.raises(ParameterError, match="between -30 and 30"):
        Condition.parse("room@40")


def test_silence_stays_silent_under_noise():
    assert not add_noise(np.zeros(100, np.float32), np.ones(100), snr_db=10).any()


def test_augment_corpus_copies_with_labels_and_babble_from_other_speakers(tmp_path):
    from serkit.corpora import CorpusTable

    rows = []
    for speaker in ("1", "2"):
        for index in range(2):
            sf.write(tmp_path / f"s{speaker}_{index}.wav", speechlike(int(speaker) * 10 + index), SR)
            rows.append({"path": f"s{speaker}_{index}.wav", "label": "sad" if index else "happy", "speaker": speaker})
    table = CorpusTable("manifest", tmp_path, pd.DataFrame(rows))
    out = augment_corpus(table, Condition.parse("babble@10"), tmp_path / "aug", copies=2)
    assert len(out.table) == 8 and out.table["label"].tolist()[:2] == ["happy", "happy"]
    first = sf.read(out.root / out.table["path"][0])[0]
    assert len(first) == SR
    before = (out.root / out.table["path"][0]).stat().st_mtime_ns
    again = augment_corpus(table, Condition.parse("babble@10"), tmp_path / "aug", copies=2)
    assert (again.root / again.table["path"][0]).stat().st_mtime_ns == before  # kept, not rewritten
    lonely = CorpusTable("manifest", tmp_path, pd.DataFrame(rows[:2]))
    with pytest.raises(ParameterError, match="pool"):
        augment_corpus(lonely, Condition.parse("babble@10"), tmp_path / "aug2")


def test_copy_kinds_name_the_corruption_each_written_copy_got(tmp_path):
    from serkit.corpora import CorpusTable

    rows = [{"path": f"c{index}.wav", "label": "sad", "speaker": "1"} for index in range(8)]
    for row in rows:
        sf.write(tmp_path / row["path"], 0.5 * tone(6000), SR)
    table = CorpusTable("manifest", tmp_path, pd.DataFrame(rows))
    mix = CorruptionMix.parse("white,telephone")
    out = augment_corpus(table, mix, tmp_path / "aug", copies=2)
    kinds = copy_kinds(table, mix, copies=2)
    assert len(kinds) == len(out.table) and set(kinds) == {"white", "telephone"}
    for path, kind in zip(out.table["path"], kinds):
        audio = sf.read(out.root / path)[0]
        high = np.abs(np.fft.rfft(audio))[int(4500 * len(audio) / SR):].sum() / np.abs(np.fft.rfft(audio)).sum()
        assert (high < 0.05) == (kind == "telephone")  # the telephone band holds nothing at 6 kHz
