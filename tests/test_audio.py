"""Audio loading: every format and failure path, parity with librosa.load."""

import warnings

import numpy as np
import pytest
import soundfile as sf

from conftest import make_tone
from serkit.core.audio import AudioStream, SilentAudioWarning, audio_info, is_silent, load_audio
from serkit.core.exceptions import AudioError, ParameterError


def write(path, y, sr, **kwargs):
    sf.write(path, y, sr, **kwargs)
    return path


def test_resamples_to_target_rate_as_float32_mono(tmp_path):
    y = make_tone(sr=48000, duration_s=1.0)
    loaded, sr = load_audio(write(tmp_path / "tone.wav", y, 48000))
    assert sr == 22050 and loaded.dtype == np.float32 and loaded.shape == (22050,)


def test_stereo_is_averaged_to_mono(tmp_path):
    left = make_tone(freq_hz=220, sr=22050)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    loaded, _ = load_audio(write(tmp_path / "stereo.wav", stereo, 22050, subtype="FLOAT"))
    np.testing.assert_allclose(loaded, left / 2, atol=1e-7)


def test_a_channel_in_opposite_polarity_is_inverted_before_the_mix(tmp_path):
    # Many laptops' internal microphone pairs deliver one channel inverted; averaged as recorded the voice cancels.
    rng = np.random.default_rng(0)
    voice = make_tone(freq_hz=220, sr=16000) * (1 + np.sin(np.arange(16000) / 900))
    delayed = np.r_[np.zeros(2), voice[:-2]]  # a second capsule a few centimetres away
    pair = np.stack([voice, -delayed], axis=1) + 1e-3 * rng.standard_normal((len(voice), 2))
    loaded, _ = load_audio(write(tmp_path / "laptop.wav", pair, 16000, subtype="FLOAT"), sr=None)
    np.testing.assert_allclose(loaded, (pair[:, 0] - pair[:, 1]) / 2, atol=1e-6)  # the first channel keeps its polarity
    assert np.std(loaded) > 0.9 * np.std(voice)
    assert np.std(pair.mean(axis=1)) < 0.2 * np.std(voice)  # what averaging as recorded would give


def test_independent_or_in_phase_channels_are_averaged_as_librosa_does(tmp_path):
    rng = np.random.default_rng(1)
    for name, second in {"two parties": make_tone(freq_hz=330, sr=16000) * rng.random(16000),
                         "a stereo microphone": 0.7 * make_tone(freq_hz=220, sr=16000)}.items():
        pair = np.stack([make_tone(freq_hz=220, sr=16000), second], axis=1).astype(np.float32)
        loaded, _ = load_audio(write(tmp_path / f"{name}.wav", pair, 16000, subtype="FLOAT"), sr=None)
        np.testing.assert_array_equal(loaded, pair.mean(axis=1), err_msg=name)


@pytest.mark.parametrize(
    ("suffix", "subtype", "sr"),
    [(".wav", "PCM_U8", 8000), (".wav", "PCM_24", 96000), (".flac", "PCM_16", 44100), (".ogg", "VORBIS", 22050), (".aiff", "PCM_16", 16000)],
)
def test_reads_formats_bit_depths_and_rates(tmp_path, suffix, subtype, sr):
    path = write(tmp_path / f"clip{suffix}", make_tone(sr=sr, duration_s=0.5), sr, subtype=subtype)
    loaded, out_sr = load_audio(path)
    assert out_sr == 22050 and loaded.shape == (11025,)
    assert 0.2 < np.max(np.abs(loaded)) < 0.5


def test_keeps_native_rate_when_sr_is_none(tmp_path):
    _, sr = load_audio(write(tmp_path / "a.wav", make_tone(sr=16000), 16000), sr=None)
    assert sr == 16000


def test_matches_librosa_load(ravdess_48k_actor):
    import librosa

    for name in ("03-01-02-01-01-02-01.wav", "03-01-05-01-01-01-01.wav"):  # stereo and mono originals
        ours, _ = load_audio(ravdess_48k_actor / name)
        theirs, _ = librosa.load(ravdess_48k_actor / name)
        np.testing.assert_array_equal(ours, theirs)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="nope.wav: file not found"):
        load_audio(tmp_path / "nope.wav")


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty file"):
        load_audio(tmp_path / "empty.wav")


def test_wav_with_no_samples(tmp_path):
    path = write(tmp_path / "nosamples.wav", np.zeros(0, dtype=np.float32), 22050)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(path)


def test_text_renamed_wav(tmp_path):
    (tmp_path / "text.wav").write_text("this is not audio at all\n" * 20)
    with pytest.raises(AudioError, match="text.wav: not readable as audio"):
        load_audio(tmp_path / "text.wav")


def test_truncated_header(tmp_path):
    path = write(tmp_path / "full.wav", make_tone(), 22050)
    (tmp_path / "cut.wav").write_bytes(path.read_bytes()[:30])
    with pytest.raises(AudioError, match="cut.wav"):
        load_audio(tmp_path / "cut.wav")


def test_nan_samples(tmp_path):
    y = make_tone()
    y[100] = np.nan
    path = write(tmp_path / "nan.wav", y, 22050, subtype="FLOAT")
    with pytest.raises(AudioError, match="non-finite"):
        load_audio(path)


