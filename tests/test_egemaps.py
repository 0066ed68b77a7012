"""The ``egemaps`` set (openSMILE eGeMAPS v02) and its combination with ``functionals``."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import make_voice_like

from serkit.core.exceptions import ParameterError
from serkit.features import get_feature_set

opensmile = pytest.importorskip("opensmile")


def test_88_named_finite_features():
    fs = get_feature_set("egemaps")
    x = fs.from_audio(make_voice_like(sr=16000), 16000)
    assert len(fs.columns) == 88 and x.shape == (88,)
    assert np.all(np.isfinite(x))
    assert "F0semitoneFrom27.5Hz_sma3nz_amean" in fs.columns
    assert "HNRdBACF_sma3nz_amean" in fs.columns


def test_pitch_matches_the_synthetic_voice():
    fs = get_feature_set("egemaps")
    x = fs.from_audio(make_voice_like(sr=16000, f0_hz=150.0), 16000)
    # eGeMAPS pitch is in semitones above 27.5 Hz: 150 Hz → 29.4.
    mean_pitch = x[fs.columns.index("F0semitoneFrom27.5Hz_sma3nz_amean")]
    assert mean_pitch == pytest.approx(12 * np.log2(150 / 27.5), abs=1.0)


def test_combined_set_concatenates_both():
    combined = get_feature_set("functionals+egemaps", functionals={"trim_top_db": None})
    y = make_voice_like(sr=16000)
    x = combined.from_audio(y, 16000)
    functionals = get_feature_set("functionals", trim_top_db=None)
    assert len(combined.columns) == x.shape[0] == len(functionals.columns) + 88
    assert np.allclose(x[: len(functionals.columns)], functionals.from_audio(y, 16000))
    assert combined.columns[-88].startswith("egemaps_")


def test_clear_error_without_opensmile(monkeypatch):
    from serkit.features import egemaps

    egemaps._smile.cache_clear()
    monkeypatch.setitem(sys.modules, "opensmile", None)  # import now fails
    try:
        with pytest.raises(ParameterError, match="pip install opensmile"):
            get_feature_set("egemaps").columns
    finally:
        egemaps._smile.cache_clear()
