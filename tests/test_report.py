"""The HTML report: every section, decodable embedded images, no external links, renders."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from serkit.cli import main
from serkit.cli.report import BUNDLED_PIPELINE
from serkit.core.exceptions import ParameterError
from serkit.core.labels import EMOTIONS
from serkit.report.build import SECTIONS, build_report, label_encoding

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SUBSET_ACTORS = ("Actor_01", "Actor_02")


def synthetic_run(model: str, protocol: str, rng: np.random.Generator, *, history: bool = False) -> dict:
    """One run in the schema of ``serkit evaluate --json``."""
    labels = sorted(EMOTIONS)
    confusion = rng.integers(0, 4, (8, 8)) + np.diag(rng.integers(6, 12, 8))
    folds = [
        {"fold": i + 1, "test_speakers": [f"Actor_{2 * i + 1:02d}", f"Actor_{2 * i + 2:02d}"], "n_train": 96,
         "n_test": 24, "accuracy": 0.40 + 0.05 * i, "unweighted_accuracy": 0.38 + 0.05 * i,
         "macro_f1": 0.35 + 0.05 * i, "roc_auc": float("nan") if (i, protocol) == (0, "speaker") else 0.8}
        for i in range(3 if protocol == "speaker" else 1)
    ]
    summary = {m: {"mean": float(np.nanmean([f[m] for f in folds])), "std": float(np.nanstd([f[m] for f in folds]))}
               for m in ("accuracy", "unweighted_accuracy", "macro_f1", "roc_auc")}
    fpr = np.linspace(0, 1, 11)
    return {
        "model": model, "protocol": protocol, "speaker_norm": False, "labels": labels, "folds": folds,
        "summary": summary, "confusion": confusion.tolist(),
        "confusion_normalized": (confusion / confusion.sum(1, keepdims=True)).tolist(),
        "classification_report": {
            label: {"precision": 0.5, "recall": 0.25, "f1": 1 / 3, "support": int(confusion[i].sum())}
            for i, label in enumerate(labels)
        },
        "roc": {label: {"fpr": fpr.tolist(), "tpr": np.sqrt(fpr).tolist(), "auc": 2 / 3} for label in labels},
        "history": [
            {"epoch": e, "loss": 2 / e, "val_loss": 2.2 / e, "accuracy": 1 - 1 / (e + 1), "val_accuracy": 0.4,
             "val_held_out": "speakers"}
            for e in range(1, 21)
        ] if history else None,
        "leakage": {"shared_speakers": ["Actor_01", "Actor_02"]} if protocol == "random" else None,
        "fit_seconds": 1.5, "warnings": [],
        "risk_coverage": {"coverage": [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
                          "confident": [0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9],
                          "familiar": [0.45, 0.46, 0.48, 0.5, 0.52, 0.55, 0.56, 0.58, 0.6, 0.62]},
    }


def synthetic_results() -> dict:
    rng = np.random.default_rng(0)
    runs = [
        synthetic_run(model, protocol, rng, history=model == "dense")
        for model in ("dense", "logreg") for protocol in ("speaker", "random")
    ]
    return {
        "serkit_version": "0.1.0", "created": "2026-01-01T00:00:00+00:00",
        "command": "serkit evaluate ROOT --model dense,logreg --json results.json",
        "corpus": {"name": "ravdess", "n_clips": 120, "n_speakers": 20},  # the reference's corpus
        "feature_set": {"name": "seed26", "params": {"sr": 22050}}, "seed": 7, "runs": runs,
        "reference": {"dense": 0.70, "mlp": 0.72, "logreg": 0.50, "kmeans": 0.13},
    }


def embedded_images(html: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def assert_self_contained(html: str) -> None:
    """Every section present, every image a decodable PNG, nothing fetched from outside."""
    for section_id, title in SECTIONS:
        assert f'<section id="{section_id}">' in html, section_id
        assert f"<h2>{title}</h2>" in html
    images = embedded_images(html)
    assert images
    for png in images:
        pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert not re.search(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', html, re.IGNORECASE)
    assert not re.search(r"url\(|@import|<link|<script", html, re.IGNORECASE)
    assert len(re.findall(r"<img ", html)) == len(images)


# ------------------------------------------------------------------ from results only


@pytest.fixture(scope="module")
def synthetic_html(tmp_path_factory) -> str:
    """``serkit report --from results.json`` on synthetic results, no corpus: no retraining."""
    folder = tmp_path_factory.mktemp("synthetic")
    (folder / "results.json").write_text(json.dumps(synthetic_results()))
    out = folder / "report.html"
    assert main(["report", "--from", str(folder / "results.json"), "-o", str(out)]) == 0
    return out.read_text()


def test_report_from_results_is_self_contained(synthetic_html):
    assert_self_contained(synthetic_html)
    assert "was not given to this report" in synthetic_html
    # Comparison bars, then per model: confusion + ROC + risk-coverage (+ training curves for dense).
    assert len(embedded_images(synthetic_html)) == 1 + 3 + 1 + 3


def test_report_draws_the_risk_coverage_curve_with_its_caption(synthetic_html):
    models = synthetic_html.split('<section id="models">')[1].split("</section>")[0]
    assert models.count("<h4>Risk and coverage</h4>") == 2
    assert models.count('alt="dense risk-coverage curve"') == 1 and models.count('alt="logreg risk-coverage curve"') == 1
    assert "of the test-fold clips (pooled), 45.0 % are right; the 50 % most confident 70.0 %, the 50 % most familiar 55.0 %." in models
    assert "<figcaption>Risk-coverage curve: the accuracy of the k % of test-fold clips" in models


def test_results_saved_before_risk_coverage_still_draw():
    results = synthetic_results()
    for run in results["runs"]:
        del run["risk_coverage"]
    assert "Risk and coverage" not in build_report(results)


def test_report_comparison_puts_speaker_independent_first(synthetic_html):
    comparison = synthetic_html.split('<section id="comparison">')[1].split("</section>")[0]
    header = comparison.split("</tr>")[0]
    assert header.index("speaker-independent") < header.index("random split") < header.index("reference")
    dense_row = next(row for row in comparison.split("<tr") if ">dense" in row)
    # Every score in %, as the CLI prints them.
    assert "45.0 ± 4.1 %" in dense_row  # mean ± std over the three folds
    assert "40.0 %</td>" in dense_row  # random split: one split, no spread
    assert "70 %</td>" in dense_row  # the reference's figure
    assert not re.search(r"<td>0\.\d+", comparison)
    assert "Leakage warning (random split)" in comparison and "Actor_01, Actor_02" in comparison


def test_report_model_details(synthetic_html):
    models = synthetic_html.split('<section id="models">')[1].split("</section>")[0]
    assert models.count("<h3>") == 2 and models.count("<article ") == 2
    assert "training curves" in models.split('id="model-logreg"')[0]
    assert "training curves" not in models.split('id="model-logreg"')[1]
    assert "<td>50.0 %</td><td>25.0 %</td><td>33.3 %</td>" in models  # classification report row
    assert "–" in models  # the NaN ROC AUC of fold 1 shows as a dash, not "nan"
    text = re.sub(r"data:image/png;base64,[^\"]+", "", synthetic_html)
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def test_report_reproduce_and_encoding(synthetic_html):
    reproduce = synthetic_html.split('<section id="reproduce">')[1]
    assert re.search(r"serkit report --from \S+results.json -o \S+report.html", reproduce)
    assert "serkit evaluate ROOT --model dense,logreg --json results.json" in reproduce
    for library in ("librosa", "scikit-learn", "torch", "matplotlib"):
        assert f">{library}</th>" in reproduce
    encoding = synthetic_html.split('<section id="labels">')[1].split("</section>")[0]
    assert "<td>angry</td>" in encoding and "<td>7</td>" in encoding


def test_the_reference_figure_is_shown_on_its_corpus_only(tmp_path):
    results = synthetic_results()
    results["corpus"] = {"name": "ravdess", "n_clips": 48, "n_speakers": 4}
    html = build_report(results, command="serkit report --from r.json")
    assert "the reference analysis reported" not in html and "70 %</td>" not in html
    assert "the reference analysis reported" in build_report(synthetic_results())


def test_the_report_defaults_to_the_bundled_pipeline():
    from serkit.models.artifacts import BUNDLED_MODELS_DIR
    from serkit.cli import build_parser

    args = build_parser().parse_args(["report", "ROOT"])
    # One corpus: the pipeline of the bundled one-corpus model (the default is multi-corpus and adapted).
    trained_with = json.loads((BUNDLED_MODELS_DIR / "whisper-ravdess-v1" / "metadata.json").read_text())["command"]
    assert f"--set {BUNDLED_PIPELINE[0]} --model {BUNDLED_PIPELINE[1]} " in trained_with
    assert args.models == BUNDLED_PIPELINE[1] and args.feature_set is None  # resolved to BUNDLED_PIPELINE[0]


@pytest.mark.parametrize("held_out, caption", [
    ("speakers", "validation on a speaker-grouped part held out"),
    ("clips", "validation on a random part of the clips of the training folds, too few speakers"),
    (None, "validation on a part held out of the training folds"),
])
def test_the_training_curves_caption_says_what_was_held_out(held_out, caption):
    results = synthetic_results()
    for run in results["runs"]:
        for record in run["history"] or ():
            record["val_held_out"] = held_out
    html = build_report(results)
    assert caption in html and html.count("validation on ") == 1


def test_label_encoding_matches_label_encoder():
    assert label_encoding(EMOTIONS) == [
        ("angry", 0), ("calm", 1), ("disgust", 2), ("fearful", 3),
        ("happy", 4), ("neutral", 5), ("sad", 6), ("surprised", 7),
    ]


def test_report_without_runs_is_an_error():
    with pytest.raises(ParameterError, match="no runs"):
        build_report({"runs": []})


def test_report_cli_needs_root_or_results(tmp_path, capsys):
    assert main(["report", "-o", str(tmp_path / "r.html")]) == 1
    assert "ROOT" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["report", "--from", str(bad), "-o", str(tmp_path / "r.html")]) == 1
    assert "not JSON" in capsys.readouterr().err


# ------------------------------------------------------------------ a shared-corpus subset


@pytest.fixture(scope="module")
def subset_report(tmp_path_factory, request) -> dict:
    """Report on two actors of the shared corpus with two cheap models, then redrawn --from."""
    from conftest import RAVDESS_ROOT

    if not RAVDESS_ROOT.is_dir():
        pytest.skip(f"shared RAVDESS not found at {RAVDESS_ROOT}")
    folder = tmp_path_factory.mktemp("subset")
    root = folder / "ravdess"
    for actor in SUBSET_ACTORS:  # links, not copies: the corpus stays where it is
        (root / actor).mkdir(parents=True)
        for clip in sorted((RAVDESS_ROOT / actor).glob("*.flac")):
            (root / actor / clip.name).symlink_to(clip)
    out, results = folder / "report.html", folder / "results.json"
    cache = folder / "cache"
    with contextlib.redirect_stderr(io.StringIO()) as stderr:
        code = main([
            "report", str(root), "--corpus", "ravdess", "--set", "seed26", "--models", "logreg,kmeans",
            "-o", str(out), "--save-results", str(results), "--cache-dir", str(cache),
        ])
    assert code == 0
    # Two actors, five folds asked for; the random split's leakage: each said once, in one clean line.
    lines = stderr.getvalue().replace("\r", "\n").splitlines()
    assert lines.count("warning: 2 speakers, fewer than 5 folds: 2 folds instead, one speaker out in each") == 1
    assert sum(line.startswith("warning: random split: 2 speaker(s) on both sides") for line in lines) == 1
    assert not any("Warning:" in line or ".py:" in line for line in lines)
    redrawn = folder / "redrawn.html"
    assert main(["report", "--from", str(results), "-o", str(redrawn)]) == 0
    return {"html": out.read_text(), "path": out, "results": json.loads(results.read_text()), "redrawn": redrawn.read_text()}


@pytest.mark.shared
def test_subset_report_has_every_part(subset_report):
    html = subset_report["html"]
    assert_self_contained(html)
    assert "120 clips from 2 speakers (1 female, 1 male)" in html
    for column in ("chroma_stft", "rolloff", "mfcc20"):
        assert f'<td class="name">{column}</td>' in html
    assert "What outlier capping changed" in html and "cap at 3000 Hz" in html
    assert 'id="model-logreg"' in html and 'id="model-kmeans"' in html
    assert "Leakage warning (random split)" in html
    assert html.count("<h4>Risk and coverage</h4>") == 2  # one per model, from its speaker folds
    runs = subset_report["results"]["runs"]
    for run in runs:  # from the out-of-fold predictions: all clips kept is the pooled accuracy
        curves = run["risk_coverage"]
        assert len(curves["familiar"]) == len(curves["confident"]) == len(curves["coverage"]) == 10
        assert curves["familiar"][0] == curves["confident"][0]
    assert {(run["model"], run["protocol"]) for run in runs} == {
        (m, p) for m in ("logreg", "kmeans") for p in ("speaker", "random")
    }
    # Each speaker-independent fold tests on one actor never seen in training.
    speaker_runs = [run for run in runs if run["protocol"] == "speaker"]
    assert all(len(fold["test_speakers"]) == 1 for run in speaker_runs for fold in run["folds"])


@pytest.mark.shared
def test_subset_report_redraws_from_results(subset_report):
    redrawn = subset_report["redrawn"]
    assert_self_contained(redrawn)
    number = re.compile(r"\d+\.\d ± \d+\.\d %")
    comparison = lambda html: html.split('<section id="comparison">')[1].split("</section>")[0]  # noqa: E731
    assert number.findall(comparison(redrawn)) == number.findall(comparison(subset_report["html"]))
    assert "--from" in redrawn.split('<section id="reproduce">')[1]


@pytest.mark.shared
def test_subset_report_shows_the_folds_that_ran_once(subset_report):
    reproduce = subset_report["html"].split('<section id="reproduce">')[1]
    assert reproduce.count("--folds") == 1 and "--folds 2 " in reproduce  # two actors: two folds ran
    assert "the reference analysis reported" not in subset_report["html"]  # not the reference's 20 actors


@pytest.mark.browser
@pytest.mark.shared
def test_subset_report_renders_in_chromium(subset_report, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed")
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={screenshot}", "--window-size=1280,2000",
         subset_report["path"].resolve().as_uri()],
        check=True, capture_output=True, timeout=90,
    )
    pixels = matplotlib.image.imread(screenshot)
    assert pixels.shape[:2] == (2000, 1280)
    grey = pixels[..., :3].mean(axis=2)
    assert grey.std() > 0.05  # not a blank page
    # The header bar is dark and the page below is light: the style sheet applied.
    assert grey[:40].mean() < 0.4 and grey[1000:].mean() > 0.6
