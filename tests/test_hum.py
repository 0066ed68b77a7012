"""Mains hum: found in the pauses, on the mains frequency, and taken out before the features; voices left alone."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import RAVDESS_ROOT, SHARED_DATA, mains_buzz, make_voice_like
from serkit.core.hum import HUM_SHARE_DB, mains_hum, remove_mains_hum

SR = 16000


def phrase(seconds: float, *, f0_from: float, f0_to: float, seed: int) -> np.ndarray:
    """A voiced phrase whose pitch glides as intonation does (a voice on one steady pitch is a note, below)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = f0_from + (f0_to - f0_from) * t / seconds + 6 * np.sin(2 * np.pi * 3.3 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    envelope = np.sin(np.pi * t / seconds) ** 0.5
    return (0.2 * envelope * sum(np.sin(k * phase) / k for k in range(1, 12))).astype(np.float32)


def spoken(seconds_of_pause: float = 0.6, seed: int = 0) -> np.ndarray:
    """Two phrases with pauses around and between them, as a recorded sentence has."""
    pause = 0.002 * np.random.default_rng(seed).standard_normal(int(seconds_of_pause * SR)).astype(np.float32)
    return np.r_[pause, phrase(1.6, f0_from=210.0, f0_to=150.0, seed=seed), pause,
                 phrase(1.2, f0_from=130.0, f0_to=170.0, seed=seed + 1), pause]


def mains(n: int, *, hz: float, harmonics: int) -> np.ndarray:
    return mains_buzz(np.arange(n) / SR, hz=hz, harmonics=harmonics)


def under(y: np.ndarray, tone: np.ndarray, db: float) -> np.ndarray:
    return (tone * np.std(y) / np.std(tone) * 10 ** (-db / 20)).astype(np.float32)


def power_db(y: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(y, dtype=np.float64))))


ON_THE_MAINS = [(hz, harmonics, db) for hz in (50.0, 59.93) for harmonics, db in ((1, 10.0), (39, 10.0), (39, 20.0))]
ON_TWICE_THE_MAINS = [(100.0, 19, 10.0), (100.0, 19, 20.0), (119.9, 16, 10.0)]  # a transformer's or a ballast's buzz


@pytest.mark.parametrize(("hz", "harmonics", "db"), ON_THE_MAINS + ON_TWICE_THE_MAINS)
def test_a_mains_hum_or_buzz_is_taken_out(hz, harmonics, db):
    y = spoken()
    buzz = under(y, mains(y.size, hz=hz, harmonics=harmonics), db)
    hum = mains_hum(y + buzz, SR)
    assert hum.fundamental_hz == pytest.approx(hz, abs=0.1)
    assert hum.share_db == pytest.approx(-db, abs=1.5)
    left = remove_mains_hum(y + buzz, SR) - y  # the buzz left, and the bands of the voice taken with it
    assert power_db(left) < power_db(buzz) - 15.0
    pause = slice(int(0.1 * SR), int(0.5 * SR))
    assert power_db(left[pause]) < power_db(buzz[pause]) - 25.0  # where it was heard alone


def test_voices_and_notes_on_the_mains_harmonics_are_left_alone():
    t = np.arange(3 * SR) / SR
    steady = [np.sin(2 * np.pi * f0 * t) * (t % 1 < 0.7) for f0 in (100.0, 150.0, 200.0, 120.0)]  # sung, or a very flat voice
    clips = [spoken(), spoken(seconds_of_pause=0.0, seed=2), make_voice_like(sr=SR, f0_hz=100.0, duration_s=3.0),
             *(0.1 * y.astype(np.float32) for y in steady)]
    for y in clips:
        assert remove_mains_hum(y, SR) is y


def test_a_faint_hum_or_a_clip_under_a_second_is_left_as_it_is():
    y = spoken()
    faint = y + under(y, mains(y.size, hz=50.0, harmonics=39), 40.0)
    assert mains_hum(faint, SR).share_db < HUM_SHARE_DB
    assert remove_mains_hum(faint, SR) is faint
    short = make_voice_like(sr=SR, duration_s=0.9)
    assert mains_hum(short + under(short, mains(short.size, hz=50.0, harmonics=1), 10.0), SR) is None


def test_a_buzz_no_longer_moves_the_features(monkeypatch):
    from serkit.features import base, get_feature_set

    feature_set = get_feature_set("functionals")
    y = spoken(seed=3)
    buzzed = y + under(y, mains(y.size, hz=50.0, harmonics=39), 10.0)
    clean = feature_set.from_audio(y, SR)
    spread = np.maximum(np.abs(clean), 1e-3)
    moved = np.median(np.abs(feature_set.from_audio(buzzed, SR) - clean) / spread)
    monkeypatch.setattr(base, "remove_mains_hum", lambda y, sr: y)  # the front end before the hum was taken out
    moved_before = np.median(np.abs(feature_set.from_audio(buzzed, SR) - clean) / spread)
    assert moved < 0.25 * moved_before


@pytest.mark.skipif(not RAVDESS_ROOT.is_dir(), reason="needs ../shared/data")
def test_no_shared_corpus_clip_is_touched():
    # The full check (all 3276 clips and 13 104 training copies) is in docs/results.md; this reads every 25th clip.
    import soundfile as sf

    from serkit.core.audio import remove_dc, resample

    paths = sorted(RAVDESS_ROOT.glob("Actor_*/*.flac"))[::25] + sorted((SHARED_DATA / "nemo").rglob("*.flac"))[::25]
    for path in paths:
        y, sr = sf.read(path, dtype="float32")
        y = remove_dc(resample(y, orig_sr=sr, target_sr=SR))
        assert remove_mains_hum(y, SR) is y, path.name


def test_serkit_info_names_a_mains_hum(tmp_path, capsys):
    import soundfile as sf

    from serkit.cli import main
    from serkit.core.audio import audio_info

    y = spoken()
    sf.write(tmp_path / "clean.wav", y, SR)
    sf.write(tmp_path / "buzz.wav", y + under(y, mains(y.size, hz=60.0, harmonics=39), 10.0), SR)
    assert audio_info(tmp_path / "clean.wav").mains_hum_hz is None
    info = audio_info(tmp_path / "buzz.wav", block_frames=4096)
    assert info.mains_hum_hz == pytest.approx(60.0, abs=0.1) and info.mains_hum_db == pytest.approx(-10.0, abs=1.5)
    assert main(["info", str(tmp_path / "buzz.wav"), str(tmp_path / "clean.wav")]) == 0
    assert capsys.readouterr().out.count("mains hum    60.00 Hz") == 1


@pytest.mark.parametrize("count", [5, 17, 40])
def test_the_steady_fits_are_each_blocks_median_over_its_whole_neighbours(count):
    from serkit.core.hum import _steady

    rng = np.random.default_rng(count)
    fits = rng.standard_normal((count, 6)) + 1j * rng.standard_normal((count, 6))
    whole = np.ones(count, dtype=bool)
    whole[[0, -1]] = False  # the blocks hanging over the clip's ends
    reach = 4
    expected = []
    for block in range(count):  # the definition, a block at a time
        near = [k for k in range(max(0, block - reach), min(count, block + reach + 1)) if whole[k]]
        expected.append(np.median(fits[near].real, axis=0) + 1j * np.median(fits[near].imag, axis=0))
    np.testing.assert_array_equal(_steady(fits, whole, reach=reach), np.array(expected))
