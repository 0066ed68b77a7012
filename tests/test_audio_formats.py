"""Audio from phones and browsers (FFmpeg through PyAV) and files that lie about themselves."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from conftest import RECORDER_FORMATS, encode_audio, encode_recorder_format, lying_mp3, make_tone

from serkit.core.audio import AudioStream, audio_info, load_audio
from serkit.core.exceptions import AudioError


def dominant_hz(y: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(y))
    return float(np.fft.rfftfreq(y.size, 1 / sr)[np.argmax(spectrum[1:]) + 1])


@pytest.mark.parametrize("ending", sorted(RECORDER_FORMATS))
def test_recorder_formats_decode_like_the_tone_they_hold(tmp_path, ending):
    path = encode_recorder_format(tmp_path / f"clip.{ending}", make_tone(freq_hz=440, duration_s=2.0, sr=48000))
    y, sr = load_audio(path)
    assert sr == 22050 and y.dtype == np.float32
    assert abs(y.size / sr - 2.0) < 0.1  # encoders add a few ms of priming
    assert dominant_hz(y, sr) == pytest.approx(440, abs=3)
    info = audio_info(path)
    assert info.format in {"MP4", "WEBM"} and info.sample_rate == 48000 and info.channels == 1
    assert abs(info.duration_s - 2.0) < 0.1 and not info.silent


def test_amr_from_an_old_phone(tmp_path):
    path = encode_audio(tmp_path / "clip.amr", make_tone(freq_hz=300, duration_s=1.0, sr=8000), 8000,
                        container="amr", codec="libopencore_amrnb")
    y, sr = load_audio(path, sr=8000)
    assert abs(y.size / sr - 1.0) < 0.1 and dominant_hz(y, sr) == pytest.approx(300, abs=10)


def test_container_duration_checked_before_decoding(tmp_path):
    path = encode_recorder_format(tmp_path / "long.m4a", make_tone(duration_s=5.0, sr=48000))
    with AudioStream(path) as stream:
        assert stream.duration_s == pytest.approx(5.0, abs=0.05)
    with pytest.raises(AudioError, match=r"long.m4a: too long \(5.0 s > 2 s\)"):
        AudioStream(path, max_duration_s=2)


def test_a_stream_without_a_duration_is_bounded_as_it_decodes(tmp_path):
    # a live WebM, as a browser's MediaRecorder writes it, says nothing of its length
    path = encode_audio(tmp_path / "live.webm", make_tone(duration_s=3.0, sr=48000), 48000,
                        container="webm", codec="libopus", options={"live": "1"})
    with AudioStream(path) as stream:
        assert stream.duration_s is None
        assert abs(sum(block.size for block in stream.blocks()) / 22050 - 3.0) < 0.05
    with AudioStream(path, max_duration_s=1) as stream, pytest.raises(AudioError, match="too long .decodes to more than 1 s"):
        list(stream.blocks())


def test_broken_recordings_get_one_line(tmp_path):
    whole = encode_recorder_format(tmp_path / "whole.m4a", make_tone(duration_s=2.0, sr=48000)).read_bytes()
    truncated = tmp_path / "truncated.m4a"
    truncated.write_bytes(whole[: len(whole) // 2])  # the index (moov) is written last: lost
    with pytest.raises(AudioError, match=r"^\S*truncated.m4a: not readable as audio \(format not recognised, or a broken file\)$"):
        load_audio(truncated)
    no_audio = tmp_path / "no-audio.webm"
    no_audio.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(200))  # an EBML (WebM) signature and nothing else
    with pytest.raises(AudioError, match="no-audio.webm: not readable as audio") as refused:
        load_audio(no_audio)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("list.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:9/x.aac\n#EXT-X-ENDLIST\n"),
        ("concat.txt", "ffconcat version 1.0\nfile '/etc/passwd'\n"),
    ],
)
def test_playlists_and_scripts_naming_other_files_are_refused(tmp_path, name, content):
    (tmp_path / name).write_text(content)
    with pytest.raises(AudioError, match=f"{name}: not readable as audio"):
        load_audio(tmp_path / name)


def test_a_file_object_is_decoded_by_ffmpeg_too(tmp_path):
    path = encode_recorder_format(tmp_path / "clip.webm", make_tone(freq_hz=440, duration_s=1.0, sr=48000))
    with open(path, "rb") as stream:
        y, sr = load_audio(stream)
    assert dominant_hz(y, sr) == pytest.approx(440, abs=3)


# -- MP3s that lie about their length ----------------------------------------------


@pytest.fixture
def lying(tmp_path):
    """A real 3.8 s MP3 whose Xing header claims 288 s."""
    return lying_mp3(tmp_path / "lying.mp3", make_tone(freq_hz=440, duration_s=3.8, sr=22050), 22050, claimed_s=288)


def test_decoding_stops_where_the_data_does(lying):
    with AudioStream(lying) as stream:
        assert stream.duration_s > 280  # the claim, as the header makes it
        blocks = list(stream.blocks())
    decoded = np.concatenate(blocks)
    assert abs(decoded.size / 22050 - 3.8) < 0.1
    assert np.max(np.abs(decoded)) < 1.0  # no stale buffer
    assert abs(audio_info(lying).duration_s - 3.8) < 0.1
    np.testing.assert_array_equal(decoded, np.concatenate(list(AudioStream(lying).blocks())))


def test_garbage_that_looks_like_mpeg_is_refused_quietly(tmp_path, capfd):
    rng = np.random.default_rng(0)
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(b"\xff\xfb\x90\x64" + rng.bytes(20000))  # an MPEG frame sync, then noise
    with pytest.raises(AudioError) as refused:
        load_audio(garbage)
    message = str(refused.value)
    assert message.startswith(f"{garbage}: not readable as audio") and "pipe" not in message and "exist" not in message
    assert capfd.readouterr().err == ""  # libmpg123's notes do not reach stderr


def test_a_long_mp3_decodes_block_by_block_as_a_whole_read_does(tmp_path):
    # libsndfile 1.2 gets every read after the first wrong; FFmpeg decodes MP3 here
    path = tmp_path / "long.mp3"
    sf.write(path, make_tone(duration_s=15.0, sr=22050), 22050, format="MP3")  # more than one block
    whole = sf.read(path, dtype="float32")[0]
    with AudioStream(path) as stream:
        blocks = list(stream.blocks())
    assert len(blocks) > 1
    np.testing.assert_allclose(np.concatenate(blocks), whole, atol=1e-5)
