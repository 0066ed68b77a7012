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
