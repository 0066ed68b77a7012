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


def test_mistyped_option_shows_the_verbs_usage_and_the_closest_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--jsn", "x.wav"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: serkit predict ")
    assert err.rstrip().endswith("serkit predict: error: unrecognized arguments: --jsn (did you mean --json?)")


def test_mistyped_verb_names_the_closest_verb(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predcit", "x.wav"])
    assert exit_info.value.code == 2
    assert "serkit: error: unknown verb 'predcit' (did you mean predict?); verbs: info, " in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["zzz"])
    assert "did you mean" not in capsys.readouterr().err


def test_bundle_is_not_offered_as_a_feature_set(capsys, tmp_path):
    from serkit.features import available_feature_sets, get_feature_set

    assert "bundle" not in available_feature_sets() and "seed26" in available_feature_sets()
    assert main(["features", str(tmp_path), "--set", "bundle", "-o", str(tmp_path / "f.csv")]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "unknown feature set 'bundle'" in line and "several joined by commas" in line
    assert "bundle" not in line.split("available: ")[1].split(", or ")[0].split(", ")
    assert get_feature_set("logmel,functionals").kind == "bundle"  # bundles are named by their parts


def test_serve_on_a_port_in_use_is_one_line_before_loading_the_model(capsys, monkeypatch):
    import socket

    import serkit.models.artifacts

    monkeypatch.setattr(serkit.models.artifacts, "load_model", lambda *a, **k: pytest.fail("model loaded before the port check"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"serkit serve: error: 127.0.0.1:{port}: port in use") and "--port" in line
