"""``serkit evaluate`` and ``serkit train`` end to end, on four shared RAVDESS actors."""

from __future__ import annotations

import json

import pytest

from serkit.models.artifacts import load_model
from serkit.cli import build_parser, main

ACTORS = ("Actor_01", "Actor_02", "Actor_03", "Actor_04")


@pytest.fixture(scope="module")
def four_actors(tmp_path_factory):
    """A corpus root of four actors (links to the shared clips, never copies)."""
    from conftest import RAVDESS_ROOT

    if not RAVDESS_ROOT.is_dir():
        pytest.skip(f"shared RAVDESS not found at {RAVDESS_ROOT}")
    root = tmp_path_factory.mktemp("ravdess4")
    for actor in ACTORS:
        (root / actor).mkdir()
        for clip in sorted((RAVDESS_ROOT / actor).iterdir()):
            (root / actor / clip.name).symlink_to(clip)
    return root


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("feature-cache")


def test_verbs_are_registered_with_help_and_example(capsys):
    parser = build_parser()
    for verb in ("evaluate", "train"):
        with pytest.raises(SystemExit):
            parser.parse_args([verb, "--help"])
        out = capsys.readouterr().out
        assert "example:" in out and "--speaker-norm" in out


def test_unknown_model_is_one_line_error(capsys, tmp_path):
    assert main(["evaluate", str(tmp_path), "--model", "nope"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("serkit evaluate: error: unknown model 'nope'")
    assert "\n" not in err


@pytest.mark.shared
@pytest.mark.slow
def test_evaluate_four_actors_beats_chance(four_actors, cache_dir, tmp_path, capsys):
    out_json = tmp_path / "results.json"
    code = main(["evaluate", str(four_actors), "--corpus", "ravdess", "--set", "seed26",
                 "--model", "logreg", "--cache-dir", str(cache_dir), "--json", str(out_json)])
    assert code == 0
    captured = capsys.readouterr()
    printed = captured.out
    # The honest figure first, the reference's random split beside it.
    assert printed.startswith("logreg — speaker") and "mean ± std" in printed
    assert printed.index("logreg — speaker") < printed.index("logreg — random")
    assert "warning: random split: 4 speaker(s) on both sides" in printed
    # Four actors, five folds asked for: one actor out per fold, said once, in one line.
    assert captured.err.count("warning: 4 speakers, fewer than 5 folds: 4 folds instead") == 1
    assert "FoldWarning" not in captured.err and ".py:" not in captured.err
    results = json.loads(out_json.read_text())
    run, random_run = results["runs"]
    assert (run["protocol"], random_run["protocol"]) == ("speaker", "random")
    assert results["feature_set"]["name"] == "seed26"
    assert results["command"] == (
        f"serkit evaluate {four_actors} --corpus ravdess --set seed26 --model logreg "
        "--folds 5 --seed 0 --protocol speaker"
    )
    assert results["corpus"]["n_speakers"] == 4 and results["corpus"]["n_clips"] == 240
    assert all(len(fold["test_speakers"]) == 1 for fold in run["folds"])
    # Chance is 1/8; four training actors already give clearly more.
    assert run["summary"]["unweighted_accuracy"]["mean"] > 0.22


@pytest.mark.shared
@pytest.mark.slow
def test_train_saves_a_loadable_model_with_its_cv_figures(four_actors, cache_dir, tmp_path,
                                                          capsys):
    model_dir = tmp_path / "model"
    code = main(["train", str(four_actors), "--set", "seed26", "--model", "logreg",
                 "--folds", "4", "--cache-dir", str(cache_dir), "-o", str(model_dir)])
    assert code == 0
    assert f"saved logreg trained on 240 clips to {model_dir}" in capsys.readouterr().out
    predictor = load_model(model_dir)
    assert predictor.metadata["model"] == "logreg"
    assert predictor.metadata["command"].endswith(f"--seed 0 -o {model_dir}")
    metrics = predictor.metadata["metrics"]
    assert metrics["summary"]["unweighted_accuracy"]["mean"] > 0.22
    assert len(metrics["folds"]) == 4
    assert predictor.metadata["corpus"]["n_speakers"] == 4
    clip = next((four_actors / "Actor_01").iterdir())
    result = predictor.predict_file(clip)
    assert result["emotion"] in predictor.metadata["labels"]


@pytest.mark.shared
@pytest.mark.slow
def test_train_speaker_norm_on_a_corpus(four_actors, cache_dir, tmp_path, capsys):
    # A corpus's speakers are an object array of str: the standardisation once crashed on them.
    model_dir = tmp_path / "model"
    assert main(["train", str(four_actors), "--set", "seed26", "--model", "logreg", "--speaker-norm", "--no-eval",
                 "--cache-dir", str(cache_dir), "-o", str(model_dir)]) == 0
    predictor = load_model(model_dir)
    assert predictor.metadata["speaker_norm"] is True
    clips = sorted((four_actors / "Actor_01").iterdir())[:8]
    items = predictor.predict_batch(clips, speakers=["01"] * len(clips))
    assert all(item.error is None and item.result["emotion"] in predictor.metadata["labels"] for item in items)


@pytest.mark.shared
@pytest.mark.slow
def test_train_calibrate_saves_a_temperature_scaled_model(four_actors, cache_dir, tmp_path, capsys):
    model_dir = tmp_path / "model"
    code = main(["train", str(four_actors), "--set", "seed26", "--model", "logreg", "--calibrate",
                 "--folds", "4", "--cache-dir", str(cache_dir), "-o", str(model_dir)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "before calibration" in printed and "ECE" in printed
    predictor = load_model(model_dir)
    assert predictor.metadata["model"] == "logreg+calibrated"
    assert predictor.metadata["command"].endswith(f"-o {model_dir} --calibrate")
    assert load_model(model_dir, runtime="skops").estimator.temperature_ > 0
    result = predictor.predict_file(next((four_actors / "Actor_01").iterdir()))
    assert sum(result["probabilities"].values()) == pytest.approx(1.0)


def test_train_takes_exactly_one_model(capsys, tmp_path):
    assert main(["train", str(tmp_path), "--model", "svm,mlp", "-o", str(tmp_path / "m")]) == 1
    assert "name exactly one" in capsys.readouterr().err


def test_model_and_feature_kind_must_match(capsys, tmp_path):
    assert main(["evaluate", str(tmp_path), "--set", "logmel", "--model", "svm"]) == 1
    assert "model 'svm' takes vector features, not frames" in capsys.readouterr().err


def test_unwritable_output_fails_before_any_work(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["evaluate", str(tmp_path), "--model", "svm",
                 "--json", str(blocker / "out.json")]) == 1
    assert "cannot create" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("model", "expected"), [("cnn", "logmel"), ("ensemble", "logmel,functionals+egemaps"), ("svm", "seed26"),
     ("cnn,svm", "seed26"), ("all", "seed26")]
)
def test_default_feature_set_follows_the_models(model, expected):
    import argparse

    from serkit.cli.evaluate import resolve_feature_set

    args = argparse.Namespace(model=model, feature_set=None)
    assert resolve_feature_set(args) == expected == args.feature_set
    assert resolve_feature_set(argparse.Namespace(model=model, feature_set="functionals")) == "functionals"


def tiny_manifest(folder, n_speakers: int):
    """Eight synthetic clips per speaker, two 'emotions' told apart by pitch, in a manifest."""
    import soundfile as sf
    from conftest import make_voice_like

    rows = ["path,label,speaker"]
    for speaker in range(n_speakers):
        for take in range(8):
            label, f0 = ("sad", 110 + 5 * take) if take % 2 else ("happy", 260 + 5 * take)
            name = f"s{speaker}-{take}.wav"
            sf.write(folder / name, make_voice_like(duration_s=0.6, sr=16000, f0_hz=f0, seed=10 * speaker + take), 16000)
            rows.append(f"{name},{label},speaker{speaker}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder / "manifest.csv"


def evaluate_tiny(manifest, capsys):
    code = main(["evaluate", str(manifest), "--corpus", "manifest", "--set", "seed26", "--model", "logreg",
                 "--no-cache", "-q", "-j", "1"])
    return code, capsys.readouterr()


def test_three_speakers_leave_one_out_with_one_warning(tmp_path, capsys):
    code, captured = evaluate_tiny(tiny_manifest(tmp_path, 3), capsys)
    assert code == 0
    assert captured.err.splitlines() == ["warning: 3 speakers, fewer than 5 folds: 3 folds instead, one speaker out in each"]
    fold_rows = [line for line in captured.out.splitlines() if line.split()[:1] in (["1"], ["2"], ["3"])]
    assert [row.split()[1] for row in fold_rows[:3]] == ["speaker0", "speaker1", "speaker2"]


def test_one_speaker_is_one_line_saying_two_are_needed(tmp_path, capsys):
    code, captured = evaluate_tiny(tiny_manifest(tmp_path, 1), capsys)
    assert code == 1 and captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("serkit evaluate: error: 1 speaker (speaker0): a speaker-independent figure needs")
