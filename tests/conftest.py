"""Shared fixtures: synthetic audio for unit tests, the shared RAVDESS copy for the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RAVDESS_ROOT = SHARED_DATA / "ravdess-speech"
RAVDESS_48K_ACTOR = SHARED_DATA / "ravdess-speech-48k" / "Actor_01"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def ravdess_root() -> Path:
    if not RAVDESS_ROOT.is_dir():
        pytest.skip(f"shared RAVDESS not found at {RAVDESS_ROOT}")
    return RAVDESS_ROOT


@pytest.fixture
def ravdess_48k_actor() -> Path:
    if not RAVDESS_48K_ACTOR.is_dir():
        pytest.skip(f"shared 48 kHz RAVDESS not found at {RAVDESS_48K_ACTOR}")
    return RAVDESS_48K_ACTOR


def make_tone(
    *, freq_hz: float = 220.0, duration_s: float = 1.0, sr: int = 22050, amplitude: float = 0.3
) -> np.ndarray:
    """A sine tone with a little harmonic content, float32."""
    t = np.arange(int(duration_s * sr)) / sr
    y = amplitude * (np.sin(2 * np.pi * freq_hz * t) + 0.3 * np.sin(2 * np.pi * 2 * freq_hz * t))
    return y.astype(np.float32)


def make_voice_like(
    *, duration_s: float = 2.0, sr: int = 16000, f0_hz: float = 150.0, seed: int = 0
) -> np.ndarray:
    """A harmonic tone with vibrato, an envelope and a little noise: speech-ish, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * sr)) / sr
    f0 = f0_hz * (1 + 0.05 * np.sin(2 * np.pi * 4 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * np.minimum(t / duration_s, 1)))
    y = 0.2 * envelope * y + 0.005 * rng.standard_normal(t.size)
    return y.astype(np.float32)


def mains_buzz(t: np.ndarray, *, hz: float = 50.0, harmonics: int = 39) -> np.ndarray:
    """A ground loop's buzz at the times ``t`` (s): the mains ``hz`` and its harmonics at 1/k (1: a hum)."""
    return sum(np.sin(2 * np.pi * hz * k * t + k) / k for k in range(1, harmonics + 1))


RECORDER_FORMATS = {
    "m4a": ("mp4", "aac"),
    "mp4": ("mp4", "aac"),
    "webm": ("webm", "libopus"),
    "alac.m4a": ("ipod", "alac"),
}
"""What phones and browsers record: file ending → (FFmpeg muxer, encoder)."""


def encode_audio(destination, y: np.ndarray, sr: int, *, container: str, codec: str, options: dict | None = None):
    """Encode mono float ``y`` with FFmpeg (PyAV) into ``destination`` (a path or a binary file object)."""
    import av

    with av.open(destination, "w", format=container, options=options or {}) as out:
        stream = out.add_stream(codec, rate=sr, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.asarray(y, dtype=np.float32)[None, :], format="flt", layout="mono")
        frame.rate = sr
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return destination


def encode_recorder_format(path, y: np.ndarray, sr: int = 48000):
    """``y`` as a phone or browser records it, in the format :data:`RECORDER_FORMATS` gives
    the ending of ``path`` (a path or a named file object; the ending is all after the
    name's first dot: ``clip.alac.m4a`` is ALAC)."""
    container, codec = RECORDER_FORMATS[Path(getattr(path, "name", path)).name.split(".", 1)[1]]
    return encode_audio(path, y, sr, container=container, codec=codec)


def lying_mp3(path: Path, y: np.ndarray, sr: int, *, claimed_s: float) -> Path:
    """A real MP3 of ``y`` whose Xing header claims ``claimed_s`` seconds instead."""
    import struct

    import soundfile as sf

    sf.write(path, y, sr, format="MP3")
    data = bytearray(path.read_bytes())
    xing = data.find(b"Xing")
    if xing < 0:
        xing = data.find(b"Info")
    samples_per_frame = 1152 if sr >= 32000 else 576  # MPEG-1 Layer III, else MPEG-2/2.5
    data[xing + 8 : xing + 12] = struct.pack(">I", int(claimed_s * sr / samples_per_frame))  # the frame count
    path.write_bytes(bytes(data))
    return path
