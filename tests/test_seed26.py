"""seed26 equals the reference analysis's librosa code, on synthetic and real clips."""

import numpy as np
import pytest

from conftest import make_voice_like
from serkit.core.audio import load_audio
from serkit.features import available_feature_sets, get_feature_set
from serkit.features.seed26 import reference_features
from serkit.core.exceptions import ParameterError

REFERENCE_COLUMNS = [
    "chroma_stft", "rmse", "spectral_centroid", "spectral_bandwidth", "rolloff", "zero_crossing_rate",
    *[f"mfcc{k}" for k in range(1, 21)],
]


def assert_parity(ours, theirs):
    # 1e-4 relative, or 1e-4 absolute for values near zero (some MFCC means).
    error = np.minimum(np.abs(ours - theirs) / np.abs(theirs), np.abs(ours - theirs))
    assert error.max() < 1e-4, (REFERENCE_COLUMNS[int(np.argmax(error))], error.max())


def test_columns_are_the_references():
    assert get_feature_set("seed26").columns == REFERENCE_COLUMNS
    assert "seed26" in available_feature_sets()


def test_parity_on_synthetic_voice():
    y = make_voice_like(sr=22050, duration_s=2.5)
    assert_parity(get_feature_set("seed26").from_audio(y, 22050), reference_features(y, 22050))


def test_other_rate_is_resampled_first():
    y = make_voice_like(sr=16000, duration_s=1.0)
    fs = get_feature_set("seed26")
    from serkit.core.audio import resample

    np.testing.assert_allclose(fs.from_audio(y, 16000), fs.from_audio(resample(y, orig_sr=16000, target_sr=22050), 22050))


@pytest.mark.shared
def test_parity_on_shared_flac(ravdess_root):
    fs = get_feature_set("seed26")
    for path in sorted(ravdess_root.glob("Actor_0[1-4]/*.flac"))[::12]:
        y, sr = load_audio(path)
        assert_parity(fs.from_audio(y, sr), reference_features(y, sr))


@pytest.mark.shared
def test_parity_on_shared_48k_wav(ravdess_48k_actor):
    import librosa

    fs = get_feature_set("seed26")
    for path in sorted(ravdess_48k_actor.glob("*.wav"))[::6]:
        y_ref, sr_ref = librosa.load(path)  # the reference's own loading
        y, sr = load_audio(path)
        assert_parity(fs.from_audio(y, sr), reference_features(y_ref, sr_ref))


def test_unknown_set():
    with pytest.raises(ParameterError, match="unknown feature set 'mfcc99'; available: .*seed26"):
        get_feature_set("mfcc99")


def test_params_round_trip():
    fs = get_feature_set("seed26", n_mfcc=13)
    assert fs.params() == {"sr": 22050, "n_fft": 2048, "hop_length": 512, "n_mels": 128, "n_mfcc": 13}
    assert len(fs.columns) == 19 and fs.from_audio(make_voice_like(sr=22050), 22050).shape == (19,)
    assert repr(fs).startswith("Seed26(sr=22050")
