"""Figures and self-contained HTML reports.

Every figure is a function that takes data and returns a
:class:`matplotlib.figure.Figure` drawn on an Agg canvas (no display, no ``pyplot``
state) in one house style with a colour-blind-safe palette. :func:`explore` draws
one clip; :func:`build_report` turns evaluation results (the JSON ``serkit evaluate
--json`` writes) plus the corpus and its features into one HTML file.

Modules: :mod:`~serkit.report.clip` (one clip), :mod:`~serkit.report.corpus` (the
data), :mod:`~serkit.report.distributions` (feature columns),
:mod:`~serkit.report.results` (evaluation results), :mod:`~serkit.report.style`
(palette and canvas), :mod:`~serkit.report.exploration` and
:mod:`~serkit.report.build` (the pages).
"""

from serkit.report.build import build_report, label_encoding
from serkit.report.clip import (
    CLIP_FIGURES,
    bandwidth_figure,
    centroid_rolloff_figure,
    chroma_figure,
    mfcc_figure,
    spectrogram_figure,
    waveform_figure,
    zero_crossing_count,
    zero_crossing_figure,
)
from serkit.report.corpus import class_counts_figure, duration_figure, speaker_counts_figure
from serkit.report.distributions import (
    capping_figure,
    feature_boxplots_figure,
    feature_histograms_figure,
    skewness,
    skewness_reading,
    tukey_outliers,
)
from serkit.report.exploration import Exploration, explore
from serkit.report.results import (
    confusion_figure,
    cross_corpus_figure,
    model_comparison_figure,
    reliability_figure,
    risk_coverage_figure,
    roc_figure,
    slice_figure,
    training_curves_figure,
)

__all__ = [
    "CLIP_FIGURES",
    "Exploration",
    "bandwidth_figure",
    "build_report",
    "capping_figure",
    "centroid_rolloff_figure",
    "chroma_figure",
    "class_counts_figure",
    "confusion_figure",
    "cross_corpus_figure",
    "duration_figure",
    "explore",
    "feature_boxplots_figure",
    "feature_histograms_figure",
    "label_encoding",
    "mfcc_figure",
    "model_comparison_figure",
    "reliability_figure",
    "risk_coverage_figure",
    "roc_figure",
    "skewness",
    "slice_figure",
    "skewness_reading",
    "spectrogram_figure",
    "speaker_counts_figure",
    "training_curves_figure",
    "tukey_outliers",
    "waveform_figure",
    "zero_crossing_count",
    "zero_crossing_figure",
]
