"""The command line: instant help for every verb, one-line errors, the info verb."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from serkit.cli import VERBS, main

HEAVY = ("numpy", "scipy", "librosa", "sklearn", "torch", "matplotlib", "pandas", "fastapi")


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from serkit.cli import build_parser; build_parser(); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_an_example(verb, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([verb, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: serkit {verb}" in out and "example:\n  serkit " in out


def test_info_text_and_json(tmp_path, capsys):
    sf.write(tmp_path / "a.wav", 0.5 * np.ones((4800, 2), dtype=np.float32), 48000)
    assert main(["info", str(tmp_path / "a.wav")]) == 0
    out = capsys.readouterr().out
    assert "48000 Hz" in out and "channels     2" in out and "0.100 s" in out
    assert main(["info", "--json", str(tmp_path / "a.wav"), str(tmp_path / "missing.wav")]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described[0]["channels"] == 2 and described[0]["peak"] == pytest.approx(0.5)
    assert "file not found" in described[1]["error"]


def test_serkit_error_is_one_line_exit_1(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.wav")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"serkit info: error: {tmp_path / 'missing.wav'}: file not found"]


def test_closed_pipe_ends_quietly(tmp_path):
    sf.write(tmp_path / "a.wav", 0.1 * np.ones(4800, dtype=np.float32), 48000)
    files = [str(tmp_path / "a.wav")] * 300
    pipeline = subprocess.run(
        f"{sys.executable} -m serkit info {' '.join(files)} | head -1", shell=True, capture_output=True, text=True
    )
    assert pipeline.stdout.strip() == str(tmp_path / "a.wav")
    assert "Traceback" not in pipeline.stderr
