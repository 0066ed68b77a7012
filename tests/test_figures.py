"""serkit.report figure functions on synthetic data: known answers, axes and labels."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from conftest import make_tone, make_voice_like
from matplotlib.figure import Figure

from serkit.core.exceptions import ParameterError
from serkit.report import (
    CLIP_FIGURES,
    bandwidth_figure,
    capping_figure,
    centroid_rolloff_figure,
    chroma_figure,
    class_counts_figure,
    confusion_figure,
    duration_figure,
    feature_boxplots_figure,
    feature_histograms_figure,
    mfcc_figure,
    model_comparison_figure,
    roc_figure,
    skewness_reading,
    speaker_counts_figure,
    spectrogram_figure,
    training_curves_figure,
    tukey_outliers,
    waveform_figure,
    zero_crossing_count,
    zero_crossing_figure,
)
from serkit.report.style import HALF_WIDTH_IN, OKABE_ITO, figure_to_png

SR = 16000


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    return make_voice_like(duration_s=1.0, sr=SR)


def _png_size(figure: Figure) -> tuple[int, int]:
    """Render and decode: the figure really draws."""
    image = matplotlib.image.imread(io.BytesIO(figure_to_png(figure)), format="png")
    return image.shape[1], image.shape[0]


# ------------------------------------------------------------------ zero crossings


@pytest.mark.parametrize(("freq_hz", "duration_s"), [(100.0, 1.0), (441.0, 0.5), (1000.0, 0.25)])
def test_zero_crossing_count_of_a_sine_is_two_per_period(freq_hz, duration_s):
    sr = 22050
    t = np.arange(int(duration_s * sr)) / sr
    # The phase offset keeps every sample off exactly zero, so each half period is one crossing.
    y = np.sin(2 * np.pi * freq_hz * t + np.pi / 4).astype(np.float32)
    assert zero_crossing_count(y) == round(2 * freq_hz * duration_s)


def test_zero_crossing_count_counts_zero_as_positive():
    # librosa semantics: 0 is positive, so 1 → 0 is no crossing, 0 → -1 is one, -1 → 0 another.
    assert zero_crossing_count(np.array([1.0, 0.0, -1.0, 0.0, 1.0])) == 2
    # Values within 1e-10 of zero are zero.
    assert zero_crossing_count(np.array([1.0, -1e-12, 1.0])) == 0


def test_zero_crossing_count_rejects_multichannel():
    with pytest.raises(ParameterError, match="mono"):
        zero_crossing_count(np.zeros((2, 100)))


# ------------------------------------------------------------------ one clip


def test_waveform_figure_axes(voice):
    figure = waveform_figure(voice, SR)
    (ax,) = figure.axes
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("Time (s)", "Amplitude", "Waveform")
    assert ax.get_xlim()[1] == pytest.approx(1.0, abs=0.05)
    assert _png_size(figure) == (800, 300)


@pytest.mark.parametrize(("scale", "mpl_scale"), [("linear", "linear"), ("log", "symlog")])
def test_spectrogram_figure_frequency_scales(voice, scale, mpl_scale):
    figure = spectrogram_figure(voice, SR, frequency_scale=scale)
    ax, colorbar = figure.axes
    assert ax.get_yscale() == mpl_scale
    assert ax.get_ylabel() == "Frequency (Hz)" and ax.get_xlabel() == "Time (s)"
    assert scale in ax.get_title()
    assert "dB" in colorbar.get_ylabel()
    # The image spans 0 Hz to Nyquist and levels are dB re. the maximum (max 0 dB).
    mesh = ax.collections[0]
    assert mesh.get_array().max() == pytest.approx(0.0)
    assert ax.get_ylim()[1] == pytest.approx(SR / 2, rel=0.02)


def test_spectrogram_figure_rejects_unknown_scale(voice):
    with pytest.raises(ParameterError, match="frequency_scale"):
        spectrogram_figure(voice, SR, frequency_scale="mel")


def test_centroid_rolloff_figure_tracks_a_tone():
    tone = make_tone(freq_hz=1000.0, duration_s=1.0, sr=SR, amplitude=0.5)
    figure = centroid_rolloff_figure(tone, SR)
    wave_ax, track_ax = figure.axes
    assert wave_ax.get_ylabel() == "Amplitude" and track_ax.get_ylabel() == "Frequency (Hz)"
    centroid, rolloff = (line.get_ydata() for line in track_ax.get_lines())
    # make_tone: 1000 Hz plus 0.3 × 2000 Hz → power-weighted centroid near 1000-1200 Hz.
    assert 1000 < np.median(centroid) < 1400
    assert np.all(np.median(rolloff) >= np.median(centroid))
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels == ["spectral centroid", "roll-off (85% of energy)"]


def test_bandwidth_figure_one_line_per_order(voice):
    figure = bandwidth_figure(voice, SR)
    _, track_ax = figure.axes
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["p = 2", "p = 3", "p = 4"]
    p2, p3, p4 = (np.median(line.get_ydata()) for line in track_ax.get_lines())
    assert p2 < p3 < p4  # higher orders weigh distant energy more


def test_zero_crossing_figure_titles_the_total_count():
    tone = (0.5 * np.sin(2 * np.pi * 200 * np.arange(SR) / SR + np.pi / 4)).astype(np.float32)
    figure = zero_crossing_figure(tone, SR)
    (ax,) = figure.axes
    assert "total zero crossings: 400" in ax.get_title()
    assert ax.get_ylabel() == "Crossings per sample"
    # Away from the padded edges the per-frame rate is 2 × 200 / 16000.
    rate = ax.get_lines()[0].get_ydata()
    assert np.median(rate) == pytest.approx(400 / SR, rel=0.05)


def test_mfcc_figure_has_twenty_rows(voice):
    figure = mfcc_figure(voice, SR)
    ax, colorbar = figure.axes
    assert ax.get_title() == "20 MFCCs" and ax.get_ylabel() == "Coefficient"
    assert ax.collections[0].get_array().reshape(20, -1).shape[0] == 20
    assert ax.get_ylim()[0] < 1 and ax.get_ylim()[1] > 20


def test_chroma_figure_pitch_classes(voice):
    figure = chroma_figure(voice, SR)
    ax, _ = figure.axes
    assert ax.get_ylabel() == "Pitch class"
    assert ax.collections[0].get_array().size % 12 == 0
    assert ax.collections[0].get_clim() == (0, 1)


def test_every_clip_figure_draws(voice):
    assert list(CLIP_FIGURES) == [
        "waveform", "spectrogram_linear", "spectrogram_log", "centroid_rolloff",
        "bandwidth", "zero_crossing_rate", "mfcc", "chroma",
    ]
    for draw in CLIP_FIGURES.values():
        width, height = _png_size(draw(voice, SR))
        assert width == 800 and height > 200


@pytest.mark.parametrize(
    ("y", "sr", "match"),
    [
        (np.zeros((2, 100), dtype=np.float32), SR, "mono"),
        (np.array([], dtype=np.float32), SR, "no samples"),
        (np.array([0.0, np.nan], dtype=np.float32), SR, "finite"),
        (np.zeros(100, dtype=np.float32), 0, "sr=0"),
    ],
)
def test_clip_figures_reject_bad_input(y, sr, match):
    with pytest.raises(ParameterError, match=match):
        waveform_figure(y, sr)


# ------------------------------------------------------------------ corpus


def test_class_counts_figure_bars_in_emotion_order():
    labels = ["sad"] * 3 + ["neutral"] * 2 + ["angry"] * 5
    (ax,) = class_counts_figure(labels).axes
    names = [t.get_text() for t in ax.get_xticklabels()]
    heights = [p.get_height() for p in ax.patches]
    assert names == ["neutral", "sad", "angry"] and heights == [2, 3, 5]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Emotion", "Clips")
    assert ax.patches[0].get_facecolor()[:3] == matplotlib.colors.to_rgb(OKABE_ITO[0])
    # Drawn at the width the report shows it (a half column), so its text is full size.
    assert class_counts_figure(labels).get_figwidth() == HALF_WIDTH_IN


def test_speaker_counts_figure_colours_by_gender():
    speakers = ["Actor_01"] * 3 + ["Actor_02"] * 2 + ["Actor_10"] * 4
    genders = ["male"] * 3 + ["female"] * 2 + ["female"] * 4
    figure = speaker_counts_figure(speakers, genders)
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["01", "02", "10"]
    assert ax.get_xlabel() == "Speaker (Actor_…)"
    assert [p.get_height() for p in ax.patches] == [3, 2, 4]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["female: 2 speakers, 6 clips", "male: 1 speakers, 3 clips"]


def test_speaker_counts_figure_checks_lengths():
    with pytest.raises(ParameterError, match="genders"):
        speaker_counts_figure(["a", "b"], ["male"])


def test_duration_figure_with_and_without_labels():
    durations = [3.0, 3.5, 4.0, 4.5]
    (ax,) = duration_figure(durations).axes
    assert ax.get_xlabel() == "Duration (s)"
    hist_ax, box_ax = duration_figure(durations, ["calm", "calm", "sad", "sad"]).axes
    assert box_ax.get_ylabel() == "Duration (s)"
    assert [t.get_text() for t in box_ax.get_xticklabels()] == ["calm", "sad"]
    with pytest.raises(ParameterError, match="empty"):
        duration_figure([])


# ------------------------------------------------------------------ feature columns


def test_skewness_reading(rng):
    assert skewness_reading(rng.normal(size=3000)) == "normal"
    assert skewness_reading(rng.exponential(size=3000)) == "right-skewed"
    assert skewness_reading(-rng.exponential(size=3000)) == "left-skewed"
    assert skewness_reading(np.ones(10)) == "constant"


def test_tukey_outliers_known_answer():
    values = np.array([1, 2, 3, 4, 5, 6, 7, 8, 100.0])  # Q1 3, Q3 7: fences -3 and 13
    assert tukey_outliers(values).tolist() == [False] * 8 + [True]


def test_feature_histograms_figure_one_panel_per_column(rng):
    table = {"normal": rng.normal(size=500), "right": rng.exponential(size=500), "left": -rng.exponential(size=500)}
    figure = feature_histograms_figure(table, ncols=2)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(visible) == 3 and len(figure.axes) == 4
    titles = [ax.get_title() for ax in visible]
    assert titles[0].startswith("normal\nnormal (")
    assert titles[1].startswith("right\nright-skewed (+") and titles[2].startswith("left\nleft-skewed (-")
    assert visible[0].get_ylabel() == "Clips"


@pytest.mark.parametrize("draw", [feature_histograms_figure, feature_boxplots_figure])
def test_feature_panel_titles_fit_the_figure_and_their_panels(draw, rng):
    # The report's seed26 columns, the longest names and readings it draws.
    names = ["spectral_bandwidth", "zero_crossing_rate", "spectral_centroid", "chroma_stft", "rolloff"]
    table = {name: -rng.exponential(size=300) for name in names} | {f"mfcc{i}": rng.exponential(size=300) for i in range(1, 21)}
    figure = draw(table)
    figure.canvas.draw()
    boxes = [ax.title.get_window_extent(figure.canvas.get_renderer()) for ax in figure.axes if ax.get_visible()]
    assert all(0 <= box.x0 and box.x1 <= figure.bbox.x1 for box in boxes), "a title is cut at the figure's edge"
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), "two titles overlap"


def test_feature_boxplots_figure_counts_outliers():
    table = {"a": [1, 2, 3, 4, 5, 6, 7, 8, 100.0], "b": [1, 2, 3, 4, 5, 6, 7, 8, 9.0]}
    figure = feature_boxplots_figure(table)
    assert [ax.get_title() for ax in figure.axes if ax.get_visible()] == ["a\n1 outliers", "b\n0 outliers"]


def test_feature_figures_reject_unknown_columns():
    with pytest.raises(ParameterError, match="not in the table"):
        feature_histograms_figure({"a": [1.0, 2.0]}, ["a", "missing"])


def test_capping_figure_shows_each_version(rng):
    rolloff = rng.normal(3400, 500, 200)
    capped = np.minimum(rolloff, 3000)
    n_capped = int(np.sum(rolloff >= 3000))
    figure = capping_figure(rolloff, {"cap 3000 Hz": capped}, column="rolloff", unit="Hz")
    extracted_ax, capped_ax, box_ax = figure.axes
    assert [t.get_text() for t in box_ax.get_xticklabels()] == ["as extracted", "cap 3000 Hz"]
    assert box_ax.get_ylabel() == "rolloff (Hz)" and capped_ax.get_xlabel() == "rolloff (Hz)"
    assert (extracted_ax.get_title(loc="left"), capped_ax.get_title(loc="left")) == ("as extracted", "cap 3000 Hz")
    # Each version in its own panel: every clip as extracted is drawn, none hidden under the cap.
    assert sum(p.get_height() for p in extracted_ax.patches[:40]) == len(rolloff)
    # The pile at the cap is a marked line with its count, not a bar that squashes the rest.
    assert [t.get_text() for t in capped_ax.texts] == [f"{n_capped} clips set to 3000 Hz"]
    assert [line.get_xdata()[0] for line in capped_ax.lines] == [3000]
    uncapped_peak = np.histogram(rolloff[rolloff < 3000], bins=np.histogram_bin_edges(rolloff, bins=40))[0].max()
    assert capped_ax.get_ylim()[1] < 2 * uncapped_peak < n_capped
    assert capped_ax.get_shared_x_axes().joined(capped_ax, extracted_ax)
    with pytest.raises(ParameterError, match="at least one"):
        capping_figure(rolloff, {}, column="rolloff")


# ------------------------------------------------------------------ results


def test_confusion_figure_annotates_every_cell():
    matrix = [[5, 1, 0], [2, 7, 1], [0, 0, 9]]
    ax, colorbar = confusion_figure(matrix, ["angry", "calm", "sad"]).axes
    assert [t.get_text() for t in ax.texts] == ["5", "1", "0", "2", "7", "1", "0", "0", "9"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Predicted emotion", "True emotion")
    assert colorbar.get_ylabel() == "Clips"
    normalized = np.asarray(matrix) / np.sum(matrix, axis=1, keepdims=True)
    ax, colorbar = confusion_figure(normalized, ["angry", "calm", "sad"], normalized=True).axes
    assert ax.texts[0].get_text() == "83" and "%" in colorbar.get_ylabel()
    with pytest.raises(ParameterError, match="does not match"):
        confusion_figure(matrix, ["angry", "calm"])


def test_roc_figure_legend_gives_auc():
    roc = {"angry": {"fpr": [0, 0.1, 1], "tpr": [0, 0.9, 1], "auc": 0.9}, "calm": {"fpr": [0, 1], "tpr": [0, 1], "auc": 0.5}}
    (ax,) = roc_figure(roc).axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["angry (AUC 0.90)", "calm (AUC 0.50)", "chance (AUC 0.50)"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("False positive rate", "True positive rate")


def test_training_curves_figure_dense_and_cnn_histories():
    dense = [{"epoch": e, "loss": 1 / e, "accuracy": 0.5, "val_loss": None, "val_accuracy": None} for e in range(1, 6)]
    loss_ax, accuracy_ax = training_curves_figure(dense).axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["training"]
    assert loss_ax.get_lines()[0].get_ydata().tolist() == [1 / e for e in range(1, 6)]
    assert (loss_ax.get_xlabel(), accuracy_ax.get_ylabel()) == ("Epoch", "Accuracy")
    cnn = [{"epoch": e, "train_loss": 1 / e, "validation_loss": 2 / e, "validation_ua": 0.4} for e in range(1, 4)]
    loss_ax, accuracy_ax = training_curves_figure(cnn).axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["training", "validation"]
    assert [line.get_label() for line in accuracy_ax.get_lines()] == ["validation"]  # its UA
    assert accuracy_ax.get_lines()[0].get_ydata().tolist() == [0.4] * 3


def test_model_comparison_figure_groups_bars():
    figure = model_comparison_figure(
        ["dense", "logreg"],
        {"speaker-independent": [(0.4, 0.05), (0.3, 0.02)], "random split": [0.6, 0.5], "reference": [0.70, None]},
        chance=1 / 8,
    )
    (ax,) = figure.axes
    heights = [p.get_height() for p in ax.patches]
    assert heights[:4] == [0.4, 0.3, 0.6, 0.5] and heights[4] == 0.7 and np.isnan(heights[5])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dense", "logreg"]
    assert "chance (12.5 %)" in [t.get_text() for t in figure.legends[0].get_texts()]
    with pytest.raises(ParameterError, match="2 models"):
        model_comparison_figure(["dense", "logreg"], {"x": [0.5]})


# ------------------------------------------------------------------ style


def test_figures_leave_global_state_alone(voice):
    import matplotlib.pyplot as plt

    before = dict(matplotlib.rcParams)
    figure = waveform_figure(voice, SR)
    assert figure.get_facecolor() is not None and figure.canvas.__class__.__name__ == "FigureCanvasAgg"
    assert plt.get_fignums() == []  # never registered with pyplot
    assert dict(matplotlib.rcParams) == before
