"""A room heard from across it: the decay rate, and the caution a reverberant recording's speech gets."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest

from serkit.core.audio import load_audio, resample
from serkit.core.reverb import REVERBERANT_BELOW, decay_rate
from serkit.features import augment

SR = 16000
FAR_ROOM = {"rt60": 0.9, "drr_db": -5.0}
"""A large room heard from across it (``bench_audio_input.ROOMS``)."""


def syllables(seconds: float = 3.0, seed: int = 0, sr: int = SR) -> np.ndarray:
    """Broadband bursts of 0.15-0.35 s with pauses between, each ending within a few ms: a dry voice's
    syllables as far as their decays go."""
    rng = np.random.default_rng(seed)
    y, start = np.zeros(int(seconds * sr), np.float32), 0
    while start < y.size:
        length, pause = int(rng.uniform(0.15, 0.35) * sr), int(rng.uniform(0.05, 0.3) * sr)
        burst = rng.standard_normal(min(length, y.size - start)) * np.hanning(min(length, y.size - start)) ** 0.2
        y[start: start + burst.size] = burst * rng.uniform(0.05, 0.2)
        start += length + pause
    return y


def in_room(y: np.ndarray, sr: int = SR, **room) -> np.ndarray:
    return augment.reverberate(y, sr, rng=np.random.default_rng(0), **room)


def example(name: str) -> np.ndarray:
    return load_audio(files("serkit").joinpath("data", "examples", name), sr=SR)[0]


EXAMPLES = ("angry--loud-fast.ogg", "calm--soft-slow.ogg", "sad--slow-low.ogg")


def test_a_room_slows_the_decays():
    dry = syllables()
    living_room = decay_rate(in_room(dry, rt60=0.6, drr_db=0.0), SR)
    assert decay_rate(in_room(dry, **FAR_ROOM), SR) < living_room < REVERBERANT_BELOW < decay_rate(dry, SR)
    assert decay_rate(augment.gain(dry, -30), SR) == pytest.approx(decay_rate(dry, SR), rel=1e-3)


@pytest.mark.parametrize("name", EXAMPLES)
def test_noise_or_a_phone_line_under_speech_is_not_a_room(name):
    y = example(name)
    noisy = augment.add_noise(y, augment.white_noise(y.size, np.random.default_rng(1)), snr_db=10)
    assert decay_rate(noisy, SR) > REVERBERANT_BELOW  # noise stops a decay early; it does not slow it
    assert decay_rate(augment.telephone(y, SR), SR) > REVERBERANT_BELOW
    assert decay_rate(in_room(y, **FAR_ROOM), SR) < REVERBERANT_BELOW


@pytest.mark.parametrize("sr", [22050, 48000])
def test_a_rooms_rate_hardly_depends_on_the_sample_rate(sr):
    dry = syllables()
    reverberant = in_room(dry, **FAR_ROOM)
    assert decay_rate(resample(reverberant, orig_sr=SR, target_sr=sr), sr) == pytest.approx(decay_rate(reverberant, SR), rel=0.1)
    assert decay_rate(resample(dry, orig_sr=SR, target_sr=sr), sr) > REVERBERANT_BELOW


def test_nothing_to_measure_gives_nan():
    t = np.arange(2 * SR) / SR
    held = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    swelling = (held * np.hanning(held.size)).astype(np.float32)  # one fade, in one band
    for y in (np.zeros(2 * SR, np.float32), held, swelling, syllables()[: SR // 20]):
        assert np.isnan(decay_rate(y, SR))


@pytest.fixture(scope="module")
def bundled():
    from serkit.models.artifacts import load_model

    return load_model()


@pytest.mark.parametrize("name", ["angry--loud-fast.ogg", "calm--soft-slow.ogg"])
def test_speech_in_a_far_room_gets_the_reverberation_caution(bundled, name):
    from serkit.inference.predictor import REVERBERATION_CAUTION

    y = example(name)
    assert bundled.predict_audio(y, SR, segment="vad")["caution"] != REVERBERATION_CAUTION
    result = bundled.predict_audio(in_room(y, **FAR_ROOM), SR, segment="vad")
    assert result["emotion"] is not None and result["caution"] == REVERBERATION_CAUTION
    assert all(segment["caution"] == REVERBERATION_CAUTION for segment in result["segments"])
    # Fixed windows may hold anything (a tone, music): only what the speech detection calls speech is measured.
    assert bundled.predict_audio(in_room(y, **FAR_ROOM), SR, segment="fixed")["caution"] != REVERBERATION_CAUTION


def test_only_the_far_stretch_of_a_recording_is_cautioned(bundled):
    from serkit.inference.predictor import REVERBERATION_CAUTION

    near, far = example("sad--slow-low.ogg"), in_room(example("happy--fast-high.ogg"), **FAR_ROOM)
    result = bundled.predict_audio(np.concatenate([near, far]), SR, segment="vad")
    cautions = [(segment["start"] < near.size / SR, segment["caution"]) for segment in result["segments"]]
    assert [(near_part, caution == REVERBERATION_CAUTION) for near_part, caution in cautions] == [(True, False), (False, True)]


def test_info_gives_a_files_decay_rate(tmp_path, capsys):
    import soundfile as sf

    from serkit.cli import main
    from serkit.core.audio import audio_info

    y = example("sad--slow-low.ogg")
    sf.write(tmp_path / "near.wav", y, SR, subtype="FLOAT")  # as decoded: the same rate
    sf.write(tmp_path / "far.flac", in_room(y, **FAR_ROOM), SR)
    sf.write(tmp_path / "silent.wav", np.zeros(SR, np.float32), SR)
    near, far, silent = (audio_info(tmp_path / name) for name in ("near.wav", "far.flac", "silent.wav"))
    assert far.decay_rate < REVERBERANT_BELOW < near.decay_rate and silent.decay_rate is None
    assert near.decay_rate == pytest.approx(decay_rate(y, SR), abs=0.1)
    assert main(["info", str(tmp_path / "far.flac"), str(tmp_path / "silent.wav")]) == 0
    out = capsys.readouterr().out
    assert out.count("decay rate") == 1 and "speech in it gets a caution" in out
