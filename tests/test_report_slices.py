"""The report's cross-corpus heat map and per-model slices: figures' known answers,
sections present exactly when the results hold their data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from serkit.cli import main
from serkit.core.exceptions import ParameterError
from serkit.report.build import CROSS_CORPUS_SECTION, build_report
from serkit.report.results import cross_corpus_figure, slice_figure

from test_report import assert_self_contained, embedded_images, synthetic_results


def cross_corpus_json() -> dict:
    """What ``serkit evaluate --train ravdess:… --train nemo:… --json`` writes, by hand."""
    ua = {("ravdess", "ravdess"): 0.62, ("ravdess", "nemo"): 0.31, ("nemo", "ravdess"): 0.27, ("nemo", "nemo"): None}
    chance = {("ravdess", "ravdess"): 1 / 8, ("ravdess", "nemo"): 1 / 6, ("nemo", "ravdess"): 1 / 6, ("nemo", "nemo"): 1 / 6}
    cells = [
        {"train": train, "test": test, "protocol": "speaker" if train == test else "cross-corpus",
         "emotions": ["angry", "sad"], "chance": chance[train, test], "n_test": 100,
         "unweighted_accuracy": value, **({"note": "too few speakers"} if value is None else {})}
        for (train, test), value in ua.items()
    ]
    return {"cross_corpus": [{
        "kind": "cross-corpus", "model": "logreg", "train_sets": ["ravdess", "nemo"], "test_sets": ["ravdess", "nemo"],
        "cells": cells, "corpora": {"ravdess": {"n_clips": 1440, "n_speakers": 24}, "nemo": {"n_clips": 2076, "n_speakers": 9}},
        "feature_set": {"name": "seed26"}, "seed": 0, "speaker_norm": False, "balance": "corpus",
        "command": "serkit evaluate --train ravdess:R --train nemo:N --model logreg --json cross.json",
    }]}


SLICES = {
    "gender": {"female": {"n": 60, "accuracy": 0.5, "unweighted_accuracy": 0.45, "ece": 0.1, "recall": {}},
               "male": {"n": 60, "accuracy": 0.4, "unweighted_accuracy": 0.35, "ece": 0.2, "recall": {}}},
    "speaker": {f"Actor_0{i}": {"n": 20, "accuracy": 0.1 * i, "unweighted_accuracy": 0.1 * i, "ece": 0.05, "recall": {}}
                for i in range(1, 7)},
}


def results_with_slices() -> dict:
    results = synthetic_results()
    for run in results["runs"]:
        if run["protocol"] == "speaker":
            run["slices"] = SLICES
    return results


def test_cross_corpus_figure_annotates_every_cell():
    matrix = cross_corpus_json()["cross_corpus"][0]
    ax = cross_corpus_figure(matrix).axes[0]
    texts = [text.get_text().split("\n") for text in ax.texts]
    assert [t[0] for t in texts] == ["62.0", "31.0", "27.0", "–"]  # rows train, columns test
    assert [t[1] for t in texts] == ["chance 12.5", "chance 16.7", "chance 16.7", "chance 16.7"]
    image = ax.images[0]
    assert image.get_cmap().name == "viridis" and image.get_clim() == (0, 1)
    np.testing.assert_allclose(image.get_array()[0], [0.62, 0.31])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ravdess", "nemo"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ravdess", "nemo"]


def test_slice_figure_bars_are_the_slice_ua():
    figure = slice_figure(SLICES, overall=0.4)
    gender, speaker = figure.axes[:2]
    assert [bar.get_width() for bar in gender.patches] == [0.45, 0.35]
    np.testing.assert_allclose([bar.get_width() for bar in speaker.patches], [0.1 * i for i in range(1, 7)])
    assert gender.get_yticklabels()[0].get_text() == "female (60)"
    assert all(ax.lines[0].get_xdata()[0] == 0.4 for ax in (gender, speaker))  # the overall UA
    with pytest.raises(ParameterError):
        slice_figure({})


def test_slice_figure_draws_user_text_literally():
    figure = slice_figure({"speaker": {r"$\notacommand$": {"n": 1, "unweighted_accuracy": 1.0}}})
    figure.canvas.draw()  # mathtext would fail here
    assert figure.axes[0].get_yticklabels()[0].get_text() == r"\$\notacommand\$ (1)"


def test_report_has_slices_only_for_runs_with_them():
    html = build_report(results_with_slices())
    assert_self_contained(html)
    models = html.split('<section id="models">')[1].split("</section>")[0]
    dense, logreg = models.split('id="model-logreg"')
    for article in (dense, logreg):
        assert "<h4>Slices</h4>" in article
        assert '<td class="name">gender</td><td class="name">female</td><td>60</td>\n          <td>45.0 %</td><td>50.0 %</td><td>10.0 %</td>' in article
        assert '<td class="name">Actor_06</td>' in article
        # At the page's full width, not in a half-width scroll box that hid its ECE column.
        slices = article.split("<h4>Slices</h4>")[1].split("</table>")[0]
        assert 'class="scroll"' not in slices and 'class="grid2"' not in slices and "<th>ECE</th>" in slices
    assert len(embedded_images(html)) == 1 + 2 + 1 + 2 + 2 + 2  # one slice figure and one risk-coverage figure per model
    assert html.count("<h4>Risk and coverage</h4>") == 2
    assert 'id="cross-corpus"' not in html
    plain = build_report(synthetic_results())
    assert "<h4>Slices</h4>" not in plain and 'id="cross-corpus"' not in plain


def test_report_of_runs_with_a_cross_corpus_matrix():
    html = build_report(synthetic_results(), cross_corpus=cross_corpus_json())
    assert_self_contained(html)
    assert html.index('<section id="comparison">') < html.index('<section id="cross-corpus">') < html.index('<section id="models">')
    assert f"<h2>{CROSS_CORPUS_SECTION[1]}</h2>" in html and 'href="#cross-corpus"' in html
    assert len(embedded_images(html)) == 1 + 2 + 1 + 2 + 1 + 2  # the cross-corpus map; a risk-coverage figure per model
    section = html.split('<section id="cross-corpus">')[1].split("</section>")[0]
    assert "<h3>logreg</h3>" in section and "too few speakers" in section and "angry, sad" in section


def test_report_from_a_cross_corpus_json_alone(tmp_path):
    (tmp_path / "cross.json").write_text(json.dumps(cross_corpus_json()))
    out = tmp_path / "cross.html"
    assert main(["report", "--from", str(tmp_path / "cross.json"), "-o", str(out)]) == 0
    html = out.read_text()
    assert '<section id="cross-corpus">' in html and '<section id="reproduce">' in html
    for absent in ("summary", "comparison", "models", "data"):
        assert f'<section id="{absent}">' not in html
    assert len(embedded_images(html)) == 1
    assert "ravdess · nemo" in html and "3516 clips" in html
    assert "serkit evaluate --train ravdess:R --train nemo:N" in html


def test_report_cli_cross_corpus_option(tmp_path, capsys):
    (tmp_path / "results.json").write_text(json.dumps(synthetic_results()))
    (tmp_path / "cross.json").write_text(json.dumps(cross_corpus_json()))
    out = tmp_path / "r.html"
    assert main(["report", "--from", str(tmp_path / "results.json"), "--cross-corpus", str(tmp_path / "cross.json"),
                 "-o", str(out)]) == 0
    html = out.read_text()
    assert '<section id="cross-corpus">' in html and '<section id="models">' in html
    assert "--cross-corpus" in html.split('<section id="reproduce">')[1]
    assert main(["report", "--from", str(tmp_path / "results.json"), "--cross-corpus", str(tmp_path / "results.json"),
                 "-o", str(out)]) == 1
    assert "no cross-corpus matrix" in capsys.readouterr().err


def test_report_end_to_end_with_slices(tmp_path):
    """evaluate on a tiny synthetic table with metadata → its slices in the report."""
    import pandas as pd

    from serkit.evaluation import compare

    rng = np.random.default_rng(0)
    speakers = np.repeat([f"s{i}" for i in range(4)], 20)
    y = np.tile(["angry", "sad"], 40)
    X = rng.normal(size=(80, 3)) + (y == "angry")[:, None] * 1.5
    meta = pd.DataFrame({"gender": np.where(np.isin(speakers, ["s0", "s1"]), "female", "male"), "speaker": speakers})
    results = compare(["logreg"], X, y, speakers, n_splits=2, progress=False, slice_by=meta).to_dict()
    run = results["runs"][0]
    assert set(run["slices"]) == {"gender", "speaker"}
    html = build_report(results)
    models = html.split('<section id="models">')[1]
    assert "<h4>Slices</h4>" in models
    female = run["slices"]["gender"]["female"]["unweighted_accuracy"]
    assert f'<td class="name">female</td><td>40</td>\n          <td>{100 * female:.1f} %</td>' in models