def test_ten_milliseconds_is_too_short(tmp_path):
    path = write(tmp_path / "short.wav", make_tone(duration_s=0.01), 22050)
    with pytest.raises(AudioError, match=r"too short \(10 ms"):
        load_audio(path)


def test_too_long_is_refused_from_the_header(tmp_path):
    path = write(tmp_path / "long.wav", make_tone(duration_s=3.0), 22050)
    with pytest.raises(AudioError, match=r"too long \(3.0 s > 2 s\)"):
        load_audio(path, max_duration_s=2)


def test_silence_is_flagged_not_refused(tmp_path):
    path = write(tmp_path / "silence.wav", np.zeros(22050, dtype=np.float32), 22050)
    with pytest.warns(SilentAudioWarning, match="silent"):
        y, _ = load_audio(path)
    assert is_silent(y) and audio_info(path).silent


def test_quiet_speech_is_not_silent(tmp_path):
    path = write(tmp_path / "quiet.wav", make_tone(amplitude=0.005), 22050)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_audio(path)


def test_reads_file_objects(tmp_path):
    path = write(tmp_path / "a.flac", make_tone(), 22050)
    with open(path, "rb") as stream:
        y, _ = load_audio(stream)
    assert y.shape == (22050,)


def test_bad_parameters():
    with pytest.raises(ParameterError, match="sr=0"):
        load_audio("x.wav", sr=0)


def test_audio_info_reports_the_stored_file(tmp_path):
    stereo = np.stack([make_tone(sr=48000), make_tone(sr=48000)], axis=1)
    info = audio_info(write(tmp_path / "s.wav", stereo, 48000))
    assert (info.sample_rate, info.channels, info.frames, info.subtype) == (48000, 2, 48000, "PCM_16")
    assert info.duration_s == pytest.approx(1.0)
    assert info.peak == pytest.approx(np.abs(stereo).max(), abs=1e-4)
    assert info.rms_db == pytest.approx(20 * np.log10(np.sqrt(np.mean(stereo**2))), abs=0.01)


@pytest.mark.timeout(10)
def test_special_files_are_refused_before_they_are_opened(tmp_path):
    import os

    os.mkfifo(tmp_path / "fifo.wav")  # opening it for reading would block until a writer came
    (tmp_path / "zero.wav").symlink_to("/dev/zero")
    (tmp_path / "dangling.wav").symlink_to(tmp_path / "nowhere.wav")
    with pytest.raises(AudioError, match=r"fifo.wav: not a regular file \(a FIFO\)"):
        load_audio(tmp_path / "fifo.wav")
    with pytest.raises(AudioError, match=r"zero.wav: not a regular file \(a character device\)"):
        audio_info(tmp_path / "zero.wav")
    with pytest.raises(AudioError, match="dangling.wav: file not found"):
        load_audio(tmp_path / "dangling.wav")
    with pytest.raises(AudioError, match="is a directory"):
        load_audio(tmp_path)


@pytest.mark.parametrize("rate", [1, 999, 768_001])
def test_declared_rates_outside_the_audio_range_are_refused(tmp_path, rate):
    path = write(tmp_path / "odd.wav", make_tone(sr=8000, duration_s=0.5), rate)
    with pytest.raises(AudioError, match=f"odd.wav: sample rate {rate} Hz outside 1000–768000 Hz"):
        load_audio(path)
    with pytest.raises(AudioError, match="sample rate"):
        audio_info(path)


def test_audio_info_block_by_block_equals_a_whole_read(tmp_path):
    rng = np.random.default_rng(0)
    stereo = (0.2 * rng.standard_normal((10_007, 2))).astype(np.float32)
    path = write(tmp_path / "noise.wav", stereo, 16000, subtype="FLOAT")
    whole, blocks = audio_info(path, block_frames=1 << 20), audio_info(path, block_frames=1000)
    assert whole == blocks
    assert whole.frames == 10_007 and whole.peak == pytest.approx(np.abs(stereo).max())
    assert whole.rms == pytest.approx(np.sqrt(np.mean(stereo.astype(np.float64) ** 2)))


def test_audio_info_of_non_finite_samples_is_nan_not_an_error(tmp_path):
    y = make_tone()
    y[5] = np.inf
    info = audio_info(write(tmp_path / "inf.wav", y, 22050, subtype="FLOAT"))
    assert np.isnan(info.peak) and np.isnan(info.rms) and np.isnan(info.rms_db) and not info.silent


def test_a_stream_reads_one_channel_when_asked(tmp_path):
    left, right = np.full(8000, 0.25, np.float32), np.full(8000, -0.5, np.float32)
    sf.write(tmp_path / "two.wav", np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    with AudioStream(tmp_path / "two.wav", sr=16000) as mixed, AudioStream(tmp_path / "two.wav", sr=16000, channel=1) as second:
        assert mixed.channels == second.channels == 2
        np.testing.assert_allclose(mixed.read(), -0.125)
        np.testing.assert_allclose(second.read(), -0.5)
    with pytest.raises(AudioError, match="has 2 channel\\(s\\), not a channel 3"):
        AudioStream(tmp_path / "two.wav", channel=2)
    for bad in (-1, 1.5, True):
        with pytest.raises(ParameterError, match="channel="):
            AudioStream(tmp_path / "two.wav", channel=bad)
