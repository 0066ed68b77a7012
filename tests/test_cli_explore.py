"""``serkit explore``: the reference's load printout and every single-clip figure."""

from __future__ import annotations

import json
import re

import matplotlib.image
import numpy as np
import pytest
import soundfile as sf

from serkit.cli import main
from serkit.report.clip import CLIP_FIGURES

SR = 22050


@pytest.fixture
def tone_file(tmp_path):
    """One second of a 100 Hz sine that never lands on zero: 200 zero crossings."""
    t = np.arange(SR) / SR
    path = tmp_path / "tone.wav"
    sf.write(path, 0.5 * np.sin(2 * np.pi * 100 * t + np.pi / 4), SR, subtype="FLOAT")
    return path


def test_explore_prints_what_the_reference_printed(tone_file, capsys):
    assert main(["explore", str(tone_file)]) == 0
    out = capsys.readouterr().out
    assert "Type of the loaded data  <class 'numpy.ndarray'>" in out
    assert "Type of the sample rate  <class 'int'>" in out
    assert re.search(r"Shape\s+\(22050,\)", out)
    assert re.search(r"dtype\s+float32", out)
    assert re.search(r"Sample rate\s+22050 Hz", out) and re.search(r"Duration\s+1\.000 s", out)
    assert re.search(r"First samples\s+\[ ?0\.35355", out)  # 0.5 · sin(π/4)
    assert re.search(r"Zero crossings \(total\)\s+200\b", out)
    assert "figures" not in out  # no -o: nothing drawn


@pytest.mark.filterwarnings("ignore:Trying to estimate tuning")  # librosa, on a pure tone
def test_explore_json_and_figures(tone_file, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["explore", str(tone_file), "-o", str(out_dir), "--html", "--json", "--sr", "native"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shape"] == [SR] and info["sample_rate"] == SR and info["zero_crossings"] == 200
    assert info["stored"] == {"format": "WAV/FLOAT", "sample_rate": SR, "channels": 1, "duration_s": 1.0}
    assert sorted(p.rsplit("/", 1)[1] for p in info["figures"]) == sorted(f"{name}.png" for name in CLIP_FIGURES)
    for path in info["figures"]:
        assert matplotlib.image.imread(path).shape[1] == 800
    page = (out_dir / "tone.html").read_text()
    assert info["html"] == str(out_dir / "tone.html")
    assert page.count('src="data:image/png;base64,') == len(CLIP_FIGURES)
    assert "http://" not in page and "https://" not in page


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--html"], "--html needs -o DIR"),
        (["--sr", "fast"], "--sr='fast'"),
    ],
)
def test_explore_argument_errors(tone_file, capsys, argv, message):
    assert main(["explore", str(tone_file), *argv]) == 1
    assert message in capsys.readouterr().err


def test_explore_missing_file_is_one_line_error(tmp_path, capsys):
    assert main(["explore", str(tmp_path / "nope.wav")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("serkit explore: error:") and "nope.wav" in err and "\n" not in err


@pytest.mark.shared
def test_explore_original_48k_stereo_wav(ravdess_48k_actor, tmp_path, capsys):
    stereo = ravdess_48k_actor / "03-01-02-01-01-02-01.wav"
    assert main(["explore", str(stereo), "-o", str(tmp_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["stored"]["channels"] == 2 and info["stored"]["sample_rate"] == 48000
    assert info["sample_rate"] == 22050 and len(info["shape"]) == 1  # mixed to mono, resampled
    assert info["duration_s"] == pytest.approx(info["stored"]["duration_s"], abs=1e-3)
    assert len(list(tmp_path.glob("*.png"))) == len(CLIP_FIGURES)
